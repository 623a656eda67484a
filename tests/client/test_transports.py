"""The transports against a scripted loopback server, on every backend.

One conformance suite runs over the fast transport (both its native wire,
a buffered protocol on asyncio and trio's sockets with a deadline watchdog on
trio, and its portable anyio wire) and the httpx transport. Tests
assert behaviour (what the server saw: connections opened and closed,
requests received), never durations; timeouts appear only as deadlines.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httptools
import httpx
import hypothesis
import hypothesis.strategies as st
import pytest

from lgbench import _backend
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
from lgbench.client._fast import FOREIGN_ERRORS, FastTransport, translate_error
from lgbench.client._http11 import RequestEncoder, ResponseReader, encode_request
from lgbench.client._httpx_transport import HTTPX_ERRORS, HttpxTransport, translate_httpx_error
from lgbench.client._models import Request, Response, Timeout
from lgbench.client._transport import AsyncTransport
from tests._scripted_server import (
    Exchange,
    ScriptedServer,
    open_scripted_server,
    quiet_server,
    unaccepting_listener,
)

pytestmark = pytest.mark.anyio

#: Timeouts and slow peers that play out in real time (tenths of a second per case, times
#: every backend and transport): left out of the fast subset.
_WALL_CLOCK = pytest.mark.slow

#: Generous limits for requests that must succeed: deadlines, not measurements.
SAFE = Timeout(connect_s=10.0, read_s=10.0, write_s=10.0, total_s=30.0)
#: A short limit for requests that must time out.
SHORT_S = 0.3

TRANSPORT_KINDS = ["fast", "fast-anyio", "httpx"]


def make_transport(kind: str, url: str, **options: Any) -> AsyncTransport:
    if kind == "fast":
        return FastTransport(url, **options)
    if kind == "fast-anyio":
        return FastTransport(url, native_wire=False, **options)
    # trust_env=False: no proxy from the environment between us and loopback.
    return HttpxTransport(url, trust_env=False, **options)


@pytest.fixture(params=TRANSPORT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with open_scripted_server() as running:
        yield running


@pytest.fixture
async def transport(kind: str, server: ScriptedServer) -> AsyncIterator[AsyncTransport]:
    async with make_transport(kind, server.url) as opened:
        yield opened


async def fetch(
    transport: AsyncTransport,
    target: str,
    method: str = "GET",
    *,
    content: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
    limits: Timeout = SAFE,
) -> tuple[Response, bytes]:
    request = Request(method, target, headers=headers or [], content=content, timeout=limits)
    response = await transport.handle(request)
    return response, await response.aread()


async def get(transport: AsyncTransport, target: str, limits: Timeout = SAFE) -> Response:
    return await transport.handle(Request("GET", target, timeout=limits))


def closed_port() -> int:
    """A loopback port where nothing listens (connecting is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- bodies and framing ------------------------------------------------------------------------


async def test_content_length_body_and_lower_case_headers(transport: AsyncTransport) -> None:
    response, body = await fetch(transport, "/cl")
    assert (response.status_code, body) == (200, b"hello")
    assert response.headers["x-custom-header"] == "Yes"
    assert response.headers["content-length"] == "5"
    assert all(name == name.lower() for name in response.headers)


async def test_large_body_arrives_in_several_chunks(transport: AsyncTransport) -> None:
    size = 300_000
    response = await get(transport, f"/cl?size={size}")
    chunks = [chunk async for chunk in response.aiter_bytes()]
    assert len(chunks) > 1
    assert b"".join(chunks) == bytes(i % 251 for i in range(size))
    assert response.closed


@_WALL_CLOCK
async def test_slow_reader_gets_the_whole_body(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    # While the reader dawdles the transport must stop reading at some bound
    # (the kernel's buffers then hold the rest) and resume when asked.
    size = 3_000_000
    response = await get(transport, f"/cl?size={size}")
    await anyio.sleep(0.2)
    assert await response.aread() == bytes(i % 251 for i in range(size))
    await fetch(transport, "/cl")
    assert server.connections_opened == 1


async def test_chunked_body(transport: AsyncTransport, server: ScriptedServer) -> None:
    response, body = await fetch(transport, "/chunked")
    assert body == b"abcdefgh"
    assert response.headers["transfer-encoding"] == "chunked"
    await fetch(transport, "/cl")
    assert server.connections_opened == 1


async def test_body_until_close(transport: AsyncTransport, server: ScriptedServer) -> None:
    _, body = await fetch(transport, "/until-close")
    assert body == b"until the end"
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 2


async def test_interim_responses_are_skipped(transport: AsyncTransport) -> None:
    response, body = await fetch(transport, "/interim")
    assert (response.status_code, body) == (200, b"final")


async def test_204_and_304_have_no_body(transport: AsyncTransport, server: ScriptedServer) -> None:
    response, body = await fetch(transport, "/no-content")
    assert (response.status_code, body) == (204, b"")
    response, body = await fetch(transport, "/not-modified")
    assert (response.status_code, body) == (304, b"")
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 1


async def test_head_has_no_body(transport: AsyncTransport, server: ScriptedServer) -> None:
    response, body = await fetch(transport, "/head", "HEAD")
    assert (response.status_code, body, response.headers["content-length"]) == (200, b"", "42")
    _, body = await fetch(transport, "/head")
    assert body == b"x" * 42
    assert server.connections_opened == 1


async def test_redirect_is_just_a_response(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    response, body = await fetch(transport, "/redirect")
    assert (response.status_code, body) == (303, b"")
    assert response.headers["location"] == "/cl"
    assert server.paths() == ["/redirect"]


async def test_request_head(transport: AsyncTransport, server: ScriptedServer) -> None:
    _, body = await fetch(
        transport, "/echo?x=1", "POST", content=b'{"a": 1}', headers=[("x-api-key", "k")]
    )
    seen = json.loads(body)
    assert seen["target"] == "/echo?x=1"
    assert seen["body"] == '{"a": 1}'
    headers = seen["headers"]
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["user-agent"].startswith("lgbench/")
    assert headers["content-length"] == "8"
    assert headers["x-api-key"] == "k"
    _, body = await fetch(transport, "/echo", "POST")
    assert json.loads(body)["headers"]["content-length"] == "0"


async def test_large_request_body_is_sent_whole(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    # Far more than loopback socket buffers hold: most of it waits for the server to read.
    content = bytes(range(256)) * (16 << 12)  # 16 MiB
    _, body = await fetch(transport, "/digest", "POST", content=content)
    assert json.loads(body) == {
        "length": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 1


async def test_base_url_path_prefix(kind: str, server: ScriptedServer) -> None:
    async with make_transport(kind, server.url + "/prefix/") as transport:
        response, _ = await fetch(transport, "/cl?a=b")
    assert response.status_code == 404
    assert server.requests[0].target == "/prefix/cl?a=b"


async def test_refuses_to_send_header_injection(transport: AsyncTransport) -> None:
    with pytest.raises(ProtocolError):
        await fetch(transport, "/cl", headers=[("x-evil", "a\r\nx-injected: yes")])


async def test_keepalive_newlines_arrive_before_the_json(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    response = await get(transport, "/keepalive-json?step=1")
    # The server waits for `proceed` after its first "\n": that byte must reach us alone.
    assert await response.receive_some() == b"\n"
    server.proceed.set()
    rest = await response.aread()
    assert json.loads(b"\n" + rest) == {"status": "success"}


async def test_sse_events_arrive_as_sent(transport: AsyncTransport, server: ScriptedServer) -> None:
    response = await get(transport, "/sse?step=1")
    assert response.headers["content-type"] == "text/event-stream"
    first = await response.receive_some()
    assert first == b'event: metadata\ndata: {"run_id": "r1"}\n\n'
    server.proceed.set()
    rest = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert rest.startswith(b": heartbeat\n\n")
    assert rest.endswith(b'event: values\ndata: {"n": 2}\n\n')
    # Read to its end, the stream gave its connection back.
    await fetch(transport, "/cl")
    assert server.connections_opened == 1


# -- keep-alive and the pool -------------------------------------------------------------------


async def test_keepalive_reuses_one_connection(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    for target in ["/cl", "/chunked", "/sse", "/keepalive-json", "/cl?size=100000"]:
        await fetch(transport, target)
    await fetch(transport, "/echo", "POST", content=b"{}")
    assert server.connections_opened == 1
    assert {request.connection_id for request in server.requests} == {0}


async def test_connection_close_is_honoured(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    _, body = await fetch(transport, "/close")
    assert body == b"bye"
    await fetch(transport, "/cl")
    assert server.connections_opened == 2


async def test_http10_connection_is_not_reused(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    _, body = await fetch(transport, "/http10")
    assert body == b"old"
    # The server keeps its end open: only the client can have closed it.
    await server.wait_closed(1)
    await fetch(transport, "/cl")
    assert server.connections_opened == 2


# Only the fast transport promises these two: h11 (under httpx) keeps stray bytes after a
# response as the start of the next one, and httpcore hands a 101 to the caller as a response.
FAST_KINDS = [kind for kind in TRANSPORT_KINDS if kind != "httpx"]


@pytest.mark.parametrize("fast_kind", FAST_KINDS)
async def test_bytes_after_the_response_discard_the_connection(
    fast_kind: str, server: ScriptedServer
) -> None:
    async with make_transport(fast_kind, server.url) as transport:
        _, body = await fetch(transport, "/garbage-after")
        assert body == b"fine"
        _, body = await fetch(transport, "/cl")
        assert body == b"hello"
        await server.wait_closed(1)
        assert server.connections_opened == 2


async def test_pool_is_bounded_and_waiters_are_served(kind: str, server: ScriptedServer) -> None:
    results: list[int] = []
    async with make_transport(kind, server.url, max_connections=2) as transport:

        async def one() -> None:
            response, _ = await fetch(transport, "/gate")
            results.append(response.status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(one)
            await server.wait_requests("/gate", 2)
            server.gate.set()
    assert results == [200] * 5
    assert server.connections_opened == 2
    assert server.max_open == 2


@_WALL_CLOCK
async def test_pool_wait_counts_against_the_total_timeout(
    kind: str, server: ScriptedServer
) -> None:
    async with make_transport(kind, server.url, max_connections=1) as transport:
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch, transport, "/gate")
            await server.wait_requests("/gate")
            with pytest.raises(RequestTimeout):
                await fetch(transport, "/cl", limits=Timeout(total_s=SHORT_S))
            server.gate.set()
        await fetch(transport, "/cl")
    assert server.connections_opened == 1


@_WALL_CLOCK
async def test_cancelled_pool_waiter_leaves_the_pool_usable(
    kind: str, server: ScriptedServer
) -> None:
    async with make_transport(kind, server.url, max_connections=1) as transport:
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch, transport, "/gate")
            await server.wait_requests("/gate")
            with anyio.move_on_after(SHORT_S) as scope:
                await fetch(transport, "/cl")
            assert scope.cancelled_caught
            server.gate.set()
        _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 1


async def test_fast_idle_connections_expire(server: ScriptedServer) -> None:
    async with FastTransport(server.url, keepalive_expiry_s=0.05) as transport:
        await fetch(transport, "/cl")
        await anyio.sleep(0.2)  # well past the expiry
        await fetch(transport, "/cl")
    assert server.connections_opened == 2


# -- stale connections -------------------------------------------------------------------------


async def test_idle_connection_closed_by_the_server_is_not_reused(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    await fetch(transport, "/idle-close")
    await server.wait_closed(1)
    # A POST is never re-sent, so it succeeds only if the dead connection was
    # noticed before anything was written to it.
    response, _ = await fetch(transport, "/echo", "POST", content=b"{}")
    assert response.status_code == 200
    assert server.paths() == ["/idle-close", "/echo"]
    assert server.connections_opened == 2


async def test_fast_resends_a_safe_request_lost_to_the_keepalive_race(
    server: ScriptedServer,
) -> None:
    async with FastTransport(server.url) as transport:
        await fetch(transport, "/arm-drop")
        # The server reads the next request on that connection and closes it unanswered.
        _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.paths() == ["/arm-drop", "/cl", "/cl"]
    assert server.connections_opened == 2


async def test_post_lost_to_the_keepalive_race_is_not_resent(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    await fetch(transport, "/arm-drop")
    with pytest.raises(NetworkError):
        await fetch(transport, "/echo", "POST", content=b"{}")
    assert server.paths() == ["/arm-drop", "/echo"]


# -- timeouts ----------------------------------------------------------------------------------


@_WALL_CLOCK
async def test_connect_timeout(kind: str) -> None:
    with unaccepting_listener() as (host, port):
        async with make_transport(kind, f"http://{host}:{port}") as transport:
            with pytest.raises(ConnectTimeout):
                await fetch(transport, "/", limits=Timeout(connect_s=SHORT_S, total_s=30))


@_WALL_CLOCK
async def test_total_timeout_while_connecting(kind: str) -> None:
    with unaccepting_listener() as (host, port):
        async with make_transport(kind, f"http://{host}:{port}") as transport:
            with pytest.raises(RequestTimeout):
                await fetch(transport, "/", limits=Timeout(connect_s=30, total_s=SHORT_S))


@_WALL_CLOCK
async def test_read_timeout_before_the_head(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    with pytest.raises(ReadTimeout):
        await fetch(transport, "/stall-head", limits=Timeout(read_s=SHORT_S, total_s=30))
    await server.wait_closed(1)
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"


@_WALL_CLOCK
async def test_slow_first_byte_within_the_read_timeout(transport: AsyncTransport) -> None:
    _, body = await fetch(transport, "/slow-head?delay=0.2")
    assert body == b"late"


@_WALL_CLOCK
async def test_read_timeout_mid_body(transport: AsyncTransport, server: ScriptedServer) -> None:
    response = await get(transport, "/stall-body", Timeout(read_s=SHORT_S, total_s=30))
    assert response.status_code == 200
    with pytest.raises(ReadTimeout):
        await response.aread()
    await server.wait_closed(1)
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 2


@_WALL_CLOCK
async def test_total_timeout_covers_the_body(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    response = await get(transport, "/stall-body", Timeout(read_s=None, total_s=SHORT_S))
    with pytest.raises(RequestTimeout):
        await response.aread()
    await server.wait_closed(1)


@_WALL_CLOCK
async def test_total_timeout_before_the_head(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    with pytest.raises(RequestTimeout):
        await fetch(transport, "/stall-head", limits=Timeout(read_s=30, total_s=SHORT_S))
    await server.wait_closed(1)
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"


@_WALL_CLOCK
async def test_keepalive_bytes_reset_the_read_timeout(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    # The server trickles a byte every 50 ms and never ends: the per-receive
    # read timeout (10 gaps long) never fires, so only the total deadline ends it.
    response = await get(transport, "/trickle", Timeout(read_s=0.5, total_s=1.2))
    received = b""
    with pytest.raises(RequestTimeout):
        async for chunk in response.aiter_bytes():
            received += chunk
    assert received.count(b"\n") > 1
    await server.wait_closed(1)


@_WALL_CLOCK
async def test_short_read_timeouts_fire_while_a_long_one_waits(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    # Each request in flight keeps its own limit: later requests with earlier
    # deadlines time out first, one after the other (on trio, the watchdog
    # moves its alarm forward for them and re-arms it after each).
    async def short(read_s: float) -> None:
        with pytest.raises(ReadTimeout):
            await fetch(transport, "/stall-head", limits=Timeout(read_s=read_s, total_s=30))

    async with anyio.create_task_group() as tg:
        tg.start_soon(fetch, transport, "/stall-head")  # SAFE: a read limit of 10 s
        await server.wait_requests("/stall-head")
        with anyio.fail_after(5):  # well before the first request's limit
            async with anyio.create_task_group() as shorts:
                shorts.start_soon(short, 2 * SHORT_S)
                shorts.start_soon(short, SHORT_S)
        await server.wait_closed(2)
        assert server.open_now == 1  # the long one still waits
        tg.cancel_scope.cancel()


@_WALL_CLOCK
async def test_reused_connection_forgets_the_previous_read_limit(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    await fetch(transport, "/cl", limits=Timeout(read_s=SHORT_S, total_s=30))
    # On the same connection, a longer wait than that limit, under a longer one.
    _, body = await fetch(transport, f"/slow-head?delay={3 * SHORT_S}")
    assert body == b"late"
    assert server.connections_opened == 1


@pytest.mark.parametrize("anyio_backend", [pytest.param(("trio", {}), id="trio")])
async def test_trio_watchdog_lives_as_long_as_its_connections(server: ScriptedServer) -> None:
    # trio only: the deadline watchdog is a trio system task. It must outlive
    # the transport's close while a response still reads, and then end.
    def watchdogs() -> list[anyio.TaskInfo]:
        return [t for t in anyio.get_running_tasks() if "fast-transport-watchdog" in t.name]

    transport = FastTransport(server.url)
    assert not watchdogs()
    response = await get(transport, "/stall-body", Timeout(read_s=SHORT_S, total_s=30))
    assert len(watchdogs()) == 1
    await transport.aclose()
    await anyio.wait_all_tasks_blocked()
    assert len(watchdogs()) == 1
    with pytest.raises(ReadTimeout):  # still kept after the close
        await response.aread()
    await anyio.wait_all_tasks_blocked()
    assert not watchdogs()
    await server.wait_closed(1)


@_WALL_CLOCK
async def test_write_timeout(kind: str) -> None:
    big = b"x" * (32 << 20)  # far beyond what loopback socket buffers hold
    with quiet_server() as quiet:
        async with make_transport(kind, quiet.url) as transport:
            async with anyio.create_task_group() as tg:
                tg.start_soon(quiet.accept)  # accepted, never read
                with pytest.raises(TimeoutError) as caught:
                    await fetch(
                        transport, "/", "POST", content=big, limits=Timeout(write_s=SHORT_S)
                    )
            assert type(caught.value) is TimeoutError  # not a connect, read or total timeout
            (connection,) = quiet._connections
            await quiet.wait_client_close(connection)


@_WALL_CLOCK
async def test_total_timeout_while_sending(kind: str) -> None:
    big = b"x" * (32 << 20)  # far beyond what loopback socket buffers hold
    with quiet_server() as quiet:
        async with make_transport(kind, quiet.url) as transport:
            async with anyio.create_task_group() as tg:
                tg.start_soon(quiet.accept)  # accepted, never read
                with pytest.raises(RequestTimeout):
                    await fetch(
                        transport,
                        "/",
                        "POST",
                        content=big,
                        limits=Timeout(write_s=30, total_s=SHORT_S),
                    )
            (connection,) = quiet._connections
            await quiet.wait_client_close(connection)


# -- errors ------------------------------------------------------------------------------------


async def test_connection_refused(kind: str) -> None:
    async with make_transport(kind, f"http://127.0.0.1:{closed_port()}") as transport:
        with pytest.raises(ConnectError):
            await fetch(transport, "/")


async def test_reset_mid_body(transport: AsyncTransport, server: ScriptedServer) -> None:
    response = await get(transport, "/reset-body")
    assert response.status_code == 200
    server.proceed.set()
    with pytest.raises(NetworkError):
        await response.aread()
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"


async def test_close_in_the_head(transport: AsyncTransport) -> None:
    with pytest.raises(NetworkError):
        await fetch(transport, "/close-in-head")


async def test_close_without_answer_on_a_fresh_connection(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    with pytest.raises(NetworkError):
        await fetch(transport, "/drop")
    assert server.paths() == ["/drop"]  # a fresh connection's failure is never retried


async def test_malformed_response(transport: AsyncTransport, server: ScriptedServer) -> None:
    with pytest.raises(ProtocolError):
        await fetch(transport, "/malformed")
    await server.wait_closed(1)
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"


async def test_response_head_without_end(transport: AsyncTransport, server: ScriptedServer) -> None:
    with pytest.raises(ProtocolError):
        await fetch(transport, "/huge-head")
    await server.wait_closed(1)


@pytest.mark.parametrize("fast_kind", FAST_KINDS)
async def test_unrequested_protocol_switch(fast_kind: str, server: ScriptedServer) -> None:
    async with make_transport(fast_kind, server.url) as transport:
        with pytest.raises(ProtocolError):
            await fetch(transport, "/upgrade")
    await server.wait_closed(1)


async def test_closed_transport_refuses_requests(kind: str, server: ScriptedServer) -> None:
    transport = make_transport(kind, server.url)
    await transport.aclose()
    with pytest.raises(RuntimeError):
        await fetch(transport, "/cl")


# -- cancellation at every phase ---------------------------------------------------------------


@_WALL_CLOCK
async def test_cancel_while_connecting_frees_the_slot(kind: str) -> None:
    with unaccepting_listener() as (host, port):
        async with make_transport(kind, f"http://{host}:{port}", max_connections=1) as transport:
            with anyio.move_on_after(SHORT_S) as scope:
                await fetch(transport, "/", limits=Timeout(connect_s=30, total_s=30))
            assert scope.cancelled_caught
            # Had the cancelled attempt kept its slot, this would wait for the
            # pool and end with RequestTimeout instead.
            with pytest.raises(ConnectTimeout):
                await fetch(transport, "/", limits=Timeout(connect_s=SHORT_S, total_s=30))


async def test_cancel_while_sending(kind: str) -> None:
    big = b"x" * (32 << 20)  # far beyond what loopback socket buffers hold
    with quiet_server() as quiet:
        async with make_transport(kind, quiet.url) as transport:
            async with anyio.create_task_group() as tg:
                tg.start_soon(functools.partial(fetch, transport, "/", "POST", content=big))
                connection = await quiet.accept()
                # Bytes arrived and nobody reads them: the client is stuck in its send.
                await anyio.wait_readable(connection)
                tg.cancel_scope.cancel()
            await quiet.wait_client_close(connection)
            async with anyio.create_task_group() as tg:
                tg.start_soon(quiet.answer_one)
                _, body = await fetch(transport, "/")
            assert body == b"quiet"
            assert quiet.accepted == 2


async def test_cancel_while_waiting_for_the_head(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(fetch, transport, "/stall-head")
        await server.wait_requests("/stall-head")
        tg.cancel_scope.cancel()
    await server.wait_closed(1)
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 2


@_WALL_CLOCK
async def test_cancel_mid_body(transport: AsyncTransport, server: ScriptedServer) -> None:
    response = await get(transport, "/stall-body")
    assert await response.receive_some() == b"half-"
    with anyio.move_on_after(SHORT_S) as scope:
        await response.receive_some()
    assert scope.cancelled_caught
    await response.aclose()
    await server.wait_closed(1)
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 2


async def test_closing_before_the_end_discards_the_connection(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    response = await get(transport, "/stall-body")
    await response.aclose()
    await server.wait_closed(1)
    _, body = await fetch(transport, "/cl")
    assert body == b"hello"
    assert server.connections_opened == 2


async def test_reading_to_the_end_returns_the_connection(
    transport: AsyncTransport, server: ScriptedServer
) -> None:
    for _ in range(3):
        response = await get(transport, "/chunked")
        while await response.receive_some():
            pass
    assert server.connections_opened == 1
    assert server.connections_closed == 0


# -- any write boundaries, same body -----------------------------------------------------------


def _framed(body: bytes, framing: str, chunk_sizes: list[int]) -> bytes:
    if framing == "content-length":
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    if framing == "until-close":
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body
    parts = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]
    rest = body
    for size in chunk_sizes:
        if not rest:
            break
        piece, rest = rest[:size], rest[size:]
        parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    if rest:
        parts.append(b"%x\r\n%s\r\n" % (len(rest), rest))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]


_framings = st.sampled_from(["content-length", "chunked", "until-close"])
_cuts = st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=12)
_chunk_sizes = st.lists(st.integers(min_value=1, max_value=700), max_size=8)


@hypothesis.settings(
    max_examples=20,
    suppress_health_check=[
        *hypothesis.settings.default.suppress_health_check,
        hypothesis.HealthCheck.function_scoped_fixture,
    ],
)
@hypothesis.given(
    body=st.binary(max_size=3000), framing=_framings, cuts=_cuts, chunk_sizes=_chunk_sizes
)
async def test_body_is_identical_whatever_the_write_boundaries(
    transport: AsyncTransport,
    server: ScriptedServer,
    body: bytes,
    framing: str,
    cuts: list[int],
    chunk_sizes: list[int],
) -> None:
    pieces = _cut(_framed(body, framing, chunk_sizes), cuts)

    async def scripted(exchange: Exchange) -> bool:
        await exchange.send_pieces(pieces, pause_s=0.001)
        return framing != "until-close"

    server.routes["/scripted"] = scripted
    _, received = await fetch(transport, "/scripted")
    assert received == body


@hypothesis.given(
    body=st.binary(max_size=3000), framing=_framings, cuts=_cuts, chunk_sizes=_chunk_sizes
)
def test_reader_body_is_identical_whatever_the_feed_boundaries(
    body: bytes, framing: str, cuts: list[int], chunk_sizes: list[int]
) -> None:
    reader = ResponseReader()
    reader.begin(head_only=False)
    received = b""
    for piece in _cut(_framed(body, framing, chunk_sizes), cuts):
        reader.feed(piece)
        received += reader.take_chunks()
    if framing == "until-close":
        assert not reader.complete
        reader.feed_eof()
    assert reader.complete
    assert received == body


# -- the pieces, without a network -------------------------------------------------------------


def test_encode_request() -> None:
    data = encode_request(
        "POST",
        "/threads",
        [("x-api-key", "k"), ("content-length", "99")],
        b"{}",
        host_line="host: h:1\r\n",
        user_agent_line="user-agent: u\r\n",
    )
    assert data == (
        b"POST /threads HTTP/1.1\r\nx-api-key: k\r\nhost: h:1\r\nuser-agent: u\r\n"
        b"content-length: 2\r\n\r\n{}"
    )
    own = encode_request(
        "GET", "/", [("Host", "x"), ("User-Agent", "y")], None, host_line="-", user_agent_line="-"
    )
    assert own == b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: y\r\n\r\n"


_HOST = "host: h:1\r\n"
_AGENT = "user-agent: u\r\n"


@pytest.mark.parametrize(
    ("method", "target", "headers", "content", "expected"),
    [
        ("GET", "/json", [("accept", "a/b")], None,
         b"GET /json HTTP/1.1\r\naccept: a/b\r\nhost: h:1\r\nuser-agent: u\r\n\r\n"),
        ("GET", "/x?q=1", [], None, b"GET /x?q=1 HTTP/1.1\r\nhost: h:1\r\nuser-agent: u\r\n\r\n"),
        ("POST", "/runs", [("accept", "a/b")], None,
         b"POST /runs HTTP/1.1\r\naccept: a/b\r\nhost: h:1\r\nuser-agent: u\r\n"
         b"content-length: 0\r\n\r\n"),
        ("POST", "/runs", [("accept", "a/b")], b"",
         b"POST /runs HTTP/1.1\r\naccept: a/b\r\nhost: h:1\r\nuser-agent: u\r\n"
         b"content-length: 0\r\n\r\n"),
        ("PATCH", "/t/1", [("Transfer-Encoding", "chunked")], b'{"a":1}',
         b"PATCH /t/1 HTTP/1.1\r\nhost: h:1\r\nuser-agent: u\r\n"
         b'content-length: 7\r\n\r\n{"a":1}'),
        ("DELETE", "/t/1", [("HOST", "o"), ("x", "")], None,
         b"DELETE /t/1 HTTP/1.1\r\nHOST: o\r\nx: \r\nuser-agent: u\r\n\r\n"),
        ("GET", "/", [("user-agent", "me"), ("x-api-key", "k")], None,
         b"GET / HTTP/1.1\r\nuser-agent: me\r\nx-api-key: k\r\nhost: h:1\r\n\r\n"),
        ("PUT", "/s", [("é", "ü")], b"\x00",
         b"PUT /s HTTP/1.1\r\n\xe9: \xfc\r\nhost: h:1\r\nuser-agent: u\r\n"
         b"content-length: 1\r\n\r\n\x00"),
    ],
)  # fmt: skip
def test_request_encoder_writes_what_encode_request_writes(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    content: bytes | None,
    expected: bytes,
) -> None:
    assert (
        encode_request(method, target, headers, content, host_line=_HOST, user_agent_line=_AGENT)
        == expected
    )
    encoder = RequestEncoder(host_line=_HOST, user_agent_line=_AGENT)
    # The first time builds the header lines, the next ones reuse them, also with another
    # request line and body on the same list.
    assert encoder.encode(method, target, headers, content) == expected
    assert encoder.encode(method, target, list(headers), content) == expected
    assert encoder.encode("OPTIONS", "*", headers, None).startswith(b"OPTIONS * HTTP/1.1\r\n")
    assert encoder.encode(method, target, headers, content) == expected


def test_request_encoder_keeps_header_lists_apart_and_bounded() -> None:
    encoder = RequestEncoder(host_line=_HOST, user_agent_line=_AGENT)
    for number in range(600):  # more distinct lists than it keeps: emptied, still right
        headers = [("x-request", str(number))]
        expected = encode_request(
            "GET", "/", headers, None, host_line=_HOST, user_agent_line=_AGENT
        )
        assert encoder.encode("GET", "/", headers, None) == expected
        assert encoder.encode("GET", "/", [("x-request", "0")], None).endswith(
            b"x-request: 0\r\nhost: h:1\r\nuser-agent: u\r\n\r\n"
        )
    # Pairs that are lists cannot be kept, and are encoded all the same.
    as_lists: Any = [["a", "b"]]
    assert encoder.encode("GET", "/", as_lists, None) == (
        b"GET / HTTP/1.1\r\na: b\r\nhost: h:1\r\nuser-agent: u\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/a b", []),
        ("/a\r\nx: y", []),
        ("", []),
        ("/", [("x", "a\nb")]),
        ("/", [("x\r", "a")]),
    ],
    ids=["space-in-target", "crlf-in-target", "empty-target", "lf-in-value", "cr-in-name"],
)
def test_encode_request_refuses_what_would_split_the_message(
    target: str, headers: list[tuple[str, str]]
) -> None:
    with pytest.raises(ProtocolError):
        encode_request("GET", target, headers, None, host_line="", user_agent_line="")
    encoder = RequestEncoder(host_line="", user_agent_line="")
    for _ in range(2):  # a refused list is never kept: refused again
        with pytest.raises(ProtocolError):
            encoder.encode("GET", target, headers, None)


def test_reader_after_head_response_needs_no_body() -> None:
    reader = ResponseReader()
    reader.begin(head_only=True)
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
    assert reader.complete and reader.keep_alive and not reader.dirty
    reader.begin(head_only=False)
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert reader.complete and reader.take_chunks() == b"ok"


def test_reader_http10_is_never_kept_alive() -> None:
    reader = ResponseReader()
    reader.begin(head_only=False)
    reader.feed(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
    assert reader.complete and not reader.keep_alive


def test_reader_eof_inside_a_framed_body_is_incomplete() -> None:
    reader = ResponseReader()
    reader.begin(head_only=False)
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    reader.feed_eof()
    assert not reader.complete


@pytest.mark.parametrize(
    ("head", "framed"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked \r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n", False),
    ],
    ids=["content-length", "chunked", "until-close"],
)
def test_reader_that_released_its_headers_still_knows_how_the_body_ends(
    head: bytes, framed: bool
) -> None:
    reader = ResponseReader()
    reader.begin(head_only=False)
    reader.feed(head)
    reader.release_headers()
    assert reader.raw_headers == []
    reader.feed_eof()
    assert reader.complete is not framed


def test_header_texts_are_shared_between_responses_and_their_cache_is_bounded() -> None:
    from lgbench.client import _models

    _models._header_texts.clear()  # room for this test's texts, whatever ran before
    _models._lowered_names.clear()

    def response(i: int) -> Response:
        reader = ResponseReader()
        reader.begin(head_only=False)
        reader.feed(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-N: %d\r\n"
            b"X-Long: %s\r\nContent-Length: 0\r\n\r\n" % (i, b"v" * 100)
        )
        return Response(reader.status_code, wire_headers=reader.raw_headers)

    first, second = response(1), response(2)
    assert first.headers == {
        "content-type": "text/event-stream",
        "x-n": "1",
        "x-long": "v" * 100,
        "content-length": "0",
    }
    assert second.headers["x-n"] == "2"
    # The same text once in memory, for every response that carries it.
    key_1 = next(k for k in first.headers if k == "content-type")
    key_2 = next(k for k in second.headers if k == "content-type")
    assert key_1 is key_2
    assert first.headers["content-type"] is second.headers["content-type"]
    for i in range(3 * _models._MAX_HEADER_TEXTS):
        assert response(i).headers["x-n"] == str(i)
    assert len(_models._header_texts) <= _models._MAX_HEADER_TEXTS
    assert len(_models._lowered_names) <= _models._MAX_LOWERED_NAMES


def test_reader_forgets_a_released_framing_with_the_next_response() -> None:
    reader = ResponseReader()
    reader.begin(head_only=False)
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab")
    reader.release_headers()
    reader.feed(b"c")
    assert reader.complete and reader.keep_alive
    reader.begin(head_only=False)
    reader.feed(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nxyz")
    reader.feed_eof()  # no framing now: the close ends the body
    assert reader.complete and reader.take_chunks() == b"xyz"


def _exported_exception_classes(module: Any) -> list[type[BaseException]]:
    return [
        obj
        for name in dir(module)
        if not name.startswith("_")
        and isinstance(obj := getattr(module, name), type)
        and issubclass(obj, BaseException)
    ]


def test_every_httptools_exception_is_mapped() -> None:
    classes = _exported_exception_classes(httptools)
    assert classes  # the module still exports its errors where we look for them
    for cls in classes:
        assert issubclass(cls, FOREIGN_ERRORS), cls
        for connecting in (False, True):
            assert type(translate_error(cls("boom"), connecting=connecting)) is ProtocolError


@pytest.mark.parametrize(
    ("exc", "connecting", "expected"),
    [
        (ConnectionRefusedError(111, "refused"), True, ConnectError),
        (socket.gaierror(-2, "unknown host"), True, ConnectError),
        (OSError("All connection attempts failed"), True, ConnectError),
        (builtins.TimeoutError(110, "timed out"), True, ConnectTimeout),
        (ConnectionResetError(104, "reset"), False, NetworkError),
        (BrokenPipeError(32, "broken pipe"), False, NetworkError),
        (anyio.BrokenResourceError(), False, NetworkError),
        (anyio.ClosedResourceError(), False, NetworkError),
        (anyio.EndOfStream(), False, NetworkError),
        (anyio.BrokenResourceError(), True, ConnectError),
    ],
)
def test_fast_transport_error_mapping(
    exc: BaseException, connecting: bool, expected: type[TransportError]
) -> None:
    assert isinstance(exc, FOREIGN_ERRORS)
    assert type(translate_error(exc, connecting=connecting)) is expected


def test_every_httpx_exception_is_mapped() -> None:
    classes = _exported_exception_classes(httpx)
    assert len(classes) > 20
    assert set(classes) <= set(HTTPX_ERRORS), set(classes) - set(HTTPX_ERRORS)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectTimeout("t"), ConnectTimeout),
        (httpx.ReadTimeout("t"), ReadTimeout),
        (httpx.WriteTimeout("t"), TimeoutError),
        (httpx.PoolTimeout("t"), RequestTimeout),
        (httpx.ConnectError("refused"), ConnectError),
        (httpx.ReadError("reset"), NetworkError),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            NetworkError,
        ),
        (httpx.RemoteProtocolError("illegal status line"), ProtocolError),
        (httpx.LocalProtocolError("bad header"), ProtocolError),
    ],
)
def test_httpx_error_mapping(exc: Exception, expected: type[TransportError]) -> None:
    assert type(translate_httpx_error(exc)) is expected


async def test_backend_detection(anyio_backend: tuple[str, dict[str, Any]]) -> None:
    assert _backend.running_on_asyncio() == (anyio_backend[0] == "asyncio")
