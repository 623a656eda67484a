"""check.json, the printed verdict, the ``lgbench check`` verb, and a checker that raises."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lgbench.check import (
    CHECK_SCHEMA_VERSION,
    CHECKERS,
    MAX_EXAMPLES,
    check_history,
    judge_history,
    merge_valid,
    read_history,
    render_check,
    write_check_json,
)
from lgbench.check._checkers import PER_THREAD
from lgbench.cli import main
from lgbench.exitcodes import ExitCode
from tests.check._builder import HistoryBuilder
from tests.check._cases import DIRECTORY, s


def case(name: str) -> Path:
    return DIRECTORY / f"{name}.jsonl"


def test_merge_valid() -> None:
    assert merge_valid([]) is True
    assert merge_valid([True, "unknown", True]) == "unknown"
    assert merge_valid(["unknown", False, True]) is False


def test_check_json_schema(tmp_path: Path) -> None:
    path = write_check_json(check_history(case("interrupt_cancels_pending")), tmp_path / "c.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == [
        "schema_version",
        "profile",
        "valid",
        "unknown",
        "parameters",
        "history",
        "counts",
        "strategies",
        "checkers",
        "anomalies",
        "findings",
        "threads",
    ]
    assert data["schema_version"] == CHECK_SCHEMA_VERSION
    assert (data["profile"], data["valid"], data["unknown"]) == ("observed", True, [])
    assert data["parameters"] == {"stuck_after_s": 60.0, "slack_s": 1.0}
    assert data["counts"] == {
        "threads": 1,
        "threads_checked": 1,
        "threads_unchecked": 0,
        "runs": 3,
        "runs_checked": 3,
        "operations": 16,
        "info": 0,
        "anomalies": 0,
        "findings": 1,
    }
    assert data["strategies"] == {
        "interrupt": {"valid": True, "threads": 1, "runs": 3, "anomalies": {}}
    }
    assert list(data["checkers"]) == list(CHECKERS)
    assert data["checkers"]["rollback"] == {
        "valid": True,
        "anomaly_types": ["rollback_not_applied", "rollback_cancelled_pending"],
        "anomalies": 0,
        "threads": 0,
        "unknown": [],
        "unknown_count": 0,
        "error": None,
    }
    assert data["anomalies"] == {}
    finding = data["findings"]["cancels_all_in_flight"]
    assert finding["anomaly_types"] == ["interrupt_cancelled_pending"]
    assert finding["count"] == 1
    assert finding["examples"][0] == {
        "type": "interrupt_cancelled_pending",
        "thread_id": "T1",
        "run_ids": ["B", "A", "C"],
        "explanation": (
            "interrupt run C (event 12) cancelled pending run B as well as the current run A "
            "on thread T1"
        ),
        "events": [
            {"index": 12, "time_s": 0.86, "what": "runs.create ok (interrupt) → C"},
            {"index": 16, "time_s": 0.905, "what": "runs.get ok: B interrupted"},
        ],
        "flagged_by": ["documented"],
        "behaviour": "cancels_all_in_flight",
    }
    thread = data["threads"]["T1"]
    assert (thread["strategy"], thread["checked"], thread["valid"], thread["runs"]) == (
        "interrupt",
        True,
        True,
        3,
    )
    assert data["history"]["header"]["workload"] == "interrupt"
    assert not list(tmp_path.glob(".*partial"))


def test_the_same_history_gives_the_same_json() -> None:
    one = check_history(case("fifo_violation"), profile="documented").to_dict()
    two = check_history(case("fifo_violation"), profile="documented").to_dict()
    assert json.dumps(one) == json.dumps(two)


def test_examples_are_capped_counts_are_not(tmp_path: Path) -> None:
    h = HistoryBuilder()
    for n in range(MAX_EXAMPLES + 4):
        thread, a, b = f"T{n:02}", f"A{n:02}", f"B{n:02}"
        h.burst(thread, "enqueue", 0.0, runs=2)
        h.create(thread, a, 0.01, 0.02)
        h.create(thread, b, 0.03, 0.04)
        h.get(thread, a, 1.0, "success")
        h.get(thread, b, 1.01, "success")
        h.state(thread, 1.1, [s(b), f"end:{b}", s(a), f"end:{a}"])
        h.settled(thread, "enqueue", 1.2, [a, b])
    result = check_history(h.write(tmp_path / "h.jsonl"))
    assert result.anomaly_counts() == {"fifo_violation": MAX_EXAMPLES + 4}
    data = result.to_dict()["anomalies"]["fifo_violation"]
    assert (data["count"], len(data["examples"])) == (MAX_EXAMPLES + 4, MAX_EXAMPLES)
    assert result.strategies["enqueue"].anomalies == {"fifo_violation": MAX_EXAMPLES + 4}


def render(path: Path, profile: Any = "observed") -> str:
    console = Console(record=True, width=200, color_system=None)
    render_check(check_history(path, profile=profile), console)
    return console.export_text()


def test_render_shows_verdicts_anomalies_and_witnesses() -> None:
    text = render(case("fifo_violation"))
    assert "profile observed: INVALID" in text
    assert "fifo_violation x1: enqueued runs did not execute in creation order" in text
    assert "run B started before run A on thread T1" in text
    assert "event 18 at 2.102 s: threads.get_state ok: tokens start:B end:B start:A end:A" in text
    assert text.rstrip().endswith("verdict (observed profile): INVALID")


def test_render_shows_findings_and_unknown() -> None:
    text = render(case("interrupt_clean"))
    assert "findings" in text and "idle_while_in_flight x1" in text
    assert text.rstrip().endswith("verdict (observed profile): valid")
    text = render(case("no_settle"))
    assert "no burst.settled marker for thread T1" in text
    assert text.rstrip().endswith("verdict (observed profile): unknown")


@pytest.mark.parametrize(
    ("name", "argv", "code"),
    [
        ("enqueue_clean", [], ExitCode.OK),
        ("fifo_violation", [], ExitCode.ANOMALIES),
        ("no_settle", [], ExitCode.OK),
        ("interrupt_clean", [], ExitCode.OK),
        ("interrupt_clean", ["--profile", "documented"], ExitCode.ANOMALIES),
        ("stuck_run", ["--stuck-after", "300"], ExitCode.OK),
        ("enqueue_clean", ["--stuck-after", "0"], ExitCode.USAGE),
        ("enqueue_clean", ["--profile", "strict"], ExitCode.USAGE),
    ],
)
def test_cli_exit_codes(
    name: str, argv: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(case(name)), *argv]) == code
    capsys.readouterr()


def test_cli_writes_check_json_and_refuses_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "check.json"
    assert main(["check", str(case("no_settle")), "--out", str(out)]) == ExitCode.OK
    assert "verdict (observed profile): unknown" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["valid"] == "unknown"
    assert main(["check", str(tmp_path / "missing.jsonl")]) == ExitCode.USAGE
    assert "cannot read history" in capsys.readouterr().err


class _Explosive(dict[str, Any]):
    """Arguments whose ``stream_mode`` cannot be read: the results checker will raise."""

    def get(self, key: str, default: Any = None) -> Any:
        if key == "stream_mode":
            raise RuntimeError("boom")
        return super().get(key, default)


def test_a_checker_that_raises_gives_unknown_with_the_error() -> None:
    history = read_history(case("stream_empty"))
    history.operations = [
        dataclasses.replace(op, args=_Explosive(op.args)) if op.f == "runs.stream" else op
        for op in history.operations
    ]
    result = judge_history(history)
    assert result.valid == "unknown"
    results = result.checkers["results"]
    assert (results.valid, results.error) == ("unknown", "RuntimeError: boom")
    assert result.threads["T1"].unknown == ("results: RuntimeError: boom",)
    assert all(c.valid is True for name, c in result.checkers.items() if name != "results")


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="profile must be one of"):
        check_history(case("enqueue_clean"), profile="strict")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="slack_s must be a positive"):
        check_history(case("enqueue_clean"), slack_s=float("nan"))


def test_anomalies_per_thread_are_capped(tmp_path: Path) -> None:
    """20 runs all overlapping are 190 pairs: the verdict is False, the list stays short."""
    h = HistoryBuilder()
    runs = [f"R{n:02}" for n in range(20)]
    h.burst("T1", "enqueue", 0.0, runs=len(runs))
    for n, run in enumerate(runs):
        h.create("T1", run, 0.01 * n, 0.01 * n + 0.005)
        h.get("T1", run, 5.0 + 0.01 * n, "success")
    h.state("T1", 6.0, [s(r) for r in runs] + [f"end:{r}" for r in runs])
    h.settled("T1", "enqueue", 6.1, runs)
    result = check_history(h.write(tmp_path / "h.jsonl"))
    assert result.valid is False
    assert result.anomaly_counts() == {"concurrent_runs": PER_THREAD}
