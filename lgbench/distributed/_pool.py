"""The coordinator's side of ``lgbench run --workers N``: N worker processes on this machine.

:class:`WorkerPool` is a :class:`~lgbench.engine.SplitLoad`. It spawns the workers
(``multiprocessing``, spawn start method: a fresh interpreter each, nothing of the
coordinator's event loop inherited), measures each one's clock offset from a ping round trip,
gives them one wall-clock start time, and then, per worker, reads what it sends:

- each ``interval`` is added into the coordinator's recorder
  (:meth:`~lgbench.engine.Recorder.absorb_interval`: encoded histograms added bucket for
  bucket) and its cumulative counts replace the worker's previous ones
  (:meth:`~lgbench.engine.Recorder.import_counts`, over every worker);
- ``final`` does the same, and hands over the threads the worker created (the coordinator's
  post-run audit reads them back) and the routes the server lacked.

A stop request of the run (Ctrl-C, SIGTERM, a threshold's ``abort_on_fail``) goes to every
worker as ``stop``; a cancellation as ``cancel``. A worker whose pipe ends before ``final``
is *lost*: a ``worker.lost`` marker goes into the coordinator's history, an entry into
``summary.faults``, and its results up to its last interval stay in the run (its operations in
flight have no completion in its history; the marker declares them ``info`` to every reader of
the run's histories, which counts them as the loss's). The
others go on. :meth:`WorkerPool.aclose` leaves no process behind: ``cancel``, a wait, then
SIGTERM and SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Final, Protocol

import anyio
import anyio.abc
import anyio.to_thread

from lgbench._secrets import Secret
from lgbench.distributed._worker import WorkerSpec, history_name, worker_main
from lgbench.engine import Recorder, RunControl, SplitRun
from lgbench.errors import LgbenchError

__all__ = ["WorkerPool", "WorkerState"]

_HELLO_TIMEOUT_S: Final = 60.0
_START_LEAD_S: Final = 0.5
_EXIT_WAIT_S: Final = 5.0
_PINGS: Final = 3


class WorkerProcess(Protocol):
    """What the pool needs of a worker's process (a ``multiprocessing`` process, or a stand-in
    for a Ray actor)."""

    @property
    def exitcode(self) -> int | None: ...

    def is_alive(self) -> bool: ...

    def join(self, timeout: float | None = None) -> None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


@dataclass(slots=True)
class WorkerState:
    """What the coordinator knows of one worker."""

    number: int
    process: WorkerProcess
    conn: Connection
    pid: int | None = None
    host: str = ""
    clock_offset_s: float = 0.0
    status: str = "starting"
    counts: dict[str, Any] | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    intervals: int = 0
    lost_at_s: float | None = None
    history: dict[str, Any] = field(default_factory=dict)
    #: A Ray worker's node, and the bytes of files copied back from it (None: written in
    #: place, or a local process).
    node: str | None = None
    shipped_bytes: int | None = None
    #: Its history went with its node (a Ray worker lost away from the run folder).
    history_gone: bool = False

    def to_dict(self) -> dict[str, Any]:
        """One entry of ``summary.json``'s ``workers``."""
        figures = self.figures
        return {
            "worker": self.number,
            "host": self.host,
            "pid": self.pid,
            "clock_offset_ms": self.clock_offset_s * 1000,
            "status": self.status,
            "intervals": self.intervals,
            "cpu_s": figures.get("cpu_s"),
            "cpu_percent": figures.get("cpu_percent"),
            "loop_lag_p99_ms": figures.get("loop_lag_p99_ms"),
            "schedule_lag_p99_ms": figures.get("schedule_lag_p99_ms"),
            "dropped": figures.get("dropped", 0),
            "history": "" if self.history_gone else history_name(self.number),
            "history_events": None if self.history_gone else self.history.get("events"),
            "node": self.node,
            "shipped_bytes": self.shipped_bytes,
        }


def _send(worker: WorkerState, message: dict[str, Any]) -> bool:
    try:
        worker.conn.send(message)
    except (OSError, EOFError, ValueError):
        return False
    return True


class WorkerPool:
    """``count`` worker processes on this machine (see the module docstring)."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"a worker pool needs at least 1 worker, got {count}")
        self._count = count
        self.workers: list[WorkerState] = []
        self.faults: list[dict[str, Any]] = []
        self.unsupported: list[dict[str, Any]] = []
        self._origin_wall_s = 0.0
        self._unmerged = 0

    @property
    def count(self) -> int:
        return self._count

    async def start(self, run: SplitRun, *, tokens: Sequence[Secret] = ()) -> float:
        await self._launch(run)
        with anyio.move_on_after(_HELLO_TIMEOUT_S) as waiting:
            async with anyio.create_task_group() as group:
                for worker in self.workers:
                    group.start_soon(self._greet, worker)
        if waiting.cancelled_caught:
            slow = [w.number for w in self.workers if w.status == "starting"]
            raise LgbenchError(f"workers {slow} did not start within {_HELLO_TIMEOUT_S:.0f} s")
        start_wall_s = time.time() + _START_LEAD_S
        self._origin_wall_s = start_wall_s
        for worker in self.workers:
            message = {
                "type": "start",
                "start_wall_s": start_wall_s,
                "clock_offset_s": worker.clock_offset_s,
                # Over the pipe, in memory: never in a file, an argument list or the spec.
                "tokens": list(tokens),
            }
            if not _send(worker, message):
                raise LgbenchError(f"worker {worker.number} exited before the start")
            worker.status = "running"
        return start_wall_s

    async def _launch(self, run: SplitRun) -> None:
        """Start the worker processes, each with its end of a pipe (``self.workers``)."""
        context = multiprocessing.get_context("spawn")
        for number in range(1, self._count + 1):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=worker_main,
                args=(WorkerSpec(run, number, self._count), theirs),
                name=f"lgbench-worker-{number}",
                daemon=True,
            )
            process.start()
            theirs.close()  # only the worker holds its end: our death reads as end of file
            self.workers.append(WorkerState(number, process, ours))

    async def _greet(self, worker: WorkerState) -> None:
        try:
            if worker.pid is None:  # else: read already, to tell which worker called
                hello = await self._recv(worker)
                worker.pid = int(hello["pid"])
                worker.host = str(hello["host"])
            best: tuple[float, float] | None = None
            for _ in range(_PINGS):  # the shortest round trip bounds the offset best
                sent_s = time.time()
                _send(worker, {"type": "ping"})
                pong = await self._recv(worker)
                back_s = time.time()
                offset = float(pong["wall_s"]) - (sent_s + back_s) / 2
                if best is None or back_s - sent_s < best[0]:
                    best = (back_s - sent_s, offset)
            assert best is not None
            worker.clock_offset_s = best[1]
            worker.status = "ready"
        except (EOFError, OSError):
            code = worker.process.exitcode
            raise LgbenchError(
                f"worker {worker.number} exited while starting (exit code {code})"
            ) from None

    @staticmethod
    async def _recv(worker: WorkerState) -> Any:
        return await anyio.to_thread.run_sync(worker.conn.recv, abandon_on_cancel=True)

    async def drive(self, recorder: Recorder, control: RunControl) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._forward_stop, control)
            async with anyio.create_task_group() as readers:
                for worker in self.workers:
                    readers.start_soon(self._read, worker, recorder)
            group.cancel_scope.cancel()

    async def _forward_stop(self, control: RunControl) -> None:
        await control.stop_requested.wait()
        for worker in self.workers:
            if worker.status == "running":
                _send(worker, {"type": "stop", "reason": control.reason})

    async def _read(self, worker: WorkerState, recorder: Recorder) -> None:
        while True:
            try:
                message = await self._recv(worker)
            except (EOFError, OSError):
                self._lost(worker, recorder)
                return
            recorder.absorb_interval(message["operations"], message["derived"])
            worker.counts = message["counts"]
            worker.figures = message["figures"]
            worker.history = dict(message["history"])
            worker.intervals += 1
            # The counts are summed over every worker: once per round of intervals (when each
            # running worker has sent one), not once per message.
            self._unmerged += 1
            running = sum(1 for w in self.workers if w.status == "running")
            if self._unmerged >= running or message["type"] == "final":
                self._unmerged = 0
                recorder.import_counts(w.counts for w in self.workers if w.counts is not None)
            if message["type"] == "final":
                worker.status = str(message["status"])
                owners = message.get("owners") or {}
                for thread_id, deleted in message["threads"].items():
                    recorder.threads.add(thread_id, owners.get(thread_id))
                    if deleted:
                        recorder.threads.deleted(thread_id)
                self.unsupported.extend(message["unsupported"])
                return

    def _lost(self, worker: WorkerState, recorder: Recorder) -> None:
        worker.status = "lost"
        worker.process.join(0.5)
        code = worker.process.exitcode
        at_s = time.time() - self._origin_wall_s
        worker.lost_at_s = at_s
        value = {"worker": worker.number, "pid": worker.pid, "exit_code": code, "at_s": at_s}
        recorder.marker("worker.lost", scenario="", value=value)
        self.faults.append(
            {
                "name": f"worker {worker.number}",
                "kind": "worker.lost",
                "start_s": at_s,
                "end_s": None,
                "exit_code": code,
            }
        )
        recorder.warn(
            f"worker.lost:{worker.number}",
            f"worker {worker.number} (pid {worker.pid}) was lost at {at_s:.1f} s (exit code"
            f" {'unknown' if code is None else code}); its results up to its last interval are"
            " kept, its operations in flight are unknown",
        )
        recorder.import_counts(w.counts for w in self.workers if w.counts is not None)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            for worker in self.workers:
                if worker.process.is_alive():
                    _send(worker, {"type": "cancel", "reason": "the run is over"})
            await anyio.to_thread.run_sync(self._reap)
            for worker in self.workers:
                worker.conn.close()

    def _reap(self) -> None:
        deadline = time.monotonic() + _EXIT_WAIT_S
        for worker in self.workers:
            worker.process.join(max(deadline - time.monotonic(), 0.0))
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(1.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1.0)

    def live_lines(self) -> list[str]:
        lines = []
        for worker in self.workers:
            figures = worker.figures

            def ms(value: Any) -> str:
                return "-" if value is None else f"{value:.1f} ms"

            lines.append(
                f"worker {worker.number} (pid {worker.pid}) {worker.status}:"
                f" CPU {figures.get('cpu_percent', 0.0):.0f} %"
                f"  loop lag p99 {ms(figures.get('loop_lag_p99_ms'))}"
                f"  schedule lag p99 {ms(figures.get('schedule_lag_p99_ms'))}"
                f"  active VUs {figures.get('active_vus', 0)}"
                f"  dropped {figures.get('dropped', 0)}"
            )
        return lines

    def summary(self) -> dict[str, Any]:
        figures = [worker.history for worker in self.workers]
        return {
            "workers": [worker.to_dict() for worker in self.workers],
            "history": {
                "events": sum(f.get("events", 0) for f in figures),
                "segments": sum(f.get("segments", 0) for f in figures),
                "compression_errors": [e for f in figures for e in f.get("compression_errors", ())],
            },
            "faults": list(self.faults),
            "unsupported": list(self.unsupported),
        }
