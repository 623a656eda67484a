"""``client.runs``: start runs (background, waited on, streamed), watch and cancel them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, Literal, final

from lgbench.client._errors import ClientError
from lgbench.client._http import QueryParams, SSEStream
from lgbench.client._resource import _compact, _listed, _path, _query, _Resource

__all__ = [
    "CancelAction",
    "DisconnectMode",
    "Durability",
    "IfNotExists",
    "MultitaskStrategy",
    "OnCompletionBehavior",
    "RunError",
    "RunStatus",
    "RunsClient",
    "StreamMode",
]

RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
#: What happens to a thread's in-flight run when a new run arrives (see SEMANTICS.md).
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
    ) -> SSEStream:
        """Create a run and stream its events; the request is sent on first iteration.

        The server sends a ``metadata`` event (with ``run_id``) first, then one
        event per stream mode and step, and ``error`` if the graph fails; the
        stream ends when the run does. Use as ``async with`` or ``aclose()`` it
        when stopping early. ``input`` and ``command`` (e.g.
        ``{"resume": value}``) are exclusive.
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
    ) -> builtins.list[dict[str, Any]] | dict[str, Any]:
        """Create a run, wait for it to end, and return the thread's final values.

        The server keeps the connection alive with newlines before the JSON
        body. A graph that raises comes back as HTTP 200 with an ``__error__``
        field: with ``raise_error`` (the default) that raises :class:`RunError`,
        otherwise the body is returned as is.
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
        body = await self._send(
            "POST", _runs_path(thread_id, "/wait"), json=payload, params=params, headers=headers
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
        ended gives the thread's *current* values (see SEMANTICS.md).
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
