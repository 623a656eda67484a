"""A workload's resumable stream survives a cut connection as one operation; a plain one does not.

The run goes through ``tests/client/_cut_proxy.py`` (a loopback proxy that forwards the
real embedded server's bytes and cuts the first event stream after a few events).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import check_history
from lgbench.graphs import reply_text
from lgbench.run import RunOptions, run_workload
from lgbench.workload import parse_workload
from tests.client._cut_proxy import open_cut_proxy

pytestmark = [pytest.mark.anyio, pytest.mark.server]

N = 12
# values n + 3 and updates n + 2 (see lgbench/graphs/_streamer.py), after metadata.
EVENTS = 2 * N + 5

WORKLOAD = """
name = "reconnect"

[[scenario]]
name = "stream"
executor = "per-vu-iterations"
vus = 1
iterations = 1
steps = [
  {{ op = "threads.create", save = "thread" }},
  {{ op = "runs.stream", thread = "$thread", assistant = "streamer",
    input = {{ n = {n}, gap_s = 0.03 }}, stream_mode = ["values", "updates"]{extra} }},
]
"""


@pytest.fixture(params=[pytest.param("asyncio"), pytest.param("trio")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Both event loops; asyncio without debug mode, as the runner's other tests."""
    return (request.param, {})


async def _run(url: str, out: Path, extra: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    workload = parse_workload(WORKLOAD.format(n=N, extra=extra), "reconnect.toml")
    async with open_cut_proxy(url, after_events=8) as proxy:
        result = await run_workload(
            workload, RunOptions(target=proxy.url, out_dir=out, loop_lag_interval_s=None)
        )
        assert proxy.cut == 1
    assert not result.partial
    summary = json.loads((out / "summary.json").read_text())
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    streams = [line for line in history if line.get("f") == "runs.stream"]
    return summary, streams


async def test_resumable_stream_step_reconnects_within_one_operation(
    langgraph_url: str, tmp_path: Path
) -> None:
    summary, lines = await _run(langgraph_url, tmp_path / "run", ", stream_resumable = true")
    assert [line["type"] for line in lines] == ["invoke", "ok"]
    value = lines[1]["value"]
    assert value["reconnects"] == 1
    assert value["events"] == EVENTS
    assert value["event_counts"] == {"values": N + 3, "updates": N + 2}
    operation = summary["operations"]["runs.stream"]
    assert operation["ok"] == 1
    assert operation["errors"] == 0
    assert operation["stream"]["reconnects"] == 1


async def test_plain_stream_step_cut_is_an_unknown_outcome(
    langgraph_url: str, tmp_path: Path
) -> None:
    summary, lines = await _run(langgraph_url, tmp_path / "run", "")
    assert [line["type"] for line in lines] == ["invoke", "info"]
    operation = summary["operations"]["runs.stream"]
    assert operation["ok"] == 0
    assert operation["errors_by_kind"]["transport"] == 1
    assert "stream" not in operation


CHAT = """
name = "reconnect-chat"

[[scenario]]
name = "chat"
executor = "per-vu-iterations"
vus = 1
iterations = 1
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.stream", thread = "$thread", assistant = "chat",
    input = { reply_tokens = 12, token_gap_s = 0.03 }, stream_mode = ["messages-tuple"],
    stream_resumable = true },
  { op = "threads.get_state", thread = "$thread" },
]
"""


async def test_a_resumed_chat_stream_stitches_its_reply_without_gaps_or_repeats(
    langgraph_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    async with open_cut_proxy(langgraph_url, after_events=5) as proxy:
        result = await run_workload(
            parse_workload(CHAT, "chat.toml"),
            RunOptions(target=proxy.url, out_dir=out, loop_lag_interval_s=None),
        )
        assert proxy.cut == 1
    assert not result.partial
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    (done,) = [line for line in history if line.get("f") == "runs.stream" and line["type"] == "ok"]
    value = done["value"]
    assert value["reconnects"] == 1
    # Every token of the reply once, in order, across the cut: the digest is the reply's own.
    reply = value["reply"]
    assert reply["chunks"] == 12
    expected = reply_text(value["run_id"], 1, 12)
    assert reply["sha256"] == hashlib.sha256(expected.encode()).hexdigest()[:32]
    check = check_history(out)
    assert check.valid is True and "reply_mismatch" not in check.anomaly_counts()
