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

Each name is loaded from its private module on first use (PEP 562): ``lgbench run``
needs ``write_junit`` after every run and the comparison only with ``--baseline``, so a run
does not pay for the comparison, the trends and their tables at start-up.
"""

from __future__ import annotations

import typing as _typing

from lgbench._lazy import lazy_module_functions as _lazy_module_functions

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

#: Each public name and the private module it comes from.
_HOMES: dict[str, str] = {
    "COMPARISON_SCHEMA_VERSION": "lgbench.gate._compare",
    "DEFAULT_CONFIDENCE": "lgbench.gate._stats",
    "DEFAULT_MAX_REGRESSION": "lgbench.gate._compare",
    "DEFAULT_MIN_DIFFERENCE_MS": "lgbench.gate._compare",
    "DEFAULT_MIN_ERROR_RATE_INCREASE": "lgbench.gate._compare",
    "DEFAULT_PERCENTILES": "lgbench.gate._compare",
    "JUNIT_SUITES": "lgbench.gate._junit",
    "NO_INTERVALS": "lgbench.gate._runs",
    "SUMMARY_FILE": "lgbench.gate._load",
    "SUMMARY_SCHEMA_VERSIONS": "lgbench.gate._load",
    "ChangePoint": "lgbench.gate._trend",
    "Comparison": "lgbench.gate._compare",
    "MetricComparison": "lgbench.gate._compare",
    "OperationComparison": "lgbench.gate._compare",
    "RunData": "lgbench.gate._runs",
    "TrendResult": "lgbench.gate._trend",
    "compare_paths": "lgbench.gate._runs",
    "compare_runs": "lgbench.gate._runs",
    "compare_summaries": "lgbench.gate._compare",
    "expand_runs": "lgbench.gate._runs",
    "find_change_points": "lgbench.gate._trend",
    "load_run": "lgbench.gate._runs",
    "load_run_samples": "lgbench.gate._stats",
    "load_summary": "lgbench.gate._load",
    "parse_percentage": "lgbench.gate._load",
    "render_comparison": "lgbench.gate._render",
    "render_trend": "lgbench.gate._trend",
    "summary_path": "lgbench.gate._load",
    "trend_of_runs": "lgbench.gate._trend",
    "write_junit": "lgbench.gate._junit",
}

if _typing.TYPE_CHECKING:
    from lgbench.gate._compare import COMPARISON_SCHEMA_VERSION as COMPARISON_SCHEMA_VERSION
    from lgbench.gate._compare import DEFAULT_MAX_REGRESSION as DEFAULT_MAX_REGRESSION
    from lgbench.gate._compare import DEFAULT_MIN_DIFFERENCE_MS as DEFAULT_MIN_DIFFERENCE_MS
    from lgbench.gate._compare import (
        DEFAULT_MIN_ERROR_RATE_INCREASE as DEFAULT_MIN_ERROR_RATE_INCREASE,
    )
    from lgbench.gate._compare import DEFAULT_PERCENTILES as DEFAULT_PERCENTILES
    from lgbench.gate._compare import Comparison as Comparison
    from lgbench.gate._compare import MetricComparison as MetricComparison
    from lgbench.gate._compare import OperationComparison as OperationComparison
    from lgbench.gate._compare import compare_summaries as compare_summaries
    from lgbench.gate._junit import JUNIT_SUITES as JUNIT_SUITES
    from lgbench.gate._junit import write_junit as write_junit
    from lgbench.gate._load import SUMMARY_FILE as SUMMARY_FILE
    from lgbench.gate._load import SUMMARY_SCHEMA_VERSIONS as SUMMARY_SCHEMA_VERSIONS
    from lgbench.gate._load import load_summary as load_summary
    from lgbench.gate._load import parse_percentage as parse_percentage
    from lgbench.gate._load import summary_path as summary_path
    from lgbench.gate._render import render_comparison as render_comparison
    from lgbench.gate._runs import NO_INTERVALS as NO_INTERVALS
    from lgbench.gate._runs import RunData as RunData
    from lgbench.gate._runs import compare_paths as compare_paths
    from lgbench.gate._runs import compare_runs as compare_runs
    from lgbench.gate._runs import expand_runs as expand_runs
    from lgbench.gate._runs import load_run as load_run
    from lgbench.gate._stats import DEFAULT_CONFIDENCE as DEFAULT_CONFIDENCE
    from lgbench.gate._stats import load_run_samples as load_run_samples
    from lgbench.gate._trend import ChangePoint as ChangePoint
    from lgbench.gate._trend import TrendResult as TrendResult
    from lgbench.gate._trend import find_change_points as find_change_points
    from lgbench.gate._trend import render_trend as render_trend
    from lgbench.gate._trend import trend_of_runs as trend_of_runs
else:
    __getattr__, __dir__ = _lazy_module_functions(__name__, globals(), _HOMES, __all__)
