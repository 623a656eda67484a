"""A run folder's results as tables: their columns (:data:`TABLES`) and their rows.

Each table is a name, its columns (name, type, meaning: docs/export.md is written from the
same list) and a generator of rows as tuples, read in bounded memory: the history streams
line by line through every segment of a rotated set (``.gz`` included), keeping only the
operations in flight; the interval files are read one line at a time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, final

from lgbench.errors import UsageError
from lgbench.history import find_history_sets, iter_lines
from lgbench.metrics import LatencyRecorder
from lgbench.results import REPLY_RATE_SERIES, TOKEN_RATE_SCALE

__all__ = ["TABLES", "Column", "ColumnType", "Row", "Table", "table_rows"]

#: ``int``, ``float``, ``str``, ``bool`` and ``time`` (UTC, microseconds); every column may
#: be empty (null).
ColumnType: TypeAlias = Literal["int", "float", "str", "bool", "time"]
Row: TypeAlias = tuple[Any, ...]


@final
@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    doc: str


@final
@dataclass(frozen=True, slots=True)
class Table:
    """A table: ``name`` (the file's stem), what one row is, its columns and the file it
    comes from."""

    name: str
    row: str
    source: str
    columns: tuple[Column, ...]


def _c(name: str, type_: ColumnType, doc: str) -> Column:
    return Column(name, type_, doc)


OPERATIONS = Table(
    "operations",
    "one operation of the run: its invoke line and its completion line, paired",
    "history.jsonl and its rotated segments",
    (
        _c("index", "int", "the invoke line's index in the history"),
        _c("start_s", "float", "when the request was sent, seconds since the run's start"),
        _c("end_s", "float", "when it completed (empty: no completion, the run was killed)"),
        _c("start_time", "time", "when it was sent (wall clock, UTC)"),
        _c("end_time", "time", "when it completed (wall clock, UTC)"),
        _c("scenario", "str", "scenario name (`audit`: the post-run audit's reads)"),
        _c("vu", "int", "the virtual user (the history's `actor`)"),
        _c("process", "int", "the logical process (a new one after an `info` outcome)"),
        _c("operation", "str", "operation name: `threads.create`, `runs.stream`, …"),
        _c("outcome", "str", "`ok`, `fail` or `info` as the history says (docs/history.md)"),
        _c("latency_ms", "float", "end_s - start_s in ms: from the actual send (see below)"),
        _c("run_id", "str", "the run it created, addressed or joined, when known"),
        _c("thread_id", "str", "the thread it created or addressed, when known"),
        _c("error_kind", "str", "empty when it succeeded, else `http`, `transport`, `timeout`, "
           "`run`, `cancelled` (cut by lgbench's own stop: summary.json's `interrupted`) or "
           "`other`, as summary.json's `errors_by_kind`"),
        _c("http_status", "int", "the HTTP status of an `http` error"),
        _c("error_class", "str", "the error's class (`ConflictError`, `ReadTimeout`, …)"),
        _c("error_message", "str", "what the server or the client said"),
        _c("observer", "bool", "lgbench's own status read (a burst's polling), not load"),
    ),
)  # fmt: skip

#: The interval every per-interval table's row belongs to.
_INTERVAL_COLUMNS: Final = (
    _c("start_s", "float", "interval start, seconds since the run's start"),
    _c("end_s", "float", "interval end"),
)

INTERVALS = Table(
    "intervals",
    "one interval (1 s by default) of one latency series",
    "intervals.hlog",
    (
        *_INTERVAL_COLUMNS,
        _c("series", "str", "an operation (`runs.wait`), or a derived series: "
           "`<operation>.ttfe`, `.ttft`, `.itl`, `.event_gap`, `.queue_wait`, "
           "`.service_time`, `lgbench.schedule_lag`, `lgbench.loop_lag` (chat reply rates, "
           "`<operation>.tokens_per_s`, are in `reply_rates`)"),
        _c("count", "int", "values recorded in the interval"),
        _c("min_ms", "float", "smallest value"),
        _c("mean_ms", "float", "mean value (of the HDR bucket values)"),
        _c("p50_ms", "float", "50th percentile"),
        _c("p90_ms", "float", "90th percentile"),
        _c("p99_ms", "float", "99th percentile"),
        _c("p99_9_ms", "float", "99.9th percentile"),
        _c("max_ms", "float", "largest value"),
    ),
)  # fmt: skip

REPLY_RATES = Table(
    "reply_rates",
    "one interval of one streaming operation: the tokens per second of each chat reply "
    "stream that ended in it (its tokens over its time from the send to its end)",
    "intervals.hlog (`<operation>.tokens_per_s`)",
    (
        *_INTERVAL_COLUMNS,
        _c("operation", "str", "the streaming operation (`runs.stream`)"),
        _c("streams", "int", "chat reply streams that ended in the interval"),
        _c("min_tokens_per_s", "float", "the slowest stream's rate"),
        _c("p10_tokens_per_s", "float", "10th percentile: the slow tail, as thresholds and "
           "the baseline gate read it"),
        _c("p50_tokens_per_s", "float", "50th percentile"),
        _c("mean_tokens_per_s", "float", "mean rate (of the HDR bucket values)"),
        _c("max_tokens_per_s", "float", "the fastest stream's rate"),
    ),
)  # fmt: skip

_OUTCOME_COUNTS: Final = (
    ("count", "operations with an outcome (ok + errors)"),
    ("ok", "operations that succeeded"),
    ("errors", "operations that failed, every kind"),
    ("transport_errors", "no answer: refused, reset, protocol error"),
    ("timeouts", "timed out"),
    ("run_errors", "answered, but the graph failed"),
    ("other", "unexpected errors"),
    (
        "interrupted",
        "cut by lgbench's own stop (a graceful stop expired, a ramp-down): "
        "neither counted nor an error",
    ),
)

TIMESERIES = Table(
    "timeseries",
    "one interval of one operation: its outcome counts (the interval's own, not running totals)",
    "timeseries.jsonl",
    (
        *_INTERVAL_COLUMNS,
        _c("operation", "str", "operation name"),
        *(_c(name, "int", doc) for name, doc in _OUTCOME_COUNTS),
        _c("http_errors", "str", 'HTTP errors by status, as JSON: `{"409": 2}`'),
    ),
)  # fmt: skip

SCENARIOS = Table(
    "scenarios",
    "one interval of one scenario",
    "timeseries.jsonl",
    (
        *_INTERVAL_COLUMNS,
        _c("scenario", "str", "scenario name"),
        _c("active_vus", "int", "VUs running at the interval's end"),
        _c("started", "int", "iterations started in the interval"),
        _c("finished", "int", "iterations finished"),
        _c("failed", "int", "iterations that ended in an error"),
        _c("dropped", "int", "iterations dropped (no VU free)"),
    ),
)  # fmt: skip

RESOURCES = Table(
    "resources",
    "one sampled figure in one interval (long format)",
    "timeseries.jsonl (`server` and `lgbench`, when sampled)",
    (
        *_INTERVAL_COLUMNS,
        _c("source", "str", "`server` (the target, the embedded server's process) or `lgbench`"),
        _c("figure", "str", "`cpu_percent`, `rss_bytes`, `queue.*`, `workers.*`"),
        _c("value", "float", "its value"),
    ),
)  # fmt: skip

#: Every table, in the order they are written.
TABLES: Final = (OPERATIONS, INTERVALS, REPLY_RATES, TIMESERIES, SCENARIOS, RESOURCES)

_TRANSPORT_CLASSES: Final = frozenset(
    {"TransportError", "ConnectError", "NetworkError", "ProtocolError"}
)
_INTERVAL_PERCENTILES: Final = (50.0, 90.0, 99.0, 99.9)
_RATE_PERCENTILES: Final = (10.0, 50.0)
_RATE_SUFFIX: Final = f".{REPLY_RATE_SERIES}"


def table_rows(table: Table, run_dir: Path, issues: list[str]) -> Iterator[Row]:
    """The rows of ``table`` from ``run_dir``; what had to be skipped goes into ``issues``.

    A missing source file gives no rows (and an issue), except the history: a folder without
    one is no run folder (:class:`UsageError`).
    """
    if table is OPERATIONS:
        return _operations(run_dir, issues)
    from_hlog = table in (INTERVALS, REPLY_RATES)
    path = run_dir / ("intervals.hlog" if from_hlog else "timeseries.jsonl")
    if not path.is_file():
        issues.append(f"{path.name}: not in the run folder, table {table.name} is empty")
        return iter(())
    if from_hlog:
        return _intervals(path, issues, rates=table is REPLY_RATES)
    return _timeseries(table, path, issues)


# -- operations -------------------------------------------------------------------------------


def _ids(*values: Any) -> tuple[str | None, str | None]:
    run_id = thread_id = None
    for value in values:
        if isinstance(value, dict):
            run_id = run_id or _text(value.get("run_id"))
            thread_id = thread_id or _text(value.get("thread_id"))
    return run_id, thread_id


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _error_kind(completion: dict[str, Any]) -> str | None:
    error = completion.get("error")
    kind = completion.get("type")
    if kind == "ok":
        value = completion.get("value")
        failed = isinstance(value, dict) and (
            value.get("error") is not None or value.get("error_event") is not None
        )
        return "run" if failed else None
    if not isinstance(error, dict):
        return "other"
    name = str(error.get("class") or "")
    if error.get("status") is not None:
        return "http"
    if name == "Cancelled":
        return "cancelled"
    if "Timeout" in name:
        return "timeout"
    if name in _TRANSPORT_CLASSES:
        return "transport"
    return "other"


def _time(wall: Any) -> float | None:
    return float(wall) if isinstance(wall, int | float) and math.isfinite(wall) else None


def _operation_row(invoke: dict[str, Any], completion: dict[str, Any] | None) -> Row:
    start_ns = invoke.get("time_ns")
    start_s = start_ns / 1e9 if isinstance(start_ns, int) else None
    end_s = latency_ms = None
    end_time = None
    outcome = "info"  # a lost completion: the outcome is unknown (docs/history.md)
    error_kind = http_status = error_class = error_message = None
    observer = bool((invoke.get("value") or {}).get("observer"))
    run_id, thread_id = _ids(invoke.get("value"))
    if completion is not None:
        outcome = str(completion.get("type"))
        end_ns = completion.get("time_ns")
        if isinstance(end_ns, int):
            end_s = end_ns / 1e9
            if isinstance(start_ns, int):
                latency_ms = (end_ns - start_ns) / 1e6
        end_time = _time(completion.get("wall"))
        done_run, done_thread = _ids(completion.get("value"))
        run_id, thread_id = done_run or run_id, done_thread or thread_id
        error_kind = _error_kind(completion)
        error = completion.get("error")
        if isinstance(error, dict):
            status = error.get("status")
            http_status = status if isinstance(status, int) else None
            error_class = _text(error.get("class"))
            error_message = _text(error.get("message"))
        elif error_kind == "run":
            value = completion.get("value") or {}
            found = (
                value.get("error") if value.get("error") is not None else value.get("error_event")
            )
            error_message = found if isinstance(found, str) else json.dumps(found, default=str)
    return (
        invoke.get("index"),
        start_s,
        end_s,
        _time(invoke.get("wall")),
        end_time,
        invoke.get("scenario"),
        invoke.get("actor"),
        invoke.get("process"),
        invoke.get("f"),
        outcome,
        latency_ms,
        run_id,
        thread_id,
        error_kind,
        http_status,
        error_class,
        error_message,
        observer,
    )


def _operations(run_dir: Path, issues: list[str]) -> Iterator[Row]:
    if not any(run_dir.glob("history*.jsonl*")):
        raise UsageError(f"{run_dir}: not an lgbench run folder (no history.jsonl in it)")
    sets = find_history_sets(run_dir)
    if len(sets) != 1:
        names = ", ".join(found.name for found in sets)
        raise UsageError(f"{run_dir}: several histories ({names}); export one run at a time")
    (history,) = sets
    issues.extend(history.issues)
    pending: dict[int, dict[str, Any]] = {}
    for entry in history.files:
        reader = iter_lines(entry.path)
        for number, raw in enumerate(reader, start=1):
            if not raw.endswith(b"\n"):
                issues.append(f"{entry.path}:{number}: the last line is cut short, skipped")
                break
            try:
                line = json.loads(raw)
            except ValueError:
                issues.append(f"{entry.path}:{number}: not JSON, skipped")
                continue
            if not isinstance(line, dict):
                continue
            kind = line.get("type")
            if kind == "invoke" and isinstance(line.get("index"), int):
                pending[line["index"]] = line
            elif kind in ("ok", "fail", "info"):
                invoke = pending.pop(line.get("invoke_index"), None)  # type: ignore[arg-type]
                if invoke is not None:
                    yield _operation_row(invoke, line)
        if reader.damage is not None:
            issues.append(reader.damage)
    # Invokes never completed (the run was killed): outcome unknown, in index order.
    for index in sorted(pending):
        yield _operation_row(pending[index], None)


# -- intervals.hlog ---------------------------------------------------------------------------


def _intervals(path: Path, issues: list[str], *, rates: bool) -> Iterator[Row]:
    """The latency series' lines (``rates``: the chat reply rates' lines instead, by
    operation), each line's figures; a tag neither knows is a latency series."""
    with path.open(encoding="utf-8", errors="replace") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.rstrip("\r\n")
            if not line.startswith("Tag="):
                continue  # comments, the legend
            tag, _, rest = line[4:].partition(",")
            if tag.endswith(_RATE_SUFFIX) != rates:
                continue
            parts = rest.split(",")
            try:
                start_s, length_s = float(parts[0]), float(parts[1])
                pairs = LatencyRecorder.blob_value_counts(parts[3].strip())
            except Exception:  # a damaged (cut-short) line: hdrh raises many kinds
                issues.append(f"{path.name}:{number}: not an interval line, skipped")
                continue
            end_s = round(start_s + length_s, 6)
            if rates:
                operation = tag.removesuffix(_RATE_SUFFIX)
                count, low, mean, *found, high = _interval_figures(
                    pairs, _RATE_PERCENTILES, TOKEN_RATE_SCALE
                )
                yield (start_s, end_s, operation, count, low, *found, mean, high)
            else:
                yield (start_s, end_s, tag, *_interval_figures(pairs))


def _interval_figures(
    pairs: list[tuple[int, int]],
    percentiles: tuple[float, ...] = _INTERVAL_PERCENTILES,
    scale: int = 1000,
) -> Row:
    """count, min, mean, the ``percentiles`` and max of (value, count) pairs sorted by value,
    each value divided by ``scale`` (µs to ms; thousandths of a token per second to tokens
    per second): one pass over the non-empty buckets (hdrh's own percentile scan walks every
    bucket in Python, 40 ms per interval)."""
    total = sum(count for _, count in pairs)
    if not total:
        return (0, *([None] * (len(percentiles) + 3)))
    wanted = [
        (percentile, max(1, int(percentile / 100 * total + 0.5))) for percentile in percentiles
    ]
    found: list[float] = []
    running = 0
    for value, count in pairs:
        running += count
        while wanted and running >= wanted[0][1]:
            found.append(value / scale)
            wanted.pop(0)
    mean = sum(value * count for value, count in pairs) / total / scale
    return (total, pairs[0][0] / scale, mean, *found, pairs[-1][0] / scale)


# -- timeseries.jsonl -------------------------------------------------------------------------


def _timeseries(table: Table, path: Path, issues: list[str]) -> Iterator[Row]:
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                line = json.loads(raw)
            except ValueError:
                issues.append(f"{path.name}:{number}: not JSON, skipped")
                continue
            if not isinstance(line, dict) or "start_s" not in line:
                continue  # the header
            start_s, end_s = line["start_s"], line["end_s"]
            if table is TIMESERIES:
                for operation, counts in sorted((line.get("operations") or {}).items()):
                    yield (
                        start_s,
                        end_s,
                        operation,
                        *(counts.get(name, 0) for name, _ in _OUTCOME_COUNTS),
                        json.dumps(counts.get("http_errors") or {}, sort_keys=True),
                    )
            elif table is SCENARIOS:
                for scenario, counts in sorted((line.get("scenarios") or {}).items()):
                    yield (
                        start_s,
                        end_s,
                        scenario,
                        *(
                            counts.get(name, 0)
                            for name in ("active_vus", "started", "finished", "failed", "dropped")
                        ),
                    )
            else:
                for source in ("server", "lgbench"):
                    for figure, value in sorted((line.get(source) or {}).items()):
                        if isinstance(value, int | float) and not isinstance(value, bool):
                            yield (start_s, end_s, source, figure, float(value))
