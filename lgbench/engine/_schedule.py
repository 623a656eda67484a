"""The open-model dispatcher loop: sleep until each iteration is due, then hand it over."""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Awaitable, Callable

import anyio

from lgbench._backend import running_on_asyncio
from lgbench.engine._pacer import Pacer, due_times

__all__ = ["run_paced", "sleep_until_reached"]


async def run_paced(
    pacer: Pacer,
    start_iteration: Callable[[int, float], Awaitable[None] | None],
    *,
    clock: Callable[[], float] = anyio.current_time,
    start_s: float | None = None,
) -> int:
    """Start every iteration of ``pacer`` on time; return how many were started.

    For ``n = 0, 1, ...`` until ``pacer.next_at(n)`` is ``None``: sleep until
    ``start_s + next_at(n)``, then call ``start_iteration(n, intended_s)`` with that intended
    time on the ``clock``'s scale (measure latency from it), awaiting the result if it is
    awaitable. ``start_iteration`` should only hand the iteration over (to a free VU, or
    ``task_group.start_soon``); while it blocks, later iterations wait. No iteration starts
    before it is due by ``clock``, whatever the event loop's timer resolution (uvloop's
    timers count whole milliseconds, and would fire up to half of one early).

    Behind schedule the loop does not sleep: overdue iterations start at once, one after the
    other, each still stamped with its intended time. Nothing is skipped here; an executor that
    drops iterations when no VU is free does so inside ``start_iteration``.

    ``clock`` must read the event loop's clock (sleeping uses :func:`anyio.sleep_until`);
    ``start_s`` is the time elapsed time counts from (default: ``clock()`` on entry).
    Cancellation (the executor's duration or a graceful stop) ends the loop as usual.
    """
    origin_s = clock() if start_s is None else start_s
    sleep_until = _native_sleep_until()
    n = 0
    # The clock is read again only when the last reading does not show an iteration due:
    # every iteration due by one reading starts in the same pass, one clock read per wake-up
    # instead of one per iteration (a stale reading only ever errs on the side of "not yet").
    now_s = -math.inf
    for at_s in due_times(pacer):
        intended_s = origin_s + at_s
        if intended_s > now_s:
            now_s = clock()
            while intended_s > now_s:  # woken early: sleep again
                await sleep_until(intended_s)
                now_s = clock()
        result = start_iteration(n, intended_s)
        if result is not None:
            await result
            now_s = clock()
        n += 1
    return n


async def sleep_until_reached(deadline_s: float, clock: Callable[[], float]) -> None:
    """Sleep until ``clock`` reads ``deadline_s`` or later (``clock`` on the event loop's
    scale, as :func:`run_paced`'s). anyio's sleep alone can end before it on uvloop, whose
    timers round to whole milliseconds: a plan read on ``clock`` just after would still
    show the time before the deadline. After such an early end this sleeps again, at most
    a millisecond more, so keep it for waits that are few (a scenario's start and end, a
    ramp's change points), not one per iteration."""
    while True:
        await anyio.sleep_until(deadline_s)
        if clock() >= deadline_s:
            return


def _native_sleep_until() -> Callable[[float], Awaitable[None]]:
    """The running backend's own sleep until a deadline on the event loop's clock: the
    dispatcher sleeps once per iteration, and anyio's portable one finds the backend and
    reads the clock again on each call."""
    if running_on_asyncio():
        loop = asyncio.get_running_loop()
        loop_time = loop.time
        uvloop = sys.modules.get("uvloop")
        if uvloop is not None and isinstance(loop, uvloop.Loop):
            # libuv counts whole milliseconds from its loop time (``loop.time()``, truncated
            # to the millisecond) and uvloop rounds a delay to the nearest one: a timer set
            # for the next millisecond boundary at or after the deadline never fires before it.
            async def sleep_until_ms(deadline_s: float) -> None:
                now_ms = loop_time()
                await asyncio.sleep(math.ceil((deadline_s - now_ms) * 1000) / 1000)

            return sleep_until_ms

        async def sleep_until(deadline_s: float) -> None:
            await asyncio.sleep(deadline_s - loop_time())

        return sleep_until
    import trio  # only when running on trio: importing it costs time

    return trio.sleep_until
