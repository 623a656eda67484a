"""The Recorder: the one place a completed operation lands.

Every operation an actor performs goes through it twice: :meth:`Recorder.invoke` writes the
``invoke`` history line before the request is sent; :meth:`Recorder.ok`,
:meth:`Recorder.stream_ok` or :meth:`Recorder.failed` update the metrics and write the
completion line. Nothing here awaits, so a cancelled task records its completion without a
checkpoint in between, and the metrics and the history never disagree.

What is measured, per :class:`OperationScope` (one operation of one scenario, with its tags):

- **latency** (``latency_ms``), by load model. *Open* (arrival-rate executors): the first
  operation of an iteration is timed from the iteration's *intended* start (the pacer's
  schedule), every later one from its own start; the time from the actual send is kept apart
  as ``service_time_ms``. *Closed* (VU executors): raw latency from the actual send, plus
  ``corrected_latency_ms``, HdrHistogram's coordinated-omission back-fill with the VU's mean
  iteration time as the expected interval (the step's think time before the VU's first
  iteration ends; no back-fill when both are 0). *Burst*: raw latency from the send.
- **outcomes**: ok; ``http`` errors by status (still timed); ``transport`` errors and
  ``timeout`` (not timed); ``run`` errors (the graph failed: an ``__error__`` body or an
  ``error`` event; timed and counted as errors); ``other`` (an unexpected exception, also
  reported as a warning). Operations lgbench cut itself (a graceful stop expired, a VU ramped
  down) are ``interrupted``: counted apart, in neither ``count`` nor ``errors``, so that the
  end of a run does not fail an error threshold (k6 calls such iterations interrupted). Calls never
  made are counted apart (``skipped``): after an earlier operation of the iteration failed,
  and of operations the server does not implement (:attr:`Recorder.routes`).
- **streams**: time to first event after ``metadata`` (``ttfe_ms``, same start as latency),
  the gaps between events (``event_gap_ms``), events per stream, and ``queue_wait_ms``: from
  sending to the ``metadata`` event, which langgraph-api sends when a worker picks the run up
  (so it is the run's wait in the server's queue plus one round trip), and ``reconnects``:
  how often interrupted resumable streams were joined again (see the actor). For
  ``runs.wait`` and ``runs.join`` the queue wait cannot be told apart from the run's own time
  without extra requests, so it is not reported. Chat replies (``messages-tuple``): time to
  first token (``ttft``), inter-token latency (``itl``), and each reply stream's own tokens
  per second (``tokens_per_s``: its tokens over its time from the send to its end, kept in
  thousandths, :data:`~lgbench.results.TOKEN_RATE_SCALE`), all three derived series.
- **the tool itself**: ``schedule_lag`` (how late arrival-rate iterations and staggered burst
  runs started against their schedule: only timers that fired late, never a run due while
  the previous request was still awaited) and ``loop_lag`` (how much a 10 ms sleep
  overslept): when either's p99 (of at least 100 samples) passes 10 ms, the summary warns,
  naming lgbench as the bottleneck only when its own CPU was near a full core, else the busy
  machine (:func:`bottleneck_warnings`).

Every second the runner calls :meth:`Recorder.snapshot`, which closes the interval, writes one
``intervals.hlog`` line per operation (``Tag=runs.wait``) and per derived series
(``Tag=runs.stream.ttfe``, ``Tag=runs.stream.tokens_per_s``, ``Tag=lgbench.loop_lag`` ...),
and returns the interval for the live view. Percentiles are computed there and at the end,
never per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, final

import msgspec
import msgspec.structs

from lgbench.client import ApiError, RunError, TimeoutError, TransportError
from lgbench.engine._routes import RouteSupport
from lgbench.history import (
    CompletionType,
    ErrorTally,
    HistoryWriter,
    Invocation,
    StreamSummary,
    classify_error,
    error_kind,
    error_message,
    invoke_value,
    ok_value,
    run_error_message,
    tenancy_invoke,
    tenancy_ok,
)
from lgbench.metrics import (
    HlogWriter,
    IntervalSnapshot,
    LatencyRecorder,
    MetricKey,
    MetricsRegistry,
    OperationMetrics,
)
from lgbench.operations import operation_names
from lgbench.results import (
    REPLY_RATE_SERIES,
    TOKEN_RATE_SCALE,
    ErrorsByKind,
    Latency,
    Observation,
    Operation,
    OperationHistograms,
    Skipped,
    Stream,
    TopError,
    count_stats,
    token_rate_stats,
)

__all__ = [
    "BUSY_CPU_PERCENT",
    "LAG_WARNING_MS",
    "THREAD_LEDGER_CAP",
    "LoadModel",
    "OperationScope",
    "Recorder",
    "ScenarioStats",
    "Snapshot",
    "ThreadLedger",
    "bottleneck_warnings",
]

#: Open (arrival rate), closed (VUs looping) or burst.
LoadModel: TypeAlias = Literal["open", "closed", "burst"]

LAG_WARNING_MS: Final = 10.0
"""Schedule or event-loop lag whose p99 exceeds this means lgbench (or the machine) was late."""
BUSY_CPU_PERCENT: Final = 80.0
#: How busy the whole machine (every core, 0 to 100) must have been, in some interval, to be
#: blamed for lgbench's late timers when lgbench's own CPU was low.
BUSY_MACHINE_PERCENT: Final = 85.0
"""lgbench's process CPU (100 = one core) from which its own lag is its own doing."""

_SCHEDULE_LAG: Final = "lgbench.schedule_lag"
_LOOP_LAG: Final = "lgbench.loop_lag"
_MAX_WARNINGS: Final = 50
#: Operations whose empty answers the summary counts (``empty``): waits, joins and streams.
_EMPTY_OPERATIONS: Final = operation_names(lambda op: op.follows_run)
#: Of those, the ones whose ok answer is empty when it carries no values and no error.
_WAITS: Final = operation_names(lambda op: op.follows_run and not op.streams)
#: How many thread ids the ledger remembers for the post-run audit (the most recent ones).
THREAD_LEDGER_CAP: Final = 10_000
_TOP_ERRORS: Final = 5
_MIN_LAG_SAMPLES: Final = 100
_NO_METRICS: Final = OperationMetrics()  # the live metrics of a copied scope: never used
_LATENCY_BASIS: Final[dict[str, str]] = {
    "open": "from the intended start (the pacer's schedule) for an iteration's first operation",
    "closed": "from the actual send; corrected_latency_ms back-fills coordinated omission",
    "burst": "from the actual send",
}


@final
class _Counts:
    """Outcomes :class:`OperationMetrics` has no place for."""

    __slots__ = (
        "cancelled",
        "empty",
        "errors",
        "other",
        "reconnects",
        "reply_tokens",
        "requests",
        "run",
        "skipped",
        "unsupported",
    )

    def __init__(self) -> None:
        self.run = 0
        self.cancelled = 0
        self.other = 0
        # Not an outcome: reconnections of interrupted resumable streams, whatever their end.
        self.reconnects = 0
        # Not an outcome: tokens of chat replies streamed (ok streams).
        self.reply_tokens = 0
        # Ok answers that carried no result: a stream with no event after metadata, a wait
        # or join answered with no values and no error.
        self.empty = 0
        # Requests sent (every invoke), whatever their outcome.
        self.requests = 0
        # Calls never made: after an earlier operation of the iteration failed, or of an
        # operation the server does not implement (see the actor).
        self.skipped = 0
        self.unsupported = 0
        self.errors: ErrorTally | None = None  # made on the first error: most scopes have none

    def error(self, kind: str, status: int | None, message: str) -> None:
        if self.errors is None:
            self.errors = ErrorTally()
        self.errors.add(kind, status, message)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for another process to add up (:meth:`merge_dict`)."""
        state: dict[str, Any] = {name: getattr(self, name) for name in _COUNT_FIELDS}
        errors = self.errors
        state["errors"] = (
            None
            if errors is None
            else {
                "entries": [list(entry) for entry in errors.entries()],
                "unlisted": errors.unlisted,
            }
        )
        return state

    def merge_dict(self, state: Mapping[str, Any]) -> None:
        for name in _COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + int(state[name]))
        errors = state.get("errors")
        if errors is not None:
            if self.errors is None:
                self.errors = ErrorTally()
            for kind, status, message, count in errors["entries"]:
                self.errors.add(kind, status, message, count)
            self.errors.unlisted += int(errors["unlisted"])

    def merge(self, other: _Counts) -> None:
        for name in _COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.errors is not None:
            if self.errors is None:
                self.errors = ErrorTally()
            self.errors.merge(other.errors)


_COUNT_FIELDS: Final = (
    "run",
    "cancelled",
    "other",
    "reconnects",
    "reply_tokens",
    "empty",
    "requests",
    "skipped",
    "unsupported",
)
_STATS_COUNTERS: Final = (
    "started",
    "finished",
    "failed",
    "interrupted",
    "dropped",
    "active_vus",
    "allocated_vus",
)


@final
class OperationScope:
    """One operation of one scenario: its metrics objects, looked up once and reused.

    ``model`` decides how latency is timed (see the module docstring).
    """

    __slots__ = (
        "_aux",
        "_recorder",
        "audit",
        "counts",
        "events",
        "key",
        "metrics",
        "model",
        "observer",
        "operation",
        "replies",
        "scenario",
        "user",
    )

    def __init__(
        self,
        recorder: Recorder,
        key: MetricKey,
        model: LoadModel,
        *,
        observer: bool,
        audit: bool = False,
        user: str | None = None,
    ) -> None:
        self._recorder = recorder
        #: The label of the user the operation is made as (``[target.auth]``), else None.
        self.user = user
        self.key = key
        self.operation = key.operation
        self.scenario = key.scenario
        self.model = model
        self.observer = observer or audit
        # The post-run audit's operations live in a registry of their own: never in the
        # workload's latencies, tables, thresholds or baseline comparisons.
        self.audit = audit
        registry = recorder.audit_registry if audit else recorder.registry
        self.metrics = registry.metrics_for(key)
        self.counts = _Counts()
        self.events: LatencyRecorder | None = None
        #: Tokens of each chat reply stream (a histogram of counts): made on the first reply.
        self.replies: LatencyRecorder | None = None
        self._aux: dict[str, OperationMetrics] = {}

    def aux(self, series: str) -> OperationMetrics:
        """The derived series ``<operation>.<series>`` of this scope (created on first use)."""
        found = self._aux.get(series)
        if found is None:
            key = MetricKey(f"{self.operation}.{series}", self.key.scenario, self.key.tags)
            registry = self._recorder.audit_registry if self.audit else self._recorder.aux
            found = self._aux[series] = registry.metrics_for(key)
        return found

    def copied(self, recorder: Recorder) -> OperationScope:
        """This scope's counts and stream events, copied into ``recorder`` (a
        :meth:`Recorder.copy`), without live metrics: a copy records nothing."""
        twin = OperationScope.__new__(OperationScope)
        twin._recorder = recorder
        twin.key = self.key
        twin.operation = self.operation
        twin.scenario = self.scenario
        twin.model = self.model
        twin.observer = self.observer
        twin.audit = self.audit
        twin.user = self.user
        twin.metrics = _NO_METRICS
        twin.counts = _Counts()
        twin.counts.merge(self.counts)
        twin.events = None if self.events is None else self.events.copy()
        twin.replies = None if self.replies is None else self.replies.copy()
        twin._aux = {}
        return twin

    def record_gap(self, previous_s: float, now_s: float) -> None:
        """The gap between two events of a stream."""
        self.aux("event_gap").record(previous_s, now_s)

    def __repr__(self) -> str:
        return f"<OperationScope {self.key.label()} {self.model}>"


@final
class ScenarioStats:
    """What a scenario did: iterations, drops, VUs, and when it ran (clock seconds)."""

    __slots__ = (
        "active_vus",
        "allocated_vus",
        "description",
        "dropped",
        "ended_s",
        "executor",
        "failed",
        "finished",
        "interrupted",
        "iteration_time",
        "max_vus",
        "model",
        "name",
        "planned_s",
        "start_time_s",
        "started",
        "started_s",
        "tags",
    )

    def __init__(
        self,
        *,
        name: str,
        executor: str,
        model: LoadModel,
        description: str,
        tags: Mapping[str, str],
        start_time_s: float,
        planned_s: float,
        max_vus: int,
    ) -> None:
        self.name = name
        self.executor = executor
        self.model = model
        self.description = description
        self.tags = dict(tags)
        self.start_time_s = start_time_s
        self.planned_s = planned_s
        self.max_vus = max_vus
        self.started_s: float | None = None
        self.ended_s: float | None = None
        self.started = 0
        self.finished = 0
        self.failed = 0
        self.interrupted = 0
        self.dropped = 0
        self.active_vus = 0
        self.allocated_vus = 0
        self.iteration_time = LatencyRecorder()

    def copy(self) -> ScenarioStats:
        """An independent copy (the iteration-time histogram copied too)."""
        twin = ScenarioStats(
            name=self.name,
            executor=self.executor,
            model=self.model,
            description=self.description,
            tags=self.tags,
            start_time_s=self.start_time_s,
            planned_s=self.planned_s,
            max_vus=self.max_vus,
        )
        twin.started_s = self.started_s
        twin.ended_s = self.ended_s
        twin.started = self.started
        twin.finished = self.finished
        twin.failed = self.failed
        twin.interrupted = self.interrupted
        twin.dropped = self.dropped
        twin.active_vus = self.active_vus
        twin.allocated_vus = self.allocated_vus
        twin.iteration_time = self.iteration_time.copy()
        return twin

    @property
    def running(self) -> bool:
        """Started and not ended."""
        return self.started_s is not None and self.ended_s is None

    def elapsed_s(self, now_s: float) -> float:
        """How long it has run (0 before its start)."""
        if self.started_s is None:
            return 0.0
        return (self.ended_s if self.ended_s is not None else now_s) - self.started_s


@final
class ThreadLedger:
    """The threads the workload created, for the post-run audit: in creation order, with
    whether the workload deleted them; at most ``cap`` (the oldest are forgotten first, and
    counted in ``forgotten``), so a soak's memory stays bounded."""

    __slots__ = ("cap", "forgotten", "owners", "threads")

    def __init__(self, cap: int = THREAD_LEDGER_CAP) -> None:
        self.cap = cap
        self.forgotten = 0
        #: thread id -> deleted by the workload (an ok ``threads.delete``).
        self.threads: dict[str, bool] = {}
        #: thread id -> the label of the user who created it (``[target.auth]`` only), so
        #: that the audit reads each thread back as its owner.
        self.owners: dict[str, str] = {}

    def add(self, thread_id: str, user: str | None = None) -> None:
        if thread_id in self.threads:
            return
        self.threads[thread_id] = False
        if user is not None:
            self.owners[thread_id] = user
        if len(self.threads) > self.cap:
            oldest = next(iter(self.threads))
            del self.threads[oldest]
            self.owners.pop(oldest, None)
            self.forgotten += 1

    def deleted(self, thread_id: str) -> None:
        if thread_id in self.threads:
            self.threads[thread_id] = True

    def settled(self, thread_id: str) -> None:
        """Read back after its runs settled (a burst's observer did): the audit may skip it."""
        self.threads.pop(thread_id, None)
        self.owners.pop(thread_id, None)

    def saw(
        self, operation: str, arguments: Mapping[str, Any], result: Any, user: str | None = None
    ) -> None:
        """An ok answer of the workload (made as ``user``): a thread created, or deleted."""
        if operation in ("threads.create", "threads.copy"):
            thread_id = result.get("thread_id") if isinstance(result, Mapping) else None
            if isinstance(thread_id, str):
                self.add(thread_id, user)
        elif operation == "threads.delete":
            thread_id = arguments.get("thread_id")
            if isinstance(thread_id, str):
                self.deleted(thread_id)

    def __len__(self) -> int:
        return len(self.threads)


@final
@dataclass(frozen=True, slots=True)
class Snapshot:
    """One closed interval: operation metrics and derived series, seconds since the start.

    ``derived`` holds, among its series, each chat reply stream's tokens per second (in
    thousandths, :data:`TOKEN_RATE_SCALE`) as ``<operation>.tokens_per_s``.
    """

    operations: IntervalSnapshot
    derived: IntervalSnapshot

    @property
    def start_s(self) -> float:
        return self.operations.start_s

    @property
    def end_s(self) -> float:
        return self.operations.end_s


def _merged(items: Iterable[OperationMetrics]) -> OperationMetrics:
    merged = OperationMetrics()
    for item in items:
        merged.merge(item)
    return merged


def _ms_stats(recorder: LatencyRecorder) -> Latency:
    return Latency(**recorder.stats().to_ms())


def _histograms(
    operation: str,
    metrics: OperationMetrics,
    derived: Mapping[str, OperationMetrics],
    events: LatencyRecorder | None,
    replies: LatencyRecorder | None = None,
) -> dict[str, Any]:
    """The histograms behind an operation's figures, by the figure's name (see
    :class:`lgbench.results.OperationHistograms`); only those it has."""
    found: dict[str, Any] = {"latency": metrics.latency.to_dict()}
    if metrics.corrected is not None:
        found["corrected_latency"] = metrics.corrected.to_dict()
    service = derived.get(f"{operation}.service_time")
    if service is not None and service.latency.count:
        found["service_time"] = service.latency.to_dict()
    if events is not None:
        found["events"] = events.to_dict()
        for series in ("ttfe", "event_gap", "queue_wait", "ttft", "itl"):
            aux = derived.get(f"{operation}.{series}")
            if aux is not None:
                found[series] = aux.latency.to_dict()
        rates = derived.get(f"{operation}.{REPLY_RATE_SERIES}")
        if rates is not None:
            found["reply_rates"] = rates.latency.to_dict()
        if replies is not None:
            found["reply_tokens"] = replies.to_dict()
    return found


@final
class Recorder:
    """Metrics and history of one run, fed by every actor; see the module docstring.

    ``clock`` is the event loop's monotonic clock, ``origin_s`` the run's start on it.
    ``hlog`` (optional) receives every interval.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        origin_s: float,
        history: HistoryWriter,
        hlog: HlogWriter | None = None,
        keep_stream_events: bool = False,
    ) -> None:
        self.clock = clock
        self.origin_s = origin_s
        self.history = history
        self.hlog = hlog
        self.keep_stream_events = keep_stream_events
        self.registry = MetricsRegistry(origin_s)
        self.aux = MetricsRegistry(origin_s)
        self.audit_registry = MetricsRegistry(origin_s)
        self.threads = ThreadLedger()
        self.scenarios: dict[str, ScenarioStats] = {}
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self._scopes: dict[tuple[MetricKey, bool, bool], OperationScope] = {}
        self._schedule_lag = self.aux.metrics(_SCHEDULE_LAG)
        self._loop_lag = self.aux.metrics(_LOOP_LAG)
        self.on_warning: Callable[[str], None] | None = None
        self.routes = RouteSupport(self.warn)
        self._history_figures: dict[str, Any] | None = None  # a copy's, frozen
        #: The metadata key a deployment names a resource's owner in ([target.auth]).
        self.owner_key = "owner"
        # What other processes of the run counted (import_counts): merged, read-only scopes.
        self._imported: list[OperationScope] = []

    def copy(self) -> Recorder:
        """Everything a summary reads, copied, for another thread to summarise.

        The event loop records into this recorder without a lock, so no other thread may read
        it: hdrh's percentile scan over a histogram that changes under it misses the top
        percentile (``KeyError: 100.0``), and dicts change size under iteration. The copy
        (cumulative totals, each scope's counts and stream events, the scenarios, the warnings,
        the history's figures) costs one block copy per histogram, not a percentile scan, so
        it is taken on the loop. A copy is for reading: it writes no
        history or .hlog line and its figures never change.
        """
        twin = Recorder(
            clock=self.clock,
            origin_s=self.origin_s,
            history=self.history,
            keep_stream_events=self.keep_stream_events,
        )
        twin.registry = self.registry.copy()
        twin.aux = self.aux.copy()
        twin.audit_registry = self.audit_registry.copy()
        twin.routes = self.routes.copy()
        twin.scenarios = {name: stats.copy() for name, stats in self.scenarios.items()}
        twin.warnings = list(self.warnings)
        twin._warned = set(self._warned)
        twin._scopes = {place: scope.copied(twin) for place, scope in self._scopes.items()}
        twin._imported = [scope.copied(twin) for scope in self._imported]
        twin._history_figures = self.history_figures()
        return twin

    def history_figures(self) -> dict[str, Any]:
        """The history's lines written, finished segments and failed compressions."""
        if self._history_figures is not None:
            return dict(self._history_figures)
        return {
            "events": self.history.lines_written,
            "segments": self.history.segments,
            "compression_errors": list(self.history.compression_errors),
        }

    # -- set-up ----------------------------------------------------------------------------

    def scenario(self, stats: ScenarioStats) -> ScenarioStats:
        """Register a scenario's stats (names are unique)."""
        if stats.name in self.scenarios:
            raise ValueError(f"scenario {stats.name!r} is registered already")
        self.scenarios[stats.name] = stats
        return stats

    def scope(
        self,
        operation: str,
        scenario: str,
        tags: Mapping[str, str] | None,
        model: LoadModel,
        *,
        observer: bool = False,
        audit: bool = False,
        user: str | None = None,
    ) -> OperationScope:
        """The scope of ``operation`` in ``scenario`` (observers get a ``role=observer`` tag,
        the post-run audit's operations ``role=audit``); ``user``: made as that user, tagged
        ``user=<label>`` (the audit's are not tagged: they stay out of the figures anyway)."""
        all_tags = dict(tags or {})
        if user is not None and not audit:
            all_tags["user"] = user
        if audit:
            all_tags["role"] = "audit"
        elif observer:
            all_tags["role"] = "observer"
        key = MetricKey.of(operation, scenario, all_tags)
        found = self._scopes.get((key, observer, audit))
        if found is None:
            found = self._scopes[key, observer, audit] = OperationScope(
                self, key, model, observer=observer, audit=audit, user=user
            )
        return found

    def operation_scopes(self) -> list[OperationScope]:
        """Every scope made so far (their counts are cumulative), other processes' too."""
        return [*self._scopes.values(), *self._imported]

    def _load_scopes(self) -> list[OperationScope]:
        own = [scope for scope in self._scopes.values() if not scope.audit]
        return [*own, *self._imported] if self._imported else own

    def new_process(self) -> int:
        """A fresh process id (a new actor, or an actor after an ``info``)."""
        return self.history.new_process()

    def warn(self, key: str, message: str) -> None:
        """A warning for the summary and the live view, once per ``key``."""
        if key in self._warned:
            return
        self._warned.add(key)
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(message)
        if self.on_warning is not None:
            self.on_warning(message)

    # -- operations ------------------------------------------------------------------------

    def invoke(
        self,
        scope: OperationScope,
        *,
        process: int,
        actor: int,
        arguments: Mapping[str, Any],
        at_s: float,
    ) -> Invocation:
        """The ``invoke`` line, written before the request goes out."""
        scope.counts.requests += 1
        value = invoke_value(scope.operation, arguments)
        if scope.observer:
            value["observer"] = True
        if scope.user is not None:
            value.update(tenancy_invoke(scope.operation, arguments, scope.user))
        return self.history.invoke(
            process=process,
            actor=actor,
            scenario=scope.scenario,
            f=scope.operation,
            value=value,
            at_s=at_s,
        )

    def _time(
        self,
        scope: OperationScope,
        *,
        start_s: float,
        latency_start_s: float,
        end_s: float,
        expected_interval_us: int,
        error_status: int | None = None,
    ) -> None:
        metrics = scope.metrics
        if scope.model == "closed":
            in_range = metrics.record_corrected(
                start_s, end_s, expected_interval_us, error_status=error_status
            )
        else:
            in_range = metrics.record(latency_start_s, end_s, error_status=error_status)
            if scope.model == "open":
                scope.aux("service_time").record(start_s, end_s)
        if not in_range:
            self.warn(
                f"range:{scope.operation}",
                f"{scope.operation}: a latency outside 0 .. 1 h was counted in out_of_range",
            )

    def ok(
        self,
        scope: OperationScope,
        invocation: Invocation,
        arguments: Mapping[str, Any],
        result: Any,
        *,
        start_s: float,
        latency_start_s: float,
        end_s: float,
        expected_interval_us: int = 0,
        run_error: RunError | None = None,
    ) -> None:
        """A completed operation that took effect (``run_error``: the graph failed)."""
        self._time(
            scope,
            start_s=start_s,
            latency_start_s=latency_start_s,
            end_s=end_s,
            expected_interval_us=expected_interval_us,
        )
        value = ok_value(scope.operation, arguments, result)
        if run_error is not None or (isinstance(value, dict) and value.get("error") is not None):
            scope.counts.run += 1
            found = run_error if run_error is not None else value.get("error")
            scope.counts.error("run", None, run_error_message(found))
        elif scope.operation in _WAITS and not value.get("has_values"):
            scope.counts.empty += 1
        if not scope.observer:
            self.threads.saw(scope.operation, arguments, result, scope.user)
        if scope.observer:
            value["observer"] = True
        if scope.user is not None:
            value.update(tenancy_ok(scope.operation, result, self.owner_key))
        self.history.complete(invocation, "ok", value=value, at_s=end_s)

    def stream_ok(
        self,
        scope: OperationScope,
        invocation: Invocation,
        arguments: Mapping[str, Any],
        summary: StreamSummary,
        *,
        start_s: float,
        latency_start_s: float,
        end_s: float,
        metadata_s: float | None,
        first_event_s: float | None,
        first_token_s: float | None = None,
        expected_interval_us: int = 0,
        reconnects: int = 0,
    ) -> dict[str, Any]:
        """A stream read to its end; returns the ok line's value (what ``save`` keeps).

        ``reconnects``: how often the stream was reconnected (a resumable run's stream whose
        connection broke); when any, the value says so (``reconnects``).
        """
        self._time(
            scope,
            start_s=start_s,
            latency_start_s=latency_start_s,
            end_s=end_s,
            expected_interval_us=expected_interval_us,
        )
        if first_event_s is not None:
            scope.aux("ttfe").record(latency_start_s, first_event_s)
        if first_token_s is not None:
            scope.aux("ttft").record(latency_start_s, first_token_s)
        if summary.reply_chunks:
            scope.counts.reply_tokens += summary.reply_chunks
            if scope.replies is None:
                scope.replies = LatencyRecorder()
            scope.replies.record_us(summary.reply_chunks)
            # As LLM serving benchmarks count a request's output rate: its tokens over its
            # whole time, from the send (the latency's start) to the stream's end.
            if end_s > latency_start_s:
                rate = summary.reply_chunks / (end_s - latency_start_s)
                thousandths = max(1, round(rate * TOKEN_RATE_SCALE))
                # A derived series like ttft's: per interval in the .hlog, merged across
                # workers with the intervals, summed into the summary's whole-run figures.
                scope.aux(REPLY_RATE_SERIES).record_value(thousandths)
        if metadata_s is not None:
            scope.aux("queue_wait").record(start_s, metadata_s)
        if scope.events is None:
            scope.events = LatencyRecorder()
        scope.events.record_us(summary.events)
        if summary.error_event is not None:
            scope.counts.run += 1
            scope.counts.error("run", None, run_error_message(summary.error_event))
        elif not summary.events:
            scope.counts.empty += 1
        value = summary.to_value(arguments)
        if reconnects:
            scope.counts.reconnects += reconnects
            value["reconnects"] = reconnects
        self.history.complete(invocation, "ok", value=value, at_s=end_s)
        return value

    def stream_reconnects(self, scope: OperationScope, reconnects: int) -> None:
        """Reconnections of a stream that then failed (its completion goes through
        :meth:`failed`): counted in the summary all the same."""
        scope.counts.reconnects += reconnects

    def failed(
        self,
        scope: OperationScope,
        invocation: Invocation,
        arguments: Mapping[str, Any],
        exc: BaseException | None,
        *,
        start_s: float,
        latency_start_s: float,
        end_s: float,
        expected_interval_us: int = 0,
        cancelled: bool = False,
    ) -> CompletionType:
        """An operation that raised (or was cancelled); returns ``fail`` or ``info``.

        After ``info`` the actor must continue under a new process id.
        """
        kind = error_kind(exc, cancelled=cancelled)
        if kind == "http":
            assert isinstance(exc, ApiError)
            self._time(
                scope,
                start_s=start_s,
                latency_start_s=latency_start_s,
                end_s=end_s,
                expected_interval_us=expected_interval_us,
                error_status=exc.status_code,
            )
        elif kind == "timeout":
            scope.metrics.record_timeout()
        elif kind == "transport":
            scope.metrics.record_transport_error()
        elif kind == "cancelled":
            scope.counts.cancelled += 1
        else:
            scope.counts.other += 1
            self.warn(
                f"other:{scope.operation}:{type(exc).__name__}",
                f"{scope.operation}: unexpected {type(exc).__name__}: {exc}",
            )
        if kind != "cancelled":  # interrupted, not an error: no place among top_errors
            scope.counts.error(
                kind,
                exc.status_code if isinstance(exc, ApiError) else None,
                error_message(exc, cancelled=cancelled),
            )
        type_, error = classify_error(scope.operation, arguments, exc, cancelled=cancelled)
        value: dict[str, Any] | None = {"observer": True} if scope.observer else None
        self.history.complete(invocation, type_, value=value, error=error, at_s=end_s)
        if isinstance(exc, TransportError) and not isinstance(exc, TimeoutError):
            self.warn(f"transport:{type(exc).__name__}", f"transport error: {exc}")
        return type_

    # -- the tool itself ---------------------------------------------------------------------

    def schedule_lag(self, intended_s: float, actual_s: float) -> None:
        """An iteration (or a staggered burst run) due at ``intended_s`` started at ``actual_s``."""
        # The lag in whole µs, 0 if early, recorded as it is: the open model's dispatcher
        # records one per iteration.
        lag_s = actual_s - intended_s
        self._schedule_lag.record_value(round(lag_s * 1_000_000) if lag_s > 0 else 0)

    def loop_lag(self, expected_s: float, actual_s: float) -> None:
        """A sleep that should have ended at ``expected_s`` ended at ``actual_s``."""
        self._loop_lag.record(expected_s, max(actual_s, expected_s))

    def marker(self, name: str, *, scenario: str, value: Mapping[str, Any] | None = None) -> None:
        """A history marker (``burst.start``, ``burst.settled``, ``run.partial``)."""
        self.history.marker(name, scenario=scenario, value=value)

    # -- intervals -----------------------------------------------------------------------------

    def snapshot(self, now_s: float) -> Snapshot:
        """Close the interval at ``now_s`` (clock seconds); write it to the .hlog."""
        now_s = max(now_s, self.origin_s + self.registry.elapsed_s)
        snapshot = Snapshot(
            self.registry.snapshot_interval(now_s), self.aux.snapshot_interval(now_s)
        )
        if self.hlog is not None:
            self.hlog.write_snapshot(snapshot.operations)
            self.hlog.write_snapshot(snapshot.derived)
        return snapshot

    @property
    def elapsed_s(self) -> float:
        """What the totals cover: up to the last snapshot, seconds since the start."""
        return self.registry.elapsed_s

    # -- the summary ---------------------------------------------------------------------------

    @staticmethod
    def _selected(key: MetricKey, scenario: str | None, tag: tuple[str, str] | None) -> bool:
        return (scenario is None or key.scenario == scenario) and (tag is None or tag in key.tags)

    def _totals(
        self, registry: MetricsRegistry, scenario: str | None, tag: tuple[str, str] | None
    ) -> dict[str, OperationMetrics]:
        by_operation: dict[str, list[OperationMetrics]] = {}
        for key, metrics in sorted(registry.totals.items()):
            if self._selected(key, scenario, tag):
                by_operation.setdefault(key.operation, []).append(metrics)
        return {operation: _merged(items) for operation, items in by_operation.items()}

    def tags(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` tag some operation was recorded under, sorted."""
        return sorted({tag for scope in self._load_scopes() for tag in scope.key.tags})

    def operations_summary(
        self,
        duration_s: float,
        scenario: str | None = None,
        tag: tuple[str, str] | None = None,
        *,
        histograms: bool = False,
    ) -> dict[str, Any]:
        """:meth:`operations` as summary.json has them (plain data)."""
        found = self.operations(duration_s, scenario, tag, histograms=histograms)
        return {name: msgspec.to_builtins(operation) for name, operation in found.items()}

    def operations(
        self,
        duration_s: float,
        scenario: str | None = None,
        tag: tuple[str, str] | None = None,
        *,
        histograms: bool = False,
    ) -> dict[str, Operation]:
        """Per operation (of every scenario, or one, or those with a tag), the summary the
        module docstring describes (:class:`lgbench.results.Operation`). Take a last
        :meth:`snapshot` first: totals stop there.

        ``histograms``: each entry also holds the histograms its figures come from
        (:class:`lgbench.results.OperationHistograms`), so that the summaries of processes
        that ran side by side merge exactly; summary.json leaves them out.
        """
        totals = self._totals(self.registry, scenario, tag)
        derived = self._totals(self.aux, scenario, tag)
        counts: dict[str, _Counts] = {}
        events: dict[str, LatencyRecorder] = {}
        replies: dict[str, LatencyRecorder] = {}
        models: dict[str, set[str]] = {}
        for scope in self._load_scopes():
            if not self._selected(scope.key, scenario, tag):
                continue
            counts.setdefault(scope.operation, _Counts()).merge(scope.counts)
            models.setdefault(scope.operation, set()).add(scope.model)
            if scope.events is not None:
                events.setdefault(scope.operation, LatencyRecorder()).merge(scope.events)
            if scope.replies is not None:
                replies.setdefault(scope.operation, LatencyRecorder()).merge(scope.replies)
        result: dict[str, Operation] = {}
        for operation in sorted(set(totals) | set(counts)):
            metrics = totals.get(operation, OperationMetrics())
            extra = counts.get(operation, _Counts())
            result[operation] = self._operation(
                operation,
                metrics,
                extra,
                derived,
                events.get(operation),
                sorted(models.get(operation, ())),
                duration_s,
                replies=replies.get(operation),
                histograms=histograms,
            )
        return result

    @staticmethod
    def _operation(
        operation: str,
        metrics: OperationMetrics,
        extra: _Counts,
        derived: Mapping[str, OperationMetrics],
        events: LatencyRecorder | None,
        models: list[str],
        duration_s: float,
        *,
        replies: LatencyRecorder | None = None,
        histograms: bool = False,
    ) -> Operation:
        # Operations lgbench cut itself (``interrupted``) are neither counted nor errors.
        count = metrics.count + extra.other
        errors = metrics.errors + extra.other + extra.run
        top = extra.errors.top(_TOP_ERRORS) if extra.errors is not None else []
        summary = Operation(
            count=count,
            ok=metrics.ok - extra.run,
            errors=errors,
            errors_by_kind=ErrorsByKind(
                http={str(status): n for status, n in sorted(metrics.http_errors.items())},
                transport=metrics.transport_errors,
                timeout=metrics.timeouts,
                run=extra.run,
                other=extra.other,
            ),
            interrupted=extra.cancelled,
            rate_per_s=count / duration_s if duration_s > 0 else 0.0,
            models=tuple(models),
            latency_basis="; ".join(f"{model}: {_LATENCY_BASIS[model]}" for model in models),
            latency_ms=_ms_stats(metrics.latency),
            out_of_range=metrics.out_of_range,
            # Calls not made (not in count): see the actor's module docstring.
            skipped=Skipped(after_failure=extra.skipped, unsupported=extra.unsupported),
            # The most frequent messages, and the errors not in that list (docs/summary.md).
            top_errors=tuple(TopError(**entry) for entry in top),
            top_errors_unlisted=max(errors - sum(entry["count"] for entry in top), 0),
        )
        if operation in _EMPTY_OPERATIONS:
            summary = msgspec.structs.replace(
                summary,
                empty=extra.empty,
                empty_rate=extra.empty / metrics.ok if metrics.ok else 0.0,
            )
        if metrics.corrected is not None:
            summary = msgspec.structs.replace(
                summary, corrected_latency_ms=_ms_stats(metrics.corrected)
            )
        service = derived.get(f"{operation}.service_time")
        if service is not None and service.latency.count:
            summary = msgspec.structs.replace(summary, service_time_ms=_ms_stats(service.latency))
        if events is not None:

            def ms(series: str) -> Latency:
                aux = derived.get(f"{operation}.{series}")
                return _ms_stats(aux.latency if aux else LatencyRecorder())

            rates = derived.get(f"{operation}.{REPLY_RATE_SERIES}")
            stream = Stream(
                streams=events.count,
                events=count_stats(events),
                events_per_s=events.sum_us / duration_s if duration_s > 0 else 0.0,
                ttfe_ms=ms("ttfe"),
                event_gap_ms=ms("event_gap"),
                queue_wait_ms=ms("queue_wait"),
                reconnects=extra.reconnects,
                # Chat replies (the chat and agent graphs' tokens, messages-tuple mode):
                ttft_ms=ms("ttft"),
                itl_ms=ms("itl"),
                reply_tokens=extra.reply_tokens,
                reply_tokens_per_s=extra.reply_tokens / duration_s if duration_s > 0 else 0.0,
                stream_tokens_per_s=token_rate_stats(rates.latency if rates is not None else None),
                reply_tokens_per_stream=count_stats(replies or LatencyRecorder()),
            )
            summary = msgspec.structs.replace(summary, stream=stream)
        if histograms:
            found = _histograms(operation, metrics, derived, events, replies)
            summary = msgspec.structs.replace(
                summary, histograms=msgspec.convert(found, OperationHistograms)
            )
        return summary

    def requests(self) -> tuple[int, int]:
        """Requests the load sent (the audit's apart), and how many of them were observation
        (a burst's polling and its reads after settling)."""
        total = observation = 0
        for scope in self._load_scopes():
            total += scope.counts.requests
            if scope.observer:
                observation += scope.counts.requests
        return total, observation

    def observation(self) -> Observation:
        """``summary.json``'s ``observation``: lgbench's own status reads during the load."""
        total, observation = self.requests()
        by_operation: dict[str, int] = {}
        for scope in self._load_scopes():
            if scope.observer and scope.counts.requests:
                by_operation[scope.operation] = (
                    by_operation.get(scope.operation, 0) + scope.counts.requests
                )
        return Observation(
            requests=observation,
            all_requests=total,
            share=observation / total if total else 0.0,
            by_operation=dict(sorted(by_operation.items())),
        )

    def audit_operations(self, duration_s: float) -> dict[str, Operation]:
        """Per operation, the post-run audit's summary (its own registry, closed now)."""
        self.audit_registry.snapshot_interval(self.origin_s + self.registry.elapsed_s)
        totals = self._totals(self.audit_registry, None, None)
        counts: dict[str, _Counts] = {}
        for scope in self._scopes.values():
            if scope.audit:
                counts.setdefault(scope.operation, _Counts()).merge(scope.counts)
        return {
            operation: self._operation(
                operation,
                totals.get(operation, OperationMetrics()),
                counts.get(operation, _Counts()),
                {},
                None,
                ["burst"],
                duration_s,
            )
            for operation in sorted(set(totals) | set(counts))
        }

    def lag_summary(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Schedule lag and event-loop lag: ``{"count", "latency"...}`` in ms, from the totals."""
        totals = self.aux.totals

        def stats(name: str) -> dict[str, Any]:
            metrics = totals.get(MetricKey(name))
            recorder = metrics.latency if metrics is not None else LatencyRecorder()
            return {"count": recorder.count, **recorder.stats().to_ms()}

        return stats(_SCHEDULE_LAG), stats(_LOOP_LAG)

    def lag_warnings(self, cpu_peaks: Mapping[str, float] | None = None) -> list[str]:
        """Warnings when lgbench's own lag was high (see :func:`bottleneck_warnings`)."""
        schedule, loop = self.lag_summary()
        return bottleneck_warnings(schedule, loop, cpu_peaks)

    # -- one run, several processes ----------------------------------------------------------

    def absorb_interval(self, operations: Mapping[str, Any], derived: Mapping[str, Any]) -> None:
        """Add another process's closed interval into the live metrics.

        ``operations`` and ``derived`` are the :meth:`~lgbench.metrics.IntervalSnapshot.to_dict`
        of that process's :meth:`snapshot`. The next :meth:`snapshot` here closes them into
        this run's interval (its .hlog line, the live view's figures, chat reply rates
        included) and totals: histograms are added bucket for bucket, so every percentile is
        the one of all the processes' values together.
        """
        for registry, state in ((self.registry, operations), (self.aux, derived)):
            for entry in state["metrics"]:
                key = MetricKey.from_dict(entry["key"])
                registry.metrics_for(key).merge_dict(entry["metrics"])

    def export_counts(self) -> dict[str, Any]:
        """What no histogram holds, cumulative, JSON-ready: each scope's counts and stream
        events, each scenario's figures (times as seconds since the start), the warnings.
        Another process adds it up with :meth:`import_counts`."""
        scopes = []
        for scope in self._load_scopes():
            scopes.append(
                {
                    "key": scope.key.to_dict(),
                    "observer": scope.observer,
                    "model": scope.model,
                    "counts": scope.counts.to_dict(),
                    "events": None if scope.events is None else scope.events.to_dict(),
                    "replies": None if scope.replies is None else scope.replies.to_dict(),
                }
            )

        def since_start(at_s: float | None) -> float | None:
            return None if at_s is None else at_s - self.origin_s

        scenarios = {
            name: {
                **{counter: getattr(stats, counter) for counter in _STATS_COUNTERS},
                "started_after_s": since_start(stats.started_s),
                "ended_after_s": since_start(stats.ended_s),
                "iteration_time": stats.iteration_time.to_dict(),
            }
            for name, stats in self.scenarios.items()
        }
        return {"scopes": scopes, "scenarios": scenarios, "warnings": list(self.warnings)}

    def import_counts(self, states: Iterable[Mapping[str, Any]]) -> None:
        """Take the other processes' latest :meth:`export_counts` (one each) as this run's
        counts: the summary then reads their sum. Scenarios must be registered here first
        (with the whole plan's figures); their counters become the processes' sum, started at
        the earliest start, ended at the last end (or running while any runs). Warnings are
        added once each."""
        merged: dict[tuple[MetricKey, bool], OperationScope] = {}
        sums: dict[str, dict[str, Any]] = {}
        for state in states:
            for entry in state["scopes"]:
                key = MetricKey.from_dict(entry["key"])
                observer = bool(entry["observer"])
                scope = merged.get((key, observer))
                if scope is None:
                    scope = merged[key, observer] = OperationScope(
                        self, key, entry["model"], observer=observer
                    )
                scope.counts.merge_dict(entry["counts"])
                if entry["events"] is not None:
                    if scope.events is None:
                        scope.events = LatencyRecorder()
                    scope.events.merge_dict(entry["events"])
                if entry.get("replies") is not None:
                    if scope.replies is None:
                        scope.replies = LatencyRecorder()
                    scope.replies.merge_dict(entry["replies"])
            for name, figures in state["scenarios"].items():
                sums.setdefault(name, {"parts": []})["parts"].append(figures)
            for warning in state["warnings"]:
                self.warn(f"imported:{warning}", warning)
        self._imported = list(merged.values())
        for name, found in sums.items():
            base = self.scenarios.get(name)
            if base is not None:
                self.scenarios[name] = _summed_stats(base, found["parts"], self.origin_s)


def _summed_stats(
    base: ScenarioStats, parts: list[Mapping[str, Any]], origin_s: float
) -> ScenarioStats:
    """``base``'s description with the processes' figures added up."""
    twin = ScenarioStats(
        name=base.name,
        executor=base.executor,
        model=base.model,
        description=base.description,
        tags=base.tags,
        start_time_s=base.start_time_s,
        planned_s=base.planned_s,
        max_vus=base.max_vus,
    )
    starts = [p["started_after_s"] for p in parts if p["started_after_s"] is not None]
    ends = [p["ended_after_s"] for p in parts if p["started_after_s"] is not None]
    if starts:
        twin.started_s = origin_s + min(starts)
        if all(end is not None for end in ends):
            twin.ended_s = origin_s + max(ends)
    for part in parts:
        for counter in _STATS_COUNTERS:
            setattr(twin, counter, getattr(twin, counter) + int(part[counter]))
        twin.iteration_time.merge_dict(part["iteration_time"])
    return twin


def _high_p99(stats: Mapping[str, Any]) -> float | None:
    p99 = stats.get("p99")
    # A p99 of a handful of samples is just their maximum: not a finding.
    if p99 is not None and stats.get("count", 0) >= _MIN_LAG_SAMPLES and p99 > LAG_WARNING_MS:
        return float(p99)
    return None


def bottleneck_warnings(
    schedule: Mapping[str, Any],
    loop: Mapping[str, Any],
    cpu_peaks: Mapping[str, float] | None = None,
) -> list[str]:
    """Who made lgbench late, when its schedule or event-loop lag p99 passed 10 ms.

    Schedule lag counts only timers that fired late (never time spent awaiting the server),
    so a late timer is either lgbench's own load or the machine's. ``cpu_peaks`` holds the
    highest one-interval CPU use (100 = one core) of ``lgbench`` and of the embedded
    ``server`` and the whole ``machine`` (0 to 100, every core): lgbench near a full core
    (``BUSY_CPU_PERCENT``) means lgbench itself was the bottleneck; below that, the machine was
    busy if it was (``BUSY_MACHINE_PERCENT``; with the server, when its CPU was high), else
    lgbench's loop was blocked without using CPU (lgbench again); without CPU samples the
    warning says the cause is unknown.
    """
    lags = [
        f"p99 {label} {p99:.1f} ms"
        for label, stats in (("schedule lag", schedule), ("event-loop lag", loop))
        if (p99 := _high_p99(stats)) is not None
    ]
    if not lags:
        return []
    late = " and ".join(lags) + " (lgbench's timers fired late)"
    own = (cpu_peaks or {}).get("lgbench")
    server = (cpu_peaks or {}).get("server")
    if own is None:
        return [
            f"lgbench or the machine was a bottleneck: {late}; lgbench's CPU was not sampled,"
            " so which of them is unknown; latencies may include that delay"
        ]
    if own >= BUSY_CPU_PERCENT:
        return [
            f"lgbench itself was a bottleneck: {late} while its process used up to"
            f" {own:.0f} % of a core; latencies include the tool's own delay: use fewer VUs"
            " or a lower rate per process, or a faster machine"
        ]
    machine = (cpu_peaks or {}).get("machine")
    if machine is not None and machine < BUSY_MACHINE_PERCENT:
        # Neither lgbench's CPU nor the machine's was high: lgbench's loop was blocked.
        return [
            f"lgbench itself was a bottleneck: {late} while neither its process (at most"
            f" {own:.0f} % of a core) nor the machine (at most {machine:.0f} % busy) was short"
            " of CPU: its event loop was blocked (a blocking call, a long garbage collection or"
            " swapping); latencies include that delay"
        ]
    by_whom = (
        f"the embedded server used up to {server:.0f} % CPU"
        if server is not None
        else "by other processes (the target was not sampled)"
    )
    return [
        f"the machine was busy, not lgbench: {late} while lgbench used at most {own:.0f} % of"
        f" a core; {by_whom}; latencies may include that delay"
    ]
