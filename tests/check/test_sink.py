"""The streaming pass's sink skips operations with nothing to judge: the verdict is the same.

``_Sink.operation`` hands an operation with empty arguments and an empty result (every raw
HTTP step's, half of most histories) to none of the judges, unless it creates a run. Each
judge, given such an operation of any name and outcome, must then do nothing at all: this
test feeds them every name the operations table knows and checks that none of them moved.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from lgbench.check._check import _Sink, _Stateless
from lgbench.check._events import CREATING_OPS, Event, Operation, Outcome
from lgbench.check._progress import Progress
from lgbench.check._spill import Spill
from lgbench.check._tenancy import Tenancy
from lgbench.operations import OPERATIONS

SKIPPED = sorted(name for name in OPERATIONS if name not in CREATING_OPS)
OUTCOMES: tuple[Outcome, ...] = ("ok", "fail", "info")


def _event(index: int, kind: str, f: str, invoke_index: int | None = None) -> Event:
    return Event(
        file=0,
        line=index + 2,
        index=index,
        type=kind,
        time_s=1.0 + index,
        wall=None,
        process=0,
        actor=1,
        scenario="s",
        f=f,
        name=None,
        invoke_index=invoke_index,
        value={},
        error={"type": "ApiError", "status_code": 404} if kind == "fail" else None,
    )


def _empty_operation(f: str, outcome: Outcome) -> Operation:
    invoke = _event(0, "invoke", f)
    completion = None if outcome == "info" else _event(1, outcome, f, invoke_index=0)
    return Operation(
        f=f,
        outcome=outcome,
        invoke=invoke,
        completion=completion,
        lo=invoke.time_s,
        hi=math.inf if completion is None else completion.time_s,
        args={},
        result={},
        error=None if completion is None else completion.error,
    )


def _state(progress: Progress, stateless: _Stateless, tenancy: Tenancy, spill: Spill) -> Any:
    return (
        list(progress._created),
        list(progress._finished),
        (stateless.judged, stateless.lost, dict(stateless.counts), list(stateless.flagged)),
        (
            tenancy.judged,
            dict(tenancy.created),
            list(tenancy._accesses),
            list(tenancy._reports),
            list(tenancy._oks),
            list(tenancy._refused),
            list(tenancy._writes),
        ),
        set(spill._written),
    )


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_judge_ignores_an_operation_with_nothing_to_judge(outcome: Outcome) -> None:
    assert "http.get" in SKIPPED
    with Spill(1 << 20) as spill:
        progress = Progress()
        stateless = _Stateless()
        tenancy = Tenancy()
        try:
            before = _state(progress, stateless, tenancy, spill)
            for name in SKIPPED:
                op = _empty_operation(name, outcome)
                # What the sink skips, each judge would have ignored anyway.
                progress.operation(op)
                tenancy.operation(op)
                if op.stateless:
                    stateless.operation(op)
                spill.operation(op)
                assert _state(progress, stateless, tenancy, spill) == before, name
        finally:
            progress.close()


def test_the_sink_still_hands_on_operations_that_create_runs_or_carry_values() -> None:
    seen: list[Operation] = []

    class Recording(Progress):
        def operation(self, op: Operation) -> None:
            seen.append(op)

    progress = Recording()
    try:
        sink = _Sink(None, progress, _Stateless(), Tenancy())
        created = sorted(CREATING_OPS)[0]
        with_args = _empty_operation("threads.get", "ok")
        with_args = Operation(**{**_fields(with_args), "args": {"thread_id": "t-1"}})
        for op in (
            _empty_operation("http.get", "ok"),
            _empty_operation(created, "ok"),
            with_args,
        ):
            sink.operation(op)
    finally:
        progress.close()
    assert [op.f for op in seen] == [created, "threads.get"]


def _fields(op: Operation) -> dict[str, Any]:
    return {name: getattr(op, name) for name in Operation.__slots__}
