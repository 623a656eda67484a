"""Baseline comparison on point estimates: one summary against another, per operation.

The comparison's shapes (:class:`Comparison`, :class:`MetricComparison`) serve both rules;
``lgbench compare`` and ``--baseline`` use the statistical one
(:func:`lgbench.gate.compare_runs`, docs/ci.md). :func:`compare_summaries` keeps the point
rule for two summaries alone, for library users who want it:

- **Latency** (``latency_ms``) and a stream's **time to first event** (``stream.ttfe_ms``), per
  percentile: regressed when ``new > base * (1 + max_regression)`` *and*
  ``new - base >= min_difference_ms``. The second condition is a noise floor: on loopback a
  0.4 → 0.5 ms move is +25 % yet only scheduler jitter, and must not fail a build.
- **Error rate** (``errors / count``, in percent): regressed when it grows by more than
  ``max_regression`` relative to the base *and* by at least ``min_error_rate_increase``
  absolute (0.1 percentage point by default). The relative part lets a flaky 5 % base move a
  little; the absolute part means one stray error in 10,000 calls is not a regression, while
  any error rate worth reading (from a clean base, one error in 1,000 calls or more) is.
- A percentile ``pQ`` is only gated when both runs made at least ``1 / (1 - Q/100)`` calls
  (100 for p99, 1,000 for p99.9; for ttfe, streams): with fewer, it is the slowest call,
  a single observation, and one slow call would fail the build. Such rows are shown with a
  note, not gated.
- **Tokens per second of each chat reply stream** (``stream.stream_tokens_per_s``, p10 and
  p50), when both runs streamed chat replies: a *lower* rate is the regression, so it
  regressed when ``new < base * (1 - max_regression)``; p10 is only gated with at least 10
  streams on each side (fewer, and it is the slowest stream). :func:`lgbench.gate.compare_runs`
  resamples them from the runs' per-interval rates instead, and shows the figures of runs
  that logged none (recorded before lgbench logged them) without judging them.
- **Throughput** (``rate_per_s``) is shown but never gated: in a closed model it follows
  latency, so gating it would count one regression twice, and in an open model it is the
  workload's own setting.
- Operations found in one summary only are listed, not gated: a changed workload is the
  user's decision, not a regression.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, final

from lgbench.errors import UsageError
from lgbench.results import Latency, Operation, Stream, Summary

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "DEFAULT_MAX_REGRESSION",
    "DEFAULT_MIN_DIFFERENCE_MS",
    "DEFAULT_MIN_ERROR_RATE_INCREASE",
    "DEFAULT_PERCENTILES",
    "REPLY_RATES_NOT_JUDGED",
    "REPLY_RATE_SAMPLES",
    "REPLY_RATE_STATS",
    "Comparison",
    "MetricComparison",
    "OperationComparison",
    "compare_summaries",
    "context_warnings",
    "min_samples",
    "reply_rate_rows",
]

#: The version of :meth:`Comparison.to_dict`'s shape (stored as summary["baseline"]).
#: 2: each figure's ``verdict``, interval (``ci_low``/``ci_high``) and ``noise_floor``; the
#: comparison's ``verdict``, ``confidence``, ``method`` and the runs on each side.
COMPARISON_SCHEMA_VERSION: Final = 2
#: Relative growth allowed before a figure counts as regressed (10 %).
DEFAULT_MAX_REGRESSION: Final = 0.10
#: Latency noise floor: smaller absolute growth never counts as a regression.
DEFAULT_MIN_DIFFERENCE_MS: Final = 1.0
#: Error-rate noise floor, as a fraction (0.001 = 0.1 percentage point).
DEFAULT_MIN_ERROR_RATE_INCREASE: Final = 0.001
#: The latency percentiles compared, as summary.json names them.
DEFAULT_PERCENTILES: Final = ("p50", "p90", "p95", "p99", "p99_9")


def _percent(fraction: float) -> str:
    """0.1 → "10%", 0.025 → "2.5%"."""
    return f"{fraction * 100:g}%"


def _ms(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _label(percentile: str) -> str:
    """summary.json's ``p99_9`` reads as ``p99.9``."""
    return percentile.replace("_", ".")


@final
@dataclass(frozen=True, slots=True)
class MetricComparison:
    """One figure of one operation in both runs.

    ``unit`` is ``"ms"`` (latency, time to first event), ``"%"`` (error rate, in percent) or
    ``"/s"`` (throughput). ``regression`` is the readable one-liner when ``gated`` and the
    figure regressed, else None. Either side is None when that run measured nothing.
    """

    metric: str
    label: str
    unit: str
    base: float | None
    new: float | None
    gated: bool
    regression: str | None = None
    note: str | None = None
    verdict: str | None = None
    """"regression", "no significant change", "improvement", "not enough data for a
    confidence interval" or "not gated"; None from :func:`compare_summaries`'s point rule."""
    low: float | None = None
    """The confidence interval's low end: a relative change for ms (0.1 = +10 %), points
    for the error rate. None when there is no interval."""
    high: float | None = None
    noise_floor: float | None = None
    """The largest change between the baseline's runs (same unit as ``low``)."""
    explanation: str | None = None
    """Why the figure passed or failed, in one line (``lgbench compare --explain``)."""

    @property
    def regressed(self) -> bool:
        return self.regression is not None

    @property
    def outcome(self) -> str:
        """The verdict, also for point-rule rows: regression, within limits, not gated."""
        if self.regressed:
            return "regression"
        if self.verdict is not None:
            return self.verdict
        return "within limits" if self.gated else "not gated"

    @property
    def difference(self) -> float | None:
        """``new - base`` in ``unit`` (percentage points for the error rate)."""
        if self.base is None or self.new is None:
            return None
        return self.new - self.base

    @property
    def change(self) -> float | None:
        """Relative change (0.231 = +23.1 %); None when a side is missing or the base is 0."""
        if self.base is None or self.new is None or self.base == 0:
            return None
        return (self.new - self.base) / self.base

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "label": self.label,
            "unit": self.unit,
            "base": self.base,
            "new": self.new,
            "difference": self.difference,
            "change": self.change,
            "gated": self.gated,
            "regressed": self.regressed,
            "regression": self.regression,
            "verdict": self.outcome,
            "ci_low": self.low,
            "ci_high": self.high,
            "noise_floor": self.noise_floor,
            "explanation": self.explanation,
            "note": self.note,
        }


@final
@dataclass(frozen=True, slots=True)
class OperationComparison:
    """Every compared figure of one operation found in both summaries."""

    name: str
    base_count: int
    new_count: int
    metrics: tuple[MetricComparison, ...]

    @property
    def passed(self) -> bool:
        return not any(m.regressed for m in self.metrics)

    @property
    def regressions(self) -> list[str]:
        return [m.regression for m in self.metrics if m.regression is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "count": {"base": self.base_count, "new": self.new_count},
            "metrics": [m.to_dict() for m in self.metrics],
            "regressions": self.regressions,
        }


@final
@dataclass(frozen=True, slots=True)
class Comparison:
    """What :func:`compare_summaries` found; ``passed`` is False when anything regressed.

    ``warnings`` say why the two runs may not be comparable (another workload, server
    version or backend, a partial run); they never fail the comparison.
    """

    base_path: str | None
    new_path: str | None
    max_regression: float
    min_difference_ms: float
    min_error_rate_increase: float
    percentiles: tuple[str, ...]
    operations: tuple[OperationComparison, ...]
    only_in_base: tuple[str, ...] = ()
    only_in_new: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    confidence: float | None = None
    """The intervals' confidence; None for the point rule of :func:`compare_summaries`."""
    base_runs: tuple[str, ...] = ()
    new_runs: tuple[str, ...] = ()
    statistical: bool = False
    """True when every run had intervals to resample (else no regression is called)."""

    @property
    def passed(self) -> bool:
        return all(op.passed for op in self.operations)

    @property
    def verdict(self) -> str:
        """ "regression", "no significant change", "not enough data for a confidence
        interval" (nothing could be judged), or "within limits" (the point rule)."""
        if not self.passed:
            return "regression"
        if self.confidence is None:
            return "within limits"
        judged = [
            m
            for op in self.operations
            for m in op.metrics
            if m.verdict in ("no significant change", "improvement")
        ]
        return "no significant change" if judged else "not enough data for a confidence interval"

    @property
    def method(self) -> str:
        if self.confidence is None:
            return "point estimates (one run each side, fixed limit)"
        if not self.statistical:
            return "none: no per-interval data to resample"
        return f"bootstrap over per-second intervals, {self.confidence * 100:g}% confidence; " + (
            f"noise floor from {len(self.base_runs)} baseline runs"
            if len(self.base_runs) > 1
            else "no noise floor (one baseline run)"
        )

    @property
    def regressions(self) -> list[str]:
        return [line for op in self.operations for line in op.regressions]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; lgbench stores it as summary.json's ``baseline``."""
        return {
            "schema_version": COMPARISON_SCHEMA_VERSION,
            "base": self.base_path,
            "new": self.new_path,
            "max_regression": self.max_regression,
            "min_difference_ms": self.min_difference_ms,
            "min_error_rate_increase": self.min_error_rate_increase,
            "percentiles": list(self.percentiles),
            "passed": self.passed,
            "verdict": self.verdict,
            "method": self.method,
            "confidence": self.confidence,
            "base_runs": list(self.base_runs),
            "new_runs": list(self.new_runs),
            "regressions": self.regressions,
            "warnings": list(self.warnings),
            "operations": {op.name: op.to_dict() for op in self.operations},
            "only_in_base": list(self.only_in_base),
            "only_in_new": list(self.only_in_new),
        }


def _number(value: object) -> float | None:
    """A figure from summary.json: numbers pass, anything else (null, text) is "not measured"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def min_samples(percentile: str) -> int:
    """The fewest calls for which ``percentile`` (``"p99_9"``) is more than the maximum.

    1 for names that are not ``pNN`` percentiles (``min``, ``mean``, ``max``).
    """
    match = re.fullmatch(r"p(\d+)(?:_(\d+))?", percentile)
    if match is None:
        return 1
    quantile = float(f"{match[1]}.{match[2] or 0}") / 100
    if quantile >= 1:
        return 1
    # round() first: 1 / (1 - 0.999) is 1000.0000000000009 in floating point.
    return max(1, math.ceil(round(1 / (1 - quantile), 6)))


def _latency_row(
    name: str,
    metric: str,
    label: str,
    base: float | None,
    new: float | None,
    *,
    samples: int,
    needed: int,
    what: str,
    max_regression: float,
    min_difference_ms: float,
) -> MetricComparison:
    if samples < needed:
        return MetricComparison(
            metric,
            label,
            "ms",
            base,
            new,
            gated=False,
            note=f"not gated: {samples} {what} < {needed}",
        )
    regression = None
    if (
        base is not None
        and new is not None
        and new > base * (1 + max_regression)
        and new - base >= min_difference_ms
    ):
        change = f"{(new - base) / base:+.1%} " if base > 0 else ""
        regression = (
            f"{name} {label} {change}({_ms(base)} → {_ms(new)} ms), "
            f"limit +{_percent(max_regression)}"
        )
    return MetricComparison(metric, label, "ms", base, new, gated=True, regression=regression)


def _error_row(
    name: str,
    base_op: Operation,
    new_op: Operation,
    *,
    max_regression: float,
    min_increase: float,
) -> MetricComparison:
    base_count, new_count = base_op.count, new_op.count
    base_errors, new_errors = base_op.errors, new_op.errors
    base = base_errors / base_count if base_count else None
    new = new_errors / new_count if new_count else None
    regression = None
    # Compared as fractions; shown in percent. The small epsilon keeps 0.1 points, computed
    # from counts, from missing a 0.1-point floor by a rounding error.
    if (
        base is not None
        and new is not None
        and new > base * (1 + max_regression)
        and new - base >= min_increase - 1e-12
    ):
        regression = (
            f"{name} error rate {base:.2%} → {new:.2%} "
            f"(+{(new - base) * 100:.2f} points; {base_errors} of {base_count} → "
            f"{new_errors} of {new_count}), limit +{_percent(max_regression)} "
            f"and +{min_increase * 100:g} points"
        )
    return MetricComparison(
        "error_rate",
        "error rate",
        "%",
        None if base is None else base * 100,
        None if new is None else new * 100,
        gated=True,
        regression=regression,
    )


def context_warnings(
    base: Summary | Mapping[str, Any], new: Summary | Mapping[str, Any]
) -> list[str]:
    """Why the two runs may not measure the same thing."""
    warnings: list[str] = []
    old_run, new_run = Summary.of(base), Summary.of(new)

    def context(run: Summary) -> tuple[tuple[object, str], ...]:
        return (
            (run.workload.name, "workload"),
            (run.workload.overrides, "command-line overrides"),
            (run.target.url, "target"),
            (run.server.version, "server version"),
            (run.backend, "backend"),
            (run.transport, "transport"),
        )

    for (old, what), (now, _) in zip(context(old_run), context(new_run), strict=True):
        if old != now:
            warnings.append(f"not the same {what}: base {old!r}, new {now!r}")
    for side, summary in (("base", old_run), ("new", new_run)):
        if summary.partial:
            reason = summary.stop_reason or "unknown reason"
            warnings.append(f"the {side} run is partial (stopped: {reason})")
    return warnings


def compare_summaries(
    base: Summary | Mapping[str, Any],
    new: Summary | Mapping[str, Any],
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
    min_difference_ms: float = DEFAULT_MIN_DIFFERENCE_MS,
    min_error_rate_increase: float = DEFAULT_MIN_ERROR_RATE_INCREASE,
    percentiles: Sequence[str] = DEFAULT_PERCENTILES,
    base_path: str | None = None,
    new_path: str | None = None,
) -> Comparison:
    """Compare two summary.json contents (see :func:`~lgbench.gate.load_summary`).

    Per operation found in both, in name order: each of ``percentiles`` of ``latency_ms``,
    then of ``stream.ttfe_ms`` when both have streams, the error rate, and the throughput.
    ``base_path`` / ``new_path`` only label the result. Raises
    :class:`~lgbench.errors.UsageError` for a negative or non-finite limit.
    """
    for label, value in (
        ("max_regression", max_regression),
        ("min_difference_ms", min_difference_ms),
        ("min_error_rate_increase", min_error_rate_increase),
    ):
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"{label} must be a finite number of at least 0, not {value!r}")
    old_run, new_run = Summary.of(base), Summary.of(new)
    base_ops, new_ops = old_run.operations, new_run.operations
    operations: list[OperationComparison] = []
    for name in sorted(base_ops.keys() & new_ops.keys()):
        base_op, new_op = base_ops[name], new_ops[name]
        rows: list[MetricComparison] = []
        base_stream, new_stream = base_op.stream, new_op.stream
        families: list[tuple[str, str, Latency, Latency, int, str]] = [
            (
                "latency_ms",
                "",
                base_op.latency_ms,
                new_op.latency_ms,
                min(base_op.count, new_op.count),
                "calls",
            )
        ]
        if isinstance(base_stream, Stream) and isinstance(new_stream, Stream):
            families.append(
                (
                    "stream.ttfe_ms",
                    "ttfe ",
                    base_stream.ttfe_ms,
                    new_stream.ttfe_ms,
                    min(base_stream.streams, new_stream.streams),
                    "streams",
                )
            )
            families += _reply_families(base_stream, new_stream)
        for family, label_prefix, old_figures, new_figures, samples, what in families:
            for percentile in percentiles:
                rows.append(
                    _latency_row(
                        name,
                        f"{family}.{percentile}",
                        f"{label_prefix}{_label(percentile)}",
                        _number(getattr(old_figures, percentile, None)),
                        _number(getattr(new_figures, percentile, None)),
                        samples=samples,
                        needed=min_samples(percentile),
                        what=what,
                        max_regression=max_regression,
                        min_difference_ms=min_difference_ms,
                    )
                )
        if isinstance(base_stream, Stream) and isinstance(new_stream, Stream):
            rows += reply_rate_rows(name, base_stream, new_stream, max_regression=max_regression)
        rows.append(
            _error_row(
                name,
                base_op,
                new_op,
                max_regression=max_regression,
                min_increase=min_error_rate_increase,
            )
        )
        rows.append(
            MetricComparison(
                "rate_per_s",
                "throughput",
                "/s",
                _number(base_op.rate_per_s),
                _number(new_op.rate_per_s),
                gated=False,
                note="not gated",
            )
        )
        operations.append(OperationComparison(name, base_op.count, new_op.count, tuple(rows)))
    return Comparison(
        base_path=base_path,
        new_path=new_path,
        max_regression=max_regression,
        min_difference_ms=min_difference_ms,
        min_error_rate_increase=min_error_rate_increase,
        percentiles=tuple(percentiles),
        operations=tuple(operations),
        only_in_base=tuple(sorted(base_ops.keys() - new_ops.keys())),
        only_in_new=tuple(sorted(new_ops.keys() - base_ops.keys())),
        warnings=tuple(context_warnings(old_run, new_run)),
    )


def _reply_families(
    base_stream: Stream, new_stream: Stream
) -> list[tuple[str, str, Latency, Latency, int, str]]:
    """Time to first token and inter-token latency, when both runs streamed chat replies."""
    base_tokens, new_tokens = base_stream.reply_tokens, new_stream.reply_tokens
    if not base_tokens or not new_tokens:
        return []
    streams = min(base_stream.streams, new_stream.streams)
    return [
        ("stream.ttft_ms", "ttft ", base_stream.ttft_ms, new_stream.ttft_ms, streams, "streams"),
        ("stream.itl_ms", "itl ", base_stream.itl_ms, new_stream.itl_ms,
         min(base_tokens, new_tokens), "tokens"),
    ]  # fmt: skip


#: Each chat reply stream's tokens per second, compared: its slow tail and its median.
REPLY_RATE_STATS: Final = ("p10", "p50")
#: Streams needed on each side before a statistic is more than the slowest stream.
REPLY_RATE_SAMPLES: Final = {"p10": 10, "p50": 2}


def reply_rate_rows(
    name: str, base_stream: Stream, new_stream: Stream, *, max_regression: float | None
) -> list[MetricComparison]:
    """Each chat reply stream's tokens per second (p10, p50), when both runs streamed chat
    replies: gated by the point rule (lower is worse) with ``max_regression``, shown and not
    judged when it is None (what the statistical rule does with runs that logged no
    per-interval rates: nothing to resample)."""
    if not base_stream.reply_tokens or not new_stream.reply_tokens:
        return []
    streams = min(base_stream.streams, new_stream.streams)
    rows: list[MetricComparison] = []
    for stat in REPLY_RATE_STATS:
        metric, label = f"stream.stream_tokens_per_s.{stat}", f"tok/s {stat}"
        base = _number(getattr(base_stream.stream_tokens_per_s, stat))
        new = _number(getattr(new_stream.stream_tokens_per_s, stat))
        needed = REPLY_RATE_SAMPLES[stat]
        if max_regression is None:
            rows.append(
                MetricComparison(
                    metric,
                    label,
                    "/s",
                    base,
                    new,
                    gated=False,
                    note=REPLY_RATES_NOT_JUDGED,
                    verdict="not gated",
                    explanation=f"not gated: {REPLY_RATES_NOT_JUDGED}",
                )
            )
            continue
        if streams < needed:
            rows.append(
                MetricComparison(
                    metric,
                    label,
                    "/s",
                    base,
                    new,
                    gated=False,
                    note=f"not gated: {streams} streams < {needed}",
                )
            )
            continue
        regression = None
        if base is not None and new is not None and new < base * (1 - max_regression):
            change = f"{(new - base) / base:+.1%} " if base > 0 else ""
            regression = (
                f"{name} tokens/s per reply stream {stat} {change}({base:.1f} → {new:.1f}/s), "
                f"limit -{_percent(max_regression)}"
            )
        rows.append(
            MetricComparison(metric, label, "/s", base, new, gated=True, regression=regression)
        )
    return rows


#: Why the statistical comparison shows reply rates without judging them.
REPLY_RATES_NOT_JUDGED: Final = (
    "a run's intervals.hlog has no per-interval tokens/s (<operation>.tokens_per_s: recorded "
    "before lgbench logged them), so there is nothing to resample"
)
