"""A run through faults on a server of its own: nothing lost, nothing misjudged.

The workload streams, waits and double-texts while the network is slowed, connections are
reset, streams are cut mid-event, and the embedded server is killed and restarted. The run
must carry on and finish; leave a history that is complete and well formed, with the faults'
markers; mark the outages in summary.json; record operations caught by a fault as ``info``
(outcome unknown) or ``fail``, never as success; get back to successes after the restart;
and the checker, on a correct server, must say valid or unknown, never invalid. About 20 s
per backend, most of it the server's restart.

How long the restart takes depends on the machine: seconds on a quiet one, many more beside
other CPU-heavy work. The load must go on long enough after it to be seen succeeding again, so
the test first times a start of the embedded server and sizes the load from that.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import check_history
from lgbench.history import read_history
from lgbench.run import RunOptions, run_workload
from lgbench.server import open_embedded_server
from lgbench.workload import load_workload
from tests.engine._history_checks import assert_well_formed

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WORKLOAD = """
name = "through-faults"

[target.timeouts]
connect = "2s"
read = "4s"

[defaults]
seed = 7
graceful_stop = "5s"

[[scenario]]
name = "chat"
executor = "constant-vus"
vus = 2
duration = "{duration_s}s"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.stream", thread = "$thread", assistant = "streamer",
    input = { n = 6, gap_s = 0.05 }, stream_mode = "values", stream_resumable = true },
  { op = "threads.get_state", thread = "$thread" },
  { sleep = "200ms" },
]

[[scenario]]
name = "bursts"
executor = "burst"
start_time = "1s"
threads = 2
burst = 3
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 0.1 }
max_duration = "20s"

[[fault]]
name = "slow"
kind = "latency"
at = "0.5s"
for = "2s"
latency = "100ms"

[[fault]]
name = "cut"
kind = "cut"
at = "3s"
for = "1s"
after_bytes = 400

[[fault]]
name = "resets"
kind = "reset"
at = "4.5s"
for = "0.5s"

[[fault]]
name = "crash"
kind = "kill"
at = "5.5s"
for = "0.5s"
"""


@pytest.fixture(params=[pytest.param("asyncio"), pytest.param("trio")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return (request.param, {})


async def _startup_s(tmp_path: Path) -> float:
    """Seconds the embedded server takes to start and answer on this machine, now."""
    began = time.monotonic()
    async with open_embedded_server(log_path=tmp_path / "probe-server.log"):
        return time.monotonic() - began


async def test_a_run_through_faults_and_a_server_crash_loses_nothing(tmp_path: Path) -> None:
    # The crash's restart begins at 6 s; the load goes on for three such starts after it (and
    # at least to 11 s), so that a busy machine's slow restart still leaves load to succeed.
    duration_s = max(11, math.ceil(6.0 + 3.0 * await _startup_s(tmp_path) + 2.0))
    path = tmp_path / "faults.toml"
    path.write_text(WORKLOAD.replace("{duration_s}", str(duration_s)))
    run_dir = tmp_path / "run"
    result = await run_workload(
        load_workload(path), RunOptions(target="embedded", out_dir=run_dir, report=False)
    )
    assert not result.partial, result.stop_reason
    summary = json.loads((run_dir / "summary.json").read_text())

    faults = {fault["name"]: fault for fault in summary["faults"]}
    assert set(faults) == {"slow", "cut", "resets", "crash"}
    for fault in faults.values():
        assert fault["end_s"] is not None and fault["end_s"] > fault["start_s"]
    crash = faults["crash"]
    assert crash["start_s"] >= 5.5
    assert summary["proxy"]["connections_reset"] >= 1

    history = read_history(run_dir / "history.jsonl")
    assert not history.truncated
    assert_well_formed(history)
    assert len(history.events) == summary["history"]["events"]
    markers = [
        (m["name"], m["value"]["name"]) for m in history.markers() if m["name"].startswith("fault.")
    ]
    for name in faults:
        assert ("fault.start", name) in markers and ("fault.end", name) in markers

    # Operations the crash caught have an unknown outcome, or certainly failed: none is
    # taken for a success. The server was down from the first threads.create the crash
    # failed to the last one: nothing in between may be ok. (Not the fault's own times:
    # its end is when lgbench saw the server answer again, which on a busy machine can be
    # later than the load did.)
    completions = [e for e in history.operations() if e["type"] in ("ok", "fail", "info")]
    creates = [e for e in completions if e["f"] == "threads.create"]
    failed = [
        e["time_ns"] / 1e9
        for e in creates
        if e["type"] != "ok" and crash["start_s"] <= e["time_ns"] / 1e9 <= crash["end_s"]
    ]
    assert failed, "no threads.create felt the crash"
    during = [e for e in creates if min(failed) < e["time_ns"] / 1e9 < max(failed)]
    assert all(e["type"] != "ok" for e in during), (crash, during)
    assert any(e["type"] == "info" for e in completions)
    # After the restart the load succeeds again.
    after = [e for e in completions if e["time_ns"] / 1e9 > crash["end_s"] + 0.5]
    assert any(e["type"] == "ok" for e in after), (crash, duration_s, summary["duration_s"])

    verdict = check_history(run_dir / "history.jsonl")
    # Valid or unknown, never invalid: a fault alone is no anomaly.
    assert verdict.valid is not False, verdict.to_dict()
