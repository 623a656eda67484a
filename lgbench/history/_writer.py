"""The history writer: ``history.jsonl``, each line in the file before the next request goes
out (docs/history.md).

One :class:`HistoryWriter` per run. It assigns every line its ``index`` (unique, ascending
from 0 in file order), stamps ``time_ns`` (monotonic nanoseconds since the run started, from
the clock it is given) and ``wall`` (seconds since the epoch), and hands out process ids.
Nothing here awaits, so a completion can be recorded from a cancelled task (no checkpoint in
between). :meth:`HistoryWriter.open` opens the file unbuffered: an ``invoke`` line (its
request goes out next) or a marker is handed to ``os.write`` at once, together with the
completion lines kept since the last write, so a request is never sent before every line
before it is in the file (the OS page cache). A completion alone waits for the next such
line, :meth:`HistoryWriter.flush` (the runner's, once per interval) or
:meth:`HistoryWriter.close`: killing lgbench can lose only completions that no request
followed, which leaves the file an earlier kill would have left. :meth:`HistoryWriter.sync`
(fsync), called once per interval by the runner, bounds what a machine crash can lose. A text
stream (tests) gets every line written and flushed at once.

Rotation (``rotate_bytes``): once the live file passes that size it is renamed to the next
numbered segment (``history-0001.jsonl`` …) and a fresh live file continues it, with a header
naming the segment it continues; a worker thread compresses each finished segment to
``history-NNNN.jsonl.gz`` and removes the plain one only after the ``.gz`` is complete and
fsynced, so at every instant the segment exists whole in one of the two forms.

Failure modes: :class:`OSError` from the file system propagates (the run cannot be
recorded); a value that JSON cannot represent raises :class:`TypeError` or
:class:`ValueError` before anything is written, so the file never holds half a line.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Literal, TypeAlias, final

import msgspec

import lgbench
from lgbench.history._segments import segment_path

__all__ = [
    "HISTORY_SCHEMA_VERSION",
    "CompletionType",
    "HistoryWriter",
    "Invocation",
]

HISTORY_SCHEMA_VERSION: Final = 1
"""The ``schema_version`` written in the header line."""

#: How an operation ended: took effect, certainly did not, or unknown.
CompletionType: TypeAlias = Literal["ok", "fail", "info"]

_COMPLETIONS: Final = frozenset({"ok", "fail", "info"})
_encode: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_encode_natively: Final = msgspec.json.Encoder().encode
#: Types msgspec writes exactly as ``_encode`` does. Floats only between 1e-4 and 1e16 (and
#: zero), where both write the shortest repr without an exponent; outside it msgspec writes
#: ``1e16`` and ``0.00001`` where json writes ``1e+16`` and ``1e-05``, and NaN as null where
#: json refuses it.
_SCALARS: Final = frozenset({str, int, bool, type(None)})

#: gzip level of rotated segments: JSON lines compress ~8x even at a low level, and the
#: compressing thread shares two cores with the run.
_GZIP_LEVEL: Final = 3
_COPY_CHUNK: Final = 1 << 20

#: ``"scenario":…,"f":…`` per (scenario, f): a run has few of them.
_scenario_f: dict[tuple[str, str], str] = {}


def _int(number: int) -> str:
    # What the encoder writes for an int, without its call overhead.
    return int.__repr__(number) if type(number) is int else _encode(number)


def _float(number: float) -> str:
    # The encoder writes a finite float as its repr, which msgspec writes 5x faster in the
    # range where neither uses an exponent; anything else goes through the encoder.
    if type(number) is float:
        if 1e-4 <= abs(number) < 1e16 or number == 0.0:
            return _encode_natively(number).decode()
        if number - number == 0.0:
            return float.__repr__(number)
    return _encode(number)


def _plain(item: Any) -> bool:
    """Whether msgspec writes ``item`` as the encoder does: dicts with str keys, lists, str,
    int, bool, None, and floats between 1e-4 and 1e16 (or zero)."""
    kind = type(item)
    if kind in _SCALARS:
        return True
    if kind is float:
        number: float = abs(item)
        return 1e-4 <= number < 1e16 or number == 0.0
    if kind is dict:
        for key, child in item.items():
            if type(key) is not str or not (type(child) in _SCALARS or _plain(child)):
                return False
        return True
    if kind is list:
        return all(type(child) in _SCALARS or _plain(child) for child in item)
    return False


def _value(value: Mapping[str, Any] | None) -> str:
    """``value`` (or ``error``) as the encoder writes it: msgspec's bytes when they are the
    same (see :func:`_plain`), else the encoder's."""
    if value is None:
        return "null"
    if type(value) is dict:
        if not value:
            return "{}"
        if _plain(value):
            return _encode_natively(value).decode()
    return _encode(value)


#: ``_fields``' texts per (process, actor, scenario, f): an actor makes the same one for every
#: call until its process changes. Bounded: emptied when full (a run with more actors than
#: this pays a refill now and then, never the memory).
_field_texts: dict[tuple[int, int, str, str], str] = {}
_MAX_FIELD_TEXTS: Final = 4096


def _fields(process: int, actor: int, scenario: str, f: str) -> str:
    """The part of an invoke line its completion repeats, as the encoder writes it."""
    cacheable = type(process) is int and type(actor) is int  # True == 1, but not in JSON
    if cacheable:
        text = _field_texts.get((process, actor, scenario, f))
        if text is not None:
            return text
    key = (scenario, f)
    tail = _scenario_f.get(key)
    if tail is None:
        tail = _encode({"scenario": scenario, "f": f})[1:-1]
        if len(_scenario_f) < 4096:
            _scenario_f[key] = tail
    text = f'"process":{_int(process)},"actor":{_int(actor)},{tail}'
    if cacheable:
        if len(_field_texts) >= _MAX_FIELD_TEXTS:
            _field_texts.clear()
        _field_texts[process, actor, scenario, f] = text
    return text


@final
class Invocation:
    """An ``invoke`` line that awaits its completion: what the completion line repeats."""

    __slots__ = (
        "_fields",
        "actor",
        "completed",
        "f",
        "index",
        "process",
        "scenario",
        "time_ns",
    )

    def __init__(
        self, index: int, time_ns: int, process: int, actor: int, scenario: str, f: str
    ) -> None:
        self.index = index
        self.time_ns = time_ns
        self.process = process
        self.actor = actor
        self.scenario = scenario
        self.f = f
        self.completed = False
        self._fields: str | None = None

    def fields(self) -> str:
        """``"process":…,"actor":…,"scenario":…,"f":…`` as JSON, encoded once."""
        fields = self._fields
        if fields is None:
            fields = self._fields = _fields(self.process, self.actor, self.scenario, self.f)
        return fields

    def __repr__(self) -> str:
        return f"<Invocation {self.index} {self.f} process={self.process}>"


@final
class HistoryWriter:
    """Writes one run's ``history.jsonl``.

    ``clock`` returns monotonic seconds (``anyio.current_time``); ``origin_s`` is the run's
    start on that clock, so ``time_ns`` counts from it. Use as a context manager or call
    :meth:`close`. :meth:`open` creates the file and writes the header.
    """

    __slots__ = (
        "_clock",
        "_closed",
        "_compressions",
        "_compressor",
        "_errors",
        "_fd",
        "_header",
        "_index",
        "_next_process",
        "_out",
        "_pending",
        "_process_step",
        "_rotate_at",
        "_segment",
        "_size",
        "origin_s",
        "path",
    )

    def __init__(
        self,
        out: IO[str] | io.FileIO,
        *,
        clock: Callable[[], float],
        origin_s: float,
        path: Path | None = None,
    ) -> None:
        self._out = out
        # An unbuffered binary file gets each line in one os.write; a text stream gets
        # write + flush.
        self._fd = out.fileno() if isinstance(out, io.FileIO) else None
        self._clock = clock
        self.origin_s = origin_s
        self.path = path
        self._index = 0
        self._next_process = 0
        self._process_step = 1
        self._closed = False
        # Rotation state: off (never reached) unless open() was given rotate_bytes.
        self._rotate_at = sys.maxsize
        self._size = 0
        self._segment = 0
        self._header: dict[str, Any] = {}
        self._compressor: ThreadPoolExecutor | None = None
        self._compressions: list[Future[None]] = []
        self._errors: list[str] = []
        # Completion lines not yet written (see _write_text): bytes, in file order.
        self._pending: list[bytes] = []

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        clock: Callable[[], float],
        origin_s: float,
        header: Mapping[str, Any],
        rotate_bytes: int | None = None,
    ) -> HistoryWriter:
        """Create (truncate) ``path`` and write the header line with ``header``'s fields.

        The header gets ``type``, ``schema_version``, ``lgbench_version`` and
        ``started_at`` (now, ISO 8601 UTC) unless ``header`` gives them.

        ``rotate_bytes``: once the file passes this many bytes it becomes the next segment
        (``<stem>-0001.jsonl``, compressed to ``.gz`` by a worker thread) and a fresh
        ``path`` continues it; every header then carries ``segment`` (from 1), and the
        continuing ones ``continues`` (the previous segment's number) and ``first_index``.
        Raises :class:`ValueError` for a ``rotate_bytes`` below 1 and
        :class:`FileExistsError` when segments of an earlier history lie beside ``path``.
        """
        if rotate_bytes is not None:
            if isinstance(rotate_bytes, bool) or not isinstance(rotate_bytes, int):
                raise ValueError(f"rotate_bytes must be an int, got {rotate_bytes!r}")
            if rotate_bytes < 1:
                raise ValueError(f"rotate_bytes must be at least 1, got {rotate_bytes}")
            for compressed in (False, True):
                stale = segment_path(path, 1, compressed=compressed)
                if stale.exists():
                    raise FileExistsError(f"{stale} exists: a rotated history is already there")
        out = io.FileIO(path, "w")
        writer = cls(out, clock=clock, origin_s=origin_s, path=path)
        if rotate_bytes is not None:
            writer._rotate_at = rotate_bytes
            writer._segment = 1
            header = {**header, "segment": 1}
        try:
            writer.write_header(header)
        except BaseException:
            out.close()
            raise
        return writer

    # -- lines ----------------------------------------------------------------------------

    def write_header(self, fields: Mapping[str, Any]) -> None:
        """The first line (no index): ``{"type": "header", "schema_version": 1, ...}``."""
        line = {
            "type": "header",
            "schema_version": HISTORY_SCHEMA_VERSION,
            "lgbench_version": lgbench.__version__,
            "started_at": datetime.now(UTC).isoformat(),
            **fields,
        }
        self._header = line
        self._write(line, indexed=False)

    def new_process(self) -> int:
        """A process id never handed out before in this run (from 0, or as
        :meth:`stripe_processes` says)."""
        process = self._next_process
        self._next_process += self._process_step
        return process

    def stripe_processes(self, first: int, step: int) -> None:
        """Hand out process ids ``first, first + step, ...``: one run's several history files
        (one per worker process, ``first`` its number, ``step`` their count) never share an id.
        """
        if step < 1 or not 0 <= first < step:
            raise ValueError(f"need 0 <= first < step, got first={first}, step={step}")
        self._next_process = first
        self._process_step = step

    def now_ns(self) -> int:
        """Monotonic nanoseconds since the run's start."""
        return self.to_ns(self._clock())

    def to_ns(self, clock_s: float) -> int:
        """A time on the clock, as nanoseconds since the run's start."""
        return round((clock_s - self.origin_s) * 1e9)

    def invoke(
        self,
        *,
        process: int,
        actor: int,
        scenario: str,
        f: str,
        value: Mapping[str, Any] | None,
        at_s: float | None = None,
    ) -> Invocation:
        """Write an ``invoke`` line; returns the :class:`Invocation` to complete later.

        ``at_s`` is when it was invoked on the clock (default: now).
        """
        # to_ns inline: round() gives an int, which an f-string writes as the encoder does.
        time_ns = round(((self._clock() if at_s is None else at_s) - self.origin_s) * 1e9)
        index = self._index
        invocation = Invocation(index, time_ns, process, actor, scenario, f)
        # _float's test inline (two lines per request): the wall clock is always in the
        # range where msgspec writes a float as the encoder does.
        wall = time.time()
        wall_text = _encode_natively(wall).decode() if 1e-4 <= wall < 1e16 else _float(wall)
        # Built as the encoder would write the dict, in the same key order; anything that
        # cannot be encoded raises here, before the line is written.
        self._write_text(
            f'{{"index":{index},"type":"invoke","time_ns":{time_ns},'
            f'"wall":{wall_text},{invocation.fields()},'
            f'"value":{_value(value)},"error":null}}\n'
        )
        return invocation

    def complete(
        self,
        invocation: Invocation,
        type_: CompletionType,
        *,
        value: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
        at_s: float | None = None,
    ) -> int:
        """Write the completion of ``invocation`` (``ok``, ``fail`` or ``info``); its index.

        Each invocation completes once: a second completion is a programming error
        (:class:`RuntimeError`).
        """
        if type_ not in _COMPLETIONS:
            raise ValueError(f"a completion is ok, fail or info, not {type_!r}")
        if invocation.completed:
            raise RuntimeError(f"{invocation!r} is already complete")
        time_ns = round(((self._clock() if at_s is None else at_s) - self.origin_s) * 1e9)
        index = self._index
        wall = time.time()
        wall_text = _encode_natively(wall).decode() if 1e-4 <= wall < 1e16 else _float(wall)
        # Every number here is an int (an index, a round()): the f-string writes it as the
        # encoder would.
        self._write_text(
            f'{{"index":{index},"type":"{type_}","time_ns":{time_ns},'
            f'"wall":{wall_text},{invocation.fields()},'
            f'"invoke_index":{invocation.index},'
            f'"value":{_value(value)},"error":{_value(error)}}}\n',
            flush=False,
        )
        invocation.completed = True
        return index

    def marker(self, name: str, *, scenario: str, value: Mapping[str, Any] | None = None) -> int:
        """Write a ``marker`` line (``burst.start``, ``burst.settled``, ``run.partial``)."""
        index = self._index
        self._write(
            {
                "index": index,
                "type": "marker",
                "time_ns": self.now_ns(),
                "wall": time.time(),
                "name": name,
                "scenario": scenario,
                "value": value,
            }
        )
        return index

    @property
    def lines_written(self) -> int:
        """Indexed lines written so far (the header not counted)."""
        return self._index

    def _write(self, line: Mapping[str, Any], *, indexed: bool = True) -> None:
        self._write_text(_encode(line) + "\n", indexed=indexed)  # encodes before writing

    def _write_text(self, text: str, *, indexed: bool = True, flush: bool = True) -> None:
        """Write one finished line (``text`` ends with its newline).

        ``flush=False`` (completions) may leave it in memory, in order, until the next line
        written with ``flush`` (invokes, markers), :meth:`flush` or :meth:`close`.
        """
        if self._closed:
            raise RuntimeError("the history is closed")
        fd = self._fd
        if fd is None:
            out = self._out
            assert not isinstance(out, io.FileIO)
            out.write(text)
            out.flush()
            if indexed:
                self._index += 1
            return
        data = text.encode()  # raises (a lone surrogate) before anything is written
        if not indexed:
            self._flush()
            self._write_all(data)
            self._size += len(data)
            if self._size > self._rotate_at:
                self._rotate()
            return
        pending = self._pending
        pending.append(data)
        self._index += 1
        if not flush:
            return
        # _flush's common case inline (an invoke line per request): no rotation among them.
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        size = self._size + len(data)
        if size > self._rotate_at:
            self._flush()
            return
        self._pending = []
        written = os.write(fd, data)
        if written < len(data):  # a regular file takes it all; a pipe may not
            self._write_all(data[written:])
        self._size = size

    def _flush(self) -> None:
        """Write the lines kept in memory: one ``write(2)``, unless the file rotates among them."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        if self._size + len(data) <= self._rotate_at:
            self._write_all(data)
            self._size += len(data)
            return
        # The file rotates after one of these lines: line by line, as if each were written
        # alone, so that segments end where they always did.
        first = self._index - len(pending)
        for number, line in enumerate(pending, start=1):
            self._write_all(line)
            self._size += len(line)
            if self._size > self._rotate_at:
                self._rotate(first + number)

    def _write_all(self, data: bytes) -> None:
        fd = self._fd
        assert fd is not None
        written = os.write(fd, data)
        while written < len(data):  # a regular file takes it all; a pipe may not
            written += os.write(fd, data[written:])

    # -- rotation and durability -----------------------------------------------------------

    def _rotate(self, first_index: int | None = None) -> None:
        """Close the live file, rename it to the next segment, continue in a fresh one whose
        first indexed line is ``first_index`` (default: the next one)."""
        path = self.path
        assert path is not None  # rotation is only switched on by open(), which sets it
        self._out.close()
        number = self._segment
        plain = segment_path(path, number)
        os.rename(path, plain)
        self._segment = number + 1
        out = io.FileIO(path, "w")
        self._out = out
        self._fd = out.fileno()
        header = {
            **self._header,
            "segment": number + 1,
            "continues": number,
            "first_index": self._index if first_index is None else first_index,
        }
        data = (_encode(header) + "\n").encode()
        self._write_all(data)
        self._size = len(data)
        if self._compressor is None:
            # A thread, not the event loop: compressing a segment takes far longer than a
            # line may wait, and zlib releases the GIL while it works.
            self._compressor = ThreadPoolExecutor(1, thread_name_prefix="lgbench-history-gz")
        self._compressions.append(self._compressor.submit(_compress, plain))

    def flush(self) -> None:
        """Write the completion lines kept in memory (see :meth:`_write_text`) now.

        Like every other method but :meth:`sync`, only on the thread that writes the lines:
        the runner calls it on the event loop once per interval, before :meth:`sync`.
        """
        if not self._closed and self._fd is not None:
            self._flush()

    def sync(self) -> None:
        """fsync the live file: what was written survives a machine crash (not only a kill).

        Every line handed to the kernel is in the OS page cache; this makes it durable. The
        runner calls it once per interval, in a worker thread (so it writes nothing itself:
        :meth:`flush` first, on the writer's thread). A no-op once closed or for a stream
        without a file.
        """
        if self._closed:
            return
        if self._fd is not None:
            os.fsync(self._fd)
            return
        out = self._out
        out.flush()
        try:
            fd = out.fileno()
        except (OSError, io.UnsupportedOperation):
            return
        os.fsync(fd)

    @property
    def segments(self) -> int:
        """Segments finished so far (0 without rotation)."""
        return max(self._segment - 1, 0)

    @property
    def compression_errors(self) -> tuple[str, ...]:
        """Segments whose compression failed (their plain file stays, whole), once closed."""
        return tuple(self._errors)

    # -- closing ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Close the file and wait for pending compression (idempotent).

        A failed compression does not raise: the plain segment stays whole and readable;
        :attr:`compression_errors` says which.
        """
        if not self._closed:
            self._closed = True
            try:
                if self._fd is not None:
                    self._flush()
            finally:
                self._out.close()
        compressor, self._compressor = self._compressor, None
        if compressor is not None:
            compressor.shutdown(wait=True)
            for future in self._compressions:
                exc = future.exception()
                if exc is not None:
                    self._errors.append(f"{type(exc).__name__}: {exc}")
            self._compressions.clear()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f" {self.path}" if self.path is not None else ""
        return f"<HistoryWriter{where} lines={self._index}>"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _compress(plain: Path) -> None:
    """``plain`` → ``plain.gz``, fsynced and in place before ``plain`` is removed.

    Written under a ``.tmp`` name first, so a ``.gz`` that exists is complete: a kill at any
    moment leaves the plain segment or the whole ``.gz`` (and at worst both).
    """
    gz = plain.with_name(plain.name + ".gz")
    tmp = plain.with_name(plain.name + ".gz.tmp")
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
    with plain.open("rb") as source, tmp.open("wb") as target:
        while chunk := source.read(_COPY_CHUNK):
            target.write(compressor.compress(chunk))
        target.write(compressor.flush())
        target.flush()
        os.fsync(target.fileno())
    os.replace(tmp, gz)
    _fsync_dir(plain.parent)  # the .gz's name is durable before the plain one goes
    plain.unlink()
    _fsync_dir(plain.parent)
