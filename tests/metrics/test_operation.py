"""OperationMetrics: open-model timing, raw vs corrected histograms, outcomes, summaries."""

from __future__ import annotations

import pytest

from lgbench.metrics import LatencyRecorder, MetricKey, OperationMetrics, latency_us

INTERVAL_US = 10_000  # the VU's usual 10 ms request


def closed_loop_with_one_stall() -> OperationMetrics:
    """A closed-model VU: 999 requests of 10 ms and one that stalls for 1 s."""
    metrics = OperationMetrics()
    t = 0.0
    for i in range(1000):
        took = 1.0 if i == 500 else 0.010
        metrics.record_corrected(t, t + took, INTERVAL_US)
        t += took
    return metrics


def rank_value(values: list[int], percentile: float) -> int:
    """The value hdrh reports a percentile from: rank round(p * n / 100), at least 1."""
    rank = max(int(percentile * len(values) / 100 + 0.5), 1)
    return sorted(values)[rank - 1]


def test_raw_and_corrected_histograms_stay_separate() -> None:
    metrics = closed_loop_with_one_stall()
    assert metrics.corrected is not None
    # Raw: exactly what was measured, one value per request.
    assert metrics.latency.count == 1000
    assert metrics.latency.sum_us == 999 * 10_000 + 1_000_000
    # Corrected: the stall back-fills 1 s - k * 10 ms for k = 1..99, down to 10 ms.
    assert metrics.corrected.count == 1000 + 99
    assert metrics.corrected.sum_us == 999 * 10_000 + sum(k * 10_000 for k in range(1, 101))
    assert metrics.count == metrics.ok == 1000  # outcomes count requests, not back-fill


# The corrected multiset, analytically: 1000 values of 10 ms (999 requests and the last
# back-filled value) and one each of 20 ms, 30 ms, ..., 1000 ms.
CORRECTED_VALUES = [10_000] * 1000 + [k * 10_000 for k in range(2, 101)]
RAW_VALUES = [10_000] * 999 + [1_000_000]

CO_CASES = [
    pytest.param(50.0, 10_000, 10_000, id="p50"),  # both: the common 10 ms
    pytest.param(90.0, 10_000, 10_000, id="p90"),  # rank 989 of 1099: still 10 ms
    pytest.param(95.0, 10_000, 450_000, id="p95"),  # rank 1044: (1044 - 999) * 10 ms
    pytest.param(99.0, 10_000, 890_000, id="p99"),  # rank 1088: the back-fill shows
    pytest.param(99.9, 10_000, 990_000, id="p99.9"),  # rank 1098
    pytest.param(100.0, 1_000_000, 1_000_000, id="max"),  # the stall itself
]


@pytest.mark.parametrize(("percentile", "raw_us", "corrected_us"), CO_CASES)
def test_corrected_percentiles_reflect_the_back_filled_values(
    percentile: float, raw_us: int, corrected_us: int
) -> None:
    assert rank_value(RAW_VALUES, percentile) == raw_us  # the table is the analysis above
    assert rank_value(CORRECTED_VALUES, percentile) == corrected_us
    metrics = closed_loop_with_one_stall()
    assert metrics.corrected is not None
    raw = metrics.latency.percentiles([percentile])[percentile]
    corrected = metrics.corrected.percentiles([percentile])[percentile]
    # Reported values are bucket edges: at most 0.1 % above the exact value.
    assert raw_us <= raw <= raw_us * 1.001
    assert corrected_us <= corrected <= corrected_us * 1.001


def test_open_model_latency_counts_from_the_intended_start() -> None:
    metrics = OperationMetrics()
    intended_s, sent_s, end_s = 10.0, 10.2, 10.25  # the dispatcher was 200 ms late
    metrics.record(intended_s, end_s)
    assert metrics.latency.sum_us == 250_000  # not the 50 ms after the late send
    assert metrics.corrected is None  # the open model needs no back-fill
    assert latency_us(sent_s, end_s) == 50_000


def test_latency_is_rounded_to_whole_microseconds() -> None:
    assert latency_us(0.1, 0.3) == 200_000  # 0.19999999999999998 s
    assert latency_us(1.0, 1.0000004) == 0
    assert latency_us(1.0, 1.0000006) == 1
    with pytest.raises(ValueError, match="NaN"):
        latency_us(float("nan"), 1.0)


def test_a_negative_latency_is_out_of_range_but_still_an_outcome() -> None:
    metrics = OperationMetrics()
    assert not metrics.record(5.0, 4.0)  # end before start: a caller's clock mix-up
    assert (metrics.count, metrics.ok, metrics.out_of_range, metrics.latency.count) == (1, 1, 1, 0)


def test_outcomes_are_counted_by_kind() -> None:
    metrics = OperationMetrics()
    metrics.record(0.0, 0.01)
    metrics.record(0.0, 0.02, error_status=503)
    metrics.record(0.0, 0.03, error_status=503)
    metrics.record_corrected(0.0, 0.04, INTERVAL_US, error_status=409)
    metrics.record_transport_error()
    metrics.record_timeout()
    metrics.record_timeout()
    assert metrics.ok == 1
    assert metrics.http_errors == {503: 2, 409: 1}
    assert (metrics.transport_errors, metrics.timeouts) == (1, 2)
    assert metrics.errors == 6
    assert metrics.count == 7
    assert metrics.latency.count == 4  # only operations that got a response are timed


def test_summary_shape_and_values() -> None:
    metrics = OperationMetrics()
    metrics.record(0.0, 0.010)
    metrics.record(0.0, 0.030, error_status=500)
    metrics.record_timeout()
    summary = metrics.summary(duration_s=2.0)
    latency = summary.pop("latency_ms")
    assert summary == {
        "count": 3,
        "ok": 1,
        "errors": 2,
        "http_errors": {"500": 1},
        "transport_errors": 0,
        "timeouts": 1,
        "rate_per_s": 1.5,
        "out_of_range": 0,
    }
    assert list(latency) == ["min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max"]
    assert latency["min"] == 10.0
    assert latency["mean"] == 20.0
    assert latency["max"] == pytest.approx(30.0, rel=1e-3)
    assert "corrected_latency_ms" not in metrics.summary(2.0)
    assert OperationMetrics().summary(0.0)["rate_per_s"] == 0.0


def test_summary_has_corrected_latency_for_the_closed_model() -> None:
    summary = closed_loop_with_one_stall().summary(duration_s=10.99)
    assert summary["latency_ms"]["p99"] == pytest.approx(10.0, rel=1e-3)
    assert summary["corrected_latency_ms"]["p99"] == pytest.approx(890.0, rel=1e-3)
    assert summary["corrected_latency_ms"]["mean"] == pytest.approx(60_490_000 / 1099 / 1000)


def test_take_hands_everything_over_and_starts_empty() -> None:
    metrics = closed_loop_with_one_stall()
    metrics.record(0.0, 0.5, error_status=502)
    metrics.record_transport_error()
    latency = metrics.latency
    taken = metrics.take()
    assert taken.latency is latency
    assert (taken.count, taken.http_errors, taken.transport_errors) == (1002, {502: 1}, 1)
    assert taken.corrected is not None and taken.corrected.count == 1099
    assert (metrics.count, metrics.latency.count, metrics.corrected) == (0, 0, None)
    assert metrics.http_errors == {}


def test_merge_and_dict_round_trip() -> None:
    a = closed_loop_with_one_stall()
    b = OperationMetrics()
    b.record(0.0, 0.002, error_status=429)
    b.record_timeout()
    merged = OperationMetrics()
    merged.merge(a)
    merged.merge(b)
    via_dicts = OperationMetrics.from_dict(a.to_dict())
    via_dicts.merge_dict(b.to_dict())
    for each in (merged, via_dicts):
        assert each.count == 1002
        assert each.http_errors == {429: 1}
        assert each.timeouts == 1
        assert each.latency.count == 1001
        assert each.corrected is not None and each.corrected.count == 1099
    assert merged.summary(1.0) == via_dicts.summary(1.0)


KEY_CASES = [
    pytest.param(MetricKey("runs.wait"), "runs.wait", id="operation-only"),
    pytest.param(MetricKey("runs.wait", "chat"), "runs.wait{scenario=chat}", id="scenario"),
    pytest.param(
        MetricKey.of("runs.wait", "chat", {"strategy": "enqueue", "assistant": "sleepy"}),
        "runs.wait{scenario=chat,assistant=sleepy,strategy=enqueue}",
        id="tags-sorted",
    ),
    pytest.param(MetricKey.of("threads.create", tags={"a": "1"}), "threads.create{a=1}", id="tag"),
]


@pytest.mark.parametrize(("key", "label"), KEY_CASES)
def test_metric_keys(key: MetricKey, label: str) -> None:
    assert key.label() == label
    assert MetricKey.from_dict(key.to_dict()) == key
    assert hash(MetricKey.from_dict(key.to_dict())) == hash(key)


def test_metric_key_tags_are_normalised() -> None:
    assert MetricKey("op", "", (("b", "2"), ("a", "1"))) == MetricKey.of(
        "op", "", {"a": "1", "b": "2"}
    )
    with pytest.raises(ValueError, match="repeat"):
        MetricKey("op", "", (("a", "1"), ("a", "2")))
    with pytest.raises(ValueError, match="operation"):
        MetricKey("")


def test_recorders_are_independent_objects() -> None:
    metrics = OperationMetrics()
    assert isinstance(metrics.latency, LatencyRecorder)
    metrics.record_corrected(0.0, 0.1, INTERVAL_US)
    assert metrics.corrected is not metrics.latency
