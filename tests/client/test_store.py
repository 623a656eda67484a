"""``client.store``: the requests each method sends, and the real server's answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lgbench.client import LangGraphClient, get_client
from tests.client.test_assistants import Call, Recorder

pytestmark = pytest.mark.anyio

# (call, method, path, query, JSON body): what the LangGraph SDK sends for the same call.
REQUESTS = [
    pytest.param(
        lambda c: c.store.put_item(("docs", "u1"), "k", {"v": 1}),
        "PUT",
        "/store/items",
        [],
        {"namespace": ["docs", "u1"], "key": "k", "value": {"v": 1}},
        id="put_item",
    ),
    pytest.param(
        lambda c: c.store.put_item(["docs"], key="k", value={"v": 1}, index=False, ttl=5),
        "PUT",
        "/store/items",
        [],
        {"namespace": ["docs"], "key": "k", "value": {"v": 1}, "index": False, "ttl": 5},
        id="put_item-index-ttl",
    ),
    pytest.param(
        lambda c: c.store.put_item(["docs"], "k", {"v": 1}, ("title",)),
        "PUT",
        "/store/items",
        [],
        {"namespace": ["docs"], "key": "k", "value": {"v": 1}, "index": ["title"]},
        id="put_item-index-fields",
    ),
    pytest.param(
        lambda c: c.store.get_item(["docs", "u1"], "k"),
        "GET",
        "/store/items",
        [("namespace", "docs.u1"), ("key", "k")],
        None,
        id="get_item",
    ),
    pytest.param(
        lambda c: c.store.get_item(["docs"], key="k", refresh_ttl=False),
        "GET",
        "/store/items",
        [("namespace", "docs"), ("key", "k"), ("refresh_ttl", "false")],
        None,
        id="get_item-refresh_ttl",
    ),
    pytest.param(
        lambda c: c.store.delete_item(["docs"], "k"),
        "DELETE",
        "/store/items",
        [],
        {"namespace": ["docs"], "key": "k"},
        id="delete_item",
    ),
    pytest.param(
        lambda c: c.store.search_items(["docs"]),
        "POST",
        "/store/items/search",
        [],
        {"namespace_prefix": ["docs"], "limit": 10, "offset": 0},
        id="search_items",
    ),
    pytest.param(
        lambda c: c.store.search_items(("docs",), {"author": "x"}, 5, 2, "hello", True),
        "POST",
        "/store/items/search",
        [],
        {
            "namespace_prefix": ["docs"],
            "filter": {"author": "x"},
            "limit": 5,
            "offset": 2,
            "query": "hello",
            "refresh_ttl": True,
        },
        id="search_items-positional",
    ),
    pytest.param(
        lambda c: c.store.list_namespaces(),
        "POST",
        "/store/namespaces",
        [],
        {"limit": 100, "offset": 0},
        id="list_namespaces",
    ),
    pytest.param(
        lambda c: c.store.list_namespaces(prefix=("a",), suffix=["z"], max_depth=2, limit=3),
        "POST",
        "/store/namespaces",
        [],
        {"prefix": ["a"], "suffix": ["z"], "max_depth": 2, "limit": 3, "offset": 0},
        id="list_namespaces-filters",
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


@pytest.mark.parametrize(
    "namespace", [pytest.param(["a.b"], id="dotted-label"), pytest.param("ab", id="string")]
)
async def test_bad_namespace_is_refused_before_sending(namespace: Any) -> None:
    recorder = Recorder()
    async with recorder.client() as client:
        with pytest.raises((ValueError, TypeError)):
            await client.store.put_item(namespace, "k", {})
        with pytest.raises((ValueError, TypeError)):
            await client.store.get_item(namespace, "k")
    assert recorder.requests == []


def test_namespace_is_positional_only() -> None:
    import inspect

    from lgbench.client import StoreClient

    for name in ("put_item", "get_item", "delete_item"):
        parameter = inspect.signature(getattr(StoreClient, name)).parameters["namespace"]
        assert parameter.kind is inspect.Parameter.POSITIONAL_ONLY
    prefix = inspect.signature(StoreClient.search_items).parameters["namespace_prefix"]
    assert prefix.kind is inspect.Parameter.POSITIONAL_ONLY


# --- against the real server -------------------------------------------------------------


@pytest.fixture
async def client(langgraph_url: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=langgraph_url, api_key=None) as client:
        yield client


@pytest.mark.server
async def test_store_items_and_namespaces(client: LangGraphClient) -> None:
    root = f"lgbench-{uuid.uuid4().hex}"
    await client.store.put_item([root, "docs"], "one", {"title": "One", "author": "ann"})
    await client.store.put_item([root, "docs"], "two", {"title": "Two", "author": "bob"})
    await client.store.put_item([root, "notes", "deep"], "three", {"title": "Three"})

    item = await client.store.get_item([root, "docs"], "one")
    assert item is not None
    assert item["namespace"] == [root, "docs"]
    assert item["key"] == "one"
    assert item["value"] == {"title": "One", "author": "ann"}

    by_author = await client.store.search_items([root], filter={"author": "bob"})
    assert [i["key"] for i in by_author["items"]] == ["two"]
    everything = await client.store.search_items([root], limit=10)
    assert sorted(i["key"] for i in everything["items"]) == ["one", "three", "two"]

    listed = await client.store.list_namespaces(prefix=[root])
    assert sorted(listed["namespaces"]) == [[root, "docs"], [root, "notes", "deep"]]
    shallow = await client.store.list_namespaces(prefix=[root], max_depth=2)
    assert sorted(shallow["namespaces"]) == [[root, "docs"], [root, "notes"]]
    ending = await client.store.list_namespaces(prefix=[root], suffix=["deep"])
    assert ending["namespaces"] == [[root, "notes", "deep"]]

    await client.store.delete_item([root, "docs"], "one")
    assert await client.store.get_item([root, "docs"], "one") is None  # 200 null, not 404
    left = await client.store.search_items([root, "docs"])
    assert [i["key"] for i in left["items"]] == ["two"]


@pytest.mark.server
async def test_store_written_by_a_graph(client: LangGraphClient) -> None:
    root = f"lgbench-{uuid.uuid4().hex}"
    values = await client.runs.wait(
        None, "storing", input={"namespace": [root], "key": "k", "value": 7}
    )
    assert isinstance(values, dict)
    item = await client.store.get_item([root], "k")
    assert item is not None
    assert item["value"]["value"] == 7
    assert values["read"] == item["value"]
