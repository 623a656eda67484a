"""The history names each runs.wait's run, and the checker holds waits to their runs' results.

A short workload of waits against the real embedded server, on asyncio and trio: waits on a
thread, a human-in-the-loop wait and its resume, a stateless wait, each thread then listed
and read. Every wait's ok line must carry the ``run_id`` the server named in its answer's
``Content-Location`` header, and the correct server's waits must be judged valid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import check_history
from lgbench.engine._actor import _CreatedRun
from lgbench.history import ok_value, read_history
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload
from tests.engine._history_checks import assert_well_formed

WORKLOAD = """
name = "waits"

[[scenario]]
name = "waits"
executor = "per-vu-iterations"
vus = 2
iterations = 1
max_duration = "1m"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.wait", thread = "$thread", assistant = "sleepy", input = { seconds = 0 } },
  { op = "runs.wait", thread = "$thread", assistant = "sleepy", input = { seconds = 0 } },
  { op = "runs.list", thread = "$thread" },
  { op = "threads.get_state", thread = "$thread" },
  { op = "threads.create", save = "hitl" },
  { op = "runs.wait", thread = "$hitl", assistant = "interrupting", input = { question = "ok?" } },
  { op = "runs.wait", thread = "$hitl", assistant = "interrupting",
    command = { resume = "yes" } },
  { op = "runs.list", thread = "$hitl" },
  { op = "threads.get_state", thread = "$hitl" },
  { op = "runs.wait", assistant = "sleepy", input = { seconds = 0 } },
]
"""


@pytest.fixture(params=[pytest.param("asyncio"), pytest.param("trio")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Both event loops; asyncio without debug mode, which would slow every request down."""
    return (request.param, {})


def completions(history: Path) -> list[tuple[str, dict[str, Any]]]:
    """(operation, ok value) of every ok line."""
    lines = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines()]
    invokes = {line["index"]: line for line in lines if line.get("type") == "invoke"}
    return [
        (invokes[line["invoke_index"]]["f"], line["value"])
        for line in lines
        if line.get("type") == "ok"
    ]


@pytest.mark.anyio
@pytest.mark.server
async def test_waits_name_their_runs_and_are_judged_valid(
    langgraph_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "waits.toml"
    path.write_text(WORKLOAD, encoding="utf-8")
    run_dir = tmp_path / "run"
    result = await run_workload(
        load_workload(path), RunOptions(target=langgraph_url, out_dir=run_dir)
    )
    assert not result.partial, result.stop_reason
    history = run_dir / "history.jsonl"
    assert_well_formed(read_history(history))

    done = completions(history)
    listed: dict[str, set[str]] = {}
    for f, value in done:
        if f == "runs.list":
            listed[value["thread_id"]] = {run["run_id"] for run in value["runs"]}
    waits = [value for f, value in done if f == "runs.wait"]
    assert len(waits) == 2 * 5
    for value in waits:
        run_id = value["run_id"]
        thread_id = value.get("thread_id")
        if thread_id not in listed:
            # Stateless: the run is recorded, its tokens, and the temporary thread it ran on,
            # as the answer's Content-Location named it.
            assert isinstance(thread_id, str)
            assert value["tokens"] == [f"start:{run_id}", f"end:{run_id}"]
        else:
            assert run_id in listed[thread_id]
            assert value["tokens"] is None or f"start:{run_id}" in value["tokens"]

    for profile in ("observed", "documented"):
        checked = check_history(history, profile=profile)
        assert (checked.valid, checked.anomalies, checked.unknown) == (True, (), ()), profile
        # Each of the four threads had its waits held to their runs' results, and the
        # stateless runs were judged together.
        assert checked.checkers["results"].threads == 5
        assert checked.checkers["results"].valid is True


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [pytest.param("R", {"run_id": "R"}, id="named"), pytest.param(None, {}, id="unnamed")],
)
def test_the_ok_value_of_a_wait_carries_the_run_its_answer_named(
    run_id: str | None, expected: dict[str, str]
) -> None:
    created = _CreatedRun()
    if run_id is not None:
        created({"run_id": run_id, "thread_id": "T"})
    kwargs = {"thread_id": "T", "assistant_id": "sleepy", "input": {"seconds": 0}}
    value = ok_value("runs.wait", created.arguments(kwargs), {"tokens": ["start:R", "end:R"]})
    assert value == {
        "thread_id": "T",
        "assistant_id": "sleepy",
        **expected,
        "tokens": ["start:R", "end:R"],
        "error": None,
        "has_values": True,
    }
    # The call's own arguments are left alone: the invoke line was written from them.
    assert "run_id" not in kwargs
