"""A parked VU's wake-up, on every backend: set before or after the wait, and cancelled."""

from __future__ import annotations

import anyio
import pytest

from lgbench.engine._park import wake_factory

pytestmark = pytest.mark.anyio


async def test_a_wake_set_before_the_wait_returns_at_once() -> None:
    wake = wake_factory()()
    wake.set()
    wake.set()  # twice is harmless (the stop may follow a hand-over)
    with anyio.fail_after(5):
        await wake.wait()


async def test_a_parked_task_is_woken_by_set() -> None:
    wake = wake_factory()()
    woken: list[bool] = []

    async def parked() -> None:
        await wake.wait()
        woken.append(True)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(parked)
            await anyio.sleep(0.01)
            assert not woken
            wake.set()
    assert woken == [True]


async def test_a_parked_wait_ends_with_its_cancel_scope() -> None:
    wake = wake_factory()()
    with anyio.move_on_after(0.01) as scope:
        await wake.wait()
    assert scope.cancelled_caught
