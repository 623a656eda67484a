"""Scale-out: one run's load split over several worker processes, merged exactly.

:class:`WorkerPool` runs ``lgbench run --workers N`` on one machine (see docs/distributed.md):
the coordinator (:func:`~lgbench.run.run_workload`) plans once and writes the run folder;
each worker runs its segment of every scenario with its own history; their histograms and
counts are merged into the coordinator's recorder interval by interval.
"""

from __future__ import annotations

from lgbench.distributed._pool import WorkerPool, WorkerProcess, WorkerState
from lgbench.distributed._ray import RUN_MARKER, RayPool, run_ray_worker
from lgbench.distributed._worker import (
    WorkerSpec,
    history_name,
    intervals_name,
    sleep_until_wall,
    worker_main,
)

__all__ = [
    "RUN_MARKER",
    "RayPool",
    "WorkerPool",
    "WorkerProcess",
    "WorkerSpec",
    "WorkerState",
    "history_name",
    "intervals_name",
    "run_ray_worker",
    "sleep_until_wall",
    "worker_main",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.distributed._"):
        _obj.__module__ = __name__
del _name, _obj
