"""Print a threshold report for people: one table row per threshold, then why each failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench._fit import fit_table, print_wide
from lgbench._toml import format_duration
from lgbench.results import ThresholdResult, Thresholds
from lgbench.thresholds._format import format_value

__all__ = ["render_thresholds"]

_STATUS: Final = {
    "passed": "[green]passed[/]",
    "failed": "[bold red]FAILED[/]",
    "no_data": "[bold red]NO DATA[/]",
    "too_short": "[yellow]too short[/]",
}
_DROP_ORDER: Final = ("value", "condition")


def _condition(result: ThresholdResult) -> str:
    text = result.condition
    if result.window_s is not None:
        text += f" in every {format_duration(float(result.window_s))}"
    if result.abort_on_fail:
        text += " (abort)"
    return text


def _value(result: ThresholdResult) -> str:
    if result.value is None:
        return "-"
    shown = format_value(float(result.value), result.unit)
    windows = result.windows
    if windows is not None:
        return f"{shown} worst, {windows.failed}/{windows.evaluated} failed"
    return shown


def render_thresholds(report: Thresholds | Mapping[str, Any], console: Console) -> None:
    """Print ``report`` (summary.json's ``thresholds``, or :meth:`ThresholdReport.to_dict`'s
    form).

    Prints nothing when there are no thresholds.
    """
    results = list(
        report.results
        if isinstance(report, Thresholds)
        else msgspec.convert(dict(report), Thresholds).results
    )
    if not results:
        return
    failed = [r for r in results if not r.passed]
    verdict = (
        "[bold green]passed[/]"
        if not failed
        else f"[bold red]{len(failed)} of {len(results)} failed[/]"
    )
    short = sum(1 for r in results if r.status == "too_short")
    if short:
        verdict += f" ({short} not judged: the run was too short)"
    table = fit_table(console, lambda dropped: _table(results, dropped), _DROP_ORDER)
    console.print(f"[bold]thresholds[/]: {verdict}")
    print_wide(console, table)
    for result in failed + [r for r in results if r.status == "too_short"]:
        console.print(f"  • {escape(result.name)}: {escape(result.reason)}", soft_wrap=True)


def _table(results: list[ThresholdResult], dropped: frozenset[str]) -> Table:
    columns = [c for c in ("threshold", "condition", "value", "status") if c not in dropped]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column == "value" else "left")
    for result in results:
        name = escape(result.name)
        if result.aborted_run:
            name += " [red](stopped the run)[/]"
        cells = {
            "threshold": name,
            "condition": escape(_condition(result)),
            "value": escape(_value(result)),
            "status": _STATUS.get(result.status, escape(result.status)),
        }
        table.add_row(*(cells[column] for column in columns))
    return table
