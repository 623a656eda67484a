"""A soak's memory does not grow with its length: what the per-interval path retains.

Each closed interval goes to intervals.hlog and timeseries.jsonl, into the drift tracker and
the threshold evaluator, then its histograms are dropped: only the running totals, one open
drift window and one open threshold window stay. A synthetic run of many intervals must keep
the same number of live histograms after 300 intervals as after 1,800, and its traced memory
may grow only by the drift points (a few numbers per minute of run).
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from lgbench.engine._recorder import Recorder, ScenarioStats
from lgbench.engine._timeseries import TimeseriesWriter
from lgbench.history import HistoryWriter
from lgbench.metrics import HlogWriter, LatencyRecorder
from lgbench.observe import DriftTracker
from lgbench.thresholds import ThresholdEvaluator
from lgbench.workload import parse_threshold_option

OPERATIONS = ("threads.create", "runs.wait", "runs.stream", "threads.get_state", "store.put_item")


def _live_histograms() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, LatencyRecorder))


@pytest.mark.slow  # thousands of intervals
def test_retained_state_does_not_grow_with_the_number_of_intervals(tmp_path: Path) -> None:
    clock_s = 0.0
    history = HistoryWriter.open(
        tmp_path / "history.jsonl", clock=lambda: clock_s, origin_s=0.0, header={}
    )
    with (
        history,
        (tmp_path / "intervals.hlog").open("w") as hlog_file,
        (tmp_path / "timeseries.jsonl").open("wb", buffering=0) as series_file,
    ):
        hlog = HlogWriter(hlog_file, start_epoch_s=0.0)
        recorder = Recorder(clock=lambda: clock_s, origin_s=0.0, history=history, hlog=hlog)
        recorder.scenario(
            ScenarioStats(
                name="soak", executor="constant-vus", model="closed", description="", tags={},
                start_time_s=0.0, planned_s=1e9, max_vus=4,
            )
        )  # fmt: skip
        timeseries = TimeseriesWriter(series_file, recorder)
        drift = DriftTracker(60.0)
        evaluator = ThresholdEvaluator(
            [parse_threshold_option("runs.wait.latency.p99 < 2s in every 1m")]
        )

        def run_intervals(count: int) -> None:
            nonlocal clock_s
            for _ in range(count):
                for n, operation in enumerate(OPERATIONS):
                    metrics = recorder.registry.metrics(operation, "soak")
                    for i in range(20):
                        metrics.record(clock_s, clock_s + 0.001 * (n + 1) + 0.0001 * i)
                clock_s += 1.0
                snapshot = recorder.snapshot(clock_s)
                timeseries.write(snapshot)
                drift.observe(snapshot.operations)
                evaluator.observe(snapshot.operations, snapshot.derived)

        # Traced from the start: what the warm-up allocated and the rest freed must count.
        tracemalloc.start()
        try:
            run_intervals(300)
            histograms_early = _live_histograms()
            before = tracemalloc.take_snapshot()
            run_intervals(1500)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        histograms_late = _live_histograms()

    assert histograms_late == histograms_early
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # 25 more drift windows x 5 operations: a few kB; an interval kept would be ~100 kB.
    assert grown < 100_000, grown
    assert drift.to_dict()["operations"]["runs.wait"]["windows"] == 30
