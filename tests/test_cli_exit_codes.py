"""Every exit code of ``lgbench run`` reached by a real run, as a CI gate sees it.

0 and 3 are covered in tests/test_cli_run.py; here: 2 (a bad ``--threshold`` or baseline,
refused before anything runs), 4 (a threshold, an ``abort_on_fail`` threshold, a baseline
regression) and 5 (a server that loses every wait's result; 5 wins over 4). The broken server is
the real one behind a proxy that rewrites some answers: the only fake the checker needs.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._rewriting_proxy import rewriting_proxy
from tests.test_cli_run import ROOT, lgbench, write

pytestmark = pytest.mark.server

WAITS = """
name = "gate"

[defaults]
seed = 3

[[scenario]]
name = "waits"
executor = "shared-iterations"
vus = 2
iterations = {iterations}
steps = [{{ op = "runs.wait", assistant = "sleepy", input = {{ seconds = {seconds} }} }}]
"""


def test_a_bad_threshold_option_exits_2_naming_the_flag(tmp_path: Path) -> None:
    workload = write(tmp_path / "w.toml", WAITS.format(iterations=2, seconds=0.01))
    done = lgbench("run", workload, "--threshold", "runs.wait.latency.p99 < 5%", "--out", tmp_path)
    assert done.returncode == 2
    assert "--threshold" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_baseline_exits_2_before_the_run(tmp_path: Path) -> None:
    workload = write(tmp_path / "w.toml", WAITS.format(iterations=2, seconds=0.01))
    out = tmp_path / "out"
    done = lgbench("run", workload, "--baseline", tmp_path / "nope.json", "--out", out)
    assert done.returncode == 2
    assert "nope.json" in done.stderr
    assert not out.exists()  # nothing ran


def test_server_faults_against_an_outside_target_exit_2_before_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = lgbench(
        "run", ROOT / "workloads" / "faults.toml", "--target", "http://127.0.0.1:9", "--out", out
    )
    assert done.returncode == 2
    assert 'fault "crash" (kill)' in done.stderr and 'fault "hung server" (pause)' in done.stderr
    assert not out.exists()


def test_a_failed_threshold_exits_4_with_the_reason_in_terminal_summary_and_junit(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", WAITS.format(iterations=4, seconds=0.05))
    out = tmp_path / "out"
    done = lgbench(
        "run", workload, "--target", langgraph_url, "--out", out, "--no-live",
        "--threshold", "runs.wait.latency.p50 < 1ms", "--threshold", "errors.rate < 1%",
        "--json", tmp_path / "ci" / "summary.json", "--junit", tmp_path / "ci" / "junit.xml",
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert "runs.wait.latency.p50" in done.stdout and "FAILED" in done.stdout
    summary = json.loads((tmp_path / "ci" / "summary.json").read_text())
    results = {r["name"]: r for r in summary["thresholds"]["results"]}
    assert results["runs.wait.latency.p50"]["status"] == "failed"
    assert results["runs.wait.latency.p50"]["value"] >= 50  # ms: every wait sleeps 50 ms
    assert results["errors.rate"]["status"] == "passed"
    assert summary["thresholds"]["passed"] is False
    suite = (
        ET.parse(tmp_path / "ci" / "junit.xml")
        .getroot()
        .find("testsuite[@name='lgbench.thresholds']")
    )
    assert suite is not None
    assert suite.get("failures") == "1"
    assert (out / "report.html").stat().st_size > 100_000  # plotly.js inlined


def test_an_abort_on_fail_threshold_stops_the_run_early_and_exits_4(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = write(
        tmp_path / "w.toml",
        """
name = "abort"

[[scenario]]
name = "waits"
executor = "constant-vus"
vus = 2
duration = "5m"
steps = [{ op = "runs.wait", assistant = "sleepy", input = { seconds = 0.05 } }]

[thresholds]
"runs.wait.latency.p50" = { condition = "< 1ms", abort_on_fail = true, abort_delay = "1s" }
""",
    )
    out = tmp_path / "out"
    done = lgbench("run", workload, "--target", langgraph_url, "--out", out, "--quiet")
    assert done.returncode == 4, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] is True
    assert summary["stop_reason"].startswith("threshold")
    assert summary["duration_s"] < 120  # far less than the planned 5 minutes
    (result,) = summary["thresholds"]["results"]
    assert result["aborted_run"] is True


def test_a_baseline_regression_exits_4_and_an_improvement_passes(
    langgraph_url: str, tmp_path: Path
) -> None:
    # The in-memory server answers a wait about a second late (its queue's poll period):
    # the slow run's graph sleeps long enough to stand out of that. Each run lasts several
    # seconds, so the gate has enough one-second intervals for a confidence interval.
    fast = write(tmp_path / "fast.toml", WAITS.format(iterations=12, seconds=0.01))
    slow = write(tmp_path / "slow.toml", WAITS.format(iterations=8, seconds=2.5))
    base = tmp_path / "base"
    done = lgbench("run", fast, "--target", langgraph_url, "--out", base, "--quiet")
    assert done.returncode == 0, done.stderr
    regressed = lgbench(
        "run", slow, "--target", langgraph_url, "--out", tmp_path / "new", "--no-live",
        "--baseline", base,
    )  # fmt: skip
    assert regressed.returncode == 4, regressed.stdout + regressed.stderr
    assert "runs.wait p50" in regressed.stdout
    summary = json.loads((tmp_path / "new" / "summary.json").read_text())
    assert summary["baseline"]["passed"] is False
    # The other way round is an improvement, and `lgbench compare` says the same.
    assert lgbench("compare", tmp_path / "new", base).returncode == 0
    assert lgbench("compare", base, tmp_path / "new").returncode == 4


@pytest.fixture
def lying_server(langgraph_url: str) -> Iterator[str]:
    """The real server behind a proxy that answers every runs.wait with ``{}``: each run
    executes, and its result is lost on the way (as seen on a multi-worker deployment)."""

    def lose_results(method: str, path: str, body: bytes) -> bytes:
        return b"{}" if path.endswith("/runs/wait") else body

    with rewriting_proxy(langgraph_url, lose_results) as url:
        yield url


def test_anomalies_exit_5_and_win_over_a_failed_threshold(
    lying_server: str, tmp_path: Path
) -> None:
    workload = write(tmp_path / "w.toml", WAITS.format(iterations=4, seconds=0.01))
    out = tmp_path / "out"
    done = lgbench(
        "run", workload, "--target", lying_server, "--out", out, "--quiet",
        "--threshold", "runs.wait.latency.p50 < 1us",
    )  # fmt: skip
    assert done.returncode == 5, done.stdout + done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["thresholds"]["passed"] is False
    check = json.loads((out / "check.json").read_text())
    assert check["valid"] is False
    assert check["anomalies"]["result_lost"]["count"] == 4
    junit = ET.parse(out / "junit.xml").getroot()
    checker = junit.find("testsuite[@name='lgbench.checker']")
    assert checker is not None and int(checker.get("failures", "0")) >= 1
