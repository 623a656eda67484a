"""The blocking client: same surface as the async one, no event loop needed by the caller."""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from lgbench.client import (
    AssistantsClient,
    ConflictError,
    CronClient,
    MockTransport,
    NotFoundError,
    Request,
    Response,
    RunError,
    RunsClient,
    StoreClient,
    StreamPart,
    SyncAssistantsClient,
    SyncCronClient,
    SyncHttpClient,
    SyncLangGraphClient,
    SyncRunsClient,
    SyncStoreClient,
    SyncThreadsClient,
    ThreadsClient,
    get_sync_client,
)
from lgbench.client._http import HttpClient
from tests.client.test_assistants import Recorder, json_response

PAIRS = [
    (SyncAssistantsClient, AssistantsClient),
    (SyncThreadsClient, ThreadsClient),
    (SyncRunsClient, RunsClient),
    (SyncCronClient, CronClient),
    (SyncStoreClient, StoreClient),
    (SyncHttpClient, HttpClient),
]


def public_methods(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if callable(value) and name[0] != "_"}


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda cls: cls.__name__)
def test_same_methods_and_signatures(sync_cls: type, async_cls: type) -> None:
    assert public_methods(sync_cls) == public_methods(async_cls) - {"aclose"}
    for name in public_methods(sync_cls):
        assert inspect.signature(getattr(sync_cls, name)) == inspect.signature(
            getattr(async_cls, name)
        ), name


class _EndlessBody:
    """A body that sends one event, then nothing until it is closed."""

    def __init__(self) -> None:
        self.sent = False
        self.closed = False

    async def receive_some(self) -> bytes:
        if not self.sent:
            self.sent = True
            return b'event: metadata\ndata: {"run_id": "r"}\n\n'
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        self.closed = True


def sse(*events: tuple[str, Any]) -> Response:
    content = b"".join(f"event: {e}\ndata: {json.dumps(d)}\n\n".encode() for e, d in events)
    return Response(200, {"content-type": "text/event-stream"}, content=content)


@pytest.fixture(params=["asyncio", "trio"])
def backend(request: pytest.FixtureRequest) -> str:
    """The sync client's own loop: asyncio by default, trio on request."""
    name: str = request.param
    return name


def sync_client(recorder: Recorder, backend: str) -> SyncLangGraphClient:
    return SyncLangGraphClient(lambda: recorder.client(), backend=backend, url="http://127.0.0.1:9")


def test_calls_block_and_return_json(backend: str) -> None:
    thread = {"thread_id": "t", "metadata": {}}
    recorder = Recorder(json_response(thread), json_response(None, 204))
    with sync_client(recorder, backend) as client:
        assert client.threads.get("t") == thread
        assert client.runs.cancel("t", "r", action="rollback") is None
    assert [Recorder.decode(r)[:3] for r in recorder.requests] == [
        ("GET", "/threads/t", []),
        ("POST", "/threads/t/runs/r/cancel", [("wait", "0"), ("action", "rollback")]),
    ]


def test_errors_cross_to_the_caller(backend: str) -> None:
    error_body = {"__error__": {"error": "ValueError", "message": "boom"}}
    recorder = Recorder(json_response({"detail": "taken"}, 409), json_response(error_body))
    with sync_client(recorder, backend) as client:
        with pytest.raises(ConflictError):
            client.threads.create(thread_id="t")
        with pytest.raises(RunError, match="ValueError: boom"):
            client.runs.wait("t", "a")


def test_stream_is_a_lazy_iterator(backend: str) -> None:
    recorder = Recorder(sse(("metadata", {"run_id": "r"}), ("values", {"tokens": []})))
    with sync_client(recorder, backend) as client:
        stream = client.runs.stream("t", "a", input={})
        assert recorder.requests == []
        assert list(stream) == [
            StreamPart("metadata", {"run_id": "r"}),
            StreamPart("values", {"tokens": []}),
        ]
        assert list(stream) == []  # exhausted stays exhausted
    assert Recorder.decode(recorder.requests[0])[:2] == ("POST", "/threads/t/runs/stream")


def test_stream_error_is_raised_by_next(backend: str) -> None:
    recorder = Recorder(json_response({"detail": "Thread not found"}, 404))
    with sync_client(recorder, backend) as client:
        stream = client.runs.join_stream("t", "r")
        with pytest.raises(NotFoundError):
            next(stream)
        with pytest.raises(StopIteration):
            next(stream)


def test_close_stops_a_stream_blocked_on_the_server(backend: str) -> None:
    body = _EndlessBody()
    recorder = Recorder(Response(200, {"content-type": "text/event-stream"}, stream=body))
    with sync_client(recorder, backend) as client:
        with client.runs.stream(None, "a") as stream:
            assert next(stream).event == "metadata"
        # Leaving the block cancelled the read pending on the server and closed the body.
        assert body.closed
        with pytest.raises(StopIteration):
            next(stream)


def test_client_close_closes_open_streams(backend: str) -> None:
    body = _EndlessBody()
    recorder = Recorder(Response(200, {"content-type": "text/event-stream"}, stream=body))
    client = sync_client(recorder, backend)
    stream = client.http.stream("/runs/stream", "POST", json={})
    assert next(stream).event == "metadata"
    client.close()
    assert body.closed
    assert list(stream) == []
    assert "closed" in repr(client)
    with pytest.raises(RuntimeError, match="closed"):
        client.threads.get("t")
    client.close()  # idempotent


def test_closing_an_unused_client_starts_nothing() -> None:
    client = get_sync_client(url="http://127.0.0.1:9", api_key=None)
    client.close()
    assert repr(client) == "<SyncLangGraphClient http://127.0.0.1:9 closed>"


def test_works_inside_another_event_loop(backend: str) -> None:
    # The portal's loop is its own: a caller already running a loop may use it from a thread.
    recorder = Recorder(json_response({"ok": True}))

    async def main() -> Any:
        with sync_client(recorder, backend) as client:
            return await anyio.to_thread.run_sync(client.http.get, "/ok")

    assert anyio.run(main) == {"ok": True}


def test_sync_client_accepts_a_built_client() -> None:
    recorder = Recorder(json_response({"ok": True}))
    with SyncLangGraphClient(recorder.client()) as client:
        assert client.http.get("/ok") == {"ok": True}
        assert isinstance(client.http.request_json("GET", "/ok"), dict)


def test_sync_transport_is_the_one_given() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return json_response([])

    with get_sync_client(
        url="http://127.0.0.1:9", api_key=None, transport=MockTransport(handler)
    ) as client:
        assert client.assistants.search() == []
    assert [r.target for r in seen] == ["/assistants/search"]


# --- against the real server -------------------------------------------------------------


@pytest.fixture
def client(langgraph_url: str) -> Iterator[SyncLangGraphClient]:
    with get_sync_client(url=langgraph_url, api_key=None) as client:
        yield client


@pytest.mark.server
def test_sync_client_against_the_server(client: SyncLangGraphClient) -> None:
    info = client.http.get("/info")
    assert "version" in info

    marker = str(uuid.uuid4())
    thread = client.threads.create(metadata={"marker": marker})
    thread_id = thread["thread_id"]
    assert client.threads.get(thread_id)["metadata"]["marker"] == marker

    values = client.runs.wait(thread_id, "sleepy", input={"seconds": 0})
    assert isinstance(values, dict)
    [run] = client.runs.list(thread_id)
    assert values["tokens"] == [f"start:{run['run_id']}", f"end:{run['run_id']}"]

    parts = list(
        client.runs.stream(thread_id, "streamer", input={"n": 2}, stream_mode=["values", "custom"])
    )
    assert parts[0].event == "metadata"
    streamed_run = parts[0].data["run_id"]
    assert [p.data["i"] for p in parts if p.event == "custom"] == [0, 1]
    assert parts[-1].data["tokens"][-2:] == [f"start:{streamed_run}", f"end:{streamed_run}"]

    # Stop a stream early: the connection is closed and the client stays usable.
    with client.runs.stream(None, "streamer", input={"n": 20, "gap_s": 0.05}) as stream:
        assert next(stream).event == "metadata"

    with pytest.raises(NotFoundError):
        client.threads.get(str(uuid.uuid4()))
    with pytest.raises(RunError, match="IntentionalFailure"):
        client.runs.wait(None, "failing", input={})

    namespace = [f"lgbench-{uuid.uuid4().hex}"]
    client.store.put_item(namespace, "k", {"v": 1})
    item = client.store.get_item(namespace, "k")
    assert item is not None
    assert item["value"] == {"v": 1}
