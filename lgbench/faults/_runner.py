"""Playing a fault schedule during a run: :func:`run_fault_schedule`.

Each fault waits for its start time, is applied, and is lifted after its duration; the
caller hears of each start and end through ``on_change`` (history markers, report
bands). Faults without a duration last until the schedule is cancelled, which is how a
run ends it: run it in the run's task group and cancel that when the run is over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

import anyio

from lgbench.errors import LgbenchError, UsageError
from lgbench.faults._proxy import FaultProxy
from lgbench.faults._schedule import FaultKind, FaultSpec, check_schedule

if TYPE_CHECKING:
    from lgbench.server import AsyncEmbeddedServer

__all__ = ["FaultEvent", "FaultPhase", "run_fault_schedule"]

#: A fault begins (``start``) or is over (``end``).
FaultPhase: TypeAlias = Literal["start", "end"]

_Undo: TypeAlias = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """A fault starting or ending, ``at_s`` seconds after the schedule's origin.

    ``start`` is reported just before the fault is applied; ``end`` once it is undone
    (for a kill with a duration and for a restart: once the server answers again), or
    when the schedule is cancelled for a fault still in force.
    """

    name: str
    kind: FaultKind
    phase: FaultPhase
    at_s: float
    spec: FaultSpec


async def run_fault_schedule(
    schedule: Sequence[FaultSpec],
    *,
    proxy: FaultProxy | None,
    server: AsyncEmbeddedServer | None,
    origin_s: float,
    on_change: Callable[[FaultEvent], None],
    clock: Callable[[], float] = anyio.current_time,
) -> None:
    """Apply each fault of ``schedule`` at ``origin_s + at_s`` and lift it after ``for_s``.

    ``clock`` is the monotonic clock ``origin_s`` is on; anyio's sleeps must follow the
    same clock (``anyio.current_time``, or ``time.monotonic`` on asyncio). Faults run
    concurrently, each in its own task; a start time already past applies at once.
    Returns when every fault has ended; faults with no duration end only when this is
    cancelled, and then every fault still in force is lifted (a paused server resumed,
    proxy faults lifted; a killed server stays down) and reported ended.

    Raises:
        UsageError: the schedule needs something the run lacks (see
            :func:`check_schedule`): raised before anything is applied, listing every problem.
        ServerError: the embedded server could not be restarted.
        TargetError: the proxy could not bind its port again after a refuse fault.
    """
    problems = check_schedule(schedule, has_proxy=proxy is not None, has_server=server is not None)
    if problems:
        raise UsageError("the fault schedule cannot run:\n" + "\n".join(f"- {p}" for p in problems))

    def emit(spec: FaultSpec, phase: FaultPhase) -> None:
        on_change(FaultEvent(spec.name, spec.kind, phase, clock() - origin_s, spec))

    async def sleep_until(offset_s: float) -> None:
        # Loop: a timer may fire a hair early; a fault must never start before its time.
        while True:
            remaining_s = origin_s + offset_s - clock()
            if remaining_s <= 0:
                return
            await anyio.sleep(remaining_s)

    async def apply(spec: FaultSpec) -> _Undo | None:
        fault = spec.proxy_fault()
        if fault is not None:
            assert proxy is not None
            applied = await proxy.apply(fault)
            return lambda: proxy.lift(applied)
        assert server is not None
        if spec.kind == "kill":
            await server.kill()
            return server.restart if spec.for_s is not None else None
        if spec.kind == "pause":
            await server.pause()
            return server.resume
        await server.restart()
        return None

    async def play(spec: FaultSpec) -> None:
        await sleep_until(spec.at_s)
        emit(spec, "start")
        undo: _Undo | None = None
        completed = False
        try:
            undo = await apply(spec)
            if spec.kind != "restart":
                end_s = spec.end_s
                if end_s is None:
                    await anyio.sleep_forever()
                else:
                    await sleep_until(end_s)
            completed = True
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    # Cut short, a killed server is not restarted: the run is ending.
                    if undo is not None and (completed or spec.kind != "kill"):
                        await undo()
                except LgbenchError:
                    if completed:
                        raise
                    # Cancelled: the run is ending, and its own error matters more.
                finally:
                    emit(spec, "end")

    async with anyio.create_task_group() as task_group:
        for spec in sorted(schedule, key=lambda spec: (spec.at_s, spec.name)):
            task_group.start_soon(play, spec, name=f"fault {spec.name}")
