"""``client.threads``: the requests each method sends, and the real server's answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lgbench.client import ConflictError, LangGraphClient, NotFoundError, get_client
from tests.client.test_assistants import Call, Recorder

pytestmark = pytest.mark.anyio

CHECKPOINT = {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c1"}

# (call, method, path, query, JSON body): what the LangGraph SDK sends for the same call.
REQUESTS = [
    pytest.param(lambda c: c.threads.get("t"), "GET", "/threads/t", [], None, id="get"),
    pytest.param(
        lambda c: c.threads.get("t", include=["ttl", "x"]),
        "GET",
        "/threads/t",
        [("include", "ttl,x")],
        None,
        id="get-include",
    ),
    pytest.param(lambda c: c.threads.create(), "POST", "/threads", [], {}, id="create-minimal"),
    pytest.param(
        lambda c: c.threads.create(
            metadata={"m": 1}, thread_id="t", if_exists="do_nothing", graph_id="sleepy", ttl=5
        ),
        "POST",
        "/threads",
        [],
        {
            "thread_id": "t",
            "metadata": {"m": 1, "graph_id": "sleepy"},
            "if_exists": "do_nothing",
            "ttl": {"ttl": 5, "strategy": "delete"},
        },
        id="create-full",
    ),
    pytest.param(
        lambda c: c.threads.create(
            supersteps=[{"updates": [{"values": {"tokens": ["x"]}, "as_node": "begin"}]}]
        ),
        "POST",
        "/threads",
        [],
        {
            "supersteps": [
                {"updates": [{"values": {"tokens": ["x"]}, "command": None, "as_node": "begin"}]}
            ]
        },
        id="create-supersteps",
    ),
    pytest.param(
        lambda c: c.threads.update("t", metadata={"m": 2}),
        "PATCH",
        "/threads/t",
        [],
        {"metadata": {"m": 2}},
        id="update",
    ),
    pytest.param(
        lambda c: c.threads.update("t", metadata={}, ttl={"ttl": 1, "strategy": "delete"}),
        "PATCH",
        "/threads/t",
        [],
        {"metadata": {}, "ttl": {"ttl": 1, "strategy": "delete"}},
        id="update-ttl",
    ),
    pytest.param(lambda c: c.threads.delete("t"), "DELETE", "/threads/t", [], None, id="delete"),
    pytest.param(
        lambda c: c.threads.search(),
        "POST",
        "/threads/search",
        [],
        {"limit": 10, "offset": 0},
        id="search",
    ),
    pytest.param(
        lambda c: c.threads.search(
            metadata={"m": 1},
            values={"v": 2},
            status="idle",
            limit=3,
            offset=1,
            ids=("a", "b"),
            sort_by="created_at",
            sort_order="desc",
        ),
        "POST",
        "/threads/search",
        [],
        {
            "limit": 3,
            "offset": 1,
            "metadata": {"m": 1},
            "values": {"v": 2},
            "ids": ["a", "b"],
            "status": "idle",
            "sort_by": "created_at",
            "sort_order": "desc",
        },
        id="search-filters",
    ),
    pytest.param(lambda c: c.threads.copy("t"), "POST", "/threads/t/copy", [], None, id="copy"),
    pytest.param(
        lambda c: c.threads.get_state("t"),
        "GET",
        "/threads/t/state",
        [("subgraphs", "false")],
        None,
        id="get_state",
    ),
    pytest.param(
        lambda c: c.threads.get_state("t", checkpoint_id="c1", subgraphs=True),
        "GET",
        "/threads/t/state/c1",
        [("subgraphs", "true")],
        None,
        id="get_state-checkpoint_id",
    ),
    pytest.param(
        lambda c: c.threads.get_state("t", CHECKPOINT),
        "POST",
        "/threads/t/state/checkpoint",
        [],
        {"checkpoint": CHECKPOINT, "subgraphs": False},
        id="get_state-checkpoint",
    ),
    pytest.param(
        lambda c: c.threads.update_state("t", {"tokens": ["x"]}, as_node="begin"),
        "POST",
        "/threads/t/state",
        [],
        {"values": {"tokens": ["x"]}, "as_node": "begin"},
        id="update_state",
    ),
    pytest.param(
        lambda c: c.threads.update_state("t", None, checkpoint_id="c1", checkpoint=CHECKPOINT),
        "POST",
        "/threads/t/state",
        [],
        {"values": None, "checkpoint_id": "c1", "checkpoint": CHECKPOINT},
        id="update_state-checkpoint",
    ),
    pytest.param(
        lambda c: c.threads.get_history("t"),
        "POST",
        "/threads/t/history",
        [],
        {"limit": 10},
        id="get_history",
    ),
    pytest.param(
        lambda c: c.threads.get_history(
            "t", limit=2, before="c1", metadata={"step": 1}, checkpoint=CHECKPOINT
        ),
        "POST",
        "/threads/t/history",
        [],
        {
            "limit": 2,
            "before": {"configurable": {"checkpoint_id": "c1"}},
            "metadata": {"step": 1},
            "checkpoint": CHECKPOINT,
        },
        id="get_history-filters",
    ),
    pytest.param(
        lambda c: c.threads.get_history("t", before=CHECKPOINT),
        "POST",
        "/threads/t/history",
        [],
        {"limit": 10, "before": {"configurable": CHECKPOINT}},
        id="get_history-before-checkpoint",
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
async def test_thread_lifecycle(client: LangGraphClient) -> None:
    thread_id = str(uuid.uuid4())
    marker = str(uuid.uuid4())
    created = await client.threads.create(metadata={"marker": marker}, thread_id=thread_id)
    assert created["thread_id"] == thread_id
    assert created["status"] == "idle"

    fetched = await client.threads.get(thread_id)
    assert fetched["thread_id"] == thread_id
    assert fetched["metadata"]["marker"] == marker

    with pytest.raises(ConflictError) as caught:
        await client.threads.create(thread_id=thread_id)
    assert caught.value.status_code == 409
    existing = await client.threads.create(thread_id=thread_id, if_exists="do_nothing")
    assert existing["metadata"]["marker"] == marker

    updated = await client.threads.update(thread_id, metadata={"round": 2})
    assert updated["metadata"] == {**fetched["metadata"], "round": 2}

    found = await client.threads.search(metadata={"marker": marker}, status="idle")
    assert [t["thread_id"] for t in found] == [thread_id]
    assert await client.threads.search(metadata={"marker": marker}, status="busy") == []

    await client.threads.delete(thread_id)
    with pytest.raises(NotFoundError) as missing:
        await client.threads.get(thread_id)
    assert missing.value.status_code == 404


@pytest.mark.server
async def test_thread_state_history_and_copy(client: LangGraphClient) -> None:
    thread = await client.threads.create(graph_id="sleepy")
    thread_id = thread["thread_id"]
    run = await client.runs.create(thread_id, "sleepy", input={"seconds": 0})
    await client.runs.join(thread_id, run["run_id"])
    tokens = [f"start:{run['run_id']}", f"end:{run['run_id']}"]

    state = await client.threads.get_state(thread_id)
    assert state["values"]["tokens"] == tokens
    assert state["next"] == []
    assert state["checkpoint"]["thread_id"] == thread_id

    history = await client.threads.get_history(thread_id, limit=2)
    assert len(history) == 2
    assert history[0]["checkpoint"] == state["checkpoint"]  # newest first
    earlier = history[1]
    at_id = await client.threads.get_state(
        thread_id, checkpoint_id=earlier["checkpoint"]["checkpoint_id"]
    )
    assert at_id["values"] == earlier["values"]
    at_checkpoint = await client.threads.get_state(thread_id, earlier["checkpoint"])
    assert at_checkpoint["checkpoint"]["checkpoint_id"] == earlier["checkpoint"]["checkpoint_id"]
    # Both documented forms of ``before``: a checkpoint, and a checkpoint id.
    before = await client.threads.get_history(thread_id, before=state["checkpoint"], limit=1)
    assert before[0]["checkpoint"] == earlier["checkpoint"]
    before_id = state["checkpoint"]["checkpoint_id"]
    assert await client.threads.get_history(thread_id, before=before_id, limit=1) == before

    written = await client.threads.update_state(thread_id, {"tokens": ["manual"]}, as_node="work")
    assert written["checkpoint"]["thread_id"] == thread_id
    after = await client.threads.get_state(thread_id)
    assert after["values"]["tokens"] == [*tokens, "manual"]
    assert after["checkpoint"]["checkpoint_id"] == written["checkpoint"]["checkpoint_id"]

    copied = await client.threads.copy(thread_id)
    assert copied["thread_id"] != thread_id
    copy_state = await client.threads.get_state(copied["thread_id"])
    assert copy_state["values"]["tokens"] == [*tokens, "manual"]

    # Not searched by ``values`` here: the in-memory server (0.36) answers 500 to any
    # values filter once some thread has no values yet (threads.create without a run).


@pytest.mark.server
async def test_thread_created_with_supersteps(client: LangGraphClient) -> None:
    thread = await client.threads.create(
        graph_id="sleepy",
        supersteps=[{"updates": [{"values": {"tokens": ["seeded"]}, "as_node": "begin"}]}],
    )
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["tokens"] == ["seeded"]
    assert thread["metadata"]["graph_id"] == "sleepy"


@pytest.mark.server
async def test_raw_http_methods(client: LangGraphClient) -> None:
    """``client.http``: any route, with JSON in and out, and SSE streams."""
    thread = await client.http.post("/threads", json={"metadata": {"via": "http"}})
    thread_id = thread["thread_id"]
    fetched = await client.http.get(f"/threads/{thread_id}")
    assert fetched["metadata"]["via"] == "http"
    patched = await client.http.patch(f"/threads/{thread_id}", json={"metadata": {"n": 1}})
    assert patched["metadata"] == {**fetched["metadata"], "n": 1}
    found = await client.http.post(
        "/threads/search", json={"metadata": {"via": "http", "n": 1}}, params={"limit": 5}
    )
    assert thread_id in {t["thread_id"] for t in found}

    namespace = [f"lgbench-{uuid.uuid4().hex}"]
    assert (
        await client.http.put(
            "/store/items", json={"namespace": namespace, "key": "k", "value": {"v": 1}}
        )
        is None
    )
    item = await client.http.get("/store/items", params={"namespace": namespace[0], "key": "k"})
    assert item["value"] == {"v": 1}

    async with client.http.stream(
        f"/threads/{thread_id}/runs/stream",
        "POST",
        json={"assistant_id": "sleepy", "input": {"seconds": 0}, "stream_mode": "values"},
    ) as stream:
        parts = [part async for part in stream]
    assert parts[0].event == "metadata"
    run_id = parts[0].data["run_id"]
    assert parts[-1].data["tokens"] == [f"start:{run_id}", f"end:{run_id}"]

    await client.http.delete(f"/threads/{thread_id}")
    with pytest.raises(NotFoundError):
        await client.http.get(f"/threads/{thread_id}")
