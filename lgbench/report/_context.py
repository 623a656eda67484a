"""Everything one report is built from, read and merged once, for the sections to draw on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, final

from msgspec import UnsetType

from lgbench.report._figures import COLORS, Fault, Figure, TimeAxis
from lgbench.report._grid import Grid
from lgbench.report._histograms import HlogData, read_hlog, scan_hlog
from lgbench.report._html import Raw, esc
from lgbench.report._inputs import SUMMARY_FILE, RunInputs
from lgbench.report._series import Series, bucket_timeseries, timeseries_end_s
from lgbench.results import REPLY_RATE_SERIES, ResultsError, Stream, Summary

__all__ = ["AUX_KINDS", "Context", "build_context", "get", "number", "split_tag"]

AUX_KINDS: Final = ("ttfe", "queue_wait", "event_gap", "service_time")
"""Suffixes of the .hlog tags that time part of an operation (``runs.stream.ttfe``)."""

_LGBENCH_PREFIX: Final = "lgbench."


def get(data: Any, *keys: str) -> Any:
    """``data[k1][k2]…`` or None when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def split_tag(tag: str) -> tuple[str, str]:
    """``("operation", name)``, ``("aux", kind)``, ``("rate", kind)`` or ``("lgbench", what)``
    for an .hlog tag.

    For aux and rate tags the operation is the tag without its last part. Rate tags
    (``runs.stream.tokens_per_s``) hold no durations: tables and plots of timings leave them out.
    """
    if tag.startswith(_LGBENCH_PREFIX):
        return "lgbench", tag[len(_LGBENCH_PREFIX) :]
    head, _, last = tag.rpartition(".")
    if head and last in AUX_KINDS:
        return "aux", last
    if head and last == REPLY_RATE_SERIES:
        return "rate", last
    return "operation", tag


@final
@dataclass(slots=True)
class Context:
    inputs: RunInputs
    summary: Summary | None
    partial: bool
    span_s: float
    grid: Grid
    axis: TimeAxis
    hlog: HlogData | None
    series: Series | None
    operations: list[str]
    colors: dict[str, str]
    figures: list[Figure] = field(default_factory=list)

    def plot(self, figure: Figure, *, css: str = "") -> Raw:
        """Register ``figure`` to be drawn and return the element it is drawn into."""
        self.figures.append(figure)
        extra = f" {esc(css)}" if css else ""
        return Raw(f'<div class="plot{extra}" id="{esc(figure["id"])}"></div>')

    def figure_id(self, name: str) -> str:
        return f"plot-{len(self.figures) + 1}-{name}"

    def tag_names(self) -> list[str]:
        if self.hlog is None:
            return []
        return sorted(set(self.hlog.buckets) | set(self.hlog.totals))

    def stream_operations(self) -> list[str]:
        """Operations that have a time to first event (streams)."""
        found = {
            op
            for op in self.operations
            if (
                self.summary is not None
                and isinstance(getattr(self.summary.operations.get(op), "stream", None), Stream)
            )
            or (self.hlog is not None and f"{op}.ttfe" in self.hlog.buckets)
        }
        return [op for op in self.operations if op in found]


def _faults(summary: Summary | None) -> tuple[Fault, ...]:
    found = summary.faults if summary is not None else ()
    if isinstance(found, UnsetType):
        return ()
    return tuple(
        Fault(
            name=fault.name or "fault",
            kind=fault.kind,
            start_s=fault.start_s,
            end_s=number(fault.end_s),
        )
        for fault in found
        if number(fault.start_s) is not None
    )


def _read_summary(inputs: RunInputs) -> Summary | None:
    """summary.json through the model; one that is not a summary is a note, left out."""
    if inputs.summary is None:
        return None
    try:
        return Summary.from_builtins(inputs.summary, source=SUMMARY_FILE)
    except ResultsError as exc:
        inputs.notes.append(f"{exc}; left out")
        return None


def build_context(inputs: RunInputs) -> Context:
    """Decide the time grid from every source's span, then decode the hlog and timeseries."""
    summary = _read_summary(inputs)
    scan = scan_hlog(inputs.hlog) if inputs.hlog is not None else None
    interval_s = (
        number(get(inputs.timeseries_header, "interval_s"))
        or (scan.interval_s if scan is not None else None)
        or 1.0
    )
    span_s = max(
        (number(summary.duration_s) if summary else None) or 0.0,
        timeseries_end_s(inputs.timeseries),
        scan.end_s if scan is not None else 0.0,
    )
    grid = Grid.for_span(span_s, interval_s)
    span_s = span_s or grid.width_s
    hlog = read_hlog(inputs.hlog, grid, scan) if inputs.hlog is not None and scan else None
    series = bucket_timeseries(inputs.timeseries, grid) if inputs.timeseries else None
    operations = _operations(summary, hlog, series)
    colors = {op: COLORS[i % len(COLORS)] for i, op in enumerate(operations)}
    partial = summary is None or summary.partial
    return Context(
        inputs=inputs,
        summary=summary,
        partial=partial,
        span_s=span_s,
        grid=grid,
        axis=TimeAxis(span_s=span_s, faults=_faults(summary)),
        hlog=hlog,
        series=series,
        operations=operations,
        colors=colors,
    )


def _operations(summary: Summary | None, hlog: HlogData | None, series: Series | None) -> list[str]:
    names: set[str] = set()
    if summary is not None:
        names.update(summary.operations)
    else:
        if hlog is not None:
            names.update(tag for tag in hlog.buckets if split_tag(tag)[0] == "operation")
        if series is not None:
            names.update(series.operations)
    names.discard("(untagged)")
    return sorted(names)
