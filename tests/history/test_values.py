"""What history lines carry per operation, and which failures are fail or info."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from lgbench.client import (
    ConflictError,
    ConnectError,
    ConnectTimeout,
    InternalServerError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    ReadTimeout,
)
from lgbench.graphs import reply_text, reply_tokens
from lgbench.history import StreamSummary, classify_error, invoke_value, ok_value


def test_run_creating_invokes_carry_the_strategy_even_when_omitted() -> None:
    value = invoke_value(
        "runs.stream",
        {"thread_id": "t", "assistant_id": "a", "stream_mode": ("values", "updates")},
    )
    assert value == {
        "thread_id": "t",
        "assistant_id": "a",
        "multitask_strategy": None,
        "stream_mode": ["values", "updates"],
        "on_disconnect": None,
        "after_seconds": None,
        "has_input": False,
    }
    with_input = invoke_value("runs.wait", {"assistant_id": "a", "input": {}})
    assert with_input["has_input"] is True
    resumed = invoke_value("runs.create", {"thread_id": "t", "command": {"resume": 1}})
    assert resumed["has_input"] is True
    cancel = invoke_value("runs.cancel", {"thread_id": "t", "run_id": "r", "action": "rollback"})
    assert cancel == {"thread_id": "t", "run_id": "r", "action": "rollback", "wait": False}
    assert invoke_value("store.put_item", {"key": "k", "value": {"big": "payload"}}) == {}


RUN = {
    "run_id": "r",
    "thread_id": "t",
    "status": "pending",
    "created_at": "c",
    "updated_at": "u",
    "multitask_strategy": "enqueue",
    "kwargs": {"input": "not kept"},
}


@pytest.mark.parametrize(
    ("operation", "arguments", "result", "expected"),
    [
        pytest.param(
            "runs.create",
            {"thread_id": "t", "assistant_id": "sleepy"},
            RUN,
            {
                "thread_id": "t",
                "assistant_id": "sleepy",
                "run_id": "r",
                "status": "pending",
                "created_at": "c",
            },
            id="runs.create",
        ),
        pytest.param(
            "runs.get",
            {"thread_id": "t", "run_id": "r"},
            RUN,
            {
                "thread_id": "t",
                "run_id": "r",
                "status": "pending",
                "created_at": "c",
                "updated_at": "u",
            },
            id="runs.get",
        ),
        pytest.param(
            "runs.list",
            {"thread_id": "t"},
            [RUN],
            {
                "thread_id": "t",
                "runs": [
                    {
                        "run_id": "r",
                        "status": "pending",
                        "created_at": "c",
                        "updated_at": "u",
                        "multitask_strategy": "enqueue",
                    }
                ],
            },
            id="runs.list",
        ),
        pytest.param(
            "threads.get",
            {"thread_id": "t"},
            {"thread_id": "t", "status": "busy", "values": {"tokens": ["x"], "big": "no"}},
            {"thread_id": "t", "status": "busy", "tokens": ["x"]},
            id="threads.get",
        ),
        pytest.param(
            "threads.get",
            {"thread_id": "t"},
            {"thread_id": "t", "status": "idle", "values": {}},
            {"thread_id": "t", "status": "idle", "tokens": None},
            id="threads.get-no-tokens",
        ),
        pytest.param(
            "threads.search",
            {"metadata": {"lgbench_burst": "b"}, "limit": 2},
            [
                {"thread_id": "t", "status": "busy", "values": {"tokens": ["x"], "big": "no"}},
                {"thread_id": "u", "status": "idle", "values": None, "metadata": {"k": 1}},
            ],
            {
                "threads": [
                    {"thread_id": "t", "status": "busy", "tokens": ["x"]},
                    {"thread_id": "u", "status": "idle", "tokens": None},
                ]
            },
            id="threads.search",
        ),
        pytest.param(
            "threads.get_state",
            {"thread_id": "t"},
            {
                "values": {"tokens": ["start:r", "end:r"], "other": 1},
                "next": ["ask"],
                "tasks": [{"interrupts": [{"value": "?"}]}],
            },
            {"thread_id": "t", "tokens": ["start:r", "end:r"], "next": ["ask"], "interrupts": 1},
            id="threads.get_state",
        ),
        pytest.param(
            "runs.wait",
            {"assistant_id": "failing"},
            {"__error__": {"error": "Boom", "message": "m"}},
            {
                "assistant_id": "failing",
                "tokens": None,
                "error": {"error": "Boom", "message": "m"},
                "has_values": False,
            },
            id="runs.wait-error",
        ),
        pytest.param(
            "runs.join",
            {"thread_id": "t", "run_id": "r"},
            {"tokens": ["start:r", "end:r"]},
            {
                "thread_id": "t",
                "run_id": "r",
                "tokens": ["start:r", "end:r"],
                "error": None,
                "has_values": True,
            },
            id="runs.join",
        ),
        pytest.param(
            "threads.create",
            {},
            {"thread_id": "t", "metadata": {"big": "x"}},
            {"thread_id": "t"},
            id="generic",
        ),
    ],
)
def test_ok_values_keep_ids_and_facts_only(
    operation: str, arguments: dict[str, Any], result: Any, expected: dict[str, Any]
) -> None:
    assert ok_value(operation, arguments, result) == expected


@pytest.mark.parametrize(
    ("operation", "exc", "expected"),
    [
        ("runs.create", ConflictError(409, {"detail": "busy"}), "fail"),  # the server said no
        # A server error: the run may have been created before it (or by the server behind
        # a proxy that answered 502).
        ("runs.wait", InternalServerError(500, {"detail": "boom"}), "info"),
        ("runs.create", InternalServerError(502, {"detail": "bad gateway"}), "info"),
        ("runs.get", InternalServerError(500, {"detail": "boom"}), "fail"),  # a read
        ("runs.create", ConnectError("refused"), "fail"),  # never sent
        ("runs.create", ConnectTimeout("slow connect"), "fail"),  # never sent
        ("runs.create", ReadTimeout("no answer"), "info"),  # may have run
        ("runs.create", NetworkError("reset"), "info"),
        ("runs.create", ProtocolError("garbage"), "info"),
        ("runs.create", RuntimeError("a bug"), "info"),
        ("runs.get", ReadTimeout("no answer"), "fail"),  # a read changes nothing
        ("runs.get", NotFoundError(404, {"detail": "gone"}), "fail"),
        ("runs.join", NetworkError("reset"), "fail"),
    ],
)
def test_fail_or_info(operation: str, exc: Exception, expected: str) -> None:
    type_, error = classify_error(operation, {}, exc)
    assert type_ == expected
    assert error["class"] == type(exc).__name__
    assert error["status"] == getattr(exc, "status_code", None)


def test_cancellation_is_info_for_writes_and_fail_for_reads() -> None:
    assert classify_error("runs.stream", {}, None, cancelled=True)[0] == "info"
    assert classify_error("runs.get", {}, None, cancelled=True)[0] == "fail"
    # Leaving a joined stream cancels the run when asked to: a write then.
    assert classify_error("runs.join_stream", {}, None, cancelled=True)[0] == "fail"
    assert (
        classify_error("runs.join_stream", {"cancel_on_disconnect": True}, None, cancelled=True)[0]
        == "info"
    )


def test_a_stream_summary_counts_after_metadata() -> None:
    summary = StreamSummary()
    summary.add("metadata", {"run_id": "r"}, 10)
    summary.add("values", {"tokens": ["start:r"]}, 20)
    summary.add("updates", {"x": 1}, 30)
    summary.add("error", {"error": "Boom"}, 40)
    value = summary.to_value({"thread_id": "t"})
    assert value == {
        "thread_id": "t",
        "run_id": "r",
        "metadata": True,
        "events": 3,
        "event_counts": {"values": 1, "updates": 1, "error": 1},
        "first_event_ns": 20,
        "last_event_ns": 40,
        "error_event": {"error": "Boom"},
        "tokens": ["start:r"],
    }


def test_a_stream_summary_folds_a_chat_reply_into_a_digest() -> None:
    tokens = reply_tokens("r", 2, 4)
    summary = StreamSummary()
    summary.add("metadata", {"run_id": "r"}, 10)
    for i, token in enumerate(tokens):
        summary.add("messages", [{"content": token, "id": "reply:r"}, {}], 20 + i)
    summary.add("messages", [{"content": "hi", "id": "user:r"}, {}], 30)
    value = summary.to_value({})
    reply = value["reply"]
    assert reply["chunks"] == 4 and reply["first"] == tokens[0]
    assert reply["sha256"] == hashlib.sha256(reply_text("r", 2, 4).encode()).hexdigest()[:32]
    assert "reply" not in StreamSummary().to_value({})
    empty = StreamSummary().to_value({})
    assert empty["metadata"] is False and empty["events"] == 0


class _ReadOnly(dict[str, Any]):
    """A mapping that is not exactly a dict: values go the general way."""


@pytest.mark.parametrize(
    "source",
    [
        {},
        {"path": "/json"},
        {"status": "ok", "value": 1234567},
        {"thread_id": "t", "limit": 3},
        {"run_id": 7, "cron_id": "c"},  # an id that is not a str is not kept
        {"assistant_id": "a", "thread_id": "t", "run_id": "r", "cron_id": "c", "x": 1},
    ],
)
def test_ids_are_the_same_for_a_dict_and_any_other_mapping(source: dict[str, Any]) -> None:
    for operation in ("http.get", "threads.get", "runs.get"):
        assert invoke_value(operation, source) == invoke_value(operation, _ReadOnly(source))
        assert ok_value(operation, source, source) == ok_value(
            operation, _ReadOnly(source), _ReadOnly(source)
        )
    kept = {k: v for k, v in source.items() if k.endswith("_id") and isinstance(v, str)}
    assert ok_value("http.get", {}, source) == kept
