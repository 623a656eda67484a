"""Everything that depends on the event loop behind anyio lives here, and only here.

Four things so far. The fast transport's hot path takes its clock and its
deadline scopes from :func:`hot_path_primitives`: the running loop's own clock
and, on trio, trio's own cancel scopes, which skip anyio's per-call backend
lookup and wrapper (a few microseconds per request). A trio run that lgbench
starts itself gets :func:`trio_run_options`: a clock that is
:func:`time.perf_counter` itself, read without a Python call on the hot path.

The asyncio wire of the fast transport: on asyncio, anyio's socket streams cost
about twice the CPU per request of a protocol driven by the loop's own
callbacks (each receive resumes and pauses reading, and the loop allocates a
fresh 256 KiB buffer per read, which glibc then trims), so on asyncio the fast
transport reads through :class:`AsyncioWire`, an :class:`asyncio.BufferedProtocol`.
anyio still owns cancellation: the wire only awaits plain futures, which
anyio's cancel scopes cancel like any other await.

The trio wire: on trio, a cancel scope costs ≈ 4.5 µs to enter and leave
(≈ 5.5 µs with a deadline), and anyio's stream plus trio's socket wrapper
another ≈ 3 µs per request, against ≈ 11 µs for the whole exchange on a bare
socket. :class:`TrioWire` sends and receives on the plain non-blocking socket
and parks in :func:`trio.lowlevel.wait_readable` / ``wait_writable``, so a
request costs one trio checkpoint per wait and no scope. Its deadlines are
kept by a :class:`TrioWatchdog`, one per transport: each wait stores its
deadline on the wire (an attribute), and the watchdog, a trio system task
asleep until the earliest deadline it knows, wakes the overdue wait with
:func:`trio.lowlevel.notify_closing` (the wire reports the timeout and the
transport closes the connection, as it does after any timeout). The watchdog
owns no user work; it is the one task here outside an anyio task group
(trio's system nursery holds it, and cancels it when the run ends), and it
exits by itself once its transport is closed and its last wire is.

The checkpoint a VU loop takes between iterations (:func:`iteration_checkpoint`):
trio's own on trio.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import select
import socket
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Generator
from functools import cache
from types import TracebackType, coroutine
from typing import TYPE_CHECKING, Final, Protocol, cast, final

import anyio
import anyio.abc

if TYPE_CHECKING:
    import trio

__all__ = [
    "AsyncioWire",
    "DeadlineScope",
    "DeadlineScopeFactory",
    "TrioWatchdog",
    "TrioWire",
    "hot_path_primitives",
    "iteration_checkpoint",
    "open_asyncio_wire",
    "open_trio_wire",
    "running_on_asyncio",
    "trio_run_options",
]

# The loop reads into one scratch buffer per thread (a loop runs in one thread,
# and it fills the buffer and reports the bytes in one synchronous step), and
# each connection keeps only a copy of the bytes nobody has consumed yet: an
# idle connection, or one of 10,000 quiet SSE streams, holds no buffer at all.
_SCRATCH_BYTES: Final = 256 * 1024
# Past this many unconsumed bytes a connection stops reading (backpressure).
_PAUSE_BYTES: Final = 256 * 1024

_scratch = threading.local()


def _scratch_buffer() -> tuple[bytearray, memoryview]:
    """This thread's scratch buffer and a view of it, shared by all its connections (a
    view of their own would cost each connection ≈ 200 B for as long as it is open)."""
    buffer: bytearray | None = getattr(_scratch, "buffer", None)
    if buffer is None:
        buffer = _scratch.buffer = bytearray(_SCRATCH_BYTES)
        _scratch.view = memoryview(buffer)
    view: memoryview = _scratch.view
    return buffer, view


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
    clock is a bound method of it (uvloop's clock is its own), trio's a bound
    method of the run's clock (a test's MockClock included).
    """
    if running_on_asyncio():
        return asyncio.get_running_loop().time, anyio.CancelScope
    import trio  # only when running on trio: importing it costs time

    clock = trio.lowlevel.current_clock()
    if type(clock) is _perf_counter_clock_class():
        return time.perf_counter, trio.CancelScope  # the same time, read in C
    # The run's clock itself: what trio.current_time() calls, minus two layers.
    return clock.current_time, trio.CancelScope


def trio_run_options() -> dict[str, object]:
    """The options for a trio run that lgbench starts itself (``trio.run``'s keywords).

    Its clock is :func:`time.perf_counter`. trio's default clock is the same counter
    plus a random offset (it catches code that mixes trio's time with another clock's)
    read through a Python method; the engine and the fast transport read the clock
    several times per request, and :func:`hot_path_primitives` can hand out the C
    function itself for this clock. Nothing in lgbench compares trio's time with
    another clock's. A trio run started by someone else keeps its own clock.
    """
    return {"clock": _perf_counter_clock_class()()}


@cache
def _perf_counter_clock_class() -> type[trio.abc.Clock]:
    import trio  # only on trio: importing it costs time

    @final
    class PerfCounterClock(trio.abc.Clock):
        """trio's time is :func:`time.perf_counter`."""

        def start_clock(self) -> None:
            pass

        def current_time(self) -> float:
            return time.perf_counter()

        def deadline_to_sleep_time(self, deadline: float) -> float:
            return deadline - time.perf_counter()

    return PerfCounterClock


@coroutine
def _asyncio_checkpoint() -> Generator[None, None, None]:
    # What asyncio.sleep(0) comes down to, a bare yield to the task (which reschedules itself
    # and, if cancelled meanwhile, gets CancelledError here), without its two coroutine
    # frames: ≈ 0.45 µs less per iteration on uvloop (benchmarks/README.md).
    yield


def iteration_checkpoint() -> Callable[[], Awaitable[None]]:
    """What a VU's loop awaits after each iteration: a schedule point and a cancel point.

    The loop needs one so that an iteration that never waits (every step skipped, or
    failing before anything was sent) still lets the other tasks run and sees a
    cancellation. Each loop's own (asyncio's ``sleep(0)``, which is what anyio's checkpoint
    awaits there; trio's checkpoint), without anyio's lookup of the backend per call.
    Skipping it after an iteration that had waited in a :class:`TrioWire` anyway was
    measured too, and cost more CPU per request in a whole run, not less
    (benchmarks/README.md).
    """
    if running_on_asyncio():
        return _asyncio_checkpoint
    import trio  # only on trio: importing it costs time

    checkpoint: Callable[[], Awaitable[None]] = trio.lowlevel.checkpoint
    return checkpoint


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


#: Waits whose deadline is further away than this are timed by the loop's one
#: :class:`_FarDeadlines` sweep instead of a timer of their own.
_FAR_S: Final = 2.0
#: How often that sweep runs: a far deadline fires up to this late.
_SWEEP_S: Final = 0.25


@final
class _FarDeadlines:
    """The far deadlines of one loop's waits (a read timeout of a minute, the usual
    case), enforced by one periodic sweep rather than a loop timer per wait.

    A timer costs ≈ 0.6 KiB on uvloop for as long as its wait lasts: an open SSE stream
    waits all its life, so 10,000 streams held ≈ 6 MiB of timers. An entry here costs a
    dict slot, and arming and disarming it is cheaper than a timer's. The price: a far
    deadline fires up to :data:`_SWEEP_S` late (0.4 % of a one-minute timeout); a near
    one keeps its exact timer. Nothing here refers to the loop once no wait is pending
    (the sweep gets it as an argument), so a finished loop is not kept alive.
    """

    __slots__ = ("__weakref__", "_armed", "_waiters")

    def __init__(self) -> None:
        self._waiters: dict[asyncio.Future[bool], float] = {}
        self._armed = False

    def add(self, waiter: asyncio.Future[bool], deadline: float) -> None:
        self._waiters[waiter] = deadline
        if not self._armed:
            self._armed = True
            waiter.get_loop().call_later(_SWEEP_S, self._sweep, waiter.get_loop())

    def discard(self, waiter: asyncio.Future[bool]) -> None:
        self._waiters.pop(waiter, None)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        waiters = self._waiters
        for waiter in [w for w, deadline in waiters.items() if deadline <= now]:
            del waiters[waiter]
            _expire(waiter)
        if waiters:
            loop.call_later(_SWEEP_S, self._sweep, loop)
        else:
            self._armed = False


_far_deadlines: Final[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _FarDeadlines]] = (
    weakref.WeakKeyDictionary()
)


def _far_deadlines_of(loop: asyncio.AbstractEventLoop) -> _FarDeadlines:
    far = _far_deadlines.get(loop)
    if far is None:
        far = _far_deadlines[loop] = _FarDeadlines()
    return far


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
        "_far",
        "_fd",
        "_loop",
        "_pending",
        "_poller",
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
        self._far = _far_deadlines_of(loop)
        self._transport: asyncio.Transport | None = None
        self._fd = -1
        self._poller: select.poll | None = None  # made when first idle in a pool
        self._scratch, self._scratch_view = _scratch_buffer()
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
        # A loop timer costs a fraction of a cancel scope, and only runs when we wait;
        # a far deadline not even that (_FarDeadlines).
        loop = self._loop
        timer = None
        far = deadline != _INF and deadline - loop.time() > _FAR_S
        if far:
            self._far.add(waiter, deadline)
        elif deadline != _INF:
            timer = loop.call_at(deadline, _expire, waiter)
        try:
            return await waiter
        finally:
            if far:
                self._far.discard(waiter)
            elif timer is not None:
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
            # _wait's body inline: an open stream waits here for most of its life, and
            # a helper coroutine would hold one more frame per stream.
            loop = self._loop
            timer = None
            far = deadline != _INF and deadline - loop.time() > _FAR_S
            if far:
                self._far.add(waiter, deadline)
            elif deadline != _INF:
                timer = loop.call_at(deadline, _expire, waiter)
            try:
                if await waiter:
                    return -1
            finally:
                self._read_waiter = None
                if far:
                    self._far.discard(waiter)
                elif timer is not None:
                    timer.cancel()
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
        # fd is still ours: the transport is not closing. One poll object per wire,
        # registered once (a stream's wire, never idle, never makes one).
        poller = self._poller
        if poller is None:
            poller = self._poller = select.poll()
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


# -- trio ------------------------------------------------------------------------------------


async def open_trio_wire(host: str, port: int, watchdog: TrioWatchdog) -> TrioWire:
    """Open a TCP connection on trio; ``watchdog`` keeps the wire's deadlines.

    An IP address is connected to directly: one non-blocking ``connect`` and one wait
    for the socket to become writable. anyio's connect (name resolution, happy eyeballs
    in a task group of its own) costs several times more CPU on trio, and when an open
    model's first iterations all find the pool empty, each opens its own connection:
    the slower each connect, the more of them start meanwhile, up to one per VU. A host
    name goes through anyio's connect. Raises OSError (refused, unreachable, name
    resolution) either way.
    """
    family = _ip_family(host)
    if family is None:
        stream = await anyio.connect_tcp(host, port)
        sock: socket.socket = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        return TrioWire(sock, watchdog)
    import trio

    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = sock.connect_ex((host.strip("[]"), port))
        if code in (errno.EINPROGRESS, errno.EAGAIN):
            await trio.lowlevel.wait_writable(sock)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise OSError(code, f"connecting to {host}:{port}: {os.strerror(code)}")
    except BaseException:
        sock.close()
        raise
    return TrioWire(sock, watchdog)


def _ip_family(host: str) -> socket.AddressFamily | None:
    """The address family of an IP address written as one, None for a host name."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return socket.AF_INET6 if address.version == 6 else socket.AF_INET


# After a speculative read found nothing, the wire's next reads wait directly: one
# after a first miss, twice as many after each further miss in a row, at most this many.
_SPECULATION_PAUSE_MAX: Final = 8


@final
class TrioWatchdog:
    """Keeps the deadlines of one transport's :class:`TrioWire` waits, from one system task.

    A wire stores the deadline of each wait (trio time) on itself and, only
    when it is earlier than :attr:`wake_at`, moves the watchdog's alarm. The
    watchdog sleeps until ``wake_at``, then times out every wire whose
    deadline passed and sleeps until the earliest deadline left. As waits
    finish long before their deadlines, it wakes about once per read timeout.

    Its task starts with the first wire, exits after :meth:`close` once no wire
    is left, and is cancelled by trio if the run ends first. Call everything
    from inside the trio run that opened the wires.
    """

    __slots__ = (
        "_closing",
        "_running",
        "_scope",
        "_trio",
        "_wires",
        "checkpoint",
        "checkpoint_if_cancelled",
        "closed_error",
        "notify_closing",
        "wait_readable",
        "wait_writable",
        "wake_at",
    )

    def __init__(self) -> None:
        import trio  # only on trio: importing it costs time

        self._trio = trio
        # What the wires' hot path calls, looked up once.
        self.wait_readable: Callable[[int], Awaitable[None]] = trio.lowlevel.wait_readable
        self.wait_writable: Callable[[int], Awaitable[None]] = trio.lowlevel.wait_writable
        self.checkpoint: Callable[[], Awaitable[None]] = trio.lowlevel.checkpoint
        self.checkpoint_if_cancelled: Callable[[], Awaitable[None]] = (
            trio.lowlevel.checkpoint_if_cancelled
        )
        self.notify_closing: Callable[[int], None] = trio.lowlevel.notify_closing
        self.closed_error: type[Exception] = trio.ClosedResourceError
        #: No deadline of a waiting wire is earlier than this (trio time).
        self.wake_at = _INF
        # Weak: a wire its owner dropped without closing is collected (and its
        # socket warns), not kept open by the watchdog.
        self._wires: weakref.WeakSet[TrioWire] = weakref.WeakSet()
        self._scope: trio.CancelScope | None = None
        self._running = False
        self._closing = False

    def watch(self, wire: TrioWire) -> None:
        """Start keeping ``wire``'s deadlines (and the watchdog's task, if it is not running)."""
        self._wires.add(wire)
        if not self._running:
            self._running = True
            self._trio.lowlevel.spawn_system_task(
                self._run, name=f"lgbench.fast-transport-watchdog-{id(self):x}"
            )

    def forget(self, wire: TrioWire) -> None:
        """Stop watching ``wire`` (it is closing)."""
        self._wires.discard(wire)
        if self._closing and not self._wires and self._scope is not None:
            self._scope.cancel()  # nothing left to watch: let the task end

    def close(self) -> None:
        """The transport closed: end the task once the last wire is closed."""
        self._closing = True
        if not self._wires and self._scope is not None:
            self._scope.cancel()

    def wake_by(self, deadline: float) -> None:
        """Move the alarm earlier, to ``deadline`` (a wire is about to wait until then)."""
        self.wake_at = deadline
        if self._scope is not None:
            self._scope.deadline = deadline

    async def _run(self) -> None:
        trio = self._trio
        try:
            while not (self._closing and not self._wires):
                now = trio.current_time()
                earliest = _INF
                for wire in list(self._wires):
                    deadline = wire.deadline
                    if deadline <= now:
                        wire.expire()
                    elif deadline < earliest:
                        earliest = deadline
                self.wake_at = earliest
                with trio.CancelScope(deadline=earliest) as scope:
                    self._scope = scope
                    await trio.sleep_forever()
                self._scope = None
        finally:
            self._scope = None
            self._running = False
            self.wake_at = _INF


@final
class TrioWire:
    """A TCP connection on trio, read and written without anyio's or trio's stream layers.

    Each wait parks in ``wait_readable`` / ``wait_writable`` (a trio
    checkpoint), or, for the first read after a request, in a plain
    checkpoint (see :meth:`receive_into`), and then calls the socket directly;
    bytes are received into the per-thread scratch buffer and handed to the
    caller's ``feed`` in the same synchronous step, so an idle connection
    holds no buffer. Deadlines come from the :class:`TrioWatchdog`, which
    wakes an overdue wait with :func:`trio.lowlevel.notify_closing`: the call
    then reports the timeout, and the connection is only fit to be closed.
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_fd",
        "_pause",
        "_poller",
        "_scratch",
        "_scratch_view",
        "_skips",
        "_sock",
        "_speculate",
        "_timed_out",
        "_watchdog",
        "deadline",
    )

    #: Deadlines are kept by the watchdog, not by cancel scopes.
    native_deadlines = True

    def __init__(self, sock: socket.socket, watchdog: TrioWatchdog) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._fd = sock.fileno()
        # One poll object per connection, registered once: idle_readable is
        # then one system call.
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)
        self._scratch, self._scratch_view = _scratch_buffer()
        self._closed = False
        self._timed_out = False
        self._speculate = False
        # Reads still to wait directly (no speculation), and the length of the last
        # pause, 0 once a speculative read found its answer: the next miss doubles it.
        self._skips = 0
        self._pause = 0
        self._watchdog = watchdog
        #: The deadline of the wait in progress (trio time), inf when none.
        self.deadline = _INF
        watchdog.watch(self)

    def expire(self) -> None:
        """The watchdog's verdict: the wait in progress is overdue."""
        self._timed_out = True
        self.deadline = _INF
        if not self._closed:
            # Wakes the waiting task with ClosedResourceError (if it has not
            # been woken already); the wire is closed next, as after any timeout.
            self._watchdog.notify_closing(self._fd)

    def _arm(self, deadline: float) -> None:
        watchdog = self._watchdog
        if deadline < watchdog.wake_at:
            watchdog.wake_by(deadline)
        self.deadline = deadline

    async def send(self, data: bytes, deadline: float) -> bool:
        """Write all of ``data``; False if ``deadline`` passed while the server took nothing.

        A cancelled caller sends nothing. OSError (reset, broken pipe) passes through.
        """
        watchdog = self._watchdog
        await watchdog.checkpoint_if_cancelled()
        sock = self._sock
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            # The common case: the receive that follows is the checkpoint,
            # and it may read speculatively (see receive_into).
            if self._skips:
                self._skips -= 1
            else:
                self._speculate = True
            return True
        view = memoryview(data)[sent:]
        self._arm(deadline)
        try:
            while view:
                try:
                    await watchdog.wait_writable(self._fd)
                except watchdog.closed_error:
                    if self._timed_out:
                        return False
                    raise ConnectionAbortedError("the connection was closed") from None
                if self._timed_out:
                    return False
                try:
                    sent = sock.send(view)
                except BlockingIOError:
                    continue
                view = view[sent:]
        finally:
            self.deadline = _INF
        return True  # a large request: its answer is waited for, not guessed

    async def receive_into(
        self, feed: Callable[[bytes | bytearray | memoryview], None], deadline: float
    ) -> int:
        """Wait for bytes, pass them to ``feed``, return how many.

        0 at the end of the stream, -1 if ``deadline`` passed first. Always a
        checkpoint. OSError (reset) passes through.

        The first read after a request is speculative: with many requests in
        flight, the answer has usually arrived by the time the other tasks
        have had their turn, so a plain checkpoint and a direct read save
        registering with epoll and waiting for its event (≈ 2.5 µs of ≈ 11
        per exchange). A speculative read that finds nothing falls back to
        waiting, and the wire then waits directly for its next answer, for
        twice as many after each further miss in a row, at most
        :data:`_SPECULATION_PAUSE_MAX`; a speculative read that finds its
        answer ends the pause. So a wire whose answers are never there after
        one checkpoint loses a speculative read once in nine requests, and
        many VUs, whose reads miss now and then when the server is slow for
        a moment, go on speculating instead of waiting through epoll for the
        next few answers after each miss.
        """
        if self._closed:
            raise ConnectionAbortedError("the connection is closed")
        watchdog = self._watchdog
        if deadline < watchdog.wake_at:
            watchdog.wake_by(deadline)
        self.deadline = deadline
        sock = self._sock
        n = -1
        try:
            if self._speculate:
                self._speculate = False
                await watchdog.checkpoint()
                if self._timed_out:
                    return -1
                try:
                    n = sock.recv_into(self._scratch)
                except BlockingIOError:
                    pause = self._pause = min(2 * self._pause or 1, _SPECULATION_PAUSE_MAX)
                    self._skips = pause
                else:
                    self._pause = 0
            while n < 0:
                try:
                    await watchdog.wait_readable(self._fd)
                except watchdog.closed_error:
                    if self._timed_out:
                        return -1
                    raise ConnectionAbortedError("the connection was closed") from None
                if self._timed_out:
                    return -1
                try:
                    n = sock.recv_into(self._scratch)
                except BlockingIOError:
                    continue  # a spurious wakeup
        finally:
            self.deadline = _INF
        if n:
            feed(self._scratch_view[:n])
        return n

    def idle_readable(self) -> bool:
        """True if bytes, EOF or an error arrived since the last receive (or the wire is closed)."""
        return self._closed or bool(self._poller.poll(0))

    async def aclose(self) -> None:
        """Close the socket now (no graceful shutdown); idempotent."""
        if self._closed:
            return
        self._closed = True
        self._watchdog.forget(self)
        # Wake anyone still waiting on the socket before its number can be reused.
        self._watchdog.notify_closing(self._fd)
        self._sock.close()
