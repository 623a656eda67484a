"""The open-model dispatcher loop: sleep until each iteration is due, then hand it over.

On asyncio the loop's own timer runs the dispatch (:class:`_TimerDispatch`): a wake-up is one
timer callback that starts every iteration then due, where a sleeping task would take a
future, a timer, the task's step and one more pass of the event loop before the VUs it
wakes could run. On trio the dispatcher is a task that sleeps.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Awaitable, Callable, Iterator

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
    if running_on_asyncio():
        return await _TimerDispatch(pacer, start_iteration, clock, origin_s).run()
    import trio  # only when running on trio: importing it costs time

    sleep_until = trio.sleep_until
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


class _TimerDispatch:
    """:func:`run_paced` on asyncio: the event loop's timer calls :meth:`_dispatch`, which
    starts every iteration due by the clock and sets the timer for the next one.

    The task running :meth:`run` only waits: for the end of the schedule, or for a
    ``start_iteration`` that returned an awaitable (it awaits that, then dispatches on).
    Cancelling that task (the executor's duration, a stop) cancels the timer; an exception
    from ``start_iteration`` is raised in that task.
    """

    __slots__ = (
        "_clock",
        "_done",
        "_intended_s",
        "_loop",
        "_origin_s",
        "_start",
        "_timer",
        "_times",
        "_whole_ms",
        "started",
    )

    def __init__(
        self,
        pacer: Pacer,
        start_iteration: Callable[[int, float], Awaitable[None] | None],
        clock: Callable[[], float],
        origin_s: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._times: Iterator[float] = due_times(pacer)
        self._start = start_iteration
        self._clock = clock
        self._origin_s = origin_s
        #: The next iteration's intended start once read from the pacer, until it starts.
        self._intended_s: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._done: asyncio.Future[Awaitable[None] | None] = loop.create_future()
        uvloop = sys.modules.get("uvloop")
        # libuv counts whole milliseconds from its loop time (``loop.time()``, truncated to
        # the millisecond) and uvloop rounds a delay to the nearest one: a timer set for the
        # next millisecond boundary at or after the deadline never fires before it.
        self._whole_ms = uvloop is not None and isinstance(loop, uvloop.Loop)
        self.started = 0

    async def run(self) -> int:
        loop = self._loop
        while True:
            done = self._done = loop.create_future()
            self._dispatch()
            try:
                blocked = await done
            finally:
                timer, self._timer = self._timer, None
                if timer is not None:
                    timer.cancel()
            if blocked is None:
                return self.started
            await blocked

    def _dispatch(self) -> None:
        self._timer = None
        done = self._done
        if done.done():  # the waiting task was cancelled just before the timer fired
            return
        clock = self._clock
        start = self._start
        times = self._times
        origin_s = self._origin_s
        intended_s = self._intended_s
        # A stale reading only ever errs on the side of "not yet": read again then.
        now_s = -math.inf
        try:
            while True:
                if intended_s is None:
                    at_s = next(times, None)
                    if at_s is None:
                        done.set_result(None)
                        return
                    intended_s = origin_s + at_s
                if intended_s > now_s:
                    now_s = clock()
                    if intended_s > now_s:  # not due yet (or woken early): wait for it
                        self._intended_s = intended_s
                        self._set_timer(intended_s)
                        return
                result = start(self.started, intended_s)
                self.started += 1
                intended_s = None
                if result is not None:  # the hand-over blocks: the waiting task awaits it
                    self._intended_s = None
                    done.set_result(result)
                    return
        except Exception as exc:  # raised in the waiting task, as from a plain loop
            self._intended_s = intended_s
            done.set_exception(exc)

    def _set_timer(self, deadline_s: float) -> None:
        loop = self._loop
        if self._whole_ms:
            delay_s = math.ceil((deadline_s - loop.time()) * 1000) / 1000
            self._timer = loop.call_later(delay_s, self._dispatch)
        else:
            self._timer = loop.call_at(deadline_s, self._dispatch)


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
