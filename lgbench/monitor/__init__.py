"""Live metrics for the monitoring people already run: Prometheus ``/metrics`` and OTLP.

:class:`MetricsFeed` hears a run (a :class:`~lgbench.engine.RunListener`) and keeps its newest
:class:`Figures`; :class:`PrometheusExporter` serves them (``lgbench run --prometheus``) and
:class:`OtlpPusher` pushes them to an OpenTelemetry collector (``lgbench run --otlp``). Both
libraries are optional extras (``prometheus``, ``otlp``): nothing here imports them until
an exporter starts. docs/monitoring.md lists every metric.
"""

from __future__ import annotations

from lgbench.monitor._address import ListenAddress, otlp_metrics_url, parse_listen_address
from lgbench.monitor._families import Family, FamilyKind, families
from lgbench.monitor._figures import (
    ERROR_KINDS,
    LATENCY_BUCKETS_S,
    QUANTILES,
    Figures,
    HistogramFigures,
    MetricsFeed,
)
from lgbench.monitor._otlp import OtlpPusher, metrics_data
from lgbench.monitor._prometheus import PrometheusExporter, metric_families
from lgbench.monitor._session import (
    DEFAULT_GRACE_S,
    DEFAULT_PUSH_EVERY_S,
    MetricsSession,
    MetricsSettings,
)

__all__ = [
    "DEFAULT_GRACE_S",
    "DEFAULT_PUSH_EVERY_S",
    "ERROR_KINDS",
    "LATENCY_BUCKETS_S",
    "QUANTILES",
    "Family",
    "FamilyKind",
    "Figures",
    "HistogramFigures",
    "ListenAddress",
    "MetricsFeed",
    "MetricsSession",
    "MetricsSettings",
    "OtlpPusher",
    "PrometheusExporter",
    "families",
    "metric_families",
    "metrics_data",
    "otlp_metrics_url",
    "parse_listen_address",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.monitor._"):
        _obj.__module__ = __name__
del _name, _obj
