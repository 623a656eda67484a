"""The run listener hook and the feed: faults, breached thresholds and the checker's verdict
reach the exported figures; a listener that fails costs the run nothing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import check_history
from lgbench.engine._listener import RunStart
from lgbench.engine._recorder import Recorder, Snapshot
from lgbench.monitor import MetricsFeed
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload

FAULTED = """
name = "faulted"

[[scenario]]
name = "threads"
executor = "constant-arrival-rate"
rate = 10
duration = "2s"
steps = [{ op = "threads.create" }]

[[fault]]
name = "slow network"
kind = "latency"
at = "300ms"
for = "1s"
latency = "20ms"

[thresholds]
"threads.create.latency.p99" = { condition = "< 1ms", abort_on_fail = false }
"anomalies" = "== 0"
"""


class Failing:
    """A listener that breaks at the first interval, and counts what it heard."""

    def __init__(self) -> None:
        self.intervals = 0
        self.finished = 0

    def run_started(self, start: RunStart) -> None:
        pass

    def interval_closed(self, snapshot: Snapshot, recorder: Recorder) -> None:
        self.intervals += 1
        raise RuntimeError("listener bug")

    def fault_changed(self, name: str, kind: str, phase: str, at_s: float) -> None:
        pass

    def threshold_breached(self, name: str) -> None:
        pass

    def run_finished(self, summary: Mapping[str, Any], check: Mapping[str, Any] | None) -> None:
        self.finished += 1


@pytest.mark.anyio
@pytest.mark.server
async def test_faults_thresholds_and_the_verdict_reach_the_figures(
    langgraph_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(FAULTED, encoding="utf-8")
    feed = MetricsFeed()
    failing = Failing()
    seen_faults: list[Mapping[tuple[str, str], int]] = []

    class Watching:
        """Records the fault gauge as each interval publishes it."""

        run_started = feed.run_started
        fault_changed = feed.fault_changed
        threshold_breached = feed.threshold_breached
        run_finished = feed.run_finished

        def interval_closed(self, snapshot: Snapshot, recorder: Recorder) -> None:
            feed.interval_closed(snapshot, recorder)
            seen_faults.append(dict(feed.figures.faults))

    result = await run_workload(
        load_workload(path),
        RunOptions(
            target=langgraph_url,
            out_dir=tmp_path / "run",
            listeners=(failing, Watching()),
            report=False,
        ),
        checker=check_history,
    )
    summary = result.summary
    assert summary is not None and not result.partial
    # The failing listener was dropped after its first call, and said so; the other went on.
    assert failing.intervals == 1 and failing.finished == 0
    assert any("listener bug" in warning for warning in summary["warnings"])
    assert {("slow network", "latency"): 1} in seen_faults
    figures = feed.figures
    assert figures.finished
    assert figures.faults == {("slow network", "latency"): 0}
    assert figures.thresholds == {"threads.create.latency.p99": 0, "anomalies": 1}
    assert figures.anomalies == 0
    total = sum(n for (op, _, _), n in figures.requests.items() if op == "threads.create")
    assert total == summary["operations"]["threads.create"]["count"]


def test_a_breached_threshold_shows_at_once_and_the_end_settles_every_threshold() -> None:
    feed = MetricsFeed(clock=lambda: 1_700_000_010.0)
    feed.run_started(RunStart("w", Path("runs/w-1"), 60.0, 1_700_000_000.0, 1.0))
    assert feed.figures.workload == "w" and feed.figures.run_dir == "runs/w-1"
    assert feed.figures.taken_at_unix_s == 1_700_000_010.0
    feed.threshold_breached("errors.rate")
    assert feed.figures.thresholds == {"errors.rate": 0}
    assert feed.figures.anomalies is None and not feed.figures.finished
    feed.run_finished(
        {"thresholds": {"results": [{"name": "errors.rate", "passed": False},
                                    {"name": "runs.wait.latency.p99", "passed": True}]}},
        {"valid": False, "counts": {"anomalies": 3}},
    )  # fmt: skip
    figures = feed.figures
    assert figures.finished
    assert figures.thresholds == {"errors.rate": 0, "runs.wait.latency.p99": 1}
    assert figures.anomalies == 3
