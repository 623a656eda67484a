"""The dispatcher and the executors' waits on the real event loops: never before their time.

uvloop's timers count whole milliseconds and round a delay to the nearest one, so a sleep
until a deadline less than half a millisecond away returned at once: the iteration started
early, and its latency, timed from the intended start, came out short. This checks the order
of two readings of the loop's clock, never how long anything took.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

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


# How a hand-over behaves, on every loop: returning at once, blocking, failing.
# (name, what start_iteration does for iteration n, iterations started, error raised).
async def _blocks(n: int) -> None:
    await anyio.sleep(0.002)


def _fails_at_3(n: int) -> None:
    if n == 3:
        raise LookupError("hand-over failed")


HAND_OVERS = [
    pytest.param(lambda n: None, 40, None, id="returns at once"),
    pytest.param(lambda n: _blocks(n) if n % 7 == 0 else None, 40, None, id="blocks now and then"),
    pytest.param(_blocks, 40, None, id="always blocks"),
    pytest.param(_fails_at_3, 3, LookupError, id="raises"),
]


@pytest.mark.parametrize(("behaviour", "started", "error"), HAND_OVERS)
async def test_every_iteration_starts_in_order_at_or_after_its_time(
    behaviour: Any, started: int, error: type[Exception] | None
) -> None:
    pacer = ConstantRate(2000, 0.02)  # 40 iterations, 0.5 ms apart
    clock = measurement_clock()
    origin_s = clock()
    seen: list[tuple[int, float, float]] = []

    def start(n: int, intended_s: float) -> Awaitable[None] | None:
        seen.append((n, intended_s, clock()))
        result: Awaitable[None] | None = behaviour(n)
        return result

    with anyio.fail_after(30):
        if error is None:
            assert await run_paced(pacer, start, clock=clock, start_s=origin_s) == started
        else:
            with pytest.raises(error):
                await run_paced(pacer, start, clock=clock, start_s=origin_s)
    assert [n for n, _, _ in seen] == list(range(len(seen)))
    assert len(seen) == started + (error is not None)
    due = [pacer.next_at(n) for n in range(len(seen))]
    assert [intended for _, intended, _ in seen] == [origin_s + at_s for at_s in due if at_s]
    assert all(actual >= intended for _, intended, actual in seen)


async def test_a_cancelled_dispatcher_starts_nothing_more() -> None:
    clock = measurement_clock()
    seen: list[int] = []
    with anyio.move_on_after(0.02) as scope:
        await run_paced(ConstantRate(1000), lambda n, _: seen.append(n), clock=clock)  # endless
    assert scope.cancelled_caught
    count = len(seen)
    assert count > 0
    await anyio.sleep(0.01)  # no timer left behind that would start more
    assert len(seen) == count
