"""The recorder's operation summaries with their histograms (``histograms=True``) merge
exactly: the summaries of two recorders that each saw half of the calls, merged, are the
summary of one recorder that saw them all (what worker processes need)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.engine._recorder import Recorder
from lgbench.history import HistoryWriter
from lgbench.results import Operation, Summary, summary_part

LATENCIES_US = st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=40)


def _recorder(calls: list[tuple[int, int]]) -> Recorder:
    """A recorder that saw ``calls``: ``(index, latency_us)``, each started at its index's
    time, so a call is timed the same in every recorder that sees it."""
    clock = lambda: 0.0  # noqa: E731
    recorder = Recorder(
        clock=clock, origin_s=0.0, history=HistoryWriter(io.StringIO(), clock=clock, origin_s=0.0)
    )
    scope = recorder.scope("runs.wait", "main", {}, "closed")
    for index, latency_us in calls:
        start_s = index * 0.25
        invocation = recorder.invoke(scope, process=0, actor=1, arguments={}, at_s=start_s)
        recorder.ok(
            scope,
            invocation,
            {},
            {},
            start_s=start_s,
            latency_start_s=start_s,
            end_s=start_s + latency_us / 1e6,
            expected_interval_us=100_000,
        )
    recorder.snapshot(60.0)
    return recorder


def _summary(recorder: Recorder) -> Summary:
    operations = recorder.operations_summary(60.0, histograms=True)
    return Summary(
        duration_s=60.0,
        operations=summary_part(operations, dict[str, Operation], source="recorder"),
    )


@settings(max_examples=25, deadline=None)
@given(latencies=LATENCIES_US, cut=st.integers(min_value=0, max_value=40))
def test_two_recorders_summaries_merge_into_the_whole(latencies: list[int], cut: int) -> None:
    calls = list(enumerate(latencies))
    cut = min(cut, len(calls))
    merged = _summary(_recorder(calls[:cut])).merge(_summary(_recorder(calls[cut:])))
    whole = _summary(_recorder(calls))
    assert merged.operations == whole.operations
    wait = merged.operations["runs.wait"]
    assert wait.count == len(latencies)
    # summary.json's own form leaves the histograms out, and they never reach the file.
    assert "histograms" not in merged.without_histograms().to_json()


def test_histograms_are_only_there_when_asked_for() -> None:
    recorder = _recorder([(0, 1_000), (1, 2_000)])
    assert "histograms" not in recorder.operations_summary(60.0)["runs.wait"]
    assert set(recorder.operations_summary(60.0, histograms=True)["runs.wait"]["histograms"]) == {
        "latency",
        "corrected_latency",
    }
