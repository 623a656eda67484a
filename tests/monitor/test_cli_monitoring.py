"""``lgbench run --prometheus`` and ``--otlp`` as users call them: /metrics up during the run
and for the grace after it, and every bad flag an exit 2 before any load."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.monitor._workload import by_operation, summary_counts

parser = pytest.importorskip("prometheus_client.parser")

SHORT = """
name = "cli-monitored"

[[scenario]]
name = "threads"
executor = "constant-arrival-rate"
rate = 10
duration = "2s"
steps = [{ op = "threads.create", save = "thread" }, { op = "threads.get", thread = "$thread" }]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def lgbench(*args: str | Path, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgbench.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )


@pytest.mark.server
def test_metrics_stay_up_for_the_grace_and_end_with_the_summarys_counts(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = tmp_path / "w.toml"
    workload.write_text(SHORT, encoding="utf-8")
    port = free_port()
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "lgbench.cli", "run", str(workload), "--target", langgraph_url,
            "--out", str(out), "--quiet", "--no-report", "--prometheus", f"127.0.0.1:{port}",
            "--prometheus-grace", "30s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        finished = None
        deadline = time.monotonic() + 90
        while finished is None and time.monotonic() < deadline:
            try:
                text = httpx.get(url, timeout=5).text
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                time.sleep(0.2)
                continue
            families = {f.name: f for f in parser.text_string_to_metric_families(text)}
            if families["lgbench_run_finished"].samples[0].value == 1:
                finished = families
            time.sleep(0.2)
        assert finished is not None, "the run did not finish in time"
        # During the grace, the run folder is complete.
        summary = json.loads((out / "summary.json").read_text())
        requests = [(s.labels, s.value) for s in finished["lgbench_requests"].samples]
        assert by_operation(requests) == summary_counts(summary)
    finally:
        process.terminate()  # ends the grace early, as Ctrl-C does
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"serving Prometheus metrics at {url}" in stderr
    assert "for 30 s more" in stderr


def test_a_taken_port_is_exit_2_before_any_load(tmp_path: Path) -> None:
    workload = tmp_path / "w.toml"
    workload.write_text(SHORT, encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The target does not exist: reaching it would be exit 3, so 2 means nothing ran.
        done = lgbench(
            "run", workload, "--target", f"http://127.0.0.1:{free_port()}",
            "--out", tmp_path / "out", "--prometheus", f"127.0.0.1:{port}",
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"--prometheus 127.0.0.1:{port}: cannot listen there" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--prometheus", "9464"], "--prometheus '9464': expected HOST:PORT"),
        (["--prometheus", "127.0.0.1:99999"], "the port must be a number"),
        (["--otlp", "ftp://127.0.0.1:4318"], "--otlp 'ftp://127.0.0.1:4318': expected an http"),
        (["--otlp", "http://127.0.0.1:4318", "--otlp-every", "0"], "--otlp-every 0"),
        (["--prometheus", "127.0.0.1:0", "--prometheus-grace", "soon"], "--prometheus-grace"),
    ],
)
def test_bad_monitoring_flags_are_exit_2(tmp_path: Path, flags: list[str], message: str) -> None:
    workload = tmp_path / "w.toml"
    workload.write_text(SHORT, encoding="utf-8")
    done = lgbench(
        "run", workload, "--target", f"http://127.0.0.1:{free_port()}", "--out",
        tmp_path / "out", *flags,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
