"""Thresholds: pass/fail conditions on a run's results, whole-run or in every window.

:func:`build_threshold` reads a key and a condition (the workload parser uses it, so a
workload's thresholds are checked when it is loaded); :func:`parse_threshold_option` reads
``--threshold``; :func:`workload_thresholds` gives a loaded workload's thresholds.
:class:`ThresholdEvaluator` judges them: :meth:`~ThresholdEvaluator.observe` per closed
interval (may ask to stop the run), :meth:`~ThresholdEvaluator.finish` at the end, into a
:class:`ThresholdReport`; :func:`render_thresholds` prints one. The grammar, the metrics and
the report's form are documented in ``docs/thresholds.md``.
"""

from __future__ import annotations

import inspect

from lgbench.thresholds._evaluate import (
    MAX_WINDOW_FAILURES,
    Status,
    ThresholdBreach,
    ThresholdEvaluator,
    ThresholdReport,
    ThresholdResult,
    WindowStats,
    WindowValue,
    summary_value,
)
from lgbench.thresholds._format import format_value
from lgbench.thresholds._grammar import (
    OPERATORS,
    STATS,
    Metric,
    MetricKind,
    Operator,
    Threshold,
    ThresholdProblem,
    build_threshold,
    parse_threshold_option,
    workload_thresholds,
)
from lgbench.thresholds._judgeable import (
    BURST_OBSERVER_OPERATIONS,
    BURST_OPERATIONS,
    unjudgeable_reason,
)
from lgbench.thresholds._render import render_thresholds

__all__ = [
    "BURST_OBSERVER_OPERATIONS",
    "BURST_OPERATIONS",
    "MAX_WINDOW_FAILURES",
    "OPERATORS",
    "STATS",
    "Metric",
    "MetricKind",
    "Operator",
    "Status",
    "Threshold",
    "ThresholdBreach",
    "ThresholdEvaluator",
    "ThresholdProblem",
    "ThresholdReport",
    "ThresholdResult",
    "WindowStats",
    "WindowValue",
    "build_threshold",
    "format_value",
    "parse_threshold_option",
    "render_thresholds",
    "summary_value",
    "unjudgeable_reason",
    "workload_thresholds",
]

for _name in __all__:
    _obj = globals()[_name]
    claimable = inspect.isclass(_obj) or inspect.isfunction(_obj)
    if claimable and _obj.__module__.startswith("lgbench.thresholds._"):
        _obj.__module__ = __name__
del _name, _obj, claimable, inspect
