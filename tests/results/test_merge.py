"""Summary.merge: two parts of one run as one. Counts sum, percentiles come from the merged
histograms (never averaged), spans unite, warnings unite; the merge of the results of two
halves of a set of values is the result of the whole set."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.results import (
    HistogramState,
    LagFigures,
    Latency,
    Operation,
    ResultsError,
    Scenario,
    Summary,
    TopError,
    histogram_state,
    latency_figures,
    merge_operations,
)
from tests.results._build import operation, recorder
from tests.results.test_summary import _golden

VALUES = st.lists(st.integers(min_value=0, max_value=3_600_000_000), min_size=0, max_size=60)


def _summary(operations: dict[str, Operation], **fields: object) -> Summary:
    return Summary(duration_s=10.0, operations=operations, **fields)  # type: ignore[arg-type]


@settings(max_examples=60)
@given(values=VALUES, cut=st.integers(min_value=0, max_value=60), errors=st.integers(0, 5))
def test_merging_two_halves_gives_the_whole(values: list[int], cut: int, errors: int) -> None:
    cut = min(cut, len(values))
    left_errors = min(errors, cut)
    right_errors = min(errors - left_errors, len(values) - cut)
    left = operation(values[:cut], errors=left_errors)
    right = operation(values[cut:], errors=right_errors)
    whole = operation(values, errors=left_errors + right_errors)
    merged = _summary({"runs.wait": left}).merge(_summary({"runs.wait": right}))
    assert merged.operations == {"runs.wait": whole}
    assert merged.operations["runs.wait"].latency_ms == whole.latency_ms
    assert merged.operations["runs.wait"].count == len(values)


@settings(max_examples=40)
@given(
    streams=st.lists(
        st.tuples(st.integers(0, 500), st.integers(1, 10_000_000)), min_size=2, max_size=30
    ),
    cut=st.integers(min_value=1, max_value=29),
)
def test_streams_merge_exactly(streams: list[tuple[int, int]], cut: int) -> None:
    cut = min(cut, len(streams) - 1)
    latencies = [ttfe + 1000 for _, ttfe in streams]
    events = [n for n, _ in streams]
    ttfes = [ttfe for _, ttfe in streams]

    def part(lo: int, hi: int) -> Operation:
        return operation(
            latencies[lo:hi], events=events[lo:hi], ttfe_us=ttfes[lo:hi], duration_s=10.0
        )

    merged = merge_operations(
        {"runs.stream": part(0, cut)}, {"runs.stream": part(cut, len(streams))}, 10.0
    )
    assert merged == {"runs.stream": part(0, len(streams))}


def test_percentiles_are_recomputed_not_averaged() -> None:
    fast = operation([1_000] * 99)
    slow = operation([1_000_000])
    merged = merge_operations({"op": fast}, {"op": slow}, 10.0)["op"]
    # The average of the two p99s would be about 500 ms; the whole set's p99 is 1 ms.
    assert merged.latency_ms.p99 == pytest.approx(1.0, rel=1e-3)
    assert merged.latency_ms.max == pytest.approx(1000.0, rel=1e-3)
    assert merged.latency_ms.mean == pytest.approx((99 * 1.0 + 1000.0) / 100)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # counts sum, rates over the merged (longest) span, not summed spans
        (Operation(count=3, ok=3), Operation(count=5, ok=4, errors=1), (8, 7, 1, 0.8)),
        (Operation(), Operation(count=2, ok=2), (2, 2, 0, 0.2)),
    ],
)
def test_counts_sum_and_rates_use_the_merged_span(
    a: Operation, b: Operation, expected: tuple[int, int, int, float]
) -> None:
    merged = merge_operations({"op": a}, {"op": b}, 10.0)["op"]
    assert (merged.count, merged.ok, merged.errors, merged.rate_per_s) == expected


def test_an_operation_on_one_side_only_is_kept() -> None:
    only = operation([5_000, 6_000], duration_s=5.0)
    merged = merge_operations({"a": only}, {}, 10.0)
    assert merged["a"].latency_ms == only.latency_ms
    assert merged["a"].rate_per_s == 0.2


def test_figures_without_histograms_do_not_merge() -> None:
    a = Operation(count=1, ok=1, latency_ms=Latency(p50=1.0))
    b = Operation(count=1, ok=1, latency_ms=Latency(p50=2.0))
    with pytest.raises(ResultsError, match="without its histograms"):
        merge_operations({"op": a}, {"op": b}, 1.0)


def test_figures_without_their_histogram_do_not_merge_with_one_that_has_it() -> None:
    bare = Operation(count=1, ok=1, latency_ms=Latency(p50=1.0))
    with pytest.raises(ResultsError, match="without its histograms"):
        merge_operations({"op": bare}, {"op": operation([2_000])}, 1.0)


def test_an_empty_side_without_histograms_merges() -> None:
    full = operation([2_000, 3_000])
    merged = merge_operations({"op": Operation()}, {"op": full}, 10.0)["op"]
    assert merged.latency_ms == full.latency_ms
    assert merged.histograms == full.histograms


def test_top_errors_add_up_by_message() -> None:
    boom = TopError(kind="http", status=500, message="boom", count=2)
    late = TopError(kind="timeout", message="late", count=1)
    a = Operation(count=3, errors=3, top_errors=(boom, late))
    b = Operation(
        count=2, errors=2, top_errors=(TopError(kind="http", status=500, message="boom", count=2),)
    )
    merged = merge_operations({"op": a}, {"op": b}, 1.0)["op"]
    assert merged.top_errors == (TopError(kind="http", status=500, message="boom", count=4), late)
    assert merged.top_errors_unlisted == 0


def test_the_run_level_figures_merge() -> None:
    lag_a, lag_b = recorder([100, 200]), recorder([5_000])
    a = Summary(
        started_at="2026-12-05T19:00:01+00:00",
        ended_at="2026-12-05T19:00:09+00:00",
        duration_s=8.0,
        warnings=("a", "shared"),
        dropped_iterations=1,
        schedule_lag_ms=LagFigures(count=2, histogram=histogram_state(lag_a), **_ms(lag_a)),
        scenarios={"main": Scenario(max_vus=2, ran_s=8.0)},
    )
    b = Summary(
        started_at="2026-12-05T19:00:00+00:00",
        ended_at="2026-12-05T19:00:08+00:00",
        duration_s=8.5,
        partial=True,
        stop_reason="SIGTERM",
        warnings=("shared", "b"),
        dropped_iterations=2,
        schedule_lag_ms=LagFigures(count=1, histogram=histogram_state(lag_b), **_ms(lag_b)),
        scenarios={"main": Scenario(max_vus=3, ran_s=8.5), "other": Scenario(max_vus=1)},
    )
    merged = a.merge(b)
    assert merged.started_at == "2026-12-05T19:00:00+00:00"
    assert merged.ended_at == "2026-12-05T19:00:09+00:00"
    assert merged.duration_s == 8.5
    assert (merged.partial, merged.stop_reason) == (True, "SIGTERM")
    assert merged.warnings == ("a", "shared", "b")
    assert merged.dropped_iterations == 3
    assert merged.schedule_lag_ms.count == 3
    assert merged.schedule_lag_ms.max == pytest.approx(5.0, rel=1e-3)
    assert merged.scenarios["main"].max_vus == 5
    assert set(merged.scenarios) == {"main", "other"}


def _ms(made: object) -> dict[str, float | None]:
    figures = latency_figures(made)  # type: ignore[arg-type]
    return {key: getattr(figures, key) for key in Latency.__struct_fields__ if key != "histogram"}


def test_a_merged_summary_writes_without_histograms_as_its_golden_file() -> None:
    a = _summary({"runs.wait": operation([800_000, 900_000], errors=1)}, warnings=("w1",))
    b = _summary({"runs.wait": operation([1_200_000]), "threads.create": operation([3_000])})
    merged = a.merge(b).without_histograms()
    assert isinstance(merged.operations["runs.wait"].histograms, type(Operation().histograms))
    _golden("merged-summary.json", merged.to_json())


def test_histogram_states_round_trip_through_json() -> None:
    state = histogram_state(recorder([1, 2, 3_000_000]))
    again = Summary.from_json(_summary({"op": Operation(count=3, ok=3)}).to_json())
    assert again.operations["op"].count == 3
    assert (
        HistogramState(**{k: getattr(state, k) for k in HistogramState.__struct_fields__}) == state
    )
