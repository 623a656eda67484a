"""The dispatcher on the real event loops: no iteration starts before it is due.

uvloop's timers count whole milliseconds and round a delay to the nearest one, so a sleep
until a deadline less than half a millisecond away returned at once: the iteration started
early, and its latency, timed from the intended start, came out short. This checks the order
of two readings of the loop's clock, never how long anything took.
"""

from __future__ import annotations

import anyio
import pytest

from lgbench.engine._pacer import ConstantRate
from lgbench.engine._runner import measurement_clock
from lgbench.engine._schedule import run_paced

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("rate", [5000, 700])
async def test_no_iteration_starts_before_it_is_due(rate: int) -> None:
    clock = measurement_clock()
    early: list[tuple[int, float]] = []

    def start(n: int, intended_s: float) -> None:
        now_s = clock()
        if now_s < intended_s:
            early.append((n, intended_s - now_s))

    iterations = rate // 20  # 50 ms of schedule
    with anyio.fail_after(30):
        assert await run_paced(ConstantRate(rate, 0.05), start, clock=clock) == iterations
    assert early == []
