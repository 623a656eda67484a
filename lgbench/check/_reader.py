"""Read history.jsonl files into operations and markers.

The reader never gives up on a damaged file. A line that is not a valid event is counted
as *malformed*; an unterminated, unparsable last line (a crash cut it short) is counted
as *truncated*. What a lost line may have been is worked out from the gap it leaves in the
event indexes (ascending from 0 in every file):

- a lost ``invoke`` whose completion survived is rebuilt from the completion (its send
  time is bounded by the event before the gap);
- a lost completion leaves its invoke unpaired, which is an ``info``;
- so does a worker process that died mid-run (a ``worker.lost`` marker, with ``--workers``):
  its invokes without a completion are ``info``, counted apart (:attr:`Scan.lost_in_flight`)
  since its loss, not damage, explains them;
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
import dataclasses
import json
import math
import re
import statistics
import sys
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Final, Protocol, cast, final

import msgspec

from lgbench.check._events import (
    CREATING_OPS,
    HISTORY_SCHEMA_VERSION,
    INF,
    Event,
    Operation,
    Outcome,
)
from lgbench.history import HistorySet, find_history_sets, iter_lines
from lgbench.operations import operation_names

__all__ = [
    "History",
    "Phantom",
    "Scan",
    "Sink",
    "marker_key",
    "operation_key",
    "read_history",
    "scan_history",
]

_EVENT_TYPES: Final = frozenset({"invoke", "ok", "fail", "info", "marker"})
_COMPLETIONS: Final = frozenset({"ok", "fail", "info"})
#: Operations that cannot create, cancel or delete a run: losing one is harmless.
_HARMLESS_OPS: Final = operation_names(lambda op: not op.changes_runs)
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
    #: Invokes of a lost worker (``worker.lost``) left without a completion: ``info``.
    lost_in_flight: int = 0
    phantoms: list[Phantom] = field(default_factory=list)
    #: Notes about the file that do not change a verdict (capped examples).
    issues: list[str] = field(default_factory=list)
    #: Reasons that make the whole check ``unknown``.
    unknown: list[str] = field(default_factory=list)
    #: A ``run.partial`` marker: the run that wrote the history was interrupted.
    partial: bool = False
    #: Every file read, segments of rotated sets included, in order.
    segments: tuple[str, ...] = ()


class Sink(Protocol):
    """Where :func:`scan_history` sends each operation and marker as it is read.

    They arrive on their own file's clock: the offsets onto the merged clock are known
    only once every file was read (:meth:`Scan.operation`, :meth:`Scan.shift`).
    """

    def operation(self, op: Operation) -> None: ...

    def marker(self, event: Event) -> None: ...


@final
@dataclass(slots=True)
class Scan:
    """What one streaming pass learnt about a whole history, besides its operations.

    Everything here is bounded by the number of files and by the damage (lost lines,
    issues), not by the history's length; ``copied_unknown`` grows only with info'd
    ``threads.copy`` operations.
    """

    paths: tuple[str, ...]
    segments: tuple[str, ...]
    headers: tuple[Mapping[str, Any], ...]
    #: Per file (logical history), what to add to its monotonic times.
    offsets: tuple[float, ...]
    lines: int = 0
    events: int = 0
    malformed: int = 0
    truncated: int = 0
    unpaired: int = 0
    #: Invokes of a lost worker left without a completion (info, not counted as unpaired).
    lost_in_flight: int = 0
    #: The ``worker.lost`` markers read: worker number -> seconds into the run it was lost.
    lost_workers: dict[int, float] = field(default_factory=dict)
    operations: int = 0
    info: int = 0
    phantoms: list[Phantom] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    partial: bool = False
    copied_unknown: set[str] = field(default_factory=set)

    def shift(self, event: Event) -> Event:
        """``event`` on the merged clock."""
        return _shift(event, self.offsets[event.file])

    def operation(self, op: Operation) -> Operation:
        """``op`` (as a :class:`Sink` received it) on the merged clock."""
        return self.rebuild(op.invoke, op.completion, op.lo)

    def rebuild(self, invoke: Event | None, completion: Event | None, lo: float) -> Operation:
        """The operation of these events (on their file's clock), on the merged clock."""
        source = invoke or completion
        assert source is not None
        offset = self.offsets[source.file]
        if offset:
            invoke = _shift(invoke, offset) if invoke is not None else None
            completion = _shift(completion, offset) if completion is not None else None
            lo += offset
        return _operation(invoke, completion, lo)


def operation_key(op: Operation) -> tuple[float, float, int, int]:
    """The order of :attr:`History.operations`: by send time, answer time, then line."""
    event = op.invoke or op.completion
    assert event is not None
    return (op.lo, op.hi, event.file, event.index)


def marker_key(event: Event) -> tuple[float, int, int]:
    """The order of :attr:`History.markers`."""
    return (event.time_s, event.file, event.index)


@final
class _Collect:
    """The in-memory :class:`Sink` behind :func:`read_history`."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self.markers: list[Event] = []

    def operation(self, op: Operation) -> None:
        self.operations.append(op)

    def marker(self, event: Event) -> None:
        self.markers.append(event)


def read_history(
    paths: str | PathLike[str] | Sequence[str | PathLike[str]],
) -> History:
    """Read a history into memory: one file, a run folder, a rotated set (plain and ``.gz``
    mixed), or several files to merge (one per process of a run).

    Raises:
        UsageError: no file given, a file that cannot be opened or read, a folder without
            a history, or a segment missing from the middle of a rotated set.
    """
    sink = _Collect()
    scan = scan_history(paths, sink)
    operations = [scan.operation(op) for op in sink.operations]
    operations.sort(key=operation_key)
    markers = [scan.shift(m) for m in sink.markers]
    markers.sort(key=marker_key)
    return History(
        paths=scan.paths,
        headers=scan.headers,
        operations=operations,
        markers=markers,
        lines=scan.lines,
        events=scan.events,
        malformed=scan.malformed,
        truncated=scan.truncated,
        unpaired=scan.unpaired,
        lost_in_flight=scan.lost_in_flight,
        phantoms=scan.phantoms,
        issues=scan.issues,
        unknown=scan.unknown,
        partial=scan.partial,
        segments=scan.segments,
    )


@dataclass(slots=True)
class _Broken:
    line: int
    text: str
    after_index: int  # index of the last readable event before this line, -1 if none


@dataclass(slots=True)
class _Gap:
    """Indexes ``lo..hi`` not (yet) seen, between two readable events."""

    lo: int
    hi: int
    before_index: int  # -1: no event before
    before_time: float
    after_index: int
    after_time: float
    after_line: int


@dataclass(slots=True)
class _Stream:
    """One logical history (a file, or a rotated set) while it is read."""

    file: int
    header: Mapping[str, Any] | None = None
    lines: int = 0
    events: int = 0
    truncated: bool = False
    broken: list[_Broken] = field(default_factory=list)
    read_issues: list[str] = field(default_factory=list)
    pair_issues: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: wall - time for every event, only when several files must be aligned.
    diffs: array[float] | None = None
    max_index: int = -1
    max_time: float = 0.0
    gaps: list[_Gap] = field(default_factory=list)
    #: Lost indexes a completion names (its invoke is rebuilt, not a phantom).
    referenced: set[int] = field(default_factory=set)
    #: Invokes waiting for their completion: as many as were in flight, not the history.
    #: An invoke with nothing to judge, read while skipping those, is kept as the line it
    #: came from (its line number and text) and built only if its completion needs it.
    in_flight: dict[int, Event | tuple[int, bytes]] = field(default_factory=dict)
    #: How ids and names are shared (see scan_history's ``intern_ids``).
    ids: Callable[[str], str] = sys.intern
    names: Callable[[str], str] = sys.intern
    #: Invokes left without a completion at the end of the file(s).
    unpaired: int = 0
    phantoms: list[Phantom] = field(default_factory=list)
    dropped_issues: int = 0

    def note(self, issues: list[str], text: str) -> None:
        if len(issues) < _MAX_ISSUES:
            issues.append(text)
        else:
            self.dropped_issues += 1

    def gap_at(self, index: int) -> int | None:
        """The position in :attr:`gaps` of the gap holding ``index``, if any."""
        at = bisect.bisect_right(self.gaps, index, key=lambda g: g.lo) - 1
        if at >= 0 and self.gaps[at].hi >= index:
            return at
        return None

    def time_before(self, index: int) -> float:
        """The time of the latest readable event whose index is below ``index``."""
        if index > self.max_index:
            return self.max_time if self.max_index >= 0 else 0.0
        at = self.gap_at(index)
        if at is None:  # pragma: no cover - only asked for indexes not seen
            return self.max_time
        gap = self.gaps[at]
        return gap.before_time if gap.before_index >= 0 else 0.0

    def accept(self, event: Event) -> bool:
        """Record ``event``'s index; False when it was seen before (a duplicate)."""
        index = event.index
        if index > self.max_index:
            if index > self.max_index + 1:
                self.gaps.append(
                    _Gap(
                        self.max_index + 1,
                        index - 1,
                        self.max_index,
                        self.max_time,
                        index,
                        event.time_s,
                        event.line,
                    )
                )
            self.max_index, self.max_time = index, event.time_s
            return True
        at = self.gap_at(index)
        if at is None:
            return False
        # Out of order, into a gap: split it around the event.
        gap = self.gaps[at]
        parts = []
        if gap.lo < index:
            parts.append(
                _Gap(
                    gap.lo,
                    index - 1,
                    gap.before_index,
                    gap.before_time,
                    index,
                    event.time_s,
                    event.line,
                )
            )
        if index < gap.hi:
            parts.append(
                _Gap(
                    index + 1,
                    gap.hi,
                    index,
                    event.time_s,
                    gap.after_index,
                    gap.after_time,
                    gap.after_line,
                )
            )
        self.gaps[at : at + 1] = parts
        return True


#: Issues kept per file and kind; the rest are counted (a wrecked file must not cost memory).
_MAX_ISSUES: Final = 256


def scan_history(
    paths: str | PathLike[str] | Sequence[str | PathLike[str]],
    sink: Sink,
    *,
    intern_ids: bool = True,
    skip_empty: bool = False,
) -> Scan:
    """Read every line once, pair invokes with completions, and hand each operation and
    marker to ``sink``; returns what was learnt about the whole history.

    Memory is bounded by the operations in flight at any one time and by the damage, not
    by the history's length (several files to merge also keep 8 bytes per event, to align
    their clocks on the median of their wall-clock stamps).

    ``intern_ids`` shares repeated ids and tokens between operations kept in memory; a sink
    that does not keep them should say False (interning would only churn the interpreter's
    global table).

    ``skip_empty`` is for a sink that ignores an operation whose invoke and completion carry
    empty values and whose name cannot create a run (every raw HTTP step's, half of many
    histories): such an operation, read in order, is counted in the scan but neither built
    nor handed over, which halves what its lines cost. It may still reach the sink (when it
    arrives out of order, damaged or half lost), so the sink must still ignore it.

    Raises:
        UsageError: as :func:`read_history`.
    """
    sets = find_history_sets(paths)
    ids: Callable[[str], str] = sys.intern if intern_ids else str
    names = sys.intern if intern_ids else _names()
    align = len(sets) > 1
    streams: list[_Stream] = []
    scan = Scan(
        paths=tuple(s.name for s in sets),
        segments=tuple(str(f.path) for s in sets for f in s.files),
        headers=(),
        offsets=(),
    )
    for number, found in enumerate(sets):
        stream = _Stream(file=number, diffs=array("d") if align else None, ids=ids, names=names)
        stream.read_issues.extend(found.issues)
        _read_set(found, stream, sink, scan, skip_empty)
        streams.append(stream)
    offsets = _align_clocks(streams)
    scan.offsets = tuple(offsets)
    scan.headers = tuple(s.header for s in streams if s.header is not None)
    for stream in streams:
        _find_phantoms(stream)
        offset = offsets[stream.file]
        scan.phantoms.extend(
            Phantom(p.file, p.line, p.lo + offset, p.hi + offset, p.thread_ids) if offset else p
            for p in stream.phantoms
        )
        _count_unpaired(stream, scan)
        scan.lines += stream.lines
        scan.events += stream.events
        scan.malformed += len(stream.broken) - (1 if stream.truncated else 0)
        scan.truncated += 1 if stream.truncated else 0
        scan.issues.extend(stream.read_issues)
        scan.issues.extend(stream.pair_issues)
        if stream.dropped_issues:
            scan.issues.append(f"file {stream.file}: {stream.dropped_issues} more issue(s)")
        scan.unknown.extend(stream.unknown)
    return scan


def _read_set(
    found: HistorySet,
    stream: _Stream,
    sink: Sink,
    scan: Scan,
    skip_empty: bool,
) -> None:
    """Parse the files of one history line by line, in order, as one sequence of lines.

    Line numbers count as if the set were one file: a continuing segment's header is not
    a line of the history.
    """
    last_file = found.files[-1]
    ids, names = stream.ids, stream.names
    for entry in found.files:
        path = entry.path
        reader = iter_lines(path)
        for line_no, raw in enumerate(reader, start=1):
            typed = _typed_line(raw)
            if typed is not None:  # the usual line, checked while msgspec decoded it
                stream.lines += 1
                if (
                    skip_empty
                    and not typed.value
                    and typed.index == stream.max_index + 1
                    and typed.type != "marker"
                    and typed.f not in CREATING_OPS
                    and _took_empty(stream, typed, raw, scan)
                ):
                    continue
                event = _line_event(typed, stream.file, stream.lines, ids, names)
                if not _take(stream, event, path, line_no, sink, scan):
                    stream.broken.append(_Broken(stream.lines, _snippet(raw), stream.max_index))
                continue
            terminated = raw.endswith(b"\n")
            obj = _parse(raw)
            if obj is not None and obj.get("type") == "header":
                if line_no == 1 and stream.header is None and stream.lines == 0:
                    stream.lines = 1
                    stream.header = obj
                    _check_header(obj, path, stream.unknown)
                elif line_no == 1 and entry is not found.files[0]:
                    pass  # a continuing segment's header
                else:
                    stream.lines += 1
                    stream.note(
                        stream.read_issues, f"{path}:{line_no}: a header line after line 1, ignored"
                    )
                continue
            stream.lines += 1
            general = (
                _to_event(obj, stream.file, stream.lines, ids, names) if obj is not None else None
            )
            if general is None or not _take(stream, general, path, line_no, sink, scan):
                if not terminated and obj is None and entry is last_file:
                    stream.truncated = True  # only the last line can lack its newline
                stream.broken.append(_Broken(stream.lines, _snippet(raw), stream.max_index))
        if reader.damage is not None:
            stream.read_issues.append(reader.damage)
            # What followed the damage is gone, with no index gap to tell which threads it
            # touched (a segment's tail, or the segments after it): nothing can be called valid.
            stream.unknown.append(
                f"{reader.damage}: the lines after the damage are lost, so a thread they"
                " concerned may look correct when it was not"
            )
    if stream.header is None:
        stream.read_issues.append(f"{found.name}: no header line")
    for invoke in stream.in_flight.values():
        stream.unpaired += 1
        if isinstance(invoke, tuple):  # nothing to judge (skip_empty): counted only
            scan.operations += 1
            scan.info += 1
        else:
            _emit(invoke, None, invoke.time_s, sink, scan)
    stream.in_flight.clear()
    if stream.broken:
        count = len(stream.broken) - (1 if stream.truncated else 0)
        if count:
            stream.read_issues.append(
                f"{found.name}: {count} malformed line(s), first at line {stream.broken[0].line}"
            )
        if stream.truncated:
            stream.read_issues.append(
                f"{last_file.path}: the last line is cut short (line {stream.lines})"
            )


def _take(stream: _Stream, event: Event, path: Path, line_no: int, sink: Sink, scan: Scan) -> bool:
    """Take a line's event into the history; False when its index was taken already (a
    duplicate, noted and ignored: the caller keeps the line as a broken one)."""
    if not stream.accept(event):
        stream.note(stream.read_issues, f"{path}:{line_no}: duplicate index {event.index}, ignored")
        return False
    if event.index < stream.max_index:
        stream.note(stream.read_issues, f"{path}:{line_no}: index {event.index} out of order")
    stream.events += 1
    if stream.diffs is not None and event.wall is not None:
        stream.diffs.append(event.wall - event.time_s)
    _pair(stream, event, sink, scan)
    return True


def _took_empty(stream: _Stream, typed: _Line, raw: bytes, scan: Scan) -> bool:
    """Take the next line in order, an invoke or completion with an empty value whose
    operation cannot create a run, without building its event (``skip_empty``); False,
    having changed nothing, for a completion whose invoke is not such a line kept so.

    What changes is what :func:`_take` would change, except that the sink is not called.
    """
    kind = typed.type
    if kind == "invoke":
        stream.in_flight[typed.index] = (stream.lines, raw)
    else:
        invoke_index = typed.invoke_index
        if invoke_index is None or not isinstance(stream.in_flight.get(invoke_index), tuple):
            return False
        del stream.in_flight[invoke_index]
        scan.operations += 1
        if kind == "info":
            scan.info += 1
    time_s = typed.time_ns / 1e9
    stream.max_index = typed.index
    stream.max_time = time_s
    stream.events += 1
    wall = typed.wall
    if stream.diffs is not None and wall is not None:
        stream.diffs.append(float(wall) - time_s)
    return True


def _pair(stream: _Stream, event: Event, sink: Sink, scan: Scan) -> None:
    """Pair an invoke with its completion as soon as the completion is read."""
    if event.type == "marker":
        if event.name == "run.partial":
            scan.partial = True
        elif event.name == "worker.lost":
            _note_lost_worker(event, scan)
        sink.marker(event)
        return
    if event.type == "invoke":
        stream.in_flight[event.index] = event
        return
    invoke_index = event.invoke_index
    assert invoke_index is not None
    invoke = stream.in_flight.pop(invoke_index, None)
    if isinstance(invoke, tuple):  # kept as its line (skip_empty): built now
        line, raw = invoke
        invoke = _typed_event(raw, stream.file, line, stream.ids, stream.names)
        assert invoke is not None  # it was read as one
    if invoke is not None:
        _emit(invoke, event, invoke.time_s, sink, scan)
        return
    lost = invoke_index > stream.max_index or stream.gap_at(invoke_index) is not None
    if not lost or invoke_index in stream.referenced:
        stream.note(
            stream.pair_issues,
            f"file {stream.file} line {event.line}: invoke {invoke_index} was completed "
            "before or is not an invoke; this completion is ignored",
        )
        return
    # Its invoke line was lost: rebuild the operation from the completion.
    stream.referenced.add(invoke_index)
    lo = stream.time_before(invoke_index)
    op = _emit(None, event, lo, sink, scan)
    if op.thread_id is None and op.f not in _HARMLESS_OPS:
        # Rebuilt from a completion that names no thread: it may concern any thread.
        stream.phantoms.append(Phantom(stream.file, event.line, lo, event.time_s, frozenset()))


def _note_lost_worker(event: Event, scan: Scan) -> None:
    value = event.value if isinstance(event.value, Mapping) else {}
    worker, at_s = value.get("worker"), value.get("at_s")
    if isinstance(worker, int) and not isinstance(worker, bool) and worker > 0:
        scan.lost_workers[worker] = float(at_s) if isinstance(at_s, int | float) else math.nan


def _count_unpaired(stream: _Stream, scan: Scan) -> None:
    """Add ``stream``'s invokes without a completion to the scan: to
    :attr:`Scan.lost_in_flight` when a ``worker.lost`` marker (in any file) names the worker
    that wrote them, else to :attr:`Scan.unpaired`.

    Either way they are ``info`` (their outcome is unknown, whenever it happened: a request the
    dead worker sent may still take effect on the server after it died).
    """
    if not stream.unpaired:
        return
    worker = stream.header.get("worker") if stream.header is not None else None
    if not isinstance(worker, int) or isinstance(worker, bool) or worker not in scan.lost_workers:
        scan.unpaired += stream.unpaired
        return
    scan.lost_in_flight += stream.unpaired
    at_s = scan.lost_workers[worker]
    when = "" if math.isnan(at_s) else f" at {at_s:.1f} s"
    scan.issues.append(
        f"worker {worker} was lost{when}: its {stream.unpaired} operation(s) in flight are info"
        " (their outcome is unknown)"
    )


def _emit(
    invoke: Event | None, completion: Event | None, lo: float, sink: Sink, scan: Scan
) -> Operation:
    """Count an operation, note what the whole check needs of it, pass it on."""
    op = _operation(invoke, completion, lo)  # on the file's own clock
    scan.operations += 1
    if op.outcome == "info":
        scan.info += 1
        if op.f == "threads.copy" and isinstance(op.args.get("thread_id"), str):
            scan.copied_unknown.add(op.args["thread_id"])
    sink.operation(op)
    return op


def _find_phantoms(stream: _Stream) -> None:
    """One phantom per gap in the indexes that the broken lines there do not explain."""
    afters = [b.after_index for b in stream.broken]
    for gap in stream.gaps:
        missing = [i for i in range(gap.lo, gap.hi + 1) if i not in stream.referenced]
        if not missing:
            continue
        previous, index = gap.before_index, gap.after_index
        first = bisect.bisect_left(afters, previous)
        texts = [b for b in stream.broken[first:] if b.after_index < index]
        explained = len(texts) >= len(missing) and all(_harmless(b.text) for b in texts)
        if explained:
            continue
        lo = gap.before_time if previous >= 0 else 0.0
        threads = frozenset(m for b in texts for m in _SALVAGE_THREAD.findall(b.text))
        if len(texts) < len(missing):
            threads = frozenset()  # a line left no text at all: any thread
        line = texts[0].line if texts else gap.after_line
        stream.phantoms.append(Phantom(stream.file, line, lo, gap.after_time, threads))


def _align_clocks(streams: list[_Stream]) -> list[float]:
    """Each file's shift onto the first file's clock, from its wall-clock stamps."""
    if len(streams) < 2:
        return [0.0] * len(streams)
    medians: list[float | None] = []
    for stream in streams:
        diffs = stream.diffs
        medians.append(statistics.median(diffs) if diffs else None)
        stream.diffs = None
    base = next((m for m in medians if m is not None), None)
    offsets: list[float] = []
    for stream, median in zip(streams, medians, strict=True):
        if median is None or base is None:
            if stream.events:
                stream.read_issues.append(
                    f"file {stream.file}: no wall-clock stamps; its clock is not aligned with "
                    "the other files"
                )
            offsets.append(0.0)
            continue
        offsets.append(median - base)
    return offsets


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


# A frozen dataclass's __init__ sets each field through object.__setattr__, which made
# building an Event the largest cost of reading a history. Each is built instead as a
# mutable twin with the very same slots, whose plain __init__ sets them, and then becomes
# the frozen class (assigning __class__ between classes of one layout): the same objects
# (equal, hashable, immutable), built several times faster.


def _twin_slots(cls: type, names: tuple[str, ...]) -> tuple[str, ...]:
    """``names``, checked to be the slots of ``cls`` in order (the layouts must match)."""
    found = tuple(field.name for field in dataclasses.fields(cls))
    if found != names or tuple(getattr(cls, "__slots__", ())) != names:
        raise RuntimeError(f"{cls.__name__}'s fields are {found}, not {names}")
    return names


class _DraftEvent:
    __slots__ = _twin_slots(
        Event,
        (
            "file",
            "line",
            "index",
            "type",
            "time_s",
            "wall",
            "process",
            "actor",
            "scenario",
            "f",
            "name",
            "invoke_index",
            "value",
            "error",
        ),
    )

    def __init__(
        self,
        file: int,
        line: int,
        index: int,
        type_: str,
        time_s: float,
        wall: float | None,
        process: int | None,
        actor: int | None,
        scenario: str | None,
        f: str | None,
        name: str | None,
        invoke_index: int | None,
        value: Mapping[str, Any],
        error: Mapping[str, Any] | None,
    ) -> None:
        self.file = file
        self.line = line
        self.index = index
        self.type = type_
        self.time_s = time_s
        self.wall = wall
        self.process = process
        self.actor = actor
        self.scenario = scenario
        self.f = f
        self.name = name
        self.invoke_index = invoke_index
        self.value = value
        self.error = error
        self.__class__ = Event  # type: ignore[assignment]  # the same slots, frozen from now


class _DraftOperation:
    __slots__ = _twin_slots(
        Operation,
        ("f", "outcome", "invoke", "completion", "lo", "hi", "args", "result", "error"),
    )

    def __init__(
        self,
        f: str,
        outcome: Outcome,
        invoke: Event | None,
        completion: Event | None,
        lo: float,
        hi: float,
        args: Mapping[str, Any],
        result: Mapping[str, Any],
        error: Mapping[str, Any] | None,
    ) -> None:
        self.f = f
        self.outcome = outcome
        self.invoke = invoke
        self.completion = completion
        self.lo = lo
        self.hi = hi
        self.args = args
        self.result = result
        self.error = error
        self.__class__ = Operation  # type: ignore[assignment]  # the same slots, frozen from now


#: ``Event(...)`` and ``Operation(...)`` with these fields, built without their __init__.
_event: Final = cast("Callable[..., Event]", _DraftEvent)
_new_operation: Final = cast("Callable[..., Operation]", _DraftOperation)


_decode: Final = msgspec.json.Decoder().decode


def _parse(raw: bytes) -> dict[str, Any] | None:
    """A line's JSON object, or None.

    msgspec reads the bytes as they are (no text decoding first) several times faster than
    ``json``, with the same objects (integers past 64 bits included); what it refuses and
    ``json`` reads (``NaN``, ``1e400``, lone surrogates, bytes that are not UTF-8, read as
    U+FFFD) goes to ``json``.
    """
    try:
        obj = _decode(raw)
    except msgspec.DecodeError:
        try:
            obj = json.loads(raw.decode("utf-8", errors="replace"))
        except ValueError:
            return None
    return obj if isinstance(obj, dict) else None


class _Line(msgspec.Struct, gc=False):
    """A line of the usual shape, typed so that msgspec checks the types while decoding.

    What it accepts, :func:`_to_event` reads the same way from the line's dict; anything
    else (a header, a missing or mistyped field, a bool where an int belongs, what only
    ``json`` reads) fails here and goes the general way.
    """

    index: int
    type: str
    time_ns: int
    wall: float | int | None = None
    process: int | None = None
    actor: int | None = None
    scenario: str | None = None
    f: str | None = None
    name: str | None = None
    invoke_index: int | None = None
    value: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


_decode_line: Final = msgspec.json.Decoder(_Line).decode


def _typed_event(
    raw: bytes, file: int, line: int, ids: Callable[[str], str], names: Callable[[str], str]
) -> Event | None:
    """``_to_event(_parse(raw), ...)`` for a line of the usual shape; None for any other
    line (which the caller then reads the general way)."""
    obj = _typed_line(raw)
    return None if obj is None else _line_event(obj, file, line, ids, names)


def _typed_line(raw: bytes) -> _Line | None:
    """A line of the usual shape, decoded and checked (see :func:`_typed_event`)."""
    try:
        obj = _decode_line(raw)
    except msgspec.DecodeError:  # ValidationError included
        return None
    kind = obj.type
    if kind == "marker":
        if obj.name is None:
            return None
    elif kind not in _EVENT_TYPES or obj.f is None:
        return None
    if obj.invoke_index is None and kind in _COMPLETIONS:
        return None
    return obj


def _line_event(
    obj: _Line, file: int, line: int, ids: Callable[[str], str], names: Callable[[str], str]
) -> Event:
    """The event of a line :func:`_typed_line` accepted."""
    kind = obj.type
    f = obj.f
    name = obj.name
    wall = obj.wall
    if wall is not None:
        wall = float(wall)
    value = obj.value
    if value is None:
        value = {}
    scenario = obj.scenario
    return _event(
        file,
        line,
        obj.index,
        kind,
        obj.time_ns / 1e9,
        wall,
        obj.process,
        obj.actor,
        None if scenario is None else names(scenario),
        None if f is None else names(f),
        None if name is None else names(name),
        obj.invoke_index,
        # An empty value (a raw HTTP step's, half of many histories) is as slim as it gets.
        value if kind == "marker" or not value else _slim(value, ids, names),
        obj.error,
    )


def _snippet(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\n")[:_SNIPPET_CHARS]


def _check_header(header: Mapping[str, Any], path: Path, unknown: list[str]) -> None:
    version = header.get("schema_version")
    if version != HISTORY_SCHEMA_VERSION:
        unknown.append(
            f"{path}: history schema_version {version!r} is not {HISTORY_SCHEMA_VERSION}, "
            "which this checker reads"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_event(
    obj: Mapping[str, Any],
    file: int,
    line: int,
    ids: Callable[[str], str] = sys.intern,
    names: Callable[[str], str] = sys.intern,
) -> Event | None:
    kind = obj.get("type")
    index = obj.get("index")
    time_ns = obj.get("time_ns")
    if not isinstance(kind, str) or kind not in _EVENT_TYPES:  # an object or list is no type
        return None
    if not isinstance(index, int) or isinstance(index, bool):
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
    return _event(
        file,
        line,
        index,
        kind,
        time_ns / 1e9,
        float(wall) if isinstance(wall, int | float) and not isinstance(wall, bool) else None,
        process if _is_int(process) else None,
        actor if _is_int(actor) else None,
        names(scenario) if isinstance(scenario, str) else None,
        names(f) if isinstance(f, str) else None,
        names(name) if isinstance(name, str) else None,
        invoke_index if _is_int(invoke_index) else None,
        value if kind == "marker" else _slim(value, ids, names),
        error,
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
        "threads",
        "tokens",
        "has_values",
        "error",
        "error_event",
        "events",
        "has_input",
        "metadata",
        "reply",
        # Tenant isolation ([target.auth]): the user, what the answer said of owners.
        "user",
        "owner",
        "found",
        "namespace",
        "namespace_prefix",
        "prefix",
        "key",
    }
)


def _names() -> Callable[[str], str]:
    """Shares operation names, scenarios and field names (a few dozen in any history)
    without the interpreter's intern table, whose resizes would cost a spilling pass
    memory at random moments; capped so arbitrary junk cannot grow it."""
    seen: dict[str, str] = {}

    def share(text: str) -> str:
        found = seen.get(text)
        if found is None:
            if len(seen) < 4096:
                seen[text] = text
            return text
        return found

    return share


def _interned(value: object, intern: Callable[[str], str]) -> object:
    return intern(value) if isinstance(value, str) else value


def _slim(
    value: Mapping[str, Any],
    intern: Callable[[str], str] = sys.intern,
    names: Callable[[str], str] = sys.intern,
) -> dict[str, Any]:
    """Keep the fields the checkers read, with ids and tokens interned (they repeat)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _KEPT_FIELDS:
            continue
        if key == "runs" and isinstance(item, list):
            item = [
                {k: _interned(run.get(k), intern) for k in ("run_id", "status") if k in run}
                if isinstance(run, dict)
                else run
                for run in item
            ]
        elif key == "tokens" and isinstance(item, list):
            item = [_interned(token, intern) for token in item]
        elif key == "threads" and isinstance(item, list):  # threads.search: thread reads
            item = [
                _slim(found, intern, names) if isinstance(found, dict) else found for found in item
            ]
        else:
            item = _interned(item, intern)
        out[names(key)] = item
    return out


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
    return _new_operation(
        f,
        outcome,
        invoke,
        completion,
        lo,
        max(hi, lo),
        invoke.value if invoke is not None else {},
        completion.value if completion is not None else {},
        completion.error if completion is not None else None,
    )


def _harmless(text: str) -> bool:
    """Whether a broken line's surviving text shows it cannot have affected a run."""
    kind = _SALVAGE_TYPE.search(text)
    if kind is not None and kind.group(1) in {"ok", "fail", "info", "marker", "header"}:
        return True
    f = _SALVAGE_F.search(text)
    return f is not None and f.group(1) in _HARMLESS_OPS
