"""Read history.jsonl files into operations and markers.

The reader never gives up on a damaged file. A line that is not a valid event is counted
as *malformed*; an unterminated, unparsable last line (a crash cut it short) is counted
as *truncated*. What a lost line may have been is worked out from the gap it leaves in the
event indexes (ascending from 0 in every file):

- a lost ``invoke`` whose completion survived is rebuilt from the completion (its send
  time is bounded by the event before the gap);
- a lost completion leaves its invoke unpaired, which is an ``info``;
- a rebuilt operation that may have created, cancelled or deleted a run but names no
  thread, and any other gap, may have hidden an operation that affected a run.
  Unless the broken text shows it was harmless (a read, a completion, a marker), it is a
  :class:`Phantom`: the checkers treat it as an ``info``'d run creation on any thread (or
  on the threads its text names), so it can only turn a verdict into ``unknown``, never
  into a violation.

Several files (one per process of a distributed run) are merged on one clock: each file's
monotonic times are shifted by the median difference to its wall-clock stamps.

Failure modes: an unreadable file raises :class:`~lgbench.errors.UsageError` (exit code 2); an
unsupported ``schema_version`` is recorded in :attr:`History.unknown`, which makes the
whole check ``unknown``.
"""

from __future__ import annotations

import bisect
import json
import re
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Final, final

from lgbench.check._events import (
    HISTORY_SCHEMA_VERSION,
    INF,
    Event,
    Operation,
    Outcome,
)
from lgbench.errors import UsageError

__all__ = ["History", "Phantom", "read_history"]

_EVENT_TYPES: Final = frozenset({"invoke", "ok", "fail", "info", "marker"})
_COMPLETIONS: Final = frozenset({"ok", "fail", "info"})
#: Operations that cannot create, cancel or delete a run: losing one is harmless.
_READ_ONLY_OPS: Final = frozenset(
    {
        "runs.get",
        "runs.list",
        "runs.join",
        "runs.join_stream",
        "threads.get",
        "threads.get_state",
        "threads.get_history",
        "threads.search",
        "threads.create",
        "threads.count",
        "assistants.get",
        "assistants.search",
        "assistants.get_graph",
        "assistants.get_schemas",
        "store.get_item",
        "store.put_item",
        "store.search_items",
        "store.delete_item",
    }
)
_SALVAGE_TYPE: Final = re.compile(r'"type"\s*:\s*"([a-z]+)"')
_SALVAGE_F: Final = re.compile(r'"f"\s*:\s*"([A-Za-z_.]+)"')
_SALVAGE_THREAD: Final = re.compile(r'"thread_id"\s*:\s*"([^"\\]+)"')
_SNIPPET_CHARS: Final = 80


@dataclass(frozen=True, slots=True)
class Phantom:
    """A lost line that may have been an operation creating, cancelling or deleting a run.

    ``lo``/``hi`` bound when it happened (the readable events around it); ``thread_ids``
    are the thread ids found in its broken text (empty: it may concern any thread).
    """

    file: int
    line: int
    lo: float
    hi: float
    thread_ids: frozenset[str]

    def concerns(self, thread_id: str) -> bool:
        return not self.thread_ids or thread_id in self.thread_ids


@final
@dataclass(slots=True)
class History:
    """Everything the checkers read from one or more history files."""

    paths: tuple[str, ...]
    headers: tuple[Mapping[str, Any], ...]
    operations: list[Operation]
    markers: list[Event]
    lines: int = 0
    events: int = 0
    malformed: int = 0
    truncated: int = 0
    unpaired: int = 0
    phantoms: list[Phantom] = field(default_factory=list)
    #: Notes about the file that do not change a verdict (capped examples).
    issues: list[str] = field(default_factory=list)
    #: Reasons that make the whole check ``unknown``.
    unknown: list[str] = field(default_factory=list)
    #: A ``run.partial`` marker: the run that wrote the history was interrupted.
    partial: bool = False


@dataclass(slots=True)
class _Broken:
    line: int
    text: str
    after_index: int  # index of the last readable event before this line, -1 if none


@dataclass(slots=True)
class _FileData:
    file: int
    header: Mapping[str, Any] | None = None
    events: list[Event] = field(default_factory=list)
    broken: list[_Broken] = field(default_factory=list)
    lines: int = 0
    truncated: bool = False
    issues: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    offset_s: float = 0.0


def read_history(paths: str | PathLike[str] | Sequence[str | PathLike[str]]) -> History:
    """Read one history file, or several to merge, into a :class:`History`.

    Raises:
        UsageError: no file given, or a file cannot be opened or read.
    """
    path_list: list[Path] = []
    if isinstance(paths, str | PathLike):
        path_list.append(Path(paths))
    else:
        path_list.extend(Path(p) for p in paths)
    if not path_list:
        raise UsageError("no history file given")
    files = [_read_file(path, number) for number, path in enumerate(path_list)]
    _align_clocks(files)
    history = History(
        paths=tuple(str(p) for p in path_list),
        headers=tuple(f.header for f in files if f.header is not None),
        operations=[],
        markers=[],
    )
    for data in files:
        _pair(data, history)
        history.lines += data.lines
        history.events += len(data.events)
        history.malformed += len(data.broken) - (1 if data.truncated else 0)
        history.truncated += 1 if data.truncated else 0
        history.issues.extend(data.issues)
        history.unknown.extend(data.unknown)
    history.operations.sort(key=lambda op: (op.lo, op.hi, _first_index(op)))
    history.markers.sort(key=lambda event: (event.time_s, event.file, event.index))
    history.partial = any(m.name == "run.partial" for m in history.markers)
    return history


def _first_index(op: Operation) -> tuple[int, int]:
    event = op.invoke or op.completion
    assert event is not None
    return (event.file, event.index)


def _read_file(path: Path, number: int) -> _FileData:
    """Parse one file line by line (never the whole file in memory at once)."""
    data = _FileData(file=number)
    last_index = -1
    seen: set[int] = set()
    try:
        with path.open("rb") as stream:
            for line_no, raw in enumerate(stream, start=1):
                data.lines = line_no
                terminated = raw.endswith(b"\n")
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                obj = _parse(line)
                if obj is not None and obj.get("type") == "header":
                    if line_no == 1 and data.header is None:
                        data.header = obj
                        _check_header(obj, path, data)
                    else:
                        data.issues.append(f"{path}:{line_no}: a header line after line 1, ignored")
                    continue
                event = _to_event(obj, number, line_no) if obj is not None else None
                if event is None or event.index in seen:
                    if event is not None:
                        data.issues.append(
                            f"{path}:{line_no}: duplicate index {event.index}, ignored"
                        )
                    if not terminated and obj is None:
                        data.truncated = True  # only the last line can lack its newline
                    data.broken.append(_Broken(line_no, line[:_SNIPPET_CHARS], last_index))
                    continue
                seen.add(event.index)
                if event.index < last_index:
                    data.issues.append(f"{path}:{line_no}: index {event.index} out of order")
                last_index = max(last_index, event.index)
                data.events.append(event)
    except OSError as exc:
        raise UsageError(f"cannot read history {path}: {exc.strerror or exc}") from None
    if data.header is None:
        data.issues.append(f"{path}: no header line")
    if data.broken:
        count = len(data.broken) - (1 if data.truncated else 0)
        if count:
            data.issues.append(
                f"{path}: {count} malformed line(s), first at line {data.broken[0].line}"
            )
        if data.truncated:
            data.issues.append(f"{path}: the last line is cut short (line {data.lines})")
    return data


def _parse(line: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _check_header(header: Mapping[str, Any], path: Path, data: _FileData) -> None:
    version = header.get("schema_version")
    if version != HISTORY_SCHEMA_VERSION:
        data.unknown.append(
            f"{path}: history schema_version {version!r} is not {HISTORY_SCHEMA_VERSION}, "
            "which this checker reads"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_event(obj: Mapping[str, Any], file: int, line: int) -> Event | None:
    kind = obj.get("type")
    index = obj.get("index")
    time_ns = obj.get("time_ns")
    if kind not in _EVENT_TYPES or not isinstance(index, int) or isinstance(index, bool):
        return None
    if not isinstance(time_ns, int) or isinstance(time_ns, bool):
        return None
    value = obj.get("value")
    error = obj.get("error")
    if value is None:
        value = {}
    if not isinstance(value, dict) or (error is not None and not isinstance(error, dict)):
        return None
    f = obj.get("f")
    name = obj.get("name")
    invoke_index = obj.get("invoke_index")
    if kind == "marker":
        if not isinstance(name, str):
            return None
    elif not isinstance(f, str):
        return None
    if kind in _COMPLETIONS and not _is_int(invoke_index):
        return None
    wall = obj.get("wall")
    process = obj.get("process")
    actor = obj.get("actor")
    scenario = obj.get("scenario")
    return Event(
        file=file,
        line=line,
        index=index,
        type=kind,
        time_s=time_ns / 1e9,
        wall=float(wall) if isinstance(wall, int | float) and not isinstance(wall, bool) else None,
        process=process if _is_int(process) else None,
        actor=actor if _is_int(actor) else None,
        scenario=sys.intern(scenario) if isinstance(scenario, str) else None,
        f=sys.intern(f) if isinstance(f, str) else None,
        name=sys.intern(name) if isinstance(name, str) else None,
        invoke_index=invoke_index if _is_int(invoke_index) else None,
        value=value if kind == "marker" else _slim(value),
        error=error,
    )


#: The fields of an operation's ``value`` any checker reads; the rest (timestamps, event
#: counts, kept stream events…) is dropped on reading so a long history stays small.
_KEPT_FIELDS: Final = frozenset(
    {
        "thread_id",
        "run_id",
        "assistant_id",
        "multitask_strategy",
        "after_seconds",
        "on_disconnect",
        "cancel_on_disconnect",
        "stream_mode",
        "action",
        "status",
        "observer",
        "limit",
        "offset",
        "runs",
        "tokens",
        "has_values",
        "error",
        "events",
    }
)


def _interned(value: object) -> object:
    return sys.intern(value) if isinstance(value, str) else value


def _slim(value: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the fields the checkers read, with ids and tokens interned (they repeat)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _KEPT_FIELDS:
            continue
        if key == "runs" and isinstance(item, list):
            item = [
                {k: _interned(run.get(k)) for k in ("run_id", "status") if k in run}
                if isinstance(run, dict)
                else run
                for run in item
            ]
        elif key == "tokens" and isinstance(item, list):
            item = [_interned(token) for token in item]
        else:
            item = _interned(item)
        out[sys.intern(key)] = item
    return out


def _align_clocks(files: list[_FileData]) -> None:
    """Shift every file's monotonic clock onto the first file's, using wall-clock stamps."""
    if len(files) < 2:
        return
    offsets: list[float | None] = []
    for data in files:
        diffs = [e.wall - e.time_s for e in data.events if e.wall is not None]
        offsets.append(statistics.median(diffs) if diffs else None)
    base = next((o for o in offsets if o is not None), None)
    for data, offset in zip(files, offsets, strict=True):
        if offset is None or base is None:
            if data.events:
                data.issues.append(
                    f"file {data.file}: no wall-clock stamps; its clock is not aligned with "
                    "the other files"
                )
            continue
        data.offset_s = offset - base


def _shift(event: Event, offset: float) -> Event:
    if not offset:
        return event
    return Event(
        file=event.file,
        line=event.line,
        index=event.index,
        type=event.type,
        time_s=event.time_s + offset,
        wall=event.wall,
        process=event.process,
        actor=event.actor,
        scenario=event.scenario,
        f=event.f,
        name=event.name,
        invoke_index=event.invoke_index,
        value=event.value,
        error=event.error,
    )


def _pair(data: _FileData, history: History) -> None:
    """Pair invokes with completions; work out what the lost lines may have been."""
    events = [_shift(e, data.offset_s) for e in data.events]
    by_index = {e.index: e for e in events}
    ordered = sorted(by_index)
    invokes = {e.index: e for e in events if e.type == "invoke"}
    completed: set[int] = set()
    referenced: set[int] = set()
    for event in events:
        if event.type == "marker":
            history.markers.append(event)
            continue
        if event.type == "invoke":
            continue
        assert event.invoke_index is not None
        referenced.add(event.invoke_index)
        invoke = invokes.get(event.invoke_index)
        if event.invoke_index in completed:
            data.issues.append(
                f"file {data.file} line {event.line}: a second completion of invoke "
                f"{event.invoke_index}, ignored"
            )
            continue
        if invoke is None and event.invoke_index in by_index:
            data.issues.append(
                f"file {data.file} line {event.line}: invoke_index {event.invoke_index} is "
                "not an invoke, ignored"
            )
            continue
        completed.add(event.invoke_index)
        if invoke is not None:
            lo = invoke.time_s
        else:
            lo = _time_before(ordered, by_index, event.invoke_index)
        op = _operation(invoke, event, lo)
        history.operations.append(op)
        if invoke is None and op.thread_id is None and op.f not in _READ_ONLY_OPS:
            # Rebuilt from a completion that names no thread: it may concern any thread.
            history.phantoms.append(Phantom(data.file, event.line, lo, event.time_s, frozenset()))
    for index, invoke in invokes.items():
        if index not in completed:
            history.unpaired += 1
            history.operations.append(_operation(invoke, None, invoke.time_s))
    _find_phantoms(data, history, ordered, by_index, referenced)


def _time_before(ordered: list[int], by_index: Mapping[int, Event], index: int) -> float:
    """The time of the latest readable event whose index is below ``index``."""
    at = bisect.bisect_left(ordered, index)
    return by_index[ordered[at - 1]].time_s if at else 0.0


def _operation(invoke: Event | None, completion: Event | None, lo: float) -> Operation:
    source = invoke or completion
    assert source is not None
    f = (completion.f if completion is not None else None) or source.f or "?"
    outcome: Outcome = "info"
    hi = INF
    if completion is not None:
        if completion.type == "ok":
            outcome, hi = "ok", completion.time_s
        elif completion.type == "fail":
            outcome, hi = "fail", completion.time_s
    return Operation(
        f=f,
        outcome=outcome,
        invoke=invoke,
        completion=completion,
        lo=lo,
        hi=max(hi, lo),
        args=invoke.value if invoke is not None else {},
        result=completion.value if completion is not None else {},
        error=completion.error if completion is not None else None,
    )


def _find_phantoms(
    data: _FileData,
    history: History,
    ordered: list[int],
    by_index: Mapping[int, Event],
    referenced: set[int],
) -> None:
    """One phantom per gap in the indexes that the broken lines there do not explain."""
    previous = -1
    for index in ordered:
        missing = [i for i in range(previous + 1, index) if i not in referenced]
        if missing:
            texts = [b for b in data.broken if previous <= b.after_index < index]
            explained = len(texts) >= len(missing) and all(_harmless(b.text) for b in texts)
            if not explained:
                lo = by_index[previous].time_s if previous >= 0 else 0.0
                threads = frozenset(m for b in texts for m in _SALVAGE_THREAD.findall(b.text))
                if len(texts) < len(missing):
                    threads = frozenset()  # a line left no text at all: any thread
                line = texts[0].line if texts else by_index[index].line
                history.phantoms.append(
                    Phantom(data.file, line, lo, by_index[index].time_s, threads)
                )
        previous = index


def _harmless(text: str) -> bool:
    """Whether a broken line's surviving text shows it cannot have affected a run."""
    kind = _SALVAGE_TYPE.search(text)
    if kind is not None and kind.group(1) in {"ok", "fail", "info", "marker", "header"}:
        return True
    f = _SALVAGE_F.search(text)
    return f is not None and f.group(1) in _READ_ONLY_OPS
