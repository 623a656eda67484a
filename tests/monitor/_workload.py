"""A short workload with every kind of figure the exporters publish: plain requests, HTTP
errors (a thread that does not exist), streams, waits, and an ``abort_on_fail``-free
threshold judged at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

MIXED = """
name = "monitored"

[defaults]
seed = 7

[[scenario]]
name = "threads"
executor = "constant-arrival-rate"
rate = 20
duration = "2s"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "threads.get", thread = "$thread" },
]

[[scenario]]
name = "missing"
executor = "constant-arrival-rate"
rate = 5
duration = "2s"
steps = [{ op = "threads.get", thread = "00000000-0000-0000-0000-000000000000" }]

[[scenario]]
name = "streams"
executor = "constant-vus"
vus = 2
duration = "2s"
steps = [
  { op = "threads.create", save = "thread" },
  { op = "runs.stream", thread = "$thread", assistant = "streamer",
    input = { n = 3, gap_s = 0.01 }, stream_mode = ["values"] },
]

[thresholds]
"threads.create.latency.p99" = "< 30s"

[expected_errors]
"threads.get" = [404]
"""


def by_operation(
    samples: Iterable[tuple[Mapping[str, str], float]], label: str = "outcome"
) -> dict[str, Counter[str]]:
    """Per operation, the samples' values summed by ``label`` (over scenarios)."""
    found: dict[str, Counter[str]] = {}
    for labels, value in samples:
        found.setdefault(labels["operation"], Counter())[labels[label]] += int(value)
    return found


def summary_counts(summary: Mapping[str, Any]) -> dict[str, Counter[str]]:
    """Per operation, summary.json's ok and error counts."""
    return {
        name: Counter({"ok": op["ok"], "error": op["errors"]})
        for name, op in summary["operations"].items()
    }
