"""What lgbench does differently on trio: the wire's speculative reads, the checkpoint a VU
loop takes between iterations, and the clock of the runs lgbench starts.

Behaviour only: which path a read takes, whether a task still lets the others run and
sees a cancellation, which clock the hot path reads. No duration is asserted.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from lgbench import _backend
from lgbench.cli import _run_async

trio = pytest.importorskip("trio")


class _Peer:
    """A TrioWire on one end of a socket pair; the test answers from the other end."""

    def __init__(self) -> None:
        ours, self.theirs = socket.socketpair()
        self.watchdog = _backend.TrioWatchdog()
        self.wire = _backend.TrioWire(ours, self.watchdog)
        self.speculated = False
        plain = self.watchdog.checkpoint

        async def checkpoint() -> None:  # the speculative read's checkpoint, and only it
            self.speculated = True
            await plain()

        self.watchdog.checkpoint = checkpoint

    async def exchange(self, answer_ready: bool) -> bool:
        """One request and its answer; True if the wire read the answer speculatively."""
        self.speculated = False
        assert await self.wire.send(b"q", _backend._INF)
        assert self.theirs.recv(16) == b"q"
        received = bytearray()
        if answer_ready:
            self.theirs.send(b"a")
            assert await self.wire.receive_into(received.extend, _backend._INF) == 1
        else:
            async with trio.open_nursery() as nursery:

                async def answer_once_the_reader_waits() -> None:
                    await trio.testing.wait_all_tasks_blocked()
                    self.theirs.send(b"a")

                nursery.start_soon(answer_once_the_reader_waits)
                assert await self.wire.receive_into(received.extend, _backend._INF) == 1
        assert received == b"a"
        return self.speculated

    async def aclose(self) -> None:
        await self.wire.aclose()
        self.watchdog.close()
        self.theirs.close()


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_misses_in_a_row_space_the_speculative_reads_out_and_a_hit_resets(
    anyio_backend: str,
) -> None:
    peer = _Peer()
    try:
        # A lone VU whose answers are never there after one checkpoint: it speculates
        # once, then after 1, 2, 4, 8, 8 direct waits.
        late = [await peer.exchange(answer_ready=False) for _ in range(29)]
        assert [i for i, speculated in enumerate(late) if speculated] == [0, 2, 5, 10, 19, 28]
        for _ in range(8):  # the pause after the last miss
            assert not await peer.exchange(answer_ready=True)
        # An answer that is there: speculation pays, and a miss after it pauses for one.
        assert await peer.exchange(answer_ready=True)
        assert await peer.exchange(answer_ready=False)
        assert not await peer.exchange(answer_ready=False)
        assert await peer.exchange(answer_ready=True)
        assert await peer.exchange(answer_ready=True)
    finally:
        await peer.aclose()


async def _spin(iterations: int, checkpoint: Callable[[], Awaitable[None]], log: list[str]) -> None:
    for _ in range(iterations):
        log.append("spin")  # an iteration that never waits
        await checkpoint()


async def test_an_iteration_that_never_waits_still_lets_others_run(
    anyio_backend: tuple[str, dict[str, Any]],
) -> None:
    log: list[str] = []

    async def other() -> None:
        log.append("other")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_spin, 20, _backend.iteration_checkpoint(), log)
        tasks.start_soon(other)
    assert "other" in log
    assert log.index("other") < log.index("spin") + 10  # not after the spinning VU's end


async def test_an_iteration_that_never_waits_still_sees_a_cancellation(
    anyio_backend: tuple[str, dict[str, Any]],
) -> None:
    log: list[str] = []
    with anyio.CancelScope() as scope:
        scope.cancel()
        await _spin(5, _backend.iteration_checkpoint(), log)
    assert scope.cancelled_caught
    assert log == ["spin"]


def test_lgbench_runs_trio_on_perf_counter_and_the_hot_path_reads_it_directly() -> None:
    async def inside() -> tuple[float, float, float, object, bool]:
        clock, _ = _backend.hot_path_primitives()
        before = time.perf_counter()
        now = trio.current_time()
        after = time.perf_counter()
        deadline = trio.current_time() + 0.002
        await trio.sleep_until(deadline)  # trio turns the deadline into a sleep right
        return before, now, after, clock, trio.current_time() >= deadline

    seen = _run_async("trio", inside)
    assert isinstance(seen, tuple)
    before, now, after, clock, slept_enough = seen
    assert before <= now <= after
    assert clock is time.perf_counter
    assert slept_enough


def test_a_trio_run_started_elsewhere_keeps_its_clock() -> None:
    mock = trio.testing.MockClock()

    async def inside() -> object:
        clock, _ = _backend.hot_path_primitives()
        return clock

    assert trio.run(inside, clock=mock) == mock.current_time
    assert trio.run(inside) != time.perf_counter  # trio's own clock, with its offset


def _listener(family: socket.AddressFamily, host: str) -> socket.socket:
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(8)
    return listener


def _ipv6_loopback() -> bool:
    try:
        _listener(socket.AF_INET6, "::1").close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("family", "listen_on", "host"),
    [
        (socket.AF_INET, "127.0.0.1", "127.0.0.1"),  # an address: connected to directly
        (socket.AF_INET, "127.0.0.1", "localhost"),  # a name: through anyio's connect
        pytest.param(
            socket.AF_INET6,
            "::1",
            "::1",
            marks=pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here"),
        ),
    ],
)
def test_a_trio_wire_connects_by_address_or_name_and_exchanges(
    family: socket.AddressFamily, listen_on: str, host: str
) -> None:
    listener = _listener(family, listen_on)
    port = listener.getsockname()[1]

    async def main() -> bytes:
        watchdog = _backend.TrioWatchdog()
        wire = await _backend.open_trio_wire(host, port, watchdog)
        try:
            peer, _ = listener.accept()
            with peer:
                assert wire._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                peer.sendall(b"hello")
                received = bytearray()
                await wire.receive_into(received.extend, trio.current_time() + 10)
                return bytes(received)
        finally:
            await wire.aclose()
            watchdog.close()

    try:
        assert trio.run(main) == b"hello"
    finally:
        listener.close()


def test_a_refused_connect_by_address_is_an_os_error_and_leaves_no_socket() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    async def main() -> None:
        with pytest.raises(ConnectionRefusedError):
            await _backend.open_trio_wire("127.0.0.1", port, _backend.TrioWatchdog())

    before = _open_fds()
    trio.run(main)
    assert _open_fds() == before


def _open_fds() -> int:
    import os

    return len(os.listdir("/proc/self/fd"))
