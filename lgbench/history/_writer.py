"""The history writer: ``history.jsonl`` appended and flushed line by line (docs/history.md).

One :class:`HistoryWriter` per run. It assigns every line its ``index`` (unique, ascending
from 0 in file order), stamps ``time_ns`` (monotonic nanoseconds since the run started, from
the clock it is given) and ``wall`` (seconds since the epoch), and hands out process ids.
Nothing here awaits: a line is written and flushed synchronously, so a completion can be
recorded from a cancelled task (no checkpoint in between) and a crash loses at most the line
being written. :meth:`HistoryWriter.open` opens the file unbuffered and hands each finished
line to one ``os.write``, so a line is in the file as soon as the call returns.

Failure modes: :class:`OSError` from the file system propagates (the run cannot be
recorded); a value that JSON cannot represent raises :class:`TypeError` or
:class:`ValueError` before anything is written, so the file never holds half a line.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Literal, TypeAlias, final

import lgbench

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

#: ``"scenario":…,"f":…`` per (scenario, f): a run has few of them.
_scenario_f: dict[tuple[str, str], str] = {}


def _int(number: int) -> str:
    # What the encoder writes for an int, without its call overhead.
    return int.__repr__(number) if type(number) is int else _encode(number)


def _float(number: float) -> str:
    # The encoder writes a finite float as its repr; anything else goes through it.
    if type(number) is float and number - number == 0.0:
        return float.__repr__(number)
    return _encode(number)


def _fields(process: int, actor: int, scenario: str, f: str) -> str:
    """The part of an invoke line its completion repeats, as the encoder writes it."""
    key = (scenario, f)
    tail = _scenario_f.get(key)
    if tail is None:
        tail = _encode({"scenario": scenario, "f": f})[1:-1]
        if len(_scenario_f) < 4096:
            _scenario_f[key] = tail
    return f'"process":{_int(process)},"actor":{_int(actor)},{tail}'


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
        "_fd",
        "_index",
        "_next_process",
        "_out",
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
        self._closed = False

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        clock: Callable[[], float],
        origin_s: float,
        header: Mapping[str, Any],
    ) -> HistoryWriter:
        """Create (truncate) ``path`` and write the header line with ``header``'s fields.

        The header gets ``type``, ``schema_version``, ``lgbench_version`` and
        ``started_at`` (now, ISO 8601 UTC) unless ``header`` gives them.
        """
        out = io.FileIO(path, "w")
        writer = cls(out, clock=clock, origin_s=origin_s, path=path)
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
        self._write(line, indexed=False)

    def new_process(self) -> int:
        """A process id never handed out before in this run (from 0)."""
        process = self._next_process
        self._next_process += 1
        return process

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
        time_ns = self.now_ns() if at_s is None else self.to_ns(at_s)
        index = self._index
        invocation = Invocation(index, time_ns, process, actor, scenario, f)
        # Built as the encoder would write the dict, in the same key order; anything that
        # cannot be encoded raises here, before the line is written.
        self._write_text(
            f'{{"index":{index},"type":"invoke","time_ns":{_int(time_ns)},'
            f'"wall":{_float(time.time())},{invocation.fields()},'
            f'"value":{_encode(value)},"error":null}}\n'
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
        time_ns = self.now_ns() if at_s is None else self.to_ns(at_s)
        index = self._index
        self._write_text(
            f'{{"index":{index},"type":"{type_}","time_ns":{_int(time_ns)},'
            f'"wall":{_float(time.time())},{invocation.fields()},'
            f'"invoke_index":{_int(invocation.index)},'
            f'"value":{_encode(value)},"error":{_encode(error)}}}\n'
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

    def _write_text(self, text: str, *, indexed: bool = True) -> None:
        """Write one finished line (``text`` ends with its newline)."""
        if self._closed:
            raise RuntimeError("the history is closed")
        fd = self._fd
        if fd is None:
            out = self._out
            assert not isinstance(out, io.FileIO)
            out.write(text)
            out.flush()
        else:
            data = text.encode()
            written = os.write(fd, data)
            while written < len(data):  # a regular file takes it all; a pipe may not
                written += os.write(fd, data[written:])
        if indexed:
            self._index += 1

    # -- closing ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if not self._closed:
            self._closed = True
            self._out.close()

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
