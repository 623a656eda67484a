"""Streams that reconnect with Last-Event-ID, against the real server through a cutting proxy.

``tests/client/_cut_proxy.py`` forwards the real server's bytes and cuts event streams
mid-way. A resumable run's stream must then come out whole: the same events, in the same
order, each once, as an uninterrupted stream of the same input on the ``streamer`` graph
(run ids and thread ids aside). A stream that is not resumable fails as before.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

# Exported from lgbench.client once wired in; the private module defines it.
from lgbench.client import LangGraphClient, ResumableStream, StreamPart, TransportError, get_client
from tests.client._cut_proxy import open_cut_proxy

pytestmark = [pytest.mark.anyio, pytest.mark.server]

# 15 supersteps about 30 ms apart: a cut lands while the run still goes on.
STREAMER_INPUT = {"n": 15, "gap_s": 0.03}
MODES = ["values", "updates", "custom"]
# values n + 3, updates n + 2, custom n, plus metadata (see lgbench/graphs/_streamer.py).
EVENTS = 3 * 15 + 5 + 1


@pytest.fixture
async def direct(langgraph_url: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=langgraph_url, api_key=None) as client:
        yield client


def _canonical(parts: list[StreamPart], thread_id: str) -> list[tuple[str, str]]:
    """Each event with its data as JSON text, the run's and thread's ids blanked out."""
    run_id = parts[0].data["run_id"]
    return [
        (
            part.event,
            json.dumps(part.data, sort_keys=True).replace(run_id, "RUN").replace(thread_id, "T"),
        )
        for part in parts
    ]


async def _reference(client: LangGraphClient) -> list[tuple[str, str]]:
    thread_id = (await client.threads.create())["thread_id"]
    stream = client.runs.stream(
        thread_id, "streamer", input=STREAMER_INPUT, stream_mode=MODES, stream_resumable=True
    )
    async with stream:
        parts = [part async for part in stream]
    return _canonical(parts, thread_id)


@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
async def test_resumable_stream_cut_twice_delivers_every_event_once(
    direct: LangGraphClient, langgraph_url: str, reset: bool
) -> None:
    reference: list[tuple[str, str]] = []
    got: list[StreamPart] = []
    reconnects = -1
    cut = -1

    async def expected() -> None:
        reference.extend(await _reference(direct))

    async def through_proxy() -> None:
        nonlocal reconnects, cut
        async with (
            open_cut_proxy(langgraph_url, after_events=9, cuts=2, reset=reset) as proxy,
            get_client(url=proxy.url, api_key=None) as client,
        ):
            thread_id = (await client.threads.create())["thread_id"]
            stream = ResumableStream(
                client.runs,
                client.runs.stream(
                    thread_id,
                    "streamer",
                    input=STREAMER_INPUT,
                    stream_mode=MODES,
                    stream_resumable=True,
                ),
                thread_id,
            )
            async with stream:
                got.extend([part async for part in stream])
            reconnects, cut = stream.reconnects, proxy.cut
            assert stream.run_id == got[0].data["run_id"]
            got_canonical.extend(_canonical(got, thread_id))

    got_canonical: list[tuple[str, str]] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(expected)
        tg.start_soon(through_proxy)
    assert cut == 2
    assert reconnects == 2
    assert len(reference) == EVENTS
    assert got_canonical == reference


async def test_stream_without_event_ids_fails_when_cut(
    direct: LangGraphClient, langgraph_url: str
) -> None:
    async def plain(client: LangGraphClient, thread_id: str) -> Any:
        return client.runs.stream(thread_id, "streamer", input=STREAMER_INPUT, stream_mode=MODES)

    async with (
        open_cut_proxy(langgraph_url, after_events=5, cuts=2) as proxy,
        get_client(url=proxy.url, api_key=None) as client,
    ):
        thread_id = (await client.threads.create())["thread_id"]
        seen: list[StreamPart] = []
        with pytest.raises(TransportError):
            async with await plain(client, thread_id) as stream:
                async for part in stream:
                    seen.append(part)
        assert len(seen) == 5
        # Wrapped for reconnection, a stream without ids still fails the same way.
        wrapped = ResumableStream(client.runs, await plain(client, thread_id), thread_id)
        seen = []
        with pytest.raises(TransportError):
            async with wrapped:
                async for part in wrapped:
                    seen.append(part)
        assert len(seen) == 5
        assert all(part.id is None for part in seen)
        assert wrapped.reconnects == 0
        assert proxy.cut == 2


async def test_joined_resumable_run_is_reconnected_from_where_it_was(
    direct: LangGraphClient, langgraph_url: str
) -> None:
    async with (
        open_cut_proxy(langgraph_url, after_events=6, cuts=1) as proxy,
        get_client(url=proxy.url, api_key=None) as client,
    ):
        thread_id = (await client.threads.create())["thread_id"]
        run = await client.runs.create(
            thread_id, "streamer", input=STREAMER_INPUT, stream_mode=MODES, stream_resumable=True
        )
        stream = ResumableStream(
            client.runs,
            client.runs.join_stream(thread_id, run["run_id"]),
            thread_id,
            run["run_id"],
        )
        async with stream:
            joined = [part async for part in stream]
        assert stream.reconnects == 1
        assert proxy.cut == 1
    # Joined wherever the run was: the events are an unbroken tail of the whole stream.
    replay = direct.runs.join_stream(thread_id, run["run_id"], last_event_id="0")
    async with replay:
        everything = [part async for part in replay]
    assert len(everything) == EVENTS
    assert len(joined) > 6
    assert joined == everything[len(everything) - len(joined) :]
