"""A history spilled to disk by thread, so the checker holds one part of it at a time.

The checker judges each thread on its own (a thread's model needs only that thread's
operations and burst markers). :class:`Spill` is the :class:`~lgbench.check._reader.Sink`
of the streaming pass: it appends each operation to one of a bounded number of partition
files, chosen by a hash of its thread id, and records every run creation in a small on-disk
index (run id → thread), the one fact a thread's check needs from other threads.
:meth:`Spill.partitions` then loads one partition at a time; a partition larger than
``partition_bytes`` is split again by a differently salted hash first, so memory is bounded
by ``partition_bytes`` (times the in-memory expansion of a pickled operation: about 12) or by
the largest single thread, whichever is larger, plus a fixed cost (write buffers, the index's
insert batch) and the result itself (a few hundred bytes per thread).

Files live in a temporary folder (``TMPDIR`` chooses where) removed by :meth:`Spill.close`.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, final

from lgbench.check._events import CREATING_OPS, Event, Operation, thread_reads
from lgbench.check._reader import History, Scan, marker_key, operation_key

__all__ = ["DEFAULT_PARTITION_BYTES", "RunIndex", "Spill"]

#: Spilled bytes a partition may hold before it is split again (in memory: about 12x).
DEFAULT_PARTITION_BYTES: Final = 4 << 20
#: Partition files written at once: the open-file cost of spilling.
_FANOUT: Final = 32
_BITS: Final = 5  # log2(_FANOUT)
#: Splits of one partition at most (32**4 partitions is past any real history).
_MAX_DEPTH: Final = 4
_BUFFER_BYTES: Final = 1 << 13
_INSERT_BATCH: Final = 1024
_BURST_MARKERS: Final = frozenset({"burst.start", "burst.settled"})

_EventTuple = tuple[Any, ...]


def _pack(event: Event | None) -> _EventTuple | None:
    if event is None:
        return None
    return (
        event.file,
        event.line,
        event.index,
        event.type,
        event.time_s,
        event.wall,
        event.process,
        event.actor,
        event.scenario,
        event.f,
        event.name,
        event.invoke_index,
        event.value,
        event.error,
    )


def _unpack(packed: _EventTuple | None, memo: dict[str, str], *, slim: bool) -> Event | None:
    """Rebuild an event, its repeated ids shared through ``memo`` (one per partition: the
    interpreter's own intern table would only grow and churn)."""
    if packed is None:
        return None
    (file, line, index, kind, time_s, wall, process, actor, scenario, f, name, ii, value, err) = (
        packed
    )
    if slim:
        value = {_shared(k, memo): _share(k, v, memo) for k, v in value.items()}
    return Event(
        file=file,
        line=line,
        index=index,
        type=str(_shared(kind, memo)),
        time_s=time_s,
        wall=wall,
        process=process,
        actor=actor,
        scenario=_shared(scenario, memo),  # type: ignore[arg-type]
        f=_shared(f, memo),  # type: ignore[arg-type]
        name=_shared(name, memo),  # type: ignore[arg-type]
        invoke_index=ii,
        value=value,
        error=err,
    )


def _shared(item: object, memo: dict[str, str]) -> object:
    return memo.setdefault(item, item) if isinstance(item, str) else item


def _share(key: str, item: object, memo: dict[str, str]) -> object:
    if key == "runs" and isinstance(item, list):
        return [
            {k: _shared(v, memo) for k, v in run.items()} if isinstance(run, dict) else run
            for run in item
        ]
    if key == "tokens" and isinstance(item, list):
        return [_shared(token, memo) for token in item]
    if key == "threads" and isinstance(item, list):
        return [
            {k: _share(k, v, memo) for k, v in found.items()} if isinstance(found, dict) else found
            for found in item
        ]
    return _shared(item, memo)


def _bucket(thread_id: str, depth: int) -> int:
    # Each depth takes the next 5 bits of the id's SipHash, so a split separates ids that
    # collided before. (A CRC reseeded per depth would not: it is linear, and equally long
    # ids would collide again.) Partitions live only as long as this process, so the
    # per-process hash seed does no harm.
    return (hash(thread_id) >> (_BITS * depth)) & (_FANOUT - 1)


@final
class RunIndex(Mapping[str, str]):
    """Run id → the thread a create put it on, on disk (SQLite), for every thread.

    When creates on several threads name one run id, the greatest thread id wins, as when
    the checker walks every thread in sorted order.
    """

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE creations (run_id TEXT NOT NULL, thread_id TEXT NOT NULL)")
        self._pending: list[tuple[str, str]] = []
        self._sealed = False

    def add(self, run_id: str, thread_id: str) -> None:
        self._pending.append((run_id, thread_id))
        if len(self._pending) >= _INSERT_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._db.executemany("INSERT INTO creations VALUES (?, ?)", self._pending)
            self._pending.clear()

    def seal(self) -> None:
        """Every creation is in: index them for lookups."""
        if not self._sealed:
            self._flush()
            self._db.execute("CREATE INDEX by_run ON creations (run_id, thread_id)")
            self._db.commit()
            self._sealed = True

    def __getitem__(self, run_id: str) -> str:
        self.seal()
        row = self._db.execute(
            "SELECT max(thread_id) FROM creations WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None or row[0] is None:
            raise KeyError(run_id)
        return str(row[0])

    def __iter__(self) -> Iterator[str]:
        self.seal()
        for (run_id,) in self._db.execute("SELECT DISTINCT run_id FROM creations ORDER BY run_id"):
            yield str(run_id)

    def __len__(self) -> int:
        self.seal()
        (count,) = self._db.execute("SELECT count(DISTINCT run_id) FROM creations").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()


@final
class Spill:
    """The spilling :class:`~lgbench.check._reader.Sink`; a context manager.

    Operations that name no thread are not kept: no thread's check reads them (the
    streaming pass already counted them and noted what the whole check needs).
    """

    def __init__(self, partition_bytes: int = DEFAULT_PARTITION_BYTES) -> None:
        if partition_bytes < 1:
            raise ValueError(f"partition_bytes must be at least 1, got {partition_bytes}")
        self.partition_bytes = partition_bytes
        self._tmp = tempfile.TemporaryDirectory(prefix="lgbench-check-")
        self.folder = Path(self._tmp.name)
        self._folder = self._tmp.name
        self._files: dict[int, IO[bytes]] = {}
        self._written: set[int] = set()
        self.runs = RunIndex(self.folder / "runs.sqlite")
        #: How many partitions were loaded, and the largest one in spilled bytes.
        self.loaded = 0
        self.largest_bytes = 0

    # -- the sink ---------------------------------------------------------------------------

    def operation(self, op: Operation) -> None:
        for read in thread_reads(op):  # a search's answer goes to every thread it read
            self._operation(read)

    def _operation(self, op: Operation) -> None:
        thread_id = op.thread_id
        if thread_id is None:
            return
        if op.f in CREATING_OPS and op.outcome != "fail":
            run_id = op.result.get("run_id")
            if isinstance(run_id, str) and run_id:
                self.runs.add(run_id, thread_id)
        self._write(thread_id, (0, _pack(op.invoke), _pack(op.completion), op.lo))

    def marker(self, event: Event) -> None:
        thread_id = event.value.get("thread_id")
        if event.name in _BURST_MARKERS and isinstance(thread_id, str) and thread_id:
            self._write(thread_id, (1, _pack(event)))

    def _write(self, thread_id: str, record: tuple[Any, ...]) -> None:
        bucket = _bucket(thread_id, 0)
        out = self._files.get(bucket)
        if out is None:
            self._written.add(bucket)
            # Open until partitions() or close(): a with-block cannot span the pass.
            out = open(self._path(0, bucket), "wb", buffering=_BUFFER_BYTES)  # noqa: SIM115
            self._files[bucket] = out
        pickle.dump((thread_id, record), out, protocol=pickle.HIGHEST_PROTOCOL)

    def _path(self, depth: int, bucket: int, parent: str = "") -> str:
        # Plain strings, not Path: pathlib interns every part of every name it parses, and
        # thousands of partition names would grow the interpreter's intern table for good.
        return os.path.join(self._folder, f"part{parent}-{depth}-{bucket:02d}.pickle")

    # -- reading back -----------------------------------------------------------------------

    def partitions(self, scan: Scan) -> Iterator[History]:
        """Each partition as a :class:`History` of its operations and burst markers, on the
        merged clock and in the order :func:`~lgbench.check.read_history` gives them."""
        for out in self._files.values():
            out.close()
        self._files.clear()
        self.runs.seal()
        queue = [(self._path(0, bucket), 0) for bucket in sorted(self._written)]
        while queue:
            path, depth = queue.pop()
            size = os.path.getsize(path)
            if size > self.partition_bytes and depth < _MAX_DEPTH:
                children = self._split(path, depth + 1)
                if children is not None:
                    queue.extend((child, depth + 1) for child in children)
                    continue
            history = self._load(path, scan)
            os.unlink(path)
            self.loaded += 1
            self.largest_bytes = max(self.largest_bytes, size)
            yield history
            del history  # before the next partition is loaded, not after

    def _split(self, path: str, depth: int) -> list[str] | None:
        """Split ``path`` by a hash salted with ``depth``; None when it holds one thread."""
        outs: dict[int, IO[bytes]] = {}
        first: str | None = None
        several = False
        try:
            for thread_id, record in _records(path):
                if first is None:
                    first = thread_id
                elif thread_id != first:
                    several = True
                bucket = _bucket(thread_id, depth)
                out = outs.get(bucket)
                if out is None:
                    stem = os.path.basename(path)[len("part") : -len(".pickle")]
                    child = self._path(depth, bucket, parent=stem)
                    out = outs[bucket] = open(child, "wb", buffering=_BUFFER_BYTES)  # noqa: SIM115
                pickle.dump((thread_id, record), out, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            for out in outs.values():
                out.close()
        children = [str(out.name) for out in outs.values()]
        if not several:  # one thread: splitting cannot make it smaller
            for child in children:
                os.unlink(child)
            return None
        os.unlink(path)
        return children

    def _load(self, path: str, scan: Scan) -> History:
        operations: list[Operation] = []
        markers: list[Event] = []
        memo: dict[str, str] = {}
        for _, record in _records(path):
            if record[0] == 0:
                _, invoke, completion, lo = record
                operations.append(
                    scan.rebuild(
                        _unpack(invoke, memo, slim=True), _unpack(completion, memo, slim=True), lo
                    )
                )
            else:
                marker = _unpack(record[1], memo, slim=False)
                assert marker is not None
                markers.append(scan.shift(marker))
        operations.sort(key=operation_key)
        markers.sort(key=marker_key)
        return History(
            paths=scan.paths,
            headers=scan.headers,
            operations=operations,
            markers=markers,
            segments=scan.segments,
        )

    # -- closing ----------------------------------------------------------------------------

    def close(self) -> None:
        """Remove every spilled file (idempotent)."""
        for out in self._files.values():
            out.close()
        self._files.clear()
        self.runs.close()
        self._tmp.cleanup()

    def __enter__(self) -> Spill:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _records(path: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
    with open(path, "rb", buffering=_BUFFER_BYTES) as stream:
        while True:
            try:
                yield pickle.load(stream)
            except EOFError:
                return
