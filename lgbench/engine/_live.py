"""What a run shows while it goes, and the table it prints at the end.

Three modes (:data:`LiveMode`): ``rich`` (a :class:`rich.live.Live` table redrawn once per
interval: per scenario its VUs, iterations and a progress bar; per scenario and operation the
interval's rate, p50/p95/p99, the errors so far and, for streamed chat replies, the
interval's time to first token, inter-token latency and the tokens per second of each reply
stream that ended in it, p10: the slow tail), ``plain`` (one line every few seconds,
for logs and non-TTY output) and ``quiet`` (nothing but warnings and errors). Everything is
computed from the interval snapshots (percentiles once per interval, never per request).
No threads: the rich display refreshes only when a snapshot arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, final

import msgspec
from msgspec import UnsetType
from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from lgbench._fit import fit_table, print_wide
from lgbench.engine._audit import AuditProgress
from lgbench.engine._recorder import Recorder, ScenarioStats, Snapshot
from lgbench.history import describe_error, never_succeeded_message
from lgbench.metrics import OperationMetrics
from lgbench.observe import server_label
from lgbench.results import REPLY_RATE_SERIES, TOKEN_RATE_SCALE, Operation, Stream, Summary
from lgbench.workload import format_duration

__all__ = ["LiveMode", "LiveView", "print_failures", "print_summary"]

#: Executors whose duration is a cap: their iterations may all be done before it.
_ITERATIONS = frozenset({"shared-iterations", "per-vu-iterations"})

#: How a run reports progress.
LiveMode: TypeAlias = Literal["rich", "plain", "quiet"]


@dataclass(frozen=True, slots=True)
class _Row:
    scenario: str
    operation: str
    rate_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    total: int
    errors: int
    #: Chat replies streamed in the interval (``messages-tuple`` tokens of the chat and
    #: agent graphs): time to first token p95 and inter-token latency p99, else None.
    ttft_p95_ms: float | None = None
    itl_p99_ms: float | None = None
    #: The interval's reply streams' own rates (tokens per second each): their p10, the
    #: slow tail; None when no reply stream ended in the interval.
    tokens_p10_per_s: float | None = None


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _observation(recorder: Recorder) -> str:
    """lgbench's own status reads among the requests so far: ``observation 120 (4 %)``."""
    total, observation = recorder.requests()
    return f"observation {observation} ({100 * observation / total if total else 0:.0f} %)"


def _ms_unit(value: float | None) -> str:
    """``12.5 ms``, or ``-`` alone when nothing was measured (no unit on a dash)."""
    return "-" if value is None else f"{_ms(value)} ms"


def _duration(seconds: float) -> str:
    return format_duration(round(max(seconds, 0.0), 1))


def _reply_rate_p10(snapshot: Snapshot, scenario: str, operation: str) -> float | None:
    """The p10 of the tokens per second of ``operation``'s chat reply streams of
    ``scenario`` that ended in the interval, or None when none did."""
    value = _derived_value(snapshot, scenario, f"{operation}.{REPLY_RATE_SERIES}", 10.0)
    return None if value is None else value / TOKEN_RATE_SCALE


def _rate(value: float | None) -> str:
    """Tokens per second: ``23.5``, ``140``; ``-`` when none ended."""
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _derived_ms(snapshot: Snapshot, scenario: str, series: str, percentile: float) -> float | None:
    """A percentile (ms) of the interval's derived series ``series`` of ``scenario`` (all its
    tags together), or None when the interval recorded none."""
    value = _derived_value(snapshot, scenario, series, percentile)
    return None if value is None else value / 1000


def _derived_value(
    snapshot: Snapshot, scenario: str, series: str, percentile: float
) -> float | None:
    """A percentile of the interval's derived series ``series`` of ``scenario`` (all its tags
    together), as recorded (µs, or thousandths of a token per second), or None."""
    found = [
        metrics
        for key, metrics in snapshot.derived.metrics.items()
        if key.scenario == scenario and key.operation == series and metrics.latency.count
    ]
    if not found:
        return None
    merged = found[0].latency
    if len(found) > 1:
        merged = merged.copy()
        for metrics in found[1:]:
            merged.merge(metrics.latency)
    return merged.stats((percentile,)).percentiles_us.get(percentile)


@final
class LiveView:
    """The live display of one run (see the module docstring)."""

    def __init__(
        self,
        mode: LiveMode,
        console: Console,
        *,
        title: str,
        planned_s: float,
        plain_every_s: float = 5.0,
    ) -> None:
        self.mode = mode
        self.console = console
        self.title = title
        self.planned_s = planned_s
        self.plain_every_s = plain_every_s
        self._live: Live | None = None
        self._last_plain_s = 0.0
        self._rows: list[_Row] = []
        self.window_s = 60.0
        #: Per operation, the last closed drift window (``WindowPoint``-like: ``end_s``,
        #: ``p50_ms``, ``p99_ms``, ``error_rate``, ``count``), set by the runner: a soak's
        #: current figures beside the one-second ones.
        self.window: Mapping[str, Any] = {}
        #: The post-run audit's progress, once it has begun.
        self.audit: AuditProgress | None = None
        #: With worker processes (``--workers``): one line of figures per worker.
        self.worker_lines: Callable[[], list[str]] | None = None

    def start(self) -> None:
        """Show the display (rich mode)."""
        if self.mode == "rich":
            self._live = Live(
                Text(f"{self.title}: starting…"),
                console=self.console,
                auto_refresh=False,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def stop(self) -> None:
        """Leave the last display on screen."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def warn(self, message: str) -> None:
        """A warning, printed once as it happens, in every mode (quiet prints warnings and
        errors); the summary keeps them."""
        self.note(f"[yellow]warning[/]: {escape(message)}")

    def note(self, markup: str) -> None:
        """A line of news that is no warning (a fault starting), printed as it happens."""
        if self.mode == "quiet" and not markup.startswith("[yellow]warning"):
            return
        if self._live is not None:
            self._live.console.print(markup)
        else:
            self.console.print(markup, soft_wrap=True)

    def update(self, snapshot: Snapshot, recorder: Recorder, now_s: float) -> None:
        """A new interval closed at ``now_s`` (clock seconds)."""
        if self.mode == "quiet":
            return
        elapsed_s = snapshot.end_s
        if self.mode == "plain":
            if elapsed_s - self._last_plain_s < self.plain_every_s:
                return
            self._last_plain_s = elapsed_s
        rows = self._rows_of(snapshot, recorder)
        if self.mode == "plain":
            self.console.print(self._plain_line(rows, recorder, elapsed_s, now_s), soft_wrap=True)
            for line in self.worker_lines() if self.worker_lines is not None else ():
                self.console.print(f"  {escape(line)}", soft_wrap=True)
        elif self._live is not None:
            self._live.update(self._render(rows, recorder, elapsed_s, now_s), refresh=True)

    @staticmethod
    def _rows_of(snapshot: Snapshot, recorder: Recorder) -> list[_Row]:
        totals: dict[tuple[str, str], tuple[int, int]] = {}
        for key, metrics in recorder.registry.totals.items():
            count, errors = totals.get((key.scenario, key.operation), (0, 0))
            totals[key.scenario, key.operation] = (count + metrics.count, errors + metrics.errors)
        rows: list[_Row] = []
        length_s = max(snapshot.operations.length_s, 1e-9)
        grouped: dict[tuple[str, str], list[Any]] = {}
        for key, metrics in snapshot.operations.metrics.items():
            grouped.setdefault((key.scenario, key.operation), []).append(metrics)
        for (scenario, operation), items in sorted(grouped.items()):
            merged = items[0]
            if len(items) > 1:
                merged = OperationMetrics()
                for item in items:
                    merged.merge(item)
            stats = merged.latency.stats((50.0, 95.0, 99.0))
            p = {k: v / 1000 for k, v in stats.percentiles_us.items()}
            total, errors = totals.get((scenario, operation), (0, 0))
            rows.append(
                _Row(
                    scenario,
                    operation,
                    merged.count / length_s,
                    p.get(50.0),
                    p.get(95.0),
                    p.get(99.0),
                    total,
                    errors,
                    _derived_ms(snapshot, scenario, f"{operation}.ttft", 95.0),
                    _derived_ms(snapshot, scenario, f"{operation}.itl", 99.0),
                    _reply_rate_p10(snapshot, scenario, operation),
                )
            )
        return rows

    def _plain_line(
        self, rows: list[_Row], recorder: Recorder, elapsed_s: float, now_s: float
    ) -> str:
        rate = sum(row.rate_per_s for row in rows)
        total = sum(row.total for row in rows)
        errors = sum(row.errors for row in rows)
        vus = sum(stats.active_vus for stats in recorder.scenarios.values())
        dropped = sum(stats.dropped for stats in recorder.scenarios.values())
        worst = max((row.p99_ms for row in rows if row.p99_ms is not None), default=None)
        line = (
            f"{self.title} {self._phase(recorder, elapsed_s, short=True)}"
            f"  ops {total} ({rate:.1f}/s)  errors {errors}  worst p99 {_ms_unit(worst)}"
            f"  active VUs {vus}  dropped {dropped}  {_observation(recorder)}"
        )
        ttft = max((row.ttft_p95_ms for row in rows if row.ttft_p95_ms is not None), default=None)
        if ttft is not None:
            itl = max((row.itl_p99_ms for row in rows if row.itl_p99_ms is not None), default=None)
            line += f"  worst ttft p95 {_ms_unit(ttft)}  worst itl p99 {_ms_unit(itl)}"
        slowest = min(
            (row.tokens_p10_per_s for row in rows if row.tokens_p10_per_s is not None),
            default=None,
        )
        if slowest is not None:
            line += f"  slowest tokens/s p10 {_rate(slowest)}/s"
        if self.audit is not None:
            line += f"  {self.audit.line()}"
        if self.window:
            points = list(self.window.values())
            p99 = max((p.p99_ms for p in points if p.p99_ms is not None), default=None)
            count = sum(p.count for p in points)
            failed = sum(p.error_rate * p.count for p in points)
            line += (
                f"  last {_duration(self.window_s)}: worst p99 {_ms_unit(p99)},"
                f" errors {100 * failed / count if count else 0:.2f} %"
            )
        return line

    def _phase(self, recorder: Recorder, elapsed_s: float, *, short: bool = False) -> str:
        """Where the run is: its load phase (``load 7s/20s``) or, once the load is over, its
        drain phase (iterations in flight within their graceful stop, bursts settling)."""
        # An interval closing a hair after the load's end is still the load's last one.
        if elapsed_s < self.planned_s + 0.05 or self.planned_s <= 0:
            elapsed_s = min(elapsed_s, self.planned_s) if self.planned_s > 0 else elapsed_s
            # Iterations may end the load before its cap: then the cap is only a bound.
            last = [
                stats
                for stats in recorder.scenarios.values()
                if stats.start_time_s + stats.planned_s >= self.planned_s - 1e-9
            ]
            capped = bool(last) and all(stats.executor in _ITERATIONS for stats in last)
            bound = "≤" if capped else ""
            return f"load {_duration(elapsed_s)}/{bound}{_duration(self.planned_s)}"
        over = f"+{_duration(elapsed_s - self.planned_s)}"
        if short:
            return f"load {_duration(self.planned_s)} done, draining {over}"
        running = [stats for stats in recorder.scenarios.values() if stats.running]
        waits = []
        if any(stats.executor == "burst" for stats in running):
            waits.append("bursts settling")
        if any(stats.executor != "burst" for stats in running):
            waits.append("iterations in flight finishing (graceful stop)")
        what = " and ".join(waits) or "writing the results"
        return f"load {_duration(self.planned_s)} done; draining {over}: {what}"

    def _render(self, rows: list[_Row], recorder: Recorder, elapsed_s: float, now_s: float) -> Any:
        console = self._live.console if self._live is not None else self.console
        scenarios = fit_table(
            console,
            lambda dropped: self._scenario_table(recorder, now_s, dropped),
            ("executor", "dropped", "progress", "iterations"),
        )
        operations = fit_table(
            console,
            lambda dropped: self._operations_table(rows, dropped),
            ("tok/s p10", "itl p99", "ttft p95", "p50 ms", "p95 ms", "total", "rate/s"),
        )
        phase = self._phase(recorder, elapsed_s)
        # lgbench's own reads, apart from the load: the observers' share, then the audit.
        own = _observation(recorder) + (f"  {self.audit.line()}" if self.audit is not None else "")
        parts: list[Any] = [scenarios, operations]
        if self.window:
            parts.append(self._window_table())
        parts.append(Text(own, overflow="fold"))
        for line in self.worker_lines() if self.worker_lines is not None else ():
            parts.append(Text(line, overflow="fold"))
        bar_width = min(40, console.width - len(phase) - 2)
        if elapsed_s < self.planned_s and bar_width >= 10:
            overall = ProgressBar(
                total=max(self.planned_s, 1e-9), completed=elapsed_s, width=bar_width
            )
            footer: Any = Table.grid(padding=(0, 2))
            footer.add_row(Text(phase), overall)
        else:
            footer = Text(phase, overflow="fold")
        return Group(*parts, footer)

    def _scenario_table(self, recorder: Recorder, now_s: float, dropped: frozenset[str]) -> Table:
        columns = [
            c
            for c in ("scenario", "executor", "VUs", "iterations", "dropped", "progress", "time")
            if c not in dropped
        ]
        table = Table(title=self.title, expand=False, title_justify="left")
        for column in columns:
            table.add_column(column, justify="right" if column == "VUs" else "left", no_wrap=True)
        for stats in recorder.scenarios.values():
            cells = self._scenario_cells(stats, now_s)
            table.add_row(*(cells[column] for column in columns))
        return table

    @staticmethod
    def _operations_table(rows: list[_Row], dropped: frozenset[str]) -> Table:
        # Chat replies' columns only once some interval streamed tokens: most runs have none.
        chat = any(row.ttft_p95_ms is not None or row.tokens_p10_per_s is not None for row in rows)
        replies = ("ttft p95", "itl p99", "tok/s p10") if chat else ()
        columns = [
            c
            for c in (
                "scenario",
                "operation",
                "rate/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                *replies,
                "total",
                "errors",
            )
            if c not in dropped
        ]
        shown = [column for column in replies if column in columns]
        notes = {
            "ttft p95": "ttft: to first token",
            "itl p99": "itl: between tokens",
            "tok/s p10": "tok/s: each reply stream's tokens per second",
        }
        caption = ", ".join(notes[column] for column in shown) if shown else None
        table = Table(expand=False, caption=caption, caption_justify="left")
        for column in columns:
            table.add_column(
                column,
                justify="left" if column in ("scenario", "operation") else "right",
                no_wrap=True,
            )
        for row in rows:
            cells = {
                "scenario": row.scenario,
                "operation": row.operation,
                "rate/s": f"{row.rate_per_s:.1f}",
                "p50 ms": _ms(row.p50_ms),
                "p95 ms": _ms(row.p95_ms),
                "p99 ms": _ms(row.p99_ms),
                "ttft p95": _ms(row.ttft_p95_ms) if row.ttft_p95_ms is not None else "",
                "itl p99": _ms(row.itl_p99_ms) if row.itl_p99_ms is not None else "",
                "tok/s p10": _rate(row.tokens_p10_per_s)
                if row.tokens_p10_per_s is not None
                else "",
                "total": str(row.total),
                "errors": f"[red]{row.errors}[/]" if row.errors else "0",
            }
            table.add_row(*(cells[column] for column in columns))
        return table

    def _window_table(self) -> Table:
        """The last closed window per operation: what a soak is doing now."""
        table = Table(
            title=f"last {_duration(self.window_s)} window", title_justify="left", expand=False
        )
        for column in ("operation", "count", "p50 ms", "p99 ms", "errors"):
            table.add_column(column, justify="left" if column == "operation" else "right")
        for operation, point in sorted(self.window.items()):
            table.add_row(
                operation,
                str(point.count),
                _ms(point.p50_ms),
                _ms(point.p99_ms),
                f"{100 * point.error_rate:.2f} %",
            )
        return table

    @staticmethod
    def _scenario_cells(stats: ScenarioStats, now_s: float) -> dict[str, Any]:
        elapsed_s = stats.elapsed_s(now_s)
        planned_s = max(stats.planned_s, 1e-9)
        burst = stats.executor == "burst"
        if stats.started_s is None:
            time = f"starts at {_duration(stats.start_time_s)}"
        elif stats.ended_s is not None:
            time = f"done in {_duration(elapsed_s)}"
        elif burst:
            # A burst's max_duration is a deadline for its runs to settle, not a length.
            time = f"settling {_duration(elapsed_s)} (≤{_duration(stats.planned_s)})"
        elif elapsed_s > stats.planned_s + 0.05:
            time = f"stopping +{_duration(elapsed_s - stats.planned_s)}"
        else:
            bound = "≤" if stats.executor in _ITERATIONS else ""
            time = f"{_duration(elapsed_s)}/{bound}{_duration(stats.planned_s)}"
        done = stats.ended_s is not None
        bar = ProgressBar(
            total=planned_s, completed=planned_s if done else min(elapsed_s, planned_s), width=20
        )
        return {
            "scenario": stats.name,
            "executor": stats.executor,
            "VUs": f"{stats.active_vus}/{stats.allocated_vus}",
            "iterations": f"{stats.finished} ok, {stats.failed} failed",
            "dropped": str(stats.dropped),
            "progress": bar,
            "time": time,
        }


_SUMMARY_DROP_ORDER = (
    "rate/s",
    "p90",
    "itl p99",
    "max",
    "ttft p95",
    "ttfe p95",
    "p50",
    "interrupted",
    "count",
)
"""Columns of the final table left out, in this order, when the terminal is too narrow."""

_TOP_ERRORS_SHOWN = 3


def _summary_table(
    title: str, operations: Mapping[str, Operation], dropped: frozenset[str]
) -> Table:
    streams = any(isinstance(op.stream, Stream) for op in operations.values())
    # Chat replies streamed (the chat and agent graphs): their token figures too.
    replies = any(
        isinstance(op.stream, Stream) and op.stream.reply_tokens for op in operations.values()
    )
    wanted: tuple[str, ...] = ("count", "errors", "rate/s", "p50", "p90", "p99", "max", "ttfe p95")
    if any(op.interrupted for op in operations.values()):
        # Cut by lgbench's own stop: not errors, but not to be hidden either.
        wanted = ("count", "errors", "interrupted", *wanted[2:])
    if replies:
        wanted += ("ttft p95", "itl p99")
    columns = [c for c in wanted if c not in dropped and (c != "ttfe p95" or streams)]
    caption = "latencies in ms"
    if "ttfe p95" in columns:
        caption += "; ttfe: time to first event"
    if "ttft p95" in columns or "itl p99" in columns:
        caption += "; ttft: to first token, itl: between tokens"
    table = Table(
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("operation", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for name, op in operations.items():
        latency = op.latency_ms
        stream = op.stream if isinstance(op.stream, Stream) else None
        cells = {
            "count": str(op.count),
            "errors": f"[red]{op.errors}[/]" if op.errors else "0",
            "interrupted": str(op.interrupted),
            "rate/s": f"{op.rate_per_s:.1f}",
            "p50": _ms(latency.p50),
            "p90": _ms(latency.p90),
            "p99": _ms(latency.p99),
            "max": _ms(latency.max),
            "ttfe p95": _ms(stream.ttfe_ms.p95) if stream else "",
            "ttft p95": _ms(stream.ttft_ms.p95) if stream else "",
            "itl p99": _ms(stream.itl_ms.p99) if stream else "",
        }
        table.add_row(name, *(cells[column] for column in columns))
    return table


def print_failures(console: Console, summary: Summary | Mapping[str, Any]) -> None:
    """Operations that never succeeded, loudly (also in quiet mode)."""
    failing = Summary.of(summary).never_succeeded
    for entry in () if isinstance(failing, UnsetType) else failing:
        label = "note" if entry.expected else "[bold red]error[/]"
        message = never_succeeded_message(msgspec.to_builtins(entry))
        console.print(f"{label}: {escape(message)}", soft_wrap=True)


def _print_top_errors(console: Console, operations: Mapping[str, Operation]) -> None:
    """Per operation with errors, its most frequent messages (what the server said)."""
    failing = {name: op for name, op in operations.items() if op.top_errors}
    if not failing:
        return
    console.print("most frequent errors:")
    for name, op in failing.items():
        for entry in op.top_errors[:_TOP_ERRORS_SHOWN]:
            described = describe_error(msgspec.to_builtins(entry))
            console.print(f"  {escape(name)}: {escape(described)} ({entry.count})", soft_wrap=True)
        rest = sum(e.count for e in op.top_errors[_TOP_ERRORS_SHOWN:])
        rest += op.top_errors_unlisted
        if rest:
            console.print(
                f"  {escape(name)}: other errors ({rest}; summary.json lists more)", soft_wrap=True
            )


def print_summary(console: Console, summary: Summary | Mapping[str, Any]) -> None:
    """The end-of-run table: one row per operation (fewer columns on a narrow terminal), the
    most frequent errors, dropped iterations and lags, and the operations that never
    succeeded. Warnings are not repeated: the run printed them as they came.

    ``summary``: the run's :class:`~lgbench.results.Summary`, or summary.json's content."""
    run = Summary.of(summary)
    title = f"lgbench run — {run.workload.name or '?'}"
    title += f" — {run.server.label or server_label(msgspec.to_builtins(run.server))}"
    if run.partial:
        title += " (partial)"
    operations = run.operations
    table = fit_table(
        console,
        lambda dropped: _summary_table(title, operations, dropped),
        _SUMMARY_DROP_ORDER,
    )
    print_wide(console, table)
    _print_top_errors(console, operations)
    schedule, loop = run.schedule_lag_ms, run.event_loop_lag_ms
    parts = [
        f"duration {run.duration_s or 0.0:.1f} s",
        f"dropped iterations {run.dropped_iterations}",
    ]
    if schedule.p99 is not None:
        parts.append(f"schedule lag p99 {_ms(schedule.p99)} ms")
    if loop.p99 is not None:
        parts.append(f"event-loop lag p99 {_ms(loop.p99)} ms")
    console.print(" · ".join(parts))
    print_failures(console, run)
    for line in _skipped_lines(run):
        console.print(line, soft_wrap=True)


def _skipped_lines(summary: Summary) -> list[str]:
    """Calls not made: per scenario, those an earlier failure skipped; per unsupported
    operation, how often it was answered 404/405 and how often not sent."""
    lines: list[str] = []
    for name, scenario in summary.scenarios.items():
        skipped = [
            f"{escape(op)} {figures.skipped.after_failure}"
            for op, figures in scenario.operations.items()
            if figures.skipped.after_failure
        ]
        if skipped:
            lines.append(
                f"skipped after an earlier failure in {escape(name)}: {', '.join(skipped)}"
            )
    for route in summary.unsupported:
        lines.append(
            f"[yellow]unsupported[/]: {escape(route.operation)} ({route.method}"
            f" {escape(route.path)} answered {route.status}): {route.answered} answered,"
            f" {route.skipped} not sent"
        )
    return lines
