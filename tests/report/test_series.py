"""timeseries.jsonl merged into buckets: counters summed, gauges kept at their max or mean."""

from __future__ import annotations

from lgbench.report._grid import Grid
from lgbench.report._series import bucket_timeseries
from tests.report._fixtures import timeseries_line


def wait(count: int, errors: int = 0, status: str = "409") -> dict[str, object]:
    return {
        "count": count,
        "ok": count - errors,
        "errors": errors,
        "http_errors": {status: errors} if errors else {},
        "transport_errors": 0,
        "timeouts": 0,
    }


def test_counters_sum_and_gauges_keep_max_or_mean_per_bucket() -> None:
    lines = [
        timeseries_line(
            float(s),
            float(s + 1),
            operations={"runs.wait": wait(10 + s, errors=s % 2)},
            scenarios={"chat": {"active_vus": s + 1, "started": 3, "finished": 2, "dropped": 0}},
            server={"n_pending": 5 - s, "cpu_percent": 10.0 * (s + 1), "version": "0.16.7"},
        )
        for s in range(4)
    ]
    series = bucket_timeseries(lines, Grid(width_s=2.0, count=2))
    assert series.operations["runs.wait"]["count"] == [10 + 11, 12 + 13]
    assert series.operations["runs.wait"]["errors"] == [1, 1]
    assert series.http_errors == {"runs.wait": {"409": 2}}
    assert series.total("runs.wait", "count") == 46
    assert series.scenarios["chat"]["started"] == [6, 6]
    assert series.scenarios["chat"]["failed"] == [0, 0]  # absent keys count as nothing
    assert series.active_vus["chat"] == [2.0, 4.0]
    assert series.sampled["server"]["n_pending"] == [5.0, 3.0]
    assert series.sampled["server"]["cpu_percent"] == [15.0, 35.0]
    assert "version" not in series.sampled["server"]  # not a number: not plotted
    assert series.covered_s == [2.0, 2.0]
    assert (series.end_s, series.intervals) == (4.0, 4)


def test_missing_parts_leave_gaps_not_zeros() -> None:
    lines = [
        timeseries_line(0.0, 1.0, server={"n_running": 1}),
        timeseries_line(1.0, 2.0),
        timeseries_line(2.0, 2.5, operations={"runs.wait": wait(3)}),
    ]
    series = bucket_timeseries(lines, Grid(width_s=1.0, count=3))
    assert series.sampled["server"]["n_running"] == [1.0, None, None]
    assert series.operations["runs.wait"]["count"] == [0, 0, 3]
    assert series.covered_s == [1.0, 1.0, 0.5]
    assert "lgbench" not in series.sampled
