"""One worker process of a split run: its segment of every scenario, its own history.

:func:`worker_main` is what the coordinator spawns (``multiprocessing``, spawn start method).
Over its pipe it:

1. says ``hello`` (pid, host), answers the coordinator's ``ping`` with its wall clock (the
   coordinator works out the clock offset from the round trip), and gets ``start``: the
   wall-clock start time and its measured clock offset;
2. opens ``history.w<k>.jsonl`` (process ids ``k, k + N + 1, ...``: unique across the run;
   its header says which worker, and the clock offset) and ``intervals.w<k>.hlog`` in the
   run folder, builds its share of every scenario (:func:`~lgbench.engine.plan_scenario`),
   naps until the start time and spins its last ~2 ms, and runs;
3. every interval (at the same instants as the coordinator), sends the closed interval's
   encoded histograms and its cumulative counts, plus its own figures (CPU, loop lag,
   schedule lag, dropped iterations);
4. at the end sends ``final`` (the last interval, counts, the threads it created for the
   post-run audit, the routes the server lacked) and exits.

``stop`` from the coordinator stops it gracefully (in-flight iterations get their
``graceful_stop``), ``cancel`` at once. When the coordinator is gone (the pipe reads end of
file: even SIGKILL closes it), the worker cancels everything, closes its files and exits.
SIGINT is ignored: Ctrl-C reaches the whole process group, and the coordinator decides.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, final

import anyio
import anyio.abc
import anyio.to_thread

from lgbench._backend import trio_run_options
from lgbench._secrets import Secret
from lgbench.engine import (
    Recorder,
    RunControl,
    Segment,
    SplitRun,
    Tenants,
    build_executor,
    load_client,
    measure_loop_lag,
    measurement_clock,
    plan_scenario,
    register_scenario,
    start_up_heap_frozen,
)
from lgbench.history import HistoryWriter
from lgbench.metrics import HlogWriter
from lgbench.workload import parse_workload

__all__ = ["WorkerSpec", "history_name", "intervals_name", "sleep_until_wall", "worker_main"]

#: The last stretch before the start time is spun, not slept: a sleep overshoots in a busy
#: process by far more than this.
_SPIN_S: Final = 0.002
_CLOSE_TIMEOUT_S: Final = 5.0


def history_name(worker: int) -> str:
    """Worker ``worker``'s (from 1) history file in the run folder."""
    return f"history.w{worker}.jsonl"


def intervals_name(worker: int) -> str:
    """Worker ``worker``'s (from 1) interval log in the run folder."""
    return f"intervals.w{worker}.hlog"


@final
@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Worker ``number`` (from 1) of ``count``, of ``run``."""

    run: SplitRun
    number: int
    count: int

    @property
    def segment(self) -> Segment:
        return Segment(self.number - 1, self.count)


async def sleep_until_wall(start_wall_s: float) -> None:
    """Sleep until the wall clock reads ``start_wall_s``: nap in steps, spin the last ~2 ms."""
    while (left_s := start_wall_s - time.time()) > _SPIN_S:  # noqa: ASYNC110 - a wall-clock deadline
        await anyio.sleep(min(left_s - _SPIN_S, 0.05))
    while time.time() < start_wall_s:
        pass


def worker_main(spec: WorkerSpec, conn: Connection) -> None:
    """The worker process's entry point (see the module docstring); also run in a thread of
    a Ray actor, where signals are not its business."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    options: dict[str, Any] = {}
    if spec.run.backend == "asyncio":
        try:
            import uvloop  # noqa: F401

            options["use_uvloop"] = True
        except ImportError:
            pass
    else:
        options.update(trio_run_options())
    try:
        anyio.run(_Worker(spec, conn).run, backend=spec.run.backend, backend_options=options)
    except (BrokenPipeError, EOFError, ConnectionResetError):
        pass  # the coordinator is gone: nothing to tell
    finally:
        conn.close()


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


@final
class _Worker:
    def __init__(self, spec: WorkerSpec, conn: Connection) -> None:
        self.spec = spec
        self.conn = conn
        self.control = RunControl()
        self.status = "running"
        self._cpu_s = _cpu_s()
        self._cpu_at_s = time.monotonic()

    def send(self, message: dict[str, Any]) -> None:
        self.conn.send(message)

    async def recv(self) -> Any:
        return await anyio.to_thread.run_sync(self.conn.recv, abandon_on_cancel=True)

    async def run(self) -> None:
        spec = self.spec
        run = spec.run
        self.send(
            {
                "type": "hello",
                "worker": spec.number,
                "pid": os.getpid(),
                "host": socket.gethostname(),
            }
        )
        start: dict[str, Any] = {}
        while not start:
            message = await self.recv()
            if message["type"] == "ping":
                self.send({"type": "pong", "wall_s": time.time()})
            elif message["type"] == "start":
                start = message
            elif message["type"] in ("stop", "cancel"):
                return
        workload = parse_workload(run.workload_text, path=run.workload_path)
        transport = run.transport or workload.target.transport
        client = load_client(workload, run.url, transport)
        tenants = None
        if workload.target.auth is not None:
            # The coordinator's tokens, as it read them: user n is the same user everywhere.
            tokens = [t.reveal() if isinstance(t, Secret) else str(t) for t in start["tokens"]]
            tenants = Tenants(workload.target.auth, client, tokens)
            del tokens, start["tokens"]
        try:
            await self._run(workload, client, float(start["start_wall_s"]), start, tenants)
        finally:
            with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
                await client.aclose()

    async def _run(
        self,
        workload: Any,
        client: Any,
        start_wall_s: float,
        start: dict[str, Any],
        tenants: Tenants | None,
    ) -> None:
        spec = self.spec
        run = spec.run
        run_dir = Path(run.run_dir)
        clock = measurement_clock()
        origin_s = clock() + (start_wall_s - time.time())
        history = HistoryWriter.open(
            run_dir / history_name(spec.number),
            clock=clock,
            origin_s=origin_s,
            rotate_bytes=run.history_rotate_bytes,
            header={
                "workload": workload.name,
                "target": run.target_label,
                "server": run.server,
                "backend": run.backend,
                "seed": run.seed,
                "worker": spec.number,
                "workers": spec.count,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "clock_offset_s": start.get("clock_offset_s", 0.0),
                **(
                    {"auth": {"users": len(tenants.users), "policy": tenants.auth.policy}}
                    if tenants is not None
                    else {}
                ),
            },
        )
        history.stripe_processes(spec.number, spec.count + 1)
        hlog_file = (run_dir / intervals_name(spec.number)).open("w", encoding="utf-8")
        try:
            hlog = HlogWriter(hlog_file, start_epoch_s=start_wall_s)
            hlog.write_header(
                comments=(f"[workload: {workload.name}]", f"[{spec.segment.label()}]")
            )
            recorder = Recorder(
                clock=clock,
                origin_s=origin_s,
                history=history,
                hlog=hlog,
                keep_stream_events=workload.defaults.keep_stream_events,
            )
            if tenants is not None:
                recorder.owner_key = tenants.auth.owner_key
            executors = []
            for scenario in workload.scenarios:
                plan = plan_scenario(scenario.executor, spec.segment)
                ctx = register_scenario(
                    recorder,
                    scenario,
                    client,
                    run.seed,
                    workload.defaults.keep_stream_events,
                    plan,
                    tenants=tenants,
                )
                executors.append(build_executor(ctx, self.control, origin_s, plan))
            # As in a single process (LoadRun.run): the start-up heap collected once and
            # frozen before the start time, not walked by full collections during the load.
            with start_up_heap_frozen():
                await sleep_until_wall(start_wall_s)
                try:
                    await self._load(recorder, executors, origin_s)
                finally:
                    self._finish(recorder, clock())
        finally:
            history.close()
            hlog_file.close()

    async def _load(self, recorder: Recorder, executors: list[Any], origin_s: float) -> None:
        run = self.spec.run
        with anyio.CancelScope() as hard:
            self.control.bind(hard)
            async with anyio.create_task_group() as services:
                services.start_soon(self._listen)
                services.start_soon(self._intervals, recorder, origin_s)
                if run.loop_lag_interval_s:
                    services.start_soon(measure_loop_lag, recorder, run.loop_lag_interval_s)
                async with anyio.create_task_group() as scenarios:
                    for executor in executors:
                        scenarios.start_soon(executor.run)
                services.cancel_scope.cancel()
        if self.control.stopping:
            self.status = "stopped"

    async def _listen(self) -> None:
        """The coordinator's orders; its end (end of file) cancels everything."""
        while True:
            try:
                message = await self.recv()
            except (EOFError, OSError):
                self.status = "orphaned"
                self.control.cancel("the coordinator is gone")
                return
            if message["type"] == "stop":
                self.control.request_stop(message.get("reason") or "stopped")
            elif message["type"] == "cancel":
                self.control.cancel(message.get("reason") or "cancelled")

    async def _intervals(self, recorder: Recorder, origin_s: float) -> None:
        interval_s = self.spec.run.interval_s
        next_s = origin_s + interval_s
        while True:
            await anyio.sleep_until(next_s)
            self._send_interval("interval", recorder, next_s)
            next_s += interval_s
            now_s = recorder.clock()
            if next_s <= now_s:
                next_s += -((next_s - now_s) // interval_s) * interval_s

    def _figures(self, recorder: Recorder) -> dict[str, Any]:
        now = time.monotonic()
        cpu = _cpu_s()
        elapsed = now - self._cpu_at_s
        percent = 100 * (cpu - self._cpu_s) / elapsed if elapsed > 0 else 0.0
        self._cpu_s, self._cpu_at_s = cpu, now
        schedule, loop = recorder.lag_summary()
        return {
            "cpu_percent": percent,
            "cpu_s": cpu,
            "loop_lag_p99_ms": loop.get("p99"),
            "schedule_lag_p99_ms": schedule.get("p99"),
            "dropped": sum(stats.dropped for stats in recorder.scenarios.values()),
            "active_vus": sum(stats.active_vus for stats in recorder.scenarios.values()),
        }

    def _send_interval(self, kind: str, recorder: Recorder, now_s: float, **extra: Any) -> None:
        snapshot = recorder.snapshot(now_s)
        try:
            self.send(
                {
                    "type": kind,
                    "operations": snapshot.operations.to_dict(),
                    "derived": snapshot.derived.to_dict(),
                    "counts": recorder.export_counts(),
                    "figures": self._figures(recorder),
                    # Every time: a worker that dies still leaves its figures of late.
                    "history": recorder.history_figures(),
                    **extra,
                }
            )
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self.control.cancel("the coordinator is gone")

    def _finish(self, recorder: Recorder, now_s: float) -> None:
        if self.status == "orphaned":
            return
        self._send_interval(
            "final",
            recorder,
            max(now_s, recorder.origin_s + recorder.elapsed_s),
            status="finished" if self.status == "running" else self.status,
            threads=dict(recorder.threads.threads),
            owners=dict(recorder.threads.owners),  # user labels: the audit reads as the owner
            unsupported=recorder.routes.to_list(),
        )
