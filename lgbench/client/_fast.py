"""The fast transport: HTTP/1.1 with a keep-alive pool, the load generator's hot path.

:class:`FastTransport` sends each request over a pooled connection (a "wire")
and parses the response incrementally with
:class:`~lgbench.client._http11.ResponseReader`. The wire is the running
loop's own, from :mod:`lgbench._backend`: on asyncio a buffered protocol, on
trio the plain socket parked in trio's I/O waits; ``native_wire=False`` keeps
the portable one, an anyio socket stream, on every backend.

Cost per request (keep-alive GET of a small JSON from nginx, 32 connections,
CPU µs per request, 2-core runs): asyncio wire ≈ 18, the same with uvloop
≈ 15, trio wire ≈ 15, anyio streams ≈ 45 on asyncio and ≈ 31 on trio. Native
wires keep their own deadlines (asyncio: a loop timer armed only when a wait
actually blocks; trio: a deadline stored on the wire and enforced by one
watchdog task per transport), while the portable wire runs each exchange in a
cancel scope, which costs ≈ 5 µs on trio.

Pool policy
    Idle connections are reused last-in first-out (the warmest socket first, and
    the coldest ones age out); at most ``max_connections`` are open, further
    requests wait in arrival order and receive a connection (or a free slot)
    directly from the request that releases it. A connection is closed instead
    of pooled after ``Connection: close``, after an HTTP/1.0 response, when
    bytes arrive that belong to no request, when its body was not read to the
    end, and once it has been idle for ``keepalive_expiry_s``.

Stale connections
    Before an idle connection is reused, a zero-timeout ``poll()`` of its
    socket (for the asyncio wire, after what the loop already saw) tells
    whether it became readable while idle: an idle HTTP/1.1 connection that
    is readable has either been closed by the server (EOF or RST) or carries
    bytes nobody asked for, and is discarded either way. This costs one
    system call (≈ 0.5 µs) per reuse and catches the common case (a server's
    keep-alive timeout closed it long ago) deterministically, for every method.
    It cannot catch a close that is still in flight when the request is sent;
    for that race, a request is re-sent on another connection only if it
    failed on a *reused* connection before *any* response byte arrived *and*
    its method is safe (GET, HEAD, OPTIONS, TRACE). A POST that may have
    reached the server is never re-sent: its failure is reported as
    :class:`NetworkError`, which the history records as an unknown outcome.

Timeouts
    From ``request.timeout``: ``connect_s`` per connection attempt
    (:class:`ConnectTimeout`), ``read_s`` per receive so keep-alive bytes and
    heartbeats reset it (:class:`ReadTimeout`), ``write_s`` per send (the base
    :class:`TimeoutError`: a server that stops reading), and ``total_s`` from
    the call to :meth:`FastTransport.handle` until the body's end, waiting for
    a pooled connection included (:class:`RequestTimeout`).

Errors
    Every foreign exception (OSError, anyio's stream errors, httptools' parser
    errors) is translated by :func:`translate_error` and nowhere else.
    Cancellation is never translated; a request cancelled at any point closes
    its connection instead of returning it to the pool.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import select
import urllib.parse
from collections import deque
from collections.abc import Callable
from typing import Final, Protocol, final

import anyio
import anyio.abc
import httptools

from lgbench import __version__, _backend
from lgbench.client._errors import (
    ConnectError,
    ConnectTimeout,
    NetworkError,
    ProtocolError,
    ReadTimeout,
    RequestTimeout,
    TimeoutError,
    TransportError,
)
from lgbench.client._http11 import MAX_HEAD_BYTES, SAFE_METHODS, RequestEncoder, ResponseReader
from lgbench.client._models import Request, Response, Timeout
from lgbench.client._transport import AsyncTransport

__all__ = ["FOREIGN_ERRORS", "FastTransport", "Wire", "translate_error"]

_RECEIVE_BYTES: Final = 65536
_USER_AGENT_LINE: Final = f"user-agent: lgbench/{__version__}\r\n"


class Wire(Protocol):
    """A byte pipe to the server, as the pool uses it (one per connection).

    A wire with ``native_deadlines`` honours the ``deadline`` (the loop's time,
    as anyio reports it) of each call itself, far more cheaply than a cancel
    scope; the others ignore it and the transport runs them inside a cancel scope.
    """

    @property
    def native_deadlines(self) -> bool: ...

    async def send(self, data: bytes, deadline: float) -> bool:
        """Write all of ``data``; False if the deadline passed first."""

    async def receive_into(
        self, feed: Callable[[bytes | bytearray | memoryview], None], deadline: float
    ) -> int:
        """Wait for bytes, pass them to ``feed``, return how many.

        0 at the end of the stream, -1 if the deadline passed first.
        """

    def idle_readable(self) -> bool:
        """True if bytes, EOF or an error arrived while nobody was reading."""

    async def aclose(self) -> None:
        """Close at once (no graceful shutdown); idempotent."""


# -- Error translation: the only place foreign exceptions become ours --------------------------

#: The foreign exceptions the fast transport may meet; :func:`translate_error` maps each.
FOREIGN_ERRORS: Final[tuple[type[BaseException], ...]] = (
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    httptools.HttpParserError,
    httptools.HttpParserUpgrade,
)

_PARSER_ERRORS: Final[dict[type[BaseException], type[TransportError]]] = {
    httptools.HttpParserError: ProtocolError,
    httptools.HttpParserCallbackError: ProtocolError,
    httptools.HttpParserInvalidStatusError: ProtocolError,
    httptools.HttpParserInvalidMethodError: ProtocolError,
    httptools.HttpParserInvalidURLError: ProtocolError,
    # We never ask to switch protocols, so a 101 answer breaks HTTP/1.1 for us.
    httptools.HttpParserUpgrade: ProtocolError,
}

_EXCHANGE_ERRORS: Final[dict[type[BaseException], type[TransportError]]] = {
    **_PARSER_ERRORS,
    OSError: NetworkError,
    anyio.BrokenResourceError: NetworkError,
    anyio.ClosedResourceError: NetworkError,
    anyio.EndOfStream: NetworkError,
}

_CONNECT_ERRORS: Final[dict[type[BaseException], type[TransportError]]] = {
    **_EXCHANGE_ERRORS,
    OSError: ConnectError,
    # The kernel gave up on the handshake (ETIMEDOUT) before our own deadline did.
    builtins.TimeoutError: ConnectTimeout,
    anyio.BrokenResourceError: ConnectError,
}


# What a connection that died looks like (never a parser error, a timeout or a cancellation).
_CONNECTION_LOST_ERRORS: Final[tuple[type[BaseException], ...]] = (
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
)


def _is_foreign(exc: BaseException) -> bool:
    # Our TimeoutError is also a builtins.TimeoutError, hence an OSError: ours
    # are never translated again.
    return isinstance(exc, FOREIGN_ERRORS) and not isinstance(exc, TransportError)


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, TransportError):
        return isinstance(exc, NetworkError)
    return isinstance(exc, _CONNECTION_LOST_ERRORS)


def translate_error(exc: BaseException, *, connecting: bool) -> TransportError:
    """Our error for a foreign exception: the mapping of its most specific class.

    ``connecting`` says whether the connection was being opened (an OSError is
    then a :class:`ConnectError`) or already carrying the exchange.
    """
    table = _CONNECT_ERRORS if connecting else _EXCHANGE_ERRORS
    target: type[TransportError] = TransportError
    for cls in type(exc).__mro__:
        found = table.get(cls)
        if found is not None:
            target = found
            break
    detail = str(exc)
    cause = exc.__cause__
    if not detail and cause is not None:
        detail = f"{type(cause).__name__}: {cause}"
    return target(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


# -- Wires -------------------------------------------------------------------------------------


def _fd_readable(fd: int) -> bool:
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


@final
class _AnyioWire:
    """The portable wire: an anyio socket stream (every backend)."""

    __slots__ = ("_raw_socket", "_stream")

    native_deadlines = False

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self._stream = stream
        self._raw_socket = stream.extra(anyio.abc.SocketAttribute.raw_socket)

    async def send(self, data: bytes, deadline: float) -> bool:
        await self._stream.send(data)
        return True

    async def receive_into(
        self, feed: Callable[[bytes | bytearray | memoryview], None], deadline: float
    ) -> int:
        try:
            data = await self._stream.receive(_RECEIVE_BYTES)
        except anyio.EndOfStream:
            return 0
        feed(data)
        return len(data)

    def idle_readable(self) -> bool:
        # anyio stops reading between receives on every backend, so an EOF or
        # RST that arrived while idle is still waiting in the kernel. fileno()
        # is -1 once the socket object is closed (trio, asyncio's TransportSocket).
        return _fd_readable(self._raw_socket.fileno())

    async def aclose(self) -> None:
        await self._stream.aclose()


async def _close_shielded(wire: Wire) -> None:
    # Closing must finish even when the request is being cancelled.
    with anyio.CancelScope(shield=True):
        await wire.aclose()


# -- Connections and the pool ------------------------------------------------------------------


@final
class _Connection:
    __slots__ = ("expires_at", "reader", "received_any", "reused", "wire")

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.reader = ResponseReader()
        self.expires_at = math.inf
        self.reused = False
        # Did any byte of the current response arrive? If not, a safe request
        # that failed on a reused connection may be sent again.
        self.received_any = False


@final
class _Waiter:
    """A request waiting for a connection: it is handed one, or a slot to open one."""

    __slots__ = ("conn", "event", "slot")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.conn: _Connection | None = None
        self.slot = False


# Deadlines closer than this are the same deadline: not moving a scope's
# deadline saves work on every request (the write and the first read limits
# usually differ by the microseconds a send takes).
_DEADLINE_SLACK_S: Final = 0.001


_TIMEOUT_CONNECT: Final = 0
_TIMEOUT_WRITE: Final = 1
_TIMEOUT_READ: Final = 2
_TIMEOUT_TOTAL: Final = 3


def _timeout_error(kind: int, limit_s: float | None) -> TimeoutError:
    if kind == _TIMEOUT_CONNECT:
        return ConnectTimeout(f"no connection within {limit_s} s")
    if kind == _TIMEOUT_READ:
        return ReadTimeout(f"no response byte within {limit_s} s")
    if kind == _TIMEOUT_WRITE:
        return TimeoutError(f"the server took no request bytes for {limit_s} s")
    return RequestTimeout(f"the request did not finish within {limit_s} s")


@final
class FastTransport(AsyncTransport):
    """HTTP/1.1 to one ``http://`` origin over a keep-alive pool; see the module docstring.

    ``base_url`` may carry a path prefix, put before every request target.
    ``native_wire=False`` keeps the portable anyio-stream wire instead of the
    running loop's own (a buffered protocol on asyncio, trio's sockets and a
    deadline watchdog on trio). HTTPS is the httpx transport's job.
    """

    __slots__ = (
        "_bound",
        "_clock",
        "_closed",
        "_encoder",
        "_host",
        "_idle",
        "_keepalive_expiry_s",
        "_max_connections",
        "_n_open",
        "_native_wire",
        "_new_scope",
        "_port",
        "_prefix",
        "_waiters",
        "_watchdog",
    )

    def __init__(
        self,
        base_url: str,
        *,
        max_connections: int = 256,
        keepalive_expiry_s: float = 30.0,
        native_wire: bool = True,
    ) -> None:
        split = urllib.parse.urlsplit(base_url)
        if split.scheme != "http":
            raise ValueError(
                f"FastTransport speaks plain http:// only, not {base_url!r}; "
                "use HttpxTransport for https"
            )
        if not split.hostname:
            raise ValueError(f"no host in {base_url!r}")
        if split.query or split.fragment:
            raise ValueError(f"a base URL has no query or fragment: {base_url!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, not {max_connections}")
        if not keepalive_expiry_s > 0:
            raise ValueError(f"keepalive_expiry_s must be > 0, not {keepalive_expiry_s}")
        self._host = split.hostname
        self._port = split.port or 80
        host = f"[{self._host}]" if ":" in self._host else self._host
        host_line = f"host: {host}\r\n" if self._port == 80 else f"host: {host}:{self._port}\r\n"
        self._encoder = RequestEncoder(host_line=host_line, user_agent_line=_USER_AGENT_LINE)
        self._prefix = split.path.rstrip("/")
        self._max_connections = max_connections
        self._keepalive_expiry_s = keepalive_expiry_s
        self._native_wire = native_wire
        self._idle: deque[_Connection] = deque()
        self._waiters: deque[_Waiter] = deque()
        self._n_open = 0
        self._closed = False
        # Portable until the first request binds the loop's native clock and scopes.
        self._bound = False
        self._clock: Callable[[], float] = anyio.current_time
        self._new_scope: _backend.DeadlineScopeFactory = anyio.CancelScope
        # On trio, what keeps the deadlines of the native wires (made with the first).
        self._watchdog: _backend.TrioWatchdog | None = None

    def __repr__(self) -> str:
        return (
            f"<FastTransport http://{self._host}:{self._port}{self._prefix} "
            f"open={self._n_open} idle={len(self._idle)}>"
        )

    # -- requests --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Send ``request``; return once the response head has arrived."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        if not self._bound:
            # A transport belongs to the event loop of its first request (its
            # connections do): from now on use that loop's clock and scopes.
            self._clock, self._new_scope = _backend.hot_path_primitives()
            self._bound = True
        method = request.method
        timeout = request.timeout
        data = self._encoder.encode(
            method,
            self._prefix + request.target if self._prefix else request.target,
            request.headers,
            request.content,
        )
        total_s = timeout.total_s
        deadline = math.inf if total_s is None else self._clock() + total_s
        may_resend = method in SAFE_METHODS
        while True:
            # The common case, a fresh idle connection, without a coroutine of its own.
            conn = self._take_idle()
            if conn is None:
                conn = await self._acquire(deadline, timeout.connect_s, total_s)
            reader = conn.reader
            try:
                wire = conn.wire
                if not wire.native_deadlines:
                    await self._exchange_scoped(conn, data, method == "HEAD", deadline, timeout)
                else:
                    # The exchange with a wire that keeps deadlines, inline: one coroutine
                    # frame less per request, on the way in and at every resumption. Send
                    # the request, then read until the response head is complete.
                    reader.begin(head_only=method == "HEAD")
                    conn.received_any = False
                    clock = self._clock
                    write_s = timeout.write_s
                    if write_s is None or (limit := clock() + write_s) >= deadline:
                        if not await wire.send(data, deadline):
                            raise _timeout_error(_TIMEOUT_TOTAL, total_s)
                    elif not await wire.send(data, limit):
                        raise _timeout_error(_TIMEOUT_WRITE, write_s)
                    read_s = timeout.read_s
                    feed = reader.feed
                    received = 0
                    while True:
                        if read_s is None or (limit := clock() + read_s) >= deadline:
                            n = await wire.receive_into(feed, deadline)
                            if n < 0:
                                raise _timeout_error(_TIMEOUT_TOTAL, total_s)
                        else:
                            n = await wire.receive_into(feed, limit)
                            if n < 0:
                                raise _timeout_error(_TIMEOUT_READ, read_s)
                        if reader.head_done:
                            conn.received_any = True
                            break
                        if not n:
                            if conn.received_any:
                                raise NetworkError(
                                    "the server closed the connection in the response head"
                                )
                            raise NetworkError("the server closed the connection without answering")
                        conn.received_any = True
                        received += n
                        if received > MAX_HEAD_BYTES:
                            raise ProtocolError(f"response head larger than {MAX_HEAD_BYTES} bytes")
            except BaseException as exc:
                self._release_slot()
                await _close_shielded(conn.wire)
                if may_resend and conn.reused and not conn.received_any and _connection_lost(exc):
                    # The server closed this idle connection while the request
                    # was on its way; a safe request can go again.
                    continue
                if _is_foreign(exc):
                    raise translate_error(exc, connecting=False) from exc
                raise
            break
        status_code, headers = reader.status_code, reader.raw_headers
        if reader.complete:
            # The whole message is here: the connection is free before the
            # caller even looks at the body.
            content = reader.take_chunks()
            if reader.keep_alive and not reader.dirty and not self._closed:
                self._checkin(conn)
            else:
                await self._finish(conn)
            return Response(status_code, content=content, wire_headers=headers)
        body = _Body(self, conn, timeout.read_s, deadline, total_s, reader.take_chunks())
        response = Response(status_code, stream=body, wire_headers=headers)
        # The body may take long (an SSE stream: its whole life); the Response has the headers.
        reader.release_headers()
        return response

    async def _exchange_scoped(
        self,
        conn: _Connection,
        data: bytes,
        head_only: bool,
        deadline: float,
        limits: Timeout,
    ) -> None:
        """Send the request and read until the response head is complete (in a cancel scope)."""
        reader = conn.reader
        reader.begin(head_only=head_only)
        conn.received_any = False
        wire = conn.wire
        clock = self._clock
        write_s = limits.write_s
        read_s = limits.read_s
        now = clock()
        if write_s is None or now + write_s >= deadline:
            limit, kind, limit_s = deadline, _TIMEOUT_TOTAL, limits.total_s
        else:
            limit, kind, limit_s = now + write_s, _TIMEOUT_WRITE, write_s
        # One scope for the whole head: moving a deadline is cheaper than a new scope.
        with self._new_scope(deadline=limit) as scope:
            if not await wire.send(data, limit):
                raise _timeout_error(kind, limit_s)
            received = 0
            while not reader.head_done:
                if read_s is None or (now := clock()) + read_s >= deadline:
                    new_limit, kind, limit_s = deadline, _TIMEOUT_TOTAL, limits.total_s
                else:
                    new_limit, kind, limit_s = now + read_s, _TIMEOUT_READ, read_s
                if abs(new_limit - limit) > _DEADLINE_SLACK_S:
                    limit = scope.deadline = new_limit
                n = await wire.receive_into(reader.feed, limit)
                if not n:
                    if conn.received_any:
                        raise NetworkError("the server closed the connection in the response head")
                    raise NetworkError("the server closed the connection without answering")
                conn.received_any = True
                received += n
                if received > MAX_HEAD_BYTES and not reader.head_done:
                    raise ProtocolError(f"response head larger than {MAX_HEAD_BYTES} bytes")
        if scope.cancelled_caught:
            raise _timeout_error(kind, limit_s)

    # -- the pool --------------------------------------------------------------------------

    def _take_idle(self) -> _Connection | None:
        """The most recently used idle connection if it is fresh (else _acquire sorts it out)."""
        idle = self._idle
        if not idle or self._closed:
            return None
        conn = idle[-1]
        now = self._clock()
        if conn.expires_at <= now or (idle[0].expires_at <= now) or conn.wire.idle_readable():
            return None  # _acquire closes what has to be closed
        idle.pop()
        conn.reused = True
        return conn

    async def _acquire(
        self, deadline: float, connect_s: float | None, total_s: float | None
    ) -> _Connection:
        idle = self._idle
        while True:
            if self._closed:
                raise RuntimeError("the transport is closed")
            if idle:
                conn = idle.pop()
                now = self._clock()
                if conn.expires_at > now and not conn.wire.idle_readable():
                    conn.reused = True
                    if idle and idle[0].expires_at <= now:
                        await self._prune(now)
                    return conn
                self._release_slot()
                await _close_shielded(conn.wire)
                continue
            if self._n_open < self._max_connections:
                self._n_open += 1
            else:
                handed = await self._wait(deadline, total_s)
                if handed is not None:
                    handed.reused = True
                    return handed
                # We were given a free slot (already counted in _n_open).
            try:
                wire = await self._connect(deadline, connect_s, total_s)
            except BaseException:
                self._release_slot()
                raise
            return _Connection(wire)

    async def _connect(
        self, deadline: float, connect_s: float | None, total_s: float | None
    ) -> Wire:
        now = self._clock()
        if connect_s is None or now + connect_s >= deadline:
            limit, kind, limit_s = deadline, _TIMEOUT_TOTAL, total_s
        else:
            limit, kind, limit_s = now + connect_s, _TIMEOUT_CONNECT, connect_s
        with anyio.CancelScope(deadline=limit):
            try:
                if not self._native_wire:
                    return _AnyioWire(await anyio.connect_tcp(self._host, self._port))
                if _backend.running_on_asyncio():
                    return await _backend.open_asyncio_wire(self._host, self._port)
                if self._watchdog is None:
                    self._watchdog = _backend.TrioWatchdog()
                return await _backend.open_trio_wire(self._host, self._port, self._watchdog)
            except FOREIGN_ERRORS as exc:
                raise translate_error(exc, connecting=True) from exc
        raise _timeout_error(kind, limit_s)

    async def _wait(self, deadline: float, total_s: float | None) -> _Connection | None:
        """Wait for a connection (returned) or a free slot (None) in arrival order."""
        waiter = _Waiter()
        self._waiters.append(waiter)
        try:
            with anyio.CancelScope(deadline=deadline):
                await waiter.event.wait()
        except BaseException:
            await self._abandon(waiter)
            raise
        if waiter.conn is not None or waiter.slot:
            return waiter.conn
        await self._abandon(waiter)
        if self._closed:
            raise RuntimeError("the transport is closed")
        raise _timeout_error(_TIMEOUT_TOTAL, total_s)

    async def _abandon(self, waiter: _Waiter) -> None:
        """A waiter leaves (cancelled, timed out): pass on whatever it was given."""
        if waiter.conn is not None:
            conn, waiter.conn = waiter.conn, None
            if self._closed:
                await self._discard(conn)
            else:
                self._checkin(conn)
        elif waiter.slot:
            waiter.slot = False
            self._release_slot()
        else:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def _checkin(self, conn: _Connection) -> None:
        """Give a clean connection to the first waiter, or to the idle stack."""
        conn.expires_at = self._clock() + self._keepalive_expiry_s
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.conn = conn
            waiter.event.set()
        else:
            self._idle.append(conn)

    def _release_slot(self) -> None:
        """Stop counting a connection that is closing (or was never opened): pass its slot on."""
        if self._waiters and not self._closed:
            waiter = self._waiters.popleft()
            waiter.slot = True
            waiter.event.set()
        else:
            self._n_open -= 1

    async def _finish(self, conn: _Connection) -> None:
        """The response ended: pool the connection if it may carry another request."""
        reader = conn.reader
        if reader.keep_alive and not reader.dirty and not self._closed:
            self._checkin(conn)
        else:
            self._release_slot()
            await _close_shielded(conn.wire)

    async def _discard(self, conn: _Connection) -> None:
        self._release_slot()
        await _close_shielded(conn.wire)

    async def _prune(self, now: float) -> None:
        # LIFO reuse leaves the coldest connections at the bottom: close the expired ones.
        idle = self._idle
        while idle and idle[0].expires_at <= now:
            conn = idle.popleft()
            self._release_slot()
            await _close_shielded(conn.wire)

    async def aclose(self) -> None:
        """Close idle connections now and the others when their responses end."""
        self._closed = True
        if self._watchdog is not None:
            # Its task ends once the connections still in use are closed too.
            self._watchdog.close()
        while self._waiters:
            self._waiters.popleft().event.set()
        while self._idle:
            conn = self._idle.pop()
            self._n_open -= 1
            await _close_shielded(conn.wire)


@final
class _Body:
    """The body of a response still arriving on a pooled connection."""

    __slots__ = ("_conn", "_deadline", "_pending", "_read_s", "_total_s", "_transport")

    def __init__(
        self,
        transport: FastTransport,
        conn: _Connection,
        read_s: float | None,
        deadline: float,
        total_s: float | None,
        pending: bytes,
    ) -> None:
        self._transport = transport
        self._conn: _Connection | None = conn
        self._read_s = read_s
        self._deadline = deadline
        self._total_s = total_s
        self._pending = pending

    async def receive_some(self) -> bytes:
        pending = self._pending
        if pending:
            self._pending = b""
            return pending
        conn = self._conn
        if conn is None:
            return b""
        # One coroutine for the whole read, no helper: an open stream spends its life
        # suspended in here, and each level of the await chain holds a frame per stream.
        reader = conn.reader
        transport = self._transport
        wire = conn.wire
        read_s = self._read_s
        deadline = self._deadline
        chunk = b""
        try:
            while not reader.complete:
                if read_s is None or (now := transport._clock()) + read_s >= deadline:
                    limit, kind, limit_s = deadline, _TIMEOUT_TOTAL, self._total_s
                else:
                    limit, kind, limit_s = now + read_s, _TIMEOUT_READ, read_s
                if wire.native_deadlines:
                    n = await wire.receive_into(reader.feed, limit)
                else:
                    with transport._new_scope(deadline=limit) as scope:
                        n = await wire.receive_into(reader.feed, limit)
                    if scope.cancelled_caught:
                        n = -1
                if n < 0:
                    raise _timeout_error(kind, limit_s)
                if not n:
                    reader.feed_eof()
                    if not reader.complete:
                        raise NetworkError("the server closed the connection in the response body")
                if reader.chunks:
                    chunk = reader.take_chunks()
                    break
        except BaseException as exc:
            self._conn = None
            await transport._discard(conn)
            if _is_foreign(exc):
                raise translate_error(exc, connecting=False) from exc
            raise
        if reader.complete:
            self._conn = None
            await transport._finish(conn)
        return chunk

    async def aclose(self) -> None:
        self._pending = b""
        conn = self._conn
        if conn is not None:
            # The body was not read to its end: the connection is half-read.
            self._conn = None
            await self._transport._discard(conn)
