"""The fault proxy, byte by byte: each fault on a small real exchange through it.

An echo server and a scripted SSE server (tests/faults/_servers.py) stand behind the
proxy; tests/faults/test_proxy_client.py does the same with lgbench's client against the
real embedded server. Time is only ever bounded from below.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest

from lgbench.errors import UsageError
from lgbench.faults import (
    CutFault,
    FaultProxy,
    LatencyFault,
    RefuseFault,
    ResetFault,
    StallFault,
    ThrottleFault,
)
from tests.faults._servers import SSE_HEAD, open_echo_server, open_sse_server, read_all, sse_events

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # faults played in real time

# asyncio may wake a timer up to its clock resolution early; nothing else is tolerated.
EARLY_S = 0.005


@pytest.fixture
async def echo_proxy() -> AsyncIterator[FaultProxy]:
    async with open_echo_server() as port, FaultProxy("127.0.0.1", port) as proxy:
        yield proxy


async def connect(proxy: FaultProxy) -> anyio.abc.SocketStream:
    return await anyio.connect_tcp("127.0.0.1", proxy.port)


async def receive_exactly(stream: anyio.abc.SocketStream, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += await stream.receive()
    return data


async def round_trip_s(stream: anyio.abc.SocketStream, payload: bytes) -> float:
    started = time.monotonic()
    await stream.send(payload)
    assert await receive_exactly(stream, len(payload)) == payload
    return time.monotonic() - started


async def test_forwards_both_ways_and_counts(echo_proxy: FaultProxy) -> None:
    assert echo_proxy.url == f"http://127.0.0.1:{echo_proxy.port}"
    async with await connect(echo_proxy) as stream:
        await round_trip_s(stream, b"hello")
        await round_trip_s(stream, b"x" * 200_000)
    stats = echo_proxy.stats()
    assert stats.connections_accepted == 1
    assert stats.bytes_to_server == stats.bytes_to_client == 200_005
    assert stats.faults_applied == 0
    assert stats.faults_active == ()


async def test_latency_is_added_in_each_direction(echo_proxy: FaultProxy) -> None:
    async with await connect(echo_proxy) as stream:
        applied = await echo_proxy.apply(LatencyFault(latency_s=0.1))
        assert await round_trip_s(stream, b"ping") >= 0.2 - EARLY_S
        await echo_proxy.lift(applied)
        one_way = await echo_proxy.apply(LatencyFault(latency_s=0.15, direction="to-client"))
        assert await round_trip_s(stream, b"ping") >= 0.15 - EARLY_S
        await echo_proxy.lift(one_way)
    assert echo_proxy.stats().faults_applied == 2
    assert echo_proxy.active_faults == ()


async def test_jitter_never_reorders_bytes(echo_proxy: FaultProxy) -> None:
    payload = b"".join(b"%04d" % i for i in range(300))
    async with (
        echo_proxy.inject(LatencyFault(latency_s=0.02, jitter_s=0.02)),
        await connect(echo_proxy) as stream,
    ):
        # Many small writes make many chunks, each with its own draw.
        for start in range(0, len(payload), 4):
            await stream.send(payload[start : start + 4])
            await anyio.sleep(0.001)
        assert await receive_exactly(stream, len(payload)) == payload


async def test_throttle_limits_bytes_per_second(echo_proxy: FaultProxy) -> None:
    payload = b"t" * 2_000
    async with await connect(echo_proxy) as stream:
        async with echo_proxy.inject(ThrottleFault(bytes_per_s=8_000, direction="to-server")):
            assert echo_proxy.stats().faults_active == ("throttle",)
            assert await round_trip_s(stream, payload) >= len(payload) / 8_000 - EARLY_S
        async with echo_proxy.inject(ThrottleFault(bytes_per_s=8_000, direction="to-client")):
            assert await round_trip_s(stream, payload) >= len(payload) / 8_000 - EARLY_S
        # Both ways at once: the two directions overlap (a pipe), each at the rate.
        async with echo_proxy.inject(ThrottleFault(bytes_per_s=8_000)):
            assert await round_trip_s(stream, payload) >= len(payload) / 8_000 - EARLY_S
    assert echo_proxy.stats().bytes_to_client == 3 * len(payload)


async def test_several_faults_at_once_each_undone(echo_proxy: FaultProxy) -> None:
    async with await connect(echo_proxy) as stream:
        slow = await echo_proxy.apply(LatencyFault(latency_s=0.05))
        narrow = await echo_proxy.apply(ThrottleFault(bytes_per_s=10_000))
        assert echo_proxy.stats().faults_active == ("latency", "throttle")
        assert await round_trip_s(stream, b"y" * 1_000) >= 0.1 + 0.1 - EARLY_S
        await echo_proxy.lift(slow)
        assert echo_proxy.stats().faults_active == ("throttle",)
        assert await round_trip_s(stream, b"y" * 1_000) >= 0.1 - EARLY_S
        await echo_proxy.lift(narrow)
        await echo_proxy.lift(narrow)  # idempotent
        assert echo_proxy.active_faults == ()
        assert await round_trip_s(stream, b"fast") >= 0


async def test_stall_freezes_existing_and_new_connections(echo_proxy: FaultProxy) -> None:
    async with await connect(echo_proxy) as old:
        await round_trip_s(old, b"before")
        stall = await echo_proxy.apply(StallFault())
        await old.send(b"held")
        async with await connect(echo_proxy) as new:
            # Accepted, but nothing goes through either way.
            await new.send(b"also held")
            with anyio.move_on_after(0.3) as waited:
                await old.receive()
            assert waited.cancelled_caught
            with anyio.move_on_after(0.1) as waited:
                await new.receive()
            assert waited.cancelled_caught
            await echo_proxy.lift(stall)
            assert await receive_exactly(old, 4) == b"held"
            assert await receive_exactly(new, 9) == b"also held"


async def test_reset_sends_rst_to_open_and_new_connections(echo_proxy: FaultProxy) -> None:
    async with await connect(echo_proxy) as old:
        await round_trip_s(old, b"before")
        async with echo_proxy.inject(ResetFault()):
            with pytest.raises(anyio.BrokenResourceError) as caught:
                await old.receive()
            assert isinstance(caught.value.__cause__, ConnectionResetError)
            # The kernel completes the handshake; the proxy then resets.
            async with await connect(echo_proxy) as new:
                with pytest.raises(anyio.BrokenResourceError):
                    await new.send(b"x")
                    await new.receive()
        assert echo_proxy.stats().connections_reset == 2
    async with await connect(echo_proxy) as after:
        await round_trip_s(after, b"after")


async def test_refuse_closes_the_port_and_rebinds_it(echo_proxy: FaultProxy) -> None:
    port = echo_proxy.port
    async with await connect(echo_proxy) as old:
        refuse = await echo_proxy.apply(RefuseFault())
        with pytest.raises(OSError) as caught:
            await anyio.connect_tcp("127.0.0.1", port)
        assert isinstance(caught.value.__cause__, ConnectionRefusedError)
        # Open connections are not touched.
        await round_trip_s(old, b"still here")
        await echo_proxy.lift(refuse)
    assert echo_proxy.port == port
    async with await connect(echo_proxy) as new:
        await round_trip_s(new, b"back")


async def test_a_dead_upstream_resets_the_client() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    async with FaultProxy("127.0.0.1", dead_port) as proxy, await connect(proxy) as stream:
        with pytest.raises(anyio.BrokenResourceError):
            await stream.send(b"x")
            await stream.receive()
    assert proxy.stats().upstream_failures == 1


async def sse_exchange(proxy: FaultProxy) -> bytes:
    async with await connect(proxy) as stream:
        await stream.send(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
        return await read_all(stream)


@pytest.mark.parametrize("after_events", [0, 2], ids=["first-event", "third-event"])
async def test_cut_closes_streams_in_the_middle_of_an_event(after_events: int) -> None:
    events = sse_events(5)
    after_bytes = len(SSE_HEAD) + sum(len(event) for event in events[:after_events])
    async with (
        open_sse_server(events) as port,
        FaultProxy("127.0.0.1", port) as proxy,
        proxy.inject(CutFault(after_bytes=after_bytes)),
    ):
        received = await sse_exchange(proxy)
        assert proxy.stats().streams_cut == 1
    assert received.startswith(SSE_HEAD)
    body = received[len(SSE_HEAD) :]
    complete, _, partial = body.rpartition(b"\n\n")
    # Exactly the events before the cut arrived whole; the next one stops after "data:".
    assert body.startswith(b"".join(events[:after_events]))
    assert len(complete.split(b"\n\n")) == after_events if after_events else complete == b""
    assert partial == b"event: custom\ndata:"


async def test_cut_is_lifted_and_streams_flow_again() -> None:
    events = sse_events(3)
    async with open_sse_server(events) as port, FaultProxy("127.0.0.1", port) as proxy:
        async with proxy.inject(CutFault()):
            assert (await sse_exchange(proxy)).endswith(b"data:")
        async with await connect(proxy) as stream:
            await stream.send(b"GET / HTTP/1.1\r\n\r\n")
            expected = SSE_HEAD + b"".join(events)
            assert await receive_exactly(stream, len(expected)) == expected
        assert proxy.stats().streams_cut == 1


def test_invalid_arguments_are_usage_errors() -> None:
    for make in (
        lambda: LatencyFault(latency_s=-1),
        lambda: LatencyFault(latency_s=0.1, jitter_s=float("nan")),
        lambda: LatencyFault(latency_s=0.1, direction="sideways"),  # type: ignore[arg-type]
        lambda: ThrottleFault(bytes_per_s=0),
        lambda: CutFault(after_bytes=-1),
        lambda: FaultProxy("127.0.0.1", 0),
        lambda: FaultProxy("127.0.0.1", 80, listen_host="0.0.0.0"),
        lambda: FaultProxy("127.0.0.1", 70_000),
    ):
        with pytest.raises(UsageError) as caught:
            make()
        assert isinstance(caught.value, ValueError)


def test_faults_need_a_running_proxy() -> None:
    proxy = FaultProxy("127.0.0.1", 8123)
    with pytest.raises(RuntimeError, match="no port yet"):
        proxy.url  # noqa: B018
    with pytest.raises(RuntimeError, match="not running"):
        anyio.run(proxy.apply, StallFault())
