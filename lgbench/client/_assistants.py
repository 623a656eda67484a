"""``client.assistants``: versioned configurations of the server's graphs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast, final

from lgbench.client._http import QueryParams
from lgbench.client._resource import (
    OnConflictBehavior,
    SortOrder,
    _listed,
    _path,
    _Resource,
)

__all__ = ["AssistantsClient"]


@final
class AssistantsClient(_Resource):
    """Assistants: a graph plus configuration, context and metadata, versioned by the server.

    Every method accepts ``headers`` (added to this request) and ``params``
    (extra query parameters); results are the server's JSON as plain dicts.
    """

    __slots__ = ()

    async def get(
        self,
        assistant_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """The assistant ``assistant_id`` (a graph id names that graph's default assistant).

        Raises :class:`~lgbench.client.NotFoundError` when there is none.
        """
        return await self._object(
            "GET", _path("/assistants/{}", assistant_id), params=params, headers=headers
        )

    async def get_graph(
        self,
        assistant_id: str,
        *,
        xray: int | bool = False,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """The assistant's graph as ``{"nodes": [...], "edges": [...]}``.

        ``xray`` includes subgraphs: ``True`` for all, an int for those up to that depth.
        """
        body = await self._send(
            "GET",
            _path("/assistants/{}/graph", assistant_id),
            query={"xray": xray},
            params=params,
            headers=headers,
        )
        return cast("dict[str, list[dict[str, Any]]]", body)

    async def get_schemas(
        self,
        assistant_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """The JSON schemas of the graph's input, output, state, config and context."""
        return await self._object(
            "GET", _path("/assistants/{}/schemas", assistant_id), params=params, headers=headers
        )

    async def get_subgraphs(
        self,
        assistant_id: str,
        namespace: str | None = None,
        recurse: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """The schemas of the graph's subgraphs, by namespace (only ``namespace``'s if given)."""
        if namespace is None:
            path = _path("/assistants/{}/subgraphs", assistant_id)
        else:
            path = _path("/assistants/{}/subgraphs/{}", assistant_id, namespace)
        return await self._object(
            "GET", path, query={"recurse": recurse}, params=params, headers=headers
        )

    async def create(
        self,
        graph_id: str | None,
        config: Mapping[str, Any] | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        assistant_id: str | None = None,
        if_exists: OnConflictBehavior | None = None,
        name: str | None = None,
        context: Mapping[str, Any] | None = None,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Create an assistant of graph ``graph_id``; returns it.

        ``if_exists="do_nothing"`` returns the existing assistant instead of a
        :class:`~lgbench.client.ConflictError` when ``assistant_id`` is taken.
        """
        # Empty config/metadata are left out, as the SDK does, so the server's defaults apply.
        payload: dict[str, Any] = {"graph_id": graph_id}
        optional = {
            "config": config,
            "context": context,
            "metadata": metadata,
            "assistant_id": assistant_id,
            "if_exists": if_exists,
            "name": name,
            "description": description,
        }
        payload.update({key: value for key, value in optional.items() if value})
        return await self._object(
            "POST", "/assistants", json=payload, params=params, headers=headers
        )

    async def update(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        context: Mapping[str, Any] | None = None,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Change an assistant; the server makes a new version and returns the assistant.

        ``metadata`` is merged into the existing metadata; ``config`` and
        ``context`` replace theirs (an empty mapping clears them).
        """
        payload: dict[str, Any] = {}
        if graph_id:
            payload["graph_id"] = graph_id
        if config is not None:
            payload["config"] = config
        if context is not None:
            payload["context"] = context
        if metadata:
            payload["metadata"] = metadata
        if name:
            payload["name"] = name
        if description:
            payload["description"] = description
        return await self._object(
            "PATCH",
            _path("/assistants/{}", assistant_id),
            json=payload,
            params=params,
            headers=headers,
        )

    async def delete(
        self,
        assistant_id: str,
        *,
        delete_threads: bool = False,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> None:
        """Delete an assistant (and, with ``delete_threads``, the threads it ran on)."""
        await self._nothing(
            "DELETE",
            _path("/assistants/{}", assistant_id),
            query={"delete_threads": True if delete_threads else None},
            params=params,
            headers=headers,
        )

    async def search(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        graph_id: str | None = None,
        limit: int = 10,
        offset: int = 0,
        name: str | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> list[dict[str, Any]]:
        """Assistants matching every given filter (``metadata`` by exact key/value)."""
        payload: dict[str, Any] = {"limit": limit, "offset": offset}
        optional = {
            "metadata": metadata,
            "graph_id": graph_id,
            "name": name,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "select": _listed(select),
        }
        payload.update({key: value for key, value in optional.items() if value})
        return await self._objects(
            "POST", "/assistants/search", json=payload, params=params, headers=headers
        )

    async def get_versions(
        self,
        assistant_id: str,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> list[dict[str, Any]]:
        """The assistant's versions, newest first."""
        payload: dict[str, Any] = {"limit": limit, "offset": offset}
        if metadata:
            payload["metadata"] = metadata
        return await self._objects(
            "POST",
            _path("/assistants/{}/versions", assistant_id),
            json=payload,
            params=params,
            headers=headers,
        )

    async def set_latest(
        self,
        assistant_id: str,
        version: int,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Make ``version`` the assistant's current version; returns the assistant."""
        return await self._object(
            "POST",
            _path("/assistants/{}/latest", assistant_id),
            json={"version": version},
            params=params,
            headers=headers,
        )
