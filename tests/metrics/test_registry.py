"""MetricsRegistry: interval snapshots reset, totals accumulate, registries merge as data."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lgbench.metrics import IntervalSnapshot, MetricKey, MetricsRegistry

ORIGIN_S = 1000.0  # the run's start on the (monotonic) clock
ROOT = Path(__file__).resolve().parents[2]


def record_burst(registry: MetricsRegistry, operation: str, latencies_ms: list[int]) -> None:
    metrics = registry.metrics(operation, "chat")
    for latency_ms in latencies_ms:
        metrics.record(ORIGIN_S, ORIGIN_S + latency_ms / 1000)


def test_snapshots_reset_the_interval_and_totals_keep_everything() -> None:
    registry = MetricsRegistry(origin_s=ORIGIN_S)
    live = registry.metrics("runs.wait", "chat")
    record_burst(registry, "runs.wait", [10, 20, 30])
    record_burst(registry, "threads.create", [1])

    first = registry.snapshot_interval(ORIGIN_S + 5)
    assert (first.start_s, first.end_s, first.length_s) == (0.0, 5.0, 5.0)
    assert first.by_operation()["runs.wait"].latency.count == 3
    assert registry.totals_by_operation()["runs.wait"].latency.count == 3

    record_burst(registry, "runs.wait", [40])
    assert registry.metrics("runs.wait", "chat") is live  # the same object across snapshots
    second = registry.snapshot_interval(ORIGIN_S + 10)
    assert (second.start_s, second.end_s) == (5.0, 10.0)
    interval = second.by_operation()
    assert interval["runs.wait"].latency.count == 1  # only what came after the first snapshot
    assert interval["runs.wait"].latency.sum_us == 40_000
    assert interval["threads.create"].count == 0  # a quiet key is there, empty
    totals = registry.totals_by_operation()
    assert totals["runs.wait"].latency.count == 4
    assert totals["runs.wait"].latency.sum_us == 100_000
    assert totals["threads.create"].count == 1
    assert first.by_operation()["runs.wait"].latency.count == 3  # a snapshot is not touched later
    assert registry.elapsed_s == 10.0
    assert registry.summary()["runs.wait"]["rate_per_s"] == 0.4


def test_totals_stop_at_the_last_snapshot() -> None:
    registry = MetricsRegistry()
    record_burst(registry, "runs.wait", [5])
    assert registry.totals == {}
    registry.snapshot_interval(1.0)
    assert registry.totals[MetricKey("runs.wait", "chat")].count == 1
    with pytest.raises(TypeError):
        registry.totals[MetricKey("x")] = registry.metrics("x")  # type: ignore[index]


def test_a_copy_keeps_the_totals_of_its_time() -> None:
    registry = MetricsRegistry(origin_s=ORIGIN_S)
    record_burst(registry, "runs.wait", [10, 20])
    registry.snapshot_interval(ORIGIN_S + 1)
    copy = registry.copy()
    record_burst(registry, "runs.wait", [30, 40, 50])
    registry.snapshot_interval(ORIGIN_S + 2)
    assert registry.totals_by_operation()["runs.wait"].latency.count == 5
    assert copy.totals_by_operation()["runs.wait"].latency.count == 2
    assert copy.totals_by_operation()["runs.wait"].latency.sum_us == 30_000
    assert copy.elapsed_s == 1.0
    assert copy.summary()["runs.wait"]["latency_ms"]["max"] == pytest.approx(20, rel=1e-3)


def test_snapshots_cannot_go_back_in_time() -> None:
    registry = MetricsRegistry(origin_s=5.0)
    registry.snapshot_interval(8.0)
    registry.snapshot_interval(8.0)  # an empty interval is fine
    with pytest.raises(ValueError, match="before the previous"):
        registry.snapshot_interval(7.0)


def test_keys_split_by_scenario_and_tags_and_merge_by_operation() -> None:
    registry = MetricsRegistry()
    registry.metrics("runs.wait", "a").record(0, 0.010)
    registry.metrics("runs.wait", "b", {"strategy": "enqueue"}).record(0, 0.020)
    registry.metrics("runs.wait", "b", {"strategy": "enqueue"}).record(0, 0.030, error_status=500)
    snapshot = registry.snapshot_interval(2.0)
    assert sorted(key.label() for key in snapshot.metrics) == [
        "runs.wait{scenario=a}",
        "runs.wait{scenario=b,strategy=enqueue}",
    ]
    summary = snapshot.summary()["runs.wait"]
    assert (summary["count"], summary["errors"], summary["rate_per_s"]) == (3, 1, 1.5)
    assert summary["latency_ms"]["mean"] == 20.0


def test_interval_snapshots_round_trip_as_json() -> None:
    registry = MetricsRegistry()
    registry.metrics("runs.stream", tags={"mode": "values"}).record_corrected(0, 0.5, 100_000)
    registry.metrics("runs.stream").record_timeout()
    snapshot = registry.snapshot_interval(3.0)
    copy = IntervalSnapshot.from_dict(json.loads(json.dumps(snapshot.to_dict())))
    assert (copy.start_s, copy.end_s) == (0.0, 3.0)
    assert copy.summary() == snapshot.summary()
    with pytest.raises(ValueError, match="schema_version"):
        IntervalSnapshot.from_dict({**snapshot.to_dict(), "schema_version": 99})


def fill(registry: MetricsRegistry, seed: int) -> None:
    """Deterministic traffic: two operations, errors of every kind, closed and open model."""
    for i in range(200):
        latency_s = ((i * 7919 + seed * 104729) % 5000 + 1) / 1000
        registry.metrics("runs.wait", "w").record(0.0, latency_s)
        registry.metrics("threads.create").record_corrected(0.0, latency_s / 10, 2_000)
        if i % 50 == seed:
            registry.metrics("runs.wait", "w").record(0.0, latency_s, error_status=503)
            registry.metrics("runs.wait", "w").record_timeout()
            registry.metrics("threads.create").record_transport_error()
            registry.metrics("threads.create").record(1.0, 0.0)  # out of range


WORKER = textwrap.dedent(
    """
    import json, sys
    from lgbench.metrics import MetricsRegistry
    from tests.metrics.test_registry import fill

    registry = MetricsRegistry()
    fill(registry, int(sys.argv[1]))
    registry.snapshot_interval(float(sys.argv[2]))
    json.dump(registry.to_dict(), sys.stdout)
    """
)


def test_registries_merge_across_processes_through_encoded_histograms() -> None:
    # Two worker processes record and send their totals as JSON (histograms encoded, never
    # pickled); the parent's merge must equal one registry that saw all the traffic.
    merged = MetricsRegistry()
    for seed, elapsed in ((1, "9.5"), (2, "10.0")):
        output = subprocess.run(
            [sys.executable, "-c", WORKER, str(seed), elapsed],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,  # so that `tests` imports as in this process
        ).stdout
        merged.merge_dict(json.loads(output))

    single = MetricsRegistry()
    fill(single, 1)
    fill(single, 2)
    single.snapshot_interval(10.0)

    assert merged.elapsed_s == 10.0
    assert merged.summary() == single.summary()
    for key, total in single.totals.items():
        other = merged.totals[key]
        assert other.latency.buckets() == total.latency.buckets()
        if total.corrected is None:
            assert other.corrected is None
        else:
            assert other.corrected is not None
            assert other.corrected.buckets() == total.corrected.buckets()
    summary = merged.summary()["threads.create"]
    assert summary["out_of_range"] == 8  # 4 per worker, carried across, never dropped
    assert summary["transport_errors"] == 8


def test_merge_checks_the_schema_version() -> None:
    with pytest.raises(ValueError, match="schema_version"):
        MetricsRegistry().merge_dict({"schema_version": 0, "elapsed_s": 0, "metrics": []})
