"""``client.threads``: threads, which hold a graph's state across runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, final

from lgbench.client._http import QueryParams
from lgbench.client._resource import (
    OnConflictBehavior,
    SortOrder,
    _compact,
    _listed,
    _path,
    _Resource,
)

__all__ = ["ThreadStatus", "ThreadsClient"]

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]


def _ttl(ttl: int | float | Mapping[str, Any] | None) -> Any:
    # A bare number is minutes until deletion, the server's default strategy.
    if isinstance(ttl, int | float):
        return {"ttl": ttl, "strategy": "delete"}
    return ttl


def _before(before: str | Mapping[str, Any] | None) -> Any:
    """``before`` as the checkpoint config the server's history route validates.

    The SDK documents a checkpoint id or a checkpoint, but langgraph-api 0.16
    answers 422 to an id and 500 to a bare checkpoint: it wants
    ``{"configurable": {"checkpoint_id": ...}}``. Both documented forms are
    wrapped so; a config already wrapped is sent as is.
    """
    if not before:
        return None
    if isinstance(before, str):
        return {"configurable": {"checkpoint_id": before}}
    if "configurable" in before:
        return before
    return {"configurable": dict(before)}


@final
class ThreadsClient(_Resource):
    """Threads: create, read, search and change them and their state.

    Every method accepts ``headers`` (added to this request) and ``params``
    (extra query parameters); results are the server's JSON as plain dicts.
    """

    __slots__ = ()

    async def get(
        self,
        thread_id: str,
        *,
        include: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """The thread ``thread_id`` (``include`` asks for extra fields, e.g. ``["ttl"]``).

        Raises :class:`~lgbench.client.NotFoundError` when there is none.
        """
        return await self._object(
            "GET",
            _path("/threads/{}", thread_id),
            query={"include": ",".join(include) if include else None},
            params=params,
            headers=headers,
        )

    async def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        if_exists: OnConflictBehavior | None = None,
        supersteps: Sequence[Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
        graph_id: str | None = None,
        ttl: int | float | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Create a thread; returns it.

        ``supersteps`` pre-populates its state: a list of ``{"updates": [{"values",
        "as_node", "command"?}]}``. ``graph_id`` is stored in the metadata, as the
        server expects. ``ttl`` (minutes, or ``{"ttl", "strategy"}``) schedules deletion.
        """
        payload: dict[str, Any] = {}
        if thread_id:
            payload["thread_id"] = thread_id
        if metadata or graph_id:
            payload["metadata"] = {
                **(metadata or {}),
                **({"graph_id": graph_id} if graph_id else {}),
            }
        if if_exists:
            payload["if_exists"] = if_exists
        if supersteps:
            payload["supersteps"] = [
                {
                    "updates": [
                        {
                            "values": update["values"],
                            "command": update.get("command"),
                            "as_node": update["as_node"],
                        }
                        for update in step["updates"]
                    ]
                }
                for step in supersteps
            ]
        if ttl is not None:
            payload["ttl"] = _ttl(ttl)
        return await self._object("POST", "/threads", json=payload, params=params, headers=headers)

    async def update(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any],
        ttl: int | float | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Merge ``metadata`` into the thread's metadata (and reset its ``ttl``); returns it."""
        payload: dict[str, Any] = {"metadata": metadata}
        if ttl is not None:
            payload["ttl"] = _ttl(ttl)
        return await self._object(
            "PATCH", _path("/threads/{}", thread_id), json=payload, params=params, headers=headers
        )

    async def delete(
        self,
        thread_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> None:
        """Delete the thread, its runs and its checkpoints."""
        await self._nothing(
            "DELETE", _path("/threads/{}", thread_id), params=params, headers=headers
        )

    async def search(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: ThreadStatus | None = None,
        limit: int = 10,
        offset: int = 0,
        ids: Sequence[str] | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        select: Sequence[str] | None = None,
        extract: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> list[dict[str, Any]]:
        """Threads matching every given filter (``metadata``/``values`` by exact key/value)."""
        payload: dict[str, Any] = {"limit": limit, "offset": offset}
        optional = {
            "metadata": metadata,
            "values": values,
            "ids": _listed(ids),
            "status": status,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "select": _listed(select),
            "extract": extract,
        }
        payload.update({key: value for key, value in optional.items() if value})
        return await self._objects(
            "POST", "/threads/search", json=payload, params=params, headers=headers
        )

    async def copy(
        self,
        thread_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Copy the thread with its state history; returns the new thread."""
        return await self._object(
            "POST", _path("/threads/{}/copy", thread_id), params=params, headers=headers
        )

    async def get_state(
        self,
        thread_id: str,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        *,
        subgraphs: bool = False,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """The thread's state: its latest, or at ``checkpoint`` / ``checkpoint_id``."""
        if checkpoint:
            payload: dict[str, Any] = {"checkpoint": checkpoint, "subgraphs": subgraphs}
            if select:
                payload["select"] = _listed(select)
            return await self._object(
                "POST",
                _path("/threads/{}/state/checkpoint", thread_id),
                json=payload,
                params=params,
                headers=headers,
            )
        if checkpoint_id:
            path = _path("/threads/{}/state/{}", thread_id, checkpoint_id)
        else:
            path = _path("/threads/{}/state", thread_id)
        query = {"subgraphs": subgraphs, "select": _listed(select) or None}
        return await self._object("GET", path, query=query, params=params, headers=headers)

    async def update_state(
        self,
        thread_id: str,
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        *,
        as_node: str | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Write ``values`` into the state as if node ``as_node`` had run.

        Returns ``{"checkpoint": ...}``, the checkpoint written.
        """
        payload: dict[str, Any] = {
            "values": values if values is None or isinstance(values, Mapping) else list(values)
        }
        payload.update(
            _compact(
                {
                    "checkpoint_id": checkpoint_id or None,
                    "checkpoint": checkpoint or None,
                    "as_node": as_node or None,
                }
            )
        )
        return await self._object(
            "POST",
            _path("/threads/{}/state", thread_id),
            json=payload,
            params=params,
            headers=headers,
        )

    async def get_history(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        before: str | Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> list[dict[str, Any]]:
        """The thread's past states, newest first.

        ``before`` (a checkpoint id or checkpoint) starts the list below that
        checkpoint; ``checkpoint`` picks a subgraph's history (by its namespace).
        """
        payload: dict[str, Any] = {"limit": limit}
        optional = {
            "before": _before(before),
            "metadata": metadata,
            "checkpoint": checkpoint,
            "select": _listed(select),
        }
        payload.update({key: value for key, value in optional.items() if value})
        return await self._objects(
            "POST",
            _path("/threads/{}/history", thread_id),
            json=payload,
            params=params,
            headers=headers,
        )
