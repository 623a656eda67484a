"""Merging two results of one run, made side by side (worker processes): exact, not averaged.

Counts sum. Latency figures are recomputed from the merged HDR histograms, which is exact: the
histogram of the union of two value sets is the sum of their histograms, and the mean comes from
the exact sum of microseconds. So merging the results of two halves of a set of values gives
the result of the whole set. Rates are recomputed over the merged span (the two parts ran at
the same time: the longer duration, not the sum).

Two things are exact only within their own bounds: ``top_errors`` keeps the five most frequent
messages of the merged counts, which equals the whole run's when each side listed all its
errors (``top_errors_unlisted`` 0); and what is judged on the whole run — thresholds, the
baseline comparison, drift, the checker's verdict — is not merged: the merged summary has none,
for the caller to judge it again (the parent process owns those steps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final, TypeVar

from msgspec import UNSET, UnsetType
from msgspec.structs import replace

from lgbench.metrics import LatencyRecorder
from lgbench.results._errors import ResultsError
from lgbench.results._model import (
    EventCounts,
    HistogramState,
    HistoryFigures,
    Iterations,
    LagFigures,
    Latency,
    NeverSucceeded,
    Observation,
    Operation,
    OperationHistograms,
    Scenario,
    Skipped,
    Stream,
    TokenRates,
    TopError,
    UnsupportedRoute,
    Worker,
)

if TYPE_CHECKING:
    from lgbench.results._summary import Summary

__all__ = [
    "LATENCY_BASIS",
    "REPLY_RATE_SERIES",
    "TOKEN_RATE_SCALE",
    "TOP_ERRORS",
    "count_stats",
    "histogram_state",
    "latency_figures",
    "merge_operation",
    "merge_operations",
    "merge_summaries",
    "token_rate_stats",
]

LATENCY_BASIS: Final[Mapping[str, str]] = {
    "open": "from the intended start (the pacer's schedule) for an iteration's first operation",
    "closed": "from the actual send; corrected_latency_ms back-fills coordinated omission",
    "burst": "from the actual send",
}
"""Where latency is measured from, per load model (an operation's ``latency_basis``)."""

TOP_ERRORS: Final = 5
"""How many of an operation's most frequent errors its summary lists."""

_T = TypeVar("_T")


def histogram_state(recorder: LatencyRecorder) -> HistogramState:
    """``recorder`` exactly, as the model carries it."""
    state = recorder.to_dict()
    return HistogramState(
        histogram=state["histogram"], sum_us=state["sum_us"], out_of_range=state["out_of_range"]
    )


def _recorder(state: HistogramState) -> LatencyRecorder:
    return LatencyRecorder.from_dict(
        {"histogram": state.histogram, "sum_us": state.sum_us, "out_of_range": state.out_of_range}
    )


def latency_figures(recorder: LatencyRecorder) -> Latency:
    """A histogram of microseconds as figures in milliseconds."""
    return Latency(**recorder.stats().to_ms())


def count_stats(recorder: LatencyRecorder) -> EventCounts:
    """A histogram of counts (events per stream), not of microseconds."""
    stats = recorder.stats()
    return EventCounts(
        min=stats.min_us,
        mean=stats.mean_us,
        p50=stats.percentiles_us.get(50.0),
        p99=stats.percentiles_us.get(99.0),
        max=stats.max_us,
        total=recorder.sum_us,
    )


#: Rates are kept in a histogram of integers: thousandths of a token per second.
TOKEN_RATE_SCALE: Final = 1000
#: The derived series, and ``intervals.hlog`` tag suffix, of each chat reply stream's rate:
#: ``runs.stream.tokens_per_s`` holds per interval the rates (in thousandths, so the line's
#: maximum column reads in tokens per second) of the reply streams that ended in it.
REPLY_RATE_SERIES: Final = "tokens_per_s"


def token_rate_stats(recorder: LatencyRecorder | None) -> TokenRates:
    """Figures of a histogram of rates per stream, recorded in thousandths of a token per
    second (:data:`TOKEN_RATE_SCALE`)."""
    if recorder is None or not recorder.count:
        return TokenRates()
    stats = recorder.stats((1.0, 10.0, 50.0, 90.0))

    def rate(value: float | None) -> float | None:
        return None if value is None else round(value / TOKEN_RATE_SCALE, 3)

    return TokenRates(
        min=rate(stats.min_us),
        p1=rate(stats.percentiles_us.get(1.0)),
        p10=rate(stats.percentiles_us.get(10.0)),
        p50=rate(stats.percentiles_us.get(50.0)),
        p90=rate(stats.percentiles_us.get(90.0)),
        mean=rate(stats.mean_us),
        max=rate(stats.max_us),
    )


def _merged_state(
    a: HistogramState | UnsetType, b: HistogramState | UnsetType
) -> HistogramState | UnsetType:
    if isinstance(a, UnsetType):
        return b
    if isinstance(b, UnsetType):
        return a
    merged = _recorder(a)
    merged.merge(_recorder(b))
    return histogram_state(merged)


_States = tuple[HistogramState | UnsetType, HistogramState | UnsetType]


def _figures(
    what: str,
    states: _States,
    a: _T,
    b: _T,
    empty: _T,
    compute: Callable[[LatencyRecorder], _T],
) -> _T:
    """Figures recomputed from the merged histograms of both sides. A side without its
    histogram merges only if its figures are empty, or if neither side has one and the other
    side's figures are empty (then the figures are taken as they are)."""
    left, right = states
    bare_a = isinstance(left, UnsetType) and a != empty
    bare_b = isinstance(right, UnsetType) and b != empty
    if bare_a or bare_b:
        if isinstance(left, UnsetType) and isinstance(right, UnsetType):
            if b == empty:
                return a
            if a == empty:
                return b
        raise ResultsError(f"cannot merge {what} without its histograms: percentiles do not add up")
    state = _merged_state(left, right)
    if isinstance(state, UnsetType):
        return empty
    return compute(_recorder(state))


def _latency(what: str, states: _States, a: Latency, b: Latency) -> Latency:
    return _figures(what, states, a, b, Latency(), latency_figures)


def _top_errors(a: Iterable[TopError], b: Iterable[TopError]) -> tuple[TopError, ...]:
    counts: dict[tuple[str, int | None, str], int] = {}
    for entry in (*a, *b):
        key = (entry.kind, entry.status, entry.message)
        counts[key] = counts.get(key, 0) + entry.count
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0], item[0][2]))
    return tuple(
        TopError(kind=kind, status=status, message=message, count=count)
        for (kind, status, message), count in ranked[:TOP_ERRORS]
    )


def _sum_optional(a: int | UnsetType, b: int | UnsetType) -> int | UnsetType:
    if isinstance(a, UnsetType) and isinstance(b, UnsetType):
        return UNSET
    return (0 if isinstance(a, UnsetType) else a) + (0 if isinstance(b, UnsetType) else b)


def _per_s(amount: float, duration_s: float) -> float:
    return amount / duration_s if duration_s > 0 else 0.0


def _merge_stream(
    name: str,
    a: Stream | UnsetType | None,
    b: Stream | UnsetType | None,
    hists: tuple[OperationHistograms, OperationHistograms],
    duration_s: float,
) -> Stream | UnsetType:
    if not isinstance(a, Stream) and not isinstance(b, Stream):
        return UNSET
    left = a if isinstance(a, Stream) else Stream()
    right = b if isinstance(b, Stream) else Stream()
    lh, rh = hists
    events = _figures(
        f"{name}'s events",
        (lh.events, rh.events),
        left.events,
        right.events,
        EventCounts(),
        count_stats,
    )
    tokens = left.reply_tokens + right.reply_tokens
    return Stream(
        streams=left.streams + right.streams,
        events=events,
        events_per_s=_per_s(events.total, duration_s),
        ttfe_ms=_latency(f"{name}'s ttfe", (lh.ttfe, rh.ttfe), left.ttfe_ms, right.ttfe_ms),
        event_gap_ms=_latency(
            f"{name}'s event gaps",
            (lh.event_gap, rh.event_gap),
            left.event_gap_ms,
            right.event_gap_ms,
        ),
        queue_wait_ms=_latency(
            f"{name}'s queue wait",
            (lh.queue_wait, rh.queue_wait),
            left.queue_wait_ms,
            right.queue_wait_ms,
        ),
        reconnects=left.reconnects + right.reconnects,
        ttft_ms=_latency(f"{name}'s ttft", (lh.ttft, rh.ttft), left.ttft_ms, right.ttft_ms),
        itl_ms=_latency(f"{name}'s itl", (lh.itl, rh.itl), left.itl_ms, right.itl_ms),
        reply_tokens=tokens,
        reply_tokens_per_s=_per_s(tokens, duration_s),
        stream_tokens_per_s=_figures(
            f"{name}'s tokens per second per stream",
            (lh.reply_rates, rh.reply_rates),
            left.stream_tokens_per_s,
            right.stream_tokens_per_s,
            TokenRates(),
            token_rate_stats,
        ),
        reply_tokens_per_stream=_figures(
            f"{name}'s tokens per reply",
            (lh.reply_tokens, rh.reply_tokens),
            left.reply_tokens_per_stream,
            right.reply_tokens_per_stream,
            EventCounts(),
            count_stats,
        ),
    )


def _optional_latency(
    what: str,
    states: _States,
    a: Latency | UnsetType,
    b: Latency | UnsetType,
) -> Latency | UnsetType:
    if isinstance(a, UnsetType) and isinstance(b, UnsetType):
        return UNSET
    return _latency(
        what,
        states,
        Latency() if isinstance(a, UnsetType) else a,
        Latency() if isinstance(b, UnsetType) else b,
    )


def _histograms(a: Operation, b: Operation) -> OperationHistograms | UnsetType:
    if isinstance(a.histograms, UnsetType) and isinstance(b.histograms, UnsetType):
        return UNSET
    left = OperationHistograms() if isinstance(a.histograms, UnsetType) else a.histograms
    right = OperationHistograms() if isinstance(b.histograms, UnsetType) else b.histograms
    return OperationHistograms(
        **{
            field: _merged_state(getattr(left, field), getattr(right, field))
            for field in OperationHistograms.__struct_fields__
        }
    )


def merge_operation(name: str, a: Operation, b: Operation, duration_s: float) -> Operation:
    """One operation's summary over both sides (rates over ``duration_s``)."""
    merged_histograms = _histograms(a, b)
    lh = OperationHistograms() if isinstance(a.histograms, UnsetType) else a.histograms
    rh = OperationHistograms() if isinstance(b.histograms, UnsetType) else b.histograms
    count = a.count + b.count
    ok = a.ok + b.ok
    errors = a.errors + b.errors
    kinds_a, kinds_b = a.errors_by_kind, b.errors_by_kind
    http = dict(kinds_a.http)
    for status, n in kinds_b.http.items():
        http[status] = http.get(status, 0) + n
    by_kind = replace(
        kinds_a,
        http=dict(sorted(http.items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0)),
        transport=kinds_a.transport + kinds_b.transport,
        timeout=kinds_a.timeout + kinds_b.timeout,
        run=kinds_a.run + kinds_b.run,
        cancelled=_sum_optional(kinds_a.cancelled, kinds_b.cancelled),
        other=kinds_a.other + kinds_b.other,
    )
    models = tuple(sorted(set(a.models) | set(b.models)))
    top = _top_errors(a.top_errors, b.top_errors)
    empty = _sum_optional(a.empty, b.empty)
    # The recorder's empty share is of every ok answer, those of graphs that failed included.
    answered = ok + by_kind.run
    return Operation(
        count=count,
        ok=ok,
        errors=errors,
        errors_by_kind=by_kind,
        rate_per_s=_per_s(count, duration_s),
        models=models,
        latency_basis="; ".join(f"{m}: {LATENCY_BASIS.get(m, '')}" for m in models),
        latency_ms=_latency(
            f"{name}'s latency", (lh.latency, rh.latency), a.latency_ms, b.latency_ms
        ),
        out_of_range=a.out_of_range + b.out_of_range,
        interrupted=a.interrupted + b.interrupted,
        skipped=Skipped(
            after_failure=a.skipped.after_failure + b.skipped.after_failure,
            unsupported=a.skipped.unsupported + b.skipped.unsupported,
        ),
        top_errors=top,
        top_errors_unlisted=max(errors - sum(entry.count for entry in top), 0),
        empty=empty,
        empty_rate=(
            UNSET if isinstance(empty, UnsetType) else (empty / answered if answered else 0.0)
        ),
        corrected_latency_ms=_optional_latency(
            f"{name}'s corrected latency",
            (lh.corrected_latency, rh.corrected_latency),
            a.corrected_latency_ms,
            b.corrected_latency_ms,
        ),
        service_time_ms=_optional_latency(
            f"{name}'s service time",
            (lh.service_time, rh.service_time),
            a.service_time_ms,
            b.service_time_ms,
        ),
        stream=_merge_stream(name, a.stream, b.stream, (lh, rh), duration_s),
        histograms=merged_histograms,
    )


def merge_operations(
    a: Mapping[str, Operation], b: Mapping[str, Operation], duration_s: float
) -> dict[str, Operation]:
    """Two operation tables as one, sorted by name as the writer sorts them."""
    merged: dict[str, Operation] = {}
    for name in sorted(set(a) | set(b)):
        left, right = a.get(name), b.get(name)
        if left is None or right is None:
            # One side alone still has its rates recomputed over the merged span.
            only = left if right is None else right
            assert only is not None
            merged[name] = merge_operation(name, only, Operation(), duration_s)
        else:
            merged[name] = merge_operation(name, left, right, duration_s)
    return merged


def _merge_lag(what: str, a: LagFigures, b: LagFigures) -> LagFigures:
    state = _merged_state(a.histogram, b.histogram)
    figures = _latency(
        what,
        (a.histogram, b.histogram),
        Latency(**{k: getattr(a, k) for k in Latency.__struct_fields__ if k != "histogram"}),
        Latency(**{k: getattr(b, k) for k in Latency.__struct_fields__ if k != "histogram"}),
    )
    values = {k: getattr(figures, k) for k in Latency.__struct_fields__}
    return LagFigures(count=a.count + b.count, histogram=state, **values)


def _merge_scenario(name: str, a: Scenario, b: Scenario) -> Scenario:
    ran_s = max(a.ran_s, b.ran_s)
    ia, ib = a.iterations, b.iterations
    state = _merged_state(ia.duration_histogram, ib.duration_histogram)
    started = ia.started + ib.started
    iterations = Iterations(
        started=started,
        finished=ia.finished + ib.finished,
        failed=ia.failed + ib.failed,
        interrupted=ia.interrupted + ib.interrupted,
        rate_per_s=_per_s(started, ran_s),
        duration_ms=_latency(
            f"scenario {name}'s iteration time",
            (ia.duration_histogram, ib.duration_histogram),
            ia.duration_ms,
            ib.duration_ms,
        ),
        skipped_operations=ia.skipped_operations + ib.skipped_operations,
        duration_histogram=state,
    )
    return replace(
        a,
        start_time_s=min(a.start_time_s, b.start_time_s),
        ran_s=ran_s,
        started=a.started or b.started,
        max_vus=a.max_vus + b.max_vus,
        vus_allocated=a.vus_allocated + b.vus_allocated,
        iterations=iterations,
        dropped_iterations=a.dropped_iterations + b.dropped_iterations,
        operations=merge_operations(a.operations, b.operations, ran_s),
    )


def _united(a: Iterable[_T], b: Iterable[_T]) -> tuple[_T, ...]:
    """``a`` then what ``b`` adds, each once, in order."""
    return tuple(dict.fromkeys((*a, *b)))


def _unsupported(
    a: Iterable[UnsupportedRoute], b: Iterable[UnsupportedRoute]
) -> tuple[UnsupportedRoute, ...]:
    merged: dict[str, UnsupportedRoute] = {}
    for route in (*a, *b):
        seen = merged.get(route.operation)
        merged[route.operation] = (
            route
            if seen is None
            else replace(
                seen,
                count=seen.count + route.count,
                answered=seen.answered + route.answered,
                skipped=seen.skipped + route.skipped,
            )
        )
    return tuple(merged.values())


def _never_succeeded(
    a: Summary, b: Summary, operations: Mapping[str, Operation]
) -> tuple[NeverSucceeded, ...] | UnsetType:
    if isinstance(a.never_succeeded, UnsetType) and isinstance(b.never_succeeded, UnsetType):
        return UNSET
    entries: dict[str, list[NeverSucceeded]] = {}
    for side in (a.never_succeeded, b.never_succeeded):
        for entry in () if isinstance(side, UnsetType) else side:
            entries.setdefault(entry.operation, []).append(entry)
    result: list[NeverSucceeded] = []
    for name in sorted(entries):
        operation = operations.get(name)
        if operation is None or operation.ok > 0:
            continue  # it succeeded on the other side
        found = entries[name]
        result.append(
            NeverSucceeded(
                operation=name,
                count=operation.count,
                errors=operation.errors,
                expected=all(entry.expected for entry in found),
                unsupported=any(entry.unsupported for entry in found),
                top_errors=operation.top_errors[:3],
            )
        )
    return tuple(result)


def _when(a: str | None, b: str | None, *, latest: bool) -> str | None:
    """The earlier (or later) of two ISO 8601 times; either may be missing."""
    if a is None or b is None:
        return a if b is None else b
    later = datetime.fromisoformat(b) > datetime.fromisoformat(a)
    return b if later == latest else a


def merge_summaries(a: Summary, b: Summary) -> Summary:
    """:meth:`Summary.merge` (module docstring)."""
    if a.schema_version != b.schema_version:
        raise ResultsError(
            f"cannot merge schema_version {a.schema_version} with {b.schema_version}"
        )
    durations = [d for d in (a.duration_s, b.duration_s) if d is not None]
    duration_s = max(durations, default=0.0)
    operations = merge_operations(a.operations, b.operations, duration_s)
    tags = {
        tag: merge_operations(a.tags.get(tag, {}), b.tags.get(tag, {}), duration_s)
        for tag in sorted(set(a.tags) | set(b.tags))
    }
    scenarios = {
        name: (
            _merge_scenario(name, a.scenarios[name], b.scenarios[name])
            if name in a.scenarios and name in b.scenarios
            else a.scenarios.get(name) or b.scenarios[name]
        )
        for name in (*a.scenarios, *(n for n in b.scenarios if n not in a.scenarios))
    }
    requests = a.observation.requests + b.observation.requests
    all_requests = a.observation.all_requests + b.observation.all_requests
    by_operation = dict(a.observation.by_operation)
    for operation, n in b.observation.by_operation.items():
        by_operation[operation] = by_operation.get(operation, 0) + n
    planned = [p for p in (a.planned_duration_s, b.planned_duration_s) if p is not None]
    return replace(
        a,
        started_at=_when(a.started_at, b.started_at, latest=False),
        ended_at=_when(a.ended_at, b.ended_at, latest=True),
        duration_s=duration_s if durations else None,
        planned_duration_s=max(planned) if planned else None,
        partial=a.partial or b.partial,
        stop_reason=b.stop_reason if b.partial and not a.partial else a.stop_reason,
        operations=operations,
        scenarios=scenarios,
        tags=tags,
        dropped_iterations=a.dropped_iterations + b.dropped_iterations,
        observation=Observation(
            requests=requests,
            all_requests=all_requests,
            share=requests / all_requests if all_requests else 0.0,
            by_operation=dict(sorted(by_operation.items())),
        ),
        schedule_lag_ms=_merge_lag("schedule lag", a.schedule_lag_ms, b.schedule_lag_ms),
        event_loop_lag_ms=_merge_lag("event-loop lag", a.event_loop_lag_ms, b.event_loop_lag_ms),
        out_of_range={name: op.out_of_range for name, op in operations.items() if op.out_of_range},
        unsupported=_unsupported(a.unsupported, b.unsupported),
        warnings=_united(a.warnings, b.warnings),
        history=HistoryFigures(
            events=a.history.events + b.history.events,
            segments=a.history.segments + b.history.segments,
            compression_errors=_united(a.history.compression_errors, b.history.compression_errors),
        ),
        never_succeeded=_never_succeeded(a, b, operations),
        drift=UNSET,
        thresholds=UNSET,
        baseline=UNSET,
        check=None,
        workers=_concatenated(a.workers, b.workers),
    )


def _concatenated(
    a: tuple[Worker, ...] | UnsetType, b: tuple[Worker, ...] | UnsetType
) -> tuple[Worker, ...] | UnsetType:
    """Both sides' workers, each once (a side without any keeps it unset)."""
    if isinstance(a, UnsetType):
        return b
    if isinstance(b, UnsetType):
        return a
    return (*a, *b)
