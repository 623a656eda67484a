"""Print a threshold report for people: one table row per threshold, then why each failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench._fit import fit_table, print_wide
from lgbench._toml import format_duration
from lgbench.thresholds._format import format_value

__all__ = ["render_thresholds"]

_STATUS: Final = {
    "passed": "[green]passed[/]",
    "failed": "[bold red]FAILED[/]",
    "no_data": "[bold red]NO DATA[/]",
    "too_short": "[yellow]too short[/]",
}
_DROP_ORDER: Final = ("value", "condition")


def _condition(result: Mapping[str, Any]) -> str:
    window = result.get("window_s")
    text = str(result.get("condition", ""))
    if isinstance(window, int | float):
        text += f" in every {format_duration(float(window))}"
    if result.get("abort_on_fail"):
        text += " (abort)"
    return text


def _value(result: Mapping[str, Any]) -> str:
    value = result.get("value")
    if not isinstance(value, int | float):
        return "-"
    shown = format_value(float(value), str(result.get("unit", "")))
    windows = result.get("windows")
    if isinstance(windows, Mapping):
        return f"{shown} worst, {windows.get('failed', 0)}/{windows.get('evaluated', 0)} failed"
    return shown


def render_thresholds(report: Mapping[str, Any], console: Console) -> None:
    """Print ``report`` (:meth:`ThresholdReport.to_dict`'s form, e.g. from summary.json).

    Prints nothing when there are no thresholds.
    """
    results = [r for r in report.get("results", ()) if isinstance(r, Mapping)]
    if not results:
        return
    failed = [r for r in results if not r.get("passed")]
    verdict = (
        "[bold green]passed[/]"
        if not failed
        else f"[bold red]{len(failed)} of {len(results)} failed[/]"
    )
    short = sum(1 for r in results if r.get("status") == "too_short")
    if short:
        verdict += f" ({short} not judged: the run was too short)"
    table = fit_table(console, lambda dropped: _table(results, dropped), _DROP_ORDER)
    console.print(f"[bold]thresholds[/]: {verdict}")
    print_wide(console, table)
    for result in failed + [r for r in results if r.get("status") == "too_short"]:
        console.print(
            f"  • {escape(str(result.get('name', '')))}: {escape(str(result.get('reason', '')))}",
            soft_wrap=True,
        )


def _table(results: list[Mapping[str, Any]], dropped: frozenset[str]) -> Table:
    columns = [c for c in ("threshold", "condition", "value", "status") if c not in dropped]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column == "value" else "left")
    for result in results:
        name = escape(str(result.get("name", "")))
        if result.get("aborted_run"):
            name += " [red](stopped the run)[/]"
        cells = {
            "threshold": name,
            "condition": escape(_condition(result)),
            "value": escape(_value(result)),
            "status": _STATUS.get(str(result.get("status")), escape(str(result.get("status")))),
        }
        table.add_row(*(cells[column] for column in columns))
    return table
