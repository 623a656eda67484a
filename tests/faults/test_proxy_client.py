"""The fault proxy between lgbench's own client and the real embedded server (the session one).

What a user of ``[[fault]]`` sees: the client's typed errors under each fault, and a
normal exchange once the fault is lifted.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import AsyncIterator

import anyio
import pytest

from lgbench.client import (
    ConnectError,
    LangGraphClient,
    StreamPart,
    Timeout,
    TimeoutError,
    TransportError,
    get_client,
)
from lgbench.faults import (
    CutFault,
    FaultProxy,
    LatencyFault,
    RefuseFault,
    ResetFault,
    StallFault,
)

pytestmark = [pytest.mark.anyio, pytest.mark.server]

EARLY_S = 0.005


@pytest.fixture
async def proxy(langgraph_url: str) -> AsyncIterator[FaultProxy]:
    upstream = urllib.parse.urlsplit(langgraph_url)
    assert upstream.hostname is not None and upstream.port is not None
    async with FaultProxy(upstream.hostname, upstream.port) as proxy:
        yield proxy


@pytest.fixture
async def client(proxy: FaultProxy) -> AsyncIterator[LangGraphClient]:
    timeout = Timeout(connect_s=2.0, read_s=2.0, write_s=2.0)
    async with get_client(url=proxy.url, api_key=None, timeout=timeout) as client:
        yield client


async def test_latency_slows_each_request_by_at_least_the_delay(
    proxy: FaultProxy, client: LangGraphClient
) -> None:
    await client.threads.create()
    async with proxy.inject(LatencyFault(latency_s=0.1, jitter_s=0.0)):
        started = time.monotonic()
        thread = await client.threads.create()
        # Once on the way in, once on the way out.
        assert time.monotonic() - started >= 0.2 - EARLY_S
    assert (await client.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]


async def test_reset_breaks_a_stream_and_new_requests(
    proxy: FaultProxy, client: LangGraphClient
) -> None:
    parts: list[StreamPart] = []
    with pytest.raises(TransportError):
        async with client.runs.stream(
            None, "streamer", input={"n": 50, "gap_s": 0.05}, stream_mode="custom"
        ) as stream:
            async for part in stream:
                parts.append(part)
                if len(parts) == 3:
                    await proxy.apply(ResetFault())
    assert 3 <= len(parts) < 51
    with pytest.raises(TransportError):
        await client.threads.create()
    await proxy.lift_all()
    assert proxy.stats().connections_reset >= 2
    assert "thread_id" in await client.threads.create()


async def test_refuse_gives_connection_refused(proxy: FaultProxy, client: LangGraphClient) -> None:
    async with proxy.inject(RefuseFault()):
        with pytest.raises(ConnectError):
            # A fresh client: no pooled connection to reuse.
            async with get_client(url=proxy.url, api_key=None) as fresh:
                await fresh.threads.create()
    assert "thread_id" in await client.threads.create()


async def test_stall_times_out_with_a_short_client_timeout(
    proxy: FaultProxy, client: LangGraphClient
) -> None:
    async with proxy.inject(StallFault()):
        with pytest.raises(TimeoutError):
            await client.threads.create()
    # The stalled connection was discarded by the client after its timeout.
    assert "thread_id" in await client.threads.create()


async def test_cut_ends_a_run_stream_mid_event(proxy: FaultProxy, client: LangGraphClient) -> None:
    async def read(n: int) -> tuple[list[StreamPart], BaseException | None]:
        parts: list[StreamPart] = []
        try:
            async with client.runs.stream(
                None, "streamer", input={"n": n, "gap_s": 0.01}, stream_mode="custom"
            ) as stream:
                async for part in stream:
                    parts.append(part)
        except TransportError as exc:
            return parts, exc
        return parts, None

    whole, error = await read(20)
    assert error is None
    assert [part.data["i"] for part in whole if part.event == "custom"] == list(range(20))
    # Past the response head and the metadata event: the cut lands in a custom event.
    async with proxy.inject(CutFault(after_bytes=600)):
        cut, error = await read(20)
    assert proxy.stats().streams_cut == 1
    # The stream ends early (the client may report the truncated body as an error);
    # no part is ever half decoded.
    assert len(cut) < len(whole)
    assert [part.data["i"] for part in cut if part.event == "custom"] == list(
        range(len([part for part in cut if part.event == "custom"]))
    )
    with anyio.fail_after(10):
        again, error = await read(3)
    assert error is None and len(again) == 4
