"""The metrics of a run, named and labelled once for every exporter: :func:`families`.

Prometheus (``_prometheus``) and OTLP (``_otlp``) render the same list, so a dashboard built
on one reads the other's figures under the same names (docs/monitoring.md lists them).
Names follow Prometheus's conventions: base units (seconds), ``_total`` added to counters by
the Prometheus rendering (and by collectors exporting OTLP sums to Prometheus).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, final

from lgbench.monitor._figures import ERROR_KINDS, Figures, HistogramFigures

__all__ = ["Family", "FamilyKind", "families"]

#: A counter only grows (over one run); a gauge is a value now; a histogram counts values
#: into :data:`~lgbench.monitor.LATENCY_BUCKETS_S`.
FamilyKind: TypeAlias = Literal["counter", "gauge", "histogram"]

_SERIES = ("workload", "operation", "scenario")


@final
@dataclass(frozen=True, slots=True)
class Family:
    """One metric: its samples are ``(label values, value)`` in ``labels`` order."""

    name: str
    doc: str
    kind: FamilyKind
    labels: tuple[str, ...]
    unit: str = ""
    samples: Sequence[tuple[tuple[str, ...], float | HistogramFigures]] = ()


def _family(
    name: str,
    doc: str,
    kind: FamilyKind,
    labels: Sequence[str],
    samples: Sequence[tuple[tuple[str, ...], float | HistogramFigures]],
    unit: str = "",
) -> Family:
    return Family(name, doc, kind, tuple(labels), unit, samples)


def families(figures: Figures) -> Iterator[Family]:
    """Every metric of ``figures`` (see docs/monitoring.md for their meaning)."""
    w = figures.workload
    yield _family(
        "lgbench_run_info",
        "The run being exported (always 1)",
        "gauge",
        ("workload", "run_dir"),
        [((w, figures.run_dir), 1.0)],
    )
    for name, doc, value, unit in (
        ("lgbench_run_elapsed_seconds", "Seconds of run the figures cover", figures.elapsed_s,
         "s"),
        ("lgbench_run_planned_seconds", "Planned length of the load phase", figures.planned_s,
         "s"),
        ("lgbench_run_start_time_seconds", "Unix time the run began",
         figures.started_at_unix_s, "s"),
        ("lgbench_run_finished", "1 once the run has ended and its results are written",
         1.0 if figures.finished else 0.0, ""),
    ):  # fmt: skip
        yield _family(name, doc, "gauge", ("workload",), [((w,), value)], unit)
    yield _family(
        "lgbench_requests",
        "Operations completed, by outcome (ok or error), as summary.json counts them",
        "counter",
        (*_SERIES, "outcome"),
        [((w, *key), count) for key, count in sorted(figures.requests.items())],
    )
    yield _family(
        "lgbench_errors",
        f"Failed operations by kind ({', '.join(ERROR_KINDS)}) and HTTP status",
        "counter",
        (*_SERIES, "kind", "status"),
        [((w, *key), count) for key, count in sorted(figures.errors.items())],
    )
    yield _family(
        "lgbench_interrupted",
        "Operations lgbench cut itself (a graceful stop expired, a VU ramped down): neither"
        " ok nor errors",
        "counter",
        _SERIES,
        [((w, *key), count) for key, count in sorted(figures.interrupted.items())],
    )
    yield _family(
        "lgbench_latency_seconds",
        "Latency of operations that got an answer (ok or HTTP error), measured as summary.json"
        " does (open model: from the intended start)",
        "histogram",
        _SERIES,
        [((w, *key), histogram) for key, histogram in sorted(figures.latency.items())],
        "s",
    )
    yield _family(
        "lgbench_interval_latency_seconds",
        "Latency percentiles of the last interval alone (exact, from its HDR histogram)",
        "gauge",
        (*_SERIES, "quantile"),
        [
            ((w, operation, scenario, f"{quantile:g}"), value)
            for (operation, scenario, quantile), value in sorted(figures.interval_latency.items())
        ],
        "s",
    )
    yield _family(
        "lgbench_time_to_first_event_seconds",
        "Streams: time to the first event after metadata",
        "histogram",
        _SERIES,
        [((w, *key), histogram) for key, histogram in sorted(figures.ttfe.items())],
        "s",
    )
    for name, doc, counts in (
        ("lgbench_streams", "Streams read to their end", figures.streams),
        ("lgbench_stream_events", "Stream events received after metadata", figures.stream_events),
    ):
        yield _family(
            name, doc, "counter", _SERIES, [((w, *key), n) for key, n in sorted(counts.items())]
        )
    scenarios = sorted(figures.scenarios.items())
    for field, doc in (
        ("started", "Iterations started"),
        ("finished", "Iterations finished"),
        ("failed", "Iterations that ended in an error"),
        ("dropped", "Iterations dropped: due while no VU was free (arrival-rate executors)"),
    ):
        yield _family(
            f"lgbench_iterations_{field}",
            doc,
            "counter",
            ("workload", "scenario"),
            [((w, name), values[field]) for name, values in scenarios],
        )
    yield _family(
        "lgbench_active_vus",
        "Virtual users running now",
        "gauge",
        ("workload", "scenario"),
        [((w, name), values["active_vus"]) for name, values in scenarios],
    )
    for name, doc, lag in (
        ("lgbench_schedule_lag_seconds", "How late iterations started against their schedule",
         figures.schedule_lag),
        ("lgbench_event_loop_lag_seconds", "How much a 10 ms sleep of lgbench's loop overslept",
         figures.loop_lag),
    ):  # fmt: skip
        yield _family(name, doc, "histogram", ("workload",), [((w,), lag)] if lag else [], "s")
    yield _family(
        "lgbench_fault_active",
        "1 while a scheduled fault is on, 0 once it is over",
        "gauge",
        ("workload", "name", "kind"),
        [((w, *key), active) for key, active in sorted(figures.faults.items())],
    )
    yield _family(
        "lgbench_threshold_passed",
        "1 passed, 0 failed: an abort_on_fail threshold as soon as it fails, every threshold"
        " once the run has ended",
        "gauge",
        ("workload", "threshold"),
        [((w, name), passed) for name, passed in sorted(figures.thresholds.items())],
    )
    yield _family(
        "lgbench_checker_anomalies",
        "Anomalies the checker found (it judges the finished history: absent until the end)",
        "gauge",
        ("workload",),
        [((w,), figures.anomalies)] if figures.anomalies is not None else [],
    )
