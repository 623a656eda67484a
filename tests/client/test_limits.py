"""Huge and endless answers hit the client's documented limits (docs/security.md), on both
transports and every backend: a 1 GiB body, an endless SSE stream, one endless SSE line,
a JSON bomb of deep nesting, a 2 MiB response head. Each becomes an error of that request
(``ResponseLimitError`` or ``ProtocolError``), never unbounded memory: memory is measured
with tracemalloc, relative to the size the server offered, never with a clock.
"""

from __future__ import annotations

import contextlib
import json
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import pytest

from lgbench.client import (
    FastTransport,
    HttpClient,
    HttpxTransport,
    Limits,
    ProtocolError,
    ResponseLimitError,
    SSEDecoder,
    Timeout,
)
from lgbench.client._json_depth import json_too_deep, loads_within_depth

pytestmark = pytest.mark.anyio

GIB = 1 << 30
MIB = 1 << 20
CHUNK = b"0" * 65536
SAFE = Timeout(connect_s=10.0, read_s=10.0, write_s=10.0, total_s=60.0)
BOMB_LEVELS = 1_000_000

Route = Callable[[anyio.abc.SocketStream], Awaitable[None]]


async def _send_forever(stream: anyio.abc.SocketStream, head: bytes, piece: bytes) -> None:
    await stream.send(head)
    while True:
        await stream.send(piece)


async def huge_body(stream: anyio.abc.SocketStream) -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
    await _send_forever(stream, head % GIB, CHUNK)


async def huge_error_body(stream: anyio.abc.SocketStream) -> None:
    head = b"HTTP/1.1 500 Oops\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n"
    await _send_forever(stream, head % GIB, CHUNK)


_SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"


async def endless_events(stream: anyio.abc.SocketStream) -> None:
    event = b'event: values\r\ndata: {"tokens": ["a", "%s"]}\r\n\r\n' % (b"b" * 4000)
    await _send_forever(stream, _SSE_HEAD, event * (65536 // len(event)))


async def endless_line(stream: anyio.abc.SocketStream) -> None:
    await _send_forever(stream, _SSE_HEAD + b"data: ", CHUNK)


async def json_bomb(stream: anyio.abc.SocketStream) -> None:
    body = b"[" * BOMB_LEVELS + b"]" * BOMB_LEVELS
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
    await stream.send(head % len(body) + body)


async def sse_bomb(stream: anyio.abc.SocketStream) -> None:
    await stream.send(
        _SSE_HEAD + b"event: values\r\ndata: " + b"[" * 5000 + b"]" * 5000 + b"\r\n\r\n"
    )


async def huge_head(stream: anyio.abc.SocketStream) -> None:
    await _send_forever(stream, b"HTTP/1.1 200 OK\r\nx-huge: ", b"a" * 65536)


ROUTES: dict[str, Route] = {
    "/huge-body": huge_body,
    "/huge-error": huge_error_body,
    "/endless-events": endless_events,
    "/endless-line": endless_line,
    "/json-bomb": json_bomb,
    "/sse-bomb": sse_bomb,
    "/huge-head": huge_head,
}


async def _serve_one(stream: anyio.abc.SocketStream) -> None:
    async with stream:
        head = b""
        while b"\r\n\r\n" not in head:
            head += await stream.receive()
        path = head.split(b" ", 2)[1].decode()
        # The client gives up on the answer (that is the point): the server's sends fail.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            await ROUTES[path](stream)


@asynccontextmanager
async def hostile_server() -> AsyncIterator[str]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, _serve_one)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            tg.cancel_scope.cancel()
    await listener.aclose()


@asynccontextmanager
async def client(transport_name: str, limits: Limits | None = None) -> AsyncIterator[HttpClient]:
    async with hostile_server() as url:
        transport = FastTransport(url) if transport_name == "fast" else HttpxTransport(url)
        kwargs = {} if limits is None else {"limits": limits}
        async with HttpClient(transport, timeout=SAFE, **kwargs) as http:
            yield http


@asynccontextmanager
async def peak_memory() -> AsyncIterator[list[int]]:
    """Yields a list that holds, after the block, the peak bytes allocated within it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    found: list[int] = []
    try:
        yield found
    finally:
        found.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


TRANSPORTS = pytest.mark.parametrize("transport_name", ["fast", "httpx"])


@TRANSPORTS
async def test_a_1_gib_body_stops_at_the_limit_in_bounded_memory(transport_name: str) -> None:
    async with client(transport_name) as http, peak_memory() as peak:
        with pytest.raises(ResponseLimitError, match="larger than 67108864 bytes"):
            await http.get("/huge-body")
    # The default limit (64 MiB) is held at most once: far below what the server offered.
    assert peak[0] < GIB // 8


@TRANSPORTS
async def test_a_smaller_body_limit_holds_memory_near_it(transport_name: str) -> None:
    async with (
        client(transport_name, Limits(max_body_bytes=4 * MIB)) as http,
        peak_memory() as peak,
    ):
        with pytest.raises(ResponseLimitError):
            await http.get("/huge-body")
        # An error answer's body is bounded the same way.
        with pytest.raises(ResponseLimitError):
            await http.post("/huge-error", json={})
    assert peak[0] < 16 * MIB


@TRANSPORTS
async def test_an_endless_stream_is_read_in_constant_memory(transport_name: str) -> None:
    async with client(transport_name) as http, peak_memory() as peak:
        parts = 0
        async with http.stream("/endless-events", "GET") as stream:
            async for part in stream:
                assert part.data == {"tokens": ["a", "b" * 4000]}
                parts += 1
                if parts == 10_000:  # about 40 MB of events
                    break
    assert peak[0] < 8 * MIB


@TRANSPORTS
async def test_an_endless_line_is_refused_at_the_event_limit(transport_name: str) -> None:
    async with (
        client(transport_name, Limits(max_event_bytes=2 * MIB)) as http,
        peak_memory() as peak,
    ):
        with pytest.raises(ResponseLimitError, match="longer than 2097152 bytes"):
            async for _ in http.stream("/endless-line", "GET"):
                pass
    assert peak[0] < 16 * MIB


@TRANSPORTS
async def test_a_json_bomb_is_an_error_of_the_request(transport_name: str) -> None:
    async with client(transport_name) as http:
        with pytest.raises(ResponseLimitError, match="nested deeper than 128 levels"):
            await http.get("/json-bomb")
        with pytest.raises(ResponseLimitError, match="nested deeper than 128 levels"):
            async for _ in http.stream("/sse-bomb", "GET"):
                pass


@TRANSPORTS
async def test_a_huge_response_head_is_a_protocol_error(transport_name: str) -> None:
    async with client(transport_name) as http, peak_memory() as peak:
        with pytest.raises(ProtocolError):
            await http.get("/huge-head")
    assert peak[0] < 16 * MIB


# -- the pieces, without a server --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        pytest.param("[" * 128 + "]" * 128, False, id="at-the-limit"),
        pytest.param("[" * 129 + "]" * 129, True, id="one-past"),
        pytest.param("[{" * 64 + "}]" * 64, False, id="mixed-at-the-limit"),
        pytest.param('{"a":' * 129 + "1" + "}" * 129, True, id="objects-past"),
        pytest.param(json.dumps(["[" * 500]), False, id="brackets-in-a-string"),
        pytest.param(json.dumps([{"x": "]]]][[[["}] * 300), False, id="wide-and-odd-strings"),
        pytest.param(json.dumps({"q": '"[[[[\\"'}), False, id="escaped-quotes"),
        pytest.param("[" * 300, True, id="unclosed"),
        pytest.param("[" * 200, False, id="unclosed-but-short"),
    ],
)
def test_depth_is_measured_exactly(text: str, too_deep: bool) -> None:
    assert json_too_deep(text, 128) is too_deep
    assert json_too_deep(text.encode(), 128) is too_deep


def test_loads_within_depth_decodes_what_is_allowed() -> None:
    value = {"a": [1, {"b": [2, [3]]}], "s": "[[[["}
    assert loads_within_depth(json.dumps(value), 128) == value
    with pytest.raises(ResponseLimitError):
        loads_within_depth("[" * 5000 + "]" * 5000, 128)
    with pytest.raises(ValueError):
        loads_within_depth("[1,", 128)


def test_the_decoder_bounds_an_event_never_completed() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    assert decoder.feed(b"data: " + b"x" * 500 + b"\n\n")  # a complete event is fine
    decoder.feed(b"data: " + b"y" * 600)
    with pytest.raises(ResponseLimitError):
        decoder.feed(b"y" * 600)
    fresh = SSEDecoder(max_event_bytes=1000)
    for _ in range(100):  # many complete events in a row never add up
        assert fresh.feed(b"data: " + b"z" * 600 + b"\n\n")
