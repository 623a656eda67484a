"""The recorder's operation summaries with their histograms (``histograms=True``) merge
exactly: the summaries of two recorders that each saw half of the calls, merged, are the
summary of one recorder that saw them all (what worker processes need)."""

from __future__ import annotations

import io

import pytest
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


@settings(max_examples=25)
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


def _chat_recorder() -> Recorder:
    clock = lambda: 0.0  # noqa: E731
    return Recorder(
        clock=clock, origin_s=0.0, history=HistoryWriter(io.StringIO(), clock=clock, origin_s=0.0)
    )


def _replies(recorder: Recorder, streams: list[tuple[float, int]]) -> None:
    """Reply streams that ended at ``(end_s, tokens)``, each sent one second before its end,
    so that its rate is its tokens per second."""
    from lgbench.history import StreamSummary

    scope = recorder.scope("runs.stream", "chat", {}, "closed")
    for end_s, tokens in streams:
        invocation = recorder.invoke(scope, process=0, actor=1, arguments={}, at_s=end_s - 1)
        summary = StreamSummary()
        summary.events, summary.reply_chunks = tokens + 1, tokens
        recorder.stream_ok(
            scope, invocation, {}, summary, start_s=end_s - 1, latency_start_s=end_s - 1,
            end_s=end_s, metadata_s=end_s - 0.9, first_event_s=end_s - 0.8,
            first_token_s=end_s - 0.8,
        )  # fmt: skip


def test_reply_rates_of_processes_merge_interval_by_interval_into_the_whole() -> None:
    """Each reply stream's rate is a derived series: the intervals another process hands
    over (as --workers do) carry it, and the summary's figures are those of every stream."""
    first = [(1.5, 10), (1.7, 40), (2.5, 25)]
    second = [(1.2, 5), (2.2, 80), (2.9, 30), (2.95, 12)]
    coordinator = _chat_recorder()
    workers = [(_chat_recorder(), first), (_chat_recorder(), second)]
    for end_s in (1.0, 2.0, 3.0):
        for worker, streams in workers:
            _replies(worker, [(at, n) for at, n in streams if end_s - 1 < at <= end_s])
            interval = worker.snapshot(end_s)
            coordinator.absorb_interval(interval.operations.to_dict(), interval.derived.to_dict())
        merged = coordinator.snapshot(end_s)
        # Per interval: the rates of the streams that ended in it, from both workers.
        rates = [
            metrics.latency.count
            for key, metrics in merged.derived.metrics.items()
            if key.operation == "runs.stream.tokens_per_s"
        ]
        assert sum(rates) == sum(1 for at, _ in first + second if end_s - 1 < at <= end_s)
    coordinator.import_counts(worker.export_counts() for worker, _ in workers)
    whole = _chat_recorder()
    _replies(whole, first + second)
    whole.snapshot(3.0)
    merged_stream = coordinator.operations_summary(3.0)["runs.stream"]["stream"]
    whole_stream = whole.operations_summary(3.0)["runs.stream"]["stream"]
    figures = merged_stream["stream_tokens_per_s"]
    assert figures == whole_stream["stream_tokens_per_s"]
    assert figures["min"] == 5.0 and figures["max"] == pytest.approx(80.0, rel=1e-3)
    # Each run's output tokens: a histogram of counts, handed over with the counts.
    per_reply = merged_stream["reply_tokens_per_stream"]
    assert per_reply == whole_stream["reply_tokens_per_stream"]
    assert (per_reply["min"], per_reply["total"]) == (5, 202)
    assert per_reply["max"] == pytest.approx(80, rel=1e-3)
    # Summaries with their histograms (as processes hand results over) merge exactly too.
    parts = [_stream_summary(worker) for worker, _ in workers]
    assert parts[0].merge(parts[1]).operations == _stream_summary(whole).operations


def _stream_summary(recorder: Recorder) -> Summary:
    operations = recorder.operations_summary(3.0, histograms=True)
    return Summary(
        duration_s=3.0,
        operations=summary_part(operations, dict[str, Operation], source="recorder"),
    )
