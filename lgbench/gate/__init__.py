"""CI gates after a run: baseline comparison, trends and junit.xml (docs/ci.md).

:func:`compare_runs` compares a baseline's runs with new runs per operation and figure
(latency and time-to-first-event percentiles, error rate; throughput and chat reply
streams' tokens per second shown, not gated),
calling a regression only with statistical confidence; :func:`compare_summaries` is the
point rule on two summaries alone; :func:`compare_paths` compares what ``lgbench compare``
is given (summary.json files, run folders, folders of runs); :func:`trend_of_runs` finds the
change points in a series of runs (``lgbench trend``), :func:`render_trend` prints them;
:func:`write_junit` writes junit.xml from a run's thresholds, checker verdict and baseline
comparison.

    base = [load_run(p) for p in expand_runs("reports/nightly")]  # a folder of runs
    comparison = compare_runs(base, [load_run("reports/new")])
    render_comparison(comparison, console)
    summary["baseline"] = comparison.to_dict()
    write_junit(run_dir / "junit.xml", summary, check, summary["baseline"])
"""

from __future__ import annotations

import contextlib

from lgbench.gate._compare import (
    COMPARISON_SCHEMA_VERSION,
    DEFAULT_MAX_REGRESSION,
    DEFAULT_MIN_DIFFERENCE_MS,
    DEFAULT_MIN_ERROR_RATE_INCREASE,
    DEFAULT_PERCENTILES,
    Comparison,
    MetricComparison,
    OperationComparison,
    compare_summaries,
)
from lgbench.gate._junit import JUNIT_SUITES, write_junit
from lgbench.gate._load import (
    SUMMARY_FILE,
    SUMMARY_SCHEMA_VERSIONS,
    load_summary,
    parse_percentage,
    summary_path,
)
from lgbench.gate._render import render_comparison
from lgbench.gate._runs import (
    NO_INTERVALS,
    RunData,
    compare_paths,
    compare_runs,
    expand_runs,
    load_run,
)
from lgbench.gate._stats import DEFAULT_CONFIDENCE, load_run_samples
from lgbench.gate._trend import (
    ChangePoint,
    TrendResult,
    find_change_points,
    render_trend,
    trend_of_runs,
)

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_MAX_REGRESSION",
    "DEFAULT_MIN_DIFFERENCE_MS",
    "DEFAULT_MIN_ERROR_RATE_INCREASE",
    "DEFAULT_PERCENTILES",
    "JUNIT_SUITES",
    "NO_INTERVALS",
    "SUMMARY_FILE",
    "SUMMARY_SCHEMA_VERSIONS",
    "ChangePoint",
    "Comparison",
    "MetricComparison",
    "OperationComparison",
    "RunData",
    "TrendResult",
    "compare_paths",
    "compare_runs",
    "compare_summaries",
    "expand_runs",
    "find_change_points",
    "load_run",
    "load_run_samples",
    "load_summary",
    "parse_percentage",
    "render_comparison",
    "render_trend",
    "summary_path",
    "trend_of_runs",
    "write_junit",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.gate._"):
        with contextlib.suppress(AttributeError, TypeError):  # constants
            _obj.__module__ = __name__
del _name, _obj, contextlib
