"""Interval logs: our writer's output read back by hdrh's reader, and a checked-in log."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

import pytest
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

from lgbench.metrics import (
    HIGHEST_TRACKABLE_US,
    HlogWriter,
    LatencyRecorder,
    MetricsRegistry,
)

DATA = Path(__file__).parent.parent / "data" / "intervals.hlog"
START_EPOCH_S = 1_700_000_000.0  # 2023-11-14T22:13:20Z
INTERVAL_S = 5.0
TAGS = ("runs.wait", "threads.create")


def reference_values(tag: str, interval: int) -> list[int]:
    """The latencies (µs) the reference log holds for ``tag`` in interval ``interval``."""
    if tag == "threads.create":
        return [1_000 + 37 * i + 500 * interval for i in range(20)]
    if interval == 1:
        return []  # a quiet interval: an empty histogram line
    return [50_000 + 9_973 * i for i in range(12)] + [1_000_000 * (interval + 1)]


def build_reference_log(out: TextIO) -> None:
    """Three 5-second intervals of two operations, as a run would log them."""
    registry = MetricsRegistry(origin_s=0.0)
    writer = HlogWriter(out, start_epoch_s=START_EPOCH_S)
    writer.write_header()
    for interval in range(3):
        for tag in TAGS:
            metrics = registry.metrics(tag, "reference")
            for value_us in reference_values(tag, interval):
                metrics.record(0.0, value_us / 1_000_000)
        writer.write_snapshot(registry.snapshot_interval(INTERVAL_S * (interval + 1)))


def recorder_of(values: list[int]) -> LatencyRecorder:
    recorder = LatencyRecorder()
    for value in values:
        assert recorder.record_us(value)
    return recorder


def read_back(path: Path) -> tuple[float, list[HdrHistogram]]:
    reader = HistogramLogReader(str(path), HdrHistogram(1, HIGHEST_TRACKABLE_US, 3))
    try:
        histograms = []
        while (histogram := reader.get_next_interval_histogram()) is not None:
            histograms.append(histogram)
        return reader.get_start_time_sec(), histograms
    finally:
        reader.close()


def split(line: str) -> tuple[str, float, float, float, str]:
    tag, start, length, max_ms, blob = line.rstrip("\n").split(",")
    assert tag.startswith("Tag=")
    return tag[4:], float(start), float(length), float(max_ms), blob


PERCENTILES = [0.0, 50.0, 90.0, 99.0, 99.9, 100.0]


def check_reference_log(path: Path) -> None:
    """hdrh's reader finds every interval of every tag, with the right times and values."""
    start_s, histograms = read_back(path)
    assert start_s == START_EPOCH_S
    assert len(histograms) == 3 * len(TAGS)
    for index, histogram in enumerate(histograms):
        interval, position = divmod(index, len(TAGS))
        tag = TAGS[position]
        values = reference_values(tag, interval)
        assert histogram.get_tag() == tag
        assert histogram.get_start_time_stamp() == (START_EPOCH_S + INTERVAL_S * interval) * 1000
        assert (
            histogram.get_end_time_stamp() == (START_EPOCH_S + INTERVAL_S * (interval + 1)) * 1000
        )
        assert histogram.get_total_count() == len(values)
        if values:
            want = recorder_of(values).percentiles(PERCENTILES)
            assert histogram.get_percentile_to_value_dict(PERCENTILES) == want


def test_written_log_reads_back_with_hdrh(tmp_path: Path) -> None:
    path = tmp_path / "intervals.hlog"
    with path.open("w", encoding="utf-8") as out:
        build_reference_log(out)
    check_reference_log(path)


def test_checked_in_log_reads_back_with_hdrh() -> None:
    check_reference_log(DATA)


def test_checked_in_log_round_trips_through_our_writer() -> None:
    # Header: byte for byte (after the line naming the lgbench version that wrote it).
    text = DATA.read_text(encoding="utf-8").splitlines(keepends=True)
    fresh = io.StringIO()
    build_reference_log(fresh)
    fresh_lines = fresh.getvalue().splitlines(keepends=True)
    header = [line for line in text if not line.startswith("Tag=")]
    assert header[1:] == [line for line in fresh_lines if not line.startswith("Tag=")][1:]
    # Intervals: each line re-written from its decoded histogram gives the same fields and
    # the same counts (the compressed bytes may differ between zlib builds).
    intervals = [line for line in text if line.startswith("Tag=")]
    fresh_intervals = [line for line in fresh_lines if line.startswith("Tag=")]
    assert len(intervals) == len(fresh_intervals) == 6
    for line, fresh_line in zip(intervals, fresh_intervals, strict=True):
        tag, start_s, length_s, max_ms, blob = split(line)
        recorder = LatencyRecorder.from_blob(blob)
        again = io.StringIO()
        HlogWriter(again, start_epoch_s=START_EPOCH_S).write_interval(
            tag, start_s, length_s, recorder
        )
        for other in (again.getvalue(), fresh_line):
            other_tag, other_start, other_length, other_max, other_blob = split(other)
            assert (other_tag, other_start, other_length, other_max) == (
                tag,
                start_s,
                length_s,
                max_ms,
            )
            assert LatencyRecorder.from_blob(other_blob).buckets() == recorder.buckets()


def test_header_lines() -> None:
    out = io.StringIO()
    HlogWriter(out, start_epoch_s=START_EPOCH_S + 0.25).write_header(comments=("[run chat]",))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("#[Logged with lgbench ")
    assert lines[1:] == [
        "#[run chat]",
        "#[Histogram log format version 1.3]",
        "#[StartTime: 1700000000.250 (seconds since epoch), 2023-11-14T22:13:20.250+00:00]",
        "#[BaseTime: 1700000000.250 (seconds since epoch)]",
        '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"',
    ]
    with pytest.raises(ValueError, match="one line"):
        HlogWriter(io.StringIO(), start_epoch_s=0).write_header(comments=("a\nb",))


def test_interval_line_fields() -> None:
    out = io.StringIO()
    writer = HlogWriter(out, start_epoch_s=START_EPOCH_S)
    writer.write_interval("runs.wait", 0.0, 5.0, recorder_of([1_000_000]))
    writer.write_interval("runs.wait", 5.0, 5.0, LatencyRecorder())
    first, second = out.getvalue().splitlines()
    # Starts at 0 (hdrh's writer cannot), max in ms as a bucket edge, not floored.
    assert split(first)[:4] == ("runs.wait", 0.0, 5.0, 1000.447)
    assert first.startswith("Tag=runs.wait,0.000,5.000,1000.447,HIST")
    assert split(second)[:4] == ("runs.wait", 5.0, 5.0, 0.0)


@pytest.mark.parametrize(
    "tag",
    [
        pytest.param("", id="empty"),  # no tag at all
        pytest.param("runs wait", id="space"),  # the reader splits on it
        pytest.param("runs,wait", id="comma"),  # the field separator
        pytest.param("runs\nwait", id="newline"),  # the line separator
    ],
)
def test_tags_that_would_break_the_format_are_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="tag"):
        HlogWriter(io.StringIO(), start_epoch_s=0).write_interval(tag, 0, 1, LatencyRecorder())


def test_snapshot_lines_merge_scenarios_per_operation() -> None:
    registry = MetricsRegistry()
    registry.metrics("runs.wait", "a").record(0, 0.001)
    registry.metrics("runs.wait", "b", {"x": "1"}).record(0, 0.002)
    registry.metrics("assistants.search").record(0, 0.003)
    out = io.StringIO()
    HlogWriter(out, start_epoch_s=0).write_snapshot(registry.snapshot_interval(1.0))
    lines = [split(line) for line in out.getvalue().splitlines()]
    assert [(tag, LatencyRecorder.from_blob(blob).count) for tag, *_, blob in lines] == [
        ("assistants.search", 1),
        ("runs.wait", 2),
    ]
