"""Thresholds a run can never judge, found before it starts.

A threshold on an operation that no step of the selected scenarios calls would end the run as
NO DATA (which fails) however well the server did: ``lgbench validate`` and ``lgbench run``
say so at once instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lgbench._toml import quote
from lgbench.workload._executors import BurstConfig
from lgbench.workload._model import TURN_TAG, USER_TAG, OperationStepConfig, ScenarioConfig
from lgbench.workload._thresholds import Metric

__all__ = ["BURST_OBSERVER_OPERATIONS", "BURST_OPERATIONS", "unjudgeable_reason"]

#: What a burst scenario calls itself: its thread, then its runs.
BURST_OPERATIONS: Final = frozenset({"threads.create", "runs.create"})
#: What a burst scenario's observers call (recorded with the ``role=observer`` tag).
BURST_OBSERVER_OPERATIONS: Final = frozenset({"runs.list", "threads.get", "threads.get_state"})
_OBSERVER: Final = ("role", "observer")


def _calls(scenario: ScenarioConfig, *, observers_only: bool) -> frozenset[str]:
    if isinstance(scenario.executor, BurstConfig):
        if observers_only:
            return BURST_OBSERVER_OPERATIONS
        return BURST_OPERATIONS | BURST_OBSERVER_OPERATIONS
    if observers_only:
        return frozenset()
    return frozenset(step.op for step in scenario.steps if isinstance(step, OperationStepConfig))


def unjudgeable_reason(metric: Metric, scenarios: Iterable[ScenarioConfig]) -> str | None:
    """Why a threshold on ``metric`` can never be judged in a workload of ``scenarios`` (no
    selected scenario calls its operation), or None when it can be."""
    operation = metric.operation
    if operation is None:
        return None
    observers_only = metric.tag == _OBSERVER
    calls: set[str] = set()
    for scenario in scenarios:
        if metric.scenario is not None and scenario.name != metric.scenario:
            continue
        if metric.tag is not None and not observers_only:
            name, value = metric.tag
            if name == TURN_TAG:
                # Each repeat of a step with turns is recorded under turn=<k>.
                calls |= {
                    step.op
                    for step in scenario.steps
                    if isinstance(step, OperationStepConfig)
                    and step.turns
                    and value.isdigit()
                    and 1 <= int(value) <= step.repeat
                }
                continue
            # Every operation of a run with users carries user=<label> (which label a VU
            # is, the token source decides at run time: any call of the scenario may be it).
            if name != USER_TAG and scenario.tags.get(name) != value:
                continue
        calls |= _calls(scenario, observers_only=observers_only)
    if operation in calls:
        return None
    if metric.scenario is not None:
        where = f"scenario {quote(metric.scenario)} never calls {operation}"
    elif observers_only:
        where = f"no burst observer calls {operation}"
    elif metric.tag is not None:
        where = f"no scenario tagged {metric.tag[0]}={metric.tag[1]} calls {operation}"
    else:
        where = f"no scenario calls {operation}"
    return f"this threshold can never be judged: {where}"
