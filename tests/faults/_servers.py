"""Tiny loopback servers for the proxy's byte-level tests: echo, and a scripted SSE stream."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

__all__ = ["SSE_HEAD", "open_echo_server", "open_sse_server", "read_all", "sse_events"]

_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)

SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: text/event-stream\r\n"
    b"cache-control: no-store\r\n"
    b"connection: close\r\n"
    b"\r\n"
)


def sse_events(count: int) -> list[bytes]:
    """``count`` events in LangGraph's shape: an event line, a JSON data line, a blank line."""
    return [b'event: custom\ndata: {"i": %d}\n\n' % i for i in range(count)]


async def _echo(stream: anyio.abc.SocketStream) -> None:
    async with stream:
        try:
            while True:
                await stream.send(await stream.receive())
        except _GONE:
            return


async def _sse(stream: anyio.abc.SocketStream, events: Sequence[bytes]) -> None:
    async with stream:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive()
            await stream.send(SSE_HEAD)
            for event in events:
                await stream.send(event)
                # One write per event, as a server flushing each event would.
                await anyio.sleep(0.005)
            # Hold the stream open: only the proxy's cut (or the client) ends it.
            while await stream.receive():
                pass
        except _GONE:
            return


@asynccontextmanager
async def _serve(
    handler: Callable[[anyio.abc.SocketStream], Awaitable[None]],
) -> AsyncIterator[int]:
    async with (
        await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0) as listener,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(listener.serve, handler)
        yield listener.extra(SocketAttribute.local_port)
        tg.cancel_scope.cancel()


@asynccontextmanager
async def open_echo_server() -> AsyncIterator[int]:
    """An echo server on 127.0.0.1; yields its port."""
    async with _serve(_echo) as port:
        yield port


@asynccontextmanager
async def open_sse_server(events: Sequence[bytes]) -> AsyncIterator[int]:
    """Answers any request with an SSE stream of ``events``, then holds it open."""
    async with _serve(functools.partial(_sse, events=events)) as port:
        yield port


async def read_all(stream: anyio.abc.SocketStream) -> bytes:
    """Everything until the peer's end of file."""
    data = b""
    try:
        while True:
            data += await stream.receive()
    except anyio.EndOfStream:
        return data
