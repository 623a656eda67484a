"""``lgbench report RUN_DIR`` says on the terminal what it had to skip, not only in the page."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "reports" / "example"


def test_report_names_the_inputs_it_skipped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(EXAMPLE, run_dir)
    timeseries = run_dir / "timeseries.jsonl"
    text = timeseries.read_text()
    timeseries.write_text(text[: len(text) - 40])  # a killed writer's cut last line
    done = subprocess.run(
        [sys.executable, "-m", "lgbench.cli", "report", str(run_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: timeseries.jsonl: the last line was cut short" in done.stdout
    assert "written:" in done.stdout
    assert (run_dir / "report.html").stat().st_size > 100_000
