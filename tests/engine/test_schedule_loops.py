"""The dispatcher and the executors' waits on the real event loops: never before their time.

uvloop's timers count whole milliseconds and round a delay to the nearest one, so a sleep
until a deadline less than half a millisecond away returned at once: the iteration started
early, and its latency, timed from the intended start, came out short. This checks the order
of two readings of the loop's clock, never how long anything took.
"""

from __future__ import annotations

import anyio
import pytest

from lgbench.engine._pacer import ConstantRate, Pacer, RampingRate, Stage
from lgbench.engine._runner import measurement_clock
from lgbench.engine._schedule import run_paced, sleep_until_reached

pytestmark = pytest.mark.anyio


# Schedules whose gaps are mostly under uvloop's millisecond: (pacer, iterations).
PACERS = [
    pytest.param(ConstantRate(5000, 0.05), 250, id="5000/s"),
    pytest.param(ConstantRate(700, 0.05), 35, id="700/s"),
    pytest.param(RampingRate(0, (Stage(20_000, 0.05),)), 500, id="ramp 0 to 20000/s"),
    pytest.param(RampingRate(3000, (Stage(3000, 0.02), Stage(0, 0.0))), 60, id="hold, stop"),
]


@pytest.mark.parametrize(("pacer", "iterations"), PACERS)
async def test_no_iteration_starts_before_it_is_due(pacer: Pacer, iterations: int) -> None:
    clock = measurement_clock()
    early: list[tuple[int, float]] = []

    def start(n: int, intended_s: float) -> None:
        now_s = clock()
        if now_s < intended_s:
            early.append((n, intended_s - now_s))

    with anyio.fail_after(30):
        assert await run_paced(pacer, start, clock=clock) == iterations
    assert early == []


# Deadlines from now, seconds: under half of uvloop's millisecond (where its rounding ended
# the sleep at once), around it, over it, now and in the past.
OFFSETS_S = [0.0001, 0.0004, 0.0006, 0.0013, 0.0, -0.01]


@pytest.mark.parametrize("offset_s", OFFSETS_S)
async def test_an_executor_wait_ends_once_the_runs_clock_reads_its_deadline(
    offset_s: float,
) -> None:
    # A ramp's VUs read the plan on the run's clock as the controller's wait ends: a wait
    # that ended before the change point left them parked until the next one.
    clock = measurement_clock()
    early: list[float] = []
    with anyio.fail_after(30):
        for _ in range(40):
            deadline_s = clock() + offset_s
            await sleep_until_reached(deadline_s, clock)
            if clock() < deadline_s:
                early.append(deadline_s - clock())
    assert early == []
