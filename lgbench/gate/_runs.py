"""The statistical baseline gate: runs (one or several per side) compared with confidence.

:func:`compare_runs` is what ``lgbench compare`` and ``lgbench run --baseline`` use. Per
operation found in every run, for each latency percentile, each time-to-first-event (and
chat replies' time-to-first-token and inter-token latency) percentile, each chat reply
stream's tokens per second (p10, p50: a *lower* rate is the regression) and the error rate:

1. the change and its confidence interval (default 95 %) come from a bootstrap over the
   runs' per-second interval histograms and counts (:mod:`lgbench.gate._stats`);
2. with two or more baseline runs, their spread gives the figure's **noise floor**: how far
   one more run of the same code may land from the baseline at the same confidence (a
   prediction bound, :func:`~lgbench.gate._stats.noise_floor`);
3. a **regression** is called only when the whole interval lies above the limit
   (``--max-regression``), the change lies beyond the noise floor, and for latency when even
   the interval's low end is at least ``--min-difference`` slower in absolute terms.
   Otherwise the figure shows "no significant change" (or "improvement" when the whole
   interval lies below minus the limit and the change beyond the floor). For a rate, mirrored:
   a regression when the whole interval lies below minus the limit, no absolute floor.

Runs recorded before lgbench logged each reply stream's rate per interval have none to
resample: their tokens/s figures are shown and not judged.

When a run has no ``intervals.hlog`` (a bare summary.json), there is nothing to resample:
every figure says "not enough data for a confidence interval" and no regression is called
on a point estimate. The same holds for a figure with fewer than
:data:`~lgbench.gate._stats.MIN_BLOCKS` seconds of data on a side.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, final

from lgbench.errors import UsageError
from lgbench.gate._compare import (
    DEFAULT_MAX_REGRESSION,
    DEFAULT_MIN_DIFFERENCE_MS,
    DEFAULT_MIN_ERROR_RATE_INCREASE,
    DEFAULT_PERCENTILES,
    REPLY_RATE_SAMPLES,
    REPLY_RATE_STATS,
    Comparison,
    MetricComparison,
    OperationComparison,
    context_warnings,
    min_samples,
    reply_rate_rows,
)
from lgbench.gate._load import load_summary, summary_path
from lgbench.gate._stats import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    Estimate,
    RunSamples,
    Side,
    estimate_error_rate,
    estimate_percentile,
    load_run_samples,
)
from lgbench.results import REPLY_RATE_SERIES, Latency, Operation, Stream, Summary

__all__ = ["NO_INTERVALS", "RunData", "compare_paths", "compare_runs", "expand_runs", "load_run"]

#: The verdict of a figure that could not be resampled.
NO_INTERVALS: Final = "not enough data for a confidence interval"


@final
@dataclass(frozen=True, slots=True)
class RunData:
    """One run: its summary, its per-interval data (None: a bare summary).

    ``summary`` may be given as summary.json's decoded content: it is read into the model.
    """

    label: str
    summary: Summary
    samples: RunSamples | None

    def __init__(
        self, label: str, summary: Summary | Mapping[str, Any], samples: RunSamples | None
    ) -> None:
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "summary", Summary.of(summary, source=label))
        object.__setattr__(self, "samples", samples)


def expand_runs(path: str | Path) -> list[Path]:
    """The runs a BASE argument names: a summary.json, a run folder, or a folder of runs.

    A folder with a summary.json is one run; a folder without one is a folder of runs (its
    subfolders that hold a summary.json, in name order). Raises UsageError when none is found.
    """
    given = Path(path)
    if given.is_dir() and not (given / "summary.json").exists():
        runs = sorted(sub for sub in given.iterdir() if (sub / "summary.json").is_file())
        if not runs:
            raise UsageError(
                f"{given}: neither a run folder (no summary.json) nor a folder of run folders"
            )
        return runs
    return [given]


def load_run(path: str | Path) -> RunData:
    """A run folder or summary.json, with its intervals when they are beside it."""
    summary = load_summary(path)
    file = summary_path(path)
    return RunData(str(file), summary, load_run_samples(file.parent))


def _percent(fraction: float) -> str:
    return f"{fraction * 100:+.1f}%"


def _ms(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _quantile(percentile: str) -> float:
    return float(percentile[1:].replace("_", "."))


def _figures(operation: Operation, family: str) -> Latency | None:
    """``latency_ms`` or ``stream.<x>_ms`` of ``operation`` (None: it has no streams)."""
    if family == "latency_ms":
        return operation.latency_ms
    stream = operation.stream
    if not isinstance(stream, Stream):
        return None
    figures: Latency = getattr(stream, family.removeprefix("stream."))
    return figures


@final
@dataclass(frozen=True, slots=True)
class _Limits:
    max_regression: float
    min_difference_ms: float
    min_error_rate_increase: float
    confidence: float
    resamples: int
    base_runs: int


def _floor_text(estimate: Estimate, limits: _Limits, unit: str) -> str:
    if estimate.noise_floor is None:
        return "noise floor not measured (one baseline run: give 5 or more to measure it)"
    floor = (
        f"{estimate.noise_floor * 100:.2f} points"
        if unit == "%"
        else f"{estimate.noise_floor * 100:.1f}%"
    )
    return f"noise floor {floor} (from the spread of {limits.base_runs} baseline runs)"


def _latency_row(
    name: str,
    metric: str,
    label: str,
    base: Side,
    new: Side,
    percentile: str,
    limits: _Limits,
) -> MetricComparison:
    needed = min_samples(percentile)
    calls = min(base.calls, new.calls)
    estimate = estimate_percentile(
        base,
        new,
        _quantile(percentile),
        confidence=limits.confidence,
        resamples=limits.resamples,
    )
    common = _interval_fields(estimate)

    def row(**fields: Any) -> MetricComparison:
        return MetricComparison(metric, label, "ms", estimate.base, estimate.new, **fields)

    if calls < needed:
        note = f"not gated: {calls} calls < {needed}"
        return row(
            gated=False,
            note=note,
            verdict="not gated",
            explanation=f"{note}: with fewer, the percentile is the slowest call alone",
            **common,
        )
    if estimate.base is None or estimate.new is None:
        return row(
            gated=False,
            note="no calls",
            verdict="not gated",
        )
    change = estimate.change or 0.0
    limit = limits.max_regression
    floor = estimate.noise_floor or 0.0
    floor_text = _floor_text(estimate, limits, "ms")
    head = f"change {_percent(change)} ({_ms(estimate.base)} → {_ms(estimate.new)} ms)"
    if estimate.low is None or estimate.high is None:
        why = estimate.why or NO_INTERVALS
        return _without_interval(row, f"{head}; {why}; {floor_text}", **common)
    interval = _interval_text(estimate.low, estimate.high, limits)
    head = f"{head}, {interval}; {floor_text}; limit +{limit * 100:g}%"
    difference_low = estimate.difference_low or 0.0
    beyond_floor = change > floor
    if estimate.low > limit and beyond_floor and difference_low >= limits.min_difference_ms:
        regression = (
            f"{name} {label} {_percent(change)} ({_ms(estimate.base)} → {_ms(estimate.new)} ms,"
            f" {interval}), limit +{limit * 100:g}%" + _noise_floor_suffix(estimate)
        )
        return row(
            gated=True,
            regression=regression,
            verdict="regression",
            explanation=(
                f"{head}: regression — the whole interval lies above +{limit * 100:g}%, "
                f"the change is beyond the noise floor, and the interval's low end is "
                f"{_ms(difference_low)} ms ≥ {limits.min_difference_ms:g} ms slower"
            ),
            **common,
        )
    if estimate.high < -limit and math.log1p(change) < -math.log1p(floor):
        verdict, why = "improvement", f"the whole interval lies below -{limit * 100:g}%"
    elif estimate.low <= limit:
        verdict = "no significant change"
        why = f"the interval reaches below +{limit * 100:g}%"
    elif not beyond_floor:
        verdict = "no significant change"
        why = "the change is within the noise floor: runs of the same code moved that much"
    else:
        verdict = "no significant change"
        why = (
            f"the interval's low end is only {_ms(difference_low)} ms slower, under "
            f"{limits.min_difference_ms:g} ms"
        )
    return row(
        gated=True,
        verdict=verdict,
        explanation=f"{head}: {verdict} — {why}",
        **common,
    )


def _interval_fields(estimate: Estimate) -> dict[str, Any]:
    """What every gated row carries of its estimate: the interval and the noise floor."""
    return {"low": estimate.low, "high": estimate.high, "noise_floor": estimate.noise_floor}


def _without_interval(
    row: Callable[..., MetricComparison], explanation: str, **fields: Any
) -> MetricComparison:
    """A figure with no confidence interval to judge it by: shown and gated, but never
    called a regression."""
    return row(
        gated=True,
        note=NO_INTERVALS,
        verdict=NO_INTERVALS,
        explanation=f"{explanation}: not called a regression",
        **fields,
    )


def _interval_text(low: float, high: float, limits: _Limits) -> str:
    """E.g. ``95% CI +3.1% … +12.4%``."""
    return f"{limits.confidence * 100:g}% CI {_percent(low)} … {_percent(high)}"


def _noise_floor_suffix(estimate: Estimate) -> str:
    """``, noise floor 4.2%`` when the baseline runs measured one."""
    if estimate.noise_floor is None:
        return ""
    return f", noise floor {estimate.noise_floor * 100:.1f}%"


def _rate_row(name: str, stat: str, base: Side, new: Side, limits: _Limits) -> MetricComparison:
    """Each chat reply stream's tokens per second at ``stat`` (p10, p50), resampled from the
    per-interval rates like a latency percentile, in the other direction: a *lower* rate is
    the regression, called when the whole interval lies below ``-max_regression`` and the
    drop is beyond the noise floor (no absolute floor: a rate has no jitter in ms)."""
    metric, label = f"stream.stream_tokens_per_s.{stat}", f"tok/s {stat}"
    estimate = estimate_percentile(
        base, new, _quantile(stat), confidence=limits.confidence, resamples=limits.resamples
    )
    common = _interval_fields(estimate)

    def row(**fields: Any) -> MetricComparison:
        # Thousandths of a token per second read as µs: the estimate's "ms" is tokens/s.
        return MetricComparison(metric, label, "/s", estimate.base, estimate.new, **fields)

    streams, needed = min(base.calls, new.calls), REPLY_RATE_SAMPLES[stat]
    if streams < needed:
        note = f"not gated: {streams} streams < {needed}"
        return row(
            gated=False,
            note=note,
            verdict="not gated",
            explanation=f"{note}: with fewer, the percentile is the slowest stream alone",
            **common,
        )
    if estimate.base is None or estimate.new is None:
        return row(gated=False, note="no streams", verdict="not gated")
    change = estimate.change or 0.0
    limit = limits.max_regression
    floor = estimate.noise_floor or 0.0
    floor_text = _floor_text(estimate, limits, "/s")
    head = (
        f"change {_percent(change)} ({estimate.base:.1f} → {estimate.new:.1f} tokens/s per stream)"
    )
    if estimate.low is None or estimate.high is None:
        why = estimate.why or NO_INTERVALS
        return _without_interval(row, f"{head}; {why}; {floor_text}", **common)
    interval = _interval_text(estimate.low, estimate.high, limits)
    head = f"{head}, {interval}; {floor_text}; limit -{limit * 100:g}%"
    # The noise floor is measured on the log scale, the same either way.
    beyond_floor = math.log1p(change) < -math.log1p(floor)
    if estimate.high < -limit and beyond_floor:
        regression = (
            f"{name} tokens/s per reply stream {stat} {_percent(change)} "
            f"({estimate.base:.1f} → {estimate.new:.1f}/s, {interval}), limit -{limit * 100:g}%"
            + _noise_floor_suffix(estimate)
        )
        return row(
            gated=True,
            regression=regression,
            verdict="regression",
            explanation=(
                f"{head}: regression — the whole interval lies below -{limit * 100:g}% "
                "and the drop is beyond the noise floor"
            ),
            **common,
        )
    if estimate.low > limit and change > floor:
        verdict, why = "improvement", f"the whole interval lies above +{limit * 100:g}%"
    elif estimate.high >= -limit:
        verdict = "no significant change"
        why = f"the interval reaches above -{limit * 100:g}%"
    else:
        verdict = "no significant change"
        why = "the drop is within the noise floor: runs of the same code moved that much"
    return row(gated=True, verdict=verdict, explanation=f"{head}: {verdict} — {why}", **common)


def _rate_rows(
    name: str, base: Sequence[RunData], new: Sequence[RunData], limits: _Limits, *, resample: bool
) -> list[MetricComparison]:
    """Each chat reply stream's tokens per second (p10, p50), when every run streamed chat
    replies: resampled from their per-interval rates when every run logged them; else, as
    for runs recorded before lgbench logged them, the point figures of the most recent
    baseline run and the first new one, shown and not judged."""
    streams = [_op(run, name).stream for run in (*base, *new)]
    if not all(isinstance(stream, Stream) and stream.reply_tokens > 0 for stream in streams):
        return []
    tag = f"{name}.{REPLY_RATE_SERIES}"
    if resample and all(
        run.samples is not None and tag in run.samples.latency for run in (*base, *new)
    ):
        base_side = Side.of([_blocks(run, tag) for run in base])
        new_side = Side.of([_blocks(run, tag) for run in new])
        return [_rate_row(name, stat, base_side, new_side, limits) for stat in REPLY_RATE_STATS]
    base_stream, new_stream = _op(base[-1], name).stream, _op(new[0], name).stream
    assert isinstance(base_stream, Stream) and isinstance(new_stream, Stream)
    return reply_rate_rows(name, base_stream, new_stream, max_regression=None)


def _error_row(
    name: str,
    base: Sequence[RunData],
    new: Sequence[RunData],
    limits: _Limits,
    *,
    resample: bool,
) -> MetricComparison:
    base_calls = sum(_op(run, name).count for run in base)
    new_calls = sum(_op(run, name).count for run in new)
    base_errors = sum(_op(run, name).errors for run in base)
    new_errors = sum(_op(run, name).errors for run in new)
    base_rate = base_errors / base_calls if base_calls else None
    new_rate = new_errors / new_calls if new_calls else None
    shown: dict[str, Any] = {
        "base": None if base_rate is None else base_rate * 100,
        "new": None if new_rate is None else new_rate * 100,
    }

    def row(**fields: Any) -> MetricComparison:
        return MetricComparison("error_rate", "error rate", "%", **shown, **fields)

    if base_rate is None or new_rate is None:
        return row(gated=False, note="no calls")
    counts = f"{base_errors} of {base_calls} → {new_errors} of {new_calls}"
    estimate: Estimate | None = None
    if resample:
        outcomes = [run.samples.outcomes if run.samples else None for run in (*base, *new)]
        if all(found is not None and name in found for found in outcomes):
            estimate = estimate_error_rate(
                [_outcomes(run, name) for run in base],
                [_outcomes(run, name) for run in new],
                confidence=limits.confidence,
                resamples=limits.resamples,
            )
    head = f"change {(new_rate - base_rate) * 100:+.2f} points ({counts})"
    if estimate is None or estimate.low is None or estimate.high is None:
        why = estimate.why if estimate is not None and estimate.why else "no timeseries.jsonl"
        return _without_interval(
            row, f"{head}; {why}", noise_floor=None if estimate is None else estimate.noise_floor
        )
    threshold = max(limits.min_error_rate_increase, base_rate * limits.max_regression)
    floor = estimate.noise_floor or 0.0
    confidence = f"{limits.confidence * 100:g}% CI"
    interval = f"{confidence} {estimate.low * 100:+.2f} … {estimate.high * 100:+.2f} points"
    head = f"{head}, {interval}; {_floor_text(estimate, limits, '%')}"
    common: dict[str, Any] = {
        "low": estimate.low * 100,
        "high": estimate.high * 100,
        "noise_floor": None if estimate.noise_floor is None else estimate.noise_floor * 100,
    }
    # The epsilon: 0.1 points computed from counts must not miss a 0.1-point limit.
    change = new_rate - base_rate
    if estimate.low > 0 and estimate.low >= threshold - 1e-12 and change > floor:
        regression = (
            f"{name} error rate {base_rate:.2%} → {new_rate:.2%} ({counts}; {interval}), "
            f"limit +{limits.max_regression * 100:g}% and "
            f"+{limits.min_error_rate_increase * 100:g} points"
        )
        return row(
            gated=True,
            regression=regression,
            verdict="regression",
            explanation=(
                f"{head}: regression — the whole interval lies above "
                f"+{threshold * 100:.2f} points and the change beyond the noise floor"
            ),
            **common,
        )
    if estimate.high < -threshold and change < -floor:
        verdict, why = "improvement", f"the whole interval lies below -{threshold * 100:.2f} points"
    elif estimate.low < threshold - 1e-12 or estimate.low <= 0:
        verdict, why = (
            "no significant change",
            (f"the interval reaches below +{threshold * 100:.2f} points"),
        )
    else:
        verdict, why = "no significant change", "the change is within the noise floor"
    return row(
        gated=True,
        verdict=verdict,
        explanation=f"{head}: {verdict} — {why}",
        **common,
    )


def _op(run: RunData, name: str) -> Operation:
    """An operation's summary entry; an empty one when the run has none."""
    return run.summary.operations.get(name) or Operation()


def _outcomes(run: RunData, name: str) -> list[tuple[int, int]]:
    found = run.samples.outcomes if run.samples is not None else None
    return list((found or {}).get(name, []))


def _blocks(run: RunData, tag: str) -> list[dict[int, int]]:
    return list(run.samples.latency.get(tag, [])) if run.samples is not None else []


def _rate(runs: Sequence[RunData], name: str) -> float | None:
    calls = sum(_op(run, name).count for run in runs)
    seconds = 0.0
    for run in runs:
        duration = run.summary.duration_s
        if duration is None or duration <= 0:
            return None
        seconds += float(duration)
    return calls / seconds if seconds else None


def _point_row(
    name: str,
    metric: str,
    label: str,
    base: RunData,
    new: RunData,
    family: str,
    key: str,
) -> MetricComparison:
    """A figure read from the summaries alone (the most recent baseline run's)."""

    def value(run: RunData) -> float | None:
        figures = _figures(_op(run, name), family)
        found: object = None if figures is None else getattr(figures, key, None)
        if isinstance(found, bool) or not isinstance(found, int | float):
            return None
        return float(found) if math.isfinite(found) else None

    return MetricComparison(
        metric,
        label,
        "ms",
        value(base),
        value(new),
        gated=True,
        note=NO_INTERVALS,
        verdict=NO_INTERVALS,
        explanation=(
            f"{NO_INTERVALS}: no intervals.hlog beside a summary "
            "(point estimates shown, not judged)"
        ),
    )


def compare_runs(
    base: Sequence[RunData],
    new: Sequence[RunData],
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
    min_difference_ms: float = DEFAULT_MIN_DIFFERENCE_MS,
    min_error_rate_increase: float = DEFAULT_MIN_ERROR_RATE_INCREASE,
    percentiles: Sequence[str] = DEFAULT_PERCENTILES,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
) -> Comparison:
    """Compare the baseline's runs with the new runs, figure by figure (module docstring).

    Raises :class:`~lgbench.errors.UsageError` for no run on a side, a negative or
    non-finite limit, or a confidence outside (0, 1).
    """
    if not base or not new:
        raise UsageError("a comparison needs at least one baseline run and one new run")
    for label, number in (
        ("max_regression", max_regression),
        ("min_difference_ms", min_difference_ms),
        ("min_error_rate_increase", min_error_rate_increase),
    ):
        if not math.isfinite(number) or number < 0:
            raise UsageError(f"{label} must be a finite number of at least 0, not {number!r}")
    if not 0 < confidence < 1:
        raise UsageError(f"the confidence must be above 0% and below 100%, not {confidence!r}")
    limits = _Limits(
        max_regression,
        min_difference_ms,
        min_error_rate_increase,
        confidence,
        resamples,
        len(base),
    )
    everything = (*base, *new)
    names_each = [set(run.summary.operations) for run in everything]
    common_names = set.intersection(*names_each)
    base_names = set.union(*names_each[: len(base)])
    new_names = set.union(*names_each[len(base) :])
    resample = all(run.samples is not None for run in everything)
    warnings: list[str] = []
    if not resample:
        bare = [run.label for run in everything if run.samples is None]
        warnings.append(
            f"{NO_INTERVALS}: no intervals.hlog beside {', '.join(bare)}; "
            "figures are shown, no regression is called"
        )
    operations: list[OperationComparison] = []
    for name in sorted(common_names):
        rows: list[MetricComparison] = []
        families: list[tuple[str, str, str]] = [("latency_ms", "", name)]
        streams = [_op(run, name).stream for run in everything]
        if all(isinstance(stream, Stream) for stream in streams):
            families.append(("stream.ttfe_ms", "ttfe ", f"{name}.ttfe"))
        if all(isinstance(stream, Stream) and stream.reply_tokens > 0 for stream in streams):
            # Chat replies on both sides: time to first token and inter-token latency.
            families.append(("stream.ttft_ms", "ttft ", f"{name}.ttft"))
            families.append(("stream.itl_ms", "itl ", f"{name}.itl"))
        for family, prefix, tag in families:
            for percentile in percentiles:
                metric = f"{family}.{percentile}"
                label = f"{prefix}{percentile.replace('_', '.')}"
                if not resample:
                    rows.append(
                        _point_row(name, metric, label, base[-1], new[0], family, percentile)
                    )
                    continue
                base_side = Side.of([_blocks(run, tag) for run in base])
                new_side = Side.of([_blocks(run, tag) for run in new])
                rows.append(
                    _latency_row(name, metric, label, base_side, new_side, percentile, limits)
                )
        rows += _rate_rows(name, base, new, limits, resample=resample)
        rows.append(_error_row(name, base, new, limits, resample=resample))
        rows.append(
            MetricComparison(
                "rate_per_s",
                "throughput",
                "/s",
                _rate(base, name),
                _rate(new, name),
                gated=False,
                note="not gated",
                verdict="not gated",
            )
        )
        operations.append(
            OperationComparison(
                name,
                sum(_op(run, name).count for run in base),
                sum(_op(run, name).count for run in new),
                tuple(rows),
            )
        )
    differ: dict[str, str] = {}
    for run in base[1:]:
        for warning in context_warnings(base[0].summary, run.summary):
            # One line per kind ("not the same target"), not one per baseline run.
            differ.setdefault(warning.partition(":")[0], f"baseline runs differ: {warning}")
    warnings.extend(differ.values())
    warnings.extend(context_warnings(base[-1].summary, new[0].summary))
    return Comparison(
        base_path=", ".join(run.label for run in base),
        new_path=", ".join(run.label for run in new),
        max_regression=max_regression,
        min_difference_ms=min_difference_ms,
        min_error_rate_increase=min_error_rate_increase,
        percentiles=tuple(percentiles),
        operations=tuple(operations),
        only_in_base=tuple(sorted(base_names - common_names)),
        only_in_new=tuple(sorted(new_names - common_names)),
        warnings=tuple(dict.fromkeys(warnings)),
        confidence=confidence,
        base_runs=tuple(run.label for run in base),
        new_runs=tuple(run.label for run in new),
        statistical=resample,
    )


def compare_paths(
    base: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    new: str | os.PathLike[str],
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
    min_difference_ms: float = DEFAULT_MIN_DIFFERENCE_MS,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """:func:`compare_runs` on paths, as ``lgbench compare BASE... NEW`` reads them: each BASE
    a summary.json, a run folder or a folder of run folders (the baseline is all their runs);
    NEW a summary.json or a run folder.

    Raises :class:`~lgbench.errors.UsageError` for a missing or unreadable summary.
    """
    bases = [base] if isinstance(base, str | os.PathLike) else list(base)
    base_runs = [load_run(path) for given in bases for path in expand_runs(Path(given))]
    return compare_runs(
        base_runs,
        [load_run(Path(new))],
        max_regression=max_regression,
        min_difference_ms=min_difference_ms,
        confidence=confidence,
    )
