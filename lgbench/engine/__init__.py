"""The engine: a workload's load, measured (:func:`lgbench.run.run_workload` drives it).

What a library user sets here: :class:`Overrides` (a run's load changed without editing the
workload), :class:`RunControl` (stopping a run from outside), :class:`AuditOptions`, the live
view's :data:`LiveMode`, and :func:`planned_duration_s`. Inside, pacers and plans are pure
functions of elapsed time, executors schedule iterations, actors (virtual users) perform the
steps and the recorder turns each operation into metrics and history lines; a
:class:`LoadRun` runs them for the run layer (``history.jsonl``, ``intervals.hlog``,
``timeseries.jsonl``, ``<operation>.hgrm``, checkpoints of ``summary.json``). Those stay
private. The engine imports no checker, gate or report code: the run layer
(:mod:`lgbench.run`) calls them once the load ended.
"""

from __future__ import annotations

from lgbench.engine._audit import AuditOptions
from lgbench.engine._control import RunControl
from lgbench.engine._live import LiveMode
from lgbench.engine._overrides import Overrides
from lgbench.engine._pacer import ScheduleError
from lgbench.engine._runner import planned_duration_s

# isort: split
# Internal, not part of the public API: what lgbench's own command line, worker processes
# and metrics exporters need from the engine (other packages may not import its private
# modules). They may change in any release; a name becomes public only in ``__all__``.
from lgbench.engine._executors import build_executor as build_executor
from lgbench.engine._executors import executor_model as executor_model
from lgbench.engine._heap import start_up_heap_frozen as start_up_heap_frozen
from lgbench.engine._listener import RunListener as RunListener
from lgbench.engine._listener import RunStart as RunStart
from lgbench.engine._live import LiveView as LiveView
from lgbench.engine._live import print_failures as print_failures
from lgbench.engine._live import print_summary as print_summary
from lgbench.engine._overrides import apply_overrides as apply_overrides
from lgbench.engine._recorder import Recorder as Recorder
from lgbench.engine._recorder import Snapshot as Snapshot
from lgbench.engine._runner import SUMMARY_SCHEMA_VERSION as SUMMARY_SCHEMA_VERSION
from lgbench.engine._runner import IntervalJudge as IntervalJudge
from lgbench.engine._runner import LoadRun as LoadRun
from lgbench.engine._runner import LoadSettings as LoadSettings
from lgbench.engine._runner import load_client as load_client
from lgbench.engine._runner import measure_loop_lag as measure_loop_lag
from lgbench.engine._runner import measurement_clock as measurement_clock
from lgbench.engine._runner import register_scenario as register_scenario
from lgbench.engine._runner import write_summary as write_summary
from lgbench.engine._sampling import RunSampler as RunSampler
from lgbench.engine._segment import Segment as Segment
from lgbench.engine._segment import plan_scenario as plan_scenario
from lgbench.engine._segment import segments as segments
from lgbench.engine._split import SplitLoad as SplitLoad
from lgbench.engine._split import SplitRun as SplitRun
from lgbench.engine._tenants import Tenants as Tenants
from lgbench.engine._tenants import load_tokens as load_tokens

__all__ = [
    "AuditOptions",
    "LiveMode",
    "Overrides",
    "RunControl",
    "ScheduleError",
    "planned_duration_s",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.engine._"):
        _obj.__module__ = __name__
del _name, _obj
