"""docs/workload.md: its examples parse, and it documents every operation and executor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lgbench.operations import OPERATIONS
from lgbench.workload import parse_workload
from lgbench.workload._executors import EXECUTORS

DOC = Path(__file__).parent.parent.parent / "docs" / "workload.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```toml\n(.*?)```", TEXT, re.DOTALL)
SCENARIO = """
[[scenario]]
name = "doc"
executor = "constant-vus"
vus = 1
duration = "1s"
steps = [{ op = "threads.create" }]
"""
# The [thresholds] examples name these: a threshold no step feeds is refused.
FED = (
    'steps = [{ op = "threads.create" }, { op = "runs.wait", assistant = "sleepy" },'
    ' { op = "runs.stream", assistant = "streamer" }]\n'
)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{i}" for i in range(len(BLOCKS))])
def test_toml_examples_parse(block: str) -> None:
    if block.startswith("steps = ["):
        block = SCENARIO.replace('steps = [{ op = "threads.create" }]\n', block)
    elif "[[scenario]]" not in block:
        block += SCENARIO.replace('steps = [{ op = "threads.create" }]\n', FED)
    parse_workload(block, "doc.toml")


def test_every_operation_and_executor_is_documented() -> None:
    for name in OPERATIONS:
        assert f"`{name}`" in TEXT, name
    for name in EXECUTORS:
        assert f"### `{name}`" in TEXT, name
