"""A one-shot wake-up for a parked task, in the running backend's own terms.

The open model parks every idle VU between iterations and wakes it with the next one: a
wake-up per iteration. anyio's portable :class:`anyio.Event` finds the backend on each
creation and wraps the backend's event, which holds a queue of waiters; a parked VU has one
waiter and is woken once, so a bare future (asyncio) or trio's own event does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from lgbench._backend import running_on_asyncio

__all__ = ["Wake", "wake_factory"]


class Wake(Protocol):
    """Set once; :meth:`wait` returns once it is set (at once if it already is)."""

    def set(self) -> None: ...

    async def wait(self) -> None: ...


class _FutureWake:
    __slots__ = ("_future",)

    def __init__(self, future: asyncio.Future[None]) -> None:
        self._future = future

    def set(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    async def wait(self) -> None:
        await self._future  # cancellation (an anyio cancel scope) cancels the future


def wake_factory() -> Callable[[], Wake]:
    """What makes a new :class:`Wake` on the running event loop (call inside it)."""
    if running_on_asyncio():
        create_future = asyncio.get_running_loop().create_future
        return lambda: _FutureWake(create_future())
    import trio  # only when running on trio: importing it costs time

    return trio.Event
