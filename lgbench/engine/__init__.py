"""The workload engine: pacers (open model), VU plans (closed model) and the dispatcher loop.

Pacers and plans are pure functions of elapsed time; only :func:`run_paced` touches a clock.
"""

from __future__ import annotations

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
from lgbench.engine._schedule import run_paced

__all__ = [
    "MAX_RATE_PER_S",
    "MIN_DURATION_S",
    "Burst",
    "BurstStart",
    "ConstantRate",
    "ConstantVus",
    "Pacer",
    "PerVuIterations",
    "RampingRate",
    "RampingVus",
    "ScheduleError",
    "SharedIterations",
    "Stage",
    "VuChange",
    "VuPlan",
    "VuStage",
    "run_paced",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.engine._"):
        _obj.__module__ = __name__
del _name, _obj
