"""report.html: one self-contained page per run, with plots, built from the run folder.

:func:`build_report` reads summary.json, check.json, intervals.hlog, timeseries.jsonl and
the history header (each optional: a killed run still gets a report, marked partial) and
writes ``report.html`` with plotly.js inlined, so it opens offline from ``file://``.
See docs/report.md. :func:`write_report` does the same and also says what it skipped.

    path = build_report(Path("reports/quickstart-20261125T171022Z"))
"""

from __future__ import annotations

from lgbench.report._build import (
    REPORT_FILE,
    WrittenReport,
    build_report,
    render_report,
    write_report,
)
from lgbench.report._grid import MAX_BUCKETS

__all__ = [
    "MAX_BUCKETS",
    "REPORT_FILE",
    "WrittenReport",
    "build_report",
    "render_report",
    "write_report",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.report._"):
        _obj.__module__ = __name__
del _name, _obj
