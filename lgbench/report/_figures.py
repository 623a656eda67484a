"""Plotly figure specs as plain dicts: what ``Plotly.newPlot(div, data, layout)`` takes.

No plotly Python objects (and so no pandas or numpy): the specs are built here, checked by
the browser test, and drawn by the plotly.js inlined into the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, final

__all__ = [
    "COLORS",
    "Fault",
    "Figure",
    "TimeAxis",
    "distribution_figure",
    "percentile_ticks",
    "time_figure",
    "trace",
]

Figure = dict[str, Any]

COLORS: Final = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#e7969c",
    "#637939",
    "#d6616b",
    "#3182bd",
    "#b5cf6b",
    "#843c39",
    "#7b4173",
    "#6baed6",
    "#fd8d3c",
)
"""One colour per operation, in table order, the same in every plot."""

_FONT: Final = {
    "family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
    "size": 12,
}
_FAULT_FILL: Final = "rgba(214, 39, 40, 0.12)"


@final
@dataclass(frozen=True, slots=True)
class Fault:
    """A fault window to shade: seconds since the run's start; ``end_s`` None = to the end."""

    name: str
    kind: str
    start_s: float
    end_s: float | None


@final
@dataclass(frozen=True, slots=True)
class TimeAxis:
    """Elapsed time in the unit that suits the run's length, and the faults to shade."""

    span_s: float
    faults: tuple[Fault, ...] = field(default=())

    @property
    def unit(self) -> tuple[float, str]:
        if self.span_s <= 15 * 60:
            return 1.0, "s"
        if self.span_s <= 15 * 3600:
            return 60.0, "min"
        return 3600.0, "h"

    def x(self, seconds: Sequence[float]) -> list[float]:
        divisor, _ = self.unit
        return [round(s / divisor, 6) for s in seconds]

    @property
    def title(self) -> str:
        return f"elapsed ({self.unit[1]})"

    @property
    def suffix(self) -> str:
        return f" {self.unit[1]}"

    def shapes(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Fault bands (over the whole plot height) and their labels."""
        divisor, _ = self.unit
        shapes: list[dict[str, Any]] = []
        labels: list[dict[str, Any]] = []
        for fault in self.faults:
            end_s = fault.end_s if fault.end_s is not None else max(self.span_s, fault.start_s)
            x0, x1 = fault.start_s / divisor, end_s / divisor
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": x0,
                    "x1": x1,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": _FAULT_FILL,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
            labels.append(
                {
                    "x": x0,
                    "y": 1,
                    "xref": "x",
                    "yref": "paper",
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "text": f"{fault.name} ({fault.kind})",
                    "font": {"size": 10, "color": "#a02020"},
                }
            )
        return shapes, labels


def trace(
    name: str,
    x: Sequence[float],
    y: Sequence[float | None],
    *,
    color: str | None = None,
    dash: str | None = None,
    group: str | None = None,
    kind: str = "scatter",
    unit: str = "",
) -> dict[str, Any]:
    """One line (or bar) trace; ``None`` values leave gaps."""
    spec: dict[str, Any] = {
        "type": kind,
        "name": name,
        "x": list(x),
        "y": [_finite(v) for v in y],
    }
    if kind == "scatter":
        spec["mode"] = "lines+markers" if len(x) <= 60 else "lines"
        spec["line"] = {"width": 1.6}
        spec["marker"] = {"size": 4}
        spec["connectgaps"] = False
        if dash:
            spec["line"]["dash"] = dash
        if color:
            spec["line"]["color"] = color
            spec["marker"]["color"] = color
    elif color:
        spec["marker"] = {"color": color}
    if group:
        spec["legendgroup"] = group
    spec["hovertemplate"] = f"%{{y:.4~g}}{(' ' + unit) if unit else ''}<extra>{name}</extra>"
    return spec


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def _base_layout(title: str, height: int) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 14}},
        "font": _FONT,
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 48, "b": 48},
        "legend": {"orientation": "h", "y": -0.2, "yanchor": "top", "x": 0},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "colorway": list(COLORS),
    }


def _axis(title: str, *, log: bool = False) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "title": {"text": title} if title else {},
        "gridcolor": "#e5e7eb",
        "zerolinecolor": "#d1d5db",
        "linecolor": "#9ca3af",
        "automargin": True,
    }
    if log:
        axis["type"] = "log"
    else:
        axis["rangemode"] = "tozero"
    return axis


def time_figure(
    figure_id: str,
    title: str,
    traces: list[dict[str, Any]],
    axis: TimeAxis,
    *,
    y_title: str,
    log_y: bool = False,
    stacked_bars: bool = False,
    height: int = 340,
) -> Figure:
    """A plot over the run's elapsed time, with the fault bands shaded."""
    layout = _base_layout(title, height)
    # Units on the ticks rather than an axis title, which the legend below would cover.
    layout["xaxis"] = _axis("")
    layout["xaxis"]["ticksuffix"] = axis.suffix
    layout["xaxis"]["range"] = [0, axis.span_s / axis.unit[0]]
    layout["yaxis"] = _axis(y_title, log=log_y)
    layout["hovermode"] = "x unified"
    if stacked_bars:
        layout["barmode"] = "stack"
        layout["bargap"] = 0.1
    shapes, labels = axis.shapes()
    if shapes:
        layout["shapes"] = shapes
        layout["annotations"] = labels
    return {"id": figure_id, "data": traces, "layout": layout}


def turn_figure(
    figure_id: str, title: str, traces: list[dict[str, Any]], *, height: int = 320
) -> Figure:
    """A plot against the turn of a conversation (1, 2, 3 …): how latency grows with it."""
    layout = _base_layout(title, height)
    layout["xaxis"] = _axis("turn")
    layout["xaxis"]["dtick"] = 1
    layout["yaxis"] = _axis("ms")
    layout["hovermode"] = "x unified"
    return {"id": figure_id, "data": traces, "layout": layout}


def percentile_ticks(max_x: float) -> tuple[list[float], list[str]]:
    """Tick positions on the ``1/(1-p)`` axis and their labels: 0%, 90%, 99%, 99.9% …"""
    values: list[float] = [1.0, 2.0]
    labels: list[str] = ["0%", "50%"]
    nines = 1
    while 10.0**nines <= max(max_x, 10.0) * 1.0001:
        values.append(10.0**nines)
        labels.append(_percent_label(100.0 * (1.0 - 10.0**-nines)))
        nines += 1
    return values, labels


def _percent_label(percentile: float) -> str:
    text = f"{percentile:.10f}".rstrip("0").rstrip(".")
    return f"{text}%"


def distribution_figure(
    figure_id: str,
    title: str,
    curves: dict[str, list[tuple[float, float]]],
    colors: dict[str, str],
    *,
    height: int = 420,
) -> Figure:
    """Latency by percentile, HdrHistogram style: x is ``1/(1-p)`` on a log axis.

    ``curves`` maps a name to ``(percentile, value_ms)`` points, as
    :func:`~lgbench.report._histograms.curve_percentiles` gives them.
    """
    traces: list[dict[str, Any]] = []
    max_x = 10.0
    for name, points in curves.items():
        xs = [1.0 / (1.0 - p / 100.0) for p, _ in points]
        max_x = max(max_x, *xs) if xs else max_x
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": xs,
                "y": [value for _, value in points],
                "customdata": [_percent_label(round(p, 6)) for p, _ in points],
                "line": {"width": 1.8, "shape": "hv", "color": colors.get(name)},
                "hovertemplate": "%{customdata}: %{y:.4~g} ms<extra>" + name + "</extra>",
            }
        )
    layout = _base_layout(title, height)
    tick_values, tick_labels = percentile_ticks(max_x)
    layout["xaxis"] = _axis("", log=True)
    layout["xaxis"]["tickvals"] = tick_values
    layout["xaxis"]["ticktext"] = tick_labels
    layout["yaxis"] = _axis("latency (ms)", log=True)
    layout["hovermode"] = "closest"
    return {"id": figure_id, "data": traces, "layout": layout}
