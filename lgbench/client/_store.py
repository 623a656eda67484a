"""``client.store``: the server's key-value store, shared across threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, final

from lgbench.client._http import QueryParams
from lgbench.client._resource import _compact, _listed, _Resource

__all__ = ["StoreClient"]


def _checked_namespace(namespace: Sequence[str]) -> list[str]:
    """``namespace`` as a list, refusing labels the server could not tell apart.

    The GET route joins labels with ``.``, so a label containing one would name
    another namespace.
    """
    if isinstance(namespace, str):
        raise TypeError("a namespace is a sequence of labels, not one string")
    labels = list(namespace)
    for label in labels:
        if "." in label:
            raise ValueError(f"namespace label {label!r} contains '.', which the server forbids")
    return labels


@final
class StoreClient(_Resource):
    """Items (JSON objects) under a key in a namespace (a path of labels).

    Every method accepts ``headers`` (added to this request) and ``params``
    (extra query parameters); results are the server's JSON as plain dicts.
    """

    __slots__ = ()

    async def put_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | Sequence[str] | None = None,
        ttl: int | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> None:
        """Store ``value`` under ``namespace``/``key``, replacing what was there.

        ``index``: None for the store's default search indexing, False for none,
        or the fields to index. ``ttl`` is minutes until the item expires.
        """
        payload = {
            "namespace": _checked_namespace(namespace),
            "key": key,
            "value": value,
            "index": index if index is None or index is False else list(index),
            "ttl": ttl,
        }
        await self._nothing(
            "PUT", "/store/items", json=_compact(payload), params=params, headers=headers
        )

    async def get_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        *,
        refresh_ttl: bool | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any] | None:
        """The item at ``namespace``/``key`` (``namespace``, ``key``, ``value``, timestamps),
        or None when there is none (the server answers 200 with ``null``)."""
        query = {
            "namespace": ".".join(_checked_namespace(namespace)),
            "key": key,
            "refresh_ttl": refresh_ttl,
        }
        item: dict[str, Any] | None = await self._send(
            "GET", "/store/items", query=query, params=params, headers=headers
        )
        return item

    async def delete_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> None:
        """Delete the item at ``namespace``/``key``."""
        await self._nothing(
            "DELETE",
            "/store/items",
            json={"namespace": _checked_namespace(namespace), "key": key},
            params=params,
            headers=headers,
        )

    async def search_items(
        self,
        namespace_prefix: Sequence[str],
        /,
        filter: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        query: str | None = None,
        refresh_ttl: bool | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Items under ``namespace_prefix`` whose values match ``filter`` (exact
        key/value), as ``{"items": [...]}``; ``query`` is a semantic search where
        the store has an index."""
        payload = {
            "namespace_prefix": list(namespace_prefix),
            "filter": filter,
            "limit": limit,
            "offset": offset,
            "query": query,
            "refresh_ttl": refresh_ttl,
        }
        return await self._object(
            "POST", "/store/items/search", json=_compact(payload), params=params, headers=headers
        )

    async def list_namespaces(
        self,
        prefix: Sequence[str] | None = None,
        suffix: Sequence[str] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Namespaces that start with ``prefix`` and end with ``suffix``, cut at
        ``max_depth`` labels, as ``{"namespaces": [[...], ...]}``."""
        payload = {
            "prefix": _listed(prefix),
            "suffix": _listed(suffix),
            "max_depth": max_depth,
            "limit": limit,
            "offset": offset,
        }
        return await self._object(
            "POST", "/store/namespaces", json=_compact(payload), params=params, headers=headers
        )
