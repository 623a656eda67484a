"""Everything that depends on the event loop behind anyio lives here, and only here.

Two things so far. The fast transport's hot path takes its clock and its
deadline scopes from :func:`hot_path_primitives`: the running loop's own clock
and, on trio, trio's own cancel scopes, which skip anyio's per-call backend
lookup and wrapper (a few microseconds per request). And the asyncio wire of
the fast transport: on asyncio, anyio's socket
streams cost about twice the CPU per request of a protocol driven by the loop's
own callbacks (each receive resumes and pauses reading, and the loop allocates
a fresh 256 KiB buffer per read, which glibc then trims), so on asyncio the fast
transport reads through :class:`AsyncioWire`, an :class:`asyncio.BufferedProtocol`.
anyio still owns cancellation: the wire only awaits plain futures, which
anyio's cancel scopes cancel like any other await. On trio the portable anyio
stream is already fast, so there is no trio-specific code.
"""

from __future__ import annotations

import asyncio
import select
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Final, Protocol, cast, final

import anyio

__all__ = [
    "AsyncioWire",
    "DeadlineScope",
    "DeadlineScopeFactory",
    "hot_path_primitives",
    "open_asyncio_wire",
    "running_on_asyncio",
]

# The loop reads into one scratch buffer per thread (a loop runs in one thread,
# and it fills the buffer and reports the bytes in one synchronous step), and
# each connection keeps only a copy of the bytes nobody has consumed yet: an
# idle connection, or one of 10,000 quiet SSE streams, holds no buffer at all.
_SCRATCH_BYTES: Final = 256 * 1024
# Past this many unconsumed bytes a connection stops reading (backpressure).
_PAUSE_BYTES: Final = 256 * 1024

_scratch = threading.local()


def _scratch_buffer() -> bytearray:
    buffer: bytearray | None = getattr(_scratch, "buffer", None)
    if buffer is None:
        buffer = _scratch.buffer = bytearray(_SCRATCH_BYTES)
    return buffer


def running_on_asyncio() -> bool:
    """True inside an asyncio event loop (uvloop included), False on trio."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class DeadlineScope(Protocol):
    """What the hot path needs of a cancel scope: a movable deadline, and whether it fired."""

    deadline: float

    @property
    def cancelled_caught(self) -> bool: ...

    def __enter__(self) -> DeadlineScope: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...


class DeadlineScopeFactory(Protocol):
    def __call__(self, *, deadline: float) -> DeadlineScope: ...


def hot_path_primitives() -> tuple[Callable[[], float], DeadlineScopeFactory]:
    """The running backend's clock (anyio's time) and its cancel scope class.

    Call from inside the event loop. The results belong to that loop: asyncio's
    clock is a bound method of it (uvloop's clock is its own).
    """
    if running_on_asyncio():
        return asyncio.get_running_loop().time, anyio.CancelScope
    import trio  # only when running on trio: importing it costs time

    return trio.current_time, trio.CancelScope


async def open_asyncio_wire(host: str, port: int) -> AsyncioWire:
    """Open a TCP connection on the running asyncio loop, read by an :class:`AsyncioWire`.

    Raises OSError (refused, unreachable, name resolution) like the loop does.
    """
    loop = asyncio.get_running_loop()
    _transport, wire = await loop.create_connection(lambda: AsyncioWire(loop), host, port)
    return wire


_INF: Final = float("inf")


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(True)


@final
class AsyncioWire(asyncio.BufferedProtocol):
    """A connection's bytes, kept as the loop reads them, handed out on request.

    The loop keeps reading while nobody waits (until :data:`_PAUSE_BYTES` are
    pending), so an EOF or reset that arrives while the connection is idle in
    a pool is usually noticed without a system call: :meth:`idle_readable`.
    """

    __slots__ = (
        "_closed",
        "_eof",
        "_error",
        "_fd",
        "_loop",
        "_pending",
        "_read_paused",
        "_read_waiter",
        "_scratch",
        "_scratch_view",
        "_transport",
        "_write_paused",
        "_write_waiter",
    )

    #: Deadlines are loop timers of the wire's own, not cancel scopes.
    native_deadlines = True

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._fd = -1
        self._scratch = _scratch_buffer()
        self._scratch_view = memoryview(self._scratch)
        self._pending: bytearray | None = None
        self._read_paused = False
        self._eof = False
        self._closed = False
        self._error: BaseException | None = None
        self._read_waiter: asyncio.Future[bool] | None = None
        self._write_paused = False
        self._write_waiter: asyncio.Future[bool] | None = None

    # -- the loop's callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        self._fd = sock.fileno() if sock is not None else -1

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._scratch_view

    def buffer_updated(self, nbytes: int) -> None:
        pending = self._pending
        if pending is None:
            pending = self._pending = self._scratch[:nbytes]
        else:
            pending += self._scratch_view[:nbytes]
        if len(pending) >= _PAUSE_BYTES and self._transport is not None:
            # Nobody is consuming: stop reading until they do.
            self._transport.pause_reading()
            self._read_paused = True
        self._wake(self._read_waiter)

    def eof_received(self) -> bool:
        self._eof = True
        self._wake(self._read_waiter)
        return False  # nothing more to send after the server's EOF: let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if exc is not None:
            self._error = exc
        self._wake(self._read_waiter)
        self._wake(self._write_waiter)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake(self._write_waiter)

    @staticmethod
    def _wake(waiter: asyncio.Future[bool] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(False)

    def _lost_error(self) -> BaseException:
        if self._error is not None:
            return self._error
        return ConnectionResetError("the connection is closed")

    # -- the wire, as the fast transport uses it ---------------------------------------------

    async def _wait(self, waiter: asyncio.Future[bool], deadline: float) -> bool:
        """Wait for ``waiter``; True if ``deadline`` (loop time) passed first."""
        # A loop timer costs a fraction of a cancel scope, and only runs when we wait.
        timer = None if deadline == _INF else self._loop.call_at(deadline, _expire, waiter)
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()

    async def send(self, data: bytes, deadline: float) -> bool:
        """Write ``data``; wait only while the transport's buffer is over its high mark.

        False if ``deadline`` passed while waiting for the server to take bytes.
        """
        transport = self._transport
        if self._closed or self._eof or transport is None or transport.is_closing():
            raise self._lost_error()
        transport.write(data)
        while self._write_paused and not self._closed:
            waiter: asyncio.Future[bool] = self._loop.create_future()
            self._write_waiter = waiter
            try:
                if await self._wait(waiter, deadline):
                    return False
            finally:
                self._write_waiter = None
        if self._closed:
            raise self._lost_error()
        return True

    async def receive_into(
        self, feed: Callable[[bytes | bytearray | memoryview], None], deadline: float
    ) -> int:
        """Pass the bytes received so far to ``feed`` (waiting for some).

        Returns how many, 0 at end of stream, -1 if ``deadline`` passed first.
        """
        while self._pending is None:
            if self._eof or self._closed:
                if self._error is not None:
                    raise self._error
                return 0
            waiter: asyncio.Future[bool] = self._loop.create_future()
            self._read_waiter = waiter
            try:
                if await self._wait(waiter, deadline):
                    return -1
            finally:
                self._read_waiter = None
        data = self._pending
        self._pending = None
        if self._read_paused and self._transport is not None:
            self._read_paused = False
            self._transport.resume_reading()
        feed(data)
        return len(data)

    def idle_readable(self) -> bool:
        """True if bytes, EOF or an error arrived since the last receive."""
        transport = self._transport
        if (
            self._pending
            or self._eof
            or self._closed
            or transport is None
            or transport.is_closing()
        ):
            return True
        # What the loop has not processed yet may already be in the kernel (a
        # FIN that arrived during this loop iteration): one poll() tells. The
        # fd is still ours: the transport is not closing.
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        return bool(poller.poll(0))

    async def aclose(self) -> None:
        """Abort the connection (unsent bytes are dropped) and let the loop release it."""
        self._pending = None
        transport = self._transport
        if transport is not None and not self._closed:
            transport.abort()
            # One loop iteration runs connection_lost, which closes the socket,
            # so no transport is left for the garbage collector to warn about.
            await asyncio.sleep(0)
