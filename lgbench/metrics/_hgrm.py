"""Percentile distributions as ``.hgrm`` text, the way HdrHistogram prints them.

The output matches Java HdrHistogram's ``outputPercentileDistribution`` (the format
HdrHistogram's plotter and ``HistogramLogProcessor`` use): a header, one row per percentile step
(value, percentile as a fraction, total count so far, ``1/(1-percentile)``), a last row at 100 %,
and the mean, standard deviation, maximum, count and bucket layout. Steps start at 0 % and
halve their distance to 100 % every ``ticks_per_half_distance`` rows. Values are the highest
value in each bucket, divided by ``value_unit_ratio`` (1000: µs to ms); mean and deviation use
each bucket's middle value, as HdrHistogram does.

hdrh's own ``output_percentile_distribution`` differs from Java's in its step arithmetic (it
does not truncate the halving exponent), its footer label and an unscaled deviation; this
module follows Java.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from lgbench.metrics._hdr import SIGNIFICANT_FIGURES, LatencyRecorder

__all__ = ["format_percentile_distribution"]


def _next_level(level: float, ticks_per_half_distance: int) -> float:
    """The next percentile step: fixed-size ticks within each halving of the distance to 100."""
    halvings = int(math.log(100.0 / (100.0 - level)) / math.log(2))
    ticks = ticks_per_half_distance * int(math.pow(2, halvings + 1))
    return level + 100.0 / ticks


def _steps(
    buckets: list[tuple[int, int, int]], total: int, ticks_per_half_distance: int
) -> Iterator[tuple[int, float, int]]:
    """``(value, percentile level, count so far)`` rows, as Java's PercentileIterator has them."""
    level = 0.0
    so_far = 0
    for _, highest, count in buckets:
        so_far += count
        while 100.0 * so_far / total >= level:
            yield highest, level, so_far
            if so_far == total:  # every value passed: one last row at 100 %
                yield highest, 100.0, so_far
                return
            level = _next_level(level, ticks_per_half_distance)


def format_percentile_distribution(
    recorder: LatencyRecorder,
    *,
    ticks_per_half_distance: int = 5,
    value_unit_ratio: float = 1000.0,
) -> str:
    """The ``.hgrm`` text of ``recorder`` (values in ms by default). Report time only."""
    if ticks_per_half_distance < 1:
        raise ValueError("ticks_per_half_distance must be at least 1")
    digits = SIGNIFICANT_FIGURES
    buckets = recorder.buckets()
    total = sum(count for _, _, count in buckets)
    lines = [f"{'Value':>12} {'Percentile':>14} {'TotalCount':>10} {'1/(1-Percentile)':>14}\n\n"]
    for value, level, so_far in _steps(buckets, total, ticks_per_half_distance):
        scaled = value / value_unit_ratio
        fraction = level / 100.0
        if level != 100.0:
            inverse = 1 / (1.0 - fraction)
            lines.append(f"{scaled:12.{digits}f} {fraction:2.12f} {so_far:10d} {inverse:14.2f}\n")
        else:
            lines.append(f"{scaled:12.{digits}f} {fraction:2.12f} {so_far:10d}\n")

    mean = deviation = 0.0
    if total:
        middles = [(low + ((high - low + 1) >> 1), count) for low, high, count in buckets]
        mean = sum(middle * count for middle, count in middles) / total
        deviation = math.sqrt(
            sum((middle - mean) ** 2 * count for middle, count in middles) / total
        )
    lines.append(
        f"#[Mean    = {mean / value_unit_ratio:12.{digits}f},"
        f" StdDeviation   = {deviation / value_unit_ratio:12.{digits}f}]\n"
    )
    lines.append(
        f"#[Max     = {recorder.max_us / value_unit_ratio:12.{digits}f},"
        f" Total count    = {total:12d}]\n"
    )
    lines.append(
        f"#[Buckets = {recorder.bucket_count:12d},"
        f" SubBuckets     = {recorder.sub_bucket_count:12d}]\n"
    )
    return "".join(lines)
