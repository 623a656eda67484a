"""docs/thresholds.md: its examples are valid, and its result example has the real keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lgbench.thresholds import ThresholdEvaluator
from lgbench.workload import Threshold, parse_workload
from lgbench.workload._thresholds import build_threshold

DOC = Path(__file__).parent.parent.parent / "docs" / "thresholds.md"
TEXT = DOC.read_text(encoding="utf-8")
SCENARIO = """
[[scenario]]
name = "arrivals"
executor = "constant-vus"
vus = 1
duration = "1s"
steps = [
  { op = "runs.stream", assistant = "streamer" },
  { op = "runs.wait", assistant = "sleepy" },
]
"""


def test_toml_examples_are_valid_workloads() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", TEXT, re.DOTALL)
    assert blocks
    for block in blocks:
        workload = parse_workload(block + SCENARIO, "doc.toml")
        keys = {spec.expression_key for spec in workload.thresholds}
        assert keys == set(re.findall(r'^"([^"]+)" =', block, re.MULTILINE))


def test_the_result_example_has_the_keys_results_have() -> None:
    (block,) = re.findall(r"```json\n(.*?)```", TEXT, re.DOTALL)
    example = json.loads(block)
    found = build_threshold("runs.wait.latency.p99", "< 2s", source="x")
    assert isinstance(found, Threshold)
    report = ThresholdEvaluator([found]).finish({})
    assert example.keys() == report.to_dict().keys()
    assert example["results"][0].keys() == report.to_dict()["results"][0].keys()
