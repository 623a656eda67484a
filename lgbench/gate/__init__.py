"""CI gates after a run: baseline comparison and junit.xml (docs/ci.md).

:func:`compare_summaries` compares two summary.json contents per operation and percentile
(latency, a stream's time to first event, error rate; throughput shown, not gated);
:func:`compare_command` is ``lgbench compare``; :func:`write_junit` writes junit.xml from
a run's thresholds, checker verdict and baseline comparison.

    base = load_summary("reports/base")          # a run folder or a summary.json
    comparison = compare_summaries(base, summary, max_regression=parse_percentage("10%"))
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
from lgbench.gate._render import compare_command, render_comparison

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "DEFAULT_MAX_REGRESSION",
    "DEFAULT_MIN_DIFFERENCE_MS",
    "DEFAULT_MIN_ERROR_RATE_INCREASE",
    "DEFAULT_PERCENTILES",
    "JUNIT_SUITES",
    "SUMMARY_FILE",
    "SUMMARY_SCHEMA_VERSIONS",
    "Comparison",
    "MetricComparison",
    "OperationComparison",
    "compare_command",
    "compare_summaries",
    "load_summary",
    "parse_percentage",
    "render_comparison",
    "summary_path",
    "write_junit",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.gate._"):
        with contextlib.suppress(AttributeError, TypeError):  # constants
            _obj.__module__ = __name__
del _name, _obj, contextlib
