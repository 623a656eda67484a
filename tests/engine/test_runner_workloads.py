"""Every sample workload in workloads/ runs, shortened, against the real embedded server.

Each file runs with ``--duration 2s --vus 2 --graceful-stop 2s`` (arrival rates at most
5/s) on asyncio and trio, and must leave a sane run folder: a summary whose operations are
the workload's own, with successes and no transport errors; a history whose lines pair up
(invoke, then one completion, per process in order); an interval log hdrh can read back. The
burst workload must also leave its markers, every burst settled; timeseries.jsonl's per-interval
counts must add up to the summary's. About 5 s per run.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from lgbench.engine import Overrides
from lgbench.faults import SERVER_KINDS
from lgbench.history import read_history
from lgbench.metrics import LatencyRecorder
from lgbench.run import RunOptions, run_workload
from lgbench.workload import OperationStepConfig, load_workload
from tests.engine._history_checks import assert_well_formed

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WORKLOADS = sorted((Path(__file__).parents[2] / "workloads").glob("*.toml"))


@pytest.fixture(params=[pytest.param("asyncio"), pytest.param("trio")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Both event loops; asyncio without debug mode, which would slow every request down."""
    return (request.param, {})


def _operations(path: Path) -> set[str]:
    workload = load_workload(path)
    names: set[str] = set()
    for scenario in workload.scenarios:
        if scenario.executor_name == "burst":
            names |= {"threads.create", "runs.create"}
        names |= {step.op for step in scenario.steps if isinstance(step, OperationStepConfig)}
    return names


@pytest.mark.parametrize("path", WORKLOADS, ids=[path.stem for path in WORKLOADS])
async def test_sample_workload_runs_shortened_against_the_embedded_server(
    path: Path, langgraph_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    workload = load_workload(path)
    # Server faults (kill, pause) need a server of lgbench's own: not the shared one; so do
    # users with fixture tokens (the embedded server with auth, which signs them).
    own_server = (
        any(fault.kind in SERVER_KINDS for fault in workload.faults)
        or workload.target.embedded.auth
    )
    result = await run_workload(
        workload,
        RunOptions(
            target="embedded" if own_server else langgraph_url,
            out_dir=run_dir,
            overrides=Overrides(duration_s=2.0, vus=2, rate_per_s=5.0, graceful_stop_s=2.0),
        ),
    )
    assert not result.partial, result.stop_reason
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["schema_version"] == 1
    assert summary["server"]["version"]
    operations = summary["operations"]
    assert set(operations) <= _operations(path) | {
        "runs.get",
        "threads.get",
        "threads.get_state",
        "threads.search",
        "runs.list",
    }
    assert sum(op["ok"] for op in operations.values()) > 0
    for name, op in operations.items():
        assert op["errors_by_kind"]["transport"] == 0, name
        assert op["errors_by_kind"]["other"] == 0, (name, summary["warnings"])
        assert op["out_of_range"] == 0
        if op["count"] > op["errors"]:
            assert op["latency_ms"]["p50"] is not None

    history = read_history(run_dir / "history.jsonl")
    assert history.header["workload"] == summary["workload"]["name"]
    assert not history.truncated
    assert_well_formed(history)
    assert len(history.events) == summary["history"]["events"]

    intervals = [
        line.split(",", 4)
        for line in (run_dir / "intervals.hlog").read_text().splitlines()
        if line.startswith("Tag=")
    ]
    assert intervals
    logged = sum(LatencyRecorder.from_blob(fields[4]).count for fields in intervals)
    assert logged >= sum(op["count"] - op["errors"] for op in operations.values())

    _assert_timeseries_adds_up(run_dir, summary)

    if path.stem == "double-texting":
        starts = history.markers("burst.start")
        settled = history.markers("burst.settled")
        assert len(starts) == len(settled) == 8  # 4 strategies x 2 threads
        assert not any(marker["value"]["timed_out"] for marker in settled)


def _assert_timeseries_adds_up(run_dir: Path, summary: dict[str, Any]) -> None:
    lines = [json.loads(line) for line in (run_dir / "timeseries.jsonl").read_text().splitlines()]
    header, intervals = lines[0], lines[1:]
    assert header["kind"] == "lgbench.timeseries"
    assert header["schema_version"] == 1
    assert intervals
    assert intervals[0]["start_s"] == 0.0
    for before, after in itertools.pairwise(intervals):
        assert after["start_s"] == before["end_s"]
    assert intervals[-1]["end_s"] == pytest.approx(summary["duration_s"], abs=1e-3)
    for name, op in summary["operations"].items():
        for field in ("count", "ok", "errors"):
            logged = sum(line["operations"].get(name, {}).get(field, 0) for line in intervals)
            assert logged == op[field], (name, field)
    for name, scenario in summary["scenarios"].items():
        started = sum(line["scenarios"].get(name, {}).get("started", 0) for line in intervals)
        assert started == scenario["iterations"]["started"], name
    # Sampled beside the figures: lgbench's own memory, and the target's queue and workers.
    assert any(line.get("lgbench", {}).get("rss_bytes", 0) > 0 for line in intervals)
    assert any("workers.max" in line.get("server", {}) for line in intervals)
    assert summary["server"]["sampling"]["status"] == "sampling"
