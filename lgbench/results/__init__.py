"""summary.json as a typed model: what a run measured, read, written and merged in one place.

:class:`Summary` is the file (docs/summary.md, its JSON Schema docs/summary.schema.json); its
parts are the classes below. Every reader and writer of summary.json goes through it, so a
renamed key fails the type check and the tests instead of blanking a report section. A leaf:
it imports only :mod:`lgbench.metrics` (for exact histogram merging) and the top-level modules.
"""

from __future__ import annotations

import msgspec

from lgbench.results._errors import ResultsError
from lgbench.results._merge import (
    LATENCY_BASIS,
    REPLY_RATE_SERIES,
    TOKEN_RATE_SCALE,
    TOP_ERRORS,
    count_stats,
    histogram_state,
    latency_figures,
    merge_operation,
    merge_operations,
    merge_summaries,
    token_rate_stats,
)
from lgbench.results._model import (
    SCHEMA_VERSION,
    Audit,
    AuditBudget,
    CheckVerdict,
    Drift,
    ErrorRateDrift,
    ErrorsByKind,
    EventCounts,
    Fault,
    FaultSkipped,
    Files,
    HistogramState,
    HistoryFigures,
    Iterations,
    LagFigures,
    Latency,
    LatencyDrift,
    NeverSucceeded,
    Observation,
    Operation,
    OperationDrift,
    OperationHistograms,
    ProxyCounters,
    Sampling,
    Scenario,
    Server,
    Skipped,
    Stream,
    Target,
    ThresholdResult,
    Thresholds,
    ThresholdWindow,
    ThresholdWindows,
    TokenRates,
    TopError,
    UnsupportedRoute,
    Worker,
    WorkloadInfo,
)
from lgbench.results._summary import Summary, summary_part, summary_schema

__all__ = [
    "LATENCY_BASIS",
    "REPLY_RATE_SERIES",
    "SCHEMA_VERSION",
    "TOKEN_RATE_SCALE",
    "TOP_ERRORS",
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
    "ResultsError",
    "Sampling",
    "Scenario",
    "Server",
    "Skipped",
    "Stream",
    "Summary",
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
    "count_stats",
    "histogram_state",
    "latency_figures",
    "merge_operation",
    "merge_operations",
    "merge_summaries",
    "summary_part",
    "summary_schema",
    "token_rate_stats",
]

# msgspec reads a struct's annotations from the module named by its ``__module__``: decode
# once with the private modules' names, which caches every class's types, then rename.
msgspec.convert({}, Summary)
summary_schema()

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.results._"):
        _obj.__module__ = __name__
del _name, _obj
