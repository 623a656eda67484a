"""The bundled graphs, through the real HTTP API of the session's embedded server."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from lgbench.graphs import (
    BUNDLED_GRAPHS,
    GRAPH_IDS,
    default_assistant_id,
    end_token,
    reply_text,
    reply_tokens,
    start_token,
)
from tests.server._support import parse_sse, wait_until

pytestmark = pytest.mark.server


def new_thread(client: httpx.Client) -> str:
    response = client.post("/threads", json={})
    response.raise_for_status()
    thread_id: str = response.json()["thread_id"]
    return thread_id


def create_run(client: httpx.Client, thread_id: str, **body: Any) -> str:
    response = client.post(f"/threads/{thread_id}/runs", json=body)
    response.raise_for_status()
    run_id: str = response.json()["run_id"]
    return run_id


def join(client: httpx.Client, thread_id: str, run_id: str) -> Any:
    response = client.get(f"/threads/{thread_id}/runs/{run_id}/join")
    response.raise_for_status()
    return response.json()


def run_status(client: httpx.Client, thread_id: str, run_id: str) -> str:
    response = client.get(f"/threads/{thread_id}/runs/{run_id}")
    response.raise_for_status()
    status: str = response.json()["status"]
    return status


def thread(client: httpx.Client, thread_id: str) -> dict[str, Any]:
    response = client.get(f"/threads/{thread_id}")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def stream(client: httpx.Client, path: str, **body: Any) -> list[tuple[str, Any]]:
    with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        return parse_sse(response.iter_lines())


def test_each_graph_has_a_default_assistant_named_after_it(client: httpx.Client) -> None:
    response = client.post("/assistants/search", json={"limit": 100})
    response.raise_for_status()
    system = {
        a["graph_id"]: a for a in response.json() if a["metadata"].get("created_by") == "system"
    }
    assert sorted(system) == list(GRAPH_IDS)
    for graph_id, assistant in system.items():
        assert assistant["assistant_id"] == default_assistant_id(graph_id)
        assert assistant["name"] == graph_id
        assert assistant["description"] == BUNDLED_GRAPHS[graph_id].description


def test_sleepy_writes_start_and_end_tokens_of_each_run(client: httpx.Client) -> None:
    thread_id = new_thread(client)
    first = create_run(client, thread_id, assistant_id="sleepy", input={"seconds": 0.05})
    values = join(client, thread_id, first)
    assert values["tokens"] == [start_token(first), end_token(first)]
    assert values["slept_s"] == 0.05
    assert run_status(client, thread_id, first) == "success"

    # No seconds in the input: the configurable value applies, not the previous run's
    # input. (An input is still needed: with none, LangGraph resumes the finished thread
    # and runs nothing.)
    second = create_run(
        client,
        thread_id,
        assistant_id="sleepy",
        input={},
        config={"configurable": {"seconds": 0.02}},
    )
    values = join(client, thread_id, second)
    assert values["slept_s"] == 0.02
    assert values["tokens"] == [
        start_token(first),
        end_token(first),
        start_token(second),
        end_token(second),
    ]
    assert "seconds" not in values


def test_sleepy_rejects_a_bad_input_as_a_run_error(client: httpx.Client) -> None:
    response = client.post(
        "/runs/wait", json={"assistant_id": "sleepy", "input": {"seconds": "soon"}}
    )
    assert response.status_code == 200
    assert response.json()["__error__"]["error"] == "ValueError"


def test_runs_on_different_threads_execute_at_the_same_time(client: httpx.Client) -> None:
    # With one job per worker (the dev server's default) these would run one by one.
    runs = []
    for _ in range(3):
        thread_id = new_thread(client)
        runs.append(
            (thread_id, create_run(client, thread_id, assistant_id="sleepy", input={"seconds": 2}))
        )

    def two_running() -> bool:
        statuses = [run_status(client, thread_id, run_id) for thread_id, run_id in runs]
        return statuses.count("running") >= 2

    wait_until(two_running, what="two sleepy runs running at once")
    for thread_id, run_id in runs:
        join(client, thread_id, run_id)
        assert run_status(client, thread_id, run_id) == "success"


def test_streamer_emits_n_events_per_stream_mode(client: httpx.Client) -> None:
    n = 4
    events = stream(
        client,
        "/runs/stream",
        assistant_id="streamer",
        input={"n": n, "gap_s": 0.01},
        stream_mode=["updates", "values", "custom", "messages-tuple"],
    )
    assert events[0][0] == "metadata"
    run_id = events[0][1]["run_id"]
    counts = Counter(name for name, _ in events)
    assert counts["updates"] == n + 2
    assert counts["values"] == n + 3
    assert counts["messages"] == n
    customs = [data for name, data in events if name == "custom"]
    assert customs == [{"i": i, "n": n, "run_id": run_id} for i in range(n)]
    assert "error" not in counts
    assert events[-1][1]["tokens"] == [start_token(run_id), end_token(run_id)]

    messages = stream(
        client, "/runs/stream", assistant_id="streamer", input={"n": n}, stream_mode="messages"
    )
    complete = [data for name, data in messages if name == "messages/complete"]
    assert [m[0]["content"] for m in complete] == [f"event {i}/{n}" for i in range(1, n + 1)]


def test_interrupting_leaves_the_thread_interrupted_until_resumed(client: httpx.Client) -> None:
    thread_id = new_thread(client)
    asked = create_run(client, thread_id, assistant_id="interrupting", input={"question": "go?"})
    values = join(client, thread_id, asked)
    assert values["tokens"] == [start_token(asked)]
    assert run_status(client, thread_id, asked) == "success"
    state = thread(client, thread_id)
    assert state["status"] == "interrupted"
    (pending,) = [i for task in state["interrupts"].values() for i in task]
    assert pending["value"] == {"question": "go?", "run_id": asked}

    resumed = create_run(
        client, thread_id, assistant_id="interrupting", command={"resume": {"ok": True}}
    )
    values = join(client, thread_id, resumed)
    assert values["answer"] == {"ok": True}
    assert values["tokens"] == [start_token(asked), start_token(resumed), end_token(resumed)]
    assert run_status(client, thread_id, resumed) == "success"
    assert thread(client, thread_id)["status"] == "idle"


def test_failing_ends_run_and_thread_in_error(client: httpx.Client) -> None:
    thread_id = new_thread(client)
    run_id = create_run(client, thread_id, assistant_id="failing", input={"message": "on cue"})
    result = join(client, thread_id, run_id)
    assert result["__error__"]["error"] == "IntentionalFailure"
    assert run_id in result["__error__"]["message"]
    assert "on cue" in result["__error__"]["message"]
    assert run_status(client, thread_id, run_id) == "error"
    state = thread(client, thread_id)
    assert state["status"] == "error"
    assert state["values"]["tokens"] == [start_token(run_id)]


def test_subgraph_is_listed_and_streams_namespaced_events(client: httpx.Client) -> None:
    assistant_id = default_assistant_id("subgraph")
    response = client.get(f"/assistants/{assistant_id}/subgraphs")
    response.raise_for_status()
    assert list(response.json()) == ["child"]

    events = stream(
        client,
        "/runs/stream",
        assistant_id="subgraph",
        input={},
        stream_mode=["updates"],
        stream_subgraphs=True,
    )
    run_id = events[0][1]["run_id"]
    nested = [data for name, data in events if name.startswith("updates|child:")]
    assert nested == [
        {"inner_a": {"trail": [f"inner_a:{run_id}"]}},
        {"inner_b": {"trail": [f"inner_b:{run_id}"]}},
    ]
    top = [data for name, data in events if name == "updates"]
    assert [list(update) for update in top] == [["begin"], ["child"], ["finish"]]


def test_storing_writes_an_item_readable_through_the_store_api(client: httpx.Client) -> None:
    namespace = ["lgbench-test", uuid.uuid4().hex]
    body = {"namespace": namespace, "key": "k", "value": {"x": 1}}
    thread_id = new_thread(client)
    first = create_run(client, thread_id, assistant_id="storing", input=body)
    values = join(client, thread_id, first)
    assert values["previous"] is None
    assert values["read"] == {"value": {"x": 1}, "run_id": first}

    response = client.get("/store/items", params={"namespace": ".".join(namespace), "key": "k"})
    response.raise_for_status()
    item = response.json()
    assert item["namespace"] == namespace
    assert item["value"] == {"value": {"x": 1}, "run_id": first}

    second = create_run(client, thread_id, assistant_id="storing", input={**body, "value": 2})
    values = join(client, thread_id, second)
    assert values["previous"] == {"value": {"x": 1}, "run_id": first}
    assert values["read"] == {"value": 2, "run_id": second}


def reply_chunks(events: list[tuple[str, Any]], run_id: str) -> list[str]:
    """The reply's tokens as the messages-tuple mode streamed them, in order."""
    return [
        data[0]["content"]
        for name, data in events
        if name == "messages" and data[0].get("id") == f"reply:{run_id}"
    ]


def test_chat_streams_its_reply_token_by_token_and_the_conversation_grows(
    client: httpx.Client,
) -> None:
    thread_id = new_thread(client)
    for turn in (1, 2, 3):
        events = stream(
            client,
            f"/threads/{thread_id}/runs/stream",
            assistant_id="chat",
            input={"message": f"turn {turn}", "reply_tokens": 4, "token_gap_s": 0.01},
            stream_mode=["messages-tuple", "values"],
        )
        run_id = events[0][1]["run_id"]
        assert reply_chunks(events, run_id) == reply_tokens(run_id, turn, 4)
        final = [data for name, data in events if name == "values"][-1]
        assert final["turn"] == turn
        assert len(final["messages"]) == 2 * turn  # the user's and the reply, each turn
        assert final["messages"][-1]["content"] == reply_text(run_id, turn, 4)
        assert final["tokens"][-2:] == [start_token(run_id), end_token(run_id)]


def test_chat_rejects_a_bad_reply_length_as_a_run_error(client: httpx.Client) -> None:
    response = client.post(
        "/runs/wait", json={"assistant_id": "chat", "input": {"reply_tokens": -1}}
    )
    response.raise_for_status()
    assert "reply_tokens" in str(response.json()["__error__"])


def test_agent_calls_tools_round_after_round_then_streams_the_answer(
    client: httpx.Client,
) -> None:
    events = stream(
        client,
        "/runs/stream",
        assistant_id="agent",
        input={"steps": 2, "tool_calls": 3, "tool_s": 0.01, "payload_bytes": 64,
               "reply_tokens": 5},
        stream_mode=["messages-tuple", "values"],
    )  # fmt: skip
    run_id = events[0][1]["run_id"]
    assert reply_chunks(events, run_id) == reply_tokens(run_id, 1, 5)
    final = [data for name, data in events if name == "values"][-1]
    kinds = [m["type"] for m in final["messages"]]
    assert kinds == ["human", "ai", "tool", "tool", "tool", "ai", "tool", "tool", "tool", "ai"]
    tools = [m for m in final["messages"] if m["type"] == "tool"]
    assert all(len(m["content"]) == 64 for m in tools)
    assert tools[0]["tool_call_id"] == f"call:{run_id}:0:0"
    assert final["round"] == 2
    assert final["tokens"] == [start_token(run_id), end_token(run_id)]


@pytest.mark.parametrize("mode", ["single", "parallel", "sequential"])
def test_fanout_writes_expand_items_of_data_size_in_each_shape(
    client: httpx.Client, mode: str
) -> None:
    thread_id = new_thread(client)
    for _ in range(2):  # the second run starts from the first one's state
        body = {"assistant_id": "fanout", "input": {"mode": mode, "expand": 5, "data_size": 80}}
        response = client.post(f"/threads/{thread_id}/runs/wait", json=body)
        response.raise_for_status()
        values = response.json()
        assert values["done"] == 5
        assert sorted(len(item) for item in values["data"]) == [80] * 5
    updates = stream(
        client,
        "/runs/stream",
        assistant_id="fanout",
        input={"mode": mode, "expand": 4},
        stream_mode="updates",
    )
    works = sum(1 for name, data in updates if name == "updates" and "work" in data)
    assert works == (1 if mode == "single" else 4)
