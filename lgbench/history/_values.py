"""What the history keeps of an operation: ids and facts, never whole payloads.

:func:`invoke_value` and :func:`ok_value` build the ``value`` of ``invoke`` and ``ok`` lines
from an operation's arguments and result (docs/history.md lists the fields per operation);
:func:`classify_error` decides whether an exception means ``fail`` (the operation certainly
did not take effect) or ``info`` (it may have), and builds the ``error`` object;
:class:`StreamSummary` folds a stream's events into counts, first/last times and the tokens
of the last ``values`` event as they arrive.

Pure: no clock, no I/O. Times in a :class:`StreamSummary` are whatever the caller passes
(the runner passes nanoseconds since the run's start).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, TypeAlias, final

from lgbench.client import (
    ApiError,
    ConnectError,
    ConnectTimeout,
    RunError,
    TimeoutError,
    TransportError,
)
from lgbench.history._writer import CompletionType
from lgbench.operations import operation_names

__all__ = [
    "READ_OPERATIONS",
    "RUN_CREATING_OPERATIONS",
    "ErrorKind",
    "StreamSummary",
    "classify_error",
    "error_kind",
    "invoke_value",
    "ok_value",
    "tenancy_invoke",
    "tenancy_ok",
    "tokens_of",
]

#: Operations that change nothing on the server: an unknown outcome of one of them is a
#: ``fail`` (it cannot have taken effect), as Jepsen downgrades idempotent reads.
READ_OPERATIONS: Final = operation_names(lambda op: op.reads_only)

#: Operations that create runs: their invoke lines carry the run options the checker needs.
RUN_CREATING_OPERATIONS: Final = operation_names(lambda op: op.carries_run_options)

#: Operations whose answer is the run (or cron) they created: its id, status and time.
_CREATING_ANSWERS: Final = operation_names(
    lambda op: (op.creates_run and not op.follows_run) or op.schedules_runs
)
#: Operations that answer with one run's result as a whole (a wait, a join).
_WHOLE_RESULTS: Final = operation_names(lambda op: op.follows_run and not op.streams)

_ID_KEYS: Final = ("thread_id", "assistant_id", "run_id", "cron_id")
_ID_KEY_SET: Final = frozenset(_ID_KEYS)
_RUN_OPTIONS: Final = ("multitask_strategy", "stream_mode", "on_disconnect", "after_seconds")
_MESSAGE_CHARS: Final = 300

#: The kinds errors are counted by in the summary.
ErrorKind: TypeAlias = Literal["http", "transport", "timeout", "cancelled", "run", "other"]


def _is_read(operation: str, arguments: Mapping[str, Any]) -> bool:
    if operation == "runs.join_stream":
        # Leaving a joined stream cancels the run when asked to: then it is a write.
        return not arguments.get("cancel_on_disconnect")
    return operation in READ_OPERATIONS


def _ids(source: Mapping[str, Any]) -> dict[str, Any]:
    # Most arguments and answers name no id at all (a plain GET's): one set test says so.
    if type(source) is dict and source.keys().isdisjoint(_ID_KEY_SET):
        return {}
    ids: dict[str, Any] = {}
    for key in _ID_KEYS:
        item = source.get(key)
        if isinstance(item, str):
            ids[key] = item
    return ids


def invoke_value(operation: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The ``value`` of an invoke line: the ids addressed, and run or cancel options.

    ``arguments`` are the call's keyword arguments (ids already resolved to strings).
    Run-creating operations always carry ``multitask_strategy`` (``None`` when the call
    left it out, so the server's default applies), ``stream_mode``, ``on_disconnect``,
    ``after_seconds`` and ``has_input`` (an input or a command was sent); ``runs.cancel``
    carries ``action`` and ``wait``.
    """
    value = _ids(arguments)
    if operation in RUN_CREATING_OPERATIONS:
        for key in _RUN_OPTIONS:
            option = arguments.get(key)
            value[key] = list(option) if isinstance(option, list | tuple) else option
        # A run with neither input nor command resumes its thread and may execute nothing:
        # the checker holds only runs that had work to do to returning values.
        value["has_input"] = (
            arguments.get("input") is not None or arguments.get("command") is not None
        )
    elif operation == "runs.cancel":
        value["action"] = arguments.get("action")
        value["wait"] = bool(arguments.get("wait", False))
    elif operation == "runs.join_stream":
        value["cancel_on_disconnect"] = bool(arguments.get("cancel_on_disconnect", False))
    return value


def tokens_of(values: Any) -> list[str] | None:
    """The bundled graphs' ``tokens`` list in a state's values, or ``None`` if absent."""
    if isinstance(values, Mapping):
        tokens = values.get("tokens")
        if isinstance(tokens, list) and all(isinstance(token, str) for token in tokens):
            return list(tokens)
    return None


def _run_facts(run: Any, *, with_strategy: bool = False) -> dict[str, Any]:
    if not isinstance(run, Mapping):
        return {}
    facts = {
        "run_id": run.get("run_id"),
        "status": run.get("status"),
        "created_at": run.get("created_at"),
        "updated_at": run.get("updated_at"),
    }
    if with_strategy:
        facts["multitask_strategy"] = run.get("multitask_strategy")
    return facts


def _error_body(body: Any) -> Any:
    if isinstance(body, Mapping) and body.get("__error__") is not None:
        return body["__error__"]
    return None


def _interrupt_count(state: Mapping[str, Any]) -> int:
    interrupts = state.get("interrupts")
    if isinstance(interrupts, Sequence) and not isinstance(interrupts, str):
        return len(interrupts)
    count = 0
    for task in state.get("tasks") or ():
        if isinstance(task, Mapping):
            count += len(task.get("interrupts") or ())
    return count


def ok_value(operation: str, arguments: Mapping[str, Any], result: Any) -> dict[str, Any]:
    """The ``value`` of an ok line for a non-stream operation (streams: :class:`StreamSummary`).

    See docs/history.md: run-creating operations give the run's ids, status and creation
    time; ``runs.get`` its status and times; ``runs.list`` every run's; ``threads.get`` the
    thread's status and the tokens of its values, ``threads.search`` the same for every
    thread it found (``threads``); ``threads.get_state`` the tokens, ``next``
    and the interrupt count;
    ``runs.wait``/``runs.join`` the tokens, the ``__error__`` body and whether values came
    back. Anything else keeps only the ids it addressed or returned.

    A wait's values do not name its run: the caller passes the run id its answer's
    ``Content-Location`` named as ``arguments["run_id"]`` (the engine does), and it is
    kept like any addressed id.
    """
    # One lookup instead of a comparison per kind: this runs once per request.
    return _OK_VALUES.get(operation, _ids_addressed_and_returned)(_ids(arguments), result)


def _ids_addressed_and_returned(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    if type(result) is dict or isinstance(result, Mapping):
        return {**addressed, **_ids(result)}
    return addressed


def _created(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    if not isinstance(result, Mapping):
        return addressed
    value = {**addressed, **_ids(result)}
    value["status"] = result.get("status")
    value["created_at"] = result.get("created_at")
    return value


def _run_read(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    return {**addressed, **_run_facts(result)}


def _runs_listed(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    runs = result if isinstance(result, list) else []
    return {**addressed, "runs": [_run_facts(run, with_strategy=True) for run in runs]}


def _batch_created(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    runs = result if isinstance(result, list) else []
    return {
        "runs": [
            {**_ids(run), "status": run.get("status"), "created_at": run.get("created_at")}
            for run in runs
            if isinstance(run, Mapping)
        ]
    }


def _thread_read(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    thread = result if isinstance(result, Mapping) else {}
    # The thread's values hold the bundled graphs' tokens: kept (ids only, never the
    # rest of the values) so that a thread read counts as a read of its state.
    return {
        **addressed,
        "status": thread.get("status"),
        "tokens": tokens_of(thread.get("values")),
    }


def _threads_found(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    # Each thread found is a thread read, as threads.get records one: its status and
    # the tokens of its values (one answer can be the read-back of a whole burst).
    found = result if isinstance(result, list) else []
    return {
        **addressed,
        "threads": [
            {
                "thread_id": thread.get("thread_id"),
                "status": thread.get("status"),
                "tokens": tokens_of(thread.get("values")),
            }
            for thread in found
            if isinstance(thread, Mapping)
        ],
    }


def _state_read(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    state = result if isinstance(result, Mapping) else {}
    nodes = state.get("next")
    return {
        **addressed,
        "tokens": tokens_of(state.get("values")),
        "next": list(nodes) if isinstance(nodes, list | tuple) else [],
        "interrupts": _interrupt_count(state),
    }


def _whole_result(addressed: dict[str, Any], result: Any) -> dict[str, Any]:
    error = _error_body(result)
    return {
        **addressed,
        "tokens": tokens_of(result),
        "error": error,
        "has_values": bool(result) and error is None,
    }


_OkValue: TypeAlias = Callable[[dict[str, Any], Any], dict[str, Any]]
#: How an operation's ok value is made from the ids it addressed and its answer; any
#: operation not named here keeps the ids it addressed or got back.
_OK_VALUES: Final[dict[str, _OkValue]] = {
    **dict.fromkeys(_CREATING_ANSWERS, _created),
    **dict.fromkeys(_WHOLE_RESULTS, _whole_result),
    "runs.get": _run_read,
    "runs.list": _runs_listed,
    "runs.create_batch": _batch_created,
    "threads.get": _thread_read,
    "threads.search": _threads_found,
    "threads.get_state": _state_read,
}


#: At most this many resources of one search answer are named in its ok line.
MAX_FOUND: Final = 200
_SEARCH_IDS: Final = {
    "threads.search": "thread_id",
    "assistants.search": "assistant_id",
    "crons.search": "cron_id",
}
_STORE_PLACES: Final = ("namespace", "namespace_prefix", "prefix", "key")


def tenancy_invoke(operation: str, arguments: Mapping[str, Any], user: str) -> dict[str, Any]:
    """What an invoke line of a user's operation adds (docs/history.md): the user's label and,
    for the store, the namespace (or prefix) and key addressed."""
    extra: dict[str, Any] = {"user": user}
    if operation.startswith("store."):
        for name in _STORE_PLACES:
            place = arguments.get(name)
            if isinstance(place, str):
                extra[name] = place
            elif isinstance(place, list | tuple):
                extra[name] = [str(part) for part in place]
    return extra


def _owner(item: Any, owner_key: str) -> str | None:
    metadata = item.get("metadata") if isinstance(item, Mapping) else None
    owner = metadata.get(owner_key) if isinstance(metadata, Mapping) else None
    return owner if isinstance(owner, str) else None


def tenancy_ok(operation: str, result: Any, owner_key: str) -> dict[str, Any]:
    """What an ok line of a user's operation adds: the ``owner`` the answer names (its
    metadata's ``owner_key``), and for searches what they ``found`` (ids; store items as
    ``[namespace, key]``; namespaces), at most :data:`MAX_FOUND` of them."""
    extra: dict[str, Any] = {}
    owner = _owner(result, owner_key)
    if owner is not None:
        extra["owner"] = owner
    id_key = _SEARCH_IDS.get(operation)
    found: list[Any] | None = None
    if id_key is not None and isinstance(result, list):
        found = [
            item[id_key]
            for item in result[:MAX_FOUND]
            if isinstance(item, Mapping) and isinstance(item.get(id_key), str)
        ]
    elif operation == "store.search_items" and isinstance(result, Mapping):
        items = result.get("items")
        found = [
            [list(item["namespace"]), item.get("key")]
            for item in (items if isinstance(items, list) else [])[:MAX_FOUND]
            if isinstance(item, Mapping) and isinstance(item.get("namespace"), list | tuple)
        ]
    elif operation == "store.list_namespaces" and isinstance(result, Mapping):
        spaces = result.get("namespaces")
        found = [
            list(space)
            for space in (spaces if isinstance(spaces, list) else [])[:MAX_FOUND]
            if isinstance(space, list | tuple)
        ]
    elif operation == "store.get_item" and isinstance(result, Mapping):
        found = [[list(result.get("namespace") or []), result.get("key")]]
    if found is not None:
        extra["found"] = found
    return extra


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


def error_kind(exc: BaseException | None, *, cancelled: bool = False) -> ErrorKind:
    """The summary's error kind: ``http``, ``timeout``, ``transport``, ``run``,
    ``cancelled`` or ``other``."""
    if cancelled:
        return "cancelled"
    if isinstance(exc, ApiError):
        return "http"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, TransportError):
        return "transport"
    if isinstance(exc, RunError):
        return "run"
    return "other"


def classify_error(
    operation: str,
    arguments: Mapping[str, Any],
    exc: BaseException | None,
    *,
    cancelled: bool = False,
) -> tuple[CompletionType, dict[str, Any]]:
    """``fail`` or ``info`` for an operation that raised ``exc`` (or was cancelled).

    - ``fail``: an HTTP 4xx answer (the server said no), a connection that could not be
      opened (refused, connect timeout: nothing was sent), or any failure of a read.
    - ``info``: a write whose request may have reached the server: an HTTP 5xx answer (it
      may have taken effect before the error), timeouts, resets and protocol errors after
      sending, cancellation while in flight, unexpected errors.

    The ``error`` object is ``{"class", "status", "message"}`` (``status`` null unless the
    server answered).
    """
    if cancelled:
        error: dict[str, Any] = {
            "class": "Cancelled",
            "status": None,
            "message": "cancelled while in flight",
        }
    else:
        assert exc is not None
        status = exc.status_code if isinstance(exc, ApiError) else None
        error = {"class": type(exc).__name__, "status": status, "message": _message(exc)}
    if isinstance(exc, ApiError) and exc.status_code >= 500 and not _is_read(operation, arguments):
        # A server error to a write proves nothing was done: a run may have been created
        # before the error (or a proxy in front answered for a request it had forwarded).
        return "info", error
    if isinstance(exc, ApiError | ConnectError | ConnectTimeout):
        return "fail", error
    if _is_read(operation, arguments):
        return "fail", error
    return "info", error


@final
class StreamSummary:
    """A stream's events folded as they arrive (``value`` of its ok line).

    Call :meth:`add` for each event with its arrival time; :meth:`to_value` gives
    ``run_id`` (from ``metadata``), ``events`` (after ``metadata``), ``event_counts``,
    ``first_event_ns``/``last_event_ns``, ``error_event``, ``tokens`` (of the last
    ``values`` event) and, when the stream carried a chat graph's reply (``messages``
    chunks of id ``reply:<run_id>``), ``reply``: its chunk count, first chunk and a digest of
    the chunks joined; plus ``stream_events`` when ``keep_events``.
    """

    __slots__ = (
        "error_event",
        "event_counts",
        "events",
        "first_event_ns",
        "keep_events",
        "kept",
        "last_event_ns",
        "last_values",
        "metadata_ns",
        "reply_chunks",
        "reply_digest",
        "reply_first",
        "run_id",
    )

    def __init__(self, *, keep_events: bool = False) -> None:
        self.keep_events = keep_events
        self.run_id: str | None = None
        self.metadata_ns: int | None = None
        self.events = 0
        self.event_counts: dict[str, int] = {}
        self.first_event_ns: int | None = None
        self.last_event_ns: int | None = None
        self.error_event: Any = None
        self.last_values: Any = None
        self.kept: list[list[Any]] = []
        # The chat graphs' reply as streamed (messages-tuple chunks of id reply:<run_id>):
        # folded into a digest as it arrives, so a long reply costs no memory.
        self.reply_chunks = 0
        self.reply_digest: Any = None
        self.reply_first: str | None = None

    def add(self, event: str, data: Any, at_ns: int) -> None:
        """One event, arrived at ``at_ns``."""
        if self.keep_events:
            self.kept.append([event, data])
        if event == "metadata" and self.metadata_ns is None and self.events == 0:
            self.metadata_ns = at_ns
            if isinstance(data, Mapping) and isinstance(data.get("run_id"), str):
                self.run_id = data["run_id"]
            return
        self.events += 1
        self.event_counts[event] = self.event_counts.get(event, 0) + 1
        if self.first_event_ns is None:
            self.first_event_ns = at_ns
        self.last_event_ns = at_ns
        if event == "error":
            self.error_event = data
        elif event == "values":
            self.last_values = data
        elif event == "messages" and isinstance(data, list) and data:
            chunk = data[0]
            if isinstance(chunk, Mapping) and str(chunk.get("id", "")).startswith("reply:"):
                self._reply(chunk.get("content"))

    def _reply(self, content: Any) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        if self.reply_digest is None:
            self.reply_digest = hashlib.sha256()
            self.reply_first = text[:64]
        self.reply_digest.update(text.encode())
        self.reply_chunks += 1

    def to_value(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The ok line's ``value``."""
        value: dict[str, Any] = {
            **_ids(arguments),
            "run_id": self.run_id or arguments.get("run_id"),
            "metadata": self.metadata_ns is not None,
            "events": self.events,
            "event_counts": dict(self.event_counts),
            "first_event_ns": self.first_event_ns,
            "last_event_ns": self.last_event_ns,
            "error_event": self.error_event,
            "tokens": tokens_of(self.last_values),
        }
        if self.reply_digest is not None:
            value["reply"] = {
                "chunks": self.reply_chunks,
                "first": self.reply_first,
                "sha256": self.reply_digest.hexdigest()[:32],
            }
        if self.keep_events:
            value["stream_events"] = self.kept
        return value
