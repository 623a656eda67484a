"""``result_lost`` for waits: a runs.wait whose ok line names its run (``run_id``, from the
answer's ``Content-Location``) is held to its run's result.

Hand-written histories in the docs/history.md format, as a chat scenario records them: a
thread, a wait on it, then an observer's runs.get, threads.get and get_state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lgbench.check import CheckResult, check_history
from tests.check._builder import HistoryBuilder


def s(run: str) -> str:
    return f"start:{run}"


def e(run: str) -> str:
    return f"end:{run}"


def chat(
    result: dict[str, Any],
    *,
    run_id: str | None = "A",
    status: str = "success",
    state: list[str] | None = None,
    assistant: str = "sleepy",
) -> HistoryBuilder:
    """T1 created, a wait of run A on it, then A's status, the thread's and its state."""
    h = HistoryBuilder(workload="chat")
    h.op("threads.create", 0.0, 0.01, args={}, result={"thread_id": "T1"})
    h.create(
        "T1", run_id, 0.02, 0.6, f="runs.wait", strategy=None, assistant=assistant, result=result
    )
    h.get("T1", "A", 0.7, status)
    h.thread("T1", 0.71, "idle")
    h.state("T1", 0.72, state)
    return h


def values(tokens: list[str] | None) -> dict[str, Any]:
    return {"tokens": tokens, "error": None, "has_values": True}


EMPTY: dict[str, Any] = {"tokens": None, "error": None, "has_values": False}


def check(tmp_path: Path, h: HistoryBuilder) -> dict[str, CheckResult]:
    path = h.write(tmp_path / "history.jsonl")
    return {profile: check_history(path, profile=profile) for profile in ("observed", "documented")}


def assert_lost(results: dict[str, CheckResult], what: str) -> None:
    for result in results.values():
        assert result.valid is False
        assert result.anomaly_counts() == {"result_lost": 1}
        assert result.checkers["results"].valid is False
        [anomaly] = result.anomalies
        assert anomaly.run_ids == ("A",)
        assert what in anomaly.explanation
        # The wait, the success and the read that shows the run executed.
        assert len(anomaly.events) == 3


def assert_valid(results: dict[str, CheckResult], *, judged: bool) -> None:
    for result in results.values():
        assert (result.valid, result.anomalies, result.unknown) == (True, (), ())
        # Judged: the results checker looked at the wait (its run id is known).
        assert (result.checkers["results"].threads == 1) is judged


def test_a_wait_with_its_runs_result_is_valid(tmp_path: Path) -> None:
    results = check(tmp_path, chat(values([s("A"), e("A")]), state=[s("A"), e("A")]))
    assert_valid(results, judged=True)


def test_a_wait_whose_values_lack_its_runs_end_is_result_lost(tmp_path: Path) -> None:
    results = check(tmp_path, chat(values([s("A")]), state=[s("A"), e("A")]))
    assert_lost(results, "without its end:A token")


def test_a_wait_whose_values_hold_no_tokens_is_result_lost(tmp_path: Path) -> None:
    results = check(tmp_path, chat(values(None), state=[s("A"), e("A")]))
    assert_lost(results, "without its end:A token")


def test_a_wait_with_no_values_for_a_run_that_executed_is_result_lost(tmp_path: Path) -> None:
    results = check(tmp_path, chat(EMPTY, state=[s("A"), e("A")]))
    assert_lost(results, "returned no values")


def test_a_wait_without_run_id_is_not_judged(tmp_path: Path) -> None:
    # A history from before run ids were recorded: the same loss goes unseen, not misjudged.
    results = check(tmp_path, chat(values([s("A")]), run_id=None, state=[s("A"), e("A")]))
    assert_valid(results, judged=False)


@pytest.mark.parametrize(
    ("result", "status", "state", "assistant"),
    [
        # Created without input: nothing executes, the run still ends success, no token.
        pytest.param(EMPTY, "success", None, "sleepy", id="no-input"),
        # Stopped at interrupt(...): success, its start but never its end.
        pytest.param(
            {**values([s("A")]), "interrupts": 1},
            "success",
            [s("A")],
            "interrupting",
            id="human-in-the-loop",
        ),
        # Cancelled (an interrupt run came): its wait gets what the thread holds.
        pytest.param(values([s("A")]), "interrupted", [s("A"), e("A")], "sleepy", id="cancelled"),
        # The graph raised: the error is the result.
        pytest.param(
            {"tokens": None, "error": {"error": "ValueError"}, "has_values": False},
            "success",
            [s("A"), e("A")],
            "sleepy",
            id="error-body",
        ),
    ],
)
def test_waits_that_legitimately_lack_their_end_are_valid(
    tmp_path: Path,
    result: dict[str, Any],
    status: str,
    state: list[str] | None,
    assistant: str,
) -> None:
    h = chat(result, status=status, state=state, assistant=assistant)
    path = h.write(tmp_path / "history.jsonl")
    checked = check_history(path, profile="observed")
    assert "result_lost" not in checked.anomaly_counts()
    assert checked.checkers["results"].valid is True


def test_a_wait_on_an_enqueued_thread_is_held_to_its_own_run(tmp_path: Path) -> None:
    """A wait of B after A on the same thread: B's values hold A's tokens and B's end."""
    h = HistoryBuilder(workload="chat")
    h.op("threads.create", 0.0, 0.01, args={}, result={"thread_id": "T1"})
    h.create("T1", "A", 0.02, 0.5, f="runs.wait", result=values([s("A"), e("A")]))
    h.create("T1", "B", 0.6, 1.1, f="runs.wait", result=values([s("A"), e("A"), s("B")]))
    for run in ("A", "B"):
        h.get("T1", run, 1.2, "success")
    h.thread("T1", 1.21, "idle")
    h.state("T1", 1.22, [s("A"), e("A"), s("B"), e("B")])
    results = check(tmp_path, h)
    for result in results.values():
        assert result.anomaly_counts() == {"result_lost": 1}
        [anomaly] = result.anomalies
        assert anomaly.run_ids == ("B",)
