"""run_fault_schedule: faults applied at their time, lifted after their duration, reported.

On trio's virtual clock (``MockClock(autojump_threshold=0)``, fresh per test) with a real
proxy: minutes of schedule in no time, and exact times. One test on the real clock with a
real embedded server of its own covers the server kinds.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
import trio.testing

from lgbench.errors import UsageError
from lgbench.faults import FaultEvent, FaultProxy, FaultSpec, run_fault_schedule

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # fault schedules play in real time


class Recorder:
    """Collects events, with what the proxy had in force when each was reported."""

    def __init__(self, proxy: FaultProxy | None = None) -> None:
        self.proxy = proxy
        self.events: list[FaultEvent] = []
        self.in_force: list[tuple[str, ...]] = []

    def __call__(self, event: FaultEvent) -> None:
        self.events.append(event)
        if self.proxy is not None:
            self.in_force.append(self.proxy.stats().faults_active)

    def phases(self) -> list[tuple[str, str]]:
        return [(event.name, event.phase) for event in self.events]


class TestVirtualTime:
    @pytest.fixture
    def anyio_backend(self) -> tuple[str, dict[str, Any]]:
        return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})

    async def test_faults_start_and_end_on_time(self) -> None:
        schedule = [
            FaultSpec("slow", "latency", at_s=30, for_s=20, latency_s=0.2, jitter_s=0.05),
            FaultSpec("frozen", "stall", at_s=10, for_s=5),
            FaultSpec("closed", "refuse", at_s=40, for_s=5),
            FaultSpec("forever", "throttle", at_s=60, bytes_per_s=1000),
        ]
        async with FaultProxy("127.0.0.1", 9) as proxy:
            record = Recorder(proxy)
            port = proxy.port
            origin_s = anyio.current_time() + 1
            with anyio.move_on_after(100):
                await run_fault_schedule(
                    schedule, proxy=proxy, server=None, origin_s=origin_s, on_change=record
                )
            assert proxy.port == port
            assert proxy.active_faults == ()
        assert record.phases() == [
            ("frozen", "start"),
            ("frozen", "end"),
            ("slow", "start"),
            ("closed", "start"),
            ("closed", "end"),
            ("slow", "end"),
            ("forever", "start"),
            # No duration: it lasts until the schedule is cancelled.
            ("forever", "end"),
        ]
        planned = [10, 15, 30, 40, 45, 50, 60, 99]
        for event, at_s in zip(record.events, planned, strict=True):
            assert event.at_s >= at_s
        assert record.events[0].kind == "stall" and record.events[0].spec == schedule[1]
        # Reported just before applying and once undone.
        assert record.in_force == [
            (),
            (),
            (),
            ("latency",),
            ("latency",),
            (),
            (),
            (),
        ]

    async def test_a_past_start_applies_at_once_and_it_returns_when_all_ended(self) -> None:
        async with FaultProxy("127.0.0.1", 9) as proxy:
            record = Recorder(proxy)
            origin_s = anyio.current_time() - 50
            await run_fault_schedule(
                [FaultSpec("late", "reset", at_s=10, for_s=45)],
                proxy=proxy,
                server=None,
                origin_s=origin_s,
                on_change=record,
                clock=anyio.current_time,
            )
        assert record.phases() == [("late", "start"), ("late", "end")]
        assert record.events[0].at_s >= 50
        assert record.events[1].at_s >= 55

    async def test_missing_proxy_and_server_are_all_named_before_anything_runs(self) -> None:
        record = Recorder()
        schedule = [
            FaultSpec("a", "latency", at_s=0, latency_s=0.1),
            FaultSpec("b", "kill", at_s=0),
            FaultSpec("c", "pause", at_s=100),
        ]
        with pytest.raises(UsageError) as caught:
            await run_fault_schedule(
                schedule, proxy=None, server=None, origin_s=0.0, on_change=record
            )
        message = str(caught.value)
        assert message.startswith("the fault schedule cannot run:")
        assert all(f'"{name}"' in message for name in "abc")
        assert record.events == []


@pytest.mark.server
@pytest.mark.parametrize("anyio_backend", [pytest.param(("asyncio", {}), id="asyncio")])
async def test_server_faults_on_a_real_server(anyio_backend: Any) -> None:
    from lgbench.server import open_embedded_server

    schedule = [
        FaultSpec("hang", "pause", at_s=0.0, for_s=0.2),
        FaultSpec("crash", "kill", at_s=0.5, for_s=0.1),
    ]
    states: list[tuple[str, str, bool, bool]] = []
    async with open_embedded_server() as server:
        first_pid = server.pid

        def on_change(event: FaultEvent) -> None:
            states.append((event.name, event.phase, server.is_paused(), server.is_running()))
            record(event)

        record = Recorder()
        with anyio.fail_after(60):
            # Returns by itself: every fault has a duration.
            await run_fault_schedule(
                schedule,
                proxy=None,
                server=server,
                origin_s=time.monotonic(),
                on_change=on_change,
                clock=time.monotonic,
            )
        assert server.is_running() and server.pid != first_pid
    assert states == [
        ("hang", "start", False, True),
        ("hang", "end", False, True),
        ("crash", "start", False, True),
        # Restarted before the end is reported.
        ("crash", "end", False, True),
    ]
    hang_end, crash_start, crash_end = (event.at_s for event in record.events[1:])
    assert hang_end >= 0.2
    assert crash_start >= 0.5
    assert crash_end >= 0.6
