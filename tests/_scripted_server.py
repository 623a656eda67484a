"""A small HTTP/1.1 server with scripted misbehaviour, for the transport tests.

Loopback only, port 0: start it with ``await tg.start(server.serve)`` (or
:func:`open_scripted_server`) and use ``server.url``. Each route is a handler
``async (exchange) -> bool`` that writes whatever bytes it likes; it returns
whether the connection may carry another request. The server counts the
connections it accepted and saw closed, records each request, and lets tests
wait for those counts instead of sleeping (:meth:`ScriptedServer.wait_for`).

Routes (``GET`` unless said otherwise):

``/cl?size=N``           Content-Length body of N bytes (default ``hello``)
``/chunked``             chunked body, each chunk a separate write
``/close``               ``Connection: close``, then the server closes
``/http10``              an HTTP/1.0 response (the client must not reuse it)
``/until-close``         no length: the body ends when the server closes
``/stall-head``          reads the request, answers nothing, waits for the client to leave
``/slow-head?delay=S``   answers after S seconds
``/stall-body``          head and half the body, then waits for the client to leave
``/reset-body``          head and part of the body, then a TCP reset once ``server.proceed``
``/close-in-head``       half a head, then the server closes
``/idle-close``          a keep-alive response, then the server closes the idle connection
``/arm-drop``            a normal response; the *next* request on that connection is
                         read and answered by closing (the keep-alive race)
``/drop``                reads the request and closes without answering
``/keepalive-json``      chunked ``\\n`` keep-alive bytes, then a JSON body (LangGraph's wait)
``/sse``                 an SSE stream with a heartbeat comment; waits for ``server.proceed``
                         between events when ``?step=1``
``/trickle``             sends a ``\\n`` chunk every 50 ms until the client leaves
``/redirect``            303 to ``/cl``
``/malformed``           not HTTP at all
``/upgrade``             101 Switching Protocols
``/garbage-after``       a valid response followed by bytes nobody asked for
``/interim``             100 and 103 before the final 200
``/no-content``          204 with a (forbidden) Content-Length
``/not-modified``        304 with a Content-Length
``/head``                answers HEAD with a Content-Length and no body
``/echo``                JSON of the request's method, target, headers and body
``/digest``              JSON of the request body's length and SHA-256 (for large bodies)
``/huge-head``           a response head of 2 MiB (far past any sane limit), then waits
``/gate``                waits for ``server.gate`` to be set, then answers

A server that must *not* read (to block the client's send) cannot be built on
anyio's asyncio streams, which keep reading ahead of the application: use
:class:`QuietServer`, plain non-blocking sockets read only when the test says.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import struct
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.abc import SocketAttribute

__all__ = [
    "Exchange",
    "QuietServer",
    "ScriptedServer",
    "ServerRequest",
    "open_scripted_server",
    "quiet_server",
    "unaccepting_listener",
]

Handler = Callable[["Exchange"], Awaitable[bool]]

_CLIENT_GONE = (
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    OSError,
)


@dataclasses.dataclass
class ServerRequest:
    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_head: bytes
    connection_id: int
    body: bytes = b""


class Exchange:
    """One request on one connection, as a route handler sees it."""

    def __init__(
        self,
        server: ScriptedServer,
        stream: anyio.abc.SocketStream,
        request: ServerRequest,
        buffer: bytearray,
    ) -> None:
        self.server = server
        self.stream = stream
        self.request = request
        self._buffer = buffer

    async def send(self, data: bytes) -> None:
        await self.stream.send(data)

    async def send_pieces(self, pieces: list[bytes], pause_s: float = 0.0) -> None:
        """Each piece in its own write, with a pause (or a bare checkpoint) between them."""
        for piece in pieces:
            if piece:
                await self.stream.send(piece)
                if pause_s:
                    await anyio.sleep(pause_s)
                else:
                    await anyio.lowlevel.checkpoint()

    async def read_body(self) -> bytes:
        length = int(self.request.headers.get("content-length", "0"))
        while len(self._buffer) < length:
            self._buffer += await self.stream.receive()
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return body

    async def wait_client_close(self) -> None:
        """Discard whatever the client sends until it closes the connection."""
        try:
            while await self.stream.receive():
                pass
        except _CLIENT_GONE:
            pass

    def reset(self) -> None:
        """Make the coming close a TCP reset (SO_LINGER with a zero timeout)."""
        raw = self.stream.extra(SocketAttribute.raw_socket)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _response(
    status: int,
    reason: str,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    *,
    version: str = "1.1",
    length: bool = True,
) -> bytes:
    lines = [f"HTTP/{version} {status} {reason}\r\n"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}\r\n")
    if length:
        lines.append(f"Content-Length: {len(body)}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"


class ScriptedServer:
    """See the module docstring. Counters are read by tests; ``routes`` may be extended."""

    def __init__(self) -> None:
        self.port = 0
        self.connections_opened = 0
        self.connections_closed = 0
        self.open_now = 0
        self.max_open = 0
        self.requests: list[ServerRequest] = []
        self.gate = anyio.Event()
        self.proceed = anyio.Event()
        self._changed = anyio.Event()
        self._drop_next: set[int] = set()
        self.routes: dict[str, Handler] = {
            "/cl": self._cl,
            "/chunked": self._chunked,
            "/close": self._close,
            "/http10": self._http10,
            "/until-close": self._until_close,
            "/stall-head": self._stall_head,
            "/slow-head": self._slow_head,
            "/stall-body": self._stall_body,
            "/reset-body": self._reset_body,
            "/close-in-head": self._close_in_head,
            "/idle-close": self._idle_close,
            "/arm-drop": self._arm_drop,
            "/drop": self._drop,
            "/keepalive-json": self._keepalive_json,
            "/sse": self._sse,
            "/trickle": self._trickle,
            "/redirect": self._redirect,
            "/malformed": self._malformed,
            "/upgrade": self._upgrade,
            "/garbage-after": self._garbage_after,
            "/interim": self._interim,
            "/no-content": self._no_content,
            "/not-modified": self._not_modified,
            "/head": self._head,
            "/echo": self._echo,
            "/digest": self._digest,
            "/huge-head": self._huge_head,
            "/gate": self._gate,
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    # -- waiting for what the server saw ------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (re-checked on every server event)."""
        with anyio.fail_after(timeout_s):
            while not predicate():
                await self._changed.wait()

    async def wait_requests(self, path: str, count: int = 1) -> None:
        await self.wait_for(lambda: self.paths().count(path) >= count)

    async def wait_closed(self, count: int) -> None:
        await self.wait_for(lambda: self.connections_closed >= count)

    # -- serving ------------------------------------------------------------------------------

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        async with listener:
            self.port = listener.extra(SocketAttribute.local_port)
            task_status.started(self.port)
            await listener.serve(self._connection)

    async def _connection(self, stream: anyio.abc.SocketStream) -> None:
        connection_id = self.connections_opened
        self.connections_opened += 1
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        self._notify()
        buffer = bytearray()
        try:
            async with stream:
                while True:
                    request = await self._read_head(stream, buffer, connection_id)
                    if request is None:
                        break
                    exchange = Exchange(self, stream, request, buffer)
                    request.body = await exchange.read_body()
                    self.requests.append(request)
                    self._notify()
                    if connection_id in self._drop_next:
                        break
                    handler = self.routes.get(request.path, self._not_found)
                    if not await handler(exchange):
                        break
        except _CLIENT_GONE:
            pass
        finally:
            self.open_now -= 1
            self.connections_closed += 1
            self._notify()

    async def _read_head(
        self, stream: anyio.abc.SocketStream, buffer: bytearray, connection_id: int
    ) -> ServerRequest | None:
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            try:
                data = await stream.receive()
            except anyio.EndOfStream:
                return None
            buffer += data
        raw_head = bytes(buffer[: end + 4])
        del buffer[: end + 4]
        request_line, *header_lines = raw_head[:end].decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        split = urllib.parse.urlsplit(target)
        return ServerRequest(
            method=method,
            target=target,
            path=split.path,
            query=dict(urllib.parse.parse_qsl(split.query)),
            headers=headers,
            raw_head=raw_head,
            connection_id=connection_id,
        )

    # -- routes -------------------------------------------------------------------------------

    async def _not_found(self, ex: Exchange) -> bool:
        await ex.send(_response(404, "Not Found", b"no such route"))
        return True

    async def _cl(self, ex: Exchange) -> bool:
        size = ex.request.query.get("size")
        body = b"hello" if size is None else bytes(i % 251 for i in range(int(size)))
        await ex.send(_response(200, "OK", body, [("X-Custom-Header", "Yes"), ("Set-Thing", "a")]))
        return True

    async def _chunked(self, ex: Exchange) -> bool:
        await ex.send_pieces(
            [
                _CHUNKED_HEAD + b"\r\n",
                _chunk(b"ab"),
                _chunk(b"cde"),
                b"3\r\nfg",
                b"h\r\n",
                b"0\r\n\r\n",
            ]
        )
        return True

    async def _close(self, ex: Exchange) -> bool:
        await ex.send(_response(200, "OK", b"bye", [("Connection", "close")]))
        return False

    async def _http10(self, ex: Exchange) -> bool:
        await ex.send(_response(200, "OK", b"old", [("Connection", "keep-alive")], version="1.0"))
        await ex.wait_client_close()
        return False

    async def _until_close(self, ex: Exchange) -> bool:
        await ex.send_pieces([b"HTTP/1.1 200 OK\r\n\r\n", b"until ", b"the ", b"end"])
        return False

    async def _stall_head(self, ex: Exchange) -> bool:
        await ex.wait_client_close()
        return False

    async def _slow_head(self, ex: Exchange) -> bool:
        await anyio.sleep(float(ex.request.query.get("delay", "0.2")))
        await ex.send(_response(200, "OK", b"late"))
        return True

    async def _stall_body(self, ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf-")
        await ex.wait_client_close()
        return False

    async def _reset_body(self, ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome bytes")
        # The test says when it has the head: a reset would discard unread bytes.
        await self.proceed.wait()
        ex.reset()
        return False

    async def _close_in_head(self, ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 200 OK\r\nContent-Le")
        return False

    async def _idle_close(self, ex: Exchange) -> bool:
        await ex.send(_response(200, "OK", b"soon closed"))
        return False

    async def _arm_drop(self, ex: Exchange) -> bool:
        self._drop_next.add(ex.request.connection_id)
        await ex.send(_response(200, "OK", b"armed"))
        return True

    async def _drop(self, ex: Exchange) -> bool:
        return False

    async def _keepalive_json(self, ex: Exchange) -> bool:
        head = _CHUNKED_HEAD + b"Content-Type: application/json\r\n\r\n"
        await ex.send(head + _chunk(b"\n"))
        if ex.request.query.get("step"):
            await self.proceed.wait()
        await ex.send_pieces([_chunk(b"\n"), _chunk(b'{"status": "success"}'), b"0\r\n\r\n"])
        return True

    async def _sse(self, ex: Exchange) -> bool:
        head = _CHUNKED_HEAD + b"Content-Type: text/event-stream\r\n\r\n"
        await ex.send(head + _chunk(b'event: metadata\ndata: {"run_id": "r1"}\n\n'))
        if ex.request.query.get("step"):
            await self.proceed.wait()
        await ex.send_pieces(
            [
                _chunk(b": heartbeat\n\n"),
                _chunk(b'event: values\ndata: {"n": 1}\n\n'),
                _chunk(b'event: values\ndata: {"n": 2}\n\n'),
                b"0\r\n\r\n",
            ]
        )
        return True

    async def _trickle(self, ex: Exchange) -> bool:
        await ex.send(_CHUNKED_HEAD + b"\r\n")
        while True:
            await ex.send(_chunk(b"\n"))
            await anyio.sleep(0.05)

    async def _redirect(self, ex: Exchange) -> bool:
        await ex.send(_response(303, "See Other", b"", [("Location", "/cl")]))
        return True

    async def _malformed(self, ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 2x0 Nope\r\nthis is not HTTP\r\n\r\n")
        await ex.wait_client_close()
        return False

    async def _upgrade(self, ex: Exchange) -> bool:
        await ex.send(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"
        )
        await ex.wait_client_close()
        return False

    async def _garbage_after(self, ex: Exchange) -> bool:
        await ex.send(_response(200, "OK", b"fine") + b"HTTP/1.1 200 Unasked\r\n")
        await ex.wait_client_close()
        return False

    async def _interim(self, ex: Exchange) -> bool:
        await ex.send_pieces(
            [
                b"HTTP/1.1 100 Continue\r\n\r\n",
                b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n",
                _response(200, "OK", b"final"),
            ]
        )
        return True

    async def _no_content(self, ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n")
        return True

    async def _not_modified(self, ex: Exchange) -> bool:
        await ex.send(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n")
        return True

    async def _head(self, ex: Exchange) -> bool:
        if ex.request.method == "HEAD":
            await ex.send(b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n")
        else:
            await ex.send(_response(200, "OK", b"x" * 42))
        return True

    async def _echo(self, ex: Exchange) -> bool:
        request = ex.request
        payload: dict[str, Any] = {
            "method": request.method,
            "target": request.target,
            "headers": request.headers,
            "body": request.body.decode("latin-1"),
        }
        await ex.send(
            _response(
                200, "OK", json.dumps(payload).encode(), [("Content-Type", "application/json")]
            )
        )
        return True

    async def _digest(self, ex: Exchange) -> bool:
        body = ex.request.body
        payload = {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        await ex.send(_response(200, "OK", json.dumps(payload).encode()))
        return True

    async def _huge_head(self, ex: Exchange) -> bool:
        filler = "x" * 1000
        lines = [f"x-filler-{i}: {filler}\r\n" for i in range(2048)]
        await ex.send(("HTTP/1.1 200 OK\r\n" + "".join(lines)).encode("latin-1"))
        await ex.wait_client_close()
        return False

    async def _gate(self, ex: Exchange) -> bool:
        await self.gate.wait()
        await ex.send(_response(200, "OK", b"through"))
        return True


@asynccontextmanager
async def open_scripted_server() -> AsyncIterator[ScriptedServer]:
    """A running :class:`ScriptedServer`, stopped (every connection closed) on exit."""
    server = ScriptedServer()
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()


@contextmanager
def unaccepting_listener() -> Iterator[tuple[str, int]]:
    """A loopback address where connecting hangs: a full accept queue that nobody drains.

    Linux drops SYNs while a listener's accept queue is full, so a connect
    there waits until the caller's timeout.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(16):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(0.5)
            try:
                filler.connect(address)
            except OSError:
                filler.close()
                break
            fillers.append(filler)
        yield address[0], address[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


class QuietServer:
    """A loopback listener whose connections are accepted and read only on request.

    Connections wait in the accept queue (the TCP handshake is the kernel's
    job) and bytes wait in the socket buffers until the test reads them, so a
    large request blocks the client's send for as long as the test wants.
    """

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.setblocking(False)
        self._connections: list[socket.socket] = []
        self.port: int = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accepted(self) -> int:
        return len(self._connections)

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
        self._listener.close()

    async def accept(self) -> socket.socket:
        while True:
            await anyio.wait_readable(self._listener)
            try:
                connection, _ = self._listener.accept()
            except BlockingIOError:
                continue
            connection.setblocking(False)
            self._connections.append(connection)
            return connection

    async def receive(self, connection: socket.socket) -> bytes:
        """Up to 1 MiB of what the client sent; b"" once it closed (or reset) the connection."""
        while True:
            await anyio.wait_readable(connection)
            try:
                return connection.recv(1 << 20)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                return b""

    async def wait_client_close(self, connection: socket.socket) -> None:
        while await self.receive(connection):
            pass

    async def answer_one(self, body: bytes = b"quiet") -> None:
        """Accept the next connection, read one request head, answer it and close."""
        connection = await self.accept()
        received = b""
        while b"\r\n\r\n" not in received:
            data = await self.receive(connection)
            if not data:
                return
            received += data
        connection.sendall(_response(200, "OK", body, [("Connection", "close")]))
        connection.close()


@contextmanager
def quiet_server() -> Iterator[QuietServer]:
    server = QuietServer()
    try:
        yield server
    finally:
        server.close()
