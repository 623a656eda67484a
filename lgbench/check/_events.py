"""Typed events and operations of a history.jsonl (docs/history.md).

An :class:`Event` is one line of the file; an :class:`Operation` is an ``invoke`` paired
with its completion (``ok``, ``fail`` or ``info``). Times are seconds on the history's
monotonic clock (``time_ns / 1e9``; several files are aligned by their wall clocks).
A completion that never came is an ``info`` whose completion time is infinite: the
operation may take effect at any later time, which is exactly what ``info`` means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, final

from lgbench.operations import operation_names

__all__ = [
    "CREATING_OPS",
    "FINAL_STATUSES",
    "HISTORY_SCHEMA_VERSION",
    "INF",
    "NON_FINAL_STATUSES",
    "STRATEGIES",
    "Event",
    "EventRef",
    "Operation",
    "Outcome",
    "thread_reads",
]

#: The history.jsonl schema version this checker reads.
HISTORY_SCHEMA_VERSION: Final = 1
#: "Never" on the history clock: the completion time of an operation that has none.
INF: Final = math.inf

#: Operations that create a run on a thread.
CREATING_OPS: Final = operation_names(lambda op: op.creates_run)
#: A run's final statuses; it never leaves one of them.
FINAL_STATUSES: Final = frozenset({"success", "error", "timeout", "interrupted"})
#: A run's statuses while it is in flight.
NON_FINAL_STATUSES: Final = frozenset({"pending", "running"})
#: The multitask strategies.
STRATEGIES: Final = ("enqueue", "reject", "interrupt", "rollback")

Outcome = Literal["ok", "fail", "info"]


@final
@dataclass(frozen=True, slots=True)
class EventRef:
    """A witness: one line of the history, where it is and what it was."""

    file: int
    index: int
    time_s: float
    what: str

    def to_dict(self, *, with_file: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "time_s": _round(self.time_s)}
        if with_file:
            out["file"] = self.file
        out["what"] = self.what
        return out


def _round(seconds: float) -> float | None:
    return None if math.isinf(seconds) else round(seconds, 6)


@dataclass(frozen=True, slots=True)
class Event:
    """One well-formed line of a history file (an operation event or a marker)."""

    file: int
    line: int
    index: int
    type: str
    time_s: float
    wall: float | None
    process: int | None
    actor: int | None
    scenario: str | None
    f: str | None
    name: str | None
    invoke_index: int | None
    value: Mapping[str, Any]
    error: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Operation:
    """An invoke and its completion.

    ``lo`` is when the request was sent (or, when the invoke line was lost, the latest
    time known to precede it); ``hi`` is when its completion was recorded, infinite for
    an ``info``: an info'd operation may take effect at any time after ``lo``.
    """

    f: str
    outcome: Outcome
    invoke: Event | None
    completion: Event | None
    lo: float
    hi: float
    args: Mapping[str, Any]
    result: Mapping[str, Any]
    error: Mapping[str, Any] | None

    @property
    def thread_id(self) -> str | None:
        value = self.result.get("thread_id") or self.args.get("thread_id")
        return value if isinstance(value, str) and value else None

    @property
    def run_id(self) -> str | None:
        value = self.args.get("run_id") or self.result.get("run_id")
        return value if isinstance(value, str) and value else None

    @property
    def stateless(self) -> bool:
        """A run created with no thread (the server runs it on a temporary one)."""
        return self.f in CREATING_OPS and self.invoke is not None and not self.args.get("thread_id")

    @property
    def observer(self) -> bool:
        return bool(self.args.get("observer") or self.result.get("observer"))

    @property
    def status_code(self) -> int | None:
        if self.error is None:
            return None
        code = self.error.get("status")
        return code if isinstance(code, int) else None

    def ref(self, what: str | None = None) -> EventRef:
        """The witness for this operation: its completion line, else its invoke line."""
        event = self.completion or self.invoke
        label = what if what is not None else f"{self.f} {self.outcome}"
        if event is None:  # pragma: no cover - an operation always has one of them
            return EventRef(-1, -1, self.lo, label)
        return EventRef(event.file, event.index, event.time_s, label)

    @property
    def invoke_ref(self) -> EventRef:
        event = self.invoke or self.completion
        assert event is not None
        return EventRef(event.file, event.index, event.time_s, f"{self.f} invoke")


def thread_reads(op: Operation) -> tuple[Operation, ...]:
    """``op`` as reads of single threads: a ``threads.search`` answer gives one operation
    per thread it found (same lines and times; its ``result`` is that thread's entry,
    ``thread_id``, ``status`` and ``tokens``, as a ``threads.get`` records them), so each
    thread is judged on the reads of it alone. Any other operation, an answer already
    split, and a search that failed are returned as they are."""
    found = op.result.get("threads") if op.f == "threads.search" else None
    if not isinstance(found, list) or op.completion is None:
        return (op,)
    reads: list[Operation] = []
    for entry in found:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("thread_id"), str):
            continue
        value = {key: entry[key] for key in ("thread_id", "status", "tokens") if key in entry}
        reads.append(replace(op, completion=replace(op.completion, value=value), result=value))
    return tuple(reads)
