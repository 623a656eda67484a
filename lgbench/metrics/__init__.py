"""Metrics: HDR latency histograms per operation, interval snapshots, .hlog and .hgrm output.

Only :mod:`lgbench.metrics._hdr` touches the untyped ``hdrh`` package.
"""

from __future__ import annotations

from lgbench.metrics._hdr import (
    HIGHEST_TRACKABLE_US,
    LOWEST_TRACKABLE_US,
    SIGNIFICANT_FIGURES,
    SUMMARY_PERCENTILES,
    LatencyRecorder,
    LatencyStats,
)
from lgbench.metrics._hgrm import format_percentile_distribution
from lgbench.metrics._hlog import HLOG_FORMAT_VERSION, HlogWriter
from lgbench.metrics._operation import MetricKey, OperationMetrics, latency_us
from lgbench.metrics._registry import SCHEMA_VERSION, IntervalSnapshot, MetricsRegistry

__all__ = [
    "HIGHEST_TRACKABLE_US",
    "HLOG_FORMAT_VERSION",
    "LOWEST_TRACKABLE_US",
    "SCHEMA_VERSION",
    "SIGNIFICANT_FIGURES",
    "SUMMARY_PERCENTILES",
    "HlogWriter",
    "IntervalSnapshot",
    "LatencyRecorder",
    "LatencyStats",
    "MetricKey",
    "MetricsRegistry",
    "OperationMetrics",
    "format_percentile_distribution",
    "latency_us",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.metrics._"):
        _obj.__module__ = __name__
del _name, _obj
