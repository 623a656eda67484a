"""``client.runs``: the requests each method sends, and the real server's answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

from lgbench.client import (
    ConflictError,
    LangGraphClient,
    NotFoundError,
    Response,
    RunError,
    StreamPart,
    UnprocessableEntityError,
    get_client,
)
from tests.client.test_assistants import Call, Recorder, json_response

pytestmark = pytest.mark.anyio

# What every run-creating body carries when nothing else is set, as the SDK sends it.
STREAM_DEFAULTS = {"stream_mode": "values", "stream_subgraphs": False, "stream_resumable": False}


def sse_response(*events: tuple[str, Any]) -> Response:
    """A ``text/event-stream`` answer carrying ``events`` (name, JSON data)."""
    content = b"".join(
        f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
    )
    return Response(200, {"content-type": "text/event-stream"}, content=content)


# (call, method, path, query, JSON body): what the LangGraph SDK sends for the same call.
REQUESTS = [
    pytest.param(
        lambda c: c.runs.create("t", "a", input={"x": 1}),
        "POST",
        "/threads/t/runs",
        [],
        {"assistant_id": "a", "input": {"x": 1}, **STREAM_DEFAULTS},
        id="create",
    ),
    pytest.param(
        lambda c: c.runs.create(None, "a"),
        "POST",
        "/runs",
        [],
        {"assistant_id": "a", **STREAM_DEFAULTS},
        id="create-stateless",
    ),
    pytest.param(
        lambda c: c.runs.create(
            "t",
            "a",
            command={"resume": "yes", "goto": None},
            stream_mode=("values", "updates"),
            stream_subgraphs=True,
            metadata={"m": 1},
            config={"configurable": {"k": 1}},
            checkpoint_id="c1",
            interrupt_before="*",
            interrupt_after=("n1",),
            webhook="http://127.0.0.1:1/hook",
            multitask_strategy="interrupt",
            if_not_exists="create",
            on_completion="keep",
            after_seconds=3,
            context={"c": 1},
            durability="sync",
        ),
        "POST",
        "/threads/t/runs",
        [],
        {
            "assistant_id": "a",
            "command": {"resume": "yes"},
            "stream_mode": ["values", "updates"],
            "stream_subgraphs": True,
            "stream_resumable": False,
            "metadata": {"m": 1},
            "config": {"configurable": {"k": 1}},
            "context": {"c": 1},
            "checkpoint_id": "c1",
            "interrupt_before": "*",
            "interrupt_after": ["n1"],
            "webhook": "http://127.0.0.1:1/hook",
            "multitask_strategy": "interrupt",
            "if_not_exists": "create",
            "on_completion": "keep",
            "after_seconds": 3,
            "durability": "sync",
        },
        id="create-full",
    ),
    pytest.param(
        lambda c: c.runs.create_batch(
            [{"assistant_id": "a", "input": {"x": 1}, "metadata": None}, {"assistant_id": "b"}]
        ),
        "POST",
        "/runs/batch",
        [],
        [{"assistant_id": "a", "input": {"x": 1}}, {"assistant_id": "b"}],
        id="create_batch",
    ),
    pytest.param(
        lambda c: c.runs.wait("t", "a", input={"x": 1}),
        "POST",
        "/threads/t/runs/wait",
        [],
        {"assistant_id": "a", "input": {"x": 1}},
        id="wait",
    ),
    pytest.param(
        lambda c: c.runs.wait(
            None, "a", on_disconnect="cancel", on_completion="delete", raise_error=False
        ),
        "POST",
        "/runs/wait",
        [],
        {"assistant_id": "a", "on_disconnect": "cancel", "on_completion": "delete"},
        id="wait-stateless",
    ),
    pytest.param(
        lambda c: c.runs.list("t"),
        "GET",
        "/threads/t/runs",
        [("limit", "10"), ("offset", "0")],
        None,
        id="list",
    ),
    pytest.param(
        lambda c: c.runs.list("t", limit=2, offset=4, status="success", select=["run_id"]),
        "GET",
        "/threads/t/runs",
        [("limit", "2"), ("offset", "4"), ("status", "success"), ("select", "run_id")],
        None,
        id="list-filters",
    ),
    pytest.param(lambda c: c.runs.get("t", "r"), "GET", "/threads/t/runs/r", [], None, id="get"),
    pytest.param(
        lambda c: c.runs.cancel("t", "r"),
        "POST",
        "/threads/t/runs/r/cancel",
        [("wait", "0"), ("action", "interrupt")],
        None,
        id="cancel",
    ),
    pytest.param(
        lambda c: c.runs.cancel("t", "r", wait=True, action="rollback"),
        "POST",
        "/threads/t/runs/r/cancel",
        [("wait", "1"), ("action", "rollback")],
        None,
        id="cancel-wait-rollback",
    ),
    pytest.param(
        lambda c: c.runs.join("t", "r"), "GET", "/threads/t/runs/r/join", [], None, id="join"
    ),
    pytest.param(
        lambda c: c.runs.delete("t", "r"), "DELETE", "/threads/t/runs/r", [], None, id="delete"
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


async def test_stream_request_and_parts() -> None:
    recorder = Recorder(sse_response(("metadata", {"run_id": "r"}), ("values", {"tokens": []})))
    async with recorder.client() as client:
        stream = client.runs.stream(
            None, "a", input={"n": 1}, stream_mode=["values", "custom"], feedback_keys=("f",)
        )
        assert recorder.requests == []  # sent on first iteration only
        parts = [part async for part in stream]
    assert parts == [StreamPart("metadata", {"run_id": "r"}), StreamPart("values", {"tokens": []})]
    method, path, query, body = recorder.sent()
    assert (method, path, query) == ("POST", "/runs/stream", [])
    assert body == {
        "assistant_id": "a",
        "input": {"n": 1},
        "stream_mode": ["values", "custom"],
        "stream_subgraphs": False,
        "stream_resumable": False,
        "feedback_keys": ["f"],
    }
    assert dict(recorder.requests[0].headers)["accept"] == "text/event-stream"


async def test_stream_on_thread_posts_to_its_route() -> None:
    recorder = Recorder(sse_response(("metadata", {"run_id": "r"})))
    async with recorder.client() as client, client.runs.stream("t/1", "a") as stream:
        assert [part.event async for part in stream] == ["metadata"]
    assert recorder.sent()[:2] == ("POST", "/threads/t%2F1/runs/stream")


async def test_join_stream_request() -> None:
    recorder = Recorder(sse_response(("values", {})))
    async with recorder.client() as client:
        stream = client.runs.join_stream(
            "t",
            "r",
            cancel_on_disconnect=True,
            stream_mode=["values", "updates"],
            last_event_id="7-0",
        )
        async with stream:
            assert [part.event async for part in stream] == ["values"]
    method, path, query, body = recorder.sent()
    assert (method, path, body) == ("GET", "/threads/t/runs/r/stream", None)
    assert query == [
        ("cancel_on_disconnect", "true"),
        ("stream_mode", "values"),
        ("stream_mode", "updates"),
    ]
    assert dict(recorder.requests[0].headers)["last-event-id"] == "7-0"


async def test_join_stream_default_query() -> None:
    recorder = Recorder(sse_response())
    async with recorder.client() as client:
        assert [part async for part in client.runs.join_stream("t", "r")] == []
    assert recorder.sent()[2] == [("cancel_on_disconnect", "false")]


async def test_wait_and_join_skip_keepalives() -> None:
    values = {"tokens": ["start:r", "end:r"]}
    recorder = Recorder(
        json_response(values, prefix=b"\n\n\n"), json_response(values, prefix=b"\n")
    )
    async with recorder.client() as client:
        assert await client.runs.wait("t", "a") == values
        assert await client.runs.join("t", "r") == values


async def test_wait_raises_run_error_on_error_body() -> None:
    body = {"__error__": {"error": "ValueError", "message": "boom"}}
    recorder = Recorder(json_response(body, prefix=b"\n"), json_response(body))
    async with recorder.client() as client:
        with pytest.raises(RunError) as caught:
            await client.runs.wait("t", "a")
        assert await client.runs.wait("t", "a", raise_error=False) == body
    assert (caught.value.error, caught.value.message) == ("ValueError", "boom")
    assert caught.value.body == body
    assert str(caught.value) == "ValueError: boom"


async def test_wait_returns_a_list_body_unchanged() -> None:
    recorder = Recorder(json_response([{"a": 1}]))
    async with recorder.client() as client:
        assert await client.runs.wait(None, "a") == [{"a": 1}]


async def test_cancel_returns_none() -> None:
    recorder = Recorder(Response(202))
    async with recorder.client() as client:
        assert await client.runs.cancel("t", "r") is None


# --- against the real server -------------------------------------------------------------


@pytest.fixture
async def client(langgraph_url: str) -> AsyncIterator[LangGraphClient]:
    async with get_client(url=langgraph_url, api_key=None) as client:
        yield client


async def wait_for_status(
    client: LangGraphClient, thread_id: str, run_id: str, *statuses: str
) -> dict[str, Any]:
    """Poll the run until its status is one of ``statuses`` (runs take 0.3-1 s to start)."""
    with anyio.fail_after(30):
        while True:
            run = await client.runs.get(thread_id, run_id)
            if run["status"] in statuses:
                return run
            await anyio.sleep(0.05)


def run_tokens(run_id: str) -> list[str]:
    return [f"start:{run_id}", f"end:{run_id}"]


async def concurrently(*steps: Callable[[], Awaitable[object]]) -> None:
    """Run independent checks at once: each new run waits 0.3-1 s to be picked up."""
    async with anyio.create_task_group() as tg:
        for step in steps:
            tg.start_soon(step)


@pytest.mark.server
async def test_wait_returns_the_runs_values(client: LangGraphClient) -> None:
    async def on_thread() -> None:
        thread_id = (await client.threads.create())["thread_id"]
        values = await client.runs.wait(thread_id, "sleepy", input={"seconds": 0})
        assert isinstance(values, dict)
        [run] = await client.runs.list(thread_id)
        assert run["status"] == "success"
        assert values["tokens"] == run_tokens(run["run_id"])

    async def stateless() -> None:
        values = await client.runs.wait(None, "sleepy", input={"seconds": 0})
        assert isinstance(values, dict)
        [token_start, token_end] = values["tokens"]
        assert token_start.removeprefix("start:") == token_end.removeprefix("end:")

    await concurrently(on_thread, stateless)


@pytest.mark.server
async def test_stream_yields_metadata_then_events(client: LangGraphClient) -> None:
    async def on_thread() -> None:
        thread_id = (await client.threads.create())["thread_id"]
        async with client.runs.stream(
            thread_id,
            "streamer",
            input={"n": 3, "gap_s": 0},
            stream_mode=["values", "updates", "custom"],
        ) as stream:
            parts = [part async for part in stream]
        assert parts[0].event == "metadata"
        run_id = parts[0].data["run_id"]
        assert {part.event for part in parts[1:]} == {"values", "updates", "custom"}
        assert [part.data["i"] for part in parts if part.event == "custom"] == [0, 1, 2]
        final = [part.data for part in parts if part.event == "values"][-1]
        assert final["tokens"] == run_tokens(run_id)

    async def stateless() -> None:
        # One mode, given as a string.
        async with client.runs.stream(
            None, "streamer", input={"n": 1}, stream_mode="updates"
        ) as stream:
            modes = [part.event async for part in stream]
        assert modes[0] == "metadata"
        assert set(modes[1:]) == {"updates"}

    async def subgraphs() -> None:
        async with client.runs.stream(
            None, "subgraph", input={}, stream_mode="updates", stream_subgraphs=True
        ) as stream:
            events = [part.event async for part in stream]
        assert any(event.startswith("updates|child") for event in events)

    async def failing() -> None:
        async with client.runs.stream(None, "failing", input={}) as stream:
            parts = [part async for part in stream]
        assert parts[-1].event == "error"
        assert "IntentionalFailure" in json.dumps(parts[-1].data)

    await concurrently(on_thread, stateless, subgraphs, failing)


@pytest.mark.server
async def test_create_get_join_list_delete(client: LangGraphClient) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(
        thread_id, "sleepy", input={"seconds": 0.2}, metadata={"case": "create"}
    )
    run_id = run["run_id"]
    assert run["thread_id"] == thread_id
    assert run["status"] == "pending"
    assert run["metadata"]["case"] == "create"

    values = await client.runs.join(thread_id, run_id)
    assert values["tokens"] == run_tokens(run_id)
    assert (await client.runs.get(thread_id, run_id))["status"] == "success"
    listed = await client.runs.list(thread_id, status="success")
    assert [r["run_id"] for r in listed] == [run_id]
    assert await client.runs.list(thread_id, status="pending") == []

    await client.runs.delete(thread_id, run_id)
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, run_id)


@pytest.mark.server
async def test_join_stream_follows_a_run(client: LangGraphClient) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(
        thread_id, "streamer", input={"n": 3, "gap_s": 0.1}, stream_mode=["values", "custom"]
    )
    async with client.runs.join_stream(thread_id, run["run_id"]) as stream:
        parts = [part async for part in stream]
    custom = [part.data["i"] for part in parts if part.event == "custom"]
    assert custom == [0, 1, 2]
    final = [part.data for part in parts if part.event == "values"][-1]
    assert final["tokens"] == run_tokens(run["run_id"])
    assert (await client.runs.get(thread_id, run["run_id"]))["status"] == "success"


@pytest.mark.server
async def test_join_stream_cancel_on_disconnect(client: LangGraphClient) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(
        thread_id, "streamer", input={"n": 50, "gap_s": 0.2}, stream_mode="custom"
    )
    async with client.runs.join_stream(
        thread_id, run["run_id"], cancel_on_disconnect=True
    ) as stream:
        async for part in stream:
            if part.event == "custom":
                break  # leaving the block closes the stream: the server cancels the run
    cancelled = await wait_for_status(client, thread_id, run["run_id"], "interrupted", "success")
    assert cancelled["status"] == "interrupted"


@pytest.mark.server
async def test_cancel_interrupt_and_rollback(client: LangGraphClient) -> None:
    async def interrupt() -> None:
        thread_id = (await client.threads.create())["thread_id"]
        run = await client.runs.create(thread_id, "sleepy", input={"seconds": 30})
        # "running" comes before the first step's checkpoint: wait for the start token.
        started = [f"start:{run['run_id']}"]
        with anyio.fail_after(30):
            while True:
                state = await client.threads.get_state(thread_id)
                if state["values"].get("tokens") == started:
                    break
                await anyio.sleep(0.05)
        await client.runs.cancel(thread_id, run["run_id"])
        interrupted = await wait_for_status(client, thread_id, run["run_id"], "interrupted")
        assert interrupted["status"] == "interrupted"
        state = await client.threads.get_state(thread_id)
        assert state["values"]["tokens"] == started  # progress kept, no end token

    async def rollback() -> None:
        thread_id = (await client.threads.create())["thread_id"]
        run = await client.runs.create(thread_id, "sleepy", input={"seconds": 30})
        await wait_for_status(client, thread_id, run["run_id"], "running")
        await client.runs.cancel(thread_id, run["run_id"], wait=True, action="rollback")
        with anyio.fail_after(30):
            while True:
                try:
                    await client.runs.get(thread_id, run["run_id"])
                except NotFoundError:
                    break  # rolled back: the run is deleted
                await anyio.sleep(0.05)

    await concurrently(interrupt, rollback)


@pytest.mark.server
async def test_reject_strategy_conflicts(client: LangGraphClient) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    first = await client.runs.create(thread_id, "sleepy", input={"seconds": 30})
    with pytest.raises(ConflictError) as caught:
        await client.runs.create(
            thread_id, "sleepy", input={"seconds": 0}, multitask_strategy="reject"
        )
    assert caught.value.status_code == 409
    assert [r["run_id"] for r in await client.runs.list(thread_id)] == [first["run_id"]]
    await client.runs.cancel(thread_id, first["run_id"])
    await wait_for_status(client, thread_id, first["run_id"], "interrupted")


@pytest.mark.server
async def test_bad_payload_and_missing_thread(client: LangGraphClient) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    with pytest.raises(UnprocessableEntityError) as bad:
        await client.runs.create(thread_id, "sleepy", multitask_strategy="sideways")  # type: ignore[arg-type]
    assert bad.value.status_code == 422

    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as not_found:
        await client.runs.create(missing, "sleepy", input={"seconds": 0})
    assert not_found.value.status_code == 404
    with pytest.raises(NotFoundError):
        await client.runs.wait(missing, "sleepy", input={"seconds": 0})

    # ...unless the thread is to be created on the fly.
    created = await client.runs.wait(
        missing, "sleepy", input={"seconds": 0}, if_not_exists="create"
    )
    assert isinstance(created, dict)
    assert len(created["tokens"]) == 2
    assert (await client.threads.get(missing))["thread_id"] == missing


@pytest.mark.server
async def test_create_batch(client: LangGraphClient) -> None:
    runs = await client.runs.create_batch(
        [
            {"assistant_id": "sleepy", "input": {"seconds": 0}, "on_completion": "keep"},
            {"assistant_id": "streamer", "input": {"n": 1}, "on_completion": "keep"},
        ]
    )
    assert len(runs) == 2
    assert len({run["thread_id"] for run in runs}) == 2  # a temporary thread each
    for run in runs:
        done = await wait_for_status(client, run["thread_id"], run["run_id"], "success", "error")
        assert done["status"] == "success"
        state = await client.threads.get_state(run["thread_id"])
        assert state["values"]["tokens"] == run_tokens(run["run_id"])


@pytest.mark.server
async def test_failing_run_raises_run_error(client: LangGraphClient) -> None:
    async def raised() -> None:
        thread_id = (await client.threads.create())["thread_id"]
        with pytest.raises(RunError) as caught:
            await client.runs.wait(thread_id, "failing", input={"message": "as planned"})
        assert caught.value.error == "IntentionalFailure"
        assert "as planned" in (caught.value.message or "")
        [run] = await client.runs.list(thread_id)
        assert run["status"] == "error"

    async def returned() -> None:
        body = await client.runs.wait(None, "failing", input={}, raise_error=False)
        assert isinstance(body, dict)
        assert body["__error__"]["error"] == "IntentionalFailure"

    await concurrently(raised, returned)


@pytest.mark.server
async def test_interrupt_then_resume_with_command(client: LangGraphClient) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    first = await client.runs.wait(thread_id, "interrupting", input={"question": "go on?"})
    assert isinstance(first, dict)
    assert first["__interrupt__"][0]["value"]["question"] == "go on?"
    assert (await client.threads.get(thread_id))["status"] == "interrupted"

    resumed = await client.runs.wait(thread_id, "interrupting", command={"resume": "yes"})
    assert isinstance(resumed, dict)
    assert resumed["answer"] == "yes"
    assert (await client.threads.get(thread_id))["status"] == "idle"


@pytest.mark.server
async def test_wait_and_join_across_keepalives(client: LangGraphClient) -> None:
    """Runs longer than the server's 5 s keep-alive period: ``\\n`` comes before the JSON."""
    joined_thread = (await client.threads.create())["thread_id"]
    waited_thread = (await client.threads.create())["thread_id"]
    run = await client.runs.create(joined_thread, "sleepy", input={"seconds": 5.5})
    results: dict[str, Any] = {}

    async def join() -> None:
        results["join"] = await client.runs.join(joined_thread, run["run_id"])

    async def wait() -> None:
        results["wait"] = await client.runs.wait(waited_thread, "sleepy", input={"seconds": 5.5})

    await concurrently(join, wait)
    assert results["join"]["tokens"] == run_tokens(run["run_id"])
    assert results["wait"]["slept_s"] == 5.5
    assert len(results["wait"]["tokens"]) == 2


@pytest.mark.server
async def test_whole_surface_over_httpx(langgraph_url: str) -> None:
    """Every resource through the httpx transport (the fast one is the default above)."""
    async with get_client(url=langgraph_url, api_key=None, transport="httpx") as client:
        assert "version" in await client.http.get("/info")

        # assistants
        assistant_id = str(uuid.uuid4())
        created = await client.assistants.create(
            "sleepy", {"configurable": {"seconds": 0}}, assistant_id=assistant_id
        )
        assert created["assistant_id"] == assistant_id
        assert (await client.assistants.update(assistant_id, name="renamed"))["version"] == 2
        assert len(await client.assistants.get_versions(assistant_id)) == 2
        assert (await client.assistants.set_latest(assistant_id, 1))["version"] == 1
        assert (await client.assistants.get(assistant_id))["graph_id"] == "sleepy"
        found = await client.assistants.search(graph_id="sleepy", limit=100)
        assert assistant_id in {a["assistant_id"] for a in found}
        assert (await client.assistants.get_graph(assistant_id))["nodes"]
        assert (await client.assistants.get_schemas(assistant_id))["graph_id"] == "sleepy"
        assert await client.assistants.get_subgraphs(assistant_id) == {}

        # threads and runs
        thread_id = (await client.threads.create(metadata={"via": "httpx"}))["thread_id"]
        assert (await client.threads.get(thread_id))["metadata"]["via"] == "httpx"
        await client.threads.update(thread_id, metadata={"n": 1})
        assert [
            t["thread_id"] for t in await client.threads.search(metadata={"via": "httpx", "n": 1})
        ] == [thread_id]

        values = await client.runs.wait(thread_id, assistant_id, input={})
        assert isinstance(values, dict)
        assert len(values["tokens"]) == 2
        async with client.runs.stream(
            thread_id, assistant_id, input={}, stream_mode="updates"
        ) as stream:
            parts = [part async for part in stream]
        assert parts[0].event == "metadata"
        run = await client.runs.create(thread_id, "streamer", input={"n": 2, "gap_s": 0.1})
        async with client.runs.join_stream(thread_id, run["run_id"]) as joined:
            assert [part async for part in joined]
        assert (await client.runs.join(thread_id, run["run_id"]))["tokens"][
            -1
        ] == f"end:{run['run_id']}"
        assert (await client.runs.get(thread_id, run["run_id"]))["status"] == "success"
        assert len(await client.runs.list(thread_id)) == 3

        long_run = await client.runs.create(thread_id, "sleepy", input={"seconds": 30})
        with pytest.raises(ConflictError):
            await client.runs.create(thread_id, "sleepy", multitask_strategy="reject")
        await client.runs.cancel(thread_id, long_run["run_id"])
        await wait_for_status(client, thread_id, long_run["run_id"], "interrupted")
        await client.runs.delete(thread_id, long_run["run_id"])
        with pytest.raises(NotFoundError):
            await client.runs.get(thread_id, long_run["run_id"])

        state = await client.threads.get_state(thread_id)
        written = await client.threads.update_state(thread_id, {"tokens": ["x"]}, as_node="work")
        assert written["checkpoint"]["checkpoint_id"] != state["checkpoint"]["checkpoint_id"]
        assert (await client.threads.get_history(thread_id, limit=1))[0]["values"]["tokens"][
            -1
        ] == "x"
        copy_id = (await client.threads.copy(thread_id))["thread_id"]
        assert (await client.threads.get_state(copy_id))["values"]["tokens"][-1] == "x"

        [batch_run] = await client.runs.create_batch(
            [{"assistant_id": "sleepy", "input": {"seconds": 0}, "on_completion": "keep"}]
        )
        await wait_for_status(client, batch_run["thread_id"], batch_run["run_id"], "success")

        # crons
        cron = await client.crons.create_for_thread(thread_id, "sleepy", schedule="0 0 1 1 *")
        stateless_cron = await client.crons.create("sleepy", schedule="0 0 1 1 *")
        assert [c["cron_id"] for c in await client.crons.search(thread_id=thread_id)] == [
            cron["cron_id"]
        ]
        await client.crons.delete(cron["cron_id"])
        await client.crons.delete(stateless_cron["cron_id"])
        assert await client.crons.search(thread_id=thread_id) == []

        # store
        namespace = [f"lgbench-{uuid.uuid4().hex}", "httpx"]
        await client.store.put_item(namespace, "k", {"v": 1})
        item = await client.store.get_item(namespace, "k")
        assert item is not None
        assert item["value"] == {"v": 1}
        assert [i["key"] for i in (await client.store.search_items(namespace[:1]))["items"]] == [
            "k"
        ]
        assert (await client.store.list_namespaces(prefix=namespace[:1]))["namespaces"] == [
            namespace
        ]
        await client.store.delete_item(namespace, "k")
        assert await client.store.get_item(namespace, "k") is None

        # cleanup, and the raw routes
        await client.threads.delete(copy_id)
        await client.http.delete(f"/threads/{thread_id}")
        with pytest.raises(NotFoundError):
            await client.threads.get(thread_id)
        await client.assistants.delete(assistant_id)
        with pytest.raises(UnprocessableEntityError):
            await client.http.post("/threads", json={"thread_id": "not-a-uuid"})
