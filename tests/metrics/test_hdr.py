"""LatencyRecorder: range checks, coordinated-omission back-fill, one-pass stats, transport."""

from __future__ import annotations

import gc
import json
import random
import weakref

import pytest
from hdrh.histogram import HdrHistogram

from lgbench.metrics import (
    HIGHEST_TRACKABLE_US,
    SUMMARY_PERCENTILES,
    LatencyRecorder,
    LatencyStats,
)
from tests.metrics._sequence import FIXTURE, record_sequence

RECORD_CASES = [
    # happy path
    pytest.param(0, True, id="zero"),  # 0 µs is a value, not a reject
    pytest.param(1, True, id="lowest"),  # 1 µs
    pytest.param(1_234_567, True, id="seconds"),  # a second and a bit
    pytest.param(HIGHEST_TRACKABLE_US, True, id="one-hour"),  # the top of the range
    # sad path
    pytest.param(-1, False, id="negative"),  # a clock gone backwards
    pytest.param(HIGHEST_TRACKABLE_US + 1, False, id="above-hour"),  # hdrh would take it
    pytest.param(2**32 + 10, False, id="past-counts"),  # hdrh returns False here
    pytest.param(2**62, False, id="huge"),  # far past everything
]


@pytest.mark.parametrize(("value_us", "recorded"), RECORD_CASES)
def test_out_of_range_values_are_counted_never_dropped(value_us: int, recorded: bool) -> None:
    recorder = LatencyRecorder()
    assert recorder.record_us(value_us) is recorded
    assert recorder.count == int(recorded)
    assert recorder.out_of_range == int(not recorded)
    assert recorder.sum_us == (value_us if recorded else 0)


@pytest.mark.parametrize(("value_us", "recorded"), RECORD_CASES)
def test_corrected_out_of_range_counts_once_and_records_nothing(
    value_us: int, recorded: bool
) -> None:
    recorder = LatencyRecorder()
    assert recorder.record_corrected_us(value_us, 10_000) is recorded
    assert recorder.out_of_range == int(not recorded)
    assert (recorder.count > 0) is recorded


CORRECTED_CASES = [
    pytest.param(5_000, 10_000, [5_000], id="faster-than-interval"),  # nothing to back-fill
    pytest.param(10_000, 10_000, [10_000], id="equal-to-interval"),  # nothing to back-fill
    pytest.param(10_001, 10_000, [10_001, 1], id="just-over"),  # one back-filled
    pytest.param(35_000, 10_000, [35_000, 25_000, 15_000, 5_000], id="several"),  # down to <= I
    pytest.param(1_000_000, 0, [1_000_000], id="no-interval"),  # 0: no correction
    pytest.param(1_000_000, -5, [1_000_000], id="negative-interval"),  # same as 0
]


@pytest.mark.parametrize(("value_us", "interval_us", "values"), CORRECTED_CASES)
def test_correction_back_fills_like_hdrhistogram(
    value_us: int, interval_us: int, values: list[int]
) -> None:
    recorder = LatencyRecorder()
    assert recorder.record_corrected_us(value_us, interval_us)
    reference = HdrHistogram(1, HIGHEST_TRACKABLE_US, 3)
    for value in values:
        reference.record_value(value)
    assert recorder.count == len(values)
    assert recorder.sum_us == sum(values)  # the closed-form sum of the back-filled series
    expected = LatencyRecorder.from_blob(reference.encode())
    assert [b for b in recorder.buckets()] == expected.buckets()


def test_stats_take_one_pass_and_agree_with_per_percentile_queries() -> None:
    rng = random.Random(7)
    values = [rng.randint(100, 5_000_000) for _ in range(5_000)]
    recorder = LatencyRecorder()
    reference = HdrHistogram(1, HIGHEST_TRACKABLE_US, 3)
    for value in values:
        recorder.record_us(value)
        reference.record_value(value)
    stats = recorder.stats()
    assert stats.count == len(values)
    assert stats.mean_us == sum(values) / len(values)  # exact, not from bucket midpoints
    assert stats.min_us == reference.get_lowest_equivalent_value(min(values))
    assert stats.max_us == reference.get_max_value() == recorder.max_us
    for percentile in SUMMARY_PERCENTILES.values():
        assert stats.percentiles_us[percentile] == reference.get_value_at_percentile(percentile)


def test_percentiles_are_bucket_edges_within_the_precision() -> None:
    recorder = LatencyRecorder()
    recorder.record_us(1_000_000)
    stats = recorder.stats()
    assert stats.min_us is not None and stats.max_us is not None
    assert stats.min_us <= 1_000_000 <= stats.max_us <= 1_000_000 * 1.001
    assert stats.to_ms() == {
        "min": stats.min_us / 1000,
        "mean": 1000.0,
        "p50": stats.max_us / 1000,
        "p90": stats.max_us / 1000,
        "p95": stats.max_us / 1000,
        "p99": stats.max_us / 1000,
        "p99_9": stats.max_us / 1000,
        "max": stats.max_us / 1000,
    }


def test_empty_stats_are_none() -> None:
    stats = LatencyRecorder().stats()
    assert stats == LatencyStats(0, None, None, None, {})
    assert set(stats.to_ms().values()) == {None}


def test_merging_an_empty_recorder_keeps_the_minimum() -> None:
    # hdrh's add() would set the minimum to 0 here.
    recorder = LatencyRecorder()
    recorder.record_us(5_000)
    recorder.merge(LatencyRecorder())
    recorder.merge_dict(LatencyRecorder().to_dict())
    assert recorder.stats().min_us == 5_000


def test_merge_adds_values_sums_and_rejects() -> None:
    a, b = LatencyRecorder(), LatencyRecorder()
    a.record_us(1_000)
    b.record_us(3_000)
    b.record_us(-1)
    a.merge(b)
    assert (a.count, a.sum_us, a.out_of_range) == (2, 4_000, 1)
    assert (b.count, b.sum_us, b.out_of_range) == (1, 3_000, 1)  # unchanged


def test_to_dict_is_json_and_round_trips() -> None:
    recorder = LatencyRecorder()
    for value in (0, 17, 1_500, 2_000_000):
        recorder.record_us(value)
    recorder.record_us(-3)
    state = json.loads(json.dumps(recorder.to_dict()))
    copy = LatencyRecorder.from_dict(state)
    assert (copy.count, copy.sum_us, copy.out_of_range) == (4, 2_001_517, 1)
    assert copy.buckets() == recorder.buckets()
    assert copy.stats() == recorder.stats()


def test_from_blob_rebuilds_the_sum_from_bucket_midpoints() -> None:
    recorder = LatencyRecorder()
    recorder.record_us(3_000)  # bucket [3000, 3001]: midpoint 3001
    copy = LatencyRecorder.from_blob(recorder.encode())
    assert (copy.count, copy.sum_us, copy.out_of_range) == (1, 3_001, 0)
    assert LatencyRecorder.from_blob(LatencyRecorder().encode()).count == 0


def test_a_histogram_of_another_shape_is_refused() -> None:
    other = HdrHistogram(1, 60_000_000, 2)
    other.record_value(5)
    with pytest.raises(ValueError, match="significant digits"):
        LatencyRecorder.from_blob(other.encode())
    with pytest.raises(ValueError, match="significant digits"):
        LatencyRecorder().merge_dict(
            {"histogram": other.encode().decode(), "sum_us": 5, "out_of_range": 0}
        )


def test_recording_fills_the_same_counters_as_hdrh_record_value() -> None:
    edges = [0, 1, 2, 2047, 2048, 2049, 4095, 4096, 65_535, 65_536, HIGHEST_TRACKABLE_US]
    rng = random.Random(7)
    values = edges + [int(10 ** rng.uniform(0, 9.55)) for _ in range(4_000)]
    ours, corrected = LatencyRecorder(), LatencyRecorder()
    plain = HdrHistogram(1, HIGHEST_TRACKABLE_US, 3)
    back_filled = HdrHistogram(1, HIGHEST_TRACKABLE_US, 3)
    for number, value in enumerate(values):
        # no back-fill, or a few values at most: hdrh back-fills in pure Python
        interval = (0, -5, 1_000_000_000, value // 3 + 1)[number % 4]
        assert ours.record_us(value) is plain.record_value(value) is True
        assert corrected.record_corrected_us(value, interval) is True
        back_filled.record_corrected_value(value, interval)
    for recorder, reference in ((ours, plain), (corrected, back_filled)):
        assert recorder.encode() == reference.encode().decode("ascii")
        assert recorder.count == reference.get_total_count()
        assert recorder.max_us == reference.get_max_value()


def test_a_dropped_histogram_is_freed_at_once_without_the_cycle_collector() -> None:
    # hdrh's histogram and encoder refer to each other; left so, every interval's dropped
    # histograms (190 kB each) wait for a cycle collection that rarely comes.
    blob = LatencyRecorder().encode()
    makers = (LatencyRecorder, lambda: LatencyRecorder.from_blob(blob))
    gc.disable()
    try:
        for make in makers:
            recorder = make()
            recorder.record_us(1500)
            histogram = weakref.ref(recorder._histogram)
            del recorder
            assert histogram() is None
    finally:
        gc.enable()


def test_a_copy_equals_the_original_and_is_independent() -> None:
    original = LatencyRecorder()
    for value in (0, 1, 999, 1_000, 123_456, 3_600_000_000):
        original.record_us(value)
    original.record_us(-1)  # out of range: counted, and copied too
    original.record_corrected_us(50_000, 10_000)
    copy = original.copy()
    assert copy.stats() == original.stats()
    assert copy.buckets() == original.buckets()
    assert (copy.count, copy.sum_us, copy.out_of_range) == (
        original.count,
        original.sum_us,
        original.out_of_range,
    )
    assert copy.encode() == original.encode()
    copy.record_us(5)
    original.record_us(7_000)
    assert copy.count == original.count
    assert copy.stats().min_us == 0 and 5 in {low for low, _, _ in copy.buckets()}
    assert 5 not in {low for low, _, _ in original.buckets()}
    empty = LatencyRecorder().copy()
    assert empty.count == 0 and empty.stats() == LatencyRecorder().stats()
    empty.record_us(42)
    assert empty.stats().min_us == empty.stats().max_us == 42


def test_a_fixed_sequence_encodes_as_it_did_before() -> None:
    # intervals.hlog lines, .hgrm text and every figure, against what they were before
    # values were folded into the histogram in bulk.
    expected = json.loads(FIXTURE.read_text())
    assert json.loads(json.dumps(record_sequence(), sort_keys=True)) == expected
