"""``client.assistants``: the requests each method sends, and the real server's answers.

Also home of :class:`Recorder`, the scripted MockTransport handler the other
resource test modules import.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from lgbench.client import (
    ConflictError,
    LangGraphClient,
    MockTransport,
    NotFoundError,
    Request,
    Response,
    get_client,
)
from lgbench.graphs import default_assistant_id

pytestmark = pytest.mark.anyio

Answer = Response | Callable[[Request], Response]


def json_response(body: Any, status_code: int = 200, *, prefix: bytes = b"") -> Response:
    """A JSON answer; ``prefix`` goes before the body (the server's ``\\n`` keep-alives)."""
    content = prefix + (json.dumps(body).encode() if body is not None else b"")
    return Response(status_code, {"content-type": "application/json"}, content=content)


class Recorder:
    """A MockTransport handler that records each request and answers from a script.

    Answers are used in order; when they run out, every request gets ``{}``.
    """

    def __init__(self, *answers: Answer) -> None:
        self.requests: list[Request] = []
        self._answers = list(answers)

    def handler(self, request: Request) -> Response:
        self.requests.append(request)
        if not self._answers:
            return json_response({})
        answer = self._answers.pop(0)
        return answer(request) if callable(answer) else answer

    def client(self, **kwargs: Any) -> LangGraphClient:
        kwargs.setdefault("api_key", None)
        return get_client(url="http://127.0.0.1:9", transport=MockTransport(self.handler), **kwargs)

    @staticmethod
    def decode(request: Request) -> tuple[str, str, list[tuple[str, str]], Any]:
        """(method, path, query pairs, JSON body or None) of one request."""
        target = urlsplit(request.target)
        body = json.loads(request.content) if request.content else None
        return request.method, target.path, parse_qsl(target.query, keep_blank_values=True), body

    def sent(self) -> tuple[str, str, list[tuple[str, str]], Any]:
        """What the only request sent."""
        assert len(self.requests) == 1, self.requests
        return self.decode(self.requests[0])


Call = Callable[[LangGraphClient], Any]

# (call, method, path, query, JSON body): what the LangGraph SDK sends for the same call.
REQUESTS = [
    pytest.param(
        lambda c: c.assistants.get("asst-1"), "GET", "/assistants/asst-1", [], None, id="get"
    ),
    pytest.param(
        lambda c: c.assistants.get("a/../b"),
        "GET",
        "/assistants/a%2F..%2Fb",
        [],
        None,
        id="get-quotes-id",
    ),
    pytest.param(
        lambda c: c.assistants.get(".."), "GET", "/assistants/%2E%2E", [], None, id="get-dots"
    ),
    pytest.param(
        lambda c: c.assistants.get_graph("a"),
        "GET",
        "/assistants/a/graph",
        [("xray", "false")],
        None,
        id="get_graph",
    ),
    pytest.param(
        lambda c: c.assistants.get_graph("a", xray=2),
        "GET",
        "/assistants/a/graph",
        [("xray", "2")],
        None,
        id="get_graph-xray-depth",
    ),
    pytest.param(
        lambda c: c.assistants.get_schemas("a"),
        "GET",
        "/assistants/a/schemas",
        [],
        None,
        id="get_schemas",
    ),
    pytest.param(
        lambda c: c.assistants.get_subgraphs("a"),
        "GET",
        "/assistants/a/subgraphs",
        [("recurse", "false")],
        None,
        id="get_subgraphs",
    ),
    pytest.param(
        lambda c: c.assistants.get_subgraphs("a", "child", True),
        "GET",
        "/assistants/a/subgraphs/child",
        [("recurse", "true")],
        None,
        id="get_subgraphs-namespace",
    ),
    pytest.param(
        lambda c: c.assistants.create("sleepy"),
        "POST",
        "/assistants",
        [],
        {"graph_id": "sleepy"},
        id="create-minimal",
    ),
    pytest.param(
        lambda c: c.assistants.create(
            "sleepy",
            {"configurable": {"k": 1}},
            metadata={"m": 1},
            assistant_id="x",
            if_exists="do_nothing",
            name="n",
            context={"c": 2},
            description="d",
        ),
        "POST",
        "/assistants",
        [],
        {
            "graph_id": "sleepy",
            "config": {"configurable": {"k": 1}},
            "context": {"c": 2},
            "metadata": {"m": 1},
            "assistant_id": "x",
            "if_exists": "do_nothing",
            "name": "n",
            "description": "d",
        },
        id="create-full",
    ),
    pytest.param(
        lambda c: c.assistants.update("a", metadata={"v": 2}, config={}),
        "PATCH",
        "/assistants/a",
        [],
        {"config": {}, "metadata": {"v": 2}},
        id="update",
    ),
    pytest.param(
        lambda c: c.assistants.update("a", graph_id="g", name="n", context={"c": 1}),
        "PATCH",
        "/assistants/a",
        [],
        {"graph_id": "g", "name": "n", "context": {"c": 1}},
        id="update-graph",
    ),
    pytest.param(
        lambda c: c.assistants.delete("a"), "DELETE", "/assistants/a", [], None, id="delete"
    ),
    pytest.param(
        lambda c: c.assistants.delete("a", delete_threads=True),
        "DELETE",
        "/assistants/a",
        [("delete_threads", "true")],
        None,
        id="delete-threads",
    ),
    pytest.param(
        lambda c: c.assistants.search(),
        "POST",
        "/assistants/search",
        [],
        {"limit": 10, "offset": 0},
        id="search",
    ),
    pytest.param(
        lambda c: c.assistants.search(
            metadata={"m": 1}, graph_id="g", limit=5, offset=5, select=("assistant_id",)
        ),
        "POST",
        "/assistants/search",
        [],
        {
            "limit": 5,
            "offset": 5,
            "metadata": {"m": 1},
            "graph_id": "g",
            "select": ["assistant_id"],
        },
        id="search-filters",
    ),
    pytest.param(
        lambda c: c.assistants.get_versions("a"),
        "POST",
        "/assistants/a/versions",
        [],
        {"limit": 10, "offset": 0},
        id="get_versions",
    ),
    pytest.param(
        lambda c: c.assistants.get_versions("a", {"m": 1}, 3, 1),
        "POST",
        "/assistants/a/versions",
        [],
        {"limit": 3, "offset": 1, "metadata": {"m": 1}},
        id="get_versions-positional",
    ),
    pytest.param(
        lambda c: c.assistants.set_latest("a", 3),
        "POST",
        "/assistants/a/latest",
        [],
        {"version": 3},
        id="set_latest",
    ),
    pytest.param(
        lambda c: c.assistants.get("a", params={"x": 1}, headers={"x-trace": "t"}),
        "GET",
        "/assistants/a",
        [("x", "1")],
        None,
        id="extra-params",
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


async def test_extra_headers_are_sent() -> None:
    recorder = Recorder()
    async with recorder.client(headers={"X-Client": "c"}) as client:
        await client.assistants.get("a", headers={"x-trace": "t"})
    headers = dict(recorder.requests[0].headers)
    assert headers["x-trace"] == "t"
    assert headers["x-client"] == "c"


async def test_result_is_the_servers_json() -> None:
    assistant = {"assistant_id": "a", "graph_id": "g", "metadata": {}}
    recorder = Recorder(json_response(assistant), json_response([assistant]))
    async with recorder.client() as client:
        assert await client.assistants.get("a") == assistant
        assert await client.assistants.search() == [assistant]


async def test_error_status_raises_typed_error() -> None:
    recorder = Recorder(json_response({"detail": "Assistant not found"}, 404))
    async with recorder.client() as client:
        with pytest.raises(NotFoundError) as caught:
            await client.assistants.get("missing")
    assert caught.value.status_code == 404
    assert caught.value.body == {"detail": "Assistant not found"}


async def test_none_id_is_refused_before_sending() -> None:
    recorder = Recorder()
    async with recorder.client() as client:
        with pytest.raises(TypeError):
            await client.assistants.get(None)  # type: ignore[arg-type]
    assert recorder.requests == []


# --- against the real server -------------------------------------------------------------


@pytest.fixture
async def client(langgraph_url: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=langgraph_url, api_key=None) as client:
        yield client


@pytest.mark.server
async def test_assistants_lifecycle(client: LangGraphClient) -> None:
    assistant_id = str(uuid.uuid4())
    created = await client.assistants.create(
        "sleepy",
        {"configurable": {"tag": "one"}},
        metadata={"suite": "lgbench", "id": assistant_id},
        assistant_id=assistant_id,
        name="lgbench-test",
    )
    assert created["assistant_id"] == assistant_id
    assert created["graph_id"] == "sleepy"
    assert created["name"] == "lgbench-test"

    fetched = await client.assistants.get(assistant_id)
    assert fetched["assistant_id"] == assistant_id
    assert fetched["metadata"]["suite"] == "lgbench"

    # A taken id is a conflict, unless the caller asks for the existing one.
    with pytest.raises(ConflictError):
        await client.assistants.create("sleepy", assistant_id=assistant_id)
    same = await client.assistants.create(
        "sleepy", assistant_id=assistant_id, if_exists="do_nothing"
    )
    assert same["assistant_id"] == assistant_id

    updated = await client.assistants.update(
        assistant_id, config={"configurable": {"tag": "two"}}, metadata={"round": 2}
    )
    assert updated["version"] == 2
    assert updated["metadata"]["round"] == 2
    assert updated["metadata"]["suite"] == "lgbench"  # merged, not replaced

    versions = await client.assistants.get_versions(assistant_id)
    assert sorted(v["version"] for v in versions) == [1, 2]

    back = await client.assistants.set_latest(assistant_id, 1)
    assert back["version"] == 1
    assert (await client.assistants.get(assistant_id))["config"]["configurable"]["tag"] == "one"

    found = await client.assistants.search(metadata={"id": assistant_id}, graph_id="sleepy")
    assert [a["assistant_id"] for a in found] == [assistant_id]

    await client.assistants.delete(assistant_id)
    with pytest.raises(NotFoundError):
        await client.assistants.get(assistant_id)


@pytest.mark.server
async def test_assistant_graph_and_schemas(client: LangGraphClient) -> None:
    # These routes take the assistant's UUID only (a graph id gives a 422).
    sleepy = default_assistant_id("sleepy")
    graph = await client.assistants.get_graph(sleepy)
    node_ids = {node["id"] for node in graph["nodes"]}
    assert {"__start__", "__end__"} <= node_ids
    assert graph["edges"]

    schemas = await client.assistants.get_schemas(sleepy)
    assert schemas["graph_id"] == "sleepy"
    assert set(schemas["state_schema"]["properties"]) >= {"tokens", "seconds", "slept_s"}

    parent = default_assistant_id("subgraph")
    subgraphs = await client.assistants.get_subgraphs(parent)
    assert list(subgraphs) == ["child"]
    assert "trail" in json.dumps(subgraphs["child"])
    one = await client.assistants.get_subgraphs(parent, "child", recurse=True)
    assert list(one) == ["child"]
    assert await client.assistants.get_subgraphs(sleepy) == {}


@pytest.mark.server
async def test_missing_assistant_is_not_found(client: LangGraphClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.assistants.get(str(uuid.uuid4()))
    assert caught.value.status_code == 404
