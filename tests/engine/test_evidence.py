"""Every answer is evidence, engine side: observation is cheap and counted apart, the post-run
audit reads the load's threads back, empty answers are counted, a stream names its run from
its headers, and lag warnings blame lgbench only when its own CPU says so.

The observer and audit tests run against the real embedded server; the empty answers come
from a scripted server (a MockTransport answering ``{}`` to waits and event-less streams).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import check_history
from lgbench.client import MockTransport, Request, Response
from lgbench.engine import AuditOptions
from lgbench.engine._recorder import ThreadLedger, bottleneck_warnings
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload, parse_workload

BURST = """
name = "burst"

[[scenario]]
name = "enqueue"
executor = "burst"
threads = 6
burst = 3
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 0.3 }
max_duration = "1m"
"""

CHAT = """
name = "chat-like"

[[scenario]]
name = "conversations"
executor = "per-vu-iterations"
vus = 3
iterations = 1
max_duration = "1m"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.stream", thread = "$thread", assistant = "streamer",
    input = { n = 3, gap_s = 0.01 }, multitask_strategy = "enqueue", repeat = 2 },
]
"""

EMPTY = """
name = "empty"

[[scenario]]
name = "empty"
executor = "per-vu-iterations"
vus = 1
iterations = 2
max_duration = "1m"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.wait", thread = "$thread", assistant = "sleepy" },
  { op = "runs.stream", thread = "$thread", assistant = "sleepy" },
]
"""


def _operations(history: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines()]


async def _run(tmp_path: Path, text: str, url: str, **options: Any) -> Any:
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8")
    return await run_workload(
        load_workload(path),
        RunOptions(target=url, out_dir=tmp_path / "run", loop_lag_interval_s=None, **options),
        checker=check_history,
    )


@pytest.mark.anyio
@pytest.mark.server
async def test_burst_observation_is_bounded_per_thread_and_valid(
    langgraph_url: str, tmp_path: Path
) -> None:
    result = await _run(tmp_path, BURST, langgraph_url)
    summary = result.summary
    observation = summary["observation"]
    # Observation is counted apart: one threads.search of the whole burst per tick, and a
    # runs.list per thread once it reads idle (twice if a run was still in flight then);
    # never a request per run, nor a thread's own status or state reads.
    by_operation = observation["by_operation"]
    assert set(by_operation) == {"threads.search", "runs.list"}
    assert 6 <= by_operation["runs.list"] <= 12
    assert by_operation["threads.search"] < 40
    assert 0 < observation["share"] < 1
    assert summary["audit"]["ran"] is True
    assert summary["audit"]["threads"] == 0  # every burst settled, read back already
    assert result.check.valid is True


@pytest.mark.anyio
@pytest.mark.server
async def test_audit_makes_a_chat_like_workload_checkable(
    langgraph_url: str, tmp_path: Path
) -> None:
    result = await _run(tmp_path, CHAT, langgraph_url)
    summary = result.summary
    audit = summary["audit"]
    assert audit["ran"] and audit["threads"] == 3 and audit["settled"] == 3
    assert audit["requests"] >= 6
    assert set(audit["operations"]) == {"runs.list", "threads.get_state"}
    # Never in the workload's own operations, tables or tags.
    assert "threads.get_state" not in summary["operations"]
    assert "runs.list" not in summary["operations"]
    assert "role=audit" not in summary["tags"]
    lines = _operations(tmp_path / "run" / "history.jsonl")
    markers = [line["name"] for line in lines if line.get("type") == "marker"]
    assert markers.count("audit.start") == 1 and markers.count("audit.end") == 1
    audit_ops = [
        line
        for line in lines
        if line.get("scenario") == "audit" and line.get("type") in ("invoke", "ok", "fail")
    ]
    assert audit_ops and all(line["value"].get("observer") for line in audit_ops)
    assert result.check.valid is True
    assert result.check.counts["threads_checked"] == 3


@pytest.mark.anyio
@pytest.mark.server
async def test_no_audit_turns_it_off(langgraph_url: str, tmp_path: Path) -> None:
    result = await _run(tmp_path, CHAT, langgraph_url, audit=AuditOptions(enabled=False))
    assert result.summary["audit"] == {"ran": False, "reason": "turned off"}
    lines = _operations(tmp_path / "run" / "history.jsonl")
    assert not any(line.get("scenario") == "audit" for line in lines)


@pytest.mark.anyio
@pytest.mark.server
async def test_the_workload_key_turns_the_audit_off(langgraph_url: str, tmp_path: Path) -> None:
    result = await _run(tmp_path, "audit = false\n" + CHAT, langgraph_url)
    assert result.summary["audit"]["ran"] is False


def test_the_audit_key_must_be_a_boolean() -> None:
    from lgbench.workload import WorkloadError

    with pytest.raises(WorkloadError) as raised:
        parse_workload('audit = "no"\n' + CHAT.replace('name = "chat-like"\n', ""), "w.toml")
    assert "w.toml:1:9" in str(raised.value)


@pytest.mark.anyio
@pytest.mark.server
async def test_a_stream_names_its_run_from_its_headers(langgraph_url: str, tmp_path: Path) -> None:
    await _run(tmp_path, CHAT, langgraph_url, audit=AuditOptions(enabled=False))
    lines = _operations(tmp_path / "run" / "history.jsonl")
    invokes = {line["index"]: line for line in lines if line.get("type") == "invoke"}
    streams = [
        line
        for line in lines
        if line.get("type") == "ok" and invokes[line["invoke_index"]]["f"] == "runs.stream"
    ]
    assert len(streams) == 6
    assert all(isinstance(line["value"]["run_id"], str) for line in streams)


class _EmptyServer:
    """Answers ``{}`` to every wait and an event-less stream (no metadata either), each with
    the ``Content-Location`` langgraph-api sends."""

    def __init__(self) -> None:
        self.runs = 0

    async def handle(self, request: Request) -> Response:
        path = request.target.split("?", 1)[0]
        parts = [part for part in path.split("/") if part]
        if path == "/info":
            return _json(200, {"version": "scripted"}, {})
        if request.method == "POST" and parts == ["threads"]:
            return _json(200, {"thread_id": "thread-1"}, {})
        if request.method == "POST" and parts[-1] in ("wait", "stream"):
            self.runs += 1
            location = {"content-location": f"/threads/{parts[1]}/runs/run-{self.runs}"}
            if parts[-1] == "wait":
                return _json(200, {}, location)
            return Response(200, {"content-type": "text/event-stream", **location}, content=b"")
        return _json(404, {"detail": "no such route"}, {})


def _json(status: int, value: Any, headers: dict[str, str]) -> Response:
    return Response(
        status,
        {"content-type": "application/json", **headers},
        content=json.dumps(value).encode(),
    )


@pytest.mark.anyio
async def test_empty_waits_and_event_less_streams_are_counted(tmp_path: Path) -> None:
    server = _EmptyServer()
    path = tmp_path / "w.toml"
    path.write_text(
        EMPTY + '\n[thresholds]\n"runs.stream.empty" = "== 0"\n"runs.wait.empty.rate" = "< 1%"\n',
        encoding="utf-8",
    )
    result = await run_workload(
        load_workload(path),
        RunOptions(
            target="http://127.0.0.1:9",
            out_dir=tmp_path / "run",
            loop_lag_interval_s=None,
            audit=AuditOptions(enabled=False),
        ),
        transport=MockTransport(server.handle),
    )
    operations = result.summary["operations"]
    assert operations["runs.wait"]["empty"] == 2
    assert operations["runs.wait"]["empty_rate"] == 1.0
    assert operations["runs.stream"]["empty"] == 2
    assert operations["runs.stream"]["errors"] == 0  # empty, yet ok: counted, not failed
    thresholds = {t["name"]: t for t in result.summary["thresholds"]["results"]}
    assert thresholds["runs.stream.empty"]["passed"] is False
    assert thresholds["runs.wait.empty.rate"]["passed"] is False
    lines = _operations(tmp_path / "run" / "history.jsonl")
    invokes = {line["index"]: line for line in lines if line.get("type") == "invoke"}
    streams = [
        line["value"]
        for line in lines
        if line.get("type") == "ok" and invokes[line["invoke_index"]]["f"] == "runs.stream"
    ]
    # No event at all, yet the run is named: from the answer's Content-Location.
    assert [value["run_id"] for value in streams] == ["run-2", "run-4"]


def test_the_ledger_keeps_the_newest_threads_within_its_cap() -> None:
    ledger = ThreadLedger(cap=3)
    for n in range(5):
        ledger.saw("threads.create", {}, {"thread_id": f"t{n}"})
    ledger.saw("threads.delete", {"thread_id": "t4"}, None)
    ledger.settled("t3")
    assert ledger.threads == {"t2": False, "t4": True}
    assert ledger.forgotten == 2


_HIGH = {"count": 500, "p99": 40.0}
_LOW = {"count": 500, "p99": 2.0}


def test_lag_with_lgbench_near_a_full_core_blames_lgbench() -> None:
    [warning] = bottleneck_warnings(_LOW, _HIGH, {"lgbench": 97.0, "server": 120.0})
    assert warning.startswith("lgbench itself was a bottleneck")


def test_lag_with_lgbench_idle_blames_the_busy_machine() -> None:
    peaks = {"lgbench": 20.0, "server": 190.0, "machine": 98.0}
    [warning] = bottleneck_warnings(_HIGH, _HIGH, peaks)
    assert warning.startswith("the machine was busy, not lgbench")
    assert "embedded server used up to 190 %" in warning
    # Without the machine's own figure, the busy server is still the likelier culprit.
    [warning] = bottleneck_warnings(_HIGH, _HIGH, {"lgbench": 20.0, "server": 190.0})
    assert warning.startswith("the machine was busy, not lgbench")


def test_lag_with_lgbench_and_the_machine_idle_is_a_blocked_loop() -> None:
    # Nobody was short of CPU, yet the timers fired late: lgbench's loop was blocked.
    peaks = {"lgbench": 15.0, "server": 5.0, "machine": 20.0}
    [warning] = bottleneck_warnings(_HIGH, _HIGH, peaks)
    assert warning.startswith("lgbench itself was a bottleneck")
    assert "event loop was blocked" in warning


def test_lag_without_cpu_samples_names_no_culprit() -> None:
    [warning] = bottleneck_warnings(_HIGH, _LOW, None)
    assert "unknown" in warning and "itself" not in warning


def test_low_or_thin_lag_is_no_warning() -> None:
    assert bottleneck_warnings(_LOW, _LOW, {"lgbench": 100.0}) == []
    assert bottleneck_warnings({"count": 5, "p99": 900.0}, _LOW, {"lgbench": 100.0}) == []
