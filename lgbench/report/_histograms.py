"""``intervals.hlog`` read back for the report: per tag, the whole run and each time bucket.

Two passes over the file: the first reads only the interval starts (how long the run was, so
the bucket width is known); the second decodes every histogram once and adds it to its tag's
open bucket, which is closed (percentiles taken, added into the tag's whole-run histogram)
when the tag's next bucket begins. So memory stays two histograms per tag whatever the run's
length, and the cost is one native decode and add per line (about 35 µs: an 8 h soak of a
dozen tags is ~350,000 lines) plus one percentile pass per tag and bucket.

Percentiles come from the histogram's counters in one cumulative pass each (the same bucket
edges HdrHistogram's own ``get_value_at_percentile`` gives), not from hdrh's Python loops.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ctypes
import importlib
import math
import struct
import zlib
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Final, final

from hdrh.codec import HdrCookieException, HdrHistogramSettingsException, HdrLengthException
from hdrh.histogram import HdrHistogram

from lgbench.report._grid import Grid

__all__ = [
    "BUCKET_PERCENTILES",
    "HlogData",
    "HlogScan",
    "TagBuckets",
    "TagTotals",
    "curve_percentiles",
    "read_hlog",
    "scan_hlog",
    "values_at_percentiles",
]

BUCKET_PERCENTILES: Final = (10.0, 50.0, 90.0, 99.0)
"""The percentiles computed per time bucket (p10: the slow tail of a rate, tokens/s)."""

TOTAL_PERCENTILES: Final = (50.0, 90.0, 95.0, 99.0, 99.9)
"""The percentiles of the whole run, per tag, for the tables."""

_CURVE_TICKS_PER_HALF: Final = 8
_DECODE_ERRORS: Final = (
    ValueError,
    TypeError,
    IndexError,
    binascii.Error,
    zlib.error,
    HdrCookieException,
    HdrLengthException,
    HdrHistogramSettingsException,
    OverflowError,
    struct.error,
)


@final
@dataclass(frozen=True, slots=True)
class HlogLine:
    tag: str
    start_s: float
    length_s: float
    max_ms: float
    blob: str


def _parse_line(line: str) -> HlogLine | None:
    """One interval line, or None for comments, the legend and damaged lines."""
    if not line or line[0] in '#"':
        return None
    tag = ""
    if line.startswith("Tag="):
        tag, _, line = line[4:].partition(",")
    parts = line.split(",")
    if len(parts) != 4:
        return None
    try:
        start_s, length_s, max_ms = float(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        return None
    blob = parts[3].strip()
    if not blob or not (math.isfinite(start_s) and math.isfinite(length_s)) or length_s < 0:
        return None
    return HlogLine(tag or "(untagged)", start_s, length_s, max_ms, blob)


def _lines(path: Path) -> Iterator[tuple[str, HlogLine | None]]:
    with path.open(encoding="utf-8", errors="replace") as file:
        for raw in file:
            yield raw, _parse_line(raw.rstrip("\r\n"))


@final
@dataclass(frozen=True, slots=True)
class HlogScan:
    """What the first pass learns: the header's start time, the span and the interval."""

    start_epoch_s: float | None
    end_s: float
    interval_s: float | None
    lines: int


def scan_hlog(path: Path) -> HlogScan:
    """The first, cheap pass: no histogram is decoded."""
    start_epoch_s: float | None = None
    end_s = 0.0
    interval_s: float | None = None
    lines = 0
    for raw, parsed in _lines(path):
        if parsed is None:
            if raw.startswith(("#[StartTime:", "#[BaseTime:")) and start_epoch_s is None:
                with contextlib.suppress(IndexError, ValueError):
                    start_epoch_s = float(raw.split(":", 1)[1].split()[0].rstrip(","))
            continue
        lines += 1
        end_s = max(end_s, parsed.start_s + parsed.length_s)
        if interval_s is None and parsed.length_s > 0:
            interval_s = parsed.length_s
    return HlogScan(start_epoch_s, end_s, interval_s, lines)


def values_at_percentiles(histogram: Any, percentiles: Sequence[float]) -> list[int]:
    """The values (bucket edges) at ``percentiles`` (0-100) of a non-empty histogram.

    The same values as hdrh's ``get_percentile_to_value_dict``: the lowest equivalent value
    at 0, else the highest equivalent value of the first counter whose cumulative count
    reaches ``max(1, round(p * total / 100))``; one cumulative pass in C.
    """
    total: int = histogram.get_total_count()
    if total <= 0:
        raise ValueError("no values in the histogram")
    counts = histogram.counts
    low = histogram.get_counts_array_index(histogram.get_min_value())
    high = histogram.get_counts_array_index(histogram.get_max_value())
    low = min(max(low, 0), histogram.counts_len - 1)
    high = min(max(high, low), histogram.counts_len - 1)
    cumulative = list(accumulate(counts[low : high + 1]))
    if not cumulative or cumulative[-1] != total:
        # min/max tracking can be off after merges with empty histograms: scan everything.
        low = 0
        cumulative = list(accumulate(counts[0 : histogram.counts_len]))
    values: list[int] = []
    for percentile in percentiles:
        target = max(int(min(percentile, 100.0) * total / 100 + 0.5), 1)
        index = low + min(bisect_left(cumulative, target), len(cumulative) - 1)
        value = histogram.get_value_from_index(index)
        if percentile <= 0:
            values.append(int(histogram.get_lowest_equivalent_value(value)))
        else:
            values.append(int(histogram.get_highest_equivalent_value(value)))
    return values


def curve_percentiles(count: int, *, ticks_per_half: int = _CURVE_TICKS_PER_HALF) -> list[float]:
    """Percentiles for a percentile-distribution curve of ``count`` values, HdrHistogram style.

    ``ticks_per_half`` points each time the distance to 100 % halves (0, 50, 75, 87.5 … with
    more points between), up to the percentile of the last value, ``1 - 1/count``.
    """
    if count <= 0:
        return []
    last = 100.0 * (1.0 - 1.0 / count) if count > 1 else 0.0
    found: list[float] = []
    step = 0
    while True:
        percentile = 100.0 * (1.0 - 0.5 ** (step / ticks_per_half))
        if percentile >= last:
            break
        found.append(percentile)
        step += 1
    found.append(last)
    return found


@final
@dataclass(slots=True)
class TagTotals:
    """A tag's whole-run figures (values in ms) and its percentile-distribution curve."""

    count: int
    min_ms: float
    max_ms: float
    percentiles_ms: dict[float, float]
    curve: list[tuple[float, float]]
    """``(percentile, value_ms)`` points, the last one at ``1 - 1/count`` (the maximum)."""


@final
@dataclass(slots=True)
class TagBuckets:
    """A tag's figures per time bucket; None where the bucket holds no value."""

    count: list[int]
    percentiles_ms: dict[float, list[float | None]]
    max_ms: list[float | None]
    covered_s: list[float]
    """Seconds of logged intervals in each bucket."""


@final
@dataclass(slots=True)
class HlogData:
    start_epoch_s: float | None
    end_s: float
    interval_s: float | None
    totals: dict[str, TagTotals] = field(default_factory=dict)
    buckets: dict[str, TagBuckets] = field(default_factory=dict)
    damaged_lines: int = 0


# HdrHistogram's V2 encoding (what .hlog lines hold): base64 of an 8-byte header and a
# zlib-compressed payload, whose 40-byte header precedes ZigZag LEB128 counts.
_COMPRESSED = struct.Struct(">II")
_PAYLOAD = struct.Struct(">IIIIQQd")
_COMPRESSED_COOKIE: Final = 0x1C849304
_ENCODING_COOKIE: Final = 0x1C849303
_COOKIE_MASK: Final = ~0xF0
_WORD_BYTES: Final = 8
# hdrh's own C extension: varint decoding and array addition, as hdrh's codec uses them.
_native: Any = importlib.import_module("pyhdrh")


@final
class _Adder:
    """Adds encoded histograms into an accumulating ``HdrHistogram``.

    ``HdrHistogram.decode`` builds a whole histogram object per line (~25 µs of Python) and
    ``add`` then sums all ~23,500 counters. Here the counts are decoded by hdrh's native
    varint decoder into one reused scratch array and only the non-zero range is added (and
    zeroed again), natively: about a third of the cost. Encodings it does not expect (a
    normalizing offset, other settings than the accumulator's) take hdrh's own path.
    """

    __slots__ = ("_scratch",)

    def __init__(self) -> None:
        self._scratch: Any = None

    def add(self, blob: str, into: Any) -> tuple[Any, int]:
        """Add ``blob`` into ``into`` (created when None); the accumulator and values added."""
        raw = base64.b64decode(blob, validate=True)
        cookie, length = _COMPRESSED.unpack_from(raw)
        if cookie & _COOKIE_MASK != _COMPRESSED_COOKIE or length != len(raw) - _COMPRESSED.size:
            raise ValueError("not an HdrHistogram V2 compressed encoding")
        data = zlib.decompress(raw[_COMPRESSED.size :])
        cookie, _, offset, figures, lowest, highest, _ = _PAYLOAD.unpack_from(data)
        if cookie & _COOKIE_MASK != _ENCODING_COOKIE:
            raise ValueError("not an HdrHistogram V2 encoding")
        if into is None:
            into = HdrHistogram(lowest, highest, figures)
        if offset or (
            lowest,
            highest,
            figures,
        ) != (into.lowest_trackable_value, into.highest_trackable_value, into.significant_figures):
            return self._slow(blob, into)
        counts_len: int = into.counts_len
        scratch = self._scratch
        if scratch is None or len(scratch) != counts_len:
            scratch = self._scratch = (ctypes.c_int64 * counts_len)()
        found = _native.decode(data, _PAYLOAD.size, ctypes.addressof(scratch), counts_len, 8)
        total: int = found["total"]
        low: int = found["min_nonzero_index"]
        high: int = found["max_nonzero_index"]
        if high < 0:
            return into, 0
        low = max(low, 0)
        start = low * _WORD_BYTES
        size = high - low + 1
        base = ctypes.addressof(scratch)
        if total > 0:
            _native.add_array(ctypes.addressof(into.counts) + start, base + start, size, 8)
            into.total_count += total
            into.min_value = min(into.min_value, into.get_value_from_index(low))
            top = into.get_highest_equivalent_value(into.get_value_from_index(high))
            into.max_value = max(into.max_value, top)
        ctypes.memset(base + start, 0, size * _WORD_BYTES)
        return into, max(total, 0)

    @staticmethod
    def _slow(blob: str, into: Any) -> tuple[Any, int]:
        decoded = HdrHistogram.decode(blob)
        total: int = decoded.get_total_count()
        if total > 0:
            merge(into, decoded)
        return into, total


def _same_settings(one: Any, other: Any) -> bool:
    return bool(
        one.bucket_count == other.bucket_count
        and one.sub_bucket_count == other.sub_bucket_count
        and one.unit_magnitude == other.unit_magnitude
        and one.word_size == other.word_size
    )


def merge(into: Any, other: Any) -> None:
    """Add the non-empty histogram ``other`` into ``into``, whatever their settings.

    hdrh's ``add`` is native for equal settings; across settings its fallback loses the
    values, so each non-zero counter is recorded here at its value (within ``other``'s
    precision). hdrh's add also lowers the minimum to 0 for an empty ``other``: callers
    never pass one.
    """
    if _same_settings(into, other):
        into.add(other)
        return
    counts = other.counts
    for index in range(other.counts_len):
        count = counts[index]
        if count > 0:
            into.record_value(other.get_value_from_index(index), count)


@final
class _TagReader:
    __slots__ = (
        "_adder",
        "_buckets",
        "_empty_blob",
        "_open",
        "_open_index",
        "_open_max_ms",
        "_total",
    )

    def __init__(self, grid: Grid, adder: _Adder) -> None:
        self._adder = adder
        self._buckets = TagBuckets(
            count=[0] * grid.count,
            percentiles_ms={p: [None] * grid.count for p in BUCKET_PERCENTILES},
            max_ms=[None] * grid.count,
            covered_s=[0.0] * grid.count,
        )
        self._total: Any = None
        self._open: Any = None
        self._open_index = -1
        self._open_max_ms = 0.0
        self._empty_blob = ""

    def add(self, index: int, line: HlogLine) -> bool:
        """Add one line to bucket ``index``; False when its histogram does not decode."""
        if index != self._open_index:
            self._close()
            self._open_index = index
        self._buckets.covered_s[index] += line.length_s
        if line.blob == self._empty_blob:
            return True  # quiet intervals repeat one blob: nothing to decode or add
        try:
            self._open, added = self._adder.add(line.blob, self._open)
        except _DECODE_ERRORS:
            return False
        if added <= 0:
            self._empty_blob = line.blob
            return True
        self._open_max_ms = max(self._open_max_ms, line.max_ms)
        return True

    def _close(self) -> None:
        histogram, index = self._open, self._open_index
        if histogram is None or index < 0:
            return
        self._open = None
        top_ms, self._open_max_ms = self._open_max_ms, 0.0
        count: int = histogram.get_total_count()
        if count <= 0:
            return
        buckets = self._buckets
        previous = buckets.count[index]
        buckets.count[index] = previous + count
        values = values_at_percentiles(histogram, BUCKET_PERCENTILES)
        # The maximum the lines logged; an hlog written without one: the histogram's.
        top_ms = top_ms or histogram.get_max_value() / 1000
        for percentile, value_us in zip(BUCKET_PERCENTILES, values, strict=True):
            # A bucket reopened (lines out of time order) keeps its larger figures.
            old = buckets.percentiles_ms[percentile][index]
            new = value_us / 1000
            buckets.percentiles_ms[percentile][index] = new if old is None else max(old, new)
        old_max = buckets.max_ms[index]
        buckets.max_ms[index] = top_ms if old_max is None else max(old_max, top_ms)
        if self._total is None:
            self._total = _empty_like(histogram)
        merge(self._total, histogram)

    def finish(self) -> tuple[TagTotals | None, TagBuckets]:
        self._close()
        total = self._total
        if total is None or total.get_total_count() <= 0:
            return None, self._buckets
        count: int = total.get_total_count()
        curve_points = curve_percentiles(count)
        wanted = sorted({0.0, *TOTAL_PERCENTILES, 100.0, *curve_points})
        values = dict(zip(wanted, values_at_percentiles(total, wanted), strict=True))
        totals = TagTotals(
            count=count,
            min_ms=values[0.0] / 1000,
            max_ms=values[100.0] / 1000,
            percentiles_ms={p: values[p] / 1000 for p in TOTAL_PERCENTILES},
            curve=[(p, values[p] / 1000) for p in curve_points],
        )
        return totals, self._buckets


def _empty_like(histogram: Any) -> Any:
    return HdrHistogram(
        histogram.lowest_trackable_value,
        histogram.highest_trackable_value,
        histogram.significant_figures,
    )


def read_hlog(path: Path, grid: Grid, scan: HlogScan | None = None) -> HlogData:
    """Decode ``path`` into whole-run totals and ``grid`` buckets per tag.

    Lines are expected in time order per tag, as lgbench writes them; damaged lines (a
    truncated last line, a histogram that does not decode) are counted and skipped.
    """
    scan = scan if scan is not None else scan_hlog(path)
    readers: dict[str, _TagReader] = {}
    adder = _Adder()
    damaged = 0
    for raw, parsed in _lines(path):
        if parsed is None:
            if raw.strip() and not raw.startswith(("#", '"')):
                damaged += 1
            continue
        reader = readers.get(parsed.tag)
        if reader is None:
            reader = readers[parsed.tag] = _TagReader(grid, adder)
        if not reader.add(grid.index(parsed.start_s), parsed):
            damaged += 1
    data = HlogData(scan.start_epoch_s, scan.end_s, scan.interval_s, damaged_lines=damaged)
    for tag in sorted(readers):
        totals, buckets = readers[tag].finish()
        data.buckets[tag] = buckets
        if totals is not None:
            data.totals[tag] = totals
    return data
