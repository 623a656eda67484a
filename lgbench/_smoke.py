"""A small built-in scenario that does real work against a LangGraph server.

``lgbench smoke`` runs it: a few concurrent virtual users each create a thread,
wait for a run of the ``sleepy`` graph, stream a run of the ``streamer`` graph
and write and read a store item; every call's latency goes into an HDR
histogram, and a table of what was measured is printed at the end. It needs
lgbench's bundled graphs on the target (the embedded server has them).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
from hdrh.histogram import HdrHistogram

from lgbench.client import ClientError, LangGraphClient, get_client

__all__ = ["SmokeConfig", "SmokeResult", "run_smoke"]

# Histograms record integer microseconds, from 1 µs to 1 hour, at 3 significant digits.
_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000
_SIGNIFICANT_DIGITS = 3

OPERATIONS = ("threads.create", "runs.wait", "runs.stream", "store.put_item", "store.get_item")
PERCENTILES = (50.0, 90.0, 99.0)


@dataclasses.dataclass(frozen=True, slots=True)
class SmokeConfig:
    """What the smoke scenario does: ``iterations`` per virtual user, ``vus`` users."""

    url: str
    vus: int = 4
    iterations: int = 5
    transport: Literal["fast", "httpx"] = "fast"
    stream_events: int = 5

    def __post_init__(self) -> None:
        if self.vus < 1:
            raise ValueError(f"vus must be >= 1, not {self.vus}")
        if self.iterations < 1:
            raise ValueError(f"iterations must be >= 1, not {self.iterations}")


@dataclasses.dataclass(slots=True)
class OperationStats:
    """Latencies (µs) of one operation, its error count, and samples out of range."""

    histogram: HdrHistogram = dataclasses.field(
        default_factory=lambda: HdrHistogram(_LOWEST_US, _HIGHEST_US, _SIGNIFICANT_DIGITS)
    )
    errors: int = 0
    out_of_range: int = 0
    error_examples: list[str] = dataclasses.field(default_factory=list)

    def record_us(self, latency_us: int) -> None:
        # record_value returns False instead of raising for out-of-range values.
        if not self.histogram.record_value(max(latency_us, _LOWEST_US)):
            self.out_of_range += 1


@dataclasses.dataclass(slots=True)
class SmokeResult:
    """What the smoke scenario measured."""

    server_version: str
    elapsed_s: float
    operations: dict[str, OperationStats]
    first_event: OperationStats
    events_received: int

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per operation: count, errors, rate and latency percentiles in ms."""
        rows = []
        for name, stats in [*self.operations.items(), ("runs.stream.first_event", self.first_event)]:
            hist = stats.histogram
            count = hist.get_total_count()
            percentiles = hist.get_percentile_to_value_dict(list(PERCENTILES)) if count else {}
            rows.append(
                {
                    "operation": name,
                    "count": count,
                    "errors": stats.errors,
                    "rate_per_s": count / self.elapsed_s if self.elapsed_s > 0 else 0.0,
                    **{f"p{p:g}_ms": percentiles.get(p, 0) / 1000 for p in PERCENTILES},
                    "max_ms": hist.get_max_value() / 1000 if count else 0.0,
                }
            )
        return rows


async def _timed(
    stats: OperationStats, call: Callable[[], Awaitable[Any]]
) -> tuple[bool, Any]:
    """Run ``call``, record its latency on success and count it on a client error."""
    started = anyio.current_time()
    try:
        result = await call()
    except ClientError as exc:
        stats.errors += 1
        if len(stats.error_examples) < 3:
            stats.error_examples.append(f"{type(exc).__name__}: {exc}")
        return False, None
    stats.record_us(round((anyio.current_time() - started) * 1_000_000))
    return True, result


async def _virtual_user(
    client: LangGraphClient, config: SmokeConfig, result: SmokeResult, vu: int
) -> None:
    ops = result.operations
    for iteration in range(config.iterations):
        ok, thread = await _timed(ops["threads.create"], lambda: client.threads.create())
        if not ok:
            continue
        thread_id = thread["thread_id"]
        await _timed(
            ops["runs.wait"],
            lambda: client.runs.wait(thread_id, "sleepy", input={"seconds": 0.01}),
        )

        async def stream_once() -> int:
            started = anyio.current_time()
            events = 0
            async for part in client.runs.stream(
                None,
                "streamer",
                input={"n": config.stream_events, "gap_s": 0.0},
                stream_mode="updates",
            ):
                if part.event == "metadata":
                    continue
                if events == 0:
                    latency_us = round((anyio.current_time() - started) * 1_000_000)
                    result.first_event.record_us(latency_us)
                events += 1
            return events

        ok, events = await _timed(ops["runs.stream"], stream_once)
        if ok:
            result.events_received += events
        namespace = ["lgbench-smoke", f"vu{vu}"]
        key = f"item-{iteration}-{uuid.uuid4().hex[:8]}"
        await _timed(
            ops["store.put_item"],
            lambda: client.store.put_item(namespace, key=key, value={"iteration": iteration}),
        )
        await _timed(ops["store.get_item"], lambda: client.store.get_item(namespace, key=key))


async def run_smoke(config: SmokeConfig) -> SmokeResult:
    """Run the smoke scenario against ``config.url`` and return what it measured."""
    result = SmokeResult(
        server_version="unknown",
        elapsed_s=0.0,
        operations={name: OperationStats() for name in OPERATIONS},
        first_event=OperationStats(),
        events_received=0,
    )
    async with get_client(url=config.url, api_key=None, transport=config.transport) as client:
        info = await client.http.get("/info")
        if isinstance(info, dict):
            result.server_version = str(info.get("version", "unknown"))
        started = anyio.current_time()
        async with anyio.create_task_group() as tg:
            for vu in range(config.vus):
                tg.start_soon(_virtual_user, client, config, result, vu)
        result.elapsed_s = anyio.current_time() - started
    return result
