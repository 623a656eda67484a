"""A fake LangGraph server and a burst workload against it, in virtual time.

The fake keeps threads and runs like the in-memory server (langgraph-api 0.16) does: runs
wait ``pending`` until the scheduler's next poll picks them, one at a time per thread, and
write ``start:<run>`` / ``end:<run>`` tokens into the thread's state; the multitask
strategies behave as observed (interrupt and rollback cancel every in-flight run, rollback
keeps a run with a live subscriber as ``interrupted``, a thread whose pending runs were
interrupted reads ``idle``, a rollback cancel of a running run nobody waits on leaves the
thread ``busy`` until another run ends, a join after the end returns the thread's current
values).

:func:`simulate` drives a burst workload against it, recording every operation in the
docs/history.md format (via :class:`~tests.check._builder.HistoryBuilder`), the way the
engine's burst executor does: creates, an observer polling ``runs.get`` and
``threads.get`` until nothing is in flight, a final ``get_state`` and ``runs.list``,
``burst.settled``; plus streams, joins, cancels, a failing run and a late look at every
thread.

Each name in :data:`BUGS` switches on one server bug, which must show up as the anomaly it
names. Nothing here is random but the optional latency jitter (seeded).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.check._builder import HistoryBuilder

__all__ = ["BUGS", "FakeServer", "simulate"]

#: Each bug → the anomaly it must produce.
BUGS: dict[str, str] = {
    "no_queue": "concurrent_runs",
    "lifo": "fifo_violation",
    "drop_pending": "lost_run",
    "rerun": "duplicate_execution",
    "ghost": "unexpected_run",
    "stall": "stuck_run",
    "busy_forever": "stuck_thread",
    "flap": "status_regression",
    "idle_when_busy": "thread_idle_while_busy",
    "interrupt_ignored": "interrupt_not_applied",
    "rollback_keeps": "rollback_not_applied",
    "reject_ignored": "reject_accepted",
    "stale_busy": "reject_refused_idle",
    "swallow_error": "wrong_final_status",
    "empty_stream": "result_lost",
    "early_join": "join_result_mismatch",
    "lose_write": "lost_write",
    "busy_lingering": "busy_without_run",
}

POLL_S = 0.25  # the scheduler's poll period
OBSERVE_S = 0.2  # the observer's poll period
LATENCY_S = 0.004


class Conflict(Exception):
    """HTTP 409."""


class NotFound(Exception):
    """HTTP 404."""


@dataclass
class Run:
    run_id: str
    thread_id: str
    strategy: str
    graph: str
    duration_s: float
    status: str = "pending"
    subscribers: list[Callable[[], None]] = field(default_factory=list)
    gets_after_final: int = 0
    job: int = 0  # bumped when cancelled, so scheduled steps of the old job do nothing


@dataclass
class Thread:
    thread_id: str
    tokens: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    quiet_idle: bool = False  # interrupted pending runs: reads idle until the next run ends
    after_cancel: str | None = None  # the thread's status after a cancel, until a run ends
    stale_busy: bool = False
    failed: bool = False
    last_final_at: float = 0.0


class Clock:
    """Virtual time: callbacks at times, run in order."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def at(self, t: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (max(t, self.now), next(self._seq), fn))

    def run(self, until: float) -> None:
        while self._heap and self._heap[0][0] <= until:
            self.now, _, fn = heapq.heappop(self._heap)
            fn()


class FakeServer:
    """Threads, runs and a scheduler, with switchable bugs."""

    def __init__(
        self, clock: Clock, bugs: Iterable[str] = (), *, workers: int | None = None
    ) -> None:
        self.clock = clock
        self.bugs = frozenset(bugs)
        #: At most this many runs execute at once over all threads (a saturated server's
        #: queue), in creation order; None: no limit.
        self.workers = workers
        unknown = self.bugs - set(BUGS)
        assert not unknown, f"unknown bugs {unknown}"
        self.threads: dict[str, Thread] = {}
        self.runs: dict[str, Run] = {}
        self._ids = itertools.count(1)
        self._polling = False
        self._ghosts: set[str] = set()

    # -- API ------------------------------------------------------------------------------

    def create_thread(self) -> str:
        thread_id = f"T{next(self._ids)}"
        self.threads[thread_id] = Thread(thread_id)
        return thread_id

    def create_run(self, thread_id: str, strategy: str, graph: str, duration_s: float) -> Run:
        thread = self.threads[thread_id]
        in_flight = [r for r in self._runs_of(thread) if r.status in ("pending", "running")]
        refuses = in_flight or (thread.stale_busy and "stale_busy" in self.bugs)
        if strategy == "reject" and "reject_ignored" not in self.bugs and refuses:
            raise Conflict
        if strategy == "interrupt" and "interrupt_ignored" not in self.bugs and in_flight:
            if not any(r.status == "running" for r in in_flight):
                thread.quiet_idle = True
            for victim in in_flight:
                self._cancel(victim, delete=False)
        if strategy == "rollback" and in_flight:
            for victim in in_flight:
                keep = bool(victim.subscribers) or "rollback_keeps" in self.bugs
                self._cancel(victim, delete=not keep)
        run = Run(f"R{next(self._ids)}", thread_id, strategy, graph, duration_s)
        self.runs[run.run_id] = run
        thread.runs.append(run.run_id)
        if strategy == "reject":
            thread.stale_busy = True
        if "drop_pending" in self.bugs and strategy == "enqueue" and len(thread.runs) == 2:
            self.clock.at(self.clock.now + 0.05, lambda: self._drop(run))
        self._poll_soon()
        return run

    def get_run(self, thread_id: str, run_id: str) -> str:
        run = self.runs.get(run_id)
        if run is None or run.thread_id != thread_id:
            raise NotFound
        if "flap" in self.bugs and run.status == "success":
            run.gets_after_final += 1
            if run.gets_after_final == 2:
                return "running"
        return run.status

    def list_runs(self, thread_id: str) -> list[tuple[str, str]]:
        return [(r.run_id, r.status) for r in self._runs_of(self.threads[thread_id])]

    def thread_status(self, thread_id: str) -> str:
        thread = self.threads[thread_id]
        runs = self._runs_of(thread)
        if "busy_forever" in self.bugs and runs and runs[0].strategy == "enqueue":
            return "busy"
        lingering = self.clock.now < thread.last_final_at + 100.0
        if "busy_lingering" in self.bugs and runs and runs[0].strategy == "enqueue" and lingering:
            return "busy"
        running = [r for r in runs if r.status == "running"]
        if "idle_when_busy" in self.bugs and running and running[0].strategy == "enqueue":
            return "idle"
        if any(r.status in ("pending", "running") for r in runs):
            return "idle" if thread.quiet_idle else "busy"
        if thread.after_cancel is not None:
            return thread.after_cancel
        return "error" if thread.failed else "idle"

    def cancel_run(self, thread_id: str, run_id: str, action: str) -> None:
        """runs.cancel: ``interrupt`` marks the run interrupted (the thread then reads
        ``interrupted``); ``rollback`` deletes it, and a running run nobody was waiting on
        leaves the thread ``busy`` until another run ends on it."""
        run = self.runs.get(run_id)
        if run is None or run.thread_id != thread_id:
            raise NotFound
        if run.status not in ("pending", "running"):
            return
        thread = self.threads[thread_id]
        unwatched_running = run.status == "running" and not run.subscribers
        self._cancel(run, delete=action == "rollback")
        if action != "rollback":
            thread.after_cancel = "interrupted"
        elif unwatched_running:
            thread.after_cancel = "busy"

    def tokens(self, thread_id: str) -> list[str]:
        return list(self.threads[thread_id].tokens)

    def subscribe(self, run_id: str, done: Callable[[], None]) -> None:
        """Call ``done`` when the run is final (at once if it already is)."""
        run = self.runs.get(run_id)
        if run is None or run.status not in ("pending", "running"):
            done()
            return
        run.subscribers.append(done)

    # -- the scheduler --------------------------------------------------------------------

    def _runs_of(self, thread: Thread) -> list[Run]:
        return [self.runs[r] for r in thread.runs if r in self.runs]

    def _poll_soon(self) -> None:
        if not self._polling:
            self._polling = True
            next_poll = (int(self.clock.now / POLL_S) + 1) * POLL_S
            self.clock.at(next_poll, self._poll)

    def _poll(self) -> None:
        self._polling = False
        waiting = False
        busy = sum(1 for r in self.runs.values() if r.status == "running")
        if self.workers is not None:
            # A correct but saturated server: one queue, first come first served.
            for run in sorted(self.runs.values(), key=lambda r: int(r.run_id[1:])):
                if run.status != "pending":
                    continue
                waiting = True
                thread_busy = any(
                    r.status == "running" for r in self._runs_of(self.threads[run.thread_id])
                )
                if busy < self.workers and not thread_busy:
                    self._start(run)
                    busy += 1
            if waiting:
                self._poll_soon()
            return
        for thread in self.threads.values():
            runs = self._runs_of(thread)
            pending = [r for r in runs if r.status == "pending"]
            running = [r for r in runs if r.status == "running"]
            if not pending:
                continue
            waiting = True
            enqueue = pending[0].strategy == "enqueue"
            if enqueue and "ghost" in self.bugs and thread.thread_id not in self._ghosts:
                self._ghosts.add(thread.thread_id)
                thread.tokens += [f"start:G{thread.thread_id}", f"end:G{thread.thread_id}"]
            if enqueue and "stall" in self.bugs and len(pending) == 1 and len(runs) > 1:
                continue
            if enqueue and "no_queue" in self.bugs:
                for run in pending:
                    self._start(run)
                continue
            if running:
                continue
            self._start(pending[-1] if enqueue and "lifo" in self.bugs else pending[0])
        if waiting:
            self._poll_soon()

    def _start(self, run: Run) -> None:
        run.status = "running"
        job = run.job
        thread = self.threads[run.thread_id]

        def begin() -> None:
            if run.job == job and run.status == "running":
                thread.tokens.append(f"start:{run.run_id}")

        def finish() -> None:
            if run.job != job or run.status != "running":
                return
            if run.graph == "failing" and "swallow_error" not in self.bugs:
                run.status = "error"
                thread.failed = True
            else:
                if run.graph != "failing":
                    thread.tokens.append(f"end:{run.run_id}")
                    if "lose_write" in self.bugs and run.strategy == "enqueue":
                        # Written from the checkpoint the run started from, as if the runs
                        # before it had never happened.
                        thread.tokens = [f"start:{run.run_id}", f"end:{run.run_id}"]
                    if "rerun" in self.bugs and run.strategy == "enqueue":
                        thread.tokens += [f"start:{run.run_id}", f"end:{run.run_id}"]
                run.status = "success"
                thread.failed = False
            thread.quiet_idle = False
            thread.after_cancel = None
            thread.last_final_at = self.clock.now
            self._final(run)
            self._poll_soon()

        self.clock.at(self.clock.now + 0.02, begin)
        self.clock.at(self.clock.now + 0.02 + run.duration_s, finish)

    def _cancel(self, run: Run, *, delete: bool) -> None:
        thread = self.threads[run.thread_id]
        was_running = run.status == "running"
        run.job += 1
        run.status = "interrupted"
        if delete:
            del self.runs[run.run_id]
            if was_running:  # rollback discards the run's progress
                thread.tokens = [t for t in thread.tokens if not t.endswith(f":{run.run_id}")]
        self._final(run)

    def _drop(self, run: Run) -> None:
        if run.status == "pending" and run.run_id in self.runs:
            del self.runs[run.run_id]
            self._final(run)

    def _final(self, run: Run) -> None:
        subscribers, run.subscribers = run.subscribers, []
        for done in subscribers:
            done()


# -- the workload -----------------------------------------------------------------------------

Step = Generator[Any, Any, None]


@dataclass
class Sim:
    """Actors (generators) issuing operations against the fake, recorded as a history."""

    server: FakeServer
    clock: Clock
    history: HistoryBuilder
    rng: random.Random
    processes: itertools.count[int] = field(default_factory=lambda: itertools.count())

    def latency(self) -> float:
        return LATENCY_S * (1 + self.rng.random())

    def spawn(self, actor: Step, at: float = 0.0) -> None:
        self.clock.at(at, lambda: self._step(actor, None))

    def _step(self, actor: Step, value: Any) -> None:
        try:
            command = actor.send(value)
        except StopIteration:
            return
        kind = command[0]
        if kind == "sleep_until":
            self.clock.at(command[1], lambda: self._step(actor, None))
        elif kind == "op":
            self._op(actor, *command[1:])
        elif kind == "marker":
            self.history.marker(command[1], self.clock.now, command[2])
            self.clock.at(self.clock.now, lambda: self._step(actor, None))
        else:  # pragma: no cover
            raise AssertionError(command)

    def _op(
        self,
        actor: Step,
        f: str,
        args: dict[str, Any],
        effect: Callable[
            [Callable[[str, dict[str, Any] | None, dict[str, Any] | None], None]], None
        ],
        process: int,
        observer: bool,
    ) -> None:
        t0 = self.clock.now

        def complete(
            outcome: str, result: dict[str, Any] | None, error: dict[str, Any] | None
        ) -> None:
            def record() -> None:
                self.history.op(
                    f,
                    t0,
                    self.clock.now,
                    args=args,
                    result=result,
                    outcome=outcome,
                    error=error,
                    process=process,
                    observer=observer,
                )
                self._step(actor, (outcome, result))

            self.clock.at(self.clock.now + self.latency() / 2, record)

        self.clock.at(t0 + self.latency() / 2, lambda: effect(complete))


def _create_args(thread_id: str, strategy: str | None, graph: str) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "assistant_id": graph,
        "multitask_strategy": strategy,
        "stream_mode": None,
        "on_disconnect": None,
        "after_seconds": None,
        "has_input": True,
    }


def _create(
    server: FakeServer, thread_id: str, strategy: str, graph: str, duration_s: float
) -> Callable[[Any], None]:
    def effect(complete: Any) -> None:
        try:
            run = server.create_run(thread_id, strategy, graph, duration_s)
        except Conflict:
            complete("fail", None, {"class": "ConflictError", "status": 409, "message": "busy"})
            return
        complete(
            "ok",
            {
                "thread_id": thread_id,
                "assistant_id": graph,
                "run_id": run.run_id,
                "status": run.status,
                "created_at": None,
            },
            None,
        )

    return effect


def _stream(server: FakeServer, thread_id: str, graph: str, duration_s: float) -> Any:
    def effect(complete: Any) -> None:
        run = server.create_run(thread_id, "enqueue", graph, duration_s)

        def done() -> None:
            events = 0 if "empty_stream" in server.bugs else 3
            tokens = server.tokens(thread_id)
            complete(
                "ok",
                {
                    "thread_id": thread_id,
                    "assistant_id": graph,
                    "run_id": run.run_id,
                    "events": events,
                    "event_counts": {"values": events},
                    "first_event_ns": None,
                    "last_event_ns": None,
                    "error_event": None,
                    "tokens": tokens if events else None,
                },
                None,
            )

        server.subscribe(run.run_id, done)

    return effect


def _join(server: FakeServer, thread_id: str, run_id: str, *, streaming: bool) -> Any:
    def effect(complete: Any) -> None:
        def done() -> None:
            tokens = server.tokens(thread_id)
            if streaming:
                result = {
                    "thread_id": thread_id,
                    "run_id": run_id,
                    "events": 0,
                    "event_counts": {},
                    "first_event_ns": None,
                    "last_event_ns": None,
                    "error_event": None,
                    "tokens": None,
                }
            else:
                result = {
                    "thread_id": thread_id,
                    "run_id": run_id,
                    "tokens": tokens,
                    "error": None,
                    "has_values": True,
                }
            complete("ok", result, None)

        if "early_join" in server.bugs and not streaming:
            done()
        else:
            server.subscribe(run_id, done)

    return effect


def _cancel(server: FakeServer, args: dict[str, Any]) -> Any:
    def effect(complete: Any) -> None:
        try:
            server.cancel_run(args["thread_id"], args["run_id"], args["action"])
        except NotFound:
            complete("fail", None, {"class": "NotFoundError", "status": 404, "message": "nf"})
            return
        complete("ok", {"thread_id": args["thread_id"], "run_id": args["run_id"]}, None)

    return effect


def _read(fn: Callable[[], dict[str, Any]]) -> Any:
    def effect(complete: Any) -> None:
        try:
            result = fn()
        except NotFound:
            complete("fail", None, {"class": "NotFoundError", "status": 404, "message": "nf"})
            return
        complete("ok", result, None)

    return effect


def _get_run(server: FakeServer, thread_id: str, run_id: str) -> Any:
    return _read(
        lambda: {
            "thread_id": thread_id,
            "run_id": run_id,
            "status": server.get_run(thread_id, run_id),
        }
    )


def _get_thread(server: FakeServer, thread_id: str) -> Any:
    return _read(lambda: {"thread_id": thread_id, "status": server.thread_status(thread_id)})


@dataclass(frozen=True)
class ThreadPlan:
    """One thread of the workload: the runs to create, ``stagger_s`` apart."""

    label: str
    strategies: tuple[str, ...]
    duration_s: float = 0.5
    stagger_s: float = 0.0
    graph: str = "sleepy"
    stream_first: bool = False
    join_first: bool = False
    subscribe_first: bool = False
    late_join: bool = False
    follow_up: bool = False
    cancel_first: str | None = None  # runs.cancel of the first run, once it runs


def default_plans(threads_per_strategy: int = 2) -> list[ThreadPlan]:
    plans: list[ThreadPlan] = []
    for _ in range(threads_per_strategy):
        plans += [
            ThreadPlan("enqueue", ("enqueue",) * 3, join_first=True),
            ThreadPlan("reject", ("reject",) * 3, follow_up=True),
            ThreadPlan("interrupt", ("interrupt",) * 3, duration_s=2.0, stagger_s=0.05),
            ThreadPlan("rollback", ("rollback",) * 3, duration_s=2.0, stagger_s=0.05),
        ]
    plans += [
        ThreadPlan("mixed", ("enqueue", "enqueue", "interrupt"), duration_s=1.0, stagger_s=0.4),
        ThreadPlan("mixed", ("enqueue", "enqueue", "rollback"), duration_s=1.0, stagger_s=0.4),
        ThreadPlan(
            "rollback",
            ("rollback", "rollback"),
            duration_s=1.0,
            stagger_s=0.05,
            subscribe_first=True,
        ),
        ThreadPlan("enqueue", ("enqueue",), graph="failing", duration_s=0.2),
        ThreadPlan("enqueue", ("enqueue", "enqueue"), stream_first=True, late_join=True),
        ThreadPlan("enqueue", ("enqueue",), duration_s=2.0, cancel_first="interrupt"),
        ThreadPlan("enqueue", ("enqueue",), duration_s=2.0, cancel_first="rollback"),
    ]
    return plans


def simulate(
    bugs: Iterable[str] = (),
    *,
    plans: list[ThreadPlan] | None = None,
    seed: int = 0,
    max_duration_s: float = 20.0,
    late_look_s: float = 80.0,
    workers: int | None = None,
) -> HistoryBuilder:
    """Run the workload against a fake server with ``bugs`` (and at most ``workers`` runs
    executing at once); returns its history."""
    clock = Clock()
    server = FakeServer(clock, bugs, workers=workers)
    sim = Sim(server, clock, HistoryBuilder(workload="fake"), random.Random(seed))
    threads: list[str] = []
    for i, plan in enumerate(plans if plans is not None else default_plans()):
        sim.spawn(_thread_actor(sim, plan, threads, max_duration_s), at=0.001 * i)
    sim.spawn(_late_look(sim, threads), at=late_look_s)
    clock.run(until=late_look_s + 10.0)
    return sim.history


def _thread_actor(sim: Sim, plan: ThreadPlan, threads: list[str], max_duration_s: float) -> Step:
    server = sim.server
    process = next(sim.processes)
    observer = next(sim.processes)
    outcome, result = yield (
        "op",
        "threads.create",
        {},
        _read(lambda: {"thread_id": server.create_thread()}),
        process,
        False,
    )
    thread_id = result["thread_id"]
    threads.append(thread_id)
    yield (
        "marker",
        "burst.start",
        {
            "thread_id": thread_id,
            "strategy": plan.label,
            "assistant_id": plan.graph,
            "runs": len(plan.strategies),
            "stagger_s": plan.stagger_s,
        },
    )
    ready = sim.clock.now
    run_ids: list[str] = []
    for i, strategy in enumerate(plan.strategies):
        if i and plan.stagger_s:
            yield ("sleep_until", ready + i * plan.stagger_s)
        if i == 0 and plan.stream_first:
            # Streamed to its end before the next run is created.
            args = _create_args(thread_id, None, plan.graph) | {"stream_mode": ["values"]}
            outcome, result = yield (
                "op",
                "runs.stream",
                args,
                _stream(server, thread_id, plan.graph, plan.duration_s),
                process,
                False,
            )
            if outcome == "ok":
                run_ids.append(result["run_id"])
            continue
        outcome, result = yield (
            "op",
            "runs.create",
            _create_args(thread_id, strategy, plan.graph),
            _create(server, thread_id, strategy, plan.graph, plan.duration_s),
            process,
            False,
        )
        if outcome == "ok":
            run_ids.append(result["run_id"])
            if i == 0 and (plan.join_first or plan.subscribe_first):
                join_process = next(sim.processes)
                f = "runs.join_stream" if plan.subscribe_first else "runs.join"
                args = {"thread_id": thread_id, "run_id": result["run_id"]}
                if plan.subscribe_first:
                    args["cancel_on_disconnect"] = False
                sim.spawn(
                    _one(
                        sim,
                        f,
                        args,
                        _join(server, thread_id, result["run_id"], streaming=plan.subscribe_first),
                        join_process,
                    ),
                    at=sim.clock.now,
                )
    if plan.cancel_first and run_ids:
        yield ("sleep_until", ready + 0.8)
        args = {"thread_id": thread_id, "run_id": run_ids[0], "action": plan.cancel_first}
        yield ("op", "runs.cancel", args | {"wait": False}, _cancel(server, args), process, False)
    deadline = ready + max_duration_s
    yield from _observe(sim, thread_id, run_ids, plan.label, observer, deadline)
    if plan.late_join and run_ids:
        args = {"thread_id": thread_id, "run_id": run_ids[0]}
        yield (
            "op",
            "runs.join",
            args,
            _join(server, thread_id, run_ids[0], streaming=False),
            process,
            False,
        )
    if plan.follow_up:
        outcome, result = yield (
            "op",
            "runs.create",
            _create_args(thread_id, plan.strategies[0], plan.graph),
            _create(server, thread_id, plan.strategies[0], plan.graph, plan.duration_s),
            process,
            False,
        )
        if outcome == "ok":
            run_ids.append(result["run_id"])
        yield from _observe(
            sim, thread_id, run_ids, plan.label, observer, sim.clock.now + max_duration_s
        )


def _one(sim: Sim, f: str, args: dict[str, Any], effect: Any, process: int) -> Step:
    yield ("op", f, args, effect, process, False)


def _observe(
    sim: Sim, thread_id: str, run_ids: list[str], label: str, process: int, deadline: float
) -> Step:
    server = sim.server
    timed_out = False
    while True:
        busy = False
        for run_id in list(run_ids):
            args = {"thread_id": thread_id, "run_id": run_id}
            outcome, result = yield (
                "op",
                "runs.get",
                args,
                _get_run(server, thread_id, run_id),
                process,
                True,
            )
            if outcome == "ok" and result["status"] in ("pending", "running"):
                busy = True
        args = {"thread_id": thread_id}
        yield (
            "op",
            "threads.get",
            args,
            _get_thread(server, thread_id),
            process,
            True,
        )
        if not busy:
            break
        if sim.clock.now >= deadline:
            timed_out = True
            break
        yield ("sleep_until", min(sim.clock.now + OBSERVE_S, deadline))
    yield (
        "op",
        "threads.get_state",
        {"thread_id": thread_id},
        _read(
            lambda: {
                "thread_id": thread_id,
                "tokens": server.tokens(thread_id) or None,
                "next": [],
                "interrupts": 0,
            }
        ),
        process,
        True,
    )
    limit = max(10, 2 * len(run_ids))
    yield (
        "op",
        "runs.list",
        {"thread_id": thread_id, "limit": limit},
        _read(
            lambda: {
                "thread_id": thread_id,
                "runs": [
                    {
                        "run_id": r,
                        "status": st,
                        "created_at": None,
                        "updated_at": None,
                        "multitask_strategy": None,
                    }
                    for r, st in server.list_runs(thread_id)
                ],
            }
        ),
        process,
        True,
    )
    yield (
        "marker",
        "burst.settled",
        {
            "thread_id": thread_id,
            "strategy": label,
            "run_ids": list(run_ids),
            "statuses": {},
            "timed_out": timed_out,
        },
    )


def _late_look(sim: Sim, threads: list[str]) -> Step:
    """Once more, long after everything settled: every run's status and the thread's."""
    server = sim.server
    process = next(sim.processes)
    for thread_id in threads:
        for run_id in list(server.threads[thread_id].runs):
            args = {"thread_id": thread_id, "run_id": run_id}
            yield (
                "op",
                "runs.get",
                args,
                _get_run(server, thread_id, run_id),
                process,
                True,
            )
        yield (
            "op",
            "threads.get",
            {"thread_id": thread_id},
            _get_thread(server, thread_id),
            process,
            True,
        )
