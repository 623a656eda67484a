"""``runs.wait(..., on_run_created=...)``: the run a wait created, from ``Content-Location``.

The values a wait returns do not name their run; langgraph-api names it in the answer's
``Content-Location`` header (``/threads/{thread_id}/runs/{run_id}``, for stateless waits
too, with the temporary thread). The public return stays the values, as in the SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from lgbench.client import (
    HttpClient,
    LangGraphClient,
    MockTransport,
    NotFoundError,
    Request,
    Response,
    RunError,
    get_client,
)
from lgbench.client._runs import RunCreateMetadata, run_metadata_from_location
from tests.client.test_assistants import Recorder, json_response

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        pytest.param("/threads/T/runs/R", ("R", "T"), id="threaded"),
        pytest.param("/runs/R", ("R", None), id="stateless-background"),
        pytest.param("/threads/T/runs/R/", ("R", "T"), id="trailing-slash"),
        pytest.param("/prefix/threads/T/runs/R", ("R", "T"), id="mount-prefix"),
        pytest.param("http://127.0.0.1:1/threads/T/runs/R?x=1#f", ("R", "T"), id="absolute"),
        pytest.param("/threads/a%2Fb/runs/r%20s", ("r s", "a/b"), id="percent-encoded"),
        pytest.param("/threads/T/runs/R/join", None, id="join-link"),
        pytest.param("/threads/T/runs/", None, id="no-run"),
        pytest.param("/threads//runs/R", None, id="empty-thread"),
        pytest.param("/threads/T", None, id="thread-only"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_location_parsing(location: str | None, expected: tuple[str, str | None] | None) -> None:
    metadata = run_metadata_from_location(location)
    if expected is None:
        assert metadata is None
    else:
        assert metadata == {"run_id": expected[0], "thread_id": expected[1]}


def located(body: Any, location: str | None) -> Response:
    response = json_response(body, prefix=b"\n")
    if location is not None:
        response.headers["content-location"] = location
    return response


async def test_wait_hands_the_run_to_on_run_created_and_returns_the_values() -> None:
    values = {"tokens": ["start:R", "end:R"]}
    recorder = Recorder(located(values, "/threads/T/runs/R"), located(values, None))
    seen: list[RunCreateMetadata] = []
    async with recorder.client() as client:
        assert await client.runs.wait("T", "a", on_run_created=seen.append) == values
        # An answer that names no run: no call, the values all the same.
        assert await client.runs.wait("T", "a", on_run_created=seen.append) == values
    assert seen == [{"run_id": "R", "thread_id": "T"}]
    # The callback is not part of the request.
    assert Recorder.decode(recorder.requests[0])[3] == {"assistant_id": "a"}


async def test_on_run_created_is_called_before_a_run_error_is_raised() -> None:
    body = {"__error__": {"error": "ValueError", "message": "boom"}}
    recorder = Recorder(located(body, "/threads/T/runs/R"))
    seen: list[RunCreateMetadata] = []
    async with recorder.client() as client:
        with pytest.raises(RunError):
            await client.runs.wait("T", "a", on_run_created=seen.append)
    assert seen == [{"run_id": "R", "thread_id": "T"}]


async def test_on_run_created_is_not_called_for_an_error_status() -> None:
    answer = Response(404, {"content-location": "/threads/T/runs/R"}, content=b'{"detail":"x"}')
    recorder = Recorder(answer)
    seen: list[RunCreateMetadata] = []
    async with recorder.client() as client:
        with pytest.raises(NotFoundError):
            await client.runs.wait("T", "a", on_run_created=seen.append)
    assert seen == []


class _Body:
    """A body that records whether it was closed unread."""

    def __init__(self) -> None:
        self.closed = False

    async def receive_some(self) -> bytes:
        raise AssertionError("the body must not be read after the hook failed")

    async def aclose(self) -> None:
        self.closed = True


async def test_a_failing_response_hook_discards_the_response() -> None:
    body = _Body()

    def handler(request: Request) -> Response:
        return Response(200, {"content-type": "application/json"}, stream=body)

    def hook(response: Response) -> None:
        raise LookupError("hook failed")

    async with HttpClient(MockTransport(handler)) as http:
        with pytest.raises(LookupError):
            await http.post("/x", json={}, on_response=hook)
    assert body.closed


# --- against the real server -------------------------------------------------------------


@pytest.fixture
async def client(langgraph_url: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=langgraph_url, api_key=None) as client:
        yield client


@pytest.mark.server
async def test_the_real_server_names_the_run_of_a_wait(client: LangGraphClient) -> None:
    async def on_thread() -> None:
        thread_id = (await client.threads.create())["thread_id"]
        seen: list[RunCreateMetadata] = []
        values = await client.runs.wait(
            thread_id, "sleepy", input={"seconds": 0}, on_run_created=seen.append
        )
        [run] = await client.runs.list(thread_id)
        assert seen == [{"run_id": run["run_id"], "thread_id": thread_id}]
        assert isinstance(values, dict)
        assert values["tokens"] == [f"start:{run['run_id']}", f"end:{run['run_id']}"]

    async def stateless() -> None:
        seen: list[RunCreateMetadata] = []
        values = await client.runs.wait(
            None, "sleepy", input={"seconds": 0}, on_run_created=seen.append
        )
        [metadata] = seen
        # A stateless wait runs on a temporary thread, which the header names too.
        assert metadata["thread_id"]
        assert isinstance(values, dict)
        assert values["tokens"] == [f"start:{metadata['run_id']}", f"end:{metadata['run_id']}"]

    async with anyio.create_task_group() as tg:
        tg.start_soon(on_thread)
        tg.start_soon(stateless)
