"""What the history says about each thread: its runs, their statuses, its state tokens.

:func:`build_threads` turns the operations of a :class:`~lgbench.check._reader.History`
into one :class:`ThreadModel` per thread id. Everything here is a *fact with a time
window*: an observation made by an operation sent at ``lo`` and answered at ``hi`` shows
the server at some instant inside ``[lo, hi]``. Order between two facts is known only when
their windows do not overlap; the checkers never assume more.

The helpers answer the questions every checker asks, conservatively:
:meth:`ThreadModel.final_before` (the run was provably final before ``t``),
:meth:`ThreadModel.in_flight_after` (the run was provably pending or running at some
instant at or after ``t``), :meth:`ThreadModel.created_before` (one run's create returned
before another's was sent).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from lgbench.check._events import (
    CREATING_OPS,
    FINAL_STATUSES,
    INF,
    NON_FINAL_STATUSES,
    STRATEGIES,
    Event,
    EventRef,
    Operation,
    thread_reads,
)
from lgbench.check._reader import History
from lgbench.graphs import GRAPH_IDS, default_assistant_id, parse_token

__all__ = [
    "ABSENT",
    "DEFAULT_STRATEGY",
    "UNKNOWN_STRATEGY",
    "Creation",
    "ListObs",
    "RunModel",
    "Snapshot",
    "StatusObs",
    "ThreadModel",
    "ThreadObs",
    "build_threads",
    "graph_of",
    "short_id",
]

#: The status recorded for a run the server answered 404 for (deleted, or never created).
ABSENT: Final = "absent"
#: The strategy of a run created without one: enqueue, per the LangGraph docs and the
#: in-memory server (langgraph-api 0.16).
DEFAULT_STRATEGY: Final = "enqueue"
#: The strategy of a create whose invoke line was lost: it may have been any.
UNKNOWN_STRATEGY: Final = "unknown"
#: runs.list's page size when the request names none.
_DEFAULT_LIST_LIMIT: Final = 10

_GRAPH_BY_ASSISTANT: Final = {default_assistant_id(g): g for g in GRAPH_IDS} | {
    g: g for g in GRAPH_IDS
}


def short_id(run_id: str) -> str:
    """A run or thread id shortened for sentences (full ids stay in the witnesses).

    The tail, not the head: a UUIDv7 starts with its creation time, so ids made in the same
    minute share their first 8 characters, whereas its last 12 are random (48 bits).
    """
    return run_id if len(run_id) <= 13 else f"…{run_id[-12:]}"


@dataclass(frozen=True, slots=True)
class StatusObs:
    """A run's status (or :data:`ABSENT`) as one operation saw it."""

    run_id: str
    status: str
    op: Operation

    @property
    def lo(self) -> float:
        return self.op.lo

    @property
    def hi(self) -> float:
        return self.op.hi

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def in_flight(self) -> bool:
        return self.status in NON_FINAL_STATUSES

    def ref(self) -> EventRef:
        if self.status == ABSENT and self.op.f == "runs.list":
            # Absent from a list that was not full: the list says it by leaving the run out.
            return self.op.ref(f"runs.list ok: {short_id(self.run_id)} missing")
        return self.op.ref(f"{self.op.f} {self.op.outcome}: {short_id(self.run_id)} {self.status}")


@dataclass(frozen=True, slots=True)
class ThreadObs:
    """A thread's status as one ``threads.get`` (or one ``threads.search`` finding it) saw
    it."""

    status: str
    op: Operation

    @property
    def lo(self) -> float:
        return self.op.lo

    @property
    def hi(self) -> float:
        return self.op.hi

    def ref(self) -> EventRef:
        return self.op.ref(f"{self.op.f} {self.op.outcome}: thread {self.status}")


@dataclass(frozen=True, slots=True)
class ListObs:
    """The runs one ``runs.list`` returned; ``complete`` when the page was not full."""

    runs: Mapping[str, str]
    complete: bool
    op: Operation


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The thread's token list at one instant inside ``[lo, hi]``.

    ``kind`` is ``state`` for ``threads.get_state``, ``thread`` for the values a
    ``threads.get`` or a ``threads.search`` returned (a server may refresh them only when
    a run ends, so they never serve as proof that a run was still in flight) and ``result``
    for the values a wait, join or stream returned.
    """

    tokens: tuple[tuple[str, str], ...]
    op: Operation
    kind: Literal["state", "thread", "result"]
    #: False when the values held no ``tokens`` list (no bundled-graph run wrote one yet).
    present: bool = True
    #: Each token's first position.
    first: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        tokens: tuple[tuple[str, str], ...],
        op: Operation,
        kind: Literal["state", "thread", "result"],
        present: bool = True,
    ) -> Snapshot:
        first: dict[tuple[str, str], int] = {}
        for i, token in enumerate(tokens):
            first.setdefault(token, i)
        return cls(tokens, op, kind, present, first)

    @property
    def lo(self) -> float:
        return self.op.lo

    @property
    def hi(self) -> float:
        return self.op.hi

    def position(self, kind: str, run_id: str) -> int | None:
        return self.first.get((kind, run_id))

    def has(self, kind: str, run_id: str) -> bool:
        return (kind, run_id) in self.first

    def text(self, limit: int = 6) -> str:
        shown = [f"{k}:{short_id(r)}" for k, r in self.tokens[-limit:]]
        more = "… " if len(self.tokens) > limit else ""
        return more + " ".join(shown) if shown else "no tokens"

    def ref(self) -> EventRef:
        return self.op.ref(f"{self.op.f} {self.op.outcome}: tokens {self.text()}")


@dataclass(frozen=True, slots=True)
class Creation:
    """One attempt to create a run on a thread (``runs.create``, ``stream`` or ``wait``)."""

    op: Operation
    run_id: str | None
    strategy: str
    strategy_given: str | None
    graph: str | None
    delayed: bool
    #: An input or command was sent; None when the history does not say (older files).
    has_input: bool | None = None

    @property
    def lo(self) -> float:
        return self.op.lo

    @property
    def hi(self) -> float:
        """When the run provably existed (infinite unless the create answered ``ok``)."""
        return self.op.hi if self.op.outcome == "ok" else INF

    @property
    def accepted(self) -> bool:
        return self.op.outcome == "ok"

    @property
    def maybe(self) -> bool:
        """It may have created a run (``ok`` or ``info``)."""
        return self.op.outcome != "fail"

    @property
    def refused(self) -> bool:
        return self.op.outcome == "fail" and self.op.status_code == 409

    def ref(self, what: str | None = None) -> EventRef:
        rid = f" → {short_id(self.run_id)}" if self.run_id else ""
        return self.op.ref(what or f"{self.op.f} {self.op.outcome} ({self.strategy}){rid}")


@dataclass(slots=True)
class RunModel:
    """One run id seen on a thread, and everything observed about it."""

    run_id: str
    thread_id: str
    creation: Creation | None = None
    statuses: list[StatusObs] = field(default_factory=list)
    #: Operations that were waiting on the run: its own stream or wait, joins.
    subscribers: list[Operation] = field(default_factory=list)
    #: runs.cancel and runs.delete addressed to it (ok or info).
    cancels: list[Operation] = field(default_factory=list)
    #: Its stream, wait or join that ran to its end: the run was final by then.
    finished: list[Operation] = field(default_factory=list)
    #: Where its origin was first seen when no create on this thread names it.
    first_seen: EventRef | None = None
    first_seen_hi: float = INF

    @property
    def accepted(self) -> bool:
        return self.creation is not None and self.creation.accepted

    @property
    def strategy(self) -> str | None:
        return self.creation.strategy if self.creation is not None else None

    @property
    def done_by(self) -> float:
        """When the run was provably final (a final status or a finished stream or join)."""
        times = [o.hi for o in self.statuses if o.final or o.status == ABSENT]
        times += [op.hi for op in self.finished]
        return min(times, default=INF)


@dataclass(slots=True)
class ThreadModel:
    """Everything about one thread, in time order."""

    thread_id: str
    creations: list[Creation] = field(default_factory=list)
    runs: dict[str, RunModel] = field(default_factory=dict)
    snapshots: list[Snapshot] = field(default_factory=list)
    thread_statuses: list[ThreadObs] = field(default_factory=list)
    lists: list[ListObs] = field(default_factory=list)
    #: runs.cancel on the thread (ok or info), whatever run they name.
    cancels: list[Operation] = field(default_factory=list)
    #: runs.delete / threads.delete on the thread (ok or info).
    deletes: list[Operation] = field(default_factory=list)
    #: threads.update_state / threads.update on the thread (ok or info): may rewrite values.
    updates: list[Operation] = field(default_factory=list)
    #: runs.wait / runs.join / runs.stream / runs.join_stream answered ``ok``.
    results: list[Operation] = field(default_factory=list)
    #: crons.create_for_thread: runs may appear that no create names.
    crons: list[Operation] = field(default_factory=list)
    #: Threads this one was copied from (threads.copy): their runs' tokens came along.
    copied_from: set[str] = field(default_factory=set)
    burst_starts: list[Event] = field(default_factory=list)
    burst_settles: list[Event] = field(default_factory=list)
    bad_tokens: int = 0
    #: Built by :meth:`index` once every fact is in.
    state_snapshots: list[Snapshot] = field(default_factory=list)
    #: State reads of either kind (``threads.get_state`` and ``threads.get``), by time.
    reads: list[Snapshot] = field(default_factory=list)
    _state_los: list[float] = field(default_factory=list)
    _first_read: dict[tuple[str, str], Snapshot] = field(default_factory=dict)
    _last_end_read: dict[str, Snapshot] = field(default_factory=dict)

    def index(self) -> None:
        """Sort every fact by time and index the token reads (call once, after building)."""
        self.snapshots.sort(key=lambda s: (s.lo, s.hi))
        self.thread_statuses.sort(key=lambda o: (o.lo, o.hi))
        self.creations.sort(key=lambda c: (c.lo, c.hi))
        self.state_snapshots = [s for s in self.snapshots if s.kind == "state"]
        self.reads = [s for s in self.snapshots if s.kind != "result"]
        self._state_los = [s.lo for s in self.state_snapshots]
        for snap in self.snapshots:
            for token in snap.first:
                self._first_read.setdefault(token, snap)
        for snap in self.state_snapshots:
            for kind, rid in snap.first:
                if kind == "end":
                    self._last_end_read[rid] = snap

    # -- what kind of thread --------------------------------------------------------------

    @property
    def is_burst(self) -> bool:
        return bool(self.burst_starts or self.burst_settles)

    @property
    def checkable(self) -> bool:
        """Subject to a verdict: part of a burst, or its state was read (``get_state``, or
        ``threads.get`` with the tokens of its values)."""
        return self.is_burst or bool(self.reads)

    @property
    def settle(self) -> Event | None:
        return self.burst_settles[-1] if self.burst_settles else None

    @property
    def settled_at(self) -> float | None:
        settle = self.settle
        return settle.time_s if settle is not None else None

    @property
    def strategy_label(self) -> str:
        """The burst's strategy, else the strategies its runs were created with."""
        for marker in [*self.burst_starts, *self.burst_settles]:
            strategy = marker.value.get("strategy")
            if isinstance(strategy, str) and strategy:
                return strategy
        used = sorted({c.strategy for c in self.creations if c.maybe})
        if not used:
            return "none"
        return used[0] if len(used) == 1 else "mixed"

    @property
    def accepted_runs(self) -> list[RunModel]:
        return [r for r in self.runs.values() if r.accepted]

    # -- time reasoning -------------------------------------------------------------------

    @staticmethod
    def created_before(a: Creation, b: Creation) -> bool:
        """``a``'s run provably existed before ``b``'s create was sent."""
        return a.hi < b.lo

    def final_before(self, run: RunModel, t: float) -> StatusObs | None:
        """An observation, answered by ``t``, of the run final or gone."""
        for obs in run.statuses:
            if obs.hi <= t and (obs.final or obs.status == ABSENT):
                return obs
        return None

    def in_flight_after(self, run: RunModel, t: float) -> EventRef | None:
        """Evidence that the run was pending or running at some instant at or after ``t``.

        Either a status observation sent at or after ``t`` saw it pending or running, or a
        state read sent at or after ``t`` lacks its ``end`` token which a later read holds.
        """
        for obs in run.statuses:
            if obs.lo >= t and obs.in_flight:
                return obs.ref()
        last_end = self._last_end_read.get(run.run_id)
        if last_end is None:
            return None
        states = self.state_snapshots
        for i in range(bisect.bisect_left(self._state_los, t), len(states)):
            snap = states[i]
            if snap.lo > last_end.lo:
                break
            if not snap.has("end", run.run_id) and snap.hi <= last_end.lo:
                return snap.ref()
        return None

    def ended(self, run: RunModel) -> Snapshot | None:
        """The first read holding the run's ``end`` token."""
        return self._first_read.get(("end", run.run_id))

    def started(self, run: RunModel) -> Snapshot | None:
        """The first read holding the run's ``start`` token."""
        return self._first_read.get(("start", run.run_id))

    def status_seen(self, run: RunModel, statuses: Iterable[str]) -> StatusObs | None:
        wanted = set(statuses)
        return next((o for o in run.statuses if o.status in wanted), None)


def graph_of(assistant: object) -> str | None:
    """The bundled graph an ``assistant_id`` (graph id or default assistant) runs, if any."""
    return _GRAPH_BY_ASSISTANT.get(assistant) if isinstance(assistant, str) else None


def _strategy(op: Operation) -> tuple[str, str | None]:
    if op.invoke is None:
        return UNKNOWN_STRATEGY, None
    given = op.args.get("multitask_strategy")
    if isinstance(given, str) and given in STRATEGIES:
        return given, given
    return DEFAULT_STRATEGY, given if isinstance(given, str) else None


def _tokens(value: object, thread: ThreadModel) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(value, list):
        return None
    parsed: list[tuple[str, str]] = []
    for token in value:
        try:
            parsed.append(parse_token(str(token)))
        except ValueError:
            thread.bad_tokens += 1
    return tuple(parsed)


def build_threads(history: History) -> dict[str, ThreadModel]:
    """One :class:`ThreadModel` per thread id in the history, sorted by thread id."""
    threads: dict[str, ThreadModel] = {}

    def thread(thread_id: str) -> ThreadModel:
        model = threads.get(thread_id)
        if model is None:
            model = threads[thread_id] = ThreadModel(thread_id)
        return model

    def run(model: ThreadModel, run_id: str) -> RunModel:
        found = model.runs.get(run_id)
        if found is None:
            found = model.runs[run_id] = RunModel(run_id, model.thread_id)
        return found

    ops = history.operations
    # Creations first, so every later fact about a run id finds its creation.
    for op in ops:
        thread_id = op.thread_id
        if op.f not in CREATING_OPS or thread_id is None or op.stateless:
            continue
        model = thread(thread_id)
        strategy, given = _strategy(op)
        run_id = op.result.get("run_id") if op.outcome != "fail" else None
        run_id = run_id if isinstance(run_id, str) and run_id else None
        after = op.args.get("after_seconds")
        has_input = op.args.get("has_input")
        creation = Creation(
            op=op,
            run_id=run_id,
            strategy=strategy,
            strategy_given=given,
            graph=graph_of(op.args.get("assistant_id")),
            delayed=isinstance(after, int | float) and not isinstance(after, bool) and after > 0,
            has_input=has_input if isinstance(has_input, bool) else None,
        )
        model.creations.append(creation)
        if run_id is not None:
            found = run(model, run_id)
            if found.creation is None:
                found.creation = creation
            if op.f != "runs.create":
                found.subscribers.append(op)
    for op in ops:
        for read in thread_reads(op):  # a search answer reads many threads
            thread_id = read.thread_id
            if thread_id is None or read.stateless:
                continue  # stateless runs are judged by their answers alone
            _observe(thread(thread_id), read, run)
    for marker in history.markers:
        thread_id = marker.value.get("thread_id")
        if not isinstance(thread_id, str) or not thread_id:
            continue
        if marker.name == "burst.start":
            thread(thread_id).burst_starts.append(marker)
        elif marker.name == "burst.settled":
            thread(thread_id).burst_settles.append(marker)
    for model in threads.values():
        _absent_from_lists(model)
        model.index()
        _register_token_runs(model)
        for found in model.runs.values():
            found.statuses.sort(key=lambda o: (o.lo, o.hi))
            if found.creation is None:
                _first_seen(model, found)
    return dict(sorted(threads.items()))


def _observe(model: ThreadModel, op: Operation, run: Any) -> None:
    f = op.f
    run_id = op.run_id
    if f in CREATING_OPS:
        if op.outcome == "ok" and run_id is not None:
            status = op.result.get("status")
            if isinstance(status, str):
                run(model, run_id).statuses.append(StatusObs(run_id, status, op))
        if op.outcome == "ok" and f != "runs.create":
            _results(model, op)
        return
    if f == "runs.get" and run_id is not None:
        if op.outcome == "ok" and isinstance(op.result.get("status"), str):
            run(model, run_id).statuses.append(StatusObs(run_id, op.result["status"], op))
        elif op.outcome == "fail" and op.status_code == 404:
            run(model, run_id).statuses.append(StatusObs(run_id, ABSENT, op))
    elif f == "runs.list" and op.outcome == "ok":
        listed = op.result.get("runs")
        if isinstance(listed, list):
            seen: dict[str, str] = {}
            for item in listed:
                if isinstance(item, dict) and isinstance(item.get("run_id"), str):
                    status = item.get("status")
                    if isinstance(status, str):
                        seen[item["run_id"]] = status
                        run(model, item["run_id"]).statuses.append(
                            StatusObs(item["run_id"], status, op)
                        )
            limit = op.args.get("limit")
            limit = limit if isinstance(limit, int) and limit > 0 else _DEFAULT_LIST_LIMIT
            offset = op.args.get("offset")
            complete = len(listed) < limit and not offset and not op.args.get("status")
            model.lists.append(ListObs(seen, complete, op))
    elif f in ("threads.get", "threads.search") and op.outcome == "ok":
        status = op.result.get("status")
        if isinstance(status, str):
            model.thread_statuses.append(ThreadObs(status, op))
        if "tokens" in op.result:  # histories before thread reads kept tokens lack the key
            tokens = _tokens(op.result.get("tokens"), model)
            model.snapshots.append(Snapshot.of(tokens or (), op, "thread", tokens is not None))
    elif f == "threads.get_state" and op.outcome == "ok":
        tokens = _tokens(op.result.get("tokens"), model)
        model.snapshots.append(Snapshot.of(tokens or (), op, "state", tokens is not None))
    elif f == "runs.cancel" and op.outcome != "fail":
        model.cancels.append(op)
        if run_id is not None:
            run(model, run_id).cancels.append(op)
    elif f == "runs.delete" and op.outcome != "fail":
        model.deletes.append(op)
        if run_id is not None:
            run(model, run_id).cancels.append(op)
    elif f == "threads.delete" and op.outcome != "fail":
        model.deletes.append(op)
    elif f in ("threads.update_state", "threads.update", "threads.prune") and op.outcome != "fail":
        model.updates.append(op)
    elif f in ("runs.join", "runs.join_stream"):
        if run_id is not None:
            run(model, run_id).subscribers.append(op)
        if op.outcome == "ok":
            _results(model, op)
    elif f.startswith("crons.") and f != "crons.search" and op.outcome != "fail":
        model.crons.append(op)
    elif f == "threads.copy" and op.outcome == "ok":
        source = op.args.get("thread_id")
        if isinstance(source, str) and source != model.thread_id:
            model.copied_from.add(source)


def _absent_from_lists(model: ThreadModel) -> None:
    """A run accepted before a complete ``runs.list`` was sent, and missing from it, was
    gone when the list was read: as good as a 404 of ``runs.get``."""
    for listing in model.lists:
        if not listing.complete:
            continue
        for found in model.runs.values():
            creation = found.creation
            if (
                creation is not None
                and creation.accepted
                and creation.hi < listing.op.lo
                and found.run_id not in listing.runs
            ):
                found.statuses.append(StatusObs(found.run_id, ABSENT, listing.op))


def _results(model: ThreadModel, op: Operation) -> None:
    model.results.append(op)
    run_id = op.run_id
    if run_id is not None and run_id in model.runs:
        model.runs[run_id].finished.append(op)
    tokens = _tokens(op.result.get("tokens"), model)
    if tokens is not None:
        model.snapshots.append(Snapshot.of(tokens, op, "result"))


def _first_seen(model: ThreadModel, found: RunModel) -> None:
    """Where a run no create names was first seen: a status, a list or a token."""
    best: tuple[float, EventRef] | None = None
    for obs in found.statuses:
        if obs.status != ABSENT and (best is None or obs.hi < best[0]):
            best = (obs.hi, obs.ref())
    for snap in model.snapshots:
        if (snap.has("start", found.run_id) or snap.has("end", found.run_id)) and (
            best is None or snap.hi < best[0]
        ):
            best = (snap.hi, snap.ref())
    if best is not None:
        found.first_seen_hi, found.first_seen = best


def _register_token_runs(model: ThreadModel) -> None:
    """Give every run id seen only in tokens a :class:`RunModel` (origin unknown)."""
    for rid in sorted({rid for snap in model.snapshots for _, rid in snap.tokens}):
        if rid not in model.runs:
            model.runs[rid] = RunModel(rid, model.thread_id)
