"""The run's metrics pushed to an OpenTelemetry collector over OTLP/HTTP: :class:`OtlpPusher`.

The ``otlp`` extra (opentelemetry-sdk and its OTLP/HTTP exporter). lgbench's figures are
already aggregated (cumulative counts and bucketed histograms, :class:`Figures`), so they are
not fed through the SDK's instruments: each push builds the SDK's ``MetricsData`` from the
newest figures (cumulative temporality, the same names and labels as ``/metrics``) and hands
it to the SDK's ``OTLPMetricExporter``, which encodes the protobuf and retries as the
specification says. Pushes happen in a thread of the pusher's own every ``every_s`` seconds,
and once more at :meth:`OtlpPusher.close` with the final figures. A collector that cannot be
reached is warned about once; the run goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final, final

import lgbench
from lgbench.errors import UsageError
from lgbench.monitor._families import families
from lgbench.monitor._figures import LATENCY_BUCKETS_S, Figures, HistogramFigures, MetricsFeed

__all__ = ["OtlpPusher", "metrics_data"]

_SCOPE: Final = "lgbench"
_EXPORT_TIMEOUT_S: Final = 10.0


def _import_sdk() -> tuple[Any, Any]:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics import export
    except ImportError:
        raise UsageError(
            "--otlp needs the OpenTelemetry SDK and its OTLP/HTTP exporter:"
            " pip install 'lgbench[otlp]'"
        ) from None
    return export, OTLPMetricExporter


def metrics_data(figures: Figures) -> Any:
    """``figures`` as the OpenTelemetry SDK's ``MetricsData`` (cumulative, one resource)."""
    export, _ = _import_sdk()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    cumulative = export.AggregationTemporality.CUMULATIVE
    start_ns = round(figures.started_at_unix_s * 1e9)
    now_ns = round(figures.taken_at_unix_s * 1e9)
    metrics: list[Any] = []
    for family in families(figures):
        if not family.samples:
            continue
        points: list[Any] = []
        for values, value in family.samples:
            attributes = dict(zip(family.labels, values, strict=True))
            if isinstance(value, HistogramFigures):
                points.append(
                    export.HistogramDataPoint(
                        attributes=attributes,
                        start_time_unix_nano=start_ns,
                        time_unix_nano=now_ns,
                        count=value.count,
                        sum=value.sum_s,
                        bucket_counts=list(value.counts),
                        explicit_bounds=list(LATENCY_BUCKETS_S),
                        min=value.min_s,
                        max=value.max_s,
                    )
                )
            else:
                points.append(
                    export.NumberDataPoint(
                        attributes=attributes,
                        start_time_unix_nano=start_ns,
                        time_unix_nano=now_ns,
                        value=value,
                    )
                )
        if family.kind == "histogram":
            data: Any = export.Histogram(data_points=points, aggregation_temporality=cumulative)
        elif family.kind == "counter":
            data = export.Sum(
                data_points=points, aggregation_temporality=cumulative, is_monotonic=True
            )
        else:
            data = export.Gauge(data_points=points)
        metrics.append(
            export.Metric(name=family.name, description=family.doc, unit=family.unit, data=data)
        )
    resource = Resource.create({"service.name": "lgbench", "lgbench.workload": figures.workload})
    scope = InstrumentationScope(_SCOPE, lgbench.__version__)
    return export.MetricsData(
        resource_metrics=[
            export.ResourceMetrics(
                resource=resource,
                scope_metrics=[export.ScopeMetrics(scope=scope, metrics=metrics, schema_url="")],
                schema_url="",
            )
        ]
    )


@final
class OtlpPusher:
    """Pushes the feed's figures to ``url`` (an OTLP/HTTP metrics endpoint)."""

    def __init__(
        self,
        feed: MetricsFeed,
        url: str,
        *,
        every_s: float,
        warn: Callable[[str], None],
        timeout_s: float = _EXPORT_TIMEOUT_S,
    ) -> None:
        self.feed = feed
        self.url = url
        self.every_s = every_s
        self.timeout_s = timeout_s
        self._warn = warn
        self._exporter: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False
        #: Pushes the collector accepted, and those it did not.
        self.sent = 0
        self.failed = 0

    def check(self) -> None:
        """The SDK is installed (else :class:`UsageError`); makes the exporter."""
        _, exporter_class = _import_sdk()
        # The exporter logs every failed push; lgbench warns once instead. A handler here
        # keeps logging's last-resort printer quiet; logging set up by the user still hears.
        logging.getLogger("opentelemetry.exporter.otlp").addHandler(logging.NullHandler())
        self._exporter = exporter_class(endpoint=self.url, timeout=self.timeout_s)

    def start(self) -> None:
        if self._exporter is None:
            self.check()
        self._thread = threading.Thread(target=self._loop, name="lgbench-otlp", daemon=True)
        self._thread.start()

    def push(self) -> bool:
        """One push of the newest figures (nothing before the run has started)."""
        figures = self.feed.figures
        if not figures.workload:
            return True
        try:
            result = self._exporter.export(
                metrics_data(figures), timeout_millis=self.timeout_s * 1000
            )
            ok = bool(result.name == "SUCCESS")
        except Exception as exc:  # a push must never end the run
            ok = False
            reason = f"{type(exc).__name__}: {exc}"
        else:
            reason = "the collector refused it or could not be reached"
        if ok:
            self.sent += 1
        else:
            self.failed += 1
            if not self._warned:
                self._warned = True
                self._warn(f"--otlp {self.url}: a push failed ({reason}); trying on")
        return ok

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.push()

    def close(self) -> None:
        """Stop the thread, then push the final figures once (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        self.push()
        self._exporter.shutdown()
