"""Whole runs against servers that lie: each lie is named, and the truth passes.

Each test runs ``lgbench run`` against the real embedded server behind a proxy that rewrites
one kind of answer (tests/_rewriting_proxy.py), and expects the checker to name it with exit
code 5; the same workload straight against the real server is valid. A correct server made
slow (one job at a time) is never judged invalid.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._rewriting_proxy import rewriting_proxy
from tests.test_cli_run import lgbench, write

pytestmark = pytest.mark.server

EMPTY_ANSWERS = """
name = "empty-answers"
[[scenario]]
name = "stateful"
executor = "per-vu-iterations"
vus = 2
iterations = 2
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.wait", thread = "$thread", assistant = "sleepy", input = { seconds = 0.05 } },
  { op = "runs.stream", thread = "$thread", assistant = "streamer", input = { n = 2 },
    stream_mode = ["values"] },
  { op = "threads.get_state", thread = "$thread" },
]
[[scenario]]
name = "stateless"
executor = "per-vu-iterations"
vus = 2
iterations = 2
steps = [
  { op = "runs.wait", assistant = "sleepy", input = { seconds = 0.05 } },
  { op = "runs.stream", assistant = "streamer", input = { n = 2 }, stream_mode = ["values"] },
]
"""

FAILED_RUN = """
name = "failed-run"
[expected_errors]
"runs.wait" = ["run"]   # the failing graph fails: that is the point
[[scenario]]
name = "fails"
executor = "per-vu-iterations"
vus = 2
iterations = 2
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.wait", thread = "$thread", assistant = "failing", input = {} },
  { op = "runs.list", thread = "$thread" },
  { op = "threads.get_state", thread = "$thread" },
]
"""

TWO_RUNS = """
name = "two-runs"
[[scenario]]
name = "writes"
executor = "per-vu-iterations"
vus = 2
iterations = 2
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.wait", thread = "$thread", assistant = "sleepy", input = { seconds = 0.05 } },
  { op = "runs.wait", thread = "$thread", assistant = "sleepy", input = { seconds = 0.05 } },
  { op = "runs.list", thread = "$thread" },
  { sleep = "1200ms" },
  { op = "threads.get_state", thread = "$thread" },
]
"""

BUSY_LATER = """
name = "busy-later"
[[scenario]]
name = "busy"
executor = "per-vu-iterations"
vus = 1
iterations = 1
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.wait", thread = "$thread", assistant = "sleepy", input = { seconds = 0.05 } },
  { op = "threads.get_state", thread = "$thread" },
  { sleep = "11s" },
  { op = "threads.get", thread = "$thread" },
]
"""


def run(workload: Path, target: str, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = lgbench("run", workload, "--target", target, "--out", out, "--quiet", *extra)
    assert done.returncode in (0, 5), done.stdout + done.stderr
    return done.returncode, json.loads((out / "check.json").read_text())


def anomalies(check: dict[str, Any]) -> dict[str, int]:
    return {kind: found["count"] for kind, found in check["anomalies"].items()}


def test_empty_waits_and_streams_are_result_lost_stateful_and_stateless(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", EMPTY_ANSWERS)
    code, check = run(workload, langgraph_url, tmp_path / "truth")
    assert (code, check["valid"], anomalies(check)) == (0, True, {})
    assert check["threads"]["stateless"]["valid"] is True

    def wait_empty(method: str, path: str, body: bytes) -> bytes:
        return b"{}" if path.endswith("/runs/wait") else body

    def no_events(method: str, path: str) -> bool:
        return path.endswith("/runs/stream")

    with rewriting_proxy(langgraph_url, wait_empty, no_events) as lying:
        code, check = run(workload, lying, tmp_path / "lies")
    assert code == 5
    # 4 stateful waits and streams, 4 stateless ones.
    assert anomalies(check) == {"result_lost": 16}
    assert check["threads"]["stateless"]["valid"] is False
    examples = check["anomalies"]["result_lost"]["examples"]
    assert any("stateless runs.wait" in a["explanation"] for a in examples)
    assert any("no event at all" in a["explanation"] for a in examples)


def test_a_failed_run_listed_as_success_is_a_wrong_final_status(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", FAILED_RUN)
    code, check = run(workload, langgraph_url, tmp_path / "truth")
    assert (code, check["valid"]) == (0, True)

    def error_is_success(method: str, path: str, body: bytes) -> bytes:
        if method == "GET" and path.split("?")[0].endswith("/runs"):
            return body.replace(b'"status":"error"', b'"status":"success"')
        return body

    with rewriting_proxy(langgraph_url, error_is_success) as lying:
        code, check = run(workload, lying, tmp_path / "lies")
    assert code == 5
    assert anomalies(check) == {"wrong_final_status": 4}


def test_writes_missing_from_the_state_are_lost_writes(langgraph_url: str, tmp_path: Path) -> None:
    workload = write(tmp_path / "w.toml", TWO_RUNS)
    code, check = run(workload, langgraph_url, tmp_path / "truth")
    assert (code, check["valid"]) == (0, True)

    def forget_first_run(method: str, path: str, body: bytes) -> bytes:
        if method != "GET" or not path.split("?")[0].endswith("/state"):
            return body
        state = json.loads(body)
        tokens = state["values"].get("tokens", [])
        if len(tokens) >= 4:  # the first run's start and end go, as if overwritten
            first = tokens[0].split(":", 1)[1]
            state["values"]["tokens"] = [t for t in tokens if not t.endswith(first)]
        return json.dumps(state).encode()

    with rewriting_proxy(langgraph_url, forget_first_run) as lying:
        code, check = run(workload, lying, tmp_path / "lies")
    assert code == 5
    assert anomalies(check) == {"lost_write": 4}


@pytest.mark.slow
def test_a_thread_busy_long_after_its_runs_ended_is_flagged(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", BUSY_LATER)

    def always_busy(method: str, path: str, body: bytes) -> bytes:
        if method == "GET" and re.fullmatch(r"/threads/[0-9a-f-]+", path):
            return re.sub(rb'"status":"\w+"', b'"status":"busy"', body)
        return body

    with rewriting_proxy(langgraph_url, always_busy) as lying:
        code, check = run(workload, lying, tmp_path / "lies")
    assert code == 5
    assert anomalies(check) == {"busy_without_run": 1}


# -- a correct server, made slow ------------------------------------------------------------

SATURATING = """
name = "saturating"
[[scenario]]
name = "bursts"
executor = "burst"
threads = 8
burst = 3
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 1.0 }
max_duration = "4s"
graceful_stop = "1s"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def one_job_server(tmp_path: Path) -> Iterator[str]:
    """An embedded server that executes one run at a time: correct, and soon saturated."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lgbench.cli", "serve", "--port", str(port),
         "--n-jobs-per-worker", "1", "--log", str(tmp_path / "server.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.slow
def test_a_saturated_correct_server_is_never_judged_invalid(
    one_job_server: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", SATURATING)
    out = tmp_path / "out"
    done = lgbench("run", workload, "--target", one_job_server, "--out", out, "--quiet")
    # 24 runs of 1 s, one at a time, observed for 4 s: most are still pending at the end.
    assert done.returncode == 0, done.stdout + done.stderr
    judged = lgbench("check", out, "--stuck-after", "2", "--out", tmp_path / "check.json")
    assert judged.returncode == 0, judged.stdout + judged.stderr
    check = json.loads((tmp_path / "check.json").read_text())
    assert check["valid"] == "unknown"
    assert check["anomalies"] == {}
