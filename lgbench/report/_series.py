"""``timeseries.jsonl`` merged into the report's time buckets.

Counters (operations' outcomes, scenarios' iterations) are per-interval deltas: summed per
bucket. Gauges (``active_vus``, the sampled ``server`` and ``lgbench`` figures) are values
at an interval's end: a bucket keeps their maximum, except CPU percentages (keys ending in
``_percent``), which it averages, so a busy second does not paint a whole bucket busy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, final

from lgbench.report._grid import Grid

__all__ = ["OPERATION_COUNTERS", "SCENARIO_COUNTERS", "Series", "bucket_timeseries"]

OPERATION_COUNTERS: Final = (
    "count",
    "ok",
    "errors",
    "transport_errors",
    "timeouts",
    "run_errors",
    "other",
    "interrupted",
)
SCENARIO_COUNTERS: Final = ("started", "finished", "failed", "dropped")
SAMPLED_GROUPS: Final = ("server", "lgbench")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@final
@dataclass(slots=True)
class Series:
    """The timeseries per bucket; ``None`` where a gauge was never sampled in a bucket."""

    grid: Grid
    covered_s: list[float]
    operations: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """Per operation, per counter (:data:`OPERATION_COUNTERS`), per bucket."""
    http_errors: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per operation, the whole run's error answers by status."""
    active_vus: dict[str, list[float | None]] = field(default_factory=dict)
    scenarios: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    sampled: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    """Per group (``server``, ``lgbench``), per numeric key, per bucket."""
    end_s: float = 0.0
    intervals: int = 0

    def total(self, operation: str, counter: str) -> int:
        return sum(self.operations.get(operation, {}).get(counter, ()))


def timeseries_end_s(lines: list[dict[str, Any]]) -> float:
    return max((float(line["end_s"]) for line in lines), default=0.0)


def bucket_timeseries(lines: list[dict[str, Any]], grid: Grid) -> Series:
    """Merge interval ``lines`` (already checked to have numeric ``start_s``/``end_s``)."""
    n = grid.count
    series = Series(grid=grid, covered_s=[0.0] * n)
    means: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
    for line in lines:
        start_s, end_s = float(line["start_s"]), float(line["end_s"])
        index = grid.index(start_s)
        series.covered_s[index] += end_s - start_s
        series.end_s = max(series.end_s, end_s)
        series.intervals += 1
        operations = line.get("operations")
        if isinstance(operations, Mapping):
            for name, figures in operations.items():
                if isinstance(figures, Mapping):
                    _add_operation(series, str(name), figures, index)
        scenarios = line.get("scenarios")
        if isinstance(scenarios, Mapping):
            for name, figures in scenarios.items():
                if isinstance(figures, Mapping):
                    _add_scenario(series, str(name), figures, index)
        for group in SAMPLED_GROUPS:
            sampled = line.get(group)
            if not isinstance(sampled, Mapping):
                continue
            keys = series.sampled.setdefault(group, {})
            for key, raw in sampled.items():
                value = _number(raw)
                if value is None:
                    continue
                column = keys.setdefault(str(key), [None] * n)
                if str(key).endswith("_percent"):
                    sums, seen = means.setdefault((group, str(key)), ([0.0] * n, [0] * n))
                    sums[index] += value
                    seen[index] += 1
                    column[index] = sums[index] / seen[index]
                else:
                    old = column[index]
                    column[index] = value if old is None else max(old, value)
    return series


def _add_operation(series: Series, name: str, figures: Mapping[str, Any], index: int) -> None:
    counters = series.operations.get(name)
    if counters is None:
        counters = series.operations[name] = {
            counter: [0] * series.grid.count for counter in OPERATION_COUNTERS
        }
    for counter in OPERATION_COUNTERS:
        value = _number(figures.get(counter))
        if value is not None:
            counters[counter][index] += int(value)
    http = figures.get("http_errors")
    if isinstance(http, Mapping):
        statuses = series.http_errors.setdefault(name, {})
        for status, raw in http.items():
            value = _number(raw)
            if value is not None:
                statuses[str(status)] = statuses.get(str(status), 0) + int(value)


def _add_scenario(series: Series, name: str, figures: Mapping[str, Any], index: int) -> None:
    counters = series.scenarios.get(name)
    if counters is None:
        counters = series.scenarios[name] = {
            counter: [0] * series.grid.count for counter in SCENARIO_COUNTERS
        }
    for counter in SCENARIO_COUNTERS:
        value = _number(figures.get(counter))
        if value is not None:
            counters[counter][index] += int(value)
    vus = _number(figures.get("active_vus"))
    if vus is not None:
        column = series.active_vus.setdefault(name, [None] * series.grid.count)
        old = column[index]
        column[index] = vus if old is None else max(old, vus)
