"""A long run's history rotates into compressed segments that the checker reads as one.

With a small ``history_rotate_bytes`` a short run stands in for a soak: the history becomes
``history-0001.jsonl.gz``… plus the live ``history.jsonl``, the summary counts the segments,
and the run folder reads back (history and checker) as the same continuous history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import check_history
from lgbench.engine import Overrides
from lgbench.history import read_history
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload
from tests.engine._history_checks import assert_well_formed

pytestmark = [pytest.mark.anyio, pytest.mark.server]

ROOT = Path(__file__).parents[2]


@pytest.fixture(params=[pytest.param("asyncio"), pytest.param("trio")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return (request.param, {})


async def test_a_rotated_history_reads_and_checks_as_one(
    langgraph_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    result = await run_workload(
        load_workload(ROOT / "workloads" / "double-texting.toml"),
        RunOptions(
            target=langgraph_url,
            out_dir=run_dir,
            overrides=Overrides(duration_s=1.0, vus=2),
            history_rotate_bytes=16 * 1024,
            report=False,
        ),
    )
    assert not result.partial, result.stop_reason
    summary = json.loads((run_dir / "summary.json").read_text())
    segments = summary["history"]["segments"]
    assert segments >= 2
    assert summary["history"]["compression_errors"] == []
    names = sorted(path.name for path in run_dir.glob("history*"))
    assert names == [f"history-{n:04d}.jsonl.gz" for n in range(1, segments + 1)] + [
        "history.jsonl"
    ]
    history = read_history(run_dir)
    assert_well_formed(history)
    assert len(history.events) == summary["history"]["events"]
    verdict = check_history(run_dir)
    assert verdict.valid is True, verdict.to_dict()
