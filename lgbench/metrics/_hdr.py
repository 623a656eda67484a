"""The one module that touches ``hdrh``: a typed latency histogram with its quirks handled.

Every latency histogram in lgbench holds integer microseconds from 0 to one hour at three
significant digits (about 190 kB each). hdrh (HdrHistogram_py 0.10) bites in a few places, each
handled here so no other module has to know:

- ``record_value`` returns False for a negative value or one past the counts array and raises
  nothing; it also *accepts* values somewhat above the configured highest (up to the next
  bucket boundary, ~1.19 h). :meth:`LatencyRecorder.record_us` checks ``0 <= value <= 1 h``
  itself, checks the bool too, and counts every reject in ``out_of_range``.
- ``add`` (and so ``decode_and_add``) sets the minimum to 0 when the other histogram is empty,
  and keeps the *smaller* start timestamp, so a fresh histogram merged into stays stamped 0.
  Merging here skips empty histograms, and start/end times live beside the histogram, never in
  its timestamps.
- ``get_value_at_percentile`` and ``get_mean_value`` scan all ~23,500 counters in Python
  (0.75 ms and ~35 ms). :meth:`LatencyRecorder.stats` makes one
  ``get_percentile_to_value_dict`` call for min, max and every percentile, and the mean comes
  from an exact running sum instead.
- Percentiles are bucket edges: the highest value equivalent to the bucket (the lowest for the
  minimum), so ``max`` may exceed the largest recorded value by the precision (0.1 %).
- A histogram and its encoder refer to each other: left so, a dropped histogram waits for the
  cycle collector, and a soak's replaced histograms pile up. Each one made here has the cycle
  broken (a weak proxy), so reference counting frees it at once.
- Copying: ``counts`` is a ctypes array, copied as one block; ``total_count``,
  ``min_value`` and ``max_value`` are the rest of a histogram's state (timestamps unused).
- Histograms do not pickle; ``encode()`` (base64 of the compressed V2 format, as HdrHistogram
  writes into .hlog files) and ``decode_and_add`` cross process boundaries, natively and fast.
"""

from __future__ import annotations

import ctypes
import weakref
from dataclasses import dataclass
from typing import Any, final

from hdrh.histogram import HdrHistogram

__all__ = [
    "HIGHEST_TRACKABLE_US",
    "LOWEST_TRACKABLE_US",
    "SIGNIFICANT_FIGURES",
    "SUMMARY_PERCENTILES",
    "LatencyRecorder",
    "LatencyStats",
]

LOWEST_TRACKABLE_US = 1
"""The smallest value told apart from 0 (values of 0 are still recorded)."""

HIGHEST_TRACKABLE_US = 3_600_000_000
"""One hour: latencies above it are out of range, counted and not recorded."""

SIGNIFICANT_FIGURES = 3
"""Value precision: bucket width is at most 0.1 % of the value."""

SUMMARY_PERCENTILES: dict[str, float] = {
    "p50": 50.0,
    "p90": 90.0,
    "p95": 95.0,
    "p99": 99.0,
    "p99_9": 99.9,
}
"""The percentiles a summary reports, by the key it reports them under."""


def _untangled(histogram: Any) -> Any:
    """``histogram``, its encoder pointing back at it through a weak proxy.

    An hdrh histogram and its encoder refer to each other, so a dropped one is freed only
    by the cycle collector, which large but few objects rarely trigger: with every live
    histogram replaced each second, hundreds of dead 190 kB ones piled up (RSS +30 MiB a
    minute in a soak). Without the cycle, reference counting frees each one at once.
    """
    histogram.encoder.histogram = weakref.proxy(histogram)
    return histogram


def _new_histogram() -> Any:
    return _untangled(HdrHistogram(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_FIGURES))


# HdrHistogram.record_value's index arithmetic with this range's constants looked up once:
# every histogram here has the same range and precision (_decode refuses others).
_LAYOUT: Any = _new_histogram()
_UNIT_MAGNITUDE: int = _LAYOUT.unit_magnitude
_SUB_BUCKET_MASK: int = _LAYOUT.sub_bucket_mask
_BUCKET_OFFSET: int = _LAYOUT.unit_magnitude + _LAYOUT.sub_bucket_half_count_magnitude + 1
_HALF_COUNT_MAGNITUDE: int = _LAYOUT.sub_bucket_half_count_magnitude
_HALF_COUNT: int = _LAYOUT.sub_bucket_half_count
_COUNTS_LEN: int = _LAYOUT.counts_len
del _LAYOUT


#: Values kept raw before they are folded into the histogram together (see LatencyRecorder).
_FOLD_AT = 4096


def _fold(histogram: Any, values: list[int]) -> None:
    """``histogram.record_value`` of every value (ints, ``0 <= value <= HIGHEST_TRACKABLE_US``),
    its index arithmetic done on them all at once."""
    import numpy as np

    raw = np.array(values, dtype=np.int64)
    # bit_length of the int x (< 2**53) is frexp's exponent of float(x): exact.
    bucket = np.frexp((raw | _SUB_BUCKET_MASK).astype(np.float64))[1].astype(np.int64)
    bucket -= _BUCKET_OFFSET
    index = ((bucket + 1) << _HALF_COUNT_MAGNITUDE) + (raw >> (bucket + _UNIT_MAGNITUDE))
    index -= _HALF_COUNT
    counts = np.ctypeslib.as_array(histogram.counts)
    counts[:_COUNTS_LEN] += np.bincount(index, minlength=_COUNTS_LEN).astype(counts.dtype)
    histogram.total_count += len(values)
    low, high = int(raw.min()), int(raw.max())
    if low < histogram.min_value:
        histogram.min_value = low
    if high > histogram.max_value:
        histogram.max_value = high


def _decode(blob: str | bytes) -> Any:
    """Decode an encoded histogram, refusing one with another range or precision."""
    decoded = _untangled(
        HdrHistogram.decode(blob.encode("ascii") if isinstance(blob, str) else blob)
    )
    if (
        decoded.lowest_trackable_value != LOWEST_TRACKABLE_US
        or decoded.highest_trackable_value != HIGHEST_TRACKABLE_US
        or decoded.significant_figures != SIGNIFICANT_FIGURES
    ):
        raise ValueError(
            f"histogram is not {LOWEST_TRACKABLE_US} .. {HIGHEST_TRACKABLE_US} µs at"
            f" {SIGNIFICANT_FIGURES} significant digits: {decoded.lowest_trackable_value}"
            f" .. {decoded.highest_trackable_value} at {decoded.significant_figures}"
        )
    return decoded


#: Per histogram layout, every counter index's highest equivalent value (µs), as numpy.
_INDEX_VALUES: dict[tuple[int, int, int], Any] = {}


def _index_values(histogram: Any) -> Any:
    """hdrh's ``get_highest_equivalent_value(get_value_from_index(i))`` for every counter
    index ``i`` at once (the same arithmetic, on arrays), computed once per layout."""
    import numpy as np

    layout = (
        histogram.counts_len,
        histogram.sub_bucket_half_count_magnitude,
        histogram.unit_magnitude,
    )
    found = _INDEX_VALUES.get(layout)
    if found is None:
        counts_len, half_magnitude, unit_magnitude = layout
        half = 1 << half_magnitude
        index = np.arange(counts_len, dtype=np.int64)
        bucket = (index >> half_magnitude) - 1
        sub_bucket = (index & (half - 1)) + half
        first = bucket < 0
        sub_bucket = np.where(first, sub_bucket - half, sub_bucket)
        bucket = np.where(first, 0, bucket) + unit_magnitude
        found = _INDEX_VALUES[layout] = (sub_bucket << bucket) + (np.int64(1) << bucket) - 1
    return found


def _value_count_arrays(histogram: Any) -> tuple[Any, Any]:
    import numpy as np

    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    nonzero = np.flatnonzero(counts)
    return _index_values(histogram)[nonzero], counts[nonzero].astype(np.int64)


def _value_counts(histogram: Any) -> list[tuple[int, int]]:
    values, counts = _value_count_arrays(histogram)
    return list(zip(values.tolist(), counts.tolist(), strict=True))


@final
@dataclass(frozen=True, slots=True)
class LatencyStats:
    """A histogram's figures in microseconds, from one pass over its counters.

    ``min_us``/``max_us``/``percentiles_us`` are bucket edges; ``mean_us`` is exact. All are
    ``None`` when nothing was recorded.
    """

    count: int
    min_us: int | None
    mean_us: float | None
    max_us: int | None
    percentiles_us: dict[float, int]

    def to_ms(self) -> dict[str, float | None]:
        """``{"min", "mean", "p50", ..., "p99_9", "max"}`` in milliseconds (``None`` if empty)."""

        def ms(value: float | None) -> float | None:
            return None if value is None else value / 1000

        figures: dict[str, float | None] = {"min": ms(self.min_us), "mean": ms(self.mean_us)}
        for key, percentile in SUMMARY_PERCENTILES.items():
            figures[key] = ms(self.percentiles_us.get(percentile))
        figures["max"] = ms(self.max_us)
        return figures


@final
class LatencyRecorder:
    """One HDR histogram of integer microseconds, 0 .. 1 h, 3 significant digits.

    Never drops a value silently: anything outside ``0 .. HIGHEST_TRACKABLE_US`` is counted in
    ``out_of_range`` (and left out of the histogram). Not safe to share across threads; one
    event loop records into it.
    """

    __slots__ = ("__histogram", "_pending", "_sum_us", "out_of_range")

    def __init__(self) -> None:
        self.__histogram: Any = _new_histogram()
        # In-range int values recorded but not yet in the histogram: appending one costs a
        # fraction of hdrh's index arithmetic in Python, and folding a few thousand at once
        # with numpy gives the same counters. Folded before anything reads the histogram
        # (_histogram) and whenever _FOLD_AT are waiting, so they never pile up.
        self._pending: list[int] = []
        self._sum_us = 0
        self.out_of_range = 0
        """Values rejected as negative or above one hour."""

    @property
    def _histogram(self) -> Any:
        """The hdrh histogram, every value recorded so far in it."""
        if self._pending:
            self._fold()
        return self.__histogram

    @_histogram.setter
    def _histogram(self, histogram: Any) -> None:
        if self._pending:
            self._fold()
        self.__histogram = histogram

    def _fold(self) -> None:
        pending, self._pending = self._pending, []
        _fold(self.__histogram, pending)

    # --- recording ------------------------------------------------------------------------------

    def record_us(self, value_us: int) -> bool:
        """Record one latency; False (and ``out_of_range`` + 1) if it is out of range."""
        if type(value_us) is int and 0 <= value_us <= HIGHEST_TRACKABLE_US:
            pending = self._pending
            pending.append(value_us)
            self._sum_us += value_us
            if len(pending) >= _FOLD_AT:
                self._fold()
            return True
        # Recording needs no fold: counters add up in any order (so do min and max).
        if not 0 <= value_us <= HIGHEST_TRACKABLE_US or not self.__histogram.record_value(value_us):
            self.out_of_range += 1
            return False
        self._sum_us += value_us
        return True

    def record_corrected_us(self, value_us: int, expected_interval_us: int) -> bool:
        """Record a latency and back-fill for coordinated omission (closed model only).

        Besides ``value_us`` this records ``value_us - k * expected_interval_us`` for every
        ``k >= 1`` while the previous value exceeded the interval: the requests a load generator
        that waited for this one should have sent meanwhile. Nothing is back-filled when the
        interval is 0 or less. An out-of-range value records nothing and counts once.
        """
        if not 0 <= value_us <= HIGHEST_TRACKABLE_US:
            self.out_of_range += 1
            return False
        if type(value_us) is int and type(expected_interval_us) is int:
            if expected_interval_us <= 0 or value_us <= expected_interval_us:
                # Nothing to back-fill: record_us's in-range int case, inline.
                pending = self._pending
                pending.append(value_us)
                self._sum_us += value_us
                if len(pending) >= _FOLD_AT:
                    self._fold()
                return True
            # hdrh records value, value - I, ... down to the first value <= I: the positive
            # terms of this range. A few are kept for the next fold; a long stall's
            # thousands go to hdrh at once.
            filled = range(value_us, 0, -expected_interval_us)
            if len(filled) <= _FOLD_AT:
                pending = self._pending
                pending.extend(filled)
                self._sum_us += (value_us + filled[-1]) * len(filled) // 2
                if len(pending) >= _FOLD_AT:
                    self._fold()
                return True
        if not self.__histogram.record_corrected_value(value_us, expected_interval_us):
            self.out_of_range += 1  # unreachable for in-range values; never hidden all the same
            return False
        if expected_interval_us > 0 and value_us > expected_interval_us:
            # value, value - I, ..., down to the first value <= I: m + 1 values
            m = (value_us - 1) // expected_interval_us
            self._sum_us += (m + 1) * value_us - expected_interval_us * m * (m + 1) // 2
        else:
            self._sum_us += value_us
        return True

    # --- reading --------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Values in the histogram (not counting ``out_of_range``)."""
        total: int = self._histogram.get_total_count()
        return total

    @property
    def sum_us(self) -> int:
        """Exact sum of the recorded values, for the mean."""
        return self._sum_us

    @property
    def max_us(self) -> int:
        """Highest recorded value's bucket edge (0 when empty); O(1)."""
        value: int = self._histogram.get_max_value()
        return value

    def percentiles(self, percentiles: list[float]) -> dict[float, int]:
        """Values at the given percentiles (0-100), in one pass; ``{}`` when empty."""
        if not self.count:
            return {}
        values: dict[float, int] = self._histogram.get_percentile_to_value_dict(percentiles)
        return values

    def stats(
        self, percentiles: tuple[float, ...] = tuple(SUMMARY_PERCENTILES.values())
    ) -> LatencyStats:
        """Count, min, exact mean, max and ``percentiles`` from ONE pass over the counters.

        Meant for interval and report time (about 1 ms), never per request.
        """
        count = self.count
        if not count:
            return LatencyStats(0, None, None, None, {})
        values = self.percentiles([0.0, *percentiles, 100.0])
        return LatencyStats(
            count=count,
            min_us=values[0.0],
            mean_us=self._sum_us / count,
            max_us=values[100.0],
            percentiles_us={p: values[p] for p in percentiles},
        )

    def buckets(self) -> list[tuple[int, int, int]]:
        """``(lowest_us, highest_us, count)`` of every non-empty bucket, in value order."""
        histogram = self._histogram
        result: list[tuple[int, int, int]] = []
        for index, count in enumerate(list(histogram.counts)):
            if count:
                value = histogram.get_value_from_index(index)
                result.append(
                    (
                        histogram.get_lowest_equivalent_value(value),
                        histogram.get_highest_equivalent_value(value),
                        count,
                    )
                )
        return result

    def value_counts(self) -> list[tuple[int, int]]:
        """``(highest_us, count)`` of every non-empty bucket, in value order.

        What :meth:`buckets` gives without the lower edges, found with numpy over the
        counters rather than a Python loop over all ~45,000 of them: the baseline gate
        reads thousands of interval histograms.
        """
        return _value_counts(self._histogram) if self.count else []

    def value_count_arrays(self) -> tuple[Any, Any]:
        """:meth:`value_counts` as two numpy int64 arrays (values in µs, counts), for callers
        that go on with array arithmetic (the live metrics exporter, once per interval)."""
        return _value_count_arrays(self._histogram)

    @staticmethod
    def blob_value_counts(blob: str | bytes) -> list[tuple[int, int]]:
        """:meth:`value_counts` of an encoded histogram (an .hlog line's), decoded once.

        Cheaper than :meth:`from_blob`, which also rebuilds the sum from every counter.
        """
        return _value_counts(_decode(blob))

    @property
    def bucket_count(self) -> int:
        """Number of power-of-two buckets (22 for 1 µs .. 1 h at 3 digits)."""
        value: int = self._histogram.bucket_count
        return value

    @property
    def sub_bucket_count(self) -> int:
        """Sub-buckets per bucket (2048 at 3 digits)."""
        value: int = self._histogram.sub_bucket_count
        return value

    # --- merging and transport ------------------------------------------------------------------

    def copy(self) -> LatencyRecorder:
        """An independent copy: the counters copied as one block of memory (about 10 µs).

        A copy is how a histogram the event loop records into is read from another thread:
        hdrh's percentile scan over a histogram that changes under it can miss the top
        percentile (``KeyError: 100.0``).
        """
        twin = LatencyRecorder()
        source, target = self._histogram, twin._histogram
        ctypes.memmove(target.counts, source.counts, ctypes.sizeof(source.counts))
        target.total_count = source.total_count
        target.min_value = source.min_value
        target.max_value = source.max_value
        twin._sum_us = self._sum_us
        twin.out_of_range = self.out_of_range
        return twin

    def merge(self, other: LatencyRecorder) -> None:
        """Add ``other``'s values and counters into this recorder (``other`` is unchanged)."""
        if other.count:
            self._histogram.add(other._histogram)
        self._sum_us += other._sum_us
        self.out_of_range += other.out_of_range

    def encode(self) -> str:
        """The histogram alone, base64 of HdrHistogram's compressed V2 encoding (as in .hlog)."""
        blob: bytes = self._histogram.encode()
        return blob.decode("ascii")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state: the encoded histogram plus the counters it does not carry."""
        return {
            "histogram": self.encode(),
            "sum_us": self._sum_us,
            "out_of_range": self.out_of_range,
        }

    def merge_dict(self, state: dict[str, Any]) -> None:
        """Add a :meth:`to_dict` state (from this or another process) into this recorder."""
        other = _decode(state["histogram"])
        if other.get_total_count():
            self._histogram.add(other)
        self._sum_us += int(state["sum_us"])
        self.out_of_range += int(state["out_of_range"])

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> LatencyRecorder:
        """A recorder rebuilt from :meth:`to_dict`."""
        recorder = cls()
        recorder.merge_dict(state)
        return recorder

    @classmethod
    def from_blob(cls, blob: str | bytes) -> LatencyRecorder:
        """A recorder from an encoded histogram alone (e.g. an .hlog line).

        The exact sum is not in the encoding: it is rebuilt from bucket midpoints, as
        HdrHistogram computes its mean. ``out_of_range`` is 0.
        """
        decoded = _decode(blob)
        recorder = cls()
        if decoded.get_total_count():
            recorder._histogram.add(decoded)
            recorder._sum_us = round(decoded.get_mean_value() * decoded.get_total_count())
        return recorder

    def __repr__(self) -> str:
        return f"<LatencyRecorder count={self.count} out_of_range={self.out_of_range}>"
