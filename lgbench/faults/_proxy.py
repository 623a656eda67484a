"""A loopback TCP proxy that misbehaves on demand: :class:`FaultProxy`.

lgbench talks to the proxy, the proxy to the target. Faults are switched on and off at
run time, several at once, each undone on its own::

    async with FaultProxy("127.0.0.1", 8123) as proxy:
        client = get_client(url=proxy.url)
        slow = await proxy.apply(LatencyFault(latency_s=0.2, jitter_s=0.05))
        ...
        await proxy.lift(slow)

Each accepted connection gets its own connection to the upstream and two one-way pumps
(to the server, to the client). A pump is a reader and a writer joined by a small
queue, so a delayed chunk does not stop the next one being read (a slow link, not a slow
reader), and chunks leave in the order they came (a chunk is never released before the
one ahead of it, whatever the jitter). The faults:

- :class:`LatencyFault`: each chunk waits ``latency_s`` plus a uniform draw from
  ``[-jitter_s, +jitter_s]`` (at least zero) after it was read, in the chosen
  direction(s); a request and its answer pay it once each way.
- :class:`ThrottleFault`: a token bucket per direction shared by all connections
  (one link), in slices of 50 ms worth of bytes; each slice leaves once its time has
  passed, so ``n`` bytes take at least ``n / bytes_per_s`` seconds.
- :class:`StallFault`: connections are accepted and nothing is forwarded either way,
  on existing and new connections (new ones do not even reach the upstream) until the
  stall is lifted; then everything held flows on.
- :class:`ResetFault`: every open connection is closed with a TCP reset (SO_LINGER 0)
  on both sides, and new ones are reset as soon as they are accepted.
- :class:`RefuseFault`: the listening socket is closed, so new connections are refused
  by the kernel (open ones carry on); lifting it binds the same port again.
- :class:`CutFault`: server-to-client streams are closed in the middle of an SSE event:
  right after the next ``data:`` field name once ``after_bytes`` bytes went to the
  client on that connection since the fault began (or since the connection opened).
  The client holds the start of an event that never ends. Answers without ``data:``
  (plain JSON) pass untouched.

When several faults of a kind are active, latencies and jitters add up, the lowest rate
and the lowest ``after_bytes`` win. Jitter is drawn from a generator seeded with
``(seed, connection index, direction)``, so a run with the same seed and the same chunks
gets the same delays.

If the upstream cannot be reached (the embedded server killed, say), the client's
connection is reset. A reset from either side is passed on as a reset to the other.

Failure modes: invalid arguments raise a :class:`~lgbench.errors.UsageError` that is
also a :class:`ValueError`; a port that cannot be bound (or bound again after a refuse
fault) raises :class:`~lgbench.errors.TargetError`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import random
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import ClassVar, Final, Literal, TypeAlias, final, get_args

import anyio
import anyio.abc
from anyio.abc import SocketAttribute
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from lgbench.errors import TargetError, UsageError

__all__ = [
    "DIRECTIONS",
    "AppliedFault",
    "CutFault",
    "Direction",
    "FaultProxy",
    "LatencyFault",
    "ProxyFault",
    "ProxyStats",
    "RefuseFault",
    "ResetFault",
    "StallFault",
    "ThrottleFault",
]

#: Which way a fault acts: both ways, client to server only, server to client only.
Direction: TypeAlias = Literal["both", "to-server", "to-client"]
DIRECTIONS: Final[tuple[Direction, ...]] = get_args(Direction)

_Way: TypeAlias = Literal["to-server", "to-client"]
_WAYS: Final[tuple[_Way, _Way]] = ("to-server", "to-client")
_CHUNK_BYTES: Final = 65_536
# Chunks read ahead of the writer, per direction and connection: bounds memory while a
# latency fault holds data back.
_QUEUE_CHUNKS: Final = 64
_THROTTLE_SLICE_S: Final = 0.05
# After a cut, how long the client may take to notice and close before the proxy does.
_CUT_LINGER_S: Final = 5.0
_REBIND_ATTEMPTS: Final = 50
_REBIND_PAUSE_S: Final = 0.02
_SSE_FIELD: Final = b"data:"
_LINGER_RESET: Final = struct.pack("ii", 1, 0)


class _FaultValueError(UsageError, ValueError):
    """A fault or proxy argument out of range."""


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise _FaultValueError(
            f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}"
        )


def _check_seconds(name: str, value: float, *, positive: bool = False) -> None:
    if (
        isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        least = "more than 0" if positive else "at least 0"
        raise _FaultValueError(f"{name} must be a finite number of seconds {least}, not {value!r}")


@dataclass(frozen=True, slots=True)
class LatencyFault:
    """Delay each forwarded chunk by ``latency_s`` ± ``jitter_s`` (uniform, at least 0)."""

    kind: ClassVar[str] = "latency"
    latency_s: float
    jitter_s: float = 0.0
    direction: Direction = "both"

    def __post_init__(self) -> None:
        _check_seconds("latency_s", self.latency_s)
        _check_seconds("jitter_s", self.jitter_s)
        _check_direction(self.direction)


@dataclass(frozen=True, slots=True)
class ThrottleFault:
    """Limit bandwidth to ``bytes_per_s`` in the chosen direction(s), for all connections."""

    kind: ClassVar[str] = "throttle"
    bytes_per_s: float
    direction: Direction = "both"

    def __post_init__(self) -> None:
        rate = self.bytes_per_s
        if isinstance(rate, bool) or not math.isfinite(rate) or rate <= 0:
            raise _FaultValueError(f"bytes_per_s must be a positive number, not {rate!r}")
        _check_direction(self.direction)


@dataclass(frozen=True, slots=True)
class StallFault:
    """Accept connections but forward nothing, either way, until lifted."""

    kind: ClassVar[str] = "stall"


@dataclass(frozen=True, slots=True)
class ResetFault:
    """Reset (TCP RST) every open connection, and every new one as it is accepted."""

    kind: ClassVar[str] = "reset"


@dataclass(frozen=True, slots=True)
class RefuseFault:
    """Close the listening socket: new connections are refused until lifted."""

    kind: ClassVar[str] = "refuse"


@dataclass(frozen=True, slots=True)
class CutFault:
    """Close server-to-client streams in the middle of an SSE event, after ``after_bytes``."""

    kind: ClassVar[str] = "cut"
    after_bytes: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.after_bytes, bool) or not isinstance(self.after_bytes, int):
            raise _FaultValueError(f"after_bytes must be an integer, not {self.after_bytes!r}")
        if self.after_bytes < 0:
            raise _FaultValueError(f"after_bytes must be at least 0, not {self.after_bytes}")


#: Any fault the proxy can apply.
ProxyFault: TypeAlias = (
    LatencyFault | ThrottleFault | StallFault | ResetFault | RefuseFault | CutFault
)


@final
@dataclass(frozen=True, slots=True)
class AppliedFault:
    """A fault in force on a proxy, as :meth:`FaultProxy.apply` returned it; lift it with
    :meth:`FaultProxy.lift`."""

    id: int
    fault: ProxyFault


@final
@dataclass(frozen=True, slots=True)
class ProxyStats:
    """Counters of a :class:`FaultProxy` since it started (a snapshot)."""

    #: Connections accepted from clients.
    connections_accepted: int
    #: Connections open right now.
    connections_open: int
    #: Connections closed with a reset: by a reset fault, or passing on a reset.
    connections_reset: int
    #: Client connections reset because the upstream could not be reached.
    upstream_failures: int
    #: Server-to-client streams cut mid-event by a cut fault.
    streams_cut: int
    #: Bytes forwarded from clients to the upstream.
    bytes_to_server: int
    #: Bytes forwarded from the upstream to clients.
    bytes_to_client: int
    #: Faults applied (each apply() counts once).
    faults_applied: int
    #: Kinds of the faults in force, in the order they were applied.
    faults_active: tuple[str, ...]


@dataclass(slots=True)
class _Counts:
    connections_reset: int = 0
    upstream_failures: int = 0
    streams_cut: int = 0
    bytes_to_server: int = 0
    bytes_to_client: int = 0
    faults_applied: int = 0


@dataclass(slots=True)
class _Effects:
    """What the faults in force add up to."""

    latency_s: dict[_Way, float] = field(default_factory=lambda: dict.fromkeys(_WAYS, 0.0))
    jitter_s: dict[_Way, float] = field(default_factory=lambda: dict.fromkeys(_WAYS, 0.0))
    rate: dict[_Way, float | None] = field(default_factory=lambda: dict.fromkeys(_WAYS, None))
    stall: bool = False
    reset: bool = False
    refuse: bool = False
    cut_after: int | None = None


def _ways(direction: Direction) -> tuple[_Way, ...]:
    return _WAYS if direction == "both" else (direction,)


def _effects_of(faults: list[ProxyFault]) -> _Effects:
    effects = _Effects()
    for fault in faults:
        if isinstance(fault, LatencyFault):
            for way in _ways(fault.direction):
                effects.latency_s[way] += fault.latency_s
                effects.jitter_s[way] += fault.jitter_s
        elif isinstance(fault, ThrottleFault):
            for way in _ways(fault.direction):
                current = effects.rate[way]
                effects.rate[way] = (
                    fault.bytes_per_s if current is None else min(current, fault.bytes_per_s)
                )
        elif isinstance(fault, StallFault):
            effects.stall = True
        elif isinstance(fault, ResetFault):
            effects.reset = True
        elif isinstance(fault, RefuseFault):
            effects.refuse = True
        else:
            current_cut = effects.cut_after
            effects.cut_after = (
                fault.after_bytes if current_cut is None else min(current_cut, fault.after_bytes)
            )
    return effects


class _Bucket:
    """A token bucket for one direction: ``take(n)`` returns once n bytes' time has passed."""

    def __init__(self, bytes_per_s: float) -> None:
        self.bytes_per_s = bytes_per_s
        self.slice_bytes = max(1, int(bytes_per_s * _THROTTLE_SLICE_S))
        self._free_at = -math.inf

    async def take(self, n_bytes: int) -> None:
        start = max(anyio.current_time(), self._free_at)
        # Reserved before sleeping: concurrent connections queue up behind each other.
        self._free_at = start + n_bytes / self.bytes_per_s
        await anyio.sleep_until(self._free_at)


@dataclass(eq=False)
class _Connection:
    index: int
    client: anyio.abc.SocketStream
    upstream: anyio.abc.SocketStream | None = None
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    closed: anyio.Event = field(default_factory=anyio.Event)
    reset: bool = False
    cut: bool = False
    bytes_to_client: int = 0
    # Cut bookkeeping: the cut fault generation seen, the byte count it starts from, and
    # the last bytes sent (a "data:" may straddle two chunks).
    cut_generation: int = -1
    cut_from: int = 0
    tail: bytes = b""


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise _FaultValueError(f"the fault proxy listens on loopback addresses only, not {host!r}")
    return host


async def _close(stream: anyio.abc.SocketStream, *, reset: bool) -> None:
    if reset:
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN. On asyncio a
        # stream whose transport is already gone has no socket left (AttributeError).
        with contextlib.suppress(OSError, AttributeError, anyio.TypedAttributeLookupError):
            raw = stream.extra(SocketAttribute.raw_socket)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.aclose()


async def _send_eof(stream: anyio.abc.SocketStream) -> None:
    # uvloop raises RuntimeError (not an OSError) for a transport its peer already closed.
    with contextlib.suppress(
        OSError, RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError
    ):
        await stream.send_eof()


def _cut_point(conn: _Connection, chunk: bytes, after_bytes: int, generation: int) -> int | None:
    """Where to cut ``chunk`` (bytes of it to send first), or None to send it all."""
    if conn.cut_generation != generation:
        conn.cut_generation, conn.cut_from = generation, conn.bytes_to_client
    threshold = conn.cut_from + after_bytes
    window = conn.tail + chunk
    # Stream offset of window[0].
    base = conn.bytes_to_client - len(conn.tail)
    start = 0
    while True:
        found = window.find(_SSE_FIELD, start)
        if found < 0:
            return None
        end = base + found + len(_SSE_FIELD)
        if end >= threshold:
            return max(0, end - conn.bytes_to_client)
        start = found + 1


@final
class FaultProxy:
    """A loopback TCP proxy to ``upstream_host:upstream_port`` with switchable faults.

    An async context manager (all its tasks live in a task group inside it; leaving the
    block closes every connection). The listening port is known once entered: ``port``
    and ``url``.

    Args:
        upstream_host, upstream_port: where connections are forwarded.
        listen_host: a loopback address to listen on.
        listen_port: the port to listen on; 0 (default) picks a free one.
        seed: seeds the jitter draws (same seed, same chunks: same delays).
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        *,
        seed: int = 0,
    ) -> None:
        for name, port in (("upstream_port", upstream_port), ("listen_port", listen_port)):
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65_535:
                raise _FaultValueError(f"{name} must be an integer from 0 to 65535, not {port!r}")
        if upstream_port == 0:
            raise _FaultValueError("upstream_port must not be 0")
        self._upstream = (upstream_host, upstream_port)
        self._host = _loopback(listen_host)
        self._port = listen_port or None
        self._seed = seed
        self._active: dict[int, ProxyFault] = {}
        self._effects = _Effects()
        self._buckets: dict[_Way, _Bucket | None] = dict.fromkeys(_WAYS, None)
        self._cut_generation = 0
        self._next_fault_id = 0
        self._connections: set[_Connection] = set()
        self._n_connections = 0
        self._counts = _Counts()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._listener: anyio.abc.SocketListener | None = None
        self._accept_scope: anyio.CancelScope | None = None
        self._accept_done: anyio.Event | None = None
        self._flowing: anyio.Event | None = None
        self._lock: anyio.Lock | None = None

    # -- what callers read ---------------------------------------------------------------

    @property
    def host(self) -> str:
        """The loopback address the proxy listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The port the proxy listens on (known once entered; kept across refuse faults)."""
        if self._port is None:
            raise RuntimeError("the fault proxy has no port yet: enter it first")
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` of the proxy, for the client (no trailing slash)."""
        return f"http://{self._host}:{self.port}"

    @property
    def upstream(self) -> tuple[str, int]:
        """``(host, port)`` connections are forwarded to."""
        return self._upstream

    @property
    def active_faults(self) -> tuple[AppliedFault, ...]:
        """The faults in force, in the order they were applied."""
        return tuple(AppliedFault(key, fault) for key, fault in self._active.items())

    def stats(self) -> ProxyStats:
        """A snapshot of the counters."""
        counts = self._counts
        return ProxyStats(
            connections_accepted=self._n_connections,
            connections_open=len(self._connections),
            connections_reset=counts.connections_reset,
            upstream_failures=counts.upstream_failures,
            streams_cut=counts.streams_cut,
            bytes_to_server=counts.bytes_to_server,
            bytes_to_client=counts.bytes_to_client,
            faults_applied=counts.faults_applied,
            faults_active=tuple(fault.kind for fault in self._active.values()),
        )

    # -- faults --------------------------------------------------------------------------

    async def apply(self, fault: ProxyFault) -> AppliedFault:
        """Put ``fault`` in force now, alongside any others; returns its handle.

        Returns once it acts: after a reset fault every open connection is closed, after
        a refuse fault the listener is closed.
        """
        lock = self._require_running()
        async with lock:
            key = self._next_fault_id
            self._next_fault_id += 1
            self._active[key] = fault
            self._counts.faults_applied += 1
            await self._update()
        return AppliedFault(key, fault)

    async def lift(self, applied: AppliedFault) -> None:
        """End the fault ``applied`` (idempotent). Lifting the last refuse fault binds the
        port again before returning.

        Raises:
            TargetError: the port could not be bound again (another process took it).
        """
        lock = self._require_running()
        async with lock:
            if self._active.pop(applied.id, None) is not None:
                await self._update()

    async def lift_all(self) -> None:
        """End every fault in force."""
        lock = self._require_running()
        async with lock:
            if self._active:
                self._active.clear()
                await self._update()

    @contextlib.asynccontextmanager
    async def inject(self, fault: ProxyFault) -> AsyncIterator[AppliedFault]:
        """``async with proxy.inject(fault):`` the fault is in force inside the block."""
        applied = await self.apply(fault)
        try:
            yield applied
        finally:
            with anyio.CancelScope(shield=True):
                await self.lift(applied)

    def _require_running(self) -> anyio.Lock:
        if self._lock is None or self._task_group is None:
            raise RuntimeError("the fault proxy is not running: use it in an async with block")
        return self._lock

    async def _update(self) -> None:
        before = self._effects
        after = _effects_of(list(self._active.values()))
        self._effects = after
        for way in _WAYS:
            rate = after.rate[way]
            bucket = self._buckets[way]
            if rate is None:
                self._buckets[way] = None
            elif bucket is None or bucket.bytes_per_s != rate:
                self._buckets[way] = _Bucket(rate)
        if after.cut_after is not None and before.cut_after is None:
            self._cut_generation += 1
        if after.stall and not before.stall:
            self._flowing = anyio.Event()
        elif before.stall and not after.stall and self._flowing is not None:
            self._flowing.set()
        if after.reset and not before.reset:
            await self._reset_all()
        if after.refuse and not before.refuse:
            await self._close_listener()
        elif before.refuse and not after.refuse:
            await self._listen()

    async def _reset_all(self) -> None:
        connections = list(self._connections)
        for conn in connections:
            conn.reset = True
            conn.scope.cancel()
        for conn in connections:
            await conn.closed.wait()

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> FaultProxy:
        if self._task_group is not None:
            raise RuntimeError("the fault proxy is already running")
        self._lock = anyio.Lock()
        self._flowing = anyio.Event()
        self._flowing.set()
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        try:
            await self._listen()
        except BaseException as exc:
            task_group.cancel_scope.cancel()
            self._task_group = None
            await task_group.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        assert task_group is not None
        # Everything inside ends now: the accept loop and every connection (their own
        # cleanup is shielded).
        task_group.cancel_scope.cancel()
        try:
            return await task_group.__aexit__(exc_type, exc, traceback)
        finally:
            self._task_group = None
            listener, self._listener = self._listener, None
            if listener is not None:
                with anyio.CancelScope(shield=True):
                    await listener.aclose()

    def __repr__(self) -> str:
        where = f"{self._host}:{self._port}" if self._port is not None else "not listening"
        upstream = f"{self._upstream[0]}:{self._upstream[1]}"
        kinds = ",".join(fault.kind for fault in self._active.values()) or "no faults"
        return f"<FaultProxy {where} -> {upstream} {kinds}>"

    async def _listen(self) -> None:
        task_group = self._task_group
        assert task_group is not None
        error: OSError | None = None
        # After a refuse fault the port must come back; a stray connection in TIME_WAIT
        # cannot block it (anyio sets SO_REUSEADDR), another process binding it can.
        for _ in range(_REBIND_ATTEMPTS if self._port is not None else 1):
            try:
                listeners = await anyio.create_tcp_listener(
                    local_host=self._host, local_port=self._port or 0
                )
            except OSError as exc:
                error = exc
                await anyio.sleep(_REBIND_PAUSE_S)
                continue
            listener = listeners.listeners[0]
            # A TCP listener is always a SocketListener; the container is typed loosely.
            assert isinstance(listener, anyio.abc.SocketListener)
            for extra in listeners.listeners[1:]:
                await extra.aclose()
            self._listener = listener
            self._port = listener.extra(SocketAttribute.local_port)
            await task_group.start(self._accept_loop, listener)
            return
        raise TargetError(f"the fault proxy cannot listen on {self._host}:{self._port}: {error}")

    async def _close_listener(self) -> None:
        if self._accept_scope is not None:
            self._accept_scope.cancel()
        if self._accept_done is not None:
            await self._accept_done.wait()
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.aclose()

    async def _accept_loop(
        self,
        listener: anyio.abc.SocketListener,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        task_group = self._task_group
        assert task_group is not None
        done = self._accept_done = anyio.Event()
        try:
            with anyio.CancelScope() as scope:
                self._accept_scope = scope
                task_status.started()
                while True:
                    try:
                        stream = await listener.accept()
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        return
                    except OSError:
                        # Out of file descriptors, or the client gave up in the backlog.
                        await anyio.sleep(0.05)
                        continue
                    self._n_connections += 1
                    conn = _Connection(self._n_connections, stream)
                    self._connections.add(conn)
                    task_group.start_soon(self._serve, conn)
        finally:
            done.set()

    # -- one connection ------------------------------------------------------------------

    async def _serve(self, conn: _Connection) -> None:
        try:
            with conn.scope:
                if self._effects.reset:
                    conn.reset = True
                    return
                await self._wait_flowing()
                try:
                    conn.upstream = await anyio.connect_tcp(*self._upstream)
                except OSError:
                    self._counts.upstream_failures += 1
                    conn.reset = True
                    return
                async with anyio.create_task_group() as task_group:
                    task_group.start_soon(self._pump, conn, "to-server", conn.client, conn.upstream)
                    task_group.start_soon(self._pump, conn, "to-client", conn.upstream, conn.client)
        finally:
            self._connections.discard(conn)
            if conn.reset:
                self._counts.connections_reset += 1
            with anyio.CancelScope(shield=True):
                await _close(conn.client, reset=conn.reset)
                if conn.upstream is not None:
                    await _close(conn.upstream, reset=conn.reset)
            conn.closed.set()

    async def _wait_flowing(self) -> None:
        while self._effects.stall and self._flowing is not None:
            await self._flowing.wait()

    async def _pump(
        self,
        conn: _Connection,
        way: _Way,
        source: anyio.abc.SocketStream,
        sink: anyio.abc.SocketStream,
    ) -> None:
        send, receive = anyio.create_memory_object_stream[tuple[float, bytes]](_QUEUE_CHUNKS)
        rng = random.Random(f"{self._seed}:{conn.index}:{way}")
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(self._read, conn, way, source, send, rng)
            await self._write(conn, way, receive, sink)

    async def _read(
        self,
        conn: _Connection,
        way: _Way,
        source: anyio.abc.SocketStream,
        queue: MemoryObjectSendStream[tuple[float, bytes]],
        rng: random.Random,
    ) -> None:
        last_due_s = -math.inf
        async with queue:
            while True:
                try:
                    chunk = await source.receive(_CHUNK_BYTES)
                except (anyio.EndOfStream, anyio.ClosedResourceError):
                    return
                except (anyio.BrokenResourceError, OSError):
                    self._pass_on_reset(conn)
                    return
                delay_s = self._effects.latency_s[way]
                jitter_s = self._effects.jitter_s[way]
                if jitter_s > 0:
                    delay_s = max(0.0, delay_s + rng.uniform(-jitter_s, jitter_s))
                # Never ahead of the chunk before it: jitter must not reorder bytes.
                last_due_s = max(anyio.current_time() + delay_s, last_due_s)
                try:
                    await queue.send((last_due_s, chunk))
                except anyio.BrokenResourceError:
                    return  # the writer is done with this direction (a cut, a reset)

    async def _write(
        self,
        conn: _Connection,
        way: _Way,
        queue: MemoryObjectReceiveStream[tuple[float, bytes]],
        sink: anyio.abc.SocketStream,
    ) -> None:
        async with queue:
            async for due_s, chunk in queue:
                await anyio.sleep_until(due_s)
                if not await self._forward(conn, way, chunk, sink):
                    return
        # The source ended cleanly: pass the end of file on (half-close), unless a cut
        # already closed the upstream.
        if not (conn.cut and way == "to-server"):
            await _send_eof(sink)

    async def _forward(
        self, conn: _Connection, way: _Way, chunk: bytes, sink: anyio.abc.SocketStream
    ) -> bool:
        """Send ``chunk`` under the faults in force; False when the direction is done."""
        data = chunk
        cut_after = self._effects.cut_after if way == "to-client" else None
        cut_at = (
            _cut_point(conn, chunk, cut_after, self._cut_generation)
            if cut_after is not None
            else None
        )
        if cut_at is not None:
            data = chunk[:cut_at]
        position = 0
        while position < len(data):
            await self._wait_flowing()
            bucket = self._buckets[way]
            if bucket is None:
                piece = data[position:]
            else:
                piece = data[position : position + bucket.slice_bytes]
                await bucket.take(len(piece))
                await self._wait_flowing()
            try:
                await sink.send(piece)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                self._pass_on_reset(conn)
                return False
            position += len(piece)
            self._count(conn, way, piece)
        if cut_at is not None:
            await self._cut(conn)
            return False
        return True

    def _count(self, conn: _Connection, way: _Way, piece: bytes) -> None:
        if way == "to-client":
            conn.bytes_to_client += len(piece)
            conn.tail = (conn.tail + piece)[-(len(_SSE_FIELD) - 1) :]
            self._counts.bytes_to_client += len(piece)
        else:
            self._counts.bytes_to_server += len(piece)

    async def _cut(self, conn: _Connection) -> None:
        conn.cut = True
        self._counts.streams_cut += 1
        # The client sees the end of its stream (FIN) with an event half read; the
        # server sees its client gone. The connection ends when the client closes, or
        # after a grace period.
        await _send_eof(conn.client)
        if conn.upstream is not None:
            await _close(conn.upstream, reset=False)
        conn.scope.deadline = min(conn.scope.deadline, anyio.current_time() + _CUT_LINGER_S)

    def _pass_on_reset(self, conn: _Connection) -> None:
        if conn.cut:
            # The upstream we closed ourselves after a cut: not a reset.
            return
        conn.reset = True
        conn.scope.cancel()
