"""The operations table against the SDK's signatures, and against lgbench's own client."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from lgbench.operations import (
    CANCEL_ACTIONS,
    DISCONNECT_MODES,
    ID_ALIASES,
    IF_NOT_EXISTS,
    MULTITASK_STRATEGIES,
    OPERATIONS,
    STREAM_MODES,
    OperationSpec,
    ParamType,
    operation_names,
)

SIGNATURES = Path(__file__).parent.parent / "data" / "workloads" / "sdk-signatures.txt"


@dataclass(frozen=True)
class _Param:
    name: str
    kind: str
    has_default: bool


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _reference() -> dict[str, tuple[list[_Param], str]]:
    """Operation name → (parameters, return annotation), from the SDK reference."""
    found: dict[str, tuple[list[_Param], str]] = {}
    resource = ""
    for line in SIGNATURES.read_text().splitlines():
        if line.startswith("#") or not line:
            continue
        if line.startswith("["):
            resource = line.strip("[]")
            continue
        match = re.fullmatch(r"([a-z_]+)\((.*)\) -> (.+)", line)
        assert match, line
        method, arguments, returns = match.groups()
        parts = _split_top_level(arguments)
        params: list[_Param] = []
        kind = "positional_or_keyword"
        for part in parts:
            if part == "/":
                params = [_Param(p.name, "positional_only", p.has_default) for p in params]
                continue
            if part == "*":
                kind = "keyword_only"
                continue
            name = part.split(":")[0].strip()
            params.append(_Param(name, kind, "=" in part))
        found[f"{resource}.{method}"] = (params, returns)
    return found


REFERENCE = _reference()


def test_every_sdk_method_is_an_operation() -> None:
    assert sorted(REFERENCE) == sorted(OPERATIONS)
    assert len(OPERATIONS) == 44


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_matches_the_sdk_signature(name: str) -> None:
    spec = OPERATIONS[name]
    params, returns = REFERENCE[name]
    assert spec.name == name == f"{spec.resource}.{spec.method}"
    # lgbench's own step options (``reconnect``) are no SDK parameters.
    assert list(spec.sdk_params) == [param.name for param in params]
    for param in params:
        mine = spec.sdk_params[param.name]
        assert mine.kind == param.kind, param.name
        assert mine.python_required == (not param.has_default), param.name
    assert spec.returns == returns
    assert spec.required <= set(spec.params)
    # A parameter a step must give has no default in Python either.
    assert all(spec.params[required].python_required for required in spec.required)


def test_expected_operation_families() -> None:
    families = {spec.resource for spec in OPERATIONS.values()}
    assert families == {"assistants", "threads", "runs", "crons", "store", "http"}
    assert {name for name in OPERATIONS if name.startswith("runs.")} == {
        f"runs.{m}"
        for m in (
            "stream",
            "create",
            "create_batch",
            "wait",
            "list",
            "get",
            "cancel",
            "join",
            "join_stream",
            "delete",
        )
    }


def test_enumerations() -> None:
    assert {
        "values",
        "messages",
        "updates",
        "events",
        "tasks",
        "checkpoints",
        "debug",
        "custom",
        "messages-tuple",
    } == STREAM_MODES
    assert {"reject", "interrupt", "rollback", "enqueue"} == MULTITASK_STRATEGIES
    assert {"cancel", "continue"} == DISCONNECT_MODES
    assert {"create", "reject"} == IF_NOT_EXISTS
    assert {"interrupt", "rollback"} == CANCEL_ACTIONS
    wait = OPERATIONS["runs.wait"].params
    assert wait["multitask_strategy"].choices == MULTITASK_STRATEGIES
    assert wait["on_disconnect"].choices == DISCONNECT_MODES
    assert wait["if_not_exists"].choices == IF_NOT_EXISTS
    assert OPERATIONS["runs.stream"].params["stream_mode"].choices == STREAM_MODES
    assert OPERATIONS["runs.cancel"].params["action"].choices == CANCEL_ACTIONS


def test_aliases_and_id_kinds() -> None:
    wait = OPERATIONS["runs.wait"]
    assert dict(wait.aliases) == {"thread": "thread_id", "assistant": "assistant_id"}
    assert wait.canonical("thread") == "thread_id"
    assert wait.canonical("thread_id") == "thread_id"
    assert wait.canonical("run") is None
    assert OPERATIONS["runs.join"].aliases["run"] == "run_id"
    assert OPERATIONS["crons.delete"].aliases["cron"] == "cron_id"
    assert wait.params["thread_id"].id_kind == "thread"
    assert wait.params["input"].id_kind is None
    for spec in OPERATIONS.values():
        for alias, long in spec.aliases.items():
            assert ID_ALIASES[alias] == long
            assert spec.params[long].type is ParamType.ID or long == "assistant_id"


def test_streaming_and_void_operations() -> None:
    streams = {name for name, spec in OPERATIONS.items() if spec.streams}
    assert streams == {"runs.stream", "runs.join_stream", "http.stream"}
    assert OPERATIONS["threads.delete"].returns_nothing
    assert not OPERATIONS["threads.create"].returns_nothing


def _client_methods() -> dict[str, inspect.Signature]:
    from lgbench.client import get_client

    client = get_client(url="http://127.0.0.1:9")
    found = {}
    for name, spec in OPERATIONS.items():
        resource = getattr(client, spec.resource, None)
        method = getattr(resource, spec.method, None)
        if method is not None:
            found[name] = inspect.signature(method)
    return found


def test_parameters_exist_in_lgbench_client() -> None:
    """Every step parameter can be passed to lgbench's client under the same name."""
    signatures = _client_methods()
    assert sorted(signatures) == sorted(OPERATIONS)
    problems = []
    for name, signature in signatures.items():
        spec: OperationSpec = OPERATIONS[name]
        for param in spec.sdk_params.values():
            theirs = signature.parameters.get(param.name)
            if theirs is None:
                problems.append(f"{name}: no parameter {param.name}")
            elif param.kind == "positional_only" and theirs.kind is theirs.KEYWORD_ONLY:
                problems.append(f"{name}: {param.name} cannot be passed positionally")
            elif param.kind == "keyword_only" and theirs.kind is theirs.POSITIONAL_ONLY:
                problems.append(f"{name}: {param.name} cannot be passed by keyword")
    assert problems == []


def test_arguments_for_a_call() -> None:
    wait = OPERATIONS["runs.wait"]
    thread = {"thread_id": "t-1", "status": "idle"}
    assert wait.arguments({"thread_id": thread, "assistant_id": "sleepy", "input": {}}) == (
        (),
        {"thread_id": "t-1", "assistant_id": "sleepy", "input": {}},
    )
    # A stateless run: the thread the call cannot omit is passed as None.
    assert wait.arguments({"assistant_id": "sleepy"}) == (
        (),
        {"thread_id": None, "assistant_id": "sleepy"},
    )
    put = OPERATIONS["store.put_item"]
    assert put.arguments({"namespace": ["a"], "key": "k", "value": {"v": 1}}) == (
        (["a"],),
        {"key": "k", "value": {"v": 1}},
    )
    join = OPERATIONS["runs.join"]
    run = {"run_id": "r-1", "thread_id": "t-1"}
    assert join.arguments({"thread_id": run, "run_id": run}) == (
        (),
        {"thread_id": "t-1", "run_id": "r-1"},
    )
    with pytest.raises(KeyError, match="stream_mode"):
        wait.arguments({"assistant_id": "a", "stream_mode": "values"})


# -- what each operation does: the flags the history, the engine and the checker ask ------


def test_reads_only_is_every_getter_searcher_and_lister_and_nothing_else() -> None:
    verbs = ("get", "search", "list", "join", "count")
    for name, spec in OPERATIONS.items():
        reading = spec.method.startswith(verbs) and not spec.streams
        assert spec.reads_only == reading, name


def test_the_operations_that_create_a_run_take_the_run_options() -> None:
    creating = {name for name, spec in OPERATIONS.items() if spec.creates_run}
    assert creating == {"runs.create", "runs.stream", "runs.wait"}
    for name in creating | {n for n, s in OPERATIONS.items() if s.schedules_runs}:
        spec = OPERATIONS[name]
        assert spec.carries_run_options and "multitask_strategy" in spec.params, name
    assert {n for n, s in OPERATIONS.items() if s.schedules_runs} == {
        "crons.create",
        "crons.create_for_thread",
    }


def test_following_a_run_means_waiting_for_it_or_streaming_it() -> None:
    following = {name for name, spec in OPERATIONS.items() if spec.follows_run}
    assert following == {"runs.wait", "runs.join", "runs.stream", "runs.join_stream"}
    assert {n for n in following if OPERATIONS[n].streams} == {"runs.stream", "runs.join_stream"}


def test_only_a_runs_streams_can_resume() -> None:
    resuming = {name for name, spec in OPERATIONS.items() if spec.can_resume}
    assert resuming == {"runs.stream", "runs.join_stream"}
    assert all(OPERATIONS[name].streams for name in resuming)


def test_what_may_change_runs_creates_cancels_or_deletes_them() -> None:
    changing = operation_names(lambda op: op.changes_runs)
    assert changing == {
        "runs.create",
        "runs.stream",
        "runs.wait",
        "runs.create_batch",
        "runs.cancel",
        "runs.delete",
        "crons.create",
        "crons.create_for_thread",
        "threads.delete",
        "assistants.delete",
        "http.post",
        "http.put",
        "http.patch",
        "http.delete",
        "http.stream",
    }
    for name, spec in OPERATIONS.items():
        if spec.creates_run or spec.schedules_runs:
            assert spec.changes_runs, name
        if spec.reads_only:
            assert not spec.changes_runs, name


def test_history_and_checker_sets_come_from_the_flags() -> None:
    from lgbench.history import READ_OPERATIONS, RUN_CREATING_OPERATIONS

    assert operation_names(lambda op: op.reads_only) == READ_OPERATIONS
    assert {
        "runs.create",
        "runs.stream",
        "runs.wait",
        "crons.create",
        "crons.create_for_thread",
    } == RUN_CREATING_OPERATIONS


def test_a_steps_choices_are_the_clients_literal_types() -> None:
    from typing import get_args

    from lgbench.client import MultitaskStrategy, StreamMode

    assert frozenset(get_args(StreamMode)) == STREAM_MODES
    assert (
        frozenset(get_args(MultitaskStrategy))
        == OPERATIONS["runs.create"].params["multitask_strategy"].choices
    )
