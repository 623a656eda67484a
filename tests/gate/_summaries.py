"""Small summary.json contents for the pure tests, shaped like docs/summary.md's."""

from __future__ import annotations

import copy
from typing import Any

PERCENTILES = ("p50", "p90", "p95", "p99", "p99_9")


def latency(p50: float | None, *, tail: float | None = None) -> dict[str, float | None]:
    """Figures with ``p50``; the higher percentiles are ``tail`` (default: ``p50``)."""
    high = p50 if tail is None else tail
    return {
        "min": p50,
        "mean": p50,
        "p50": p50,
        "p90": high,
        "p95": high,
        "p99": high,
        "p99_9": high,
        "max": high,
    }


def operation(
    p50: float | None = 10.0,
    *,
    tail: float | None = None,
    count: int = 2000,
    errors: int = 0,
    rate_per_s: float = 50.0,
    ttfe: dict[str, float | None] | None = None,
    streams: int | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "count": count,
        "ok": count - errors,
        "errors": errors,
        "rate_per_s": rate_per_s,
        "models": ["closed"],
        "latency_ms": latency(p50, tail=tail),
    }
    if ttfe is not None:
        op["stream"] = {"streams": count if streams is None else streams, "ttfe_ms": ttfe}
    return op


def summary(operations: dict[str, Any], **top: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema_version": 1,
        "lgbench_version": "0.1.0",
        "workload": {"name": "unit", "path": "workloads/unit.toml", "seed": 1, "overrides": {}},
        "target": {"url": "embedded", "embedded": True},
        "server": {
            "name": "langgraph-api",
            "version": "0.16.7",
            "langgraph_py_version": "1.2.24",
            "label": "langgraph-api 0.16.7",
        },
        "backend": "asyncio",
        "transport": "fast",
        "started_at": "2026-01-02T03:04:05.678901+00:00",
        "ended_at": "2026-01-02T03:04:15.678901+00:00",
        "duration_s": 10.0,
        "partial": False,
        "stop_reason": "completed",
        "operations": copy.deepcopy(operations),
    }
    out.update(top)
    return out
