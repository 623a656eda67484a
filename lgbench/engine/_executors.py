"""Executors at run time: how each scenario starts its iterations, and how it stops.

One class per executor config (``constant-vus`` ↔ :class:`ConstantVusExecutor` ↔
``ConstantVusConfig``), built by :func:`build_executor`. Each one, in :meth:`Executor.run`:

1. waits for the scenario's ``start_time`` (measured from the run's start);
2. runs its *active phase*: closed executors keep VUs (actors) looping, open executors hand
   iterations to free VUs on the pacer's schedule (:func:`~lgbench.engine.run_paced`), the
   burst executor creates threads, fires its runs and observes them;
3. at the end of the active phase, or on a stop request (:class:`~lgbench.engine.RunControl`),
   starts no new iteration; iterations in flight get ``graceful_stop`` seconds, then are
   cancelled (their operations are recorded as cancelled: ``info`` for writes).

Policies:

- **Arrival rate honesty**: ``pre_allocated_vus`` actors are made up front; when none is free
  the pool grows up to ``max_vus``; beyond that the iteration is *dropped*, counted in
  ``dropped_iterations``, with one warning; never queued. Iterations are timed from their
  intended start; the dispatcher's lateness goes to the schedule-lag histogram.
- **Ramping VUs**: a VU whose index falls out of the plan's count finishes its iteration and
  parks; after ``graceful_ramp_down`` its iteration is cancelled; it resumes if the count comes
  back first (k6's rule).
- **Iteration plans** (per-VU and shared iterations) end early when the work is done.
- **Burst**: for each thread one actor creates it, writes a ``burst.start`` marker, and starts
  ``burst`` runs back to back (run ``r`` not before ``r * stagger`` after the thread exists);
  then an observer (its own process id) polls one ``runs.list`` of the thread per tick (and
  ``threads.get`` when the list changed), every ``observe_interval`` at first and backing off
  while nothing changes, until no run is pending or running, or ``max_duration`` after the
  scenario's start passes (or a stop is requested); then it reads ``threads.get`` and
  ``threads.get_state`` (and ``runs.list`` again if the last one did not show the thread
  settled; a run missing from a complete list is gone, for the checker too), and writes
  ``burst.settled``.

Every loop yields to the event loop once per iteration, so a target that fails instantly
cannot starve the clock.
"""

from __future__ import annotations

import abc
import math
from bisect import bisect_right
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Final, final

import anyio
import anyio.abc
import anyio.lowlevel

from lgbench.client import NotFoundError
from lgbench.engine._actor import Actor, ScenarioContext
from lgbench.engine._control import RunControl
from lgbench.engine._pacer import Pacer
from lgbench.engine._plan import Burst, ConstantVus, PerVuIterations, RampingVus, SharedIterations
from lgbench.engine._recorder import LoadModel
from lgbench.engine._schedule import run_paced
from lgbench.engine._segment import ScenarioPlan, SegmentVus, plan_scenario
from lgbench.operations import OPERATIONS
from lgbench.workload import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    ExecutorConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    SharedIterationsConfig,
    render,
)

__all__ = [
    "BurstExecutor",
    "ConstantArrivalRateExecutor",
    "ConstantVusExecutor",
    "Executor",
    "PerVuIterationsExecutor",
    "RampingArrivalRateExecutor",
    "RampingVusExecutor",
    "SharedIterationsExecutor",
    "build_executor",
    "executor_model",
]

_PENDING: Final = frozenset({"pending", "running"})
#: A burst observer's pause grows to this many ``observe_interval`` while nothing changes.
_BACKOFF_CAP: Final = 16
#: The smallest ``runs.list`` page a burst observer asks for.
_MIN_LIST_LIMIT: Final = 10


class Executor(abc.ABC):
    """Runs one scenario (see the module docstring). ``origin_s`` is the run's start.

    ``plan``: this process's share of the scenario (default: the whole of it); an empty
    share returns at once.
    """

    MODEL: ClassVar[LoadModel] = "closed"

    def __init__(
        self,
        ctx: ScenarioContext,
        control: RunControl,
        origin_s: float,
        plan: ScenarioPlan | None = None,
    ) -> None:
        self.ctx = ctx
        self.control = control
        self.config: ExecutorConfig = ctx.scenario.executor
        self.scenario_plan = plan if plan is not None else plan_scenario(self.config)
        self.origin_s = origin_s
        self.start_s = origin_s + self.config.start_time_s
        self.stopping = False
        self._stopping_event = anyio.Event()
        self._task_group: anyio.abc.TaskGroup | None = None

    @property
    def clock(self) -> Callable[[], float]:
        return self.ctx.recorder.clock

    @property
    def task_group(self) -> anyio.abc.TaskGroup:
        """The task group the iterations run in (only during :meth:`run`)."""
        assert self._task_group is not None
        return self._task_group

    async def run(self) -> None:
        """Wait for the start time, run the active phase, then stop gracefully."""
        stats = self.ctx.stats
        if self.scenario_plan.empty:
            return  # this worker's share of the scenario is nothing
        if not await self.wait_until(self.start_s):
            return  # stopped before the scenario began
        stats.started_s = self.clock()
        try:
            with anyio.CancelScope() as hard:
                async with anyio.create_task_group() as task_group:
                    self._task_group = task_group
                    await self.active(task_group)
                    self._begin_stop()
                    hard.deadline = self.clock() + self.config.graceful_stop_s
        finally:
            self._begin_stop()
            self._task_group = None
            stats.ended_s = self.clock()

    def _begin_stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self._stopping_event.set()
            self.on_stopping()

    def on_stopping(self) -> None:  # noqa: B027 - an optional hook
        """Called once when no new iteration may start."""

    @abc.abstractmethod
    async def active(self, task_group: anyio.abc.TaskGroup) -> None:
        """Start iterations until the active phase ends; return then (in-flight may go on)."""

    async def wait_until(self, deadline_s: float, done: anyio.Event | None = None) -> bool:
        """Sleep until ``deadline_s``; False if a stop request (or ``done``) came first."""
        if self.control.stopping:
            return False
        if done is not None and done.is_set():
            return False
        reached = False
        async with anyio.create_task_group() as watchers:

            async def watch(event: anyio.Event) -> None:
                await event.wait()
                watchers.cancel_scope.cancel()

            watchers.start_soon(watch, self.control.stop_requested)
            if done is not None:
                watchers.start_soon(watch, done)
            await anyio.sleep_until(deadline_s)
            reached = True
            watchers.cancel_scope.cancel()
        return reached and not self.control.stopping

    async def until_stopped(self, work: Callable[[], Awaitable[Any]]) -> bool:
        """Run ``work`` until it returns (True) or a stop is requested (False)."""
        if self.control.stopping:
            return False
        finished = False
        async with anyio.create_task_group() as watchers:

            async def watch() -> None:
                await self.control.stop_requested.wait()
                watchers.cancel_scope.cancel()

            watchers.start_soon(watch)
            await work()
            finished = True
            watchers.cancel_scope.cancel()
        return finished

    def may_start(self, end_s: float) -> bool:
        """Whether a new iteration may start now: not stopping, and before ``end_s``."""
        return not self.stopping and self.clock() < end_s

    def new_actor(self, vu: int) -> Actor:
        """An actor for this share's VU ``vu`` (from 1), numbered as in the whole plan."""
        self.ctx.stats.allocated_vus += 1
        return Actor(self.ctx, self.scenario_plan.vu_number(vu - 1))


@final
class ConstantVusExecutor(Executor):
    """``vus`` actors loop until ``duration``."""

    config: ConstantVusConfig

    async def active(self, task_group: anyio.abc.TaskGroup) -> None:
        plan = self.scenario_plan.schedule
        assert isinstance(plan, ConstantVus)
        end_s = self.start_s + plan.duration_s
        for vu in range(1, plan.vus + 1):
            task_group.start_soon(self._loop, self.new_actor(vu), end_s)
        await self.wait_until(end_s)

    async def _loop(self, actor: Actor, end_s: float) -> None:
        while self.may_start(end_s):
            await actor.run_iteration()
            await anyio.lowlevel.checkpoint()


@final
class RampingVusExecutor(Executor):
    """The VU count follows :class:`~lgbench.engine.RampingVus`'s change points."""

    config: RampingVusConfig

    def __init__(
        self,
        ctx: ScenarioContext,
        control: RunControl,
        origin_s: float,
        plan: ScenarioPlan | None = None,
    ) -> None:
        super().__init__(ctx, control, origin_s, plan)
        vus_plan = self.scenario_plan.schedule
        assert vus_plan is None or isinstance(vus_plan, RampingVus | SegmentVus)
        self.target = 0
        points = vus_plan.change_points() if vus_plan is not None else ()
        self._max_vus = vus_plan.max_vus if vus_plan is not None else 0
        self._grace_s = vus_plan.graceful_ramp_down_s if vus_plan is not None else 0.0
        self._change_s = [self.start_s + point.at_s for point in points]
        self._change_vus = [point.vus for point in points]
        self._end_s = self.start_s + (vus_plan.duration_s if vus_plan is not None else 0.0)
        self._changed = anyio.Event()
        self._scopes: dict[int, anyio.CancelScope] = {}

    async def active(self, task_group: anyio.abc.TaskGroup) -> None:
        for index in range(self._max_vus):
            task_group.start_soon(self._loop, index)
        for at_s, vus in zip(self._change_s, self._change_vus, strict=True):
            if at_s >= self._end_s:
                break
            if not await self.wait_until(at_s):
                return
            self._set_target(vus)
        await self.wait_until(self._end_s)

    def _set_target(self, vus: int) -> None:
        old = self.target
        self.target = vus
        now = self.clock()
        for index in range(vus, old):  # ramped down: finish, or be cancelled after the grace
            scope = self._scopes.get(index)
            if scope is not None:
                scope.deadline = now + self._grace_s
        for index in range(old, vus):  # back in range before the grace ran out
            scope = self._scopes.get(index)
            if scope is not None:
                scope.deadline = math.inf
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def on_stopping(self) -> None:
        self._wake()

    def _wanted(self, index: int) -> bool:
        # The plan decides, not the controller (which may not have run yet at this instant),
        # on the clock's own scale: the controller wakes VUs at exactly these times.
        now_s = self.clock()
        if now_s >= self._end_s:
            return False
        position = bisect_right(self._change_s, now_s) - 1
        return position >= 0 and index < self._change_vus[position]

    async def _loop(self, index: int) -> None:
        actor: Actor | None = None
        while True:
            while not self.stopping and not self._wanted(index):
                await self._changed.wait()
            if self.stopping:
                return
            if actor is None:
                actor = self.new_actor(index + 1)
            with anyio.CancelScope() as scope:
                self._scopes[index] = scope
                try:
                    await actor.run_iteration()
                finally:
                    del self._scopes[index]
            await anyio.lowlevel.checkpoint()


@final
class PerVuIterationsExecutor(Executor):
    """Each actor runs ``iterations`` iterations; done early when all are."""

    config: PerVuIterationsConfig

    async def active(self, task_group: anyio.abc.TaskGroup) -> None:
        plan = self.scenario_plan.schedule
        assert isinstance(plan, PerVuIterations)
        end_s = self.start_s + plan.max_duration_s
        done = anyio.Event()
        remaining = [plan.vus]

        async def loop(actor: Actor) -> None:
            try:
                for _ in range(plan.iterations):
                    if not self.may_start(end_s):
                        break
                    await actor.run_iteration()
                    await anyio.lowlevel.checkpoint()
            finally:
                remaining[0] -= 1
                if not remaining[0]:
                    done.set()

        for vu in range(1, plan.vus + 1):
            task_group.start_soon(loop, self.new_actor(vu))
        await self.wait_until(end_s, done)


@final
class SharedIterationsExecutor(Executor):
    """``iterations`` in all, each taken by whichever actor is free."""

    config: SharedIterationsConfig

    async def active(self, task_group: anyio.abc.TaskGroup) -> None:
        plan = self.scenario_plan.schedule
        assert isinstance(plan, SharedIterations)
        end_s = self.start_s + plan.max_duration_s
        done = anyio.Event()
        remaining = [plan.vus]
        taken = [0]

        async def loop(actor: Actor) -> None:
            try:
                while self.may_start(end_s) and taken[0] < plan.iterations:
                    taken[0] += 1
                    await actor.run_iteration()
                    await anyio.lowlevel.checkpoint()
            finally:
                remaining[0] -= 1
                if not remaining[0]:
                    done.set()

        for vu in range(1, plan.vus + 1):
            task_group.start_soon(loop, self.new_actor(vu))
        await self.wait_until(end_s, done)


@final
class _ArrivalVu:
    """An arrival-rate VU: one task from its first iteration on, parked between iterations."""

    __slots__ = ("actor", "due_s", "wake")

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.due_s: float | None = None  # the iteration handed over, until it starts
        # Set when the dispatcher hands an iteration over (or at the stop); None until the
        # VU's task runs, so pre-allocated VUs that are never needed cost no task or event.
        self.wake: anyio.Event | None = None


class _ArrivalRateExecutor(Executor):
    """The open model: one dispatcher and a pool of VUs, each a task of its own (from its
    first iteration) that the dispatcher wakes with the next one: a task per iteration cost
    more than the rest of the dispatch together."""

    MODEL: ClassVar[LoadModel] = "open"

    def __init__(
        self,
        ctx: ScenarioContext,
        control: RunControl,
        origin_s: float,
        plan: ScenarioPlan | None = None,
    ) -> None:
        super().__init__(ctx, control, origin_s, plan)
        self._idle: list[_ArrivalVu] = []
        self._allocated = 0

    def pacer(self) -> Pacer:
        """The schedule of iterations (this process's share of the arrivals)."""
        pacer = self.scenario_plan.schedule
        assert pacer is not None
        return pacer  # type: ignore[return-value]  # an arrival-rate plan's is a pacer

    @property
    def max_vus(self) -> int:
        return self.scenario_plan.max_vus

    def _allocate(self) -> _ArrivalVu:
        self._allocated += 1
        return _ArrivalVu(self.new_actor(self._allocated))

    async def active(self, task_group: anyio.abc.TaskGroup) -> None:
        pre_allocated = self.scenario_plan.pre_allocated_vus
        self._idle = [self._allocate() for _ in range(pre_allocated)]
        self._idle.reverse()  # VU 1 first
        pacer = self.pacer()
        await self.until_stopped(lambda: run_paced(pacer, self._start, start_s=self.start_s))
        await self.wait_until(self.start_s + pacer.duration_s)

    def on_stopping(self) -> None:
        # The parked VUs end; the busy ones end after their iteration.
        idle, self._idle = self._idle, []
        for vu in idle:
            if vu.wake is not None:
                vu.wake.set()

    def _start(self, n: int, intended_s: float) -> None:
        recorder = self.ctx.recorder
        recorder.schedule_lag(intended_s, self.clock())
        if self._idle:
            vu = self._idle.pop()
            if vu.wake is None:  # its first iteration: its task starts
                self.task_group.start_soon(self._work, vu, intended_s)
            else:
                vu.due_s = intended_s
                vu.wake.set()
        elif self._allocated < self.max_vus:
            self.task_group.start_soon(self._work, self._allocate(), intended_s)
        else:
            self.ctx.stats.dropped += 1
            recorder.warn(
                f"dropped:{self.ctx.name}",
                f"scenario {self.ctx.name!r}: all {self.max_vus} VUs were busy, so iterations"
                " were dropped (see dropped_iterations); raise max_vus or lower the rate",
            )

    async def _work(self, vu: _ArrivalVu, intended_s: float) -> None:
        """``vu``'s iterations, the first due at ``intended_s``, the next ones as the
        dispatcher hands them over, until the stop."""
        while True:
            await vu.actor.run_iteration(intended_s)
            if self.stopping:
                return
            wake = vu.wake = anyio.Event()
            self._idle.append(vu)
            await wake.wait()
            due_s, vu.due_s = vu.due_s, None
            if due_s is None:
                return  # woken by the stop
            intended_s = due_s


@final
class ConstantArrivalRateExecutor(_ArrivalRateExecutor):
    """``rate`` iterations per ``time_unit`` for ``duration``."""

    config: ConstantArrivalRateConfig


@final
class RampingArrivalRateExecutor(_ArrivalRateExecutor):
    """A piecewise-linear rate through the stages."""

    config: RampingArrivalRateConfig


@final
class BurstExecutor(Executor):
    """Double-texting bursts, observed until they settle (see the module docstring)."""

    MODEL: ClassVar[LoadModel] = "burst"
    config: BurstConfig

    async def active(self, task_group: anyio.abc.TaskGroup) -> None:
        plan = self.scenario_plan.schedule
        assert isinstance(plan, Burst)
        done = anyio.Event()
        remaining = [plan.threads]

        async def one(actor: Actor) -> None:
            try:
                await self._thread(actor)
            finally:
                remaining[0] -= 1
                if not remaining[0]:
                    done.set()

        for vu in range(1, plan.threads + 1):
            task_group.start_soon(one, self.new_actor(vu))
        await self.wait_until(self.start_s + self.config.max_duration_s, done)

    async def _thread(self, actor: Actor) -> None:
        stats = self.ctx.stats
        stats.started += 1
        stats.active_vus += 1
        started_s = self.clock()
        outcome = "interrupted"
        try:
            outcome = await self._burst(actor)
        finally:
            stats.active_vus -= 1
            if outcome == "finished":
                stats.finished += 1
                stats.iteration_time.record_us(round((self.clock() - started_s) * 1_000_000))
            elif outcome == "failed":
                stats.failed += 1
            else:
                stats.interrupted += 1

    async def _burst(self, actor: Actor) -> str:
        ctx = self.ctx
        config = self.config
        recorder = ctx.recorder
        created = await actor.call(OPERATIONS["threads.create"], {})
        if not created.ok or not isinstance(created.value, dict):
            return "failed"
        thread_id = created.value.get("thread_id")
        if not isinstance(thread_id, str):
            return "failed"
        recorder.marker(
            "burst.start",
            scenario=ctx.name,
            value={
                "thread_id": thread_id,
                "strategy": config.strategy,
                "assistant_id": config.assistant_id,
                "runs": config.burst,
                "stagger_s": config.stagger_s,
            },
        )
        ready_s = self.clock()
        run_ids: list[str] = []
        for run in range(config.burst):
            if self.stopping:
                break
            if run and config.stagger_s:
                intended_s = ready_s + run * config.stagger_s
                if intended_s > self.clock():
                    await anyio.sleep_until(intended_s)
                    # Only a timer that fired late is lgbench's lag: a run due while the
                    # previous runs.create was still awaited is late because of the server.
                    recorder.schedule_lag(intended_s, self.clock())
            run_input = render(dict(config.input), {}, actor.rng, actor.vu, run)
            result = await actor.call(
                OPERATIONS["runs.create"],
                {
                    "thread_id": thread_id,
                    "assistant_id": config.assistant_id,
                    "input": run_input,
                    "multitask_strategy": config.strategy,
                },
            )
            if result.ok and isinstance(result.value, dict):
                run_id = result.value.get("run_id")
                if isinstance(run_id, str):
                    run_ids.append(run_id)
        settled = await self._observe(actor, thread_id, run_ids)
        return "finished" if settled else "failed"

    async def _observe(self, actor: Actor, thread_id: str, run_ids: list[str]) -> bool:
        """Poll until the runs settle or the deadline passes; True if they settled.

        One ``runs.list`` of the thread per tick (not one request per run); a ``threads.get``
        only when the list changed; the pause doubles while nothing changes, up to
        ``_BACKOFF_CAP`` times ``observe_interval``, and is back to ``observe_interval`` after a
        change. The list that shows every run final (or gone) is the thread's final list.
        """
        ctx = self.ctx
        config = self.config
        process = ctx.recorder.new_process()
        deadline_s = self.start_s + config.max_duration_s
        statuses: dict[str, str | None] = {}
        timed_out = False
        limit = max(_MIN_LIST_LIMIT, 2 * max(len(run_ids), config.burst))
        base_s = config.observe_interval_s
        cap_s = base_s * _BACKOFF_CAP

        async def observe(operation: str, values: dict[str, Any]) -> Any:
            return await actor.call(OPERATIONS[operation], values, observer=True, process=process)

        pause_s = base_s
        seen: object = None
        final_list = False
        while True:
            listed = await observe("runs.list", {"thread_id": thread_id, "limit": limit})
            busy, key = _list_statuses(listed, run_ids, limit, statuses)
            changed = key != seen
            seen = key
            if not busy:
                final_list = listed.ok
                break
            if changed:
                await observe("threads.get", {"thread_id": thread_id})
            if self.stopping or self.clock() >= deadline_s:
                timed_out = True
                break
            pause_s = base_s if changed else min(pause_s * 2, cap_s)
            wake_s = min(self.clock() + pause_s, deadline_s)
            if not await self.wait_until(wake_s, self._stopping_event):
                timed_out = True  # a stop was requested, or the scenario is stopping
                break
        await observe("threads.get", {"thread_id": thread_id})
        await observe("threads.get_state", {"thread_id": thread_id})
        if not final_list:
            await observe("runs.list", {"thread_id": thread_id, "limit": limit})
        ctx.recorder.marker(
            "burst.settled",
            scenario=ctx.name,
            value={
                "thread_id": thread_id,
                "strategy": config.strategy,
                "run_ids": run_ids,
                "statuses": statuses,
                "timed_out": timed_out,
            },
        )
        if not timed_out:
            ctx.recorder.threads.settled(thread_id)  # read back settled: the audit may skip it
        return not timed_out


def _list_statuses(
    listed: Any, run_ids: list[str], limit: int, statuses: dict[str, str | None]
) -> tuple[bool, object]:
    """Fold one ``runs.list`` answer into ``statuses``: whether a run may still be in flight,
    and what changes when a run's status does (to tell a changed list from the same one).

    A run missing from a complete list (fewer runs than ``limit``) is ``deleted``; a thread
    that is gone (404) has every run deleted; any other failure says nothing (still busy).
    """
    if not listed.ok:
        if isinstance(listed.error, NotFoundError):
            for run_id in run_ids:
                statuses[run_id] = "deleted"
            return False, "gone"
        return True, None
    runs = listed.value if isinstance(listed.value, list) else []
    found: dict[str, Any] = {}
    for run in runs:
        if isinstance(run, dict) and isinstance(run.get("run_id"), str):
            found[run["run_id"]] = run.get("status")
    complete = len(runs) < limit
    busy = any(status in _PENDING for status in found.values())
    for run_id in run_ids:
        if run_id in found:
            statuses[run_id] = found[run_id]
        elif complete:
            statuses[run_id] = "deleted"
        else:
            busy = True  # beyond the page: not seen, so not known to be final
    return busy, tuple(sorted(found.items(), key=lambda item: item[0]))


_EXECUTORS: Final[dict[type[ExecutorConfig], type[Executor]]] = {
    ConstantVusConfig: ConstantVusExecutor,
    RampingVusConfig: RampingVusExecutor,
    PerVuIterationsConfig: PerVuIterationsExecutor,
    SharedIterationsConfig: SharedIterationsExecutor,
    ConstantArrivalRateConfig: ConstantArrivalRateExecutor,
    RampingArrivalRateConfig: RampingArrivalRateExecutor,
    BurstConfig: BurstExecutor,
}


def executor_model(config: ExecutorConfig) -> LoadModel:
    """``open``, ``closed`` or ``burst`` for an executor config."""
    return _EXECUTORS[type(config)].MODEL


def build_executor(
    ctx: ScenarioContext,
    control: RunControl,
    origin_s: float,
    plan: ScenarioPlan | None = None,
) -> Executor:
    """The runtime executor of ``ctx.scenario``'s config, running ``plan`` (default: the
    whole scenario; a worker of a split run passes its share, :func:`plan_scenario`)."""
    cls = _EXECUTORS.get(type(ctx.scenario.executor))
    if cls is None:
        raise ValueError(f"no runtime executor for {type(ctx.scenario.executor).__name__}")
    return cls(ctx, control, origin_s, plan)
