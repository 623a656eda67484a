"""``client.runs``: start runs (background, waited on, streamed), watch and cancel them."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Literal, TypedDict, final
from urllib.parse import unquote

import anyio

from lgbench.client._errors import ClientError, TransportError
from lgbench.client._http import QueryParams, ResponseHook, SSEStream
from lgbench.client._models import Response, StreamPart
from lgbench.client._resource import _compact, _listed, _path, _query, _Resource

__all__ = [
    "CancelAction",
    "DisconnectMode",
    "Durability",
    "IfNotExists",
    "MultitaskStrategy",
    "OnCompletionBehavior",
    "ResumableStream",
    "RunCreateMetadata",
    "RunError",
    "RunStatus",
    "RunsClient",
    "StreamMode",
    "run_metadata_from_location",
]

RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
#: What happens to a thread's in-flight run when a new run arrives (see docs/checker.md).
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
#: ``cancel``: mark the run interrupted, or delete it with its progress.
CancelAction = Literal["interrupt", "rollback"]
#: For a waiting or streaming client that goes away: cancel the run or let it go on.
DisconnectMode = Literal["cancel", "continue"]
#: For a stateless run: delete or keep the temporary thread afterwards.
OnCompletionBehavior = Literal["delete", "keep"]
#: For a run on a thread that does not exist: fail (404) or create the thread.
IfNotExists = Literal["create", "reject"]
Durability = Literal["sync", "async", "exit"]
StreamMode = Literal[
    "values",
    "messages",
    "updates",
    "events",
    "tasks",
    "checkpoints",
    "debug",
    "custom",
    "messages-tuple",
]
All = Literal["*"]


class RunError(ClientError):
    """A run ended in error: ``runs.wait`` got an ``__error__`` body (HTTP 200).

    The server reports a graph's exception inside a successful response, so
    this is raised by the client, not mapped from a status. ``error`` is the
    exception's type name, ``message`` its text, ``body`` the whole answer.
    """

    def __init__(self, error: str | None, message: str | None, body: Any) -> None:
        self.error = error
        self.message = message
        self.body = body
        super().__init__(f"{error}: {message}")


class RunCreateMetadata(TypedDict):
    """The run a request created, as its answer's ``Content-Location`` header names it.

    ``thread_id`` is None for a stateless background run (``/runs/{run_id}``); a stateless
    ``wait`` names the temporary thread it ran on.
    """

    run_id: str
    thread_id: str | None


def run_metadata_from_location(location: str | None) -> RunCreateMetadata | None:
    """The run (and thread) a ``Content-Location`` value names, or None if it names none.

    langgraph-api answers run-creating requests with ``/threads/{thread_id}/runs/{run_id}``
    or, for a stateless background run, ``/runs/{run_id}``; a mount prefix, an absolute URL
    or a query are tolerated. The ids are percent-decoded.
    """
    if not location:
        return None
    path = location.partition("?")[0].partition("#")[0].rstrip("/")
    head, found, run_id = path.rpartition("/runs/")
    if not found or not run_id or "/" in run_id:
        return None
    _, found, thread_id = head.rpartition("/threads/")
    if not found:
        thread: str | None = None
    elif thread_id and "/" not in thread_id:
        thread = unquote(thread_id)
    else:
        return None
    return {"run_id": unquote(run_id), "thread_id": thread}


def _on_run_created(callback: Callable[[RunCreateMetadata], None]) -> ResponseHook:
    """A response hook that hands ``callback`` the run the answer's headers name."""

    def hook(response: Response) -> None:
        metadata = run_metadata_from_location(response.headers.get("content-location"))
        if metadata is not None:
            callback(metadata)

    return hook


#: Reconnections an interrupted stream may try in a row, with no event in between.
_RECONNECTS: Final = 3
#: The pause before the first reconnection; it doubles after each failed one, up to the cap.
_BACKOFF_S: Final = 0.05
_MAX_BACKOFF_S: Final = 1.0
# The event ids langgraph-api hands out: "<ms>-<seq>" (in-memory runtime, Redis streams) or
# integers. Ids of these forms can be ordered, so replayed events older than the last one
# delivered are recognised.
_ORDERED_ID: Final = re.compile(r"(\d+)(?:-(\d+))?")
# Sorts before every id of those forms: "replay from the run's first event".
_FIRST_ID: Final = "0"


def _id_key(event_id: str) -> tuple[int, int] | None:
    match = _ORDERED_ID.fullmatch(event_id)
    if match is None:
        return None
    millis, sequence = match.groups()
    return int(millis), int(sequence or 0)


@final
class ResumableStream:
    """A run's event stream that reconnects, without duplicates or gaps, when its connection
    breaks: ``ResumableStream(client.runs, client.runs.stream(thread_id, ...), thread_id)``.

    ``stream`` comes from :meth:`RunsClient.stream` (then ``run_id`` is None: the
    ``metadata`` event names the run) or :meth:`RunsClient.join_stream` (pass its
    ``run_id``, and its ``last_event_id`` if it had one). ``cancel_on_disconnect`` and
    ``stream_mode`` are used when joining again: pass what the original stream had
    (``on_disconnect="cancel"`` of a new run means ``cancel_on_disconnect=True``).
    ``max_reconnects`` defaults to 3; 0 never reconnects. Iterate it like the
    :class:`~lgbench.client.SSEStream` it wraps. When reading fails with
    a :class:`~lgbench.client.TransportError` (reset, cut, read timeout between events) and
    the stream has given event ids (a run created with ``stream_resumable=True``), it joins
    the run's stream again (``GET /threads/{thread_id}/runs/{run_id}/stream`` with
    ``Last-Event-ID``), up to ``max_reconnects`` times in a row (the count starts again
    after a new event arrives), pausing ``backoff_s``, then twice that, ... (at most 1 s)
    before each try; then the last error is raised. Without event ids, a run id (from the
    ``metadata`` event) or a thread (stateless runs cannot be joined), the error is raised
    at once, as from a plain stream. An error status on reconnecting is raised as is.

    Why not simply resume after the last id: langgraph-api's in-memory runtime gives every
    event of one millisecond the same id (``"<ms>-0"``), and replays only events whose id is
    greater. So it asks for the replay from the id *before* the last one (``"0"``, the first
    event, when there is none and the stream was read from the run's start) and drops what
    it delivered already: replayed events with the last id that equal the ones delivered
    with it, in order, and events whose ordered id (``<int>-<int>`` or an integer) is older.
    The server may also send an event twice around the switch from replay to live events;
    the same checks drop those. One limit: two events with the same id and the same data,
    only the first of which had arrived, count as one.

    ``reconnects`` counts the reconnections that succeeded; ``run_id`` and ``thread_id``
    name the run. One consumer at a time; close it with ``async with`` or :meth:`aclose`.
    """

    __slots__ = (
        "_backoff_s",
        "_before_id",
        "_cancel_on_disconnect",
        "_closed",
        "_failures",
        "_from_start",
        "_group",
        "_last_id",
        "_matched",
        "_max_reconnects",
        "_resumed",
        "_runs",
        "_stream",
        "_stream_mode",
        "reconnects",
        "run_id",
        "thread_id",
    )

    def __init__(
        self,
        runs: RunsClient,
        stream: SSEStream,
        thread_id: str | None,
        run_id: str | None = None,
        *,
        max_reconnects: int | None = None,
        backoff_s: float = _BACKOFF_S,
        cancel_on_disconnect: bool = False,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        last_event_id: str | None = None,
    ) -> None:
        if max_reconnects is None:
            max_reconnects = _RECONNECTS
        if max_reconnects < 0:
            raise ValueError(f"max_reconnects must be >= 0, not {max_reconnects}")
        self._runs = runs
        self._stream = stream
        self.thread_id = thread_id
        self.run_id = run_id
        self._max_reconnects = max_reconnects
        self._backoff_s = backoff_s
        self._cancel_on_disconnect = cancel_on_disconnect
        self._stream_mode = stream_mode
        self.reconnects = 0
        self._closed = False
        # A new run's stream is read from its first event; a join starts wherever it joined.
        self._from_start = run_id is None and not last_event_id
        # The id of the last event delivered, the events delivered with it, and the id
        # before it: what a reconnection resumes from.
        self._last_id: str | None = None
        self._group: list[tuple[str, Any]] = []
        self._before_id = last_event_id or None
        # After a reconnection: how many of ``_group`` the replay has shown again.
        self._resumed = False
        self._matched = 0
        # Reconnections tried since the last event arrived.
        self._failures = 0

    def __repr__(self) -> str:
        return (
            f"<ResumableStream run={self.run_id} reconnects={self.reconnects}"
            f" {'closed' if self._closed else 'open'}>"
        )

    @property
    def last_event_id(self) -> str:
        """The id of the last event delivered (``""`` if none)."""
        return self._last_id or ""

    def __aiter__(self) -> ResumableStream:
        return self

    async def __aenter__(self) -> ResumableStream:
        await self._stream.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: close the current connection."""
        self._closed = True
        await self._stream.aclose()

    async def __anext__(self) -> StreamPart:
        while True:
            try:
                part = await self._stream.__anext__()
            except TransportError as exc:
                await self._reconnect(exc)
                continue
            event_id = part.id
            if event_id is not None:
                if self._resumed and self._delivered(part, event_id):
                    continue
                if event_id == self._last_id:
                    self._group.append((part.event, part.data))
                else:
                    if self._last_id is not None:
                        self._before_id = self._last_id
                    self._last_id = event_id
                    self._group = [(part.event, part.data)]
                    self._matched = 0
            if self.run_id is None and part.event == "metadata" and isinstance(part.data, dict):
                run_id = part.data.get("run_id")
                if isinstance(run_id, str):
                    self.run_id = run_id
            # Only a new event is progress: a replay cut before it counts as a failed try.
            self._failures = 0
            return part

    def _delivered(self, part: StreamPart, event_id: str) -> bool:
        """Whether a part that came after a reconnection was delivered already."""
        last_id = self._last_id
        if last_id is None:
            return False
        if event_id == last_id:
            item = (part.event, part.data)
            group = self._group
            for index in range(self._matched, len(group)):
                if group[index] == item:
                    self._matched = index + 1
                    return True
            return False
        key, last_key = _id_key(event_id), _id_key(last_id)
        return key is not None and last_key is not None and key < last_key

    async def _reconnect(self, error: TransportError) -> None:
        """Join the run's stream again after ``error``, or raise ``error``."""
        last_id, run_id, thread_id = self._last_id, self.run_id, self.thread_id
        if self._closed or last_id is None or run_id is None or not thread_id:
            raise error
        resume_from = self._before_id
        if resume_from is None:
            resume_from = _FIRST_ID if self._from_start and _id_key(last_id) else last_id
        while True:
            if self._failures >= self._max_reconnects:
                raise error
            delay_s = min(self._backoff_s * 2**self._failures, _MAX_BACKOFF_S)
            self._failures += 1
            await anyio.sleep(delay_s)
            stream = self._runs.join_stream(
                thread_id,
                run_id,
                cancel_on_disconnect=self._cancel_on_disconnect,
                stream_mode=self._stream_mode,
                last_event_id=resume_from,
            )
            try:
                await stream.__aenter__()
            except TransportError as exc:
                error = exc
                continue
            self._stream = stream
            self.reconnects += 1
            self._resumed = True
            self._matched = 0
            return


def _nodes(value: All | Sequence[str] | None) -> Any:
    return value if value is None or isinstance(value, str) else list(value)


def _run_payload(assistant_id: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of a run request: set options only, lists as JSON arrays."""
    payload = _compact({**options, "assistant_id": assistant_id})
    if "command" in payload:
        # A command's unset fields (goto, update, resume) are left out; an empty one is.
        if payload["command"]:
            payload["command"] = _compact(payload["command"])
        else:
            del payload["command"]
    for key in ("interrupt_before", "interrupt_after"):
        if key in payload:
            payload[key] = _nodes(payload[key])
    for key in ("stream_mode", "feedback_keys"):
        if key in payload:
            payload[key] = _listed(payload[key])
    return payload


def _runs_path(thread_id: str | None, suffix: str) -> str:
    """``/threads/{id}/runs{suffix}`` for a thread, ``/runs{suffix}`` for a stateless run."""
    if thread_id is None:
        return f"/runs{suffix}"
    return _path("/threads/{}/runs", thread_id) + suffix


@final
class RunsClient(_Resource):
    """Runs: one invocation of an assistant, on a thread or stateless (``thread_id=None``).

    Every method accepts ``headers`` (added to this request) and ``params``
    (extra query parameters); results are the server's JSON as plain dicts, and
    streams yield :class:`~lgbench.client.StreamPart` (``event``, ``data``, ``id``).
    """

    __slots__ = ()

    def stream(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Mapping[str, Any] | None = None,
        command: Mapping[str, Any] | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        after_seconds: int | None = None,
        stream_resumable: bool = False,
        context: Mapping[str, Any] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        langsmith_tracing: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
        on_run_created: Callable[[RunCreateMetadata], None] | None = None,
    ) -> SSEStream:
        """Create a run and stream its events; the request is sent on first iteration.

        The server sends a ``metadata`` event (with ``run_id``) first, then one
        event per stream mode and step, and ``error`` if the graph fails; the
        stream ends when the run does. Use as ``async with`` or ``aclose()`` it
        when stopping early. ``input`` and ``command`` (e.g.
        ``{"resume": value}``) are exclusive. ``on_run_created``, as for
        :meth:`wait`, is handed the run (and thread) the answer's
        ``Content-Location`` header names once the headers arrive: the run is
        known even when the stream carries no event at all.
        """
        payload = _run_payload(
            assistant_id,
            {
                "input": input,
                "command": command,
                "config": config,
                "context": context,
                "metadata": metadata,
                "stream_mode": stream_mode,
                "stream_subgraphs": stream_subgraphs,
                "stream_resumable": stream_resumable,
                "interrupt_before": interrupt_before,
                "interrupt_after": interrupt_after,
                "feedback_keys": feedback_keys,
                "webhook": webhook,
                "checkpoint": checkpoint,
                "checkpoint_id": checkpoint_id,
                "multitask_strategy": multitask_strategy,
                "if_not_exists": if_not_exists,
                "on_disconnect": on_disconnect,
                "on_completion": on_completion,
                "after_seconds": after_seconds,
                "durability": durability,
                "strict_resume": strict_resume,
                "langsmith_tracer": langsmith_tracing,
            },
        )
        return self.http.stream(
            _runs_path(thread_id, "/stream"),
            "POST",
            json=payload,
            params=params,
            headers=headers,
            on_response=None if on_run_created is None else _on_run_created(on_run_created),
        )

    async def create(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Mapping[str, Any] | None = None,
        command: Mapping[str, Any] | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        on_completion: OnCompletionBehavior | None = None,
        after_seconds: int | None = None,
        stream_resumable: bool = False,
        context: Mapping[str, Any] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        langsmith_tracing: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Create a background run; returns it (status ``pending``) without waiting.

        Raises :class:`~lgbench.client.ConflictError` under ``multitask_strategy="reject"``
        when the thread has a run in flight.
        """
        payload = _run_payload(
            assistant_id,
            {
                "input": input,
                "command": command,
                "stream_mode": stream_mode,
                "stream_subgraphs": stream_subgraphs,
                "stream_resumable": stream_resumable,
                "config": config,
                "context": context,
                "metadata": metadata,
                "interrupt_before": interrupt_before,
                "interrupt_after": interrupt_after,
                "webhook": webhook,
                "checkpoint": checkpoint,
                "checkpoint_id": checkpoint_id,
                "multitask_strategy": multitask_strategy,
                "if_not_exists": if_not_exists,
                "on_completion": on_completion,
                "after_seconds": after_seconds,
                "durability": durability,
                "strict_resume": strict_resume,
                "langsmith_tracer": langsmith_tracing,
            },
        )
        # An empty thread id means stateless here, as in the SDK.
        return await self._object(
            "POST", _runs_path(thread_id or None, ""), json=payload, params=params, headers=headers
        )

    async def create_batch(
        self,
        payloads: Sequence[Mapping[str, Any]],
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Create several stateless background runs at once; returns them in order.

        Each payload has the keyword arguments of :meth:`create` (``assistant_id``,
        ``input``, ...); unset (None) keys are left out.
        """
        return await self._objects(
            "POST",
            "/runs/batch",
            json=[_compact(payload) for payload in payloads],
            params=params,
            headers=headers,
        )

    async def wait(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Mapping[str, Any] | None = None,
        command: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        after_seconds: int | None = None,
        raise_error: bool = True,
        context: Mapping[str, Any] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        langsmith_tracing: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
        on_run_created: Callable[[RunCreateMetadata], None] | None = None,
    ) -> builtins.list[dict[str, Any]] | dict[str, Any]:
        """Create a run, wait for it to end, and return the thread's final values.

        The server keeps the connection alive with newlines before the JSON
        body. A graph that raises comes back as HTTP 200 with an ``__error__``
        field: with ``raise_error`` (the default) that raises :class:`RunError`,
        otherwise the body is returned as is.

        The values do not say which run produced them: ``on_run_created``, as in the
        SDK, is called with the run's id (and thread's) from the answer's
        ``Content-Location`` header as soon as the headers arrive, before the run ends;
        it is not called when the answer names no run.
        """
        payload = _run_payload(
            assistant_id,
            {
                "input": input,
                "command": command,
                "config": config,
                "context": context,
                "metadata": metadata,
                "interrupt_before": interrupt_before,
                "interrupt_after": interrupt_after,
                "webhook": webhook,
                "checkpoint": checkpoint,
                "checkpoint_id": checkpoint_id,
                "multitask_strategy": multitask_strategy,
                "if_not_exists": if_not_exists,
                "on_disconnect": on_disconnect,
                "on_completion": on_completion,
                "after_seconds": after_seconds,
                "durability": durability,
                "strict_resume": strict_resume,
                "langsmith_tracer": langsmith_tracing,
            },
        )
        body = await self.http.request_json(
            "POST",
            _runs_path(thread_id, "/wait"),
            json=payload,
            params=params or None,
            headers=headers,
            on_response=None if on_run_created is None else _on_run_created(on_run_created),
        )
        if raise_error and isinstance(body, dict) and isinstance(body.get("__error__"), dict):
            error = body["__error__"]
            raise RunError(error.get("error"), error.get("message"), body)
        result: builtins.list[dict[str, Any]] | dict[str, Any] = body
        return result

    async def list(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        offset: int = 0,
        status: RunStatus | None = None,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """The thread's runs, newest first (only those with ``status``, if given)."""
        return await self._objects(
            "GET",
            _path("/threads/{}/runs", thread_id),
            query={"limit": limit, "offset": offset, "status": status, "select": _listed(select)},
            params=params,
            headers=headers,
        )

    async def get(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """The run ``run_id`` of thread ``thread_id`` (its ``status`` included)."""
        return await self._object(
            "GET", _path("/threads/{}/runs/{}", thread_id, run_id), params=params, headers=headers
        )

    async def cancel(
        self,
        thread_id: str,
        run_id: str,
        *,
        wait: bool = False,
        action: CancelAction = "interrupt",
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> None:
        """Cancel a pending or running run.

        ``action="interrupt"`` marks it ``interrupted`` and keeps its progress;
        ``"rollback"`` deletes it. With ``wait`` the answer comes once the run has ended.
        """
        await self._nothing(
            "POST",
            _path("/threads/{}/runs/{}/cancel", thread_id, run_id),
            query={"wait": 1 if wait else 0, "action": action},
            params=params,
            headers=headers,
        )

    async def join(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Wait for the run to end; returns the thread's values then (or its ``__error__``).

        Newline keep-alives before the body are expected. A join after the run
        ended gives the thread's *current* values (see docs/checker.md).
        """
        return await self._object(
            "GET",
            _path("/threads/{}/runs/{}/join", thread_id, run_id),
            params=params,
            headers=headers,
        )

    def join_stream(
        self,
        thread_id: str,
        run_id: str,
        *,
        cancel_on_disconnect: bool = False,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        last_event_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> SSEStream:
        """Stream a run's events from now until it ends (earlier events are not replayed
        unless the run is resumable and ``last_event_id`` is given).

        ``cancel_on_disconnect`` cancels the run if this stream is closed early;
        ``stream_mode`` picks a subset of the modes the run was created with.
        """
        request_headers = dict(headers or {})
        if last_event_id:
            request_headers = {"last-event-id": last_event_id, **request_headers}
        return self.http.stream(
            _path("/threads/{}/runs/{}/stream", thread_id, run_id),
            "GET",
            params=_query(
                {"cancel_on_disconnect": cancel_on_disconnect, "stream_mode": _listed(stream_mode)},
                params,
            ),
            headers=request_headers or None,
        )

    async def delete(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> None:
        """Delete a run that has ended (a run in flight gives a 409)."""
        await self._nothing(
            "DELETE",
            _path("/threads/{}/runs/{}", thread_id, run_id),
            params=params,
            headers=headers,
        )
