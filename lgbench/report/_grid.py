"""The report's time buckets: whole intervals merged so that a run has at most ~600 of them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, final

__all__ = ["MAX_BUCKETS", "Grid"]

MAX_BUCKETS: Final = 600
"""The most points a time plot gets: an 8 h soak of 1 s intervals becomes 48 s buckets."""


@final
@dataclass(frozen=True, slots=True)
class Grid:
    """``count`` buckets of ``width_s`` seconds from the run's start: bucket ``i`` holds the
    intervals that *start* in ``[i * width_s, (i + 1) * width_s)``."""

    width_s: float
    count: int
    interval_s: float = 0.0
    """The logging interval; 0 for a grid not made of whole intervals."""

    @classmethod
    def for_span(cls, span_s: float, interval_s: float, *, max_buckets: int = MAX_BUCKETS) -> Grid:
        """The narrowest grid of whole intervals covering ``span_s`` in ``max_buckets`` buckets.

        ``interval_s`` is the logging interval (1 s by default); a bucket is always a whole
        number of them, so no interval is split between two buckets.
        """
        if max_buckets < 1:
            raise ValueError("max_buckets must be at least 1")
        if not interval_s > 0 or not math.isfinite(interval_s):
            interval_s = 1.0
        span_s = span_s if span_s > 0 and math.isfinite(span_s) else interval_s
        intervals = math.ceil(span_s / interval_s - 1e-9)
        per_bucket = max(1, math.ceil(intervals / max_buckets))
        width_s = per_bucket * interval_s
        count = max(1, math.ceil(span_s / width_s - 1e-9))
        return cls(width_s=width_s, count=count, interval_s=interval_s)

    def index(self, start_s: float) -> int:
        """The bucket of an interval starting at ``start_s`` (clamped into the grid)."""
        if self.interval_s > 0:
            # Intervals close on a timer that may fire a hair early or late (5.9996 s, 6.0004 s):
            # the interval's number is the nearest whole one, so none lands in its
            # neighbour's bucket and leaves a gap.
            number = round(start_s / self.interval_s)
            bucket = number // max(1, round(self.width_s / self.interval_s))
        else:
            # A small tolerance: interval starts are written rounded to the millisecond.
            bucket = math.floor(start_s / self.width_s + 1e-6)
        return min(max(bucket, 0), self.count - 1)

    def start_s(self, index: int) -> float:
        return index * self.width_s

    def mid_s(self, index: int) -> float:
        return (index + 0.5) * self.width_s
