"""Judging thresholds: whole-run on summaries, windowed on interval snapshots, aborts, memory."""

from __future__ import annotations

import gc
import itertools
import tracemalloc
from collections.abc import Mapping
from typing import Any

import pytest

from lgbench.metrics import IntervalSnapshot, MetricKey, OperationMetrics
from lgbench.thresholds import MAX_WINDOW_FAILURES, ThresholdEvaluator
from lgbench.workload import Threshold
from lgbench.workload._thresholds import build_threshold

EMPTY = IntervalSnapshot(0.0, 0.0, {})


def threshold(key: str, condition: str, **options: Any) -> Threshold:
    found = build_threshold(key, condition, source="test", **options)
    assert isinstance(found, Threshold), found
    return found


def ops(
    latencies_ms: list[float] | None = None,
    *,
    http_errors: int = 0,
    timeouts: int = 0,
) -> OperationMetrics:
    """Operations with these latencies (each ok), plus timed 500s and untimed timeouts."""
    metrics = OperationMetrics()
    for ms in latencies_ms or []:
        metrics.record(0.0, ms / 1000)
    for _ in range(http_errors):
        metrics.record(0.0, 0.01, error_status=500)
    for _ in range(timeouts):
        metrics.record_timeout()
    return metrics


def interval(
    start_s: float,
    end_s: float,
    operations: Mapping[MetricKey, OperationMetrics],
    derived: Mapping[MetricKey, OperationMetrics] | None = None,
) -> tuple[IntervalSnapshot, IntervalSnapshot]:
    return (
        IntervalSnapshot(start_s, end_s, dict(operations)),
        IntervalSnapshot(start_s, end_s, dict(derived or {})),
    )


WAIT = MetricKey("runs.wait", "chat")


def latency_stats(p99: float | None) -> dict[str, float | None]:
    keys = ("min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max")
    return {key: (None if p99 is None else p99 * (i + 1) / 6) for i, key in enumerate(keys)} | {
        "p99": p99
    }


def op_summary(
    count: int,
    errors: int,
    p99: float | None,
    rate: float = 1.0,
    stream: bool = False,
    tokens_per_s: dict[str, float] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "count": count,
        "errors": errors,
        "rate_per_s": rate,
        "latency_ms": latency_stats(p99),
    }
    if stream:
        entry["stream"] = {"ttfe_ms": latency_stats(p99), "queue_wait_ms": latency_stats(p99)}
        if tokens_per_s is not None:
            entry["stream"]["stream_tokens_per_s"] = tokens_per_s
    return entry


SUMMARY: dict[str, Any] = {
    "operations": {
        "runs.wait": op_summary(100, 1, 2310.0, rate=10.0),
        "runs.stream": op_summary(
            50,
            2,
            800.0,
            rate=5.0,
            stream=True,
            tokens_per_s={"min": 4.5, "p1": 6.0, "p10": 18.5, "p50": 31.0, "max": 40.0},
        ),
        "threads.create": op_summary(50, 0, None, rate=5.0),
    },
    "scenarios": {
        "chat": {
            "dropped_iterations": 0,
            "operations": {"runs.wait": op_summary(40, 0, 150.0, rate=4.0)},
        },
        "arrivals": {
            "dropped_iterations": 7,
            "operations": {"runs.wait": op_summary(60, 1, 2310.0, rate=6.0)},
        },
    },
    "tags": {"role=observer": {"runs.stream": op_summary(10, 2, 900.0, stream=True)}},
    "dropped_iterations": 7,
    "schedule_lag_ms": {"count": 0, **latency_stats(None)},
    "event_loop_lag_ms": {"count": 700, **latency_stats(1.8)},
    "drift": {
        "operations": {
            "runs.wait": {
                "p99": {"relative_per_h": 0.25},
                "error_rate": {"slope_per_h": 0.004, "first": 0.0, "last": 0.004},
            }
        }
    },
}
CHECK_VALID = {"valid": True, "unknown": [], "counts": {"anomalies": 0}}
CHECK_INVALID = {"valid": False, "unknown": [], "counts": {"anomalies": 3}}
CHECK_UNKNOWN = {"valid": "unknown", "unknown": ["history truncated"], "counts": {"anomalies": 0}}


# (key, condition, check) -> (status, value, a fragment of the reason)
WHOLE_RUN = [
    pytest.param("runs.wait.latency.p99", "< 2s", None, "failed", 2310.0,
                 "p99 latency of runs.wait was 2.31 s, limit < 2 s", id="latency-fails"),
    pytest.param("runs.wait.latency.p99", "< 2.5s", None, "passed", 2310.0,
                 "p99 latency of runs.wait was 2.31 s, limit < 2.5 s", id="latency-passes"),
    pytest.param("runs.wait{scenario=chat}.latency.p99", "< 200ms", None, "passed", 150.0,
                 "p99 latency of runs.wait in scenario chat was 150 ms", id="scenario"),
    pytest.param("runs.stream{role=observer}.ttfe.p99", "< 1s", None, "passed", 900.0,
                 "p99 time to first event of runs.stream tagged role=observer", id="tag-ttfe"),
    pytest.param("runs.stream.queue_wait.p99", "<= 800ms", None, "passed", 800.0,
                 "p99 queue wait of runs.stream was 800 ms", id="queue-wait"),
    pytest.param("threads.create.latency.p99", "< 1s", None, "no_data", None,
                 "no data: no latency of threads.create was recorded", id="no-latencies"),
    pytest.param("runs.join.latency.p99", "< 1s", None, "no_data", None,
                 "no data: runs.join never ran", id="never-ran"),
    pytest.param("runs.wait{scenario=chat}.rate", ">= 5/s", None, "failed", 4.0,
                 "rate of runs.wait in scenario chat was 4/s, limit >= 5/s", id="rate"),
    pytest.param("errors.rate", "< 1%", None, "failed", 1.5,
                 "error rate of all operations was 1.5 %, limit < 1 %", id="run-wide-error-rate"),
    pytest.param("runs.wait.errors.rate", "<= 0.01", None, "passed", 1.0,
                 "error rate of runs.wait was 1 %", id="operation-error-rate"),
    pytest.param("errors.count{scenario=chat}", "== 0", None, "passed", 0.0,
                 "errors of all operations in scenario chat was 0", id="scenario-errors"),
    pytest.param("count", ">= 200", None, "passed", 200.0, "operations of all operations",
                 id="run-wide-count"),
    pytest.param("rate", ">= 21/s", None, "failed", 20.0, "rate of all operations was 20/s",
                 id="run-wide-rate"),
    pytest.param("errors.rate{scenario=nope}", "< 1%", None, "no_data", None,
                 "no data: the summary has no operations in scenario nope", id="no-scenario"),
    pytest.param("dropped_iterations", "== 0", None, "failed", 7.0,
                 "dropped iterations was 7, limit == 0", id="dropped"),
    pytest.param("dropped_iterations{scenario=chat}", "== 0", None, "passed", 0.0,
                 "dropped iterations of scenario chat was 0", id="dropped-scenario"),
    pytest.param("anomalies", "== 0", CHECK_VALID, "passed", 0.0,
                 "anomalies found by the checker was 0", id="anomalies-none"),
    pytest.param("anomalies", "== 0", CHECK_INVALID, "failed", 3.0,
                 "anomalies found by the checker was 3, limit == 0", id="anomalies-found"),
    pytest.param("anomalies", "== 0", CHECK_UNKNOWN, "no_data", None,
                 "no data: the checker's verdict is unknown: history truncated",
                 id="anomalies-unknown"),
    pytest.param("anomalies", "== 0", None, "no_data", None, "no data: the checker did not run",
                 id="no-checker"),
    pytest.param("schedule_lag.p99", "< 10ms", None, "no_data", None,
                 "no data: no iteration ran on a schedule", id="no-schedule-lag"),
    pytest.param("event_loop_lag.p99", "< 10ms", None, "passed", 1.8,
                 "p99 event-loop lag was 1.8 ms, limit < 10 ms", id="loop-lag"),
    pytest.param("runs.stream.tokens_per_s.p10", "> 20/s", None, "failed", 18.5,
                 "p10 tokens per second of a chat reply stream of runs.stream was 18.5/s, "
                 "limit > 20/s", id="reply-rate-fails"),
    pytest.param("runs.stream.tokens_per_s.p50", ">= 1800/m", None, "passed", 31.0,
                 "p50 tokens per second of a chat reply stream of runs.stream was 31/s",
                 id="reply-rate-per-minute"),
    pytest.param("runs.stream{role=observer}.tokens_per_s.p10", "> 1/s", None, "no_data", None,
                 "no data: no chat reply was streamed by runs.stream tagged role=observer",
                 id="no-reply-streamed"),
    pytest.param("runs.stream.tokens_per_s.p90", "> 1/s", None, "no_data", None,
                 "no data: no chat reply was streamed by runs.stream", id="stat-not-measured"),
    pytest.param("runs.wait.latency.p99.drift", "< 20%/h", None, "failed", 25.0,
                 "drift of the p99 latency of runs.wait was +25 %/h, limit < +20 %/h",
                 id="drift"),
    pytest.param("runs.wait.errors.rate.drift", "< 0.5%/h", None, "passed", 0.4,
                 "drift of the error rate of runs.wait was +0.4 %/h", id="error-rate-drift"),
    pytest.param("runs.stream.latency.p99.drift", "< 20%/h", None, "no_data", None,
                 "no data: no drift of runs.stream p99 was measured", id="no-drift"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "condition", "check", "status", "value", "reason"), WHOLE_RUN)
def test_whole_run_thresholds_on_a_summary(
    key: str,
    condition: str,
    check: Mapping[str, Any] | None,
    status: str,
    value: float | None,
    reason: str,
) -> None:
    report = ThresholdEvaluator([threshold(key, condition)]).finish(SUMMARY, check)
    (result,) = report.results
    assert result.status == status
    assert result.passed is report.passed is (status == "passed")
    assert result.value == (None if value is None else pytest.approx(value))
    assert reason in result.reason
    assert result.windows is None and not result.aborted_run


def test_no_summary_section_for_drift_is_no_data() -> None:
    report = ThresholdEvaluator([threshold("runs.wait.latency.p50.drift", "< 5%/h")]).finish({})
    (result,) = report.results
    assert result.status == "no_data"
    assert "the summary has no drift section" in result.reason


def test_report_dict_has_exactly_the_agreed_shape() -> None:
    thresholds = [
        threshold("runs.wait.latency.p99", "< 2s"),
        threshold("anomalies", "== 0"),
    ]
    report = ThresholdEvaluator(thresholds).finish(SUMMARY, None)
    assert report.to_dict() == {
        "passed": False,
        "results": [
            {
                "name": "runs.wait.latency.p99",
                "condition": "< 2s",
                "source": "test",
                "window_s": None,
                "abort_on_fail": False,
                "operator": "<",
                "limit": 2000.0,
                "unit": "ms",
                "value": 2310.0,
                "status": "failed",
                "passed": False,
                "reason": "p99 latency of runs.wait was 2.31 s, limit < 2 s",
                "windows": None,
                "aborted_run": False,
            },
            {
                "name": "anomalies",
                "condition": "== 0",
                "source": "test",
                "window_s": None,
                "abort_on_fail": False,
                "operator": "==",
                "limit": 0.0,
                "unit": "",
                "value": None,
                "status": "no_data",
                "passed": False,
                "reason": "no data: the checker did not run",
                "windows": None,
                "aborted_run": False,
            },
        ],
    }
    assert [r.threshold.name for r in report.failed()] == ["runs.wait.latency.p99", "anomalies"]


def test_no_thresholds_pass() -> None:
    assert ThresholdEvaluator([]).finish(SUMMARY).to_dict() == {"passed": True, "results": []}


# -- windows ---------------------------------------------------------------------------------


def feed(
    evaluator: ThresholdEvaluator, seconds: int, per_second: Any, *, start_s: float = 0.0
) -> list[list[Any]]:
    """Observe ``seconds`` intervals of 1 s; ``per_second(t)`` gives (operations, derived)."""
    returned = []
    for t in range(seconds):
        operations, derived = per_second(t)
        returned.append(
            evaluator.observe(*interval(start_s + t, start_s + t + 1, operations, derived))
        )
    return returned


def slow_middle(t: int) -> tuple[dict[MetricKey, OperationMetrics], dict[MetricKey, Any]]:
    """100 ms operations, except 3 s ones from 10 s to 20 s."""
    return {WAIT: ops([3000.0 if 10 <= t < 20 else 100.0] * 5)}, {}


@pytest.mark.parametrize(
    ("seconds", "evaluated", "skipped"),
    [
        pytest.param(34, 3, 1, id="trailing-4s-of-10s-skipped"),
        pytest.param(35, 4, 0, id="trailing-5s-of-10s-judged"),
        pytest.param(30, 3, 0, id="no-trailing-window"),
    ],
)
def test_a_failing_middle_window(seconds: int, evaluated: int, skipped: int) -> None:
    evaluator = ThresholdEvaluator([threshold("runs.wait.latency.p99", "< 1s in every 10s")])
    feed(evaluator, seconds, slow_middle)
    (result,) = evaluator.finish(SUMMARY).results
    assert result.status == "failed"
    assert result.windows is not None
    stats = result.windows.to_dict()
    assert (stats["evaluated"], stats["failed"], stats["skipped"]) == (evaluated, 1, skipped)
    worst = stats["worst"]
    assert (worst["start_s"], worst["end_s"]) == (10.0, 20.0)
    assert worst["value"] == pytest.approx(3000.0, rel=1e-3)  # an HDR bucket edge
    assert stats["failures"] == [worst]
    assert result.value == worst["value"]
    assert "failed in 1 of" in result.reason and "windows of 10s" in result.reason
    assert "at 10-20 s" in result.reason
    # The summary's whole-run figures play no part in a windowed threshold.
    assert result.to_dict()["window_s"] == 10.0


def test_windows_that_all_hold_report_the_worst() -> None:
    evaluator = ThresholdEvaluator([threshold("runs.wait.latency.max", "< 5s in every 10s")])
    feed(evaluator, 30, slow_middle)
    (result,) = evaluator.finish(SUMMARY).results
    assert result.status == "passed"
    assert result.value == pytest.approx(3000.0, rel=1e-3)
    assert "held in all 3 windows of 10s" in result.reason


def test_the_trailing_window_is_judged_on_what_it_covers() -> None:
    # 6 s into a 10 s window: its rate is counted over 6 s, not 10.
    evaluator = ThresholdEvaluator([threshold("runs.wait.rate", ">= 5/s in every 10s")])
    feed(evaluator, 16, lambda t: ({WAIT: ops([10.0] * 5)}, {}))
    (result,) = evaluator.finish(SUMMARY).results
    assert result.windows is not None
    assert (result.windows.evaluated, result.windows.failed) == (2, 0)
    assert result.value == pytest.approx(5.0)


def test_empty_windows_count_zero_operations_and_skip_latencies() -> None:
    def quiet_after_10s(t: int) -> tuple[dict[MetricKey, OperationMetrics], dict[Any, Any]]:
        return ({WAIT: ops([10.0] * 2)} if t < 10 else {}), {}

    evaluator = ThresholdEvaluator(
        [
            threshold("runs.wait.count", ">= 10 in every 10s"),
            threshold("runs.wait.latency.p99", "< 1s in every 10s"),
        ]
    )
    feed(evaluator, 30, quiet_after_10s)
    count, latency = evaluator.finish(SUMMARY).results
    assert count.windows is not None and latency.windows is not None
    assert (count.status, count.windows.evaluated, count.windows.failed) == ("failed", 3, 2)
    assert count.value == 0.0
    assert (latency.status, latency.windows.evaluated, latency.windows.skipped) == ("passed", 1, 2)


def test_windowed_error_rate_with_a_scenario_selector() -> None:
    other = MetricKey("runs.wait", "arrivals")

    def traffic(t: int) -> tuple[dict[MetricKey, OperationMetrics], dict[Any, Any]]:
        # chat: 1 error in 10 from 5 s on; arrivals: always failing, but not selected.
        return {
            WAIT: ops([10.0] * (9 if t >= 5 else 10), http_errors=1 if t >= 5 else 0),
            other: ops(timeouts=10),
        }, {}

    evaluator = ThresholdEvaluator(
        [threshold("runs.wait{scenario=chat}.errors.rate", "< 5% in every 5s")]
    )
    feed(evaluator, 10, traffic)
    (result,) = evaluator.finish(SUMMARY).results
    assert result.windows is not None
    assert [w.to_dict() for w in result.windows.failures] == [
        {"start_s": 5.0, "end_s": 10.0, "value": pytest.approx(10.0)}
    ]
    assert result.windows.worst == result.windows.failures[0]


def test_derived_series_feed_stream_and_lag_windows() -> None:
    ttfe = MetricKey("runs.stream.ttfe", "chat")
    lag = MetricKey("lgbench.schedule_lag")
    evaluator = ThresholdEvaluator(
        [
            threshold("runs.stream.ttfe.p50", "< 500ms in every 5s"),
            threshold("schedule_lag.max", "< 10ms in every 5s"),
        ]
    )
    feed(
        evaluator,
        10,
        lambda t: ({}, {ttfe: ops([200.0 if t < 5 else 900.0]), lag: ops([1.0, 2.0])}),
    )
    stream, schedule = evaluator.finish(SUMMARY).results
    assert stream.windows is not None and schedule.windows is not None
    assert (stream.status, stream.windows.failed) == ("failed", 1)
    assert stream.value == pytest.approx(900.0, rel=1e-3)
    assert (schedule.status, schedule.windows.evaluated) == ("passed", 2)


def test_windows_without_data_are_no_data() -> None:
    evaluator = ThresholdEvaluator([threshold("runs.join.latency.p99", "< 1s in every 10s")])
    feed(evaluator, 25, slow_middle)
    (result,) = evaluator.finish(SUMMARY).results
    assert result.status == "no_data" and not result.passed
    assert result.windows is not None and result.windows.skipped == 3
    assert "no data: no window of 10s could be judged (3 skipped" in result.reason


def test_a_run_shorter_than_half_a_window_is_too_short_and_does_not_fail() -> None:
    evaluator = ThresholdEvaluator([threshold("runs.wait.latency.p99", "< 1s in every 1m")])
    feed(evaluator, 20, slow_middle)
    (result,) = evaluator.finish(SUMMARY).results
    assert result.status == "too_short" and result.passed and result.value is None
    assert result.reason.startswith("the run was too short for a 1-minute window (it ran 20s;")
    assert result.windows is not None and result.windows.skipped == 1


def test_drift_over_fewer_windows_than_it_needs_is_too_short() -> None:
    summary = {"duration_s": 20.4, "drift": {"window_s": 60.0, "operations": {}}}
    report = ThresholdEvaluator([threshold("runs.wait.latency.p99.drift", "< 20%/h")]).finish(
        summary
    )
    (result,) = report.results
    assert result.status == "too_short" and report.passed
    assert result.reason == (
        "the run was too short for drift: it needs 3 windows of 1m0s (3m0s), it ran 20s"
    )
    # Long enough and still nothing measured: no data, which fails.
    summary = {"duration_s": 200.0, "drift": {"window_s": 60.0, "operations": {}}}
    report = ThresholdEvaluator([threshold("runs.wait.latency.p99.drift", "< 20%/h")]).finish(
        summary
    )
    assert report.results[0].status == "no_data" and not report.passed


def test_nothing_observed_is_no_data() -> None:
    evaluator = ThresholdEvaluator([threshold("errors.rate", "< 1% in every 1m")])
    (result,) = evaluator.finish(SUMMARY).results
    assert result.status == "no_data"
    assert result.reason == "no data: no interval was observed during the run"


def test_failures_listed_are_capped_but_all_counted() -> None:
    evaluator = ThresholdEvaluator([threshold("runs.wait.latency.p99", "< 1ms in every 1s")])
    feed(evaluator, MAX_WINDOW_FAILURES + 10, lambda t: ({WAIT: ops([10.0 + t])}, {}))
    (result,) = evaluator.finish(SUMMARY).results
    assert result.windows is not None
    assert result.windows.failed == MAX_WINDOW_FAILURES + 10
    assert len(result.windows.failures) == MAX_WINDOW_FAILURES
    assert result.windows.worst is not None
    assert result.windows.worst.start_s == MAX_WINDOW_FAILURES + 9  # the slowest, the last


def test_intervals_not_on_whole_seconds_fall_in_the_window_of_their_middle() -> None:
    evaluator = ThresholdEvaluator([threshold("runs.wait.count", ">= 1 in every 2s")])
    bounds = [0.0, 1.02, 1.98, 3.05, 4.0]
    for start, end in itertools.pairwise(bounds):
        evaluator.observe(*interval(start, end, {WAIT: ops([1.0])}))
    (result,) = evaluator.finish(SUMMARY).results
    assert result.windows is not None
    # [0, 1.02) and [1.02, 1.98) fall in [0, 2); the two others in [2, 4).
    assert result.windows.evaluated == 2
    assert result.windows.worst is not None and result.windows.worst.value == 2.0


# -- aborting ------------------------------------------------------------------------------


def test_a_failed_window_aborts_once_the_delay_has_passed() -> None:
    aborting = threshold(
        "runs.wait.latency.p99", "< 1s", window_s=10.0, abort_on_fail=True, abort_delay_s=25.0
    )
    evaluator = ThresholdEvaluator([aborting, threshold("runs.wait.count", ">= 1 in every 10s")])
    returned = feed(evaluator, 30, slow_middle)
    fired = [(t + 1, breaches) for t, breaches in enumerate(returned) if breaches]
    assert len(fired) == 1
    at_s, (breach,) = fired[0]
    assert at_s == 25  # the window failed at 20 s; the delay holds it back until 25 s
    assert breach.threshold == aborting
    assert breach.at_s == 25.0
    assert breach.value == pytest.approx(3000.0, rel=1e-3)
    assert "failed in 1 of 2 windows" in breach.reason
    first, second = evaluator.finish(SUMMARY).results
    assert first.aborted_run and not second.aborted_run


def test_a_whole_run_threshold_aborts_when_its_running_value_fails() -> None:
    aborting = threshold("errors.rate", "< 10%", abort_on_fail=True, abort_delay_s=3.0)

    def failing_from_2s(t: int) -> tuple[dict[MetricKey, OperationMetrics], dict[Any, Any]]:
        return {WAIT: ops([10.0] * 5, timeouts=5 if t >= 2 else 0)}, {}

    evaluator = ThresholdEvaluator([aborting])
    returned = feed(evaluator, 10, failing_from_2s)
    fired = [t + 1 for t, breaches in enumerate(returned) if breaches]
    # Cumulative error rate: 0 % at 1 s and 2 s, 5/15 = 33 % at 3 s, when the delay ends.
    assert fired == [3]
    (breach,) = returned[2]
    assert breach.value == pytest.approx(100 * 5 / 20)
    assert "error rate of all operations was 25 %" in breach.reason
    # The final verdict comes from the summary, and remembers the abort.
    (result,) = evaluator.finish(SUMMARY).results
    assert result.aborted_run
    assert result.value == pytest.approx(1.5)


def test_a_running_value_that_holds_does_not_abort() -> None:
    evaluator = ThresholdEvaluator([threshold("runs.wait.latency.p99", "< 5s", abort_on_fail=True)])
    assert not any(feed(evaluator, 30, slow_middle))
    assert not evaluator.finish(SUMMARY).results[0].aborted_run


def test_observe_after_finish_is_a_bug() -> None:
    evaluator = ThresholdEvaluator([])
    evaluator.finish(SUMMARY)
    with pytest.raises(RuntimeError):
        evaluator.observe(EMPTY, EMPTY)


# -- memory ------------------------------------------------------------------------------------


@pytest.mark.slow  # thousands of intervals
def test_state_does_not_grow_with_the_run() -> None:
    evaluator = ThresholdEvaluator(
        [
            threshold("runs.wait.latency.p99", "< 1ms in every 2s"),  # every window fails
            threshold("runs.wait.errors.rate", "< 1% in every 3s", abort_on_fail=True),
            threshold("runs.wait.latency.p50", "< 1s", abort_on_fail=True),
            threshold("rate", ">= 1/s in every 5s"),
        ]
    )
    key = MetricKey("runs.wait")
    shared = ops([10.0, 20.0], http_errors=1)  # one object, so the test allocates nothing

    def run(seconds: int, start_s: float) -> int:
        for t in range(seconds):
            evaluator.observe(*interval(start_s + t, start_s + t + 1, {key: shared}))
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        after_short = run(60, 0.0)
        after_long = run(600, 60.0)
    finally:
        tracemalloc.stop()
    # 10x more intervals, and the evaluator holds no more than it did (a few kB of slack for
    # interpreter caches): one accumulator per threshold and at most 20 failed windows.
    assert after_long - after_short < 16_000


def rates(tokens_per_s: list[float]) -> OperationMetrics:
    """Chat reply streams that ended in an interval, each at its tokens/s (thousandths)."""
    metrics = OperationMetrics()
    for rate in tokens_per_s:
        metrics.record_value(round(rate * 1000))
    return metrics


REPLY_RATES = MetricKey("runs.stream.tokens_per_s", "chat")


def slow_replies(t: int) -> tuple[dict[MetricKey, OperationMetrics], dict[MetricKey, Any]]:
    """Ten reply streams a second at 40 tokens/s, except from 10 s to 20 s, when one in
    five crawls at 4 tokens/s; none end from 30 s on (nothing to judge)."""
    if t >= 30:
        return {}, {}
    slow = 10 <= t < 20
    return {}, {REPLY_RATES: rates([4.0 if slow and i % 5 == 0 else 40.0 for i in range(10)])}


def test_reply_rates_are_judged_window_by_window_low_tail_first() -> None:
    evaluator = ThresholdEvaluator(
        [
            threshold("runs.stream.tokens_per_s.p10", "> 20/s in every 10s"),
            threshold("runs.stream.tokens_per_s.p50", ">= 30/s in every 10s"),
            threshold("runs.stream{scenario=other}.tokens_per_s.p10", "> 20/s in every 10s"),
        ]
    )
    feed(evaluator, 40, slow_replies)
    tail, median, other = evaluator.finish(SUMMARY).results
    assert tail.windows is not None and median.windows is not None
    # The middle window's slowest tenth ran at 4 tokens/s; the window without streams is
    # skipped, not judged as 0.
    assert (tail.status, tail.windows.evaluated, tail.windows.failed) == ("failed", 3, 1)
    assert (tail.windows.skipped, tail.value) == (1, pytest.approx(4.0, rel=1e-3))
    assert tail.windows.worst is not None and tail.windows.worst.start_s == 10.0
    assert "p10 tokens per second of a chat reply stream of runs.stream failed in 1 of 3" in (
        tail.reason
    )
    assert "4/s" in tail.reason and "limit > 20/s" in tail.reason
    assert (median.status, median.value) == ("passed", pytest.approx(40.0, rel=1e-3))
    assert other.status == "no_data"


def test_a_reply_rate_aborts_windowed_or_on_its_running_value() -> None:
    windowed = threshold("runs.stream.tokens_per_s.p10", "> 20/s in every 5s", abort_on_fail=True)
    running = threshold("runs.stream.tokens_per_s.min", "> 5/s", abort_on_fail=True)
    evaluator = ThresholdEvaluator([windowed, running])
    assert evaluator.needs_intervals
    returned = feed(evaluator, 30, slow_replies)
    fired = {breach.threshold.name: t + 1 for t, found in enumerate(returned) for breach in found}
    # The running minimum fails as soon as the first slow stream ends (10 s to 11 s); the
    # window [10 s, 15 s) fails when it closes.
    assert fired == {running.name: 11, windowed.name: 15}
    breach = next(b for found in returned for b in found if b.threshold is running)
    assert breach.value == pytest.approx(4.0, rel=1e-3)
    assert "min tokens per second of a chat reply stream" in breach.reason
    results = evaluator.finish(SUMMARY).results
    assert all(result.aborted_run for result in results)
