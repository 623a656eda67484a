"""docs/grafana/lgbench.json and docs/monitoring.md name only metrics lgbench exports, and
the docs name every one of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lgbench.engine._listener import RunStart
from lgbench.monitor import MetricsFeed, families

ROOT = Path(__file__).parent.parent.parent
DASHBOARD = ROOT / "docs" / "grafana" / "lgbench.json"
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def exported_names() -> set[str]:
    feed = MetricsFeed()
    feed.run_started(RunStart("w", Path("run"), 1.0, 0.0, 1.0))
    return {
        family.name + suffix
        for family in families(feed.figures)
        for suffix in _SUFFIXES[family.kind]
    }


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return []


def test_the_dashboard_queries_only_exported_metrics_and_marks_faults() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = expressions(dashboard["panels"])
    used = {name for query in queries for name in re.findall(r"\blgbench_\w+", query)}
    assert used and used <= exported_names(), used - exported_names()
    (faults,) = [a for a in dashboard["annotations"]["list"] if a["name"] == "Faults"]
    assert "lgbench_fault_active" in faults["expr"]
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "workload", "operation"} <= variables
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_the_monitoring_docs_name_every_metric() -> None:
    text = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    feed = MetricsFeed()
    feed.run_started(RunStart("w", Path("run"), 1.0, 0.0, 1.0))
    for family in families(feed.figures):
        name = family.name + ("_total" if family.kind == "counter" else "")
        short = name.removeprefix("lgbench_iterations")
        assert f"`{name}`" in text or f"`{short}`" in text, name
