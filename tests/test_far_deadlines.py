"""The asyncio wire's far deadlines: one sweep per loop instead of a timer per wait.

A wait whose deadline is more than ``_FAR_S`` away is registered with the loop's
``_FarDeadlines``; the sweep expires it once its deadline has passed, and a wait that
ends for any other reason leaves nothing behind. Behaviour only: no clock is asserted.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from lgbench import _backend


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _ticks(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(_backend._SWEEP_S)


@pytest.mark.anyio
async def test_the_sweep_expires_only_the_deadlines_that_passed() -> None:
    loop = asyncio.get_running_loop()
    far = _backend._FarDeadlines()
    due: asyncio.Future[bool] = loop.create_future()
    later: asyncio.Future[bool] = loop.create_future()
    far.add(due, loop.time())
    far.add(later, loop.time() + 3600)
    await _ticks(2)
    assert due.done() and due.result() is True
    assert not later.done()
    far.discard(later)
    await _ticks(2)
    assert not far._waiters and not far._armed  # nothing left: the sweep stopped
    later.cancel()


@pytest.mark.anyio
async def test_a_far_read_deadline_times_out_and_data_before_it_is_read() -> None:
    got = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await got.wait()
        writer.write(b"late")
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    wire = await _backend.open_asyncio_wire("127.0.0.1", port)
    far = _backend._far_deadlines_of(loop)
    try:
        # Far away: the sweep times it, and it is registered while it waits.
        reading = asyncio.ensure_future(wire.receive_into(bytearray().extend, loop.time() + 3600))
        await _ticks(1)
        assert len(far._waiters) == 1
        received = bytearray()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert not far._waiters  # a cancelled wait leaves nothing behind
        got.set()
        assert await wire.receive_into(received.extend, loop.time() + 3600) == 4
        assert received == b"late" and not far._waiters
        # A far deadline that has passed by the time the sweep looks: a timeout (-1).
        waiter: asyncio.Future[bool] = loop.create_future()
        far.add(waiter, loop.time() - 1)
        await _ticks(2)
        assert waiter.result() is True
    finally:
        await wire.aclose()
        server.close()
        await server.wait_closed()


def test_a_finished_loop_is_not_kept_alive() -> None:
    async def use() -> weakref.ref[asyncio.AbstractEventLoop]:
        loop = asyncio.get_running_loop()
        far = _backend._far_deadlines_of(loop)
        waiter: asyncio.Future[bool] = loop.create_future()
        far.add(waiter, loop.time() + 3600)
        far.discard(waiter)
        return weakref.ref(loop)

    ref = asyncio.run(use())
    gc.collect()
    assert ref() is None
