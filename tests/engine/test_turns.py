"""Multi-turn conversations: a step with ``turns`` records each repeat as a turn of one
conversation (tag ``turn=<k>``), so latency per turn shows how it grows with the thread's
history; thresholds may select a turn. Against the real embedded server."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgbench.run import RunOptions, run_workload
from lgbench.workload import WorkloadError, dump_workload, load_workload, parse_workload

pytestmark = [pytest.mark.anyio, pytest.mark.server]

TURNS = """
name = "turns"

[[scenario]]
name = "chats"
executor = "per-vu-iterations"
vus = 2
iterations = 1
max_duration = "1m"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.stream", thread = "$thread", assistant = "chat",
    input = { reply_tokens = 3 }, stream_mode = ["messages-tuple"], repeat = 3,
    turns = true },
]

[thresholds]
"runs.stream{turn=3}.latency.p99" = "< 60s"
"""


async def test_each_repeat_of_a_step_with_turns_is_recorded_as_its_turn(
    langgraph_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(TURNS, encoding="utf-8")
    workload = load_workload(path)
    assert parse_workload(dump_workload(workload), "again.toml").scenarios[0].steps[1].turns
    result = await run_workload(
        workload,
        RunOptions(target=langgraph_url, out_dir=tmp_path / "run", loop_lag_interval_s=None),
    )
    assert result.summary is not None
    tags = result.summary["tags"]
    for turn in (1, 2, 3):
        stream = tags[f"turn={turn}"]["runs.stream"]
        assert (stream["count"], stream["ok"]) == (2, 2)  # one per conversation
        assert stream["latency_ms"]["p50"] is not None
    assert result.summary["operations"]["runs.stream"]["count"] == 6
    assert result.summary["thresholds"]["passed"] is True


def test_turns_must_be_a_boolean_and_a_turn_beyond_the_repeats_cannot_be_judged() -> None:
    with pytest.raises(WorkloadError) as raised:
        parse_workload(TURNS.replace("turns = true", 'turns = "yes"'), "bad.toml")
    assert "turns must be true or false" in str(raised.value)
    with pytest.raises(WorkloadError) as raised:
        parse_workload(TURNS.replace("{turn=3}", "{turn=4}"), "bad.toml")
    assert "can never be judged" in str(raised.value) or "turn=4" in str(raised.value)
