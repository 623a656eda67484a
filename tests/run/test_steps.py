"""The run layer's post-run steps: which a run takes, and what they leave when one fails."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import trio.testing
from rich.console import Console

from lgbench.engine import AuditOptions, LiveView, LoadRun, LoadSettings, Recorder, RunControl
from lgbench.history import HistoryWriter
from lgbench.run import RunOptions, run_workload
from lgbench.run._steps import (
    Finishing,
    FinishOptions,
    add_drift,
    add_faults,
    add_sampling,
    compare_with_baseline,
    judge_history,
    judge_thresholds,
    post_run_steps,
    take_summary,
    tell_listeners,
    write_junit_file,
    write_report_file,
    write_summary_file,
)
from lgbench.thresholds import ThresholdEvaluator
from lgbench.workload import parse_threshold_option, parse_workload
from tests.engine._fake_langgraph import FakeLangGraph

WORKLOAD = """
name = "steps"

[[scenario]]
name = "threads"
executor = "per-vu-iterations"
vus = 1
iterations = 2
steps = [{ op = "threads.create" }]
"""


def finishing(tmp_path: Path, **given: Any) -> Finishing:
    """A run's post-run state with nothing run (the steps are only chosen, not taken)."""
    workload = parse_workload(WORKLOAD, "steps.toml")
    console = Console(file=io.StringIO())
    engine = LoadRun(
        workload,
        LoadSettings(),
        control=RunControl(),
        live=LiveView("quiet", console, title="steps", planned_s=1.0),
        run_dir=tmp_path,
        seed=1,
        target="http://fake.test",
        url="http://fake.test",
        server_info={},
        evaluator=given.pop("evaluator", ThresholdEvaluator(())),
        files={},
        listeners=[],
    )
    clock = lambda: 0.0  # noqa: E731
    recorder = Recorder(
        clock=clock, origin_s=0.0, history=HistoryWriter(io.StringIO(), clock=clock, origin_s=0.0)
    )
    given.setdefault("checker", None)
    given.setdefault("baseline", None)
    given.setdefault("options", FinishOptions())
    return Finishing(engine=engine, recorder=recorder, evaluator=engine.evaluator, **given)


def test_a_plain_run_writes_its_summary_junit_and_report(tmp_path: Path) -> None:
    assert post_run_steps(finishing(tmp_path)) == (
        take_summary,
        add_drift,
        add_faults,
        write_summary_file,
        write_junit_file,
        write_report_file,
        tell_listeners,
    )


def test_the_options_add_and_leave_out_steps(tmp_path: Path) -> None:
    thresholds = (parse_threshold_option("threads.create.count>=1"),)
    run = finishing(
        tmp_path,
        checker=lambda path: {"valid": True},
        baseline=[],
        options=FinishOptions(report=False),
        evaluator=ThresholdEvaluator(thresholds),
    )
    steps = post_run_steps(run)
    assert steps[0] is judge_history  # before the summary: its warnings go into it
    assert judge_thresholds in steps and compare_with_baseline in steps
    assert steps.index(judge_thresholds) < steps.index(compare_with_baseline)
    assert steps.index(compare_with_baseline) < steps.index(write_summary_file)
    assert write_report_file not in steps and add_sampling not in steps


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


@pytest.mark.anyio
async def test_a_failing_checker_leaves_every_other_result(tmp_path: Path) -> None:
    def checker(path: Path) -> object:
        raise RuntimeError("checker bug")

    result = await run_workload(
        parse_workload(WORKLOAD, "steps.toml"),
        RunOptions(
            target="http://fake.test",
            out_dir=tmp_path / "run",
            loop_lag_interval_s=None,
            audit=AuditOptions(enabled=False),
            report=False,
        ),
        transport=FakeLangGraph().transport(),
        checker=checker,
    )
    assert result.results is not None
    check = result.results.check
    assert check is not None
    assert (check.valid, check.error) == ("unknown", "RuntimeError: checker bug")
    assert "the checker failed: RuntimeError: checker bug" in result.results.warnings
    assert not (tmp_path / "run" / "check.json").exists()
    written = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert written == result.summary
    assert written["check"]["valid"] == "unknown"
    assert (tmp_path / "run" / "junit.xml").is_file()
    assert sorted(result.files) == ["history", "intervals", "junit", "summary", "timeseries"]


@pytest.mark.anyio
async def test_a_checkers_verdict_object_goes_to_check_json(tmp_path: Path) -> None:
    class Verdict:
        valid = False

        def to_dict(self) -> dict[str, Any]:
            return {"valid": False, "anomalies": {"lost": {"count": 1}}}

    verdict = Verdict()
    result = await run_workload(
        parse_workload(WORKLOAD, "steps.toml"),
        RunOptions(
            target="http://fake.test",
            out_dir=tmp_path / "run",
            loop_lag_interval_s=None,
            audit=AuditOptions(enabled=False),
            report=False,
        ),
        transport=FakeLangGraph().transport(),
        checker=lambda path: verdict,
    )
    assert result.check is verdict and result.anomalies_found
    assert result.results is not None and result.results.check is not None
    assert result.results.check.valid is False
    check_json = json.loads((tmp_path / "run" / "check.json").read_text(encoding="utf-8"))
    assert check_json == {"valid": False, "anomalies": {"lost": {"count": 1}}}
    assert result.results.files.check == "check.json"
