"""HdrHistogram interval logs (``intervals.hlog``), written as the run goes.

The format is HdrHistogram's histogram log, version 1.3 (what jHiccup and the Java
``HistogramLogWriter`` write, and what ``HistogramLogProcessor`` and hdrh's reader read)::

    #[Logged with lgbench 0.1.0]
    #[Histogram log format version 1.3]
    #[StartTime: 1700000000.000 (seconds since epoch), 2023-11-14T22:13:20.000+00:00]
    #[BaseTime: 1700000000.000 (seconds since epoch)]
    "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
    Tag=runs.wait,0.000,5.000,12.543,HISTFAAAA...

One line per operation per interval, tagged with the operation name; the start is in seconds
since ``BaseTime`` (the run's start), the maximum in milliseconds (values are µs), the histogram
in HdrHistogram's base64 compressed encoding. Written here rather than with hdrh's writer,
whose start-time line crashes, whose interval lines cannot start at 0 and floor the maximum,
and which writes no tags.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TextIO, final

from lgbench import __version__
from lgbench.metrics._hdr import LatencyRecorder
from lgbench.metrics._registry import IntervalSnapshot

__all__ = ["HLOG_FORMAT_VERSION", "HlogWriter"]

HLOG_FORMAT_VERSION = "1.3"
"""The histogram log format version written (the one with ``Tag=``)."""

_LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'
_FORBIDDEN_IN_TAG = frozenset(", \t\r\n")


@final
class HlogWriter:
    """Writes an interval log to a text stream; flushes after the header and each interval.

    ``start_epoch_s`` is the run's start in seconds since the epoch (wall clock, for the
    reader); interval times are seconds since then, as :class:`IntervalSnapshot` has them.
    """

    __slots__ = ("_out", "start_epoch_s")

    def __init__(self, out: TextIO, *, start_epoch_s: float) -> None:
        self._out = out
        self.start_epoch_s = start_epoch_s

    def write_header(self, *, comments: tuple[str, ...] = ()) -> None:
        """Comment lines, the format version, StartTime and BaseTime, and the legend."""
        stamp = datetime.fromtimestamp(self.start_epoch_s, UTC).isoformat(timespec="milliseconds")
        lines = [
            f"#[Logged with lgbench {__version__}]",
            *(f"#{comment}" for comment in comments),
            f"#[Histogram log format version {HLOG_FORMAT_VERSION}]",
            f"#[StartTime: {self.start_epoch_s:.3f} (seconds since epoch), {stamp}]",
            f"#[BaseTime: {self.start_epoch_s:.3f} (seconds since epoch)]",
            _LEGEND,
        ]
        for line in lines:
            if "\n" in line or "\r" in line:
                raise ValueError(f"a header comment must be one line: {line!r}")
        self._out.write("".join(f"{line}\n" for line in lines))
        self._out.flush()

    def write_interval(
        self, tag: str, start_s: float, length_s: float, recorder: LatencyRecorder
    ) -> None:
        """One ``Tag=`` line: ``recorder``'s histogram for ``[start_s, start_s + length_s)``."""
        if not tag or _FORBIDDEN_IN_TAG & set(tag):
            raise ValueError(f"an .hlog tag may not be empty or hold commas or spaces: {tag!r}")
        max_ms = recorder.max_us / 1000
        self._out.write(
            f"Tag={tag},{start_s:.3f},{length_s:.3f},{max_ms:.3f},{recorder.encode()}\n"
        )

    def write_snapshot(self, snapshot: IntervalSnapshot) -> None:
        """One line per operation (merged across scenarios and tags, sorted), then flush.

        The raw latency histogram is logged (open model: from the intended start).
        """
        for operation, metrics in snapshot.by_operation().items():
            self.write_interval(operation, snapshot.start_s, snapshot.length_s, metrics.latency)
        self._out.flush()
