"""A parked VU's slot, on every backend: filled before or after the wait, and cancelled."""

from __future__ import annotations

import anyio
import pytest

from lgbench.engine._park import slot_factory

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("value", [1.25, None])
async def test_a_slot_filled_before_the_wait_returns_its_value_at_once(value: float | None) -> None:
    slot = slot_factory()()
    assert not slot.done()
    slot.set_result(value)
    assert slot.done()
    with anyio.fail_after(5):
        assert await slot == value


@pytest.mark.parametrize("value", [0.5, None])
async def test_a_parked_task_is_woken_with_the_value(value: float | None) -> None:
    slot = slot_factory()()
    woken: list[float | None] = []

    async def parked() -> None:
        woken.append(await slot)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(parked)
            await anyio.sleep(0.01)
            assert not woken
            slot.set_result(value)
    assert woken == [value]


async def test_a_slot_is_filled_once() -> None:
    slot = slot_factory()()
    slot.set_result(1.0)
    with pytest.raises(Exception, match=r"(?i)invalid state|already"):
        slot.set_result(2.0)


async def test_a_parked_wait_ends_with_its_cancel_scope_and_leaves_the_slot_done() -> None:
    slot = slot_factory()()
    with anyio.move_on_after(0.01) as scope:
        await slot
    assert scope.cancelled_caught
    assert slot.done()  # the dispatcher checks this before filling it
