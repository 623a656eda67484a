"""``client.crons``: the requests each method sends, and the real server's answers."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lgbench.client import LangGraphClient, NotFoundError, get_client
from lgbench.graphs import default_assistant_id
from tests.client.test_assistants import Call, Recorder

pytestmark = pytest.mark.anyio

# Once a year at midnight, 1 January: never fires during a test run.
YEARLY = "0 0 1 1 *"
END = datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)

# (call, method, path, query, JSON body): what the LangGraph SDK sends for the same call.
REQUESTS = [
    pytest.param(
        lambda c: c.crons.create_for_thread("t", "a", schedule=YEARLY),
        "POST",
        "/threads/t/runs/crons",
        [],
        {"schedule": YEARLY, "assistant_id": "a"},
        id="create_for_thread",
    ),
    pytest.param(
        lambda c: c.crons.create_for_thread(
            "t",
            "a",
            schedule=YEARLY,
            input={"x": 1},
            metadata={"m": 1},
            config={"configurable": {"k": 1}},
            interrupt_before=("n1",),
            interrupt_after="*",
            webhook="http://127.0.0.1:1/hook",
            multitask_strategy="enqueue",
            end_time=END,
            enabled=True,
            timezone=zoneinfo.ZoneInfo("Europe/Paris"),
            stream_mode=["values"],
        ),
        "POST",
        "/threads/t/runs/crons",
        [],
        {
            "schedule": YEARLY,
            "assistant_id": "a",
            "input": {"x": 1},
            "metadata": {"m": 1},
            "config": {"configurable": {"k": 1}},
            "interrupt_before": ["n1"],
            "interrupt_after": "*",
            "webhook": "http://127.0.0.1:1/hook",
            "multitask_strategy": "enqueue",
            "end_time": "2099-01-01T00:00:00+00:00",
            "enabled": True,
            "timezone": "Europe/Paris",
            "stream_mode": ["values"],
        },
        id="create_for_thread-full",
    ),
    pytest.param(
        lambda c: c.crons.create(
            "a", schedule=YEARLY, on_run_completed="keep", timezone=datetime.UTC
        ),
        "POST",
        "/runs/crons",
        [],
        {"schedule": YEARLY, "assistant_id": "a", "on_run_completed": "keep", "timezone": "UTC"},
        id="create",
    ),
    pytest.param(
        lambda c: c.crons.delete("cr/1"), "DELETE", "/runs/crons/cr%2F1", [], None, id="delete"
    ),
    pytest.param(
        lambda c: c.crons.search(),
        "POST",
        "/runs/crons/search",
        [],
        {"limit": 10, "offset": 0},
        id="search",
    ),
    pytest.param(
        lambda c: c.crons.search(
            assistant_id="a", thread_id="t", limit=3, offset=1, enabled=False, metadata={"m": 1}
        ),
        "POST",
        "/runs/crons/search",
        [],
        {
            "assistant_id": "a",
            "thread_id": "t",
            "enabled": False,
            "limit": 3,
            "offset": 1,
            "metadata": {"m": 1},
        },
        id="search-filters",
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "query", "body"), REQUESTS)
async def test_request(
    call: Call, method: str, path: str, query: list[tuple[str, str]], body: Any
) -> None:
    recorder = Recorder()
    async with recorder.client() as client:
        await call(client)
    assert recorder.sent() == (method, path, query, body)


# --- against the real server -------------------------------------------------------------


@pytest.fixture
async def client(langgraph_url: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=langgraph_url, api_key=None) as client:
        yield client


@pytest.mark.server
async def test_cron_for_thread_lifecycle(client: LangGraphClient) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    cron = await client.crons.create_for_thread(
        thread_id, "sleepy", schedule=YEARLY, input={"seconds": 0}, metadata={"kind": "thread"}
    )
    assert cron["thread_id"] == thread_id
    assert cron["schedule"] == YEARLY

    found = await client.crons.search(thread_id=thread_id)
    assert [c["cron_id"] for c in found] == [cron["cron_id"]]

    await client.crons.delete(cron["cron_id"])
    assert await client.crons.search(thread_id=thread_id) == []
    with pytest.raises(NotFoundError):
        await client.crons.delete(cron["cron_id"])


@pytest.mark.server
async def test_stateless_cron_lifecycle(client: LangGraphClient) -> None:
    cron = await client.crons.create(
        "sleepy", schedule=YEARLY, input={"seconds": 0}, end_time=END, on_run_completed="keep"
    )
    assert cron["schedule"] == YEARLY
    assistant_id = default_assistant_id("sleepy")
    assert cron["assistant_id"] == assistant_id

    found = await client.crons.search(assistant_id=assistant_id, limit=100)
    assert cron["cron_id"] in {c["cron_id"] for c in found}

    await client.crons.delete(cron["cron_id"])
    remaining = await client.crons.search(assistant_id=assistant_id, limit=100)
    assert cron["cron_id"] not in {c["cron_id"] for c in remaining}
