"""``lgbench compare`` and write_junit on run folders the quickstart workload really left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from rich.console import Console

from lgbench.cli import compare_command
from lgbench.errors import UsageError
from lgbench.exitcodes import ExitCode
from lgbench.gate import (
    NO_INTERVALS,
    compare_runs,
    compare_summaries,
    load_run,
    load_summary,
    write_junit,
)
from lgbench.metrics import LatencyRecorder

pytestmark = pytest.mark.server

ROOT = Path(__file__).parent.parent.parent


def quickstart(out: Path, target: str) -> Path:
    """One short quickstart run against the session's embedded server; its run folder."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lgbench.cli",
            "run",
            str(ROOT / "workloads" / "quickstart.toml"),
            "--duration",
            "6s",
            "--target",
            target,
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )
    assert done.returncode in (ExitCode.OK, ExitCode.THRESHOLDS), done.stderr
    return out


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory, langgraph_url: str) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("gate-runs")
    return quickstart(base / "a", langgraph_url), quickstart(base / "b", langgraph_url)


def console() -> Console:
    return Console(record=True, width=220, color_system=None)


def slowed(run: Path, tmp_path: Path, operation: str, factor: float) -> Path:
    """A copy of ``run``'s summary.json with one operation's latencies ``factor`` times."""
    content = load_summary(run)
    figures: dict[str, Any] = content["operations"][operation]["latency_ms"]
    for key, value in figures.items():
        if isinstance(value, int | float):
            figures[key] = value * factor
    path = tmp_path / "slowed.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def slowed_folder(run: Path, tmp_path: Path, operation: str, factor: float) -> Path:
    """A copy of the run folder whose ``operation`` took ``factor`` times longer: its
    summary figures and every one of its interval histograms in intervals.hlog."""
    folder = tmp_path / "slowed-run"
    folder.mkdir()
    slowed(run, tmp_path, operation, factor).rename(folder / "summary.json")
    (folder / "timeseries.jsonl").write_bytes((run / "timeseries.jsonl").read_bytes())
    lines = []
    for line in (run / "intervals.hlog").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"Tag={operation},"):
            head, _, blob = line.rpartition(",")
            slower = LatencyRecorder()
            for value, count in LatencyRecorder.blob_value_counts(blob):
                for _ in range(count):
                    slower.record_us(int(value * factor))
            line = f"{head},{slower.encode()}"
        lines.append(line)
    (folder / "intervals.hlog").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_a_run_against_itself_passes(two_runs: tuple[Path, Path]) -> None:
    run, _ = two_runs
    out = console()
    code = compare_command(run, run / "summary.json", max_regression=0.10, console=out)
    assert code == ExitCode.OK
    text = out.export_text()
    assert "baseline: passed" in text
    for name in load_summary(run)["operations"]:
        assert name in text


def test_a_slower_run_exits_4_and_names_the_regression(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    run, _ = two_runs
    # Six seconds of a quickstart hold a few dozen threads.create calls whose seconds differ
    # a lot (the burst, the start): only a large slowdown is beyond doubt in so little data.
    new = slowed_folder(run, tmp_path, "threads.create", 10.0)
    out = console()
    code = compare_command(run, new, max_regression=0.10, console=out, explain=True)
    assert code == ExitCode.THRESHOLDS
    text = out.export_text()
    assert "baseline: FAILED" in text
    assert "threads.create p50 +900." in text
    assert "threads.create p50: change +900." in text  # --explain's line
    # Within a generous limit the same slowdown passes.
    assert compare_command(run, new, max_regression=20.0, console=console()) == ExitCode.OK


def test_a_bare_summary_is_shown_but_not_judged(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    run, _ = two_runs
    new = slowed(run, tmp_path, "threads.create", 2.0)  # a summary.json with no intervals
    out = console()
    assert compare_command(run, new, max_regression=0.10, console=out) == ExitCode.OK
    text = out.export_text()
    assert NO_INTERVALS in text
    assert "passed, not judged" in text


def test_two_real_runs_exit_as_their_comparison_says(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    comparison = compare_runs([load_run(a)], [load_run(b)], max_regression=0.10)
    assert comparison.statistical
    assert {op.name for op in comparison.operations} == set(load_summary(a)["operations"]) & set(
        load_summary(b)["operations"]
    )
    assert any(row.low is not None for op in comparison.operations for row in op.metrics)
    out = console()
    code = compare_command(a, b, max_regression=0.10, console=out)
    assert code == (ExitCode.OK if comparison.passed else ExitCode.THRESHOLDS)
    text = out.export_text()
    for line in comparison.regressions:
        assert line in text
    assert f"baseline comparison: {a / 'summary.json'} → {b / 'summary.json'}\n" in text


def test_a_folder_of_runs_is_one_baseline(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_runs
    folder = tmp_path / "nightly"
    folder.mkdir()
    for name, run in (("1", a), ("2", b)):
        (folder / name).symlink_to(run, target_is_directory=True)
    out = console()
    code = compare_command(folder, b, max_regression=0.10, console=out, explain=True)
    assert code in (ExitCode.OK, ExitCode.THRESHOLDS)
    text = out.export_text()
    assert "noise floor from 2 baseline runs" in text


def test_a_missing_base_is_a_usage_error(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    _, run = two_runs
    with pytest.raises(UsageError) as raised:
        compare_command(tmp_path, run, max_regression=0.10, console=console())
    assert str(tmp_path) in str(raised.value)
    assert raised.value.exit_code == ExitCode.USAGE


def test_junit_from_a_real_run_folder(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_runs
    summary = load_summary(b)
    check = json.loads((b / "check.json").read_text(encoding="utf-8"))
    comparison = compare_summaries(load_summary(a), summary, base_path=str(a)).to_dict()
    path = write_junit(tmp_path / "junit.xml", summary, check, comparison)
    xmlschema.XMLSchema(ROOT / "tests" / "data" / "junit.xsd").validate(path)
    root = ET.parse(path).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"lgbench.thresholds", "lgbench.checker", "lgbench.baseline"}
    checker_cases = {c.get("name") for c in suites["lgbench.checker"].iter("testcase")}
    assert checker_cases == set(check["strategies"]) or checker_cases == {"history"}
    baseline = suites["lgbench.baseline"]
    assert {c.get("name") for c in baseline.iter("testcase")} == set(comparison["operations"])
    regressed = [name for name, op in comparison["operations"].items() if not op["passed"]]
    assert baseline.get("failures") == str(len(regressed))
    properties = {p.get("name"): p.get("value") for p in baseline.iter("property")}
    assert properties["server_version"] == summary["server"]["version"]
    assert properties["workload"] == "quickstart"
