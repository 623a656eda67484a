"""``lgbench run`` and ``lgbench validate`` as users and CI call them: subprocesses, exit codes
and the run folder they leave, signals included."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lgbench.history import read_history

ROOT = Path(__file__).parent.parent
BAD = ROOT / "tests" / "data" / "workloads" / "bad"


def lgbench(
    *args: str | Path, cwd: Path | None = None, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgbench.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_validate_a_bad_file_prints_every_issue_at_its_position_and_exits_2() -> None:
    done = lgbench("validate", BAD / "many-issues.toml")
    assert done.returncode == 2
    assert f'{BAD / "many-issues.toml"}:15:7: scenario "chat": vus must be at least 1' in (
        done.stderr
    )
    assert done.stderr.count("many-issues.toml:") == 8


def test_validate_a_good_file_prints_the_plan_sorted_by_start_time() -> None:
    done = lgbench("validate", ROOT / "workloads" / "double-texting.toml")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "double-texting" in out and "valid" in out
    positions = [out.index(f" {name} ") for name in ("enqueue", "reject", "interrupt", "rollback")]
    assert positions == sorted(positions)
    assert "100 threads x bursts of 3 runs" in out


def test_validate_shows_the_overrides_and_refuses_bad_ones() -> None:
    done = lgbench("validate", ROOT / "workloads" / "chat.toml", "--duration", "3s", "--vus", "2")
    assert done.returncode == 0, done.stderr
    assert "--duration 3s --vus 2" in done.stdout
    assert lgbench("validate", ROOT / "workloads" / "chat.toml", "--vus", "0").returncode == 2
    bad_duration = lgbench("validate", ROOT / "workloads" / "chat.toml", "--duration", "10x")
    assert bad_duration.returncode == 2
    assert "--duration" in bad_duration.stderr


SHORT = """
name = "cli-short"

[defaults]
seed = 1

[[scenario]]
name = "threads"
executor = "constant-arrival-rate"
rate = 20
duration = "1s"
steps = [{ op = "threads.create", save = "thread" }, { op = "threads.get", thread = "$thread" }]
"""


@pytest.mark.server
def test_run_writes_the_run_folder_and_exits_0(langgraph_url: str, tmp_path: Path) -> None:
    workload = write(tmp_path / "short.toml", SHORT)
    out = tmp_path / "out"
    done = lgbench("run", workload, "--target", langgraph_url, "--out", out, "--no-live")
    assert done.returncode == 0, done.stderr
    assert "threads.create" in done.stdout and f"run folder: {out}" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] is False
    assert summary["target"] == {"url": langgraph_url, "embedded": False}
    assert summary["operations"]["threads.create"]["count"] == 20
    assert summary["operations"]["threads.get"]["ok"] == 20
    assert {"threads.create.hgrm", "threads.get.hgrm", "intervals.hlog"} <= {
        path.name for path in out.iterdir()
    }
    history = read_history(out / "history.jsonl")
    assert history.header["target"] == langgraph_url
    load = [e for e in history.operations() if e["scenario"] != "audit"]
    assert len(load) == 80  # 40 operations, invoke + completion each
    # Then the post-run audit read each of the 20 threads back: its runs, then its state.
    assert len(history.operations()) - len(load) == 80
    assert summary["audit"]["settled"] == 20


@pytest.mark.server
def test_run_prints_the_checkers_verdict_per_strategy(langgraph_url: str, tmp_path: Path) -> None:
    workload = ROOT / "workloads" / "double-texting.toml"
    out = tmp_path / "out"
    done = lgbench(
        "run", workload, "--target", langgraph_url, "--out", out, "--no-live",
        "--duration", "1s", "--vus", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "profile observed: valid" in done.stdout
    verdicts = done.stdout[done.stdout.index("per strategy") :]
    for strategy in ("enqueue", "interrupt", "reject", "rollback"):
        assert strategy in verdicts
    assert json.loads((out / "check.json").read_text())["valid"] is True


@pytest.mark.server
def test_run_with_no_out_makes_a_folder_under_reports(langgraph_url: str, tmp_path: Path) -> None:
    workload = write(tmp_path / "short.toml", SHORT)
    done = lgbench(
        "run", workload, "--target", langgraph_url, "--quiet", "--backend", "trio", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # --quiet
    (folder,) = (tmp_path / "reports").iterdir()
    assert folder.name.startswith("cli-short-") and folder.name.endswith("Z")
    assert json.loads((folder / "summary.json").read_text())["backend"] == "trio"


def test_an_unreachable_target_exits_3(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more: connections are refused.
    workload = write(tmp_path / "short.toml", SHORT)
    done = lgbench("run", workload, "--target", f"http://127.0.0.1:{port}", "--out", tmp_path)
    assert done.returncode == 3
    assert "cannot reach the target" in done.stderr


LONG = """
name = "cli-long"

[[scenario]]
name = "forever"
executor = "constant-vus"
vus = 2
duration = "1h"
graceful_stop = "{grace}"
steps = [{{ op = "threads.create" }}, {{ sleep = "{pause}" }}]
"""


def _start(workload: Path, out: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "lgbench.cli", "run", str(workload)),
            *("--target", url, "--out", str(out), "--no-live", *extra),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_operations(process: subprocess.Popen[str], history: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if history.exists() and history.read_text().count('"type":"ok"') >= count:
            return
        time.sleep(0.1)
    raise AssertionError("the run made no progress")


@pytest.mark.server
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_run_gracefully_and_leaves_partial_results(
    signum: signal.Signals, langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "long.toml", LONG.format(grace="30s", pause="100ms"))
    out = tmp_path / "out"
    process = _start(workload, out, langgraph_url)
    _wait_for_operations(process, out / "history.jsonl", 4)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] is True
    assert summary["stop_reason"] == signum.name
    history = read_history(out / "history.jsonl")
    assert history.events[-1]["name"] == "run.partial"
    # Graceful: iterations in flight finished (a sleep of 100 ms), nothing was cut.
    assert {e["type"] for e in history.operations()} == {"invoke", "ok"}


@pytest.mark.server
def test_sigkill_leaves_history_interval_log_and_a_checkpoint_summary(
    langgraph_url: str, tmp_path: Path
) -> None:
    # Nothing runs after SIGKILL: whatever survives was on disk while the run went on.
    workload = write(tmp_path / "long.toml", LONG.format(grace="30s", pause="50ms"))
    out = tmp_path / "out"
    process = _start(workload, out, langgraph_url, "--checkpoint-every", "1s")
    _wait_for_operations(process, out / "history.jsonl", 4)
    deadline = time.monotonic() + 60
    while not (out / "summary.json").exists():
        assert time.monotonic() < deadline, "no checkpoint summary was written"
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.kill()
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] is True
    assert summary["stop_reason"].startswith("running")
    assert summary["operations"]["threads.create"]["ok"] >= 1
    history = read_history(out / "history.jsonl")
    assert len(history.operations()) >= 4
    hlog = (out / "intervals.hlog").read_text()
    assert "Tag=threads.create," in hlog
    lines = (out / "timeseries.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["end_s"] > 0
    # What is left is enough to judge and to see: check and report work on it.
    checked = lgbench("check", out / "history.jsonl")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "verdict" in checked.stdout
    reported = lgbench("report", out)
    assert reported.returncode == 0, reported.stderr
    page = (out / "report.html").read_text()
    assert "partial" in page.lower()


@pytest.mark.server
def test_a_second_ctrl_c_stops_at_once(langgraph_url: str, tmp_path: Path) -> None:
    # Iterations sleep for a minute with a minute of graceful stop: only the second
    # Ctrl-C can end the run quickly, and it must still leave its results.
    workload = write(tmp_path / "long.toml", LONG.format(grace="1m", pause="1m"))
    out = tmp_path / "out"
    process = _start(workload, out, langgraph_url)
    _wait_for_operations(process, out / "history.jsonl", 2)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None  # still waiting for the sleeping iterations
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert time.monotonic() - started < 30  # far less than the graceful minute
    assert process.returncode == 130
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] is True
    assert summary["scenarios"]["forever"]["iterations"]["interrupted"] == 2
    assert read_history(out / "history.jsonl").events[-1]["name"] == "run.partial"


@pytest.mark.server
@pytest.mark.smoke  # the README's main job, end to end, in the fast subset
def test_run_starts_and_stops_the_embedded_server_when_there_is_no_target(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    done = lgbench(
        "run",
        ROOT / "workloads" / "quickstart.toml",
        "--duration",
        "1s",
        "--vus",
        "1",
        "--graceful-stop",
        "1s",
        "--out",
        out,
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["target"] == {"url": "embedded", "embedded": True}
    assert summary["server"]["version"]
    assert (out / "server.log").stat().st_size > 0
    assert summary["operations"]["runs.wait"]["ok"] >= 1
