"""``/metrics`` in the Prometheus text format, served while a run goes: :class:`PrometheusExporter`.

Built on ``prometheus_client`` (the ``prometheus`` extra): its HTTP server runs in a daemon
thread of its own, and every scrape renders the feed's newest :class:`Figures` (a custom
collector: no client-side metric objects are updated per request, so serving costs the run
nothing between scrapes). The metric names and labels are docs/monitoring.md's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, final

from lgbench.errors import UsageError
from lgbench.monitor._address import ListenAddress
from lgbench.monitor._figures import ERROR_KINDS, LATENCY_BUCKETS_S, Figures, HistogramFigures

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from lgbench.monitor._figures import MetricsFeed

__all__ = ["PrometheusExporter", "metric_families"]

_LE: Final = (*(f"{bound:g}" for bound in LATENCY_BUCKETS_S), "+Inf")
_SERIES: Final = ("workload", "operation", "scenario")


def _import_client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise UsageError(
            "--prometheus needs the prometheus_client package: pip install 'lgbench[prometheus]'"
        ) from None
    return prometheus_client


def _buckets(histogram: HistogramFigures) -> list[tuple[str, float]]:
    return list(zip(_LE, (float(n) for n in histogram.cumulative()), strict=True))


def metric_families(figures: Figures) -> Iterator[Any]:
    """The Prometheus metric families of ``figures`` (prometheus_client's core types)."""
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )

    workload = figures.workload
    info = GaugeMetricFamily(
        "lgbench_run_info",
        "The run being exported (always 1)",
        labels=["workload", "run_dir"],
    )
    info.add_metric([workload, figures.run_dir], 1.0)
    yield info
    for name, doc, value in (
        ("lgbench_run_elapsed_seconds", "Seconds of run the figures cover", figures.elapsed_s),
        ("lgbench_run_planned_seconds", "Planned length of the load phase", figures.planned_s),
        ("lgbench_run_start_time_seconds", "Unix time the run began", figures.started_at_unix_s),
        ("lgbench_run_finished", "1 once the run has ended and its results are written",
         1.0 if figures.finished else 0.0),
    ):  # fmt: skip
        gauge = GaugeMetricFamily(name, doc, labels=["workload"])
        gauge.add_metric([workload], value)
        yield gauge

    requests = CounterMetricFamily(
        "lgbench_requests",
        "Operations completed, by outcome (ok or error), as summary.json counts them",
        labels=[*_SERIES, "outcome"],
    )
    for (operation, scenario, outcome), count in sorted(figures.requests.items()):
        requests.add_metric([workload, operation, scenario, outcome], count)
    yield requests

    errors = CounterMetricFamily(
        "lgbench_errors",
        f"Failed operations by kind ({', '.join(ERROR_KINDS)}) and HTTP status",
        labels=[*_SERIES, "kind", "status"],
    )
    for (operation, scenario, kind, status), count in sorted(figures.errors.items()):
        errors.add_metric([workload, operation, scenario, kind, status], count)
    yield errors

    for name, doc, histograms in (
        (
            "lgbench_latency_seconds",
            "Latency of operations that got an answer (ok or HTTP error), as summary.json"
            " measures it (open model: from the intended start)",
            figures.latency,
        ),
        (
            "lgbench_time_to_first_event_seconds",
            "Streams: time to the first event after metadata",
            figures.ttfe,
        ),
    ):
        family = HistogramMetricFamily(name, doc, labels=list(_SERIES))
        for (operation, scenario), histogram in sorted(histograms.items()):
            family.add_metric([workload, operation, scenario], _buckets(histogram), histogram.sum_s)
        yield family

    quantiles = GaugeMetricFamily(
        "lgbench_interval_latency_seconds",
        "Latency percentiles of the last interval alone (exact, from its HDR histogram)",
        labels=[*_SERIES, "quantile"],
    )
    for (operation, scenario, quantile), value in sorted(figures.interval_latency.items()):
        quantiles.add_metric([workload, operation, scenario, f"{quantile:g}"], value)
    yield quantiles

    for name, doc, counts in (
        ("lgbench_streams", "Streams read to their end", figures.streams),
        ("lgbench_stream_events", "Events received after metadata", figures.stream_events),
    ):
        counter = CounterMetricFamily(name, doc, labels=list(_SERIES))
        for (operation, scenario), count in sorted(counts.items()):
            counter.add_metric([workload, operation, scenario], count)
        yield counter

    yield from _scenario_families(figures, CounterMetricFamily, GaugeMetricFamily)

    for name, doc, lag in (
        ("lgbench_schedule_lag_seconds", "How late iterations started against their schedule",
         figures.schedule_lag),
        ("lgbench_event_loop_lag_seconds", "How much a 10 ms sleep of lgbench's loop overslept",
         figures.loop_lag),
    ):  # fmt: skip
        family = HistogramMetricFamily(name, doc, labels=["workload"])
        if lag is not None:
            family.add_metric([workload], _buckets(lag), lag.sum_s)
        yield family

    faults = GaugeMetricFamily(
        "lgbench_fault_active",
        "1 while a scheduled fault is on",
        labels=["workload", "name", "kind"],
    )
    for (name, kind), active in sorted(figures.faults.items()):
        faults.add_metric([workload, name, kind], active)
    yield faults

    thresholds = GaugeMetricFamily(
        "lgbench_threshold_passed",
        "1 passed, 0 failed: an abort_on_fail threshold as soon as it fails, every threshold"
        " once the run has ended",
        labels=["workload", "threshold"],
    )
    for name, passed in sorted(figures.thresholds.items()):
        thresholds.add_metric([workload, name], passed)
    yield thresholds

    anomalies = GaugeMetricFamily(
        "lgbench_checker_anomalies",
        "Anomalies the checker found (it judges the finished history: absent until the end)",
        labels=["workload"],
    )
    if figures.anomalies is not None:
        anomalies.add_metric([workload], figures.anomalies)
    yield anomalies


def _scenario_families(figures: Figures, counter: Any, gauge: Any) -> Iterator[Any]:
    workload = figures.workload
    scenarios: Mapping[str, Mapping[str, int]] = figures.scenarios
    for field, doc in (
        ("started", "Iterations started"),
        ("finished", "Iterations finished"),
        ("failed", "Iterations that ended in an error"),
        ("dropped", "Iterations dropped: due while no VU was free (arrival-rate executors)"),
    ):
        family = counter(f"lgbench_iterations_{field}", doc, labels=["workload", "scenario"])
        for scenario, values in sorted(scenarios.items()):
            family.add_metric([workload, scenario], values[field])
        yield family
    vus = gauge("lgbench_active_vus", "Virtual users running now", labels=["workload", "scenario"])
    for scenario, values in sorted(scenarios.items()):
        vus.add_metric([workload, scenario], values["active_vus"])
    yield vus


@final
class _Collector:
    """prometheus_client's collector protocol over a feed."""

    def __init__(self, feed: MetricsFeed) -> None:
        self._feed = feed

    def collect(self) -> Iterator[Any]:
        return metric_families(self._feed.figures)


@final
class PrometheusExporter:
    """Serves ``http://HOST:PORT/metrics`` from :meth:`start` to :meth:`close`."""

    def __init__(self, feed: MetricsFeed, address: ListenAddress) -> None:
        self.feed = feed
        self.address = address
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the chosen one when the address said 0)."""
        if self._server is None:
            return self.address.port
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return self.address.url(self.port)

    def start(self) -> None:
        """Bind and serve; a taken port or an unknown host is a :class:`UsageError`."""
        client = _import_client()
        registry = client.CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self.feed))
        try:
            self._server, self._thread = client.start_http_server(
                self.address.port, addr=self.address.host, registry=registry
            )
        except OSError as exc:
            raise UsageError(
                f"--prometheus {self.address.host}:{self.address.port}: cannot listen there:"
                f" {exc.strerror or exc}"
            ) from None

    def close(self) -> None:
        """Stop serving and wait for the server's thread."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> PrometheusExporter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
