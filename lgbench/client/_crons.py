"""``client.crons``: runs started on a schedule."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Literal, final

from lgbench.client._http import QueryParams
from lgbench.client._resource import SortOrder, _compact, _listed, _path, _Resource
from lgbench.client._runs import All, Durability, MultitaskStrategy, StreamMode

__all__ = ["CronClient"]


def _timezone_name(timezone: str | datetime.tzinfo | None) -> str | None:
    """An IANA name for ``timezone`` (``ZoneInfo`` keys, else the zone's own name)."""
    if timezone is None or isinstance(timezone, str):
        return timezone
    key = getattr(timezone, "key", None)
    if isinstance(key, str):
        return key
    name = timezone.tzname(None)
    if name is None:
        raise ValueError(f"cannot name the time zone {timezone!r}: pass an IANA name instead")
    return name


def _schedule_payload(
    assistant_id: str,
    schedule: str,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    end_time: datetime.datetime | None = options.get("end_time")
    payload = _compact(
        {
            **options,
            "schedule": schedule,
            "assistant_id": assistant_id,
            "end_time": end_time.isoformat() if end_time else None,
            "timezone": _timezone_name(options.get("timezone")),
            "interrupt_before": _listed(options.get("interrupt_before")),
            "interrupt_after": _listed(options.get("interrupt_after")),
            "stream_mode": _listed(options.get("stream_mode")),
        }
    )
    # An empty strategy means "the server's default", as in the SDK.
    if not payload.get("multitask_strategy"):
        payload.pop("multitask_strategy", None)
    return payload


@final
class CronClient(_Resource):
    """Cron jobs: an assistant run on a schedule, on one thread or a new thread each time.

    Every method accepts ``headers`` (added to this request) and ``params``
    (extra query parameters); results are the server's JSON as plain dicts.
    """

    __slots__ = ()

    async def create_for_thread(
        self,
        thread_id: str,
        assistant_id: str,
        *,
        schedule: str,
        input: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | str | None = None,
        context: Mapping[str, Any] | None = None,
        end_time: datetime.datetime | None = None,
        enabled: bool | None = None,
        timezone: str | datetime.tzinfo | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Schedule runs of ``assistant_id`` on thread ``thread_id``; ``schedule`` is a
        crontab line (``"*/5 * * * *"``). Returns the cron (with its ``cron_id``)."""
        payload = _schedule_payload(
            assistant_id,
            schedule,
            {
                "input": input,
                "config": config,
                "metadata": metadata,
                "context": context,
                "interrupt_before": interrupt_before,
                "interrupt_after": interrupt_after,
                "webhook": webhook,
                "end_time": end_time,
                "enabled": enabled,
                "timezone": timezone,
                "stream_mode": stream_mode,
                "stream_subgraphs": stream_subgraphs,
                "stream_resumable": stream_resumable,
                "durability": durability,
                "multitask_strategy": multitask_strategy,
            },
        )
        return await self._object(
            "POST",
            _path("/threads/{}/runs/crons", thread_id),
            json=payload,
            params=params,
            headers=headers,
        )

    async def create(
        self,
        assistant_id: str,
        *,
        schedule: str,
        input: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | str | None = None,
        context: Mapping[str, Any] | None = None,
        on_run_completed: Literal["delete", "keep"] | None = None,
        end_time: datetime.datetime | None = None,
        enabled: bool | None = None,
        timezone: str | datetime.tzinfo | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> dict[str, Any]:
        """Schedule stateless runs of ``assistant_id`` (a new thread per run, kept or
        deleted per ``on_run_completed``). Returns the cron (with its ``cron_id``)."""
        payload = _schedule_payload(
            assistant_id,
            schedule,
            {
                "input": input,
                "config": config,
                "metadata": metadata,
                "context": context,
                "interrupt_before": interrupt_before,
                "interrupt_after": interrupt_after,
                "webhook": webhook,
                "on_run_completed": on_run_completed,
                "end_time": end_time,
                "enabled": enabled,
                "timezone": timezone,
                "stream_mode": stream_mode,
                "stream_subgraphs": stream_subgraphs,
                "stream_resumable": stream_resumable,
                "durability": durability,
                "multitask_strategy": multitask_strategy,
            },
        )
        return await self._object(
            "POST", "/runs/crons", json=payload, params=params, headers=headers
        )

    async def delete(
        self,
        cron_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> None:
        """Delete the cron ``cron_id`` (runs it already started are not touched)."""
        await self._nothing(
            "DELETE", _path("/runs/crons/{}", cron_id), params=params, headers=headers
        )

    async def search(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        limit: int = 10,
        offset: int = 0,
        enabled: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
        sort_by: str | None = None,
        sort_order: SortOrder | None = None,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
    ) -> list[dict[str, Any]]:
        """Crons matching every given filter."""
        payload = _compact(
            {
                "assistant_id": assistant_id,
                "thread_id": thread_id,
                "enabled": enabled,
                "limit": limit,
                "offset": offset,
            }
        )
        optional = {
            "metadata": metadata,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "select": _listed(select),
        }
        payload.update({key: value for key, value in optional.items() if value})
        return await self._objects(
            "POST", "/runs/crons/search", json=payload, params=params, headers=headers
        )
