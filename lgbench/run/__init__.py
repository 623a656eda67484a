"""Running a workload: :func:`run_workload` with :class:`RunOptions` gives a :class:`RunResult`.

::

    workload = load_workload("workloads/quickstart.toml")
    result = anyio.run(run_workload, workload, RunOptions(target="http://127.0.0.1:8123"))
    result.results  # the run's summary.json as an lgbench.results.Summary

The run layer sits above the engine: it starts the target (the embedded server, the fault
proxy), samples it, plays the fault schedule, hands the load to the engine
(:mod:`lgbench.engine`), then walks the post-run steps: the checker, thresholds, the
baseline comparison, ``summary.json``, ``junit.xml`` and ``report.html`` (docs/library.md).
"""

from __future__ import annotations

from lgbench.run._runner import RunOptions, RunResult, default_run_dir, run_workload
from lgbench.run._steps import Checker

# isort: split
# Internal, not part of the public API: what lgbench's own command line needs.
from lgbench.run._runner import find_checker as find_checker

__all__ = [
    "Checker",
    "RunOptions",
    "RunResult",
    "default_run_dir",
    "run_workload",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.run._"):
        _obj.__module__ = __name__
del _name, _obj
