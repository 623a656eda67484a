"""A run whose requests all fail explains itself: the server's reason per operation in the
output and summary.json, and exit code 4 unless the workload declares those errors expected.
Also ``--quiet`` keeps warnings, and ``validate`` refuses thresholds a run can never judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lgbench.client import ApiError
from lgbench.history import ErrorTally, error_message, never_succeeded
from lgbench.workload import ExpectedErrors
from tests.test_cli_run import lgbench, write

WRONG_ASSISTANT = """
name = "wrong-assistant"

[[scenario]]
name = "waits"
executor = "per-vu-iterations"
vus = 2
iterations = 5
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.wait", thread = "$thread", assistant = "no-such-graph", input = {} },
]
"""


def test_an_operation_that_never_succeeds_fails_the_run_with_the_servers_reason(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", WRONG_ASSISTANT)
    out = tmp_path / "run"
    done = lgbench(
        "run", workload, "--target", langgraph_url, "--out", out, "--no-live", "--no-report"
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "Invalid assistant" in done.stdout
    assert "error: runs.wait never succeeded: 10 of 10 failed, most often HTTP 422" in (done.stdout)
    summary = json.loads((out / "summary.json").read_text())
    wait = summary["operations"]["runs.wait"]
    (top,) = wait["top_errors"]
    assert top["kind"] == "http" and top["status"] == 422 and top["count"] == 10
    assert top["message"].startswith("Invalid assistant: 'no-such-graph'")
    assert wait["top_errors_unlisted"] == 0
    assert summary["operations"]["threads.create"]["top_errors"] == []
    (failing,) = summary["never_succeeded"]
    assert failing["operation"] == "runs.wait" and failing["expected"] is False
    assert any("never succeeded" in warning for warning in summary["warnings"])


def test_declared_errors_let_an_operation_fail_every_time(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(
        tmp_path / "w.toml", WRONG_ASSISTANT + '\n[expected_errors]\n"runs.wait" = [422]\n'
    )
    out = tmp_path / "run"
    done = lgbench(
        "run", workload, "--target", langgraph_url, "--out", out, "--quiet", "--no-report"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: runs.wait never succeeded" in done.stderr
    assert "[expected_errors]" in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["never_succeeded"][0]["expected"] is True


def test_quiet_prints_warnings(langgraph_url: str, tmp_path: Path) -> None:
    # One VU cannot keep up with 200 iterations a second: dropped iterations, one warning.
    workload = write(
        tmp_path / "w.toml",
        """
[[scenario]]
name = "too-fast"
executor = "constant-arrival-rate"
rate = 200
duration = "1s"
pre_allocated_vus = 1
max_vus = 1
steps = [{ op = "runs.wait", assistant = "sleepy", input = { seconds = 0.2 } }]
""",
    )
    done = lgbench(
        "run",
        workload,
        "--target",
        langgraph_url,
        "--out",
        tmp_path / "r",
        "--quiet",
        "--no-report",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("iterations were dropped") == 1


def test_validate_refuses_a_threshold_no_scenario_can_feed(tmp_path: Path) -> None:
    workload = write(
        tmp_path / "w.toml",
        """
[[scenario]]
name = "a"
executor = "shared-iterations"
vus = 1
iterations = 1
steps = [{ op = "threads.create" }]

[thresholds]
"threads.create.latency.p99" = "< 2s"
"runs.wait.latency.p99" = "< 2s"
"threads.create{scenario=a}.count" = "> 0"
"threads.get{scenario=a}.count" = "> 0"
""",
    )
    done = lgbench("validate", workload)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert "w.toml:11:1: " in lines[0]
    assert lines[0].endswith(
        'threshold "runs.wait.latency.p99": this threshold can never be judged:'
        " no scenario calls runs.wait (expected a threshold on an operation some step calls)"
    )
    assert "w.toml:13:1: " in lines[1] and 'scenario "a" never calls threads.get' in lines[1]
    # The same from the command line, before anything starts.
    fixed = write(tmp_path / "ok.toml", workload.read_text().split("[thresholds]")[0])
    done = lgbench("run", fixed, "--threshold", "runs.wait.latency.p99<1s", "--out", tmp_path)
    assert done.returncode == 2
    assert "--threshold 'runs.wait.latency.p99<1s': this threshold can never be judged" in (
        done.stderr
    )


def test_expected_errors_are_checked_at_their_position(tmp_path: Path) -> None:
    workload = write(
        tmp_path / "w.toml",
        """
[[scenario]]
name = "a"
executor = "shared-iterations"
vus = 1
iterations = 1
steps = [{ op = "threads.create" }]

[expected_errors]
"runs.wiat" = [422]
"runs.cancel" = [409, "timout", 99]
""",
    )
    done = lgbench("validate", workload)
    assert done.returncode == 2
    err = done.stderr
    unknown = (
        ':10:1: unknown operation "runs.wiat" in [expected_errors] (did you mean "runs.wait"?)'
    )
    assert unknown in err
    kind = (
        ":11:23: 'timout' is neither an HTTP status nor an error kind (did you mean \"timeout\"?)"
    )
    assert kind in err
    assert ":11:33: 99 is neither an HTTP status nor an error kind" in err


def test_error_messages_fold_ids_and_stay_bounded() -> None:
    exc = ApiError(404, {"detail": "Thread 1f0b7a8e-1234-7abc-8def-0123456789ab not found"})
    assert error_message(exc) == "Thread <id> not found"
    tally = ErrorTally()
    for n in range(1000):
        tally.add("http", 404, f"message {n:05d}")
    tally.add("http", 404, "message 00000")
    assert len(tally) == 32  # at most 32 distinct messages are kept, whatever the run's length
    assert tally.total == 1001
    assert tally.top(1) == [{"kind": "http", "status": 404, "message": "message 00000", "count": 2}]
    assert sum(entry["count"] for entry in tally.top(32)) + tally.unlisted == 1001
    # Long numbers fold like ids, so one cause stays one entry.
    assert error_message(ApiError(500, {"detail": "job 123456 failed"})) == "job <n> failed"


@pytest.mark.parametrize(
    ("by_kind", "expected", "flagged"),
    [
        ({"http": {"422": 3}}, None, False),
        ({"http": {"422": 3}}, ExpectedErrors("op", frozenset({422})), True),
        ({"http": {"422": 3, "500": 1}}, ExpectedErrors("op", frozenset({422})), False),
        ({"http": {}, "timeout": 2}, ExpectedErrors("op", kinds=frozenset({"timeout"})), True),
    ],
)
def test_never_succeeded_honours_expected_errors(
    by_kind: dict[str, object], expected: ExpectedErrors | None, flagged: bool
) -> None:
    operations = {"op": {"count": 3, "ok": 0, "errors": 3, "errors_by_kind": by_kind}}
    (entry,) = never_succeeded(operations, lambda name: expected)
    assert entry["expected"] is flagged
    assert entry["unsupported"] is False
    (lacking,) = never_succeeded(operations, lambda name: expected, ["op"])
    assert lacking["unsupported"] is True
    # An operation that succeeded once, or whose only errors are cancellations, is not listed.
    assert never_succeeded({"op": {**operations["op"], "ok": 1}}, lambda name: None) == []
    cancelled = {"op": {"count": 2, "ok": 0, "errors": 2, "errors_by_kind": {"cancelled": 2}}}
    assert never_succeeded(cancelled, lambda name: None) == []
