"""The dispatcher loop on trio's virtual clock: exact start times, catch-up, cancellation.

Only trio: these tests need ``MockClock(autojump_threshold=0)``, which jumps virtual time to the
next deadline whenever every task sleeps, so the asserted times are exact and cost nothing.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import trio.testing

from lgbench.engine._pacer import ConstantRate, RampingRate, Stage
from lgbench.engine._schedule import run_paced

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """trio with a fresh virtual clock per test (no virtual time leaks between tests)."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


class Starts:
    """Records ``(n, intended_s, actual_s)`` for each started iteration."""

    def __init__(self, *, busy_s: float = 0.0) -> None:
        self.busy_s = busy_s
        self.seen: list[tuple[int, float, float]] = []

    async def __call__(self, n: int, intended_s: float) -> None:
        self.seen.append((n, intended_s, anyio.current_time()))
        if self.busy_s:
            await anyio.sleep(self.busy_s)


async def test_starts_each_iteration_exactly_when_due() -> None:
    starts = Starts()
    assert anyio.current_time() == 0.0  # a fresh clock
    count = await run_paced(ConstantRate(4, 1), starts)
    assert count == 4
    assert starts.seen == [(0, 0.25, 0.25), (1, 0.5, 0.5), (2, 0.75, 0.75), (3, 1.0, 1.0)]
    assert anyio.current_time() == 1.0  # returns at the last start, not later


async def test_a_ramp_starts_on_its_closed_form_times() -> None:
    pacer = RampingRate(0, (Stage(8, 1),))  # A(t) = 4 t^2: due at sqrt((n + 1) / 4)
    starts = Starts()
    assert await run_paced(pacer, starts) == 4
    want = [pacer.next_at(n) for n in range(4)]
    assert want[0] == 0.5 and want[3] == 1.0
    assert [actual for _, _, actual in starts.seen] == want
    assert [intended for _, intended, _ in starts.seen] == want


async def test_behind_schedule_starts_at_once_stamped_with_the_intended_time() -> None:
    # Each hand-over blocks for 1 s, so from the second iteration on the loop is late: it
    # starts the overdue iteration at once, never skips one, and keeps the intended time.
    starts = Starts(busy_s=1.0)
    assert await run_paced(ConstantRate(4, 1), starts) == 4
    assert starts.seen == [(0, 0.25, 0.25), (1, 0.5, 1.25), (2, 0.75, 2.25), (3, 1.0, 3.25)]


async def test_a_plain_function_works_too() -> None:
    seen: list[tuple[int, float]] = []

    def start(n: int, intended_s: float) -> None:
        seen.append((n, anyio.current_time()))

    assert await run_paced(ConstantRate(2, 1), start) == 2
    assert seen == [(0, 0.5), (1, 1.0)]


async def test_cancellation_stops_the_loop() -> None:
    starts = Starts()
    with anyio.move_on_after(0.6):
        await run_paced(ConstantRate(4), starts)  # endless
    assert starts.seen == [(0, 0.25, 0.25), (1, 0.5, 0.5)]
    assert anyio.current_time() == 0.6


async def test_time_counts_from_start_s() -> None:
    await anyio.sleep(2.0)
    starts = Starts()
    # The schedule began at 1.5: the first two iterations are overdue and start at once.
    assert await run_paced(ConstantRate(4, 1), starts, start_s=1.5) == 4
    assert starts.seen == [(0, 1.75, 2.0), (1, 2.0, 2.0), (2, 2.25, 2.25), (3, 2.5, 2.5)]


async def test_an_empty_schedule_returns_at_once() -> None:
    starts = Starts()
    assert await run_paced(ConstantRate(0), starts) == 0
    assert await run_paced(ConstantRate(10, 0), starts) == 0
    assert starts.seen == []
    assert anyio.current_time() == 0.0


async def test_an_eight_hour_soak_in_virtual_time() -> None:
    count = 0

    def start(n: int, intended_s: float) -> None:
        nonlocal count
        count += 1

    pacer = ConstantRate(1 / 64, 8 * 3600.0)  # one every 64 s, binary-exact
    assert await run_paced(pacer, start) == 450
    assert count == 450
    assert anyio.current_time() == 8 * 3600.0
