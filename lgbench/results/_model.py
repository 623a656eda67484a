"""summary.json as types: what a run measured, one class per object of the file.

The model is made of msgspec :class:`~msgspec.Struct` classes rather than frozen dataclasses:

- a struct is decoded from and checked against JSON in one call that names the path of a bad
  value (``$.operations[...].count``), where a dataclass would need a hand-written
  reader per class;
- ``msgspec.json.schema`` derives the published JSON Schema (``docs/summary.schema.json``)
  from the very classes the code reads, so the two cannot drift apart;
- a struct is as cheap to build as a tuple, which matters for the per-tag and per-scenario
  operation tables of a long run, and is frozen like a dataclass;
- a key that summary.json has only sometimes (``stream``, ``thresholds``) is ``UNSET`` when
  absent and left out when written, so the file keeps exactly the keys it had.

msgspec is a small, well-kept C extension (no dependencies of its own). The field order of each
class is the key order of the file: do not reorder fields. Keys always written have a default
that reads as "nothing measured" (``None``, 0, empty), so a hand-made or older schema 1 file
with fewer keys still loads; keys written only in some runs default to ``UNSET``.
"""

from __future__ import annotations

from typing import Any, Final, final

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "SCHEMA_VERSION",
    "Audit",
    "AuditBudget",
    "CheckVerdict",
    "Drift",
    "ErrorRateDrift",
    "ErrorsByKind",
    "EventCounts",
    "Fault",
    "FaultSkipped",
    "Files",
    "HistogramState",
    "HistoryFigures",
    "Iterations",
    "LagFigures",
    "Latency",
    "LatencyDrift",
    "NeverSucceeded",
    "Observation",
    "Operation",
    "OperationDrift",
    "OperationHistograms",
    "ProxyCounters",
    "Sampling",
    "Scenario",
    "Server",
    "Skipped",
    "Stream",
    "Target",
    "ThresholdResult",
    "ThresholdWindow",
    "ThresholdWindows",
    "Thresholds",
    "TokenRates",
    "TopError",
    "UnsupportedRoute",
    "Worker",
    "WorkloadInfo",
]

SCHEMA_VERSION: Final = 1
"""The ``schema_version`` this model reads and writes; bumped on any incompatible change."""


@final
class Latency(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Latency figures in milliseconds: HDR bucket edges, an exact mean; None when empty."""

    min: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p99_9: float | None = None
    max: float | None = None


@final
class LagFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``schedule_lag_ms`` and ``event_loop_lag_ms``: how many samples, and their figures."""

    count: int = 0
    min: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p99_9: float | None = None
    max: float | None = None
    #: Not in summary.json: the histogram of the figures, for :meth:`Summary.merge`.
    histogram: HistogramState | UnsetType = UNSET


@final
class EventCounts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Counts per stream, not milliseconds: events (after ``metadata``), or reply tokens."""

    min: int | None = None
    mean: float | None = None
    p50: int | None = None
    p99: int | None = None
    max: int | None = None
    total: int = 0


@final
class TokenRates(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Chat reply streams' own rates, tokens per second each (its tokens over its latency):
    for a rate the tail that hurts is the low one (``p1``, ``p10``); None when no stream
    carried a reply."""

    min: float | None = None
    p1: float | None = None
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None
    mean: float | None = None
    max: float | None = None


@final
class ErrorsByKind(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operation's errors by kind; ``http`` by status (``{"404": 3}``)."""

    http: dict[str, int] = msgspec.field(default_factory=dict)
    transport: int = 0
    timeout: int = 0
    run: int = 0
    #: Only in summaries written before interrupted operations were counted apart
    #: (:attr:`Operation.interrupted`), when they were errors too.
    cancelled: int | UnsetType = UNSET
    other: int = 0


@final
class TopError(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One of an operation's most frequent errors."""

    kind: str
    status: int | None = None
    message: str = ""
    count: int = 0


@final
class Skipped(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Calls never made (not in ``count``)."""

    after_failure: int = 0
    unsupported: int = 0


@final
class Stream(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A streaming operation's figures."""

    streams: int = 0
    events: EventCounts = msgspec.field(default_factory=EventCounts)
    events_per_s: float = 0.0
    ttfe_ms: Latency = msgspec.field(default_factory=Latency)
    event_gap_ms: Latency = msgspec.field(default_factory=Latency)
    queue_wait_ms: Latency = msgspec.field(default_factory=Latency)
    reconnects: int = 0
    ttft_ms: Latency = msgspec.field(default_factory=Latency)
    itl_ms: Latency = msgspec.field(default_factory=Latency)
    reply_tokens: int = 0
    reply_tokens_per_s: float = 0.0
    stream_tokens_per_s: TokenRates = msgspec.field(default_factory=TokenRates)
    #: Tokens of each reply stream (each run's output tokens), of the streams that carried one.
    reply_tokens_per_stream: EventCounts = msgspec.field(default_factory=EventCounts)


@final
class HistogramState(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One HDR histogram of microseconds, exactly: ``LatencyRecorder.to_dict()``'s form
    (base64 of HdrHistogram's compressed encoding, the exact sum, the out-of-range count)."""

    histogram: str
    sum_us: int = 0
    out_of_range: int = 0


@final
class OperationHistograms(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The histograms an operation's figures were computed from, for :meth:`Summary.merge`.

    Not in summary.json (the run folder has them as ``intervals.hlog`` and ``.hgrm`` files):
    results passed between processes carry them, so that merged percentiles are recomputed
    from merged histograms, never averaged. ``events`` holds counts per stream, not µs.
    """

    latency: HistogramState | UnsetType = UNSET
    corrected_latency: HistogramState | UnsetType = UNSET
    service_time: HistogramState | UnsetType = UNSET
    events: HistogramState | UnsetType = UNSET
    ttfe: HistogramState | UnsetType = UNSET
    event_gap: HistogramState | UnsetType = UNSET
    queue_wait: HistogramState | UnsetType = UNSET
    ttft: HistogramState | UnsetType = UNSET
    itl: HistogramState | UnsetType = UNSET
    #: Tokens per second of each chat reply stream, in thousandths (TOKEN_RATE_SCALE).
    reply_rates: HistogramState | UnsetType = UNSET
    #: Tokens of each chat reply stream: counts, not µs.
    reply_tokens: HistogramState | UnsetType = UNSET


@final
class Operation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One operation's summary (docs/summary.md, "Operation summary")."""

    count: int = 0
    ok: int = 0
    errors: int = 0
    errors_by_kind: ErrorsByKind = msgspec.field(default_factory=ErrorsByKind)
    rate_per_s: float = 0.0
    models: tuple[str, ...] = ()
    latency_basis: str = ""
    latency_ms: Latency = msgspec.field(default_factory=Latency)
    out_of_range: int = 0
    skipped: Skipped = msgspec.field(default_factory=Skipped)
    #: Operations lgbench cut itself (a graceful stop expired, a VU ramped down): in
    #: neither ``count`` nor ``errors``.
    interrupted: int = 0
    top_errors: tuple[TopError, ...] = ()
    top_errors_unlisted: int = 0
    empty: int | UnsetType = UNSET
    empty_rate: float | UnsetType = UNSET
    corrected_latency_ms: Latency | UnsetType = UNSET
    service_time_ms: Latency | UnsetType = UNSET
    #: None in some hand-written summaries: read as no streams, like ``UNSET``.
    stream: Stream | UnsetType | None = UNSET
    histograms: OperationHistograms | UnsetType = UNSET


@final
class Iterations(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A scenario's iterations."""

    started: int = 0
    finished: int = 0
    failed: int = 0
    interrupted: int = 0
    rate_per_s: float = 0.0
    duration_ms: Latency = msgspec.field(default_factory=Latency)
    skipped_operations: int = 0
    #: Not in summary.json: the histogram of ``duration_ms``, for :meth:`Summary.merge`.
    duration_histogram: HistogramState | UnsetType = UNSET


@final
class Scenario(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One scenario's summary (docs/summary.md, "Scenario summary")."""

    executor: str = ""
    model: str = ""
    description: str = ""
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    start_time_s: float = 0.0
    planned_duration_s: float | None = None
    ran_s: float = 0.0
    started: bool = False
    max_vus: int = 0
    vus_allocated: int = 0
    iterations: Iterations = msgspec.field(default_factory=Iterations)
    dropped_iterations: int = 0
    operations: dict[str, Operation] = msgspec.field(default_factory=dict)


@final
class WorkloadInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which workload ran: its name, file, seed and the command line's overrides."""

    name: str = ""
    path: str | None = None
    seed: int | None = None
    overrides: dict[str, Any] = msgspec.field(default_factory=dict)


@final
class Target(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: str = ""
    embedded: bool = False


@final
class Sampling(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Whether the target's ``/metrics`` were sampled each interval."""

    status: str = ""
    sources: tuple[str, ...] = ()


@final
class Server(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the target said it is (its ``GET /info``), never assumed."""

    name: str = "unknown server"
    version: str | None = None
    langgraph_py_version: str | None = None
    label: str = "unknown server"
    info: dict[str, Any] | None = None
    info_status: int | UnsetType = UNSET
    sampling: Sampling | UnsetType = UNSET


@final
class Observation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """lgbench's own status reads during the load."""

    requests: int = 0
    all_requests: int = 0
    share: float = 0.0
    by_operation: dict[str, int] = msgspec.field(default_factory=dict)


@final
class AuditBudget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    time_s: float = 0.0
    requests: int = 0
    concurrency: int = 0


@final
class Audit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The post-run audit: ``ran`` false with a ``reason``, or its figures."""

    threads: int | UnsetType = UNSET
    deleted_threads: int | UnsetType = UNSET
    settled: int | UnsetType = UNSET
    unsettled: int | UnsetType = UNSET
    gone: int | UnsetType = UNSET
    undeleted: int | UnsetType = UNSET
    not_read: int | UnsetType = UNSET
    forgotten: int | UnsetType = UNSET
    requests: int | UnsetType = UNSET
    duration_s: float | UnsetType = UNSET
    stop_reason: str | UnsetType | None = UNSET
    budget: AuditBudget | UnsetType = UNSET
    ran: bool = False
    reason: str | UnsetType = UNSET
    operations: dict[str, Operation] | UnsetType = UNSET


@final
class UnsupportedRoute(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operation the server does not implement."""

    operation: str
    method: str = ""
    path: str = ""
    status: int = 0
    count: int = 0
    answered: int = 0
    skipped: int = 0


@final
class HistoryFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    events: int = 0
    segments: int = 0
    compression_errors: tuple[str, ...] = ()


@final
class Files(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Names of the files in the run folder (``server_log`` is a path)."""

    history: str | UnsetType = UNSET
    intervals: str | UnsetType = UNSET
    timeseries: str | UnsetType = UNSET
    check: str | UnsetType = UNSET
    summary: str | UnsetType = UNSET
    junit: str | UnsetType = UNSET
    report: str | UnsetType = UNSET
    hgrm: dict[str, str] = msgspec.field(default_factory=dict)
    server_log: str | UnsetType = UNSET


@final
class CheckVerdict(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The checker's verdict in short (``check.json`` has the whole of it)."""

    valid: bool | str | None = None
    file: str = "check.json"
    error: str | UnsetType = UNSET


@final
class NeverSucceeded(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operation that ended at least once and never succeeded."""

    operation: str
    count: int = 0
    errors: int = 0
    expected: bool = False
    unsupported: bool = False
    top_errors: tuple[TopError, ...] = ()


@final
class LatencyDrift(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slope_ms_per_h: float | None = None
    relative_per_h: float | None = None
    first_ms: float | None = None
    last_ms: float | None = None
    first_last_ratio: float | None = None


@final
class ErrorRateDrift(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slope_per_h: float | None = None
    first: float | None = None
    last: float | None = None


@final
class OperationDrift(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One operation's drift: its trends (None under 3 windows) and its window points,
    ``[end_s, p50_ms, p99_ms, error_rate, count]``."""

    windows: int = 0
    p50: LatencyDrift | None = None
    p99: LatencyDrift | None = None
    error_rate: ErrorRateDrift | None = None
    points: tuple[tuple[float, float | None, float | None, float | None, int], ...] = ()


@final
class Drift(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    window_s: float = 60.0
    operations: dict[str, OperationDrift] = msgspec.field(default_factory=dict)


@final
class Fault(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A fault that started (``end_s`` None: it lasted to the end)."""

    name: str
    kind: str = ""
    start_s: float = 0.0
    end_s: float | None = None
    #: A lost worker's (``kind`` ``worker.lost``): how its process ended, when known.
    exit_code: int | UnsetType | None = UNSET


@final
class Worker(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One worker process of a split run (``--workers``, ``--ray``): where it ran, how it
    ended, and its own figures (docs/distributed.md)."""

    worker: int
    host: str = ""
    pid: int | None = None
    #: Its clock minus the coordinator's, measured at the start.
    clock_offset_ms: float = 0.0
    status: str = ""
    intervals: int = 0
    cpu_s: float | None = None
    cpu_percent: float | None = None
    loop_lag_p99_ms: float | None = None
    schedule_lag_p99_ms: float | None = None
    dropped: int = 0
    history: str = ""
    history_events: int | None = None
    #: ``--ray``: the Ray node it ran on, and the bytes of its files copied back from there
    #: into the run folder (None: it wrote them in place).
    node: str | None = None
    shipped_bytes: int | None = None


@final
class FaultSkipped(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A fault never played: it was due at or after the end of the load."""

    name: str
    kind: str = ""
    at_s: float = 0.0


@final
class ProxyCounters(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The fault proxy's counters, with network faults (docs/faults.md)."""

    connections_accepted: int = 0
    connections_open: int = 0
    connections_reset: int = 0
    upstream_failures: int = 0
    streams_cut: int = 0
    bytes_to_server: int = 0
    bytes_to_client: int = 0
    faults_applied: int = 0
    faults_active: tuple[str, ...] = ()


@final
class ThresholdWindow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start_s: float | UnsetType = UNSET
    end_s: float | UnsetType = UNSET
    value: float | UnsetType = UNSET


@final
class ThresholdWindows(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    evaluated: int = 0
    failed: int = 0
    skipped: int = 0
    worst: ThresholdWindow | None = None
    failures: tuple[ThresholdWindow, ...] = ()


@final
class ThresholdResult(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The verdict on one threshold (docs/thresholds.md)."""

    name: str
    condition: str = ""
    source: str | None = None
    window_s: float | None = None
    abort_on_fail: bool = False
    operator: str = ""
    limit: float = 0.0
    unit: str = ""
    value: float | None = None
    status: str = ""
    passed: bool = False
    reason: str = ""
    windows: ThresholdWindows | None = None
    aborted_run: bool = False


@final
class Thresholds(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    passed: bool = True
    results: tuple[ThresholdResult, ...] = ()
