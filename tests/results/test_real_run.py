"""A real run's summary.json, against the embedded server: it is read back and written again
byte for byte, and it is valid against the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lgbench.engine import Overrides
from lgbench.results import Summary
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload

pytestmark = [pytest.mark.anyio, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("asyncio", {})


async def test_a_real_summary_round_trips_and_matches_the_schema(
    langgraph_url: str, tmp_path: Path
) -> None:
    result = await run_workload(
        load_workload(ROOT / "workloads" / "quickstart.toml"),
        RunOptions(
            target=langgraph_url,
            out_dir=tmp_path / "run",
            overrides=Overrides(duration_s=2.0, vus=2, graceful_stop_s=2.0),
        ),
    )
    text = (tmp_path / "run" / "summary.json").read_text(encoding="utf-8")
    summary = Summary.from_json(text)
    assert summary.to_json() == text
    assert result.summary == json.loads(text)
    assert summary.operations and all(op.count for op in summary.operations.values())
    schema = json.loads((ROOT / "docs" / "summary.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(text), schema)
