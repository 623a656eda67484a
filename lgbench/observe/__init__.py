"""Watching a long run: drift of latency and errors, and the target's and lgbench's resources.

- :class:`DriftTracker` folds interval snapshots into fixed windows and gives, per operation,
  the trend of p50, p99 and error rate (:func:`drift_from_points` does the same offline).
- :class:`ServerSampler` reads the target's ``/metrics`` (queue, workers, its process) and
  ``/info``, and steps aside quietly when the target offers none or stops answering.
- :func:`describe_server` says what the target is, from its own ``/info`` (never assumed).
- :class:`ProcessSampler` measures a process tree's CPU and RSS through psutil: the embedded
  server's, and lgbench's own.

docs/soak.md describes the figures.
"""

from __future__ import annotations

from lgbench.observe._drift import (
    EDGE_WINDOWS,
    MAX_PAIRS,
    MIN_WINDOWS,
    DriftTracker,
    WindowPoint,
    drift_from_points,
    theil_sen_slope,
)
from lgbench.observe._identity import (
    REFERENCE_SERVER,
    UNKNOWN_SERVER,
    compact_info,
    describe_server,
    server_label,
)
from lgbench.observe._process import ProcessSample, ProcessSampler, machine_cpu_percent
from lgbench.observe._server import (
    FIGURES,
    ServerSampler,
    figures_from_metrics_json,
    figures_from_prometheus,
    parse_prometheus_text,
)

__all__ = [
    "EDGE_WINDOWS",
    "FIGURES",
    "MAX_PAIRS",
    "MIN_WINDOWS",
    "REFERENCE_SERVER",
    "UNKNOWN_SERVER",
    "DriftTracker",
    "ProcessSample",
    "ProcessSampler",
    "ServerSampler",
    "WindowPoint",
    "compact_info",
    "describe_server",
    "drift_from_points",
    "figures_from_metrics_json",
    "figures_from_prometheus",
    "machine_cpu_percent",
    "parse_prometheus_text",
    "server_label",
    "theil_sen_slope",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.observe._"):
        _obj.__module__ = __name__
del _name, _obj
