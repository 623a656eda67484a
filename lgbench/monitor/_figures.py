"""The live figures of a run, as the exporters publish them: :class:`MetricsFeed`.

The feed is a :class:`~lgbench.engine.RunListener`. Once per interval, on the event loop, it
reads what the recorder already keeps (the interval's histograms, the cumulative outcome
counts, the scenarios' VUs and iterations) and publishes one immutable :class:`Figures`:
nothing is added to the per-request path. The Prometheus endpoint (its own HTTP thread) and
the OTLP pusher (its own thread) only ever read the newest :class:`Figures`, swapped in by
one reference assignment, so they never touch the recorder.

Counts are the summary's own arithmetic (``summary.json``'s ``ok`` and ``errors`` per
operation), kept apart by scenario: at the end they add up to the summary's figures exactly.
Latency histograms use the fixed bucket bounds :data:`LATENCY_BUCKETS_S`, filled from the
interval's HDR histograms (each value at its HDR bucket's upper edge, within 0.1 %).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, final

from lgbench.engine import RunStart

if TYPE_CHECKING:
    from lgbench.engine import Recorder, Snapshot
    from lgbench.metrics import MetricKey, OperationMetrics

__all__ = [
    "ERROR_KINDS",
    "LATENCY_BUCKETS_S",
    "QUANTILES",
    "Figures",
    "HistogramFigures",
    "MetricsFeed",
]

#: Upper bounds (seconds) of the latency histograms' buckets: about three per doubling from
#: 1 ms to 1 s, where most LangGraph API operations land and where a change matters, then
#: coarser up to 5 minutes (long runs and streams). ``histogram_quantile`` interpolates
#: inside a bucket, so its error is at most a bucket's width: under 50 % of the value below
#: 1 s. The exact percentiles of each interval are published beside them (:data:`QUANTILES`).
LATENCY_BUCKETS_S: Final[tuple[float, ...]] = (
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03,
    0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5,
    10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
_BOUNDS_US: Final = tuple(round(bound * 1_000_000) for bound in LATENCY_BUCKETS_S)


@functools.cache
def _bounds_array() -> Any:
    import numpy as np

    return np.array(_BOUNDS_US, dtype=np.int64)


#: The percentiles of each interval's latency published as gauges (from the HDR histogram).
QUANTILES: Final = (0.5, 0.9, 0.99)

#: Error kinds, as summary.json's ``errors_by_kind`` names them.
ERROR_KINDS: Final = ("http", "transport", "timeout", "run", "other")

_SCHEDULE_LAG: Final = "lgbench.schedule_lag"
_LOOP_LAG: Final = "lgbench.loop_lag"
_TTFE: Final = ".ttfe"

#: (operation, scenario)
Series = tuple[str, str]


@final
@dataclass(frozen=True, slots=True)
class HistogramFigures:
    """A cumulative histogram over :data:`LATENCY_BUCKETS_S`: ``counts[i]`` values at or below
    bound ``i`` and above bound ``i - 1`` (the last one: above every bound), in seconds."""

    counts: tuple[int, ...]
    sum_s: float
    #: Smallest and largest value (HDR bucket edges); 0 when empty.
    min_s: float = 0.0
    max_s: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[int]:
        """Counts at or below each bound, then the total (Prometheus's ``le`` buckets)."""
        found: list[int] = []
        running = 0
        for each in self.counts:
            running += each
            found.append(running)
        return found


@final
@dataclass(frozen=True, slots=True)
class Figures:
    """Everything exported at one moment (see the module docstring). Keys are
    ``(operation, scenario)`` unless said otherwise."""

    workload: str = ""
    run_dir: str = ""
    started_at_unix_s: float = 0.0
    #: When these figures were taken (Unix seconds) and what they cover (seconds of run).
    taken_at_unix_s: float = 0.0
    elapsed_s: float = 0.0
    planned_s: float = 0.0
    finished: bool = False
    #: (operation, scenario, outcome) -> count, outcome ``ok`` or ``error``.
    requests: Mapping[tuple[str, str, str], int] = field(default_factory=dict)
    #: (operation, scenario, kind, status) -> count (status ``""`` unless kind is ``http``).
    errors: Mapping[tuple[str, str, str, str], int] = field(default_factory=dict)
    #: Operations lgbench cut itself (graceful stop, ramp-down): neither ok nor errors.
    interrupted: Mapping[Series, int] = field(default_factory=dict)
    latency: Mapping[Series, HistogramFigures] = field(default_factory=dict)
    #: (operation, scenario, quantile) -> seconds, over the last interval alone.
    interval_latency: Mapping[tuple[str, str, float], float] = field(default_factory=dict)
    ttfe: Mapping[Series, HistogramFigures] = field(default_factory=dict)
    streams: Mapping[Series, int] = field(default_factory=dict)
    stream_events: Mapping[Series, int] = field(default_factory=dict)
    #: scenario -> {"started", "finished", "failed", "dropped", "active_vus"}.
    scenarios: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    schedule_lag: HistogramFigures | None = None
    loop_lag: HistogramFigures | None = None
    #: (name, kind) -> 1 while the fault is on, 0 once over.
    faults: Mapping[tuple[str, str], int] = field(default_factory=dict)
    #: threshold name -> 1 passed, 0 failed (breached live, or judged at the end).
    thresholds: Mapping[str, int] = field(default_factory=dict)
    #: The checker's anomalies: None until it has judged (it judges the finished history).
    anomalies: int | None = None


def _quantiles(parts: list[tuple[Any, Any]]) -> dict[float, float]:
    """The :data:`QUANTILES` of (values, counts) arrays (each sorted by value), in seconds:
    the first value at which the running count reaches the quantile."""
    import numpy as np

    values, counts = parts[0]
    if len(parts) > 1:
        values = np.concatenate([v for v, _ in parts])
        counts = np.concatenate([c for _, c in parts])
        order = np.argsort(values, kind="stable")
        values, counts = values[order], counts[order]
    running = np.cumsum(counts)
    total = int(running[-1])
    places = np.searchsorted(running, [q * total for q in QUANTILES], side="left")
    return {
        q: int(values[min(int(place), len(values) - 1)]) / 1_000_000
        for q, place in zip(QUANTILES, places, strict=True)
    }


@final
class _Histogram:
    """A mutable cumulative histogram over :data:`LATENCY_BUCKETS_S`."""

    __slots__ = ("counts", "max_us", "min_us", "sum_us")

    def __init__(self) -> None:
        self.counts = [0] * (len(_BOUNDS_US) + 1)
        self.sum_us = 0
        self.min_us: int | None = None
        self.max_us = 0

    def add(self, metrics: OperationMetrics) -> tuple[Any, Any] | None:
        """Add an interval's latencies; returns their (values, counts) arrays (None: none)."""
        import numpy as np

        latency = metrics.latency
        if not latency.count:
            return None
        values, counts = latency.value_count_arrays()
        buckets = np.searchsorted(_bounds_array(), values, side="left")
        added = np.bincount(buckets, weights=counts, minlength=len(self.counts))
        self.counts = [a + int(b) for a, b in zip(self.counts, added.tolist(), strict=True)]
        self.sum_us += latency.sum_us
        low, high = int(values[0]), int(values[-1])
        self.min_us = low if self.min_us is None else min(self.min_us, low)
        self.max_us = max(self.max_us, high)
        return values, counts

    def frozen(self) -> HistogramFigures:
        return HistogramFigures(
            tuple(self.counts),
            self.sum_us / 1_000_000,
            (self.min_us or 0) / 1_000_000,
            self.max_us / 1_000_000,
        )


@final
class MetricsFeed:
    """Turns a run's intervals into :class:`Figures` (a :class:`~lgbench.engine.RunListener`).

    :attr:`figures` is always the newest complete set; readers in other threads take it
    whole. ``clock`` gives Unix seconds (tests pass their own).
    """

    def __init__(self, *, clock: Any = time.time) -> None:
        # numpy does the per-interval arithmetic: imported now, before the run, so the first
        # interval does not stall the event loop for its import.
        _bounds_array()
        self._clock = clock
        self.figures = Figures()
        self._start: RunStart | None = None
        self._latency: dict[Series, _Histogram] = {}
        self._ttfe: dict[Series, _Histogram] = {}
        self._schedule_lag = _Histogram()
        self._loop_lag = _Histogram()
        self._faults: dict[tuple[str, str], int] = {}
        self._thresholds: dict[str, int] = {}
        self._anomalies: int | None = None
        self._elapsed_s = 0.0
        self._last = Figures()

    # -- the listener ----------------------------------------------------------------------

    def run_started(self, start: RunStart) -> None:
        self._start = start
        self._publish(Figures(), finished=False)

    def interval_closed(self, snapshot: Snapshot, recorder: Recorder) -> None:
        interval: dict[Series, list[tuple[Any, Any]]] = {}
        for key, metrics in snapshot.operations.metrics.items():
            series = (key.operation, key.scenario)
            arrays = self._latency.setdefault(series, _Histogram()).add(metrics)
            if arrays is not None:
                interval.setdefault(series, []).append(arrays)
        for key, metrics in snapshot.derived.metrics.items():
            self._derived(key, metrics)
        quantiles: dict[tuple[str, str, float], float] = {}
        for (operation, scenario), parts in interval.items():
            for quantile, value in _quantiles(parts).items():
                quantiles[operation, scenario, quantile] = value
        self._elapsed_s = snapshot.end_s
        self._publish(self._counted(recorder, quantiles), finished=False)

    def fault_changed(self, name: str, kind: str, phase: str, at_s: float) -> None:
        self._faults[name, kind] = 1 if phase == "start" else 0
        self._publish(self._last, finished=self._last.finished)

    def threshold_breached(self, name: str) -> None:
        self._thresholds[name] = 0
        self._publish(self._last, finished=self._last.finished)

    def run_finished(self, summary: Mapping[str, Any], check: Mapping[str, Any] | None) -> None:
        for result in (summary.get("thresholds") or {}).get("results", []):
            self._thresholds[str(result["name"])] = 1 if result.get("passed") else 0
        if check is not None:
            self._anomalies = _anomaly_count(check)
        for fault in summary.get("faults") or []:
            # A fault still on when the run ended is over now.
            self._faults[str(fault["name"]), str(fault["kind"])] = 0
        self._publish(self._last, finished=True)

    # -- building ----------------------------------------------------------------------------

    def _derived(self, key: MetricKey, metrics: OperationMetrics) -> None:
        name = key.operation
        if name == _SCHEDULE_LAG:
            self._schedule_lag.add(metrics)
        elif name == _LOOP_LAG:
            self._loop_lag.add(metrics)
        elif name.endswith(_TTFE):
            series = (name[: -len(_TTFE)], key.scenario)
            self._ttfe.setdefault(series, _Histogram()).add(metrics)

    def _counted(
        self, recorder: Recorder, quantiles: Mapping[tuple[str, str, float], float]
    ) -> Figures:
        ok: dict[Series, int] = {}
        errors: dict[tuple[str, str, str, str], int] = {}

        def add(series: Series, kind: str, status: str, count: int) -> None:
            if count:
                place = (*series, kind, status)
                errors[place] = errors.get(place, 0) + count

        for key, totals in recorder.registry.totals.items():
            series = (key.operation, key.scenario)
            ok[series] = ok.get(series, 0) + totals.ok
            for status, count in totals.http_errors.items():
                add(series, "http", str(status), count)
            add(series, "transport", "", totals.transport_errors)
            add(series, "timeout", "", totals.timeouts)
        streams: dict[Series, int] = {}
        events: dict[Series, int] = {}
        interrupted: dict[Series, int] = {}
        for scope in recorder.operation_scopes():
            if scope.audit:
                continue
            series = (scope.operation, scope.scenario)
            counts = scope.counts
            # A failed graph answered 200: ok in the histogram's outcome, an error here, as
            # in summary.json.
            ok[series] = ok.get(series, 0) - counts.run
            add(series, "run", "", counts.run)
            if counts.cancelled:
                interrupted[series] = interrupted.get(series, 0) + counts.cancelled
            add(series, "other", "", counts.other)
            if scope.events is not None:
                streams[series] = streams.get(series, 0) + scope.events.count
                events[series] = events.get(series, 0) + scope.events.sum_us
        requests: dict[tuple[str, str, str], int] = {}
        for series, count in ok.items():
            requests[(*series, "ok")] = count
        for (operation, scenario, _, _), count in errors.items():
            place = (operation, scenario, "error")
            requests[place] = requests.get(place, 0) + count
        scenarios = {
            name: {
                "started": stats.started,
                "finished": stats.finished,
                "failed": stats.failed,
                "dropped": stats.dropped,
                "active_vus": stats.active_vus,
            }
            for name, stats in recorder.scenarios.items()
        }
        return Figures(
            requests=requests,
            errors=errors,
            interrupted=interrupted,
            latency={series: each.frozen() for series, each in self._latency.items()},
            interval_latency=dict(quantiles),
            ttfe={series: each.frozen() for series, each in self._ttfe.items()},
            streams=streams,
            stream_events=events,
            scenarios=scenarios,
            schedule_lag=self._schedule_lag.frozen(),
            loop_lag=self._loop_lag.frozen(),
        )

    def _publish(self, counted: Figures, *, finished: bool) -> None:
        start = self._start
        figures = Figures(
            workload=start.workload if start else "",
            run_dir=str(start.run_dir) if start else "",
            started_at_unix_s=start.started_at_unix_s if start else 0.0,
            taken_at_unix_s=self._clock(),
            elapsed_s=self._elapsed_s,
            planned_s=start.planned_s if start else 0.0,
            finished=finished,
            requests=counted.requests,
            errors=counted.errors,
            latency=counted.latency,
            interval_latency=counted.interval_latency,
            ttfe=counted.ttfe,
            streams=counted.streams,
            stream_events=counted.stream_events,
            scenarios=counted.scenarios,
            schedule_lag=counted.schedule_lag,
            loop_lag=counted.loop_lag,
            faults=dict(self._faults),
            thresholds=dict(self._thresholds),
            anomalies=self._anomalies,
        )
        self._last = figures
        self.figures = figures  # one assignment: readers in other threads see all or nothing


def _anomaly_count(check: Mapping[str, Any]) -> int:
    counts = check.get("counts")
    if isinstance(counts, Mapping) and isinstance(counts.get("anomalies"), int):
        return int(counts["anomalies"])
    anomalies = check.get("anomalies")
    return len(anomalies) if isinstance(anomalies, list | dict) else 0
