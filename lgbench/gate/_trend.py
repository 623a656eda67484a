"""``lgbench trend``: a series of runs in time order, and the runs where a figure changed.

A nightly job keeps its run folders (or their summary.json); one run against the previous
one is a coin toss on a noisy machine, but a series shows where the level moved. Each
figure (per operation: p50, p90, p99 latency, p50 time to first event, the error rate) is a
series of one value per run, in the order the runs started, and **E-divisive means**
(Matteson & James, 2014 — what MongoDB's performance CI and DataStax's Hunter use) finds
its change points:

1. for each split of the series (each side at least ``min_size`` runs), the energy
   statistic compares the mean distance *between* the two sides with the mean distances
   *within* each (``|x - y|`` on log values for latency, so a +20 % shift weighs the same at
   5 ms as at 500 ms);
2. the best split is significant when fewer than ``alpha`` (1 %) of random reorderings of
   the same values (a permutation test, 999 of them, seeded: the same series always gives
   the same answer) reach its statistic;
3. a significant split is kept and each side is searched again (binary segmentation), until
   no split is significant.

No maintained small package fits: ``signal-processing-algorithms`` (MongoDB's) pins numpy
below 2 and pulls gevent and structlog; Apache Otava (Hunter) is a whole tool with its own
configuration and storage; ``ruptures`` has no significance test (it needs a penalty tuned
per series). The method is a few dozen lines on numpy, which the gate needs anyway.

A change point where a figure got worse by more than ``max_regression`` (the mean after
against the mean before) is a regression (:attr:`TrendResult.passed` false): ``lgbench
trend`` exits 4, as a gate does.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, final

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench.errors import UsageError
from lgbench.gate._compare import DEFAULT_MAX_REGRESSION
from lgbench.gate._load import load_summary, summary_path
from lgbench.gate._runs import expand_runs
from lgbench.results import Operation, Stream, Summary

__all__ = ["ChangePoint", "TrendResult", "find_change_points", "render_trend", "trend_of_runs"]

#: A series has a dozen operations by five figures: at 0.05 about three of those sixty would
#: show a change point by chance alone, at 0.01 about one in two trends.
DEFAULT_ALPHA: Final = 0.01
DEFAULT_PERMUTATIONS: Final = 999
DEFAULT_MIN_SIZE: Final = 3
_SEED: Final = 15_052_014
#: (label, the figure of an operation's summary, log scale)
_FIGURES: Final[tuple[tuple[str, Callable[[Operation], float | None], bool], ...]] = (
    ("p50", lambda op: op.latency_ms.p50, True),
    ("p90", lambda op: op.latency_ms.p90, True),
    ("p99", lambda op: op.latency_ms.p99, True),
    (
        "ttfe p50",
        lambda op: op.stream.ttfe_ms.p50 if isinstance(op.stream, Stream) else None,
        True,
    ),
)

FloatArray = npt.NDArray[np.float64]


def _energy(distances: FloatArray, min_size: int) -> tuple[int, float]:
    """The best split of a series and its energy statistic, from its distance matrix."""
    n = len(distances)
    # 2-D prefix sums: the sum of any rectangle of the distance matrix in O(1), for every
    # split at once.
    prefix = np.zeros((n + 1, n + 1))
    prefix[1:, 1:] = distances.cumsum(axis=0).cumsum(axis=1)
    taus = np.arange(min_size, n - min_size + 1)
    if not len(taus):
        return -1, -math.inf
    left = taus.astype(np.float64)
    right = n - left
    corner = prefix[taus, taus]
    between = (prefix[taus, n] - corner) / (left * right)
    within_left = corner / np.maximum(left * (left - 1), 1)
    within_right = (prefix[n, n] - prefix[taus, n] - prefix[n, taus] + corner) / np.maximum(
        right * (right - 1), 1
    )
    statistic = left * right / n * (2 * between - within_left - within_right)
    best = int(np.argmax(statistic))
    return int(taus[best]), float(statistic[best])


def _split(
    values: FloatArray,
    start: int,
    *,
    alpha: float,
    permutations: int,
    min_size: int,
    rng: np.random.Generator,
    found: list[tuple[int, float]],
) -> None:
    n = len(values)
    if n < 2 * min_size:
        return
    distances = np.abs(values[:, None] - values[None, :])
    tau, statistic = _energy(distances, min_size)
    if tau < 0 or statistic <= 0:
        return
    reached = 0
    for _ in range(permutations):
        order = rng.permutation(n)
        if _energy(distances[np.ix_(order, order)], min_size)[1] >= statistic:
            reached += 1
    p_value = (reached + 1) / (permutations + 1)
    if p_value >= alpha:
        return
    found.append((start + tau, p_value))
    for offset, part in ((start, values[:tau]), (start + tau, values[tau:])):
        _split(
            part,
            offset,
            alpha=alpha,
            permutations=permutations,
            min_size=min_size,
            rng=rng,
            found=found,
        )


def find_change_points(
    values: Sequence[float] | FloatArray,
    *,
    alpha: float = DEFAULT_ALPHA,
    permutations: int = DEFAULT_PERMUTATIONS,
    min_size: int = DEFAULT_MIN_SIZE,
) -> list[tuple[int, float]]:
    """E-divisive means: ``(index, p-value)`` of each change point, in index order.

    ``index`` is the first value of the new level. A series shorter than ``2 * min_size``
    has none. Deterministic: the permutations come from a fixed seed.
    """
    if min_size < 2:
        raise UsageError(f"min_size must be at least 2, not {min_size}")
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("every value of the series must be a finite number")
    found: list[tuple[int, float]] = []
    _split(
        array,
        0,
        alpha=alpha,
        permutations=permutations,
        min_size=min_size,
        rng=np.random.default_rng(_SEED),
        found=found,
    )
    return sorted(found)


@final
@dataclass(frozen=True, slots=True)
class ChangePoint:
    """A figure that changed level at run ``index`` (``run``: its path)."""

    operation: str
    figure: str
    index: int
    run: str
    before: float
    after: float
    p_value: float
    regression: bool

    @property
    def change(self) -> float | None:
        return None if self.before == 0 else self.after / self.before - 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "figure": self.figure,
            "index": self.index,
            "run": self.run,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "p_value": self.p_value,
            "regression": self.regression,
        }


@final
@dataclass(frozen=True, slots=True)
class TrendResult:
    runs: tuple[str, ...]
    change_points: tuple[ChangePoint, ...]
    figures: int
    started: tuple[str, ...] = ()
    """Each run's ``started_at`` ("" when unknown), in the order of ``runs``."""

    @property
    def passed(self) -> bool:
        return not any(point.regression for point in self.change_points)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _series(summaries: Sequence[Summary]) -> dict[tuple[str, str], list[float | None]]:
    names = sorted({name for s in summaries for name in s.operations})
    found: dict[tuple[str, str], list[float | None]] = {}
    for name in names:
        ops = [s.operations.get(name) for s in summaries]
        for label, figure, _ in _FIGURES:
            found[(name, label)] = [None if op is None else _finite(figure(op)) for op in ops]
        found[(name, "error rate")] = [
            op.errors / op.count if op is not None and op.count else None for op in ops
        ]
    return found


def analyse_trend(
    summaries: Sequence[Summary | Mapping[str, Any]],
    labels: Sequence[str],
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
    alpha: float = DEFAULT_ALPHA,
    min_size: int = DEFAULT_MIN_SIZE,
    permutations: int = DEFAULT_PERMUTATIONS,
) -> TrendResult:
    """Change points of every figure of a series of summaries (already in time order)."""
    points: list[ChangePoint] = []
    figures = 0
    log_scale = {label: log for label, _, log in _FIGURES}
    runs = [Summary.of(summary) for summary in summaries]
    for (name, figure), raw in _series(runs).items():
        present = [(i, v) for i, v in enumerate(raw) if v is not None]
        if len(present) < 2 * min_size:
            continue
        figures += 1
        indices = [i for i, _ in present]
        values = np.array([v for _, v in present], dtype=np.float64)
        scaled = np.log(np.maximum(values, 1e-3)) if log_scale.get(figure) else values
        if np.ptp(scaled) == 0:
            continue
        found = find_change_points(
            scaled, alpha=alpha, permutations=permutations, min_size=min_size
        )
        bounds = [0, *(index for index, _ in found), len(values)]
        for k, (index, p_value) in enumerate(found):
            before = float(values[bounds[k] : index].mean())
            after = float(values[index : bounds[k + 2]].mean())
            if figure == "error rate":
                worse = after - before > max(0.001, before * max_regression)
            else:
                worse = after > before * (1 + max_regression)
            points.append(
                ChangePoint(
                    name,
                    figure,
                    indices[index],
                    labels[indices[index]],
                    before,
                    after,
                    p_value,
                    worse,
                )
            )
    return TrendResult(tuple(labels), tuple(points), figures)


def _run_name(file: Path) -> str:
    return file.parent.name if file.name == "summary.json" and file.parent.name else str(file)


def _started(summary: Summary) -> str:
    return summary.started_at or ""


def trend_of_runs(
    paths: Sequence[str | os.PathLike[str]],
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
    alpha: float = DEFAULT_ALPHA,
    min_size: int = DEFAULT_MIN_SIZE,
) -> TrendResult:
    """The change points of a series of runs: run folders, summary.json files or folders of
    runs, sorted by their ``started_at`` (what ``lgbench trend RUN…`` shows).

    Raises :class:`~lgbench.errors.UsageError` for fewer than ``2 * min_size`` runs or a
    missing or unreadable summary.
    """
    runs = [path for given in paths for path in expand_runs(Path(given))]
    # A run is named by its folder (a nightly job's folders carry the date), not its path.
    loaded = [
        (
            Summary.of(load_summary(path), source=str(summary_path(path))),
            _run_name(summary_path(path)),
        )
        for path in runs
    ]
    loaded.sort(key=lambda item: _started(item[0]))
    if len(loaded) < 2 * min_size:
        raise UsageError(
            f"lgbench trend needs at least {2 * min_size} runs to find a change "
            f"({min_size} on each side of it), got {len(loaded)}"
        )
    result = analyse_trend(
        [s for s, _ in loaded],
        [label for _, label in loaded],
        max_regression=max_regression,
        alpha=alpha,
        min_size=min_size,
    )
    return dataclasses.replace(result, started=tuple(_started(s) for s, _ in loaded))


def render_trend(
    result: TrendResult,
    console: Console,
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
    alpha: float = DEFAULT_ALPHA,
    min_size: int = DEFAULT_MIN_SIZE,
) -> None:
    """Print a trend (:func:`trend_of_runs`): its runs, each change point, the verdict."""
    first = result.started[0] if result.started else ""
    last = result.started[-1] if result.started else ""
    console.print(
        f"[bold]trend[/]: {len(result.runs)} runs from {escape(first or '?')} "
        f"to {escape(last or '?')}, {result.figures} figures "
        f"(E-divisive means, p < {alpha:g}, at least {min_size} runs per level)",
        soft_wrap=True,
    )
    if not result.change_points:
        console.print("trend: [bold green]no change point[/] — every figure held its level")
        return
    table = Table(box=None, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for column in ("operation", "figure", "changed at run", "before", "after", "change", "p"):
        table.add_column(
            column,
            justify="left" if column in ("operation", "figure", "changed at run") else "right",
            no_wrap=column != "changed at run",
        )
    for point in sorted(result.change_points, key=lambda p: (p.index, p.operation, p.figure)):
        unit = "%" if point.figure == "error rate" else " ms"
        scale = 100.0 if point.figure == "error rate" else 1.0
        change = point.change
        text = f"{change:+.1%}" if change is not None else "-"
        if point.regression:
            text = f"[bold red]{text}[/]"
        elif change is not None and change < 0:
            text = f"[green]{text}[/]"
        table.add_row(
            escape(point.operation),
            escape(point.figure),
            f"#{point.index + 1} {escape(point.run)}",
            f"{point.before * scale:.2f}{unit}",
            f"{point.after * scale:.2f}{unit}",
            text,
            f"{point.p_value:.3f}",
        )
    console.print(table)
    worse = [p for p in result.change_points if p.regression]
    if not worse:
        console.print("trend: [bold green]passed[/] — no change point made a figure worse")
        return
    console.print(
        f"trend: [bold red]FAILED[/] — {len(worse)} change point(s) made a figure worse "
        f"by more than +{max_regression * 100:g}%"
    )
