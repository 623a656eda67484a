"""The workload engine: pacers, VU plans, executors, actors, the recorder and the runner.

Pacers and plans are pure functions of elapsed time; :func:`run_paced` is the open model's
dispatcher loop. :func:`run_workload` runs a whole workload (``lgbench run``): executors
schedule iterations, actors (virtual users) perform the steps, the :class:`Recorder` turns each
operation into metrics and history lines, and the run folder gets ``summary.json``,
``history.jsonl``, ``intervals.hlog`` and ``<operation>.hgrm``.
"""

from __future__ import annotations

from lgbench.engine._actor import Actor, CallResult, IterationOutcome, ScenarioContext
from lgbench.engine._audit import AUDIT_SCENARIO, AuditOptions, AuditProgress, run_audit
from lgbench.engine._control import RunControl
from lgbench.engine._executors import (
    BurstExecutor,
    ConstantArrivalRateExecutor,
    ConstantVusExecutor,
    Executor,
    PerVuIterationsExecutor,
    RampingArrivalRateExecutor,
    RampingVusExecutor,
    SharedIterationsExecutor,
    build_executor,
    executor_model,
)
from lgbench.engine._listener import RunListener, RunStart
from lgbench.engine._live import LiveMode, LiveView, print_failures, print_summary
from lgbench.engine._overrides import Overrides, apply_overrides
from lgbench.engine._pacer import (
    MAX_RATE_PER_S,
    MIN_DURATION_S,
    ConstantRate,
    Pacer,
    RampingRate,
    ScheduleError,
    Stage,
)
from lgbench.engine._plan import (
    Burst,
    BurstStart,
    ConstantVus,
    PerVuIterations,
    RampingVus,
    SharedIterations,
    VuChange,
    VuPlan,
    VuStage,
)
from lgbench.engine._recorder import (
    BUSY_CPU_PERCENT,
    LAG_WARNING_MS,
    THREAD_LEDGER_CAP,
    LoadModel,
    OperationScope,
    Recorder,
    ScenarioStats,
    Snapshot,
    ThreadLedger,
    bottleneck_warnings,
)
from lgbench.engine._routes import (
    MAX_PROBES,
    RouteSupport,
    UnsupportedRoute,
    is_generic_not_found,
)
from lgbench.engine._runner import (
    SUMMARY_SCHEMA_VERSION,
    Checker,
    RunOptions,
    RunResult,
    default_run_dir,
    find_checker,
    load_client,
    measure_loop_lag,
    measurement_clock,
    planned_duration_s,
    register_scenario,
    run_workload,
)
from lgbench.engine._schedule import run_paced
from lgbench.engine._segment import (
    ScenarioPlan,
    Schedule,
    Segment,
    SegmentPacer,
    SegmentVus,
    plan_scenario,
    segments,
)
from lgbench.engine._split import SplitLoad, SplitRun
from lgbench.engine._tenants import Tenants

__all__ = [
    "AUDIT_SCENARIO",
    "BUSY_CPU_PERCENT",
    "LAG_WARNING_MS",
    "MAX_PROBES",
    "MAX_RATE_PER_S",
    "MIN_DURATION_S",
    "SUMMARY_SCHEMA_VERSION",
    "THREAD_LEDGER_CAP",
    "Actor",
    "AuditOptions",
    "AuditProgress",
    "Burst",
    "BurstExecutor",
    "BurstStart",
    "CallResult",
    "Checker",
    "ConstantArrivalRateExecutor",
    "ConstantRate",
    "ConstantVus",
    "ConstantVusExecutor",
    "Executor",
    "IterationOutcome",
    "LiveMode",
    "LiveView",
    "LoadModel",
    "OperationScope",
    "Overrides",
    "Pacer",
    "PerVuIterations",
    "PerVuIterationsExecutor",
    "RampingArrivalRateExecutor",
    "RampingRate",
    "RampingVus",
    "RampingVusExecutor",
    "Recorder",
    "RouteSupport",
    "RunControl",
    "RunListener",
    "RunOptions",
    "RunResult",
    "RunStart",
    "ScenarioContext",
    "ScenarioPlan",
    "ScenarioStats",
    "Schedule",
    "ScheduleError",
    "Segment",
    "SegmentPacer",
    "SegmentVus",
    "SharedIterations",
    "SharedIterationsExecutor",
    "Snapshot",
    "SplitLoad",
    "SplitRun",
    "Stage",
    "Tenants",
    "ThreadLedger",
    "UnsupportedRoute",
    "VuChange",
    "VuPlan",
    "VuStage",
    "apply_overrides",
    "bottleneck_warnings",
    "build_executor",
    "default_run_dir",
    "executor_model",
    "find_checker",
    "is_generic_not_found",
    "load_client",
    "measure_loop_lag",
    "measurement_clock",
    "plan_scenario",
    "planned_duration_s",
    "print_failures",
    "print_summary",
    "register_scenario",
    "run_audit",
    "run_paced",
    "run_workload",
    "segments",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.engine._"):
        _obj.__module__ = __name__
del _name, _obj
