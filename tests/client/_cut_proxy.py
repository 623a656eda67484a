"""A loopback TCP proxy that cuts event-stream responses mid-way, for reconnection tests.

Everything is forwarded byte for byte, except that the first ``cuts`` responses of type
``text/event-stream`` are cut off just before their ``after_events + 1``-th event: the
client gets ``after_events`` whole events, then the connection closes (or, with ``reset``,
is reset: an RST instead of a FIN). Only what the real server sends is forwarded; nothing
is made up.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

_EVENT = b"event: "
_EVENT_STREAM = b"text/event-stream"


class CutProxy:
    """See the module docstring; ``url`` is where to send requests, ``cut`` how many cuts
    happened so far."""

    def __init__(self, host: str, port: int, *, after_events: int, cuts: int, reset: bool):
        self.upstream = (host, port)
        self.after_events = after_events
        self.cuts_left = cuts
        self.reset = reset
        self.cut = 0
        self.url = ""

    async def handle(self, client: anyio.abc.SocketStream) -> None:
        async with client:
            try:
                upstream = await anyio.connect_tcp(*self.upstream)
            except OSError:
                return
            async with upstream, anyio.create_task_group() as tg:
                tg.start_soon(self._forward_requests, client, upstream)
                await self._forward_responses(upstream, client)
                tg.cancel_scope.cancel()

    async def _forward_requests(
        self, client: anyio.abc.SocketStream, upstream: anyio.abc.SocketStream
    ) -> None:
        try:
            async for chunk in client:
                await upstream.send(chunk)
            await upstream.send_eof()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass

    async def _forward_responses(
        self, upstream: anyio.abc.SocketStream, client: anyio.abc.SocketStream
    ) -> None:
        streaming = False
        events = 0
        tail = b""
        try:
            async for chunk in upstream:
                start = 0
                if not streaming and _EVENT_STREAM in chunk:
                    streaming = self.cuts_left > 0
                    start = chunk.index(_EVENT_STREAM)
                if streaming:
                    # Event starts in this chunk (the tail of the last one catches a split mark).
                    text = tail + chunk
                    offset = len(tail)
                    position = max(start + offset, 0)
                    while (found := text.find(_EVENT, position)) >= 0:
                        events += 1
                        if events > self.after_events:
                            await client.send(chunk[: max(found - offset, 0)])
                            await self._cut(client)
                            return
                        position = found + len(_EVENT)
                    tail = text[-(len(_EVENT) - 1) :]
                await client.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass

    async def _cut(self, client: anyio.abc.SocketStream) -> None:
        self.cuts_left -= 1
        self.cut += 1
        if self.reset:
            raw = client.extra(SocketAttribute.raw_socket)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await client.aclose()


@asynccontextmanager
async def open_cut_proxy(
    target_url: str, *, after_events: int, cuts: int = 1, reset: bool = False
) -> AsyncIterator[CutProxy]:
    """A :class:`CutProxy` in front of ``target_url`` on a free loopback port."""
    parts = urlsplit(target_url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    proxy = CutProxy(parts.hostname, parts.port, after_events=after_events, cuts=cuts, reset=reset)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with listener, anyio.create_task_group() as tg:
        port = listener.extra(SocketAttribute.local_port)
        proxy.url = f"http://127.0.0.1:{port}"
        tg.start_soon(listener.serve, proxy.handle)
        try:
            yield proxy
        finally:
            tg.cancel_scope.cancel()
