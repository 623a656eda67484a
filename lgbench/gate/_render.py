"""Printing a :class:`~lgbench.gate.Comparison`, and ``lgbench compare`` as a function."""

from __future__ import annotations

import os

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench._fit import fit_table, print_wide
from lgbench.exitcodes import ExitCode
from lgbench.gate._compare import (
    DEFAULT_MIN_DIFFERENCE_MS,
    Comparison,
    MetricComparison,
    compare_summaries,
)
from lgbench.gate._load import load_summary, summary_path

__all__ = ["compare_command", "render_comparison"]


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.2f}%"
    if unit == "/s":
        return f"{value:.1f}/s"
    return f"{value:.2f} ms" if abs(value) < 10 else f"{value:.1f} ms"


def _change(row: MetricComparison, comparison: Comparison) -> str:
    """The change, coloured: red regressed, yellow over the limit but under the noise floor,
    green better, dim when not gated."""
    difference = row.difference
    if difference is None:
        return "-"
    if row.unit == "%":
        text = f"{difference:+.2f} pts"
    elif row.change is None:
        text = "new" if difference > 0 else "±0"
    else:
        text = f"{row.change:+.1%}"
    if row.regressed:
        return f"[bold red]{text}[/]"
    if not row.gated:
        return f"[dim]{text}[/]"
    limit_crossed = (
        row.base is not None
        and row.new is not None
        and row.new > row.base * (1 + comparison.max_regression)
    )
    if limit_crossed:
        return f"[yellow]{text}[/]"
    if difference < 0:
        return f"[green]{text}[/]"
    return text


def _table(comparison: Comparison, dropped: frozenset[str]) -> Table:
    columns = [
        c for c in ("operation", "figure", "base", "new", "change", "note") if c not in dropped
    ]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in ("base", "new", "change") else "left",
            style="dim" if column == "note" else "",
        )
    for index, operation in enumerate(comparison.operations):
        for position, row in enumerate(operation.metrics):
            name = operation.name if position == 0 else ""
            if position == 0 and not operation.passed:
                name = f"[bold red]{escape(name)}[/]"
            else:
                name = escape(name)
            cells = {
                "operation": name,
                "figure": escape(row.label),
                "base": _value(row.base, row.unit),
                "new": _value(row.new, row.unit),
                "change": _change(row, comparison),
                "note": escape(row.note or ""),
            }
            table.add_row(
                *(cells[column] for column in columns),
                end_section=position == len(operation.metrics) - 1
                and index < len(comparison.operations) - 1,
            )
    return table


def render_comparison(comparison: Comparison, console: Console) -> None:
    """Print one table (operation, figure, base, new, change), then the verdict line.

    Regressions are red, changes over the limit but under the noise floor yellow,
    improvements green; throughput is dim, being shown but not gated.
    """
    # The paths go on their own line, not in the table's title, which wraps at the table's
    # width and would cut a path in two.
    base = comparison.base_path or "base"
    new = comparison.new_path or "this run"
    console.print(f"[bold]baseline comparison[/]: {escape(base)} → {escape(new)}", soft_wrap=True)
    table = fit_table(console, lambda dropped: _table(comparison, dropped), ("note", "base"))
    print_wide(console, table)
    if comparison.only_in_base:
        console.print(
            f"only in the base (not compared): {escape(', '.join(comparison.only_in_base))}"
        )
    if comparison.only_in_new:
        console.print(
            f"only in the new run (not compared): {escape(', '.join(comparison.only_in_new))}"
        )
    for warning in comparison.warnings:
        console.print(f"[yellow]warning[/]: {escape(warning)}", soft_wrap=True)
    floor = (
        f"noise floor {comparison.min_difference_ms:g} ms, "
        f"{comparison.min_error_rate_increase * 100:g} error-rate points"
    )
    few = sum(
        1
        for operation in comparison.operations
        for row in operation.metrics
        if row.unit == "ms" and not row.gated
    )
    if few:
        console.print(
            f"[dim]{few} percentile(s) not gated: fewer calls than the percentile needs "
            "to be more than the slowest one[/]"
        )
    limit = f"{comparison.max_regression * 100:g}%"
    if comparison.passed:
        console.print(
            f"baseline: [bold green]passed[/] — no regression above +{limit} "
            f"({len(comparison.operations)} operations; {floor})"
        )
        return
    regressions = comparison.regressions
    console.print(
        f"baseline: [bold red]FAILED[/] — {len(regressions)} regression(s) above +{limit} "
        f"({floor}):"
    )
    for line in regressions:
        console.print(f"  • {escape(line)}", soft_wrap=True)


def compare_command(
    base: str | os.PathLike[str],
    new: str | os.PathLike[str],
    *,
    max_regression: float,
    console: Console,
    min_difference_ms: float = DEFAULT_MIN_DIFFERENCE_MS,
) -> int:
    """``lgbench compare BASE NEW``: each a summary.json or a run folder holding one.

    Prints the comparison and returns :attr:`ExitCode.THRESHOLDS` (4) when a figure
    regressed beyond the limit, :attr:`ExitCode.OK` otherwise. Raises
    :class:`~lgbench.errors.UsageError` (exit 2) for a missing or unreadable summary.
    """
    comparison = compare_summaries(
        load_summary(base),
        load_summary(new),
        max_regression=max_regression,
        min_difference_ms=min_difference_ms,
        base_path=str(summary_path(base)),
        new_path=str(summary_path(new)),
    )
    render_comparison(comparison, console)
    return ExitCode.OK if comparison.passed else ExitCode.THRESHOLDS
