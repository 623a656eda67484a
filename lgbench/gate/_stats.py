"""The statistics of the baseline gate: bootstrap intervals for a change, and the noise floor.

What a run folder offers, and what is resampled:

- ``intervals.hlog``: one HdrHistogram per operation (and per derived series such as
  ``runs.stream.ttfe``) per second. A percentile is a property of the pooled histogram, so
  the unit of resampling is the **interval** (one second, or a few merged for long runs), not
  the single call: calls in the same second share the machine's state (a GC pause, a noisy
  neighbour, a queue that built up), and resampling them one by one would pretend they are
  independent and make the interval too narrow. This is a block bootstrap with one-second
  blocks.
- ``timeseries.jsonl``: per operation per second, calls and errors; the error rate's
  interval comes from the same resampling of seconds.

Each side (the baseline's runs, the new runs) is resampled **within each run** (a
stratified bootstrap: each run keeps its number of intervals), the figure is computed on the
pooled resampled histogram of each side, and the change ``new / base - 1`` (for the error
rate ``new - base``, in fractions) is taken per resample; the interval is the percentile
interval of those changes. ``resamples`` draws from a generator seeded by a constant, so the
same inputs always give the same verdict.

The resampling only sees the noise *inside* a run. Two runs of the same code also differ
as a whole (what else ran on the machine, the server's state, the scheduler): the
**noise floor** measures that from the baseline's own runs, when it has two or more: each
baseline run is compared with the others pooled (leave one out), and their spread gives a
prediction bound for one more run of the same code (:func:`noise_floor`). A regression's
change must lie beyond it too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any, Final, final

import numpy as np
import numpy.typing as npt

from lgbench.metrics import LatencyRecorder

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_RESAMPLES",
    "MIN_BLOCKS",
    "Estimate",
    "RunSamples",
    "Side",
    "estimate_error_rate",
    "estimate_percentile",
    "load_run_samples",
    "noise_floor",
    "percentile_of",
    "t_quantile",
]

#: The confidence of the intervals (two-sided).
DEFAULT_CONFIDENCE: Final = 0.95
#: Bootstrap resamples per figure.
DEFAULT_RESAMPLES: Final = 2000
#: Fewest intervals a side needs for its interval to mean anything: with one or two seconds
#: of data, resampling them shows no spread at all, which is not the same as no noise.
MIN_BLOCKS: Final = 4
#: Runs longer than this many intervals are merged into this many blocks (a soak's 28,800
#: seconds would make the resampling slow, and longer blocks keep slower drifts together).
MAX_BLOCKS: Final = 120
#: Above this many distinct values an operation's histograms are coarsened to 0.5 % bins,
#: far finer than any limit a gate uses, to keep the resampled matrices small.
MAX_VALUES: Final = 4096
_SEED: Final = 20_240_915

Block = dict[int, int]
"""One interval's histogram: value (µs, HdrHistogram's bucket edge) → count."""
FloatArray = npt.NDArray[np.float64]


@final
@dataclass(slots=True)
class RunSamples:
    """What one run folder recorded per interval.

    ``latency``: tag (operation, or ``<operation>.ttfe``) → the histogram of each block, in
    time order. ``outcomes``: operation → ``(calls, errors)`` of each block, in time order,
    or None when the run has no ``timeseries.jsonl``.
    """

    path: Path
    latency: dict[str, list[Block]] = field(default_factory=dict)
    outcomes: dict[str, list[tuple[int, int]]] | None = None


def _hlog_blocks(path: Path) -> dict[str, list[tuple[float, Block]]]:
    found: dict[str, list[tuple[float, Block]]] = {}
    with path.open(encoding="utf-8", errors="replace") as file:
        for raw in file:
            if not raw.startswith("Tag="):
                continue
            tag, _, rest = raw[4:].rstrip("\r\n").partition(",")
            parts = rest.split(",")
            if len(parts) != 4:
                continue  # a line cut by a killed run
            try:
                start_s = float(parts[0])
                pairs = LatencyRecorder.blob_value_counts(parts[3].strip())
            except Exception:  # a damaged line: skipped, as the report does
                continue
            block: Block = {}
            for high, count in pairs:
                block[high] = block.get(high, 0) + count
            if block:  # a quiet second holds nothing to resample
                found.setdefault(tag, []).append((start_s, block))
    return found


def _merge_blocks(blocks: Sequence[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """At most ``limit`` blocks, each the sum of consecutive ones (time order kept)."""
    if len(blocks) <= limit:
        return list(blocks)
    size = math.ceil(len(blocks) / limit)
    merged: list[Block] = []
    for start in range(0, len(blocks), size):
        total: Block = {}
        for block in blocks[start : start + size]:
            for value, count in block.items():
                total[value] = total.get(value, 0) + count
        merged.append(total)
    return merged


def _timeseries(path: Path) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    with path.open(encoding="utf-8", errors="replace") as file:
        for raw in file:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            operations = line.get("operations") if isinstance(line, dict) else None
            if not isinstance(operations, dict):
                continue
            for name, outcome in operations.items():
                if isinstance(outcome, dict):
                    calls, errors = outcome.get("count"), outcome.get("errors")
                    if isinstance(calls, int) and isinstance(errors, int) and calls > 0:
                        found.setdefault(name, []).append((calls, errors))
    return found


def load_run_samples(run_dir: Path) -> RunSamples | None:
    """The per-interval data of a run folder; None when it has no ``intervals.hlog``."""
    hlog = run_dir / "intervals.hlog"
    if not hlog.is_file():
        return None
    samples = RunSamples(run_dir)
    try:
        for tag, timed in _hlog_blocks(hlog).items():
            timed.sort(key=lambda item: item[0])
            samples.latency[tag] = _merge_blocks([block for _, block in timed])
        series = run_dir / "timeseries.jsonl"
        if series.is_file():
            samples.outcomes = {}
            for name, blocks in _timeseries(series).items():
                size = max(1, math.ceil(len(blocks) / MAX_BLOCKS))
                samples.outcomes[name] = [
                    (
                        sum(c for c, _ in blocks[i : i + size]),
                        sum(e for _, e in blocks[i : i + size]),
                    )
                    for i in range(0, len(blocks), size)
                ]
    except OSError:
        return None
    return samples


# --- percentiles ----------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class Side:
    """One side's blocks for one figure: a list per run, each a list of blocks."""

    runs: tuple[tuple[Block, ...], ...]

    @property
    def blocks(self) -> int:
        return sum(len(run) for run in self.runs)

    @property
    def calls(self) -> int:
        return sum(sum(block.values()) for run in self.runs for block in run)

    @classmethod
    def of(cls, runs: Sequence[Sequence[Block]]) -> Side:
        return cls(tuple(tuple(run) for run in runs))


@final
@dataclass(frozen=True, slots=True)
class Estimate:
    """A change between two sides, with its interval, and the noise floor when measured.

    For a percentile: ``base`` and ``new`` in ms, ``change`` and ``low``/``high`` relative
    (0.1 = +10 %), ``difference_low`` in ms (the interval's lower end of ``new - base``).
    For the error rate: ``base`` and ``new`` as fractions, and ``change``, ``low``, ``high``
    and ``difference_low`` as differences of fractions. ``noise_floor``: how far one more
    baseline run may land from the baseline (:func:`noise_floor`; same unit as ``change``),
    None with one baseline run.
    ``low``/``high`` are None when there is not enough data for an interval (``why`` says
    why).
    """

    base: float | None
    new: float | None
    change: float | None
    low: float | None
    high: float | None
    difference_low: float | None
    noise_floor: float | None
    why: str | None = None


def percentile_of(block: Mapping[int, int], percentile: float) -> float | None:
    """HdrHistogram's value at ``percentile`` (0-100) of a histogram, in µs; None when empty."""
    if not block:
        return None
    values = np.array(sorted(block), dtype=np.float64)
    counts = np.array([block[int(v)] for v in values], dtype=np.float64)
    result = _percentiles(counts[None, :], values, percentile)[0]
    return None if math.isnan(result) else float(result)


def _percentiles(matrix: FloatArray, values: FloatArray, percentile: float) -> FloatArray:
    """Each row's value at ``percentile``, as HdrHistogram picks it (NaN for an empty row)."""
    cumulative = np.cumsum(matrix, axis=1)
    total = cumulative[:, -1]
    target = np.maximum(np.floor(percentile * total / 100 + 0.5), 1)
    index = np.argmax(cumulative >= target[:, None], axis=1)
    result: FloatArray = values[index].astype(np.float64)
    result[total <= 0] = np.nan
    return result


def _coarsen(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Distinct bins for ``values`` (sorted) and each value's bin."""
    if len(values) <= MAX_VALUES:
        return values, np.arange(len(values), dtype=np.int64)
    keys = np.floor(np.log(np.maximum(values, 1.0)) / math.log(1.005)).astype(np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    # each bin is shown as its highest value, as HdrHistogram shows its buckets
    top = np.zeros(len(unique), dtype=np.float64)
    np.maximum.at(top, inverse, values)
    return top, inverse.astype(np.int64)


def _matrix(
    runs: Sequence[Sequence[Block]], index: Mapping[int, int], width: int
) -> tuple[FloatArray, list[int]]:
    """Blocks as rows of counts over the shared bins, and how many blocks each run has."""
    rows = [block for run in runs for block in run]
    matrix = np.zeros((len(rows), width), dtype=np.float64)
    for row, block in enumerate(rows):
        for value, count in block.items():
            matrix[row, index[value]] += count
    return matrix, [len(run) for run in runs]


def _weights(sizes: Sequence[int], resamples: int, rng: np.random.Generator) -> FloatArray:
    """Per resample, how often each block is drawn: within each run, as many as it has."""
    parts = [
        rng.multinomial(size, np.full(size, 1.0 / size), size=resamples).astype(np.float64)
        for size in sizes
        if size
    ]
    return np.concatenate(parts, axis=1) if parts else np.zeros((resamples, 0))


def _interval(samples: FloatArray, confidence: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def t_quantile(probability: float, df: int) -> float:
    """Student's t quantile: exact for 1 and 2 degrees of freedom, else the Cornish-Fisher
    expansion around the normal quantile (within 0.3 % of the exact value from 3 on)."""
    if df == 1:
        return math.tan(math.pi * (probability - 0.5))
    if df == 2:
        return (2 * probability - 1) / math.sqrt(2 * probability * (1 - probability))
    z = NormalDist().inv_cdf(probability)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
    )


def noise_floor(deviations: Sequence[float], confidence: float) -> float | None:
    """How far one more run of the same code may land from the baseline's pooled figure.

    ``deviations``: each baseline run's figure against the other runs pooled (leave one
    out; in log space for percentiles). Under no change they are centred on 0 with the
    run-to-run spread ``s``; a leave-one-out deviation has variance ``s² K / (K - 1)`` and a
    new run against all ``K`` pooled has ``s² (K + 1) / K``, so the bound at ``confidence``
    (one-sided) is ``t(K - 1) · rms(deviations) · √(K² - 1) / K``: a prediction interval,
    which is wide when the baseline has few runs (with 2 runs, t is 12.7 at 95 %).
    """
    k = len(deviations)
    if k < 2:
        return None
    rms = math.sqrt(sum(d * d for d in deviations) / k)
    return t_quantile((1 + confidence) / 2, k - 1) * rms * math.sqrt(k * k - 1) / k


def _leave_one_out(per_run: Sequence[FloatArray], statistic: Any) -> list[float]:
    """``statistic(one run, the others pooled)`` for each baseline run that has data."""
    if len(per_run) < 2:
        return []
    changes: list[float] = []
    for i, run in enumerate(per_run):
        others = sum((r for j, r in enumerate(per_run) if j != i), np.zeros_like(run))
        value = statistic(run, others)
        if value is not None and math.isfinite(value):
            changes.append(value)
    return changes


def estimate_percentile(
    base: Side,
    new: Side,
    percentile: float,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
) -> Estimate:
    """The change of ``percentile`` (0-100) from ``base`` to ``new``, with its interval."""
    values_set = {v for side in (base, new) for run in side.runs for b in run for v in b}
    values_sorted = np.array(sorted(values_set), dtype=np.float64)
    bins, inverse = _coarsen(values_sorted)
    index = {int(v): int(i) for v, i in zip(values_sorted, inverse, strict=True)}
    base_m, base_sizes = _matrix(base.runs, index, len(bins))
    new_m, new_sizes = _matrix(new.runs, index, len(bins))
    base_value = _percentiles(base_m.sum(axis=0)[None, :], bins, percentile)[0]
    new_value = _percentiles(new_m.sum(axis=0)[None, :], bins, percentile)[0]
    if math.isnan(base_value) or math.isnan(new_value):
        return Estimate(None, None, None, None, None, None, None, "no calls on one side")
    base_ms, new_ms = base_value / 1000, new_value / 1000
    change = new_value / max(base_value, 1.0) - 1

    def loo(run: FloatArray, others: FloatArray) -> float | None:
        one = _percentiles(run[None, :], bins, percentile)[0]
        rest = _percentiles(others[None, :], bins, percentile)[0]
        if math.isnan(one) or math.isnan(rest):
            return None
        return math.log(max(one, 1.0) / max(rest, 1.0))

    per_run: list[FloatArray] = []
    start = 0
    for size in base_sizes:
        per_run.append(base_m[start : start + size].sum(axis=0))
        start += size
    floor_log = noise_floor(_leave_one_out(per_run, loo), confidence)
    floor = None if floor_log is None else math.expm1(floor_log)
    if base.blocks < MIN_BLOCKS or new.blocks < MIN_BLOCKS:
        why = (
            f"not enough data for a confidence interval: {min(base.blocks, new.blocks)} "
            f"interval(s) of data on one side, {MIN_BLOCKS} needed"
        )
        return Estimate(base_ms, new_ms, change, None, None, None, floor, why)
    rng = np.random.default_rng(_SEED)
    base_draws = _weights(base_sizes, resamples, rng) @ base_m
    new_draws = _weights(new_sizes, resamples, rng) @ new_m
    base_q = np.maximum(_percentiles(base_draws, bins, percentile), 1.0)
    new_q = _percentiles(new_draws, bins, percentile)
    low, high = _interval(np.log(np.maximum(new_q, 1.0) / base_q), confidence)
    difference_low, _ = _interval((new_q - base_q) / 1000, confidence)
    return Estimate(
        base_ms, new_ms, change, math.expm1(low), math.expm1(high), difference_low, floor
    )


def estimate_error_rate(
    base: Sequence[Sequence[tuple[int, int]]],
    new: Sequence[Sequence[tuple[int, int]]],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
) -> Estimate:
    """The change of the error rate (a difference of fractions), from per-interval counts."""

    def arrays(runs: Sequence[Sequence[tuple[int, int]]]) -> tuple[FloatArray, list[int]]:
        rows = [pair for run in runs for pair in run]
        return np.array(rows, dtype=np.float64).reshape(-1, 2), [len(run) for run in runs]

    base_m, base_sizes = arrays(base)
    new_m, new_sizes = arrays(new)
    base_total, new_total = base_m.sum(axis=0), new_m.sum(axis=0)
    if base_total[0] <= 0 or new_total[0] <= 0:
        return Estimate(None, None, None, None, None, None, None, "no calls on one side")
    base_rate = float(base_total[1] / base_total[0])
    new_rate = float(new_total[1] / new_total[0])
    per_run: list[FloatArray] = []
    start = 0
    for size in base_sizes:
        per_run.append(base_m[start : start + size].sum(axis=0))
        start += size

    def loo(run: FloatArray, others: FloatArray) -> float | None:
        if run[0] <= 0 or others[0] <= 0:
            return None
        return float(run[1] / run[0] - others[1] / others[0])

    floor = noise_floor(_leave_one_out(per_run, loo), confidence)
    change = new_rate - base_rate
    blocks = min(sum(base_sizes), sum(new_sizes))
    if blocks < MIN_BLOCKS:
        why = (
            f"not enough data for a confidence interval: {blocks} interval(s) of data on "
            f"one side, {MIN_BLOCKS} needed"
        )
        return Estimate(base_rate, new_rate, change, None, None, None, floor, why)
    if base_total[1] == 0 and new_total[1] == 0:
        return Estimate(base_rate, new_rate, 0.0, 0.0, 0.0, 0.0, floor)
    rng = np.random.default_rng(_SEED)
    base_draws = _weights(base_sizes, resamples, rng) @ base_m
    new_draws = _weights(new_sizes, resamples, rng) @ new_m
    with np.errstate(invalid="ignore", divide="ignore"):
        differences = new_draws[:, 1] / new_draws[:, 0] - base_draws[:, 1] / base_draws[:, 0]
    low, high = _interval(differences, confidence)
    return Estimate(base_rate, new_rate, change, low, high, low, floor)


def iter_runs(paths: Sequence[Path]) -> Iterator[RunSamples | None]:
    """:func:`load_run_samples` of each path (a run folder, or the folder of a summary.json)."""
    for path in paths:
        folder = path if path.is_dir() else path.parent
        yield load_run_samples(folder)
