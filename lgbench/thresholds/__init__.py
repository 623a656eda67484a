"""Thresholds: pass/fail conditions on a run's results, whole-run or in every window.

Thresholds are read by :mod:`lgbench.workload`, whose language they are part of:
:func:`~lgbench.workload.build_threshold` reads a key and a condition (so a workload's
thresholds are checked when it is loaded), :func:`~lgbench.workload.parse_threshold_option`
reads ``--threshold`` and :func:`~lgbench.workload.workload_thresholds` gives a loaded
workload's thresholds. Here, :class:`ThresholdEvaluator` judges them:
:meth:`~ThresholdEvaluator.observe` per closed interval (may ask to stop the run),
:meth:`~ThresholdEvaluator.finish` at the end, into a :class:`ThresholdReport`;
:func:`render_thresholds` prints one. The grammar, the metrics and the report's form are
documented in ``docs/thresholds.md``.
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
from lgbench.thresholds._render import render_thresholds

__all__ = [
    "MAX_WINDOW_FAILURES",
    "Status",
    "ThresholdBreach",
    "ThresholdEvaluator",
    "ThresholdReport",
    "ThresholdResult",
    "WindowStats",
    "WindowValue",
    "format_value",
    "render_thresholds",
    "summary_value",
]

for _name in __all__:
    _obj = globals()[_name]
    claimable = inspect.isclass(_obj) or inspect.isfunction(_obj)
    if claimable and _obj.__module__.startswith("lgbench.thresholds._"):
        _obj.__module__ = __name__
del _name, _obj, claimable, inspect
