"""What a run shows while it goes, and the table it prints at the end.

Three modes (:data:`LiveMode`): ``rich`` (a :class:`rich.live.Live` table redrawn once per
interval: per scenario its VUs, iterations and a progress bar; per scenario and operation the
interval's rate, p50/p95/p99 and the errors so far), ``plain`` (one line every few seconds,
for logs and non-TTY output) and ``quiet`` (nothing but warnings and errors). Everything is
computed from the interval snapshots (percentiles once per interval, never per request).
No threads: the rich display refreshes only when a snapshot arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, final

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from lgbench.engine._audit import AuditProgress
from lgbench.engine._recorder import Recorder, ScenarioStats, Snapshot
from lgbench.observe import server_label
from lgbench.workload import format_duration

__all__ = ["LiveMode", "LiveView", "print_summary"]

_PLAIN_WIDTH = 110

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


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _observation(recorder: Recorder) -> str:
    """lgbench's own status reads among the requests so far: ``observation 120 (4 %)``."""
    total, observation = recorder.requests()
    return f"observation {observation} ({100 * observation / total if total else 0:.0f} %)"


def _duration(seconds: float) -> str:
    return format_duration(round(max(seconds, 0.0), 1))


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
        """A warning, printed as it happens (not in quiet mode: the summary keeps them)."""
        if self.mode == "quiet":
            return
        text = f"[yellow]warning[/]: {escape(message)}"
        if self._live is not None:
            self._live.console.print(text)
        else:
            self.console.print(text, soft_wrap=True)

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
                from lgbench.metrics import OperationMetrics

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
            f"{self.title} {_duration(elapsed_s)}/{_duration(self.planned_s)}"
            f"  ops {total} ({rate:.1f}/s)  errors {errors}  worst p99 {_ms(worst)} ms"
            f"  active VUs {vus}  dropped {dropped}  {_observation(recorder)}"
        )
        if self.audit is not None:
            line += f"  {self.audit.line()}"
        if self.window:
            points = list(self.window.values())
            p99 = max((p.p99_ms for p in points if p.p99_ms is not None), default=None)
            count = sum(p.count for p in points)
            failed = sum(p.error_rate * p.count for p in points)
            line += (
                f"  last {_duration(self.window_s)}: worst p99 {_ms(p99)} ms,"
                f" errors {100 * failed / count if count else 0:.2f} %"
            )
        return line

    def _render(self, rows: list[_Row], recorder: Recorder, elapsed_s: float, now_s: float) -> Any:
        scenarios = Table(title=self.title, expand=False, title_justify="left")
        for column in ("scenario", "executor", "VUs", "iterations", "dropped", "progress", "time"):
            scenarios.add_column(column, justify="left" if column != "VUs" else "right")
        for stats in recorder.scenarios.values():
            scenarios.add_row(*self._scenario_cells(stats, now_s))
        operations = Table(expand=False)
        for column in ("scenario", "operation", "rate/s", "p50 ms", "p95 ms", "p99 ms", "total"):
            operations.add_column(
                column, justify="left" if column in ("scenario", "operation") else "right"
            )
        operations.add_column("errors", justify="right")
        for row in rows:
            operations.add_row(
                row.scenario,
                row.operation,
                f"{row.rate_per_s:.1f}",
                _ms(row.p50_ms),
                _ms(row.p95_ms),
                _ms(row.p99_ms),
                str(row.total),
                f"[red]{row.errors}[/]" if row.errors else "0",
            )
        overall = ProgressBar(
            total=max(self.planned_s, 1e-9), completed=min(elapsed_s, self.planned_s), width=40
        )
        footer = Text(
            f"elapsed {_duration(elapsed_s)} of about {_duration(self.planned_s)}"
            f"  {_observation(recorder)}"
            + (f"  {self.audit.line()}" if self.audit is not None else "")
            + "  "
        )
        parts: list[Any] = [scenarios, operations]
        if self.window:
            parts.append(self._window_table())
        return Group(*parts, Group(footer, overall))

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
    def _scenario_cells(stats: ScenarioStats, now_s: float) -> list[Any]:
        elapsed_s = stats.elapsed_s(now_s)
        planned_s = max(stats.planned_s, 1e-9)
        state = "waiting" if stats.started_s is None else "done" if stats.ended_s else "running"
        bar = ProgressBar(total=planned_s, completed=min(elapsed_s, planned_s), width=20)
        return [
            stats.name,
            stats.executor,
            f"{stats.active_vus}/{stats.allocated_vus}",
            f"{stats.finished} ok, {stats.failed} failed",
            str(stats.dropped),
            bar,
            f"{state} {_duration(elapsed_s)}/{_duration(stats.planned_s)}",
        ]


def print_summary(console: Console, summary: Mapping[str, Any]) -> None:
    """The end-of-run table: one row per operation, then dropped iterations, lags, warnings."""
    title = f"lgbench run — {summary.get('workload', {}).get('name', '?')}"
    server = summary.get("server")
    if server:
        title += f" — {server.get('label') or server_label(server)}"
    if summary.get("partial"):
        title += " (partial)"
    operations: Mapping[str, Any] = summary.get("operations", {})
    streams = any(op.get("stream") for op in operations.values())
    table = Table(
        title=title,
        title_justify="left",
        caption="latencies in ms; ttfe: time to first event",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("operation", no_wrap=True)
    for column in ("count", "errors", "rate/s", "p50", "p90", "p99", "max"):
        table.add_column(column, justify="right", no_wrap=True)
    if streams:
        table.add_column("ttfe p95", justify="right", no_wrap=True)
    for name, op in operations.items():
        latency = op.get("latency_ms", {})
        stream = op.get("stream")
        cells = [
            name,
            str(op.get("count", 0)),
            f"[red]{op['errors']}[/]" if op.get("errors") else "0",
            f"{op.get('rate_per_s', 0.0):.1f}",
            _ms(latency.get("p50")),
            _ms(latency.get("p90")),
            _ms(latency.get("p99")),
            _ms(latency.get("max")),
        ]
        if streams:
            cells.append(_ms(stream["ttfe_ms"].get("p95")) if stream else "")
        table.add_row(*cells)
    if not console.is_terminal and console.width < _PLAIN_WIDTH:
        # Logs and pipes: never squeeze the numbers, let the lines be long.
        console = Console(file=console.file, width=_PLAIN_WIDTH, highlight=False)
    console.print(table)
    schedule = summary.get("schedule_lag_ms", {})
    loop = summary.get("event_loop_lag_ms", {})
    console.print(
        f"duration {summary.get('duration_s', 0.0):.1f} s   dropped iterations"
        f" {summary.get('dropped_iterations', 0)}   schedule lag p99 {_ms(schedule.get('p99'))} ms"
        f"   event-loop lag p99 {_ms(loop.get('p99'))} ms",
        soft_wrap=True,
    )
    for line in _skipped_lines(summary):
        console.print(line, soft_wrap=True)
    for warning in summary.get("warnings", []):
        console.print(f"[yellow]warning[/]: {escape(warning)}", soft_wrap=True)


def _skipped_lines(summary: Mapping[str, Any]) -> list[str]:
    """Calls not made: per scenario, those an earlier failure skipped; per unsupported
    operation, how often it was answered 404/405 and how often not sent."""
    lines: list[str] = []
    for name, scenario in summary.get("scenarios", {}).items():
        skipped = [
            f"{escape(op)} {figures['skipped']['after_failure']}"
            for op, figures in scenario.get("operations", {}).items()
            if figures.get("skipped", {}).get("after_failure")
        ]
        if skipped:
            lines.append(
                f"skipped after an earlier failure in {escape(name)}: {', '.join(skipped)}"
            )
    for route in summary.get("unsupported", []):
        lines.append(
            f"[yellow]unsupported[/]: {escape(route['operation'])} ({route['method']}"
            f" {escape(route['path'])} answered {route['status']}): {route['answered']} answered,"
            f" {route['skipped']} not sent"
        )
    return lines
