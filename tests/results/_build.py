"""Results built from known values: one operation's summary as the recorder would make it."""

from __future__ import annotations

from collections.abc import Iterable

from lgbench.metrics import LatencyRecorder
from lgbench.results import (
    LATENCY_BASIS,
    ErrorsByKind,
    Operation,
    OperationHistograms,
    Stream,
    TopError,
    count_stats,
    histogram_state,
    latency_figures,
)


def recorder(values_us: Iterable[int]) -> LatencyRecorder:
    made = LatencyRecorder()
    for value in values_us:
        made.record_us(value)
    return made


def operation(
    latencies_us: list[int],
    *,
    errors: int = 0,
    duration_s: float = 10.0,
    events: list[int] | None = None,
    ttfe_us: list[int] | None = None,
) -> Operation:
    """``latencies_us`` answered (``errors`` of them HTTP 500), over ``duration_s``; with
    ``events`` and ``ttfe_us``, a stream of that many events each."""
    latency = recorder(latencies_us)
    count = len(latencies_us)
    stream: Stream | None = None
    histograms = OperationHistograms(latency=histogram_state(latency))
    if events is not None and ttfe_us is not None:
        per_stream, ttfe = recorder(events), recorder(ttfe_us)
        histograms = OperationHistograms(
            latency=histogram_state(latency),
            events=histogram_state(per_stream),
            ttfe=histogram_state(ttfe),
        )
        stream = Stream(
            streams=len(events),
            events=count_stats(per_stream),
            events_per_s=sum(events) / duration_s,
            ttfe_ms=latency_figures(ttfe),
        )
    return Operation(
        count=count,
        ok=count - errors,
        errors=errors,
        errors_by_kind=ErrorsByKind(http={"500": errors} if errors else {}),
        rate_per_s=count / duration_s,
        models=("closed",),
        latency_basis=f"closed: {LATENCY_BASIS['closed']}",
        latency_ms=latency_figures(latency),
        top_errors=(TopError(kind="http", status=500, message="boom", count=errors),)
        if errors
        else (),
        **({"stream": stream} if stream is not None else {}),
        histograms=histograms,
    )
