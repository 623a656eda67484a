"""Printing a :class:`~lgbench.gate.Comparison` (what ``lgbench compare`` shows)."""

from __future__ import annotations

from typing import Final

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench._fit import fit_table, print_wide
from lgbench.gate._compare import (
    REPLY_RATES_NOT_JUDGED,
    Comparison,
    MetricComparison,
)
from lgbench.gate._runs import NO_INTERVALS
from lgbench.gate._stats import MIN_BLOCKS

__all__ = ["render_comparison"]


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.2f}%"
    if unit == "/s":
        return f"{value:.1f}/s"
    if abs(value) >= 100:
        return f"{value:,.0f} ms"
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
    # A gated rate (a chat reply stream's tokens per second) is worse when it falls.
    worse = -1 if row.unit == "/s" else 1
    limit_crossed = (
        row.base is not None
        and row.new is not None
        and worse * (row.new - row.base) > row.base * comparison.max_regression
    )
    if limit_crossed:
        return f"[yellow]{text}[/]"
    if worse * difference < 0:
        return f"[green]{text}[/]"
    return text


_VERDICT_STYLE = {
    "regression": "bold red",
    "improvement": "green",
    "no significant change": "",
    "within limits": "",
    "not gated": "dim",
}


def _interval(row: MetricComparison) -> str:
    if row.low is None or row.high is None:
        return "-"
    if row.unit == "%":
        return f"{row.low:+.2f}…{row.high:+.2f}"  # points, as the change column says
    return f"{row.low:+.0%}…{row.high:+.0%}"


def _floor(row: MetricComparison) -> str:
    if row.noise_floor is None:
        return "-"
    if row.unit == "%":
        return f"{row.noise_floor:.2f}"
    return f"{row.noise_floor:.0%}"


def _point_table(comparison: Comparison, dropped: frozenset[str]) -> Table:
    """The point rule's table: one row per figure, the operation in the first column,
    without the ``dropped`` columns (a narrow terminal leaves columns out, never cuts)."""
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


#: (header, width, justify) of the statistical table's columns: fixed, so that the tables of
#: all operations line up, and 80 characters in all, for an 80-column CI log.
_COLUMNS: Final = (
    ("figure", 12, "left"),
    ("base", 8, "right"),
    ("new", 8, "right"),
    ("change", 9, "right"),
    ("CI", 11, "right"),
    ("floor", 5, "right"),
    ("verdict", 21, "left"),
)


#: The statistical table's columns a narrow terminal leaves out first.
_DROPPABLE: Final = ("floor", "base", "CI")


def _statistical_tables(comparison: Comparison, width: int) -> list[Table | str]:
    """A heading line per operation, then a table of its figures (the interval, the noise
    floor and the verdict written out), all with the same column widths; on a terminal
    narrower than those, the noise floor, then the base value, then the interval are left out
    (``--explain`` and the JSON keep them)."""
    level = comparison.confidence * 100 if comparison.confidence else 0.0
    columns = list(_COLUMNS)
    for name in _DROPPABLE:
        if sum(w + 1 for _, w, _ in columns) <= width:
            break
        columns = [c for c in columns if c[0] != name]
    shown = {name for name, _, _ in columns}

    def table(*, header: bool) -> Table:
        made = Table(
            box=None, pad_edge=False, padding=(0, 1), collapse_padding=True, show_header=header
        )
        for name, width, justify in columns:
            made.add_column(
                f"{level:g}% CI" if name == "CI" else name,
                width=width,
                justify=justify,  # type: ignore[arg-type]
                no_wrap=True,
            )
        return made

    found: list[Table | str] = [table(header=True)]
    for operation in comparison.operations:
        style = "bold red" if not operation.passed else "bold"
        found.append(f"[{style}]{escape(operation.name)}[/]")
        rows = table(header=False)
        for row in operation.metrics:
            outcome = row.outcome
            verdict_style = _VERDICT_STYLE.get(outcome, "yellow")
            # The table's short form; the legend under it, JSON and junit say it whole.
            verdict = escape("not enough data" if outcome == NO_INTERVALS else outcome)
            cells = {
                "figure": f"  {escape(row.label)}",
                "base": _value(row.base, row.unit),
                "new": _value(row.new, row.unit),
                "change": _change(row, comparison),
                "CI": _interval(row),
                "floor": _floor(row),
                "verdict": f"[{verdict_style}]{verdict}[/]" if verdict_style else verdict,
            }
            rows.add_row(*(cells[name] for name, _, _ in columns if name in shown))
        found.append(rows)
    return found


def render_comparison(comparison: Comparison, console: Console, *, explain: bool = False) -> None:
    """Print one table (operation, figure, base, new, change, interval, verdict), then the
    verdict line; with ``explain``, one line per figure saying why it passed or failed.

    Regressions are red, improvements green, figures not gated dim; "no significant change"
    is written out, so it is never mistaken for a pass on a point estimate.
    """
    # The paths go on their own line, not in the table's title, which wraps at the table's
    # width and would cut a path in two.
    base = comparison.base_path or "base"
    new = comparison.new_path or "this run"
    console.print(f"[bold]baseline comparison[/]: {escape(base)} → {escape(new)}", soft_wrap=True)
    statistical = comparison.confidence is not None
    if statistical:
        for part in _statistical_tables(comparison, console.width):
            console.print(part, soft_wrap=isinstance(part, str))
    else:
        table = fit_table(
            console, lambda dropped: _point_table(comparison, dropped), ("note", "base")
        )
        print_wide(console, table)
    if comparison.only_in_base:
        console.print(
            f"only in the base (not compared): {escape(', '.join(comparison.only_in_base))}"
        )
    if comparison.only_in_new:
        console.print(
            f"only in the new run (not compared): {escape(', '.join(comparison.only_in_new))}"
        )
    if statistical and any(
        row.note == REPLY_RATES_NOT_JUDGED for op in comparison.operations for row in op.metrics
    ):
        console.print(f"[dim]tok/s: shown, not gated: {REPLY_RATES_NOT_JUDGED}[/]", soft_wrap=True)
    if statistical and any(
        row.outcome == NO_INTERVALS for op in comparison.operations for row in op.metrics
    ):
        console.print(
            f"[dim]not enough data: {NO_INTERVALS} (a run without intervals.hlog, or fewer "
            f"than {MIN_BLOCKS} seconds with calls on a side); shown, not judged[/]",
            soft_wrap=True,
        )
    for warning in comparison.warnings:
        console.print(f"[yellow]warning[/]: {escape(warning)}", soft_wrap=True)
    if explain:
        console.print("[bold]why[/]:")
        for operation in comparison.operations:
            for row in operation.metrics:
                if row.unit == "/s" and not row.gated:
                    continue  # throughput, tokens/s without intervals: shown, never judged
                text = row.explanation or row.note or row.outcome
                console.print(
                    f"  {escape(operation.name)} {escape(row.label)}: {escape(text)}",
                    soft_wrap=True,
                )
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
    if statistical:
        console.print(f"[dim]method: {escape(comparison.method)}[/]", soft_wrap=True)
        counts: dict[str, int] = {}
        for operation in comparison.operations:
            for row in operation.metrics:
                if row.gated:
                    counts[row.outcome] = counts.get(row.outcome, 0) + 1
        tally = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
        if comparison.passed:
            level = comparison.confidence * 100 if comparison.confidence else 0.0
            if comparison.verdict == "no significant change":
                console.print(
                    f"baseline: [bold green]passed[/] — no significant change: no regression "
                    f"beyond +{limit} at {level:g}% confidence ({escape(tally)})",
                    soft_wrap=True,
                )
            else:
                console.print(
                    f"baseline: [bold yellow]passed, not judged[/] — {escape(comparison.verdict)}"
                    f" ({escape(tally or 'nothing gated')})",
                    soft_wrap=True,
                )
            return
    elif comparison.passed:
        console.print(
            f"baseline: [bold green]passed[/] — no regression above +{limit} "
            f"({len(comparison.operations)} operations; {floor})"
        )
        return
    regressions = comparison.regressions
    if statistical:
        floor = (
            f"at {comparison.confidence * 100 if comparison.confidence else 0:g}% confidence, "
            f"beyond the noise floor and {comparison.min_difference_ms:g} ms"
        )
    console.print(
        f"baseline: [bold red]FAILED[/] — {len(regressions)} regression(s) above +{limit} "
        f"({floor}):"
    )
    for line in regressions:
        console.print(f"  • {escape(line)}", soft_wrap=True)
