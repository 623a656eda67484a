"""Drift: whether an operation's latency and error rate trend up or down over a long run.

:class:`DriftTracker` folds the 1 s interval snapshots into fixed windows (60 s by default)
aligned to the run's start: window ``k`` covers ``[k * window_s, (k + 1) * window_s)``, and an
interval belongs to the window holding its midpoint. Only the open window keeps a histogram
(one per operation seen in it); a closed window leaves a :class:`WindowPoint` of five numbers.
So an 8-hour run at 60 s windows retains 480 small points per operation, not 28,800 histograms.

The trend of each series is the Theil-Sen slope (the median of the slopes between every pair
of windows), which ignores a minority of outlier windows — one GC pause or one failover does
not make a trend. ``relative_per_h`` divides that slope by the series' median, so "p99 grows
5 %/h" reads the same for a 20 ms and a 2 s operation. ``first`` and ``last`` are the medians
of the first and last :data:`EDGE_WINDOWS` windows (fewer when the run has fewer than six),
for the same reason. A series with fewer than :data:`MIN_WINDOWS` windows has no figures
(``None``): two points make a line, not a trend.

Everything here is pure arithmetic on numbers handed in, so it is tested with tables and usable
offline: :func:`drift_from_points` gives the same figures from the points alone.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

from lgbench.metrics import IntervalSnapshot, LatencyRecorder

__all__ = [
    "EDGE_WINDOWS",
    "MAX_PAIRS",
    "MIN_WINDOWS",
    "DriftTracker",
    "WindowPoint",
    "drift_from_points",
    "theil_sen_slope",
]

MIN_WINDOWS: Final = 3
"""Windows a series needs before it gets drift figures."""

EDGE_WINDOWS: Final = 3
"""Windows whose median gives ``first`` / ``last`` (``min(3, windows // 2)`` for short runs)."""

MAX_PAIRS: Final = 20_000
"""Pairs the slope is the median of: all of them up to 200 windows, a fixed sample beyond."""

_SECONDS_PER_HOUR: Final = 3600.0


@final
@dataclass(frozen=True, slots=True)
class WindowPoint:
    """One closed window of one operation.

    ``end_s`` is the end of the last interval merged into it (seconds since the run's start),
    ``p50_ms`` / ``p99_ms`` are HDR bucket edges (``None`` when no operation of the window got
    an answer to time, e.g. all transport errors), ``error_rate`` is errors / count.
    """

    end_s: float
    p50_ms: float | None
    p99_ms: float | None
    error_rate: float
    count: int

    def to_list(self) -> list[float | int | None]:
        """``[end_s, p50_ms, p99_ms, error_rate, count]``: one entry of ``points``."""
        return [self.end_s, self.p50_ms, self.p99_ms, self.error_rate, self.count]


def theil_sen_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The median of ``(ys[j] - ys[i]) / (xs[j] - xs[i])`` over pairs with distinct ``xs``.

    Exact up to :data:`MAX_PAIRS` pairs (200 points); beyond, the median of a sample of
    :data:`MAX_PAIRS` pairs drawn by a generator seeded with the number of points, so the same
    series always gives the same slope and the cost stays flat however long the run.
    ``None`` for fewer than two points with distinct ``xs``.
    """
    n = len(xs)
    if n != len(ys):
        raise ValueError(f"{n} x values but {len(ys)} y values")
    slopes: list[float] = []
    if n * (n - 1) // 2 <= MAX_PAIRS:
        for i in range(n - 1):
            x_i, y_i = xs[i], ys[i]
            for j in range(i + 1, n):
                dx = xs[j] - x_i
                if dx:
                    slopes.append((ys[j] - y_i) / dx)
    else:
        draw = random.Random(n).randrange
        for _ in range(MAX_PAIRS):
            i = draw(n)
            j = draw(n - 1)
            if j >= i:
                j += 1
            dx = xs[j] - xs[i]
            if dx:
                slopes.append((ys[j] - ys[i]) / dx)
    return statistics.median(slopes) if slopes else None


def _edge_count(n: int) -> int:
    return max(1, min(EDGE_WINDOWS, n // 2))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _latency_drift(xs: list[float], ys: list[float]) -> dict[str, float | None] | None:
    if len(ys) < MIN_WINDOWS:
        return None
    slope_per_s = theil_sen_slope(xs, ys)
    if slope_per_s is None:
        return None
    slope_per_h = slope_per_s * _SECONDS_PER_HOUR
    k = _edge_count(len(ys))
    first = statistics.median(ys[:k])
    last = statistics.median(ys[-k:])
    return {
        "slope_ms_per_h": slope_per_h,
        "relative_per_h": _ratio(slope_per_h, statistics.median(ys)),
        "first_ms": first,
        "last_ms": last,
        "first_last_ratio": _ratio(last, first),
    }


def _error_drift(xs: list[float], ys: list[float]) -> dict[str, float] | None:
    if len(ys) < MIN_WINDOWS:
        return None
    slope_per_s = theil_sen_slope(xs, ys)
    if slope_per_s is None:
        return None
    k = _edge_count(len(ys))
    return {
        "slope_per_h": slope_per_s * _SECONDS_PER_HOUR,
        "first": statistics.median(ys[:k]),
        "last": statistics.median(ys[-k:]),
    }


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


_Row = tuple[float, float | None, float | None, float | None, int]


def _row(point: Sequence[Any]) -> _Row:
    if len(point) != 5:
        raise ValueError(f"a point is [end_s, p50_ms, p99_ms, error_rate, count], not {point!r}")
    end_s = float(point[0])
    if not math.isfinite(end_s):
        raise ValueError(f"a point's end_s must be finite, not {point[0]!r}")
    return (end_s, _finite(point[1]), _finite(point[2]), _finite(point[3]), int(point[4]))


def drift_from_points(points: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """One operation's drift figures from its ``[end_s, p50_ms, p99_ms, error_rate, count]``.

    Returns ``{"windows", "p50", "p99", "error_rate", "points"}`` as in
    :meth:`DriftTracker.to_dict`. Points may come in any order (they are sorted by ``end_s``);
    ``None`` latencies and points with a count of 0 are left out of the series they lack.
    """
    rows = sorted((_row(point) for point in points), key=lambda row: row[0])
    p50_xs: list[float] = []
    p50_ys: list[float] = []
    p99_xs: list[float] = []
    p99_ys: list[float] = []
    error_xs: list[float] = []
    error_ys: list[float] = []
    for end_s, p50, p99, error_rate, count in rows:
        if p50 is not None:
            p50_xs.append(end_s)
            p50_ys.append(p50)
        if p99 is not None:
            p99_xs.append(end_s)
            p99_ys.append(p99)
        if error_rate is not None and count > 0:
            error_xs.append(end_s)
            error_ys.append(error_rate)
    return {
        "windows": len(rows),
        "p50": _latency_drift(p50_xs, p50_ys),
        "p99": _latency_drift(p99_xs, p99_ys),
        "error_rate": _error_drift(error_xs, error_ys),
        "points": [list(row) for row in rows],
    }


@final
class _Window:
    """What one operation recorded in the open window."""

    __slots__ = ("count", "errors", "latency")

    def __init__(self) -> None:
        self.latency = LatencyRecorder()
        self.count = 0
        self.errors = 0

    def point(self, end_s: float) -> WindowPoint:
        values = self.latency.percentiles([50.0, 99.0])
        p50 = values.get(50.0)
        p99 = values.get(99.0)
        return WindowPoint(
            end_s=end_s,
            p50_ms=None if p50 is None else p50 / 1000,
            p99_ms=None if p99 is None else p99 / 1000,
            error_rate=self.errors / self.count if self.count else 0.0,
            count=self.count,
        )


@final
class DriftTracker:
    """Per operation, a series of fixed windows of a run and their drift; see the module doc.

    Call :meth:`observe` with every interval snapshot, in order. Memory: one histogram per
    operation active in the open window (:attr:`retained_histograms`) plus five numbers per
    closed window and operation.
    """

    __slots__ = ("_end_s", "_index", "_latest", "_open", "_points", "window_s")

    def __init__(self, window_s: float = 60.0) -> None:
        if not (math.isfinite(window_s) and window_s > 0):
            raise ValueError(f"window_s must be a positive number of seconds, not {window_s!r}")
        self.window_s = float(window_s)
        self._index: int | None = None
        self._end_s = 0.0
        self._open: dict[str, _Window] = {}
        self._points: dict[str, list[WindowPoint]] = {}
        self._latest: dict[str, WindowPoint] = {}

    def observe(self, operations: IntervalSnapshot) -> None:
        """Merge one interval into its window, closing the open window first if it has ended.

        An interval that belongs to an already closed window (out of order) goes into the open
        one: closed windows are never reopened.
        """
        index = math.floor((operations.start_s + operations.end_s) / 2 / self.window_s)
        if self._index is None:
            self._index = index
        elif index > self._index:
            self._close()
            self._index = index
        for key, metrics in operations.metrics.items():
            count = metrics.count
            if not count and not metrics.latency.count:
                continue
            window = self._open.get(key.operation)
            if window is None:
                window = self._open[key.operation] = _Window()
            window.latency.merge(metrics.latency)
            window.count += count
            window.errors += metrics.errors
        self._end_s = max(self._end_s, operations.end_s)

    def finish(self) -> None:
        """Close the open window (at the end of the run): it becomes a point, maybe a short one."""
        self._close()

    def _close(self) -> None:
        for operation, window in self._open.items():
            point = window.point(self._end_s)
            self._points.setdefault(operation, []).append(point)
            self._latest[operation] = point
        # The histograms go with the window: nothing but points outlives it.
        self._open = {}

    def current(self) -> dict[str, WindowPoint]:
        """Per operation, its most recent closed window (check ``end_s``: an operation that
        stopped keeps its last one), for the live view."""
        return dict(self._latest)

    def points(self, operation: str) -> list[WindowPoint]:
        """The closed windows of ``operation``, oldest first."""
        return list(self._points.get(operation, ()))

    @property
    def windows_closed(self) -> int:
        """Closed windows that held any operation, over all operations (the longest series)."""
        return max((len(points) for points in self._points.values()), default=0)

    @property
    def retained_histograms(self) -> int:
        """Histograms held right now: one per operation active in the open window."""
        return len(self._open)

    def to_dict(self) -> dict[str, Any]:
        """``{"window_s", "operations": {name: drift_from_points(...)}}`` for summary.json.

        The open window is included as a last, provisional point (without closing it), so a
        summary written mid-run or after an interruption covers everything observed.
        """
        operations: dict[str, Any] = {}
        names = sorted(set(self._points) | set(self._open))
        for name in names:
            points = [point.to_list() for point in self._points.get(name, ())]
            window = self._open.get(name)
            if window is not None:
                points.append(window.point(self._end_s).to_list())
            operations[name] = drift_from_points(points)
        return {"window_s": self.window_s, "operations": operations}

    def __repr__(self) -> str:
        return (
            f"<DriftTracker window_s={self.window_s} operations={len(self._points)}"
            f" windows={self.windows_closed}>"
        )
