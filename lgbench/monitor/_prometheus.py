"""``/metrics`` in the Prometheus text format, served while a run goes: :class:`PrometheusExporter`.

Built on ``prometheus_client`` (the ``prometheus`` extra): its HTTP server runs in a daemon
thread of its own, and every scrape renders the feed's newest :class:`Figures` (a custom
collector: no client-side metric objects are updated per request, so serving costs the run
nothing between scrapes). The metric names and labels are docs/monitoring.md's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, final

from lgbench.errors import UsageError
from lgbench.monitor._address import ListenAddress
from lgbench.monitor._families import families
from lgbench.monitor._figures import LATENCY_BUCKETS_S, Figures, HistogramFigures

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from lgbench.monitor._figures import MetricsFeed

__all__ = ["PrometheusExporter", "metric_families"]

_LE: Final = (*(f"{bound:g}" for bound in LATENCY_BUCKETS_S), "+Inf")


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

    for family in families(figures):
        labels = list(family.labels)
        if family.kind == "histogram":
            histograms = HistogramMetricFamily(family.name, family.doc, labels=labels)
            for values, histogram in family.samples:
                assert isinstance(histogram, HistogramFigures)
                histograms.add_metric(list(values), _buckets(histogram), histogram.sum_s)
            yield histograms
            continue
        kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
        numbers = kind(family.name, family.doc, labels=labels)
        for values, value in family.samples:
            assert not isinstance(value, HistogramFigures)
            numbers.add_metric(list(values), value)
        yield numbers


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
