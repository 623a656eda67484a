"""``lgbench validate`` prints its plan whole, also where the output is not a terminal."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from lgbench import cli
from lgbench.cli import main
from lgbench.workload import load_workload

WORKLOAD = """
name = "wide"

[[scenario]]
name = "a-scenario-with-a-rather-long-name"
executor = "ramping-arrival-rate"
start_rate = 1
pre_allocated_vus = 5
max_vus = 50
stages = [{ target = 20, duration = "30s" }, { target = 20, duration = "2m" },
          { target = 0, duration = "30s" }]
steps = [{ op = "threads.create" }]

[[scenario]]
name = "b"
executor = "constant-vus"
vus = 3
duration = "1m"
start_time = "10s"
steps = [{ op = "threads.create" }]
"""


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "wide.toml"
    path.write_text(WORKLOAD, encoding="utf-8")
    return path


def test_off_a_terminal_each_scenario_is_one_whole_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # as in a CI log: rich would assume 80
    assert main(["validate", str(_file(tmp_path))]) == 0
    lines = capsys.readouterr().out.splitlines()
    scenario = [line for line in lines if "a-scenario-with-a-rather-long-name" in line]
    assert len(scenario) == 1, lines
    plan = load_workload(_file(tmp_path)).scenarios[0].executor.describe()
    assert len(plan) > 40 and plan in scenario[0]
    assert max(len(line) for line in lines) > 80  # the full width, not 80 columns
    header = next(line for line in lines if line.lstrip().startswith("start"))
    assert header.split() == [
        "start",
        "scenario",
        "executor",
        "model",
        "plan",
        "max",
        "VUs",
        "ends",
        "by",
    ]
    # Columns line up: every row's plan starts where the header's does.
    column = header.index("plan")
    assert scenario[0][column:].startswith(plan)
    assert not any(character in "".join(lines) for character in "┃━│─")  # no box drawing


def test_on_a_terminal_the_plan_is_a_table(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, color_system=None)
    args = cli._build_parser().parse_args(["validate", str(_file(tmp_path))])
    assert cli._validate(args, console) == 0
    text = out.getvalue()
    assert "scenarios, by start time" in text and "┃" in text
    assert "a-scenario-with-a-rather-long-name" in text


def test_workers_show_each_share(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(_file(tmp_path)), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "split over 2 workers" in out
    assert "worker 1/2:" in out and "worker 2/2:" in out
    assert "b: 2 VUs for 1m" in out and "b: 1 VU for 1m" in out
    assert "VUs 3 pre-allocated, at most 25" in out  # 5 and 50 split 3 + 2, 25 + 25


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_worker_counts_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert main(["validate", str(_file(tmp_path)), "--workers", value]) == 2
    assert "--workers" in capsys.readouterr().err


def test_a_split_that_cannot_work_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(_file(tmp_path)), "--workers", "64"]) == 2
    assert "max_vus (50) is fewer than the 64 workers" in capsys.readouterr().err


def test_auto_workers_is_the_core_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(_file(tmp_path)), "--workers", "auto"]) == 0
    cores = os.cpu_count() or 1
    out = capsys.readouterr().out
    assert (f"split over {cores} workers" in out) == (cores > 1)
