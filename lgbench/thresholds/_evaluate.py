"""Judging thresholds: during the run interval by interval, and at the end on the summary.

:class:`ThresholdEvaluator` is fed every closed interval (:meth:`~ThresholdEvaluator.observe`)
and keeps only what its thresholds need, so its memory does not grow with the run's length:

- per **windowed** threshold, one accumulator for the current window (a latency histogram,
  about 190 kB, or two counters), the counts of windows judged, failed and skipped, the
  worst window and the first :data:`MAX_WINDOW_FAILURES` failed windows;
- per whole-run threshold with ``abort_on_fail``, one cumulative accumulator.

Windows are aligned to the run's start (``[0, W)``, ``[W, 2W)`` ...); an interval belongs to
the window holding its midpoint. A window is judged when it closes; the last one, cut short
by the end of the run, is judged only if it covers at least half a window, otherwise it is
skipped. A window with nothing to judge (no latency recorded, no operation for an error
rate) is skipped too; counts and rates of an empty window are 0, and judged.

:meth:`~ThresholdEvaluator.finish` judges whole-run thresholds on the final summary dict (and
the checker's verdict for ``anomalies``) and windowed ones on their windows. **No data never
passes**: a threshold with nothing to judge has status ``no_data``, which fails, with the
reason in words.

Windowed error rates and error counts see what the interval histograms carry: HTTP error
answers, transport errors and timeouts. Graph failures (``run``), cancellations and unexpected
errors are in the whole-run figures of the summary only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, final

from msgspec import UnsetType

from lgbench._toml import format_duration
from lgbench.metrics import IntervalSnapshot, LatencyRecorder, MetricKey
from lgbench.results import (
    REPLY_RATE_SERIES,
    LagFigures,
    Latency,
    Operation,
    Stream,
    Summary,
    token_rate_stats,
)
from lgbench.thresholds._format import format_value
from lgbench.workload import Metric, Threshold

__all__ = [
    "MAX_WINDOW_FAILURES",
    "Status",
    "ThresholdBreach",
    "ThresholdEvaluator",
    "ThresholdReport",
    "ThresholdResult",
    "WindowStats",
    "WindowValue",
    "summary_value",
]

#: Failed windows listed per threshold (all are counted).
MAX_WINDOW_FAILURES: Final = 20

#: A threshold's outcome; ``no_data`` counts as failed; ``too_short`` (the run was shorter
#: than the threshold needs: a window longer than the run, drift over too few windows) does
#: not, and says so.
Status: TypeAlias = Literal["passed", "failed", "no_data", "too_short"]

#: Each chat reply stream's tokens per second (a rate, in thousandths per interval).
_TOKEN_RATE: Final = "tokens_per_s"
_DERIVED: Final = {
    "ttfe": "ttfe",
    "queue_wait": "queue_wait",
    "ttft": "ttft",
    "itl": "itl",
    _TOKEN_RATE: REPLY_RATE_SERIES,
}
_LAG_SERIES: Final = {"schedule_lag": "lgbench.schedule_lag", "event_loop_lag": "lgbench.loop_lag"}
_LAG_SUMMARY: Final = {"schedule_lag": "schedule_lag_ms", "event_loop_lag": "event_loop_lag_ms"}
_STREAM_SUMMARY: Final = {
    "ttfe": "ttfe_ms",
    "queue_wait": "queue_wait_ms",
    "ttft": "ttft_ms",
    "itl": "itl_ms",
}
_EPSILON_S: Final = 1e-9


@final
@dataclass(frozen=True, slots=True)
class WindowValue:
    """One judged window: seconds since the run's start, and its value in the result's unit."""

    start_s: float
    end_s: float
    value: float

    def to_dict(self) -> dict[str, float]:
        return {"start_s": self.start_s, "end_s": self.end_s, "value": self.value}


@final
@dataclass(frozen=True, slots=True)
class WindowStats:
    """How a windowed threshold's windows went."""

    evaluated: int
    failed: int
    skipped: int
    worst: WindowValue | None
    failures: tuple[WindowValue, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "failed": self.failed,
            "skipped": self.skipped,
            "worst": None if self.worst is None else self.worst.to_dict(),
            "failures": [window.to_dict() for window in self.failures],
        }


@final
@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """The verdict on one threshold; ``value`` is in ``threshold.unit`` (windowed: the worst)."""

    threshold: Threshold
    status: Status
    value: float | None
    reason: str
    windows: WindowStats | None = None
    aborted_run: bool = False

    @property
    def passed(self) -> bool:
        """Not failed: ``passed``, or ``too_short`` (not judged, by the run's length alone)."""
        return self.status in ("passed", "too_short")

    def to_dict(self) -> dict[str, Any]:
        """The result as summary.json, JUnit and the HTML report read it."""
        threshold = self.threshold
        return {
            "name": threshold.name,
            "condition": threshold.condition,
            "source": threshold.source,
            "window_s": threshold.window_s,
            "abort_on_fail": threshold.abort_on_fail,
            "operator": threshold.operator,
            "limit": threshold.limit,
            "unit": threshold.unit,
            "value": self.value,
            "status": self.status,
            "passed": self.passed,
            "reason": self.reason,
            "windows": None if self.windows is None else self.windows.to_dict(),
            "aborted_run": self.aborted_run,
        }


@final
@dataclass(frozen=True, slots=True)
class ThresholdReport:
    """Every threshold's result, in the order the thresholds were given."""

    results: tuple[ThresholdResult, ...]

    @property
    def passed(self) -> bool:
        """True when every threshold passed (so also when there is none)."""
        return all(result.passed for result in self.results)

    def failed(self) -> tuple[ThresholdResult, ...]:
        """The results that did not pass (``failed`` and ``no_data``)."""
        return tuple(result for result in self.results if not result.passed)

    def to_dict(self) -> dict[str, Any]:
        """``{"passed": bool, "results": [...]}`` (see docs/thresholds.md)."""
        return {"passed": self.passed, "results": [r.to_dict() for r in self.results]}


@final
@dataclass(frozen=True, slots=True)
class ThresholdBreach:
    """An ``abort_on_fail`` threshold that failed during the run: the run should stop.

    ``at_s`` is the end of the interval that showed it (seconds since the run's start).
    """

    threshold: Threshold
    value: float
    at_s: float
    reason: str


# -- accumulating intervals --------------------------------------------------------------


def _selected(metric: Metric, key: MetricKey) -> bool:
    if metric.scenario is not None and key.scenario != metric.scenario:
        return False
    return metric.tag is None or metric.tag in key.tags


@final
class _Accumulator:
    """What one threshold needs from a run of intervals: a histogram, or two counters."""

    __slots__ = ("count", "covered_s", "errors", "recorder")

    def __init__(self, metric: Metric) -> None:
        self.recorder = LatencyRecorder() if metric.stat is not None else None
        self.count = 0
        self.errors = 0
        self.covered_s = 0.0

    def add(self, metric: Metric, operations: IntervalSnapshot, derived: IntervalSnapshot) -> None:
        self.covered_s += max(0.0, operations.length_s)
        if metric.name in _LAG_SERIES:
            snapshot, series = derived, _LAG_SERIES[metric.name]
        elif metric.name in _DERIVED:
            snapshot, series = derived, f"{metric.operation}.{_DERIVED[metric.name]}"
        else:
            snapshot, series = operations, metric.operation or ""
        recorder = self.recorder
        for key, each in snapshot.metrics.items():
            if (series and key.operation != series) or not _selected(metric, key):
                continue
            if recorder is not None:
                recorder.merge(each.latency)
            else:
                self.count += each.count
                self.errors += each.errors

    def value(self, metric: Metric) -> float | None:
        """The accumulated value in the report unit, or None when there is nothing to judge."""
        if self.recorder is not None:
            assert metric.stat is not None
            if metric.name == _TOKEN_RATE:
                # Each reply stream's rate (in thousandths), as the summary states it.
                rate: float | None = getattr(token_rate_stats(self.recorder), metric.stat)
                return rate
            return self.recorder.stats().to_ms()[metric.stat]
        if metric.name == "errors.rate":
            return 100.0 * self.errors / self.count if self.count else None
        if metric.name == "errors.count":
            return float(self.errors)
        if metric.name == "count":
            return float(self.count)
        # rate
        return self.count / self.covered_s if self.covered_s > 0 else None


def _worse(threshold: Threshold, a: float, b: float) -> bool:
    """Whether value ``a`` is further on the failing side than ``b``."""
    if threshold.operator in ("<", "<="):
        return a > b
    if threshold.operator in (">", ">="):
        return a < b
    if threshold.operator == "==":
        return abs(a - threshold.limit) > abs(b - threshold.limit)
    return abs(a - threshold.limit) < abs(b - threshold.limit)


@final
class _Windows:
    """The windows of one windowed threshold (only the current one is held)."""

    __slots__ = (
        "current",
        "evaluated",
        "failed",
        "failures",
        "index",
        "last_end_s",
        "skipped",
        "threshold",
        "window_s",
        "worst",
    )

    def __init__(self, threshold: Threshold) -> None:
        assert threshold.window_s is not None
        self.threshold = threshold
        self.window_s = threshold.window_s
        self.current = _Accumulator(threshold.metric)
        self.index = 0
        self.last_end_s = 0.0
        self.evaluated = 0
        self.failed = 0
        self.skipped = 0
        self.worst: WindowValue | None = None
        self.failures: list[WindowValue] = []

    def observe(self, operations: IntervalSnapshot, derived: IntervalSnapshot) -> None:
        middle_s = (operations.start_s + operations.end_s) / 2
        index = math.floor(middle_s / self.window_s)
        if index > self.index:
            self._close(self.index * self.window_s + self.window_s)
            # Windows no interval fell in (a stalled runner): nothing was seen in them.
            self.skipped += index - self.index - 1
            self.index = index
        self.current.add(self.threshold.metric, operations, derived)
        self.last_end_s = max(self.last_end_s, operations.end_s)
        window_end_s = (self.index + 1) * self.window_s
        if operations.end_s >= window_end_s - _EPSILON_S:
            self._close(window_end_s)
            self.index += 1

    def _close(self, end_s: float) -> None:
        accumulated, self.current = self.current, _Accumulator(self.threshold.metric)
        value = accumulated.value(self.threshold.metric)
        if value is None:
            self.skipped += 1
            return
        self._judge(WindowValue(self.index * self.window_s, end_s, value))

    def _judge(self, window: WindowValue) -> None:
        self.evaluated += 1
        if self.worst is None or _worse(self.threshold, window.value, self.worst.value):
            self.worst = window
        if not self.threshold.holds(window.value):
            self.failed += 1
            if len(self.failures) < MAX_WINDOW_FAILURES:
                self.failures.append(window)

    def finish(self) -> None:
        """Judge the trailing window if it covers at least half a window; else skip it."""
        trailing, self.current = self.current, _Accumulator(self.threshold.metric)
        if trailing.covered_s <= 0:
            return
        value = trailing.value(self.threshold.metric)
        if trailing.covered_s < self.window_s / 2 or value is None:
            self.skipped += 1
            return
        self._judge(WindowValue(self.index * self.window_s, self.last_end_s, value))
        self.index += 1

    def stats(self) -> WindowStats:
        return WindowStats(
            self.evaluated, self.failed, self.skipped, self.worst, tuple(self.failures)
        )


# -- whole-run values from the summary ----------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _stat(figures: Latency | LagFigures, stat: str) -> float | None:
    value: float | None = getattr(figures, stat)
    return _number(value)


def _operations_section(
    metric: Metric, summary: Summary
) -> tuple[Mapping[str, Operation] | None, str]:
    if metric.scenario is not None:
        scenario = summary.scenarios.get(metric.scenario)
        section = None if scenario is None else scenario.operations
        return section, f" in scenario {metric.scenario}"
    if metric.tag is not None:
        name, value = metric.tag
        return summary.tags.get(f"{name}={value}"), f" tagged {name}={value}"
    return summary.operations, ""


def _counter(metric: Metric, entries: list[Operation]) -> float | None:
    if metric.name in ("empty", "empty.rate"):
        empty = float(sum(0 if isinstance(e.empty, UnsetType) else e.empty for e in entries))
        if metric.name == "empty":
            return empty
        ok = float(sum(entry.ok for entry in entries))
        return 100.0 * empty / ok if ok else None
    count = float(sum(entry.count for entry in entries))
    errors = float(sum(entry.errors for entry in entries))
    if metric.name == "errors.rate":
        return 100.0 * errors / count if count else None
    if metric.name == "errors.count":
        return errors
    if metric.name == "count":
        return count
    return sum(_number(entry.rate_per_s) or 0.0 for entry in entries)


def _stream_figures(entry: Operation, name: str) -> Latency | None:
    stream = entry.stream
    if not isinstance(stream, Stream):
        return None
    figures: Latency = getattr(stream, _STREAM_SUMMARY[name])
    return figures


def _operation_value(metric: Metric, summary: Summary) -> tuple[float | None, str]:
    section, where = _operations_section(metric, summary)
    if section is None:
        return None, f"the summary has no operations{where}"
    if metric.operation is None:
        entries = list(section.values())
        if not entries:
            return None, f"no operation ran{where}"
        value = _counter(metric, entries)
        return value, "" if value is not None else f"no operation ended{where}"
    entry = section.get(metric.operation)
    if entry is None:
        return None, f"{metric.operation} never ran{where}"
    if metric.name == _TOKEN_RATE:
        stream = entry.stream
        assert metric.stat is not None
        rates = stream.stream_tokens_per_s if isinstance(stream, Stream) else None
        value = None if rates is None else _number(getattr(rates, metric.stat))
        return value, (
            "" if value is not None else f"no chat reply was streamed by {metric.operation}{where}"
        )
    if metric.stat is not None:
        figures = (
            entry.latency_ms if metric.name == "latency" else _stream_figures(entry, metric.name)
        )
        value = None if figures is None else _stat(figures, metric.stat)
        what = {
            "latency": "latency",
            "ttfe": "first event",
            "queue_wait": "queue wait",
            "ttft": "first token",
            "itl": "inter-token latency",
        }
        return value, (
            ""
            if value is not None
            else f"no {what[metric.name]} of {metric.operation} was recorded{where}"
        )
    value = _counter(metric, [entry])
    return value, "" if value is not None else f"no {metric.operation} operation ended{where}"


def _drift_value(metric: Metric, summary: Summary) -> tuple[float | None, str]:
    drift = summary.drift
    if isinstance(drift, UnsetType):
        return None, "the summary has no drift section (drift is measured in soak runs)"
    field = metric.stat if metric.name == "latency" else "error_rate"
    assert field is not None
    operation = drift.operations.get(metric.operation or "")
    per_h: float | None = None
    if operation is not None:
        # A latency drifts relative to its own level; an error rate (often near 0, where a
        # relative change means nothing) by percentage points.
        if field == "error_rate":
            trend = operation.error_rate
            per_h = None if trend is None else _number(trend.slope_per_h)
        elif field in ("p50", "p99"):
            latency = operation.p50 if field == "p50" else operation.p99
            per_h = None if latency is None else _number(latency.relative_per_h)
    if per_h is None:
        return None, f"no drift of {metric.operation} {field} was measured"
    return per_h * 100.0, ""


def _anomalies(check: Mapping[str, Any] | None) -> tuple[float | None, str]:
    if check is None:
        return None, "the checker did not run"
    if check.get("valid") not in (True, False):
        reasons = check.get("unknown") or []
        why = f": {reasons[0]}" if isinstance(reasons, list) and reasons else ""
        return None, f"the checker's verdict is unknown{why}"
    counts = check.get("counts")
    value = _number(counts.get("anomalies")) if isinstance(counts, Mapping) else None
    return value, "" if value is not None else "check.json has no anomaly count"


def summary_value(
    metric: Metric, summary: Summary | Mapping[str, Any], check: Mapping[str, Any] | None
) -> tuple[float | None, str]:
    """The whole-run value of ``metric`` in its report unit, or None and why there is none.

    ``summary``: the run's :class:`~lgbench.results.Summary` (or summary.json's decoded dict).
    """
    results = Summary.of(summary)
    if metric.drift:
        return _drift_value(metric, results)
    if metric.name == "anomalies":
        return _anomalies(check)
    if metric.name in _LAG_SUMMARY:
        section: LagFigures = getattr(results, _LAG_SUMMARY[metric.name])
        assert metric.stat is not None
        value = _stat(section, metric.stat) if section.count else None
        if value is not None:
            return value, ""
        if metric.name == "schedule_lag":
            return None, (
                "no iteration ran on a schedule (schedule lag is measured for arrival-rate "
                "and burst scenarios)"
            )
        return None, "the event-loop lag was not sampled"
    if metric.name == "dropped_iterations":
        if metric.scenario is None:
            return float(results.dropped_iterations), ""
        scenario = results.scenarios.get(metric.scenario)
        if scenario is None:
            return None, "the summary has no dropped_iterations"
        return float(scenario.dropped_iterations), ""
    return _operation_value(metric, results)


# -- the evaluator -------------------------------------------------------------------------


def _span_words(seconds: float) -> str:
    """``1-minute``, ``30-second``, ``2-hour``; else the canonical duration (``1m30s``)."""
    for unit_s, word in ((3600.0, "hour"), (60.0, "minute"), (1.0, "second")):
        count = seconds / unit_s
        if count >= 1 and count == int(count):
            return f"{int(count)}-{word}"
    return format_duration(seconds)


def _too_short_for_drift(threshold: Threshold, summary: Summary) -> str | None:
    """Why a drift threshold could not be judged when the run was shorter than the
    :data:`~lgbench.observe.MIN_WINDOWS` windows drift needs, else None."""
    if not threshold.metric.drift:
        return None
    from lgbench.observe import MIN_WINDOWS

    window_s = None if isinstance(summary.drift, UnsetType) else _number(summary.drift.window_s)
    duration_s = _number(summary.duration_s)
    if window_s is None or duration_s is None or duration_s >= MIN_WINDOWS * window_s:
        return None
    return (
        f"the run was too short for drift: it needs {MIN_WINDOWS} windows of"
        f" {format_duration(window_s)} ({format_duration(MIN_WINDOWS * window_s)}),"
        f" it ran {format_duration(round(duration_s))}"
    )


def _limit_text(threshold: Threshold) -> str:
    return f"limit {threshold.operator} {format_value(threshold.limit, threshold.unit)}"


def _whole_run_reason(threshold: Threshold, value: float) -> str:
    shown = format_value(value, threshold.unit)
    return f"{threshold.metric.describe()} was {shown}, {_limit_text(threshold)}"


def _window_reason(threshold: Threshold, stats: WindowStats) -> str:
    assert threshold.window_s is not None and stats.worst is not None
    every = format_duration(threshold.window_s)
    worst = stats.worst
    shown = format_value(worst.value, threshold.unit)
    span = f"{format_value(worst.start_s, '')}-{format_value(worst.end_s, '')} s"
    what = threshold.metric.describe()
    if stats.failed:
        return (
            f"{what} failed in {stats.failed} of {stats.evaluated} windows of {every}; "
            f"worst {shown} at {span}, {_limit_text(threshold)}"
        )
    return (
        f"{what} held in all {stats.evaluated} windows of {every}; worst {shown} at {span}, "
        f"{_limit_text(threshold)}"
    )


@final
class ThresholdEvaluator:
    """Judges ``thresholds`` during a run and at its end (see the module docstring).

    Call :meth:`observe` once per closed interval, in order, then :meth:`finish` once.
    """

    __slots__ = ("_breached", "_cumulative", "_finished", "_observed", "_windows", "thresholds")

    def __init__(self, thresholds: Iterable[Threshold]) -> None:
        self.thresholds = tuple(thresholds)
        self._windows: dict[int, _Windows] = {}
        self._cumulative: dict[int, _Accumulator] = {}
        for index, threshold in enumerate(self.thresholds):
            if threshold.window_s is not None:
                self._windows[index] = _Windows(threshold)
            elif threshold.abort_on_fail and threshold.metric.windowable:
                self._cumulative[index] = _Accumulator(threshold.metric)
        self._breached: set[int] = set()
        self._observed = False
        self._finished = False

    @property
    def needs_intervals(self) -> bool:
        """Whether any threshold is windowed or may abort (else :meth:`observe` is a no-op)."""
        return bool(self._windows or self._cumulative)

    def observe(
        self, operations: IntervalSnapshot, derived: IntervalSnapshot
    ) -> list[ThresholdBreach]:
        """Take one closed interval (the recorder's operation and derived snapshots).

        Returns the ``abort_on_fail`` thresholds that fail now, each once, when the interval
        ends at or after their ``abort_delay_s``: a windowed one when some window of it has
        failed; a whole-run one when its value over the run so far fails.
        """
        if self._finished:
            raise RuntimeError("observe() after finish()")
        self._observed = True
        for windows in self._windows.values():
            windows.observe(operations, derived)
        breaches: list[ThresholdBreach] = []
        now_s = operations.end_s
        for index, threshold in enumerate(self.thresholds):
            accumulator = self._cumulative.get(index)
            if accumulator is not None:
                accumulator.add(threshold.metric, operations, derived)
            if (
                not threshold.abort_on_fail
                or index in self._breached
                or now_s < threshold.abort_delay_s - _EPSILON_S
            ):
                continue
            breach = self._breach(index, threshold, now_s)
            if breach is not None:
                self._breached.add(index)
                breaches.append(breach)
        return breaches

    def _breach(self, index: int, threshold: Threshold, now_s: float) -> ThresholdBreach | None:
        windows = self._windows.get(index)
        if windows is not None:
            if not windows.failed:
                return None
            stats = windows.stats()
            assert stats.worst is not None
            return ThresholdBreach(
                threshold, stats.worst.value, now_s, _window_reason(threshold, stats)
            )
        accumulator = self._cumulative.get(index)
        if accumulator is None:
            return None
        value = accumulator.value(threshold.metric)
        if value is None or threshold.holds(value):
            return None
        reason = f"{_whole_run_reason(threshold, value)} after {format_value(now_s, '')} s"
        return ThresholdBreach(threshold, value, now_s, reason)

    def finish(
        self, summary: Summary | Mapping[str, Any], check: Mapping[str, Any] | None = None
    ) -> ThresholdReport:
        """Judge every threshold: whole-run ones on ``summary`` (the run's results, or
        summary.json's decoded dict) and
        ``check`` (check.json's dict, or None when the checker did not run), windowed ones on
        the observed intervals. Call once, after the last :meth:`observe`.
        """
        if not self._finished:
            self._finished = True
            for each in self._windows.values():
                each.finish()
        run = Summary.of(summary)
        results = []
        for index, threshold in enumerate(self.thresholds):
            windows = self._windows.get(index)
            if windows is not None:
                result = self._windowed_result(threshold, windows)
            else:
                result = self._whole_run_result(threshold, run, check)
            if index in self._breached:
                result = ThresholdResult(
                    result.threshold,
                    result.status,
                    result.value,
                    result.reason,
                    result.windows,
                    aborted_run=True,
                )
            results.append(result)
        return ThresholdReport(tuple(results))

    @staticmethod
    def _whole_run_result(
        threshold: Threshold, summary: Summary, check: Mapping[str, Any] | None
    ) -> ThresholdResult:
        value, why = summary_value(threshold.metric, summary, check)
        if value is None:
            short = _too_short_for_drift(threshold, summary)
            if short is not None:
                return ThresholdResult(threshold, "too_short", None, short)
            return ThresholdResult(threshold, "no_data", None, f"no data: {why}")
        status: Status = "passed" if threshold.holds(value) else "failed"
        return ThresholdResult(threshold, status, value, _whole_run_reason(threshold, value))

    def _windowed_result(self, threshold: Threshold, windows: _Windows) -> ThresholdResult:
        stats = windows.stats()
        if stats.worst is None:
            assert threshold.window_s is not None
            if not self._observed:
                why = "no interval was observed during the run"
            elif windows.last_end_s < threshold.window_s / 2:
                return ThresholdResult(
                    threshold,
                    "too_short",
                    None,
                    f"the run was too short for a {_span_words(threshold.window_s)} window"
                    f" (it ran {format_duration(round(windows.last_end_s))}; a window is"
                    " judged once it covers half its length)",
                    stats,
                )
            else:
                why = (
                    f"no window of {format_duration(threshold.window_s)} could be judged "
                    f"({stats.skipped} skipped: nothing measured, or the run's last window was "
                    "shorter than half a window)"
                )
            return ThresholdResult(threshold, "no_data", None, f"no data: {why}", stats)
        status: Status = "failed" if stats.failed else "passed"
        return ThresholdResult(
            threshold, status, stats.worst.value, _window_reason(threshold, stats), stats
        )
