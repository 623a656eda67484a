"""intervals.hlog read back: whole-run totals, per-bucket percentiles, percentile curves."""

from __future__ import annotations

import random
from pathlib import Path

from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.metrics import HIGHEST_TRACKABLE_US, SIGNIFICANT_FIGURES
from lgbench.report._grid import Grid
from lgbench.report._histograms import (
    BUCKET_PERCENTILES,
    curve_percentiles,
    read_hlog,
    scan_hlog,
    values_at_percentiles,
)
from tests.report._fixtures import START_EPOCH_S, write_hlog


def histogram_of(values: list[int]) -> HdrHistogram:
    histogram = HdrHistogram(1, HIGHEST_TRACKABLE_US, SIGNIFICANT_FIGURES)
    for value in values:
        histogram.record_value(value)
    return histogram


def hdrh_percentiles(values: list[int], percentiles: list[float]) -> list[int]:
    found = histogram_of(values).get_percentile_to_value_dict(percentiles)
    return [found[p] for p in percentiles]


@given(
    values=st.lists(st.integers(min_value=0, max_value=HIGHEST_TRACKABLE_US), min_size=1),
    percentiles=st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=8),
)
@settings(max_examples=60)
def test_percentiles_are_hdrhistograms_own(values: list[int], percentiles: list[float]) -> None:
    percentiles = sorted(set(percentiles))
    assert values_at_percentiles(histogram_of(values), percentiles) == hdrh_percentiles(
        values, percentiles
    )


def test_curve_percentiles_halve_the_distance_to_100_and_end_at_the_last_value() -> None:
    curve = curve_percentiles(1000, ticks_per_half=1)
    assert curve[:4] == [0.0, 50.0, 75.0, 87.5]
    assert curve[-1] == 100.0 * (1 - 1 / 1000)
    assert curve == sorted(set(curve))
    assert curve_percentiles(1) == [0.0]
    assert curve_percentiles(0) == []


def test_totals_and_buckets_match_histograms_of_the_same_values(tmp_path: Path) -> None:
    rng = random.Random(5)
    per_second = [
        [rng.randint(100, 5_000_000) for _ in range(rng.randint(0, 40))] for _ in range(9)
    ]
    values = write_hlog(tmp_path / "i.hlog", {"runs.wait": per_second})["runs.wait"]
    scan = scan_hlog(tmp_path / "i.hlog")
    assert scan.start_epoch_s == START_EPOCH_S
    assert (scan.end_s, scan.interval_s, scan.lines) == (9.0, 1.0, 9)
    grid = Grid.for_span(scan.end_s, 1.0, max_buckets=4)  # 3 s buckets
    data = read_hlog(tmp_path / "i.hlog", grid, scan)
    totals = data.totals["runs.wait"]
    assert totals.count == len(values)
    wanted = [50.0, 90.0, 95.0, 99.0, 99.9]
    assert [totals.percentiles_ms[p] for p in wanted] == [
        v / 1000 for v in hdrh_percentiles(values, wanted)
    ]
    assert totals.max_ms == histogram_of(values).get_max_value() / 1000
    buckets = data.buckets["runs.wait"]
    for index in range(3):
        merged = [v for second in per_second[3 * index : 3 * index + 3] for v in second]
        assert buckets.count[index] == len(merged)
        assert buckets.covered_s[index] == 3.0
        if merged:
            expected = hdrh_percentiles(merged, list(BUCKET_PERCENTILES))
            got = [buckets.percentiles_ms[p][index] for p in BUCKET_PERCENTILES]
            assert got == [v / 1000 for v in expected]
            assert buckets.max_ms[index] == histogram_of(merged).get_max_value() / 1000
        else:
            assert buckets.max_ms[index] is None
    curve = totals.curve
    assert curve[0][0] == 0.0 and curve[-1][0] == 100.0 * (1 - 1 / len(values))
    assert [value for _, value in curve] == sorted(value for _, value in curve)


def test_quiet_intervals_and_empty_tags(tmp_path: Path) -> None:
    write_hlog(
        tmp_path / "i.hlog",
        {"runs.wait": [[1000], [], [], [3000]], "lgbench.schedule_lag": [[], [], [], []]},
    )
    data = read_hlog(tmp_path / "i.hlog", Grid.for_span(4.0, 1.0))
    assert data.buckets["runs.wait"].count == [1, 0, 0, 1]
    edge_ms = hdrh_percentiles([3000], [50.0])[0] / 1000  # 3.001: the bucket's highest value
    assert data.buckets["runs.wait"].percentiles_ms[50.0] == [1.0, None, None, edge_ms]
    assert "lgbench.schedule_lag" not in data.totals
    assert data.buckets["lgbench.schedule_lag"].count == [0, 0, 0, 0]
    assert data.totals["runs.wait"].min_ms == 1.0


def test_a_truncated_last_line_is_counted_and_skipped(tmp_path: Path) -> None:
    write_hlog(
        tmp_path / "i.hlog", {"runs.wait": [[1000] * 5, [2000] * 5, [4000] * 5]}, truncate_last=True
    )
    data = read_hlog(tmp_path / "i.hlog", Grid.for_span(3.0, 1.0))
    assert data.damaged_lines == 1
    assert data.totals["runs.wait"].count == 10
    assert data.buckets["runs.wait"].count == [5, 5, 0]


def test_garbage_lines_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "i.hlog"
    write_hlog(path, {"runs.wait": [[1000], [2000]]})
    with path.open("a") as file:
        file.write("Tag=runs.wait,2.000,1.000,1.0,HISTFAAAAnotbase64!!\nrandom words\n")
    data = read_hlog(path, Grid.for_span(3.0, 1.0))
    assert data.damaged_lines == 2
    assert data.totals["runs.wait"].count == 2


def test_a_long_run_stays_within_the_bucket_limit(tmp_path: Path) -> None:
    seconds = 2 * 3600
    rng = random.Random(1)
    write_hlog(
        tmp_path / "i.hlog",
        {"runs.wait": [[rng.randint(1000, 2000)] for _ in range(seconds)]},
    )
    scan = scan_hlog(tmp_path / "i.hlog")
    grid = Grid.for_span(scan.end_s, 1.0)
    data = read_hlog(tmp_path / "i.hlog", grid, scan)
    buckets = data.buckets["runs.wait"]
    assert grid.count == 600 and grid.width_s == 12.0
    assert buckets.count == [12] * 600
    assert data.totals["runs.wait"].count == seconds


def test_lines_of_other_settings_and_zero_values_merge_like_hdrh(tmp_path: Path) -> None:
    """Lines encoded with other histogram settings (another tool's .hlog) take hdrh's own
    decoding path; zeros and the native path's ranges add up all the same."""
    ours = [0, 0, 5, 1_000, 2_500_000]
    other_values = [7, 300, 45_000, 60_000_000]
    other = HdrHistogram(1, 120_000_000, 2)
    for value in other_values:
        other.record_value(value)
    path = tmp_path / "i.hlog"
    write_hlog(path, {"runs.wait": [ours]})
    with path.open("a") as file:
        file.write(f"Tag=runs.wait,1.000,1.000,60000.0,{other.encode().decode()}\n")
    data = read_hlog(path, Grid.for_span(2.0, 1.0))
    # Foreign values land at their bucket's lowest value in the foreign histogram.
    merged = histogram_of(ours + [other.get_lowest_equivalent_value(v) for v in other_values])
    wanted = [0.0, 50.0, 90.0, 99.0, 99.9, 100.0]
    expected = merged.get_percentile_to_value_dict(wanted)
    totals = data.totals["runs.wait"]
    assert totals.count == len(ours) + len(other_values)
    assert totals.min_ms == 0.0
    assert [totals.percentiles_ms[p] for p in (50.0, 90.0, 99.0, 99.9)] == [
        expected[p] / 1000 for p in (50.0, 90.0, 99.0, 99.9)
    ]
    assert totals.max_ms == expected[100.0] / 1000
    assert data.buckets["runs.wait"].count == [5, 4]
    assert data.damaged_lines == 0
