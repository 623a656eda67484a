"""Print a :class:`~lgbench.check.CheckResult` for people: verdicts first, then proof."""

from __future__ import annotations

from typing import Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench.check._anomalies import ANOMALY_TYPES, BEHAVIOURS, UNKNOWN, Anomaly, Valid
from lgbench.check._result import CheckResult

__all__ = ["render_check"]

#: Examples printed per anomaly type (check.json keeps more).
_SHOWN: Final = 3


def _verdict(valid: Valid) -> str:
    if valid is True:
        return "[bold green]valid[/]"
    if valid is False:
        return "[bold red]INVALID[/]"
    return "[bold yellow]unknown[/]"


def _anomaly(console: Console, anomaly: Anomaly, *, with_file: bool) -> None:
    console.print(f"    • {escape(anomaly.explanation)}", soft_wrap=True)
    if anomaly.run_ids:
        console.print(f"      runs: {escape(', '.join(anomaly.run_ids))}", soft_wrap=True)
    for event in anomaly.events:
        where = f"file {event.file} " if with_file else ""
        console.print(
            f"      {where}event {event.index} at {event.time_s:.3f} s: {escape(event.what)}",
            soft_wrap=True,
        )


def render_check(result: CheckResult, console: Console) -> None:
    """Print the verdict per strategy and checker, and each anomaly type with witnesses."""
    files = ", ".join(result.history.get("files", ()))
    counts = result.counts
    console.print(
        f"[bold]lgbench check[/] {escape(files)} — profile [bold]{result.profile}[/]: "
        f"{_verdict(result.valid)}"
    )
    console.print(
        f"{counts['threads_checked']} of {counts['threads']} threads checked, "
        f"{counts['runs_checked']} runs, {counts['operations']} operations "
        f"({counts['info']} with unknown outcome), {counts['anomalies']} anomalies, "
        f"{counts['findings']} findings"
    )
    history = result.history
    damaged = [
        f"{history[key]} {label}"
        for key, label in (
            ("malformed_lines", "malformed line(s)"),
            ("truncated_files", "truncated file(s)"),
            ("lost_lines", "lost line(s) that may hide a run operation"),
            ("lost_worker_invokes", "operation(s) in flight on a lost worker (info)"),
        )
        if history.get(key)
    ]
    if history.get("partial"):
        damaged.append("the run that wrote it was interrupted (partial)")
    if damaged:
        console.print(f"history: {', '.join(damaged)}")

    if result.strategies:
        table = Table(title="per strategy", title_justify="left")
        for column in ("strategy", "threads", "runs", "verdict", "anomalies"):
            table.add_column(column, justify="right" if column in ("threads", "runs") else "left")
        for name, summary in result.strategies.items():
            table.add_row(
                escape(name),
                str(summary.threads),
                str(summary.runs),
                _verdict(summary.valid),
                ", ".join(f"{k} {v}" for k, v in sorted(summary.anomalies.items())) or "-",
            )
        console.print(table)

    table = Table(title="per checker", title_justify="left")
    for column in ("checker", "verdict", "threads", "anomalies", "note"):
        table.add_column(column, justify="right" if column in ("threads", "anomalies") else "left")
    for name, checker in result.checkers.items():
        note = ""
        if checker.error:
            note = f"error: {checker.error}"
        elif checker.valid == UNKNOWN and checker.unknown:
            more = f" (+{checker.unknown_count - 1} more)" if checker.unknown_count > 1 else ""
            note = checker.unknown[0] + more
        elif not checker.threads:
            note = "nothing to check"
        table.add_row(
            name,
            _verdict(checker.valid) if checker.threads or checker.error else "-",
            str(checker.threads),
            str(checker.anomalies),
            escape(note),
        )
    console.print(table)

    with_file = len(result.history.get("files", ())) > 1
    for kind, count in result.anomaly_counts().items():
        console.print(f"[bold red]{kind}[/] x{count}: {ANOMALY_TYPES[kind]}")
        for anomaly in [a for a in result.anomalies if a.type == kind][:_SHOWN]:
            _anomaly(console, anomaly, with_file=with_file)
    if result.findings:
        console.print(
            "[bold]findings[/]: flagged by the documented profile, accepted by the observed one"
        )
        behaviours = sorted({a.behaviour or "" for a in result.findings})
        for behaviour in behaviours:
            found = [a for a in result.findings if (a.behaviour or "") == behaviour]
            console.print(
                f"  [bold]{behaviour or 'other'}[/] x{len(found)}: "
                f"{escape(BEHAVIOURS.get(behaviour, ''))}",
                soft_wrap=True,
            )
            for anomaly in found[:1]:
                _anomaly(console, anomaly, with_file=with_file)
    for reason in result.unknown:
        console.print(f"[yellow]unknown[/]: {escape(reason)}", soft_wrap=True)
    console.print(f"verdict ({result.profile} profile): {_verdict(result.valid)}")
