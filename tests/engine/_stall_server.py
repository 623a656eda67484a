"""A minimal HTTP/1.1 keep-alive JSON server on 127.0.0.1 (port 0) that can freeze its process.

It runs in the test's own event loop, beside the engine. ``GET /info`` answers the version;
``POST /threads`` answers a thread at once, except the ``stall_on``-th one, whose handler
*blocks the whole event loop* for ``stall_s`` seconds (``time.sleep``): the load generator and
the server freeze together, the way a GC pause or a CPU hog freezes a benchmark tool. That is
the textbook coordinated-omission situation: iterations due during the freeze can only start
after it, so a tool timing from the actual send sees nothing, while timing from the intended
start shows the wait the users of an open system would have had.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc
from anyio.abc import SocketAttribute


@dataclass
class StallServer:
    stall_on: int
    stall_s: float
    port: int = 0
    posts: int = 0
    stalled_s: float = 0.0
    """How long the freeze really lasted (a loaded machine oversleeps ``stall_s``)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve_connection(self, stream: anyio.abc.SocketStream) -> None:
        buffer = b""
        async with stream:
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        chunk = await stream.receive(65536)
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                while len(buffer) < length:
                    try:
                        buffer += await stream.receive(65536)
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        return
                buffer = buffer[length:]
                if method == "POST" and target.startswith("/threads"):
                    self.posts += 1
                    if self.posts == self.stall_on:
                        # Freezes the event loop: the point of the test.
                        frozen_at = time.monotonic()
                        time.sleep(self.stall_s)  # noqa: ASYNC251
                        self.stalled_s = time.monotonic() - frozen_at
                    body = {"thread_id": f"t{self.posts}", "status": "idle"}
                elif target == "/info":
                    body = {"version": "stall-server"}
                else:
                    body = {"detail": "not found"}
                payload = json.dumps(body).encode()
                status = "200 OK" if "detail" not in body else "404 Not Found"
                response = (
                    f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(payload)}\r\n\r\n"
                ).encode() + payload
                try:
                    await stream.send(response)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return


@asynccontextmanager
async def open_stall_server(*, stall_on: int, stall_s: float) -> AsyncIterator[StallServer]:
    server = StallServer(stall_on, stall_s)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    server.port = listener.extra(SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as task_group:
        task_group.start_soon(listener.serve, server._serve_connection)
        try:
            yield server
        finally:
            task_group.cancel_scope.cancel()
