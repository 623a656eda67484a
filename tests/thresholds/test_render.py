"""render_thresholds: a table of every threshold, then why each one that did not pass failed."""

from __future__ import annotations

import json

from rich.console import Console

from lgbench.metrics import IntervalSnapshot, MetricKey, OperationMetrics
from lgbench.thresholds import ThresholdEvaluator, render_thresholds
from lgbench.workload import Threshold
from lgbench.workload._thresholds import build_threshold


def threshold(key: str, condition: str, **options: object) -> Threshold:
    found = build_threshold(key, condition, **options)  # type: ignore[arg-type]
    assert isinstance(found, Threshold), found
    return found


def printed(report: dict[str, object]) -> str:
    console = Console(record=True, width=200, color_system=None)
    render_thresholds(report, console)
    return console.export_text()


def test_a_report_as_a_table_with_reasons_for_failures() -> None:
    evaluator = ThresholdEvaluator(
        [
            threshold("runs.wait.latency.p99", "< 2s"),
            threshold("errors.rate", "< 1%"),
            threshold("anomalies", "== 0"),
            threshold("runs.wait.latency.max", "< 1ms", window_s=1.0, abort_on_fail=True),
        ]
    )
    metrics = OperationMetrics()
    metrics.record(0.0, 0.5)
    snapshot = IntervalSnapshot(0.0, 1.0, {MetricKey("runs.wait"): metrics})
    assert evaluator.observe(snapshot, IntervalSnapshot(0.0, 1.0, {}))
    summary = {
        "operations": {
            "runs.wait": {"count": 10, "errors": 0, "rate_per_s": 1.0, "latency_ms": {"p99": 900.0}}
        }
    }
    # The renderer reads the dict as summary.json keeps it.
    report = json.loads(json.dumps(evaluator.finish(summary, None).to_dict()))
    text = printed(report)
    assert "thresholds: 2 of 4 failed" in text
    lines = text.splitlines()
    row = next(line for line in lines if "runs.wait.latency.p99" in line)
    assert "< 2s" in row and "900 ms" in row and "passed" in row
    row = next(line for line in lines if "errors.rate" in line)
    assert "0 %" in row and "passed" in row
    row = next(line for line in lines if line.lstrip().startswith("anomalies"))
    assert "NO DATA" in row
    row = next(line for line in lines if "runs.wait.latency.max" in line)
    assert "in every 1s (abort)" in row and "stopped the run" in row and "1/1 failed" in row
    assert "• anomalies: no data: the checker did not run" in text
    assert "• runs.wait.latency.max: max latency of runs.wait failed in 1 of 1 windows" in text


def test_nothing_is_printed_without_thresholds() -> None:
    assert printed({"passed": True, "results": []}) == ""
