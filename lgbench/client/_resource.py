"""The small base every resource client shares: path quoting, query merging, and
dropping unset payload keys, so each resource module only states which request a
method sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast
from urllib.parse import quote

from lgbench.client._http import HttpClient, QueryParams

__all__ = ["OnConflictBehavior", "SortOrder"]

#: What ``create`` does when the id is taken: fail (409) or return the existing object.
OnConflictBehavior = Literal["raise", "do_nothing"]
SortOrder = Literal["asc", "desc"]


def _path_segment(value: object) -> str:
    """``value`` encoded as one path segment: ``/`` and the like escaped.

    Ids come from users and servers; an id such as ``../x`` must not turn into
    another route. All-dot segments are escaped too, since URL normalisation
    would otherwise collapse them.
    """
    if value is None:
        raise TypeError("a path parameter must not be None")
    if isinstance(value, bytes | bytearray):
        raise TypeError("a path parameter must be a str (or UUID), not bytes")
    quoted = quote(str(value), safe="")
    if quoted and quoted.strip(".") == "":
        quoted = "%2E" * len(quoted)
    return quoted


def _path(template: str, *ids: object) -> str:
    """``template`` with each ``{}`` replaced by one quoted id."""
    return template.format(*(_path_segment(value) for value in ids))


def _query(own: Mapping[str, Any] | None, extra: QueryParams | None) -> QueryParams | None:
    """The method's own query parameters updated with the caller's ``extra`` ones.

    :class:`HttpClient` drops None values, spells booleans ``true``/``false``
    and repeats a key per item of a sequence.
    """
    if not extra:
        return own or None
    return {**(own or {}), **extra}


def _compact(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` without its None values: unset arguments are left to the server's defaults."""
    return {key: value for key, value in payload.items() if value is not None}


def _listed(value: Sequence[Any] | None) -> list[Any] | None:
    """A sequence argument as a JSON array (tuples and other sequences included)."""
    if value is None or isinstance(value, str):
        return cast("list[Any] | None", value)
    return list(value)


class _Resource:
    """A resource client: turns method arguments into requests on :class:`HttpClient`."""

    __slots__ = ("http",)

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        query: Mapping[str, Any] | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return await self.http.request_json(
            method, path, json=json, params=_query(query, params), headers=headers
        )

    async def _object(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        query: Mapping[str, Any] | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A request whose answer is one JSON object."""
        body = await self._send(
            method, path, json=json, query=query, params=params, headers=headers
        )
        return cast("dict[str, Any]", body)

    async def _objects(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        query: Mapping[str, Any] | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """A request whose answer is a JSON array of objects."""
        body = await self._send(
            method, path, json=json, query=query, params=params, headers=headers
        )
        return cast("list[dict[str, Any]]", body)

    async def _nothing(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        query: Mapping[str, Any] | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A request whose answer carries nothing the caller needs."""
        await self._send(method, path, json=json, query=query, params=params, headers=headers)
