"""Running a workload: :func:`run_workload` with :class:`RunOptions` gives a :class:`RunResult`.

::

    workload = load_workload("workloads/quickstart.toml")
    result = anyio.run(run_workload, workload, RunOptions(target="http://127.0.0.1:8123"))
    result.results  # the run's summary.json as an lgbench.results.Summary

The run folder gets ``summary.json``, ``history.jsonl``, ``intervals.hlog`` and
``<operation>.hgrm`` (docs/library.md). Inside, pacers and plans are pure functions of
elapsed time, executors schedule iterations, actors (virtual users) perform the steps and
the recorder turns each operation into metrics and history lines; those stay private.
"""

from __future__ import annotations

from lgbench.engine._audit import AuditOptions
from lgbench.engine._control import RunControl
from lgbench.engine._live import LiveMode
from lgbench.engine._overrides import Overrides
from lgbench.engine._pacer import ScheduleError
from lgbench.engine._runner import (
    Checker,
    RunOptions,
    RunResult,
    default_run_dir,
    planned_duration_s,
    run_workload,
)

# isort: split
# Internal, not part of the public API: what lgbench's own command line, worker processes
# and metrics exporters need from the engine (other packages may not import its private
# modules). They may change in any release; a name becomes public only in ``__all__``.
from lgbench.engine._executors import build_executor as build_executor
from lgbench.engine._executors import executor_model as executor_model
from lgbench.engine._listener import RunListener as RunListener
from lgbench.engine._listener import RunStart as RunStart
from lgbench.engine._live import print_failures as print_failures
from lgbench.engine._live import print_summary as print_summary
from lgbench.engine._overrides import apply_overrides as apply_overrides
from lgbench.engine._recorder import Recorder as Recorder
from lgbench.engine._recorder import Snapshot as Snapshot
from lgbench.engine._runner import find_checker as find_checker
from lgbench.engine._runner import load_client as load_client
from lgbench.engine._runner import measure_loop_lag as measure_loop_lag
from lgbench.engine._runner import measurement_clock as measurement_clock
from lgbench.engine._runner import register_scenario as register_scenario
from lgbench.engine._segment import Segment as Segment
from lgbench.engine._segment import plan_scenario as plan_scenario
from lgbench.engine._segment import segments as segments
from lgbench.engine._split import SplitLoad as SplitLoad
from lgbench.engine._split import SplitRun as SplitRun
from lgbench.engine._tenants import Tenants as Tenants

__all__ = [
    "AuditOptions",
    "Checker",
    "LiveMode",
    "Overrides",
    "RunControl",
    "RunOptions",
    "RunResult",
    "ScheduleError",
    "default_run_dir",
    "planned_duration_s",
    "run_workload",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.engine._"):
        _obj.__module__ = __name__
del _name, _obj
