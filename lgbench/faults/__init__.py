"""Fault injection: a misbehaving loopback proxy, embedded-server faults, and their schedule.

- :class:`FaultProxy` sits between lgbench and the target and adds latency and jitter,
  throttles bandwidth, stalls, resets or refuses connections, and cuts SSE streams in the
  middle of an event, switchable at run time (:mod:`lgbench.faults._proxy`).
- The embedded server's own faults (kill -9, restart, SIGSTOP/SIGCONT) are methods of
  :class:`lgbench.server.AsyncEmbeddedServer`.
- A workload's ``[[fault]]`` tables become :class:`FaultSpec` values
  (:func:`validate_fault_table`), are checked against what a run has
  (:func:`check_schedule`) and are played by :func:`run_fault_schedule`.

See ``docs/faults.md``.
"""

from __future__ import annotations

from lgbench.faults._proxy import (
    DIRECTIONS,
    AppliedFault,
    CutFault,
    Direction,
    FaultProxy,
    LatencyFault,
    ProxyFault,
    ProxyStats,
    RefuseFault,
    ResetFault,
    StallFault,
    ThrottleFault,
)
from lgbench.faults._runner import (
    FaultEvent,
    FaultPhase,
    run_fault_schedule,
)
from lgbench.faults._schedule import (
    FAULT_KINDS,
    PROXY_KINDS,
    SERVER_KINDS,
    FaultIssue,
    FaultKind,
    FaultSpec,
    check_schedule,
    faults_after,
    validate_fault_table,
)

__all__ = [
    "DIRECTIONS",
    "FAULT_KINDS",
    "PROXY_KINDS",
    "SERVER_KINDS",
    "AppliedFault",
    "CutFault",
    "Direction",
    "FaultEvent",
    "FaultIssue",
    "FaultKind",
    "FaultPhase",
    "FaultProxy",
    "FaultSpec",
    "LatencyFault",
    "ProxyFault",
    "ProxyStats",
    "RefuseFault",
    "ResetFault",
    "StallFault",
    "ThrottleFault",
    "check_schedule",
    "faults_after",
    "run_fault_schedule",
    "validate_fault_table",
]

for _name in __all__:
    _obj = globals()[_name]
    if (isinstance(_obj, type) or callable(_obj)) and getattr(_obj, "__module__", "").startswith(
        "lgbench.faults._"
    ):
        _obj.__module__ = __name__
del _name, _obj
