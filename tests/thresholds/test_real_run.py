"""A real short run of a sample workload, its thresholds judged on the summary.json it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from lgbench.thresholds import ThresholdEvaluator, render_thresholds
from lgbench.workload import load_workload, parse_threshold_option
from lgbench.workload._thresholds import workload_thresholds

ROOT = Path(__file__).parent.parent.parent


@pytest.mark.server
def test_quickstart_thresholds_on_its_own_summary(langgraph_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "lgbench.cli", "run", str(ROOT / "workloads" / "quickstart.toml"),
         "--target", langgraph_url, "--duration", "3s", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "COLUMNS": "160"},
    )  # fmt: skip
    assert done.returncode in (0, 4), done.stderr  # 4 once runs gate on thresholds
    summary = json.loads((out / "summary.json").read_text())
    check = json.loads((out / "check.json").read_text())

    workload = load_workload(ROOT / "workloads" / "quickstart.toml")
    extra = [
        parse_threshold_option("runs.stream.ttfe.p99<1h"),
        parse_threshold_option("threads.create.count>=1"),
        parse_threshold_option("runs.join.latency.p99<1s"),  # quickstart never joins
    ]
    thresholds = workload_thresholds(workload, extra)
    report = ThresholdEvaluator(thresholds).finish(summary, check)
    results = {result.threshold.name: result for result in report.results}
    assert list(results) == [
        "runs.wait.latency.p99",
        "errors.rate",
        "anomalies",
        "runs.stream.ttfe.p99",
        "threads.create.count",
        "runs.join.latency.p99",
    ]

    wait_p99 = summary["operations"]["runs.wait"]["latency_ms"]["p99"]
    wait = results["runs.wait.latency.p99"]
    assert wait.value == wait_p99
    assert wait.status == ("passed" if wait_p99 < 3000 else "failed")
    lines = (ROOT / "workloads" / "quickstart.toml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith('"runs.wait.latency.p99"'))
    assert wait.threshold.source.endswith(f"quickstart.toml:{line}:27")

    operations = summary["operations"].values()
    error_rate = 100 * sum(o["errors"] for o in operations) / sum(o["count"] for o in operations)
    assert results["errors.rate"].value == pytest.approx(error_rate)

    anomalies = results["anomalies"]
    if check["valid"] == "unknown":
        assert anomalies.status == "no_data"
    else:
        assert anomalies.value == check["counts"]["anomalies"]
        assert anomalies.passed is (check["counts"]["anomalies"] == 0)

    assert (
        results["runs.stream.ttfe.p99"].value
        == (summary["operations"]["runs.stream"]["stream"]["ttfe_ms"]["p99"])
    )
    assert results["threads.create.count"].value == summary["operations"]["threads.create"]["count"]
    assert results["runs.join.latency.p99"].status == "no_data"
    assert not report.passed

    as_json = json.dumps(report.to_dict(), allow_nan=False)
    console = Console(record=True, width=200, color_system=None)
    render_thresholds(json.loads(as_json), console)
    text = console.export_text()
    assert all(name in text for name in results)
