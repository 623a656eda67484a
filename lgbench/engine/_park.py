"""A parked VU's slot: where the dispatcher puts its next iteration, in the backend's own terms.

The open model parks every idle VU between iterations and wakes it with the next one: a
hand-over per iteration. The slot carries the iteration itself (its intended start, or
``None`` for the stop), so waking and handing over are one call and one object. On asyncio
the slot is a bare future of the running loop: nothing is built per iteration beyond it (no
wrapper, no coroutine to wait on it). trio has no future; its slot reschedules the parked
task directly, without the queue of waiters an event keeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any, Protocol

from lgbench._backend import running_on_asyncio

__all__ = ["Slot", "slot_factory"]


class Slot(Protocol):
    """Filled once with a value; awaiting it returns that value (at once if already filled).

    Cancelling the task awaiting it (an anyio cancel scope) leaves it :meth:`done`, so a
    filler checks :meth:`done` first: filling a done slot is an error, as with a future.
    """

    def done(self) -> bool: ...

    def set_result(self, result: float | None, /) -> None: ...

    def __await__(self) -> Generator[Any, Any, float | None]: ...


def slot_factory() -> Callable[[], Slot]:
    """What makes a new :class:`Slot` on the running event loop (call inside it)."""
    if running_on_asyncio():
        create_future: Callable[[], Slot] = asyncio.get_running_loop().create_future
        return create_future
    import trio  # only when running on trio: importing it costs time

    reschedule = trio.lowlevel.reschedule
    current_task = trio.lowlevel.current_task
    wait_task_rescheduled = trio.lowlevel.wait_task_rescheduled
    succeeded = trio.lowlevel.Abort.SUCCEEDED

    class TrioSlot:
        __slots__ = ("_done", "_result", "_task")

        def __init__(self) -> None:
            self._done = False
            self._result: float | None = None
            self._task: trio.lowlevel.Task | None = None

        def done(self) -> bool:
            return self._done

        def set_result(self, result: float | None, /) -> None:
            if self._done:
                raise RuntimeError("this slot is already filled")
            self._done = True
            self._result = result
            task = self._task
            if task is not None:
                self._task = None
                reschedule(task)

        def _abort(self, _: Any) -> trio.lowlevel.Abort:
            self._task = None
            self._done = True  # cancelled: like a cancelled future, no longer fillable
            return succeeded

        def __await__(self) -> Generator[Any, Any, float | None]:
            return self._wait().__await__()

        async def _wait(self) -> float | None:
            if not self._done:
                self._task = current_task()
                await wait_task_rescheduled(self._abort)
            return self._result

    return TrioSlot
