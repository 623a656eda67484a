"""The per-call path in pieces: the bare transport, the client on it, the engine alone.

    python benchmarks/call_path.py [--what bare client engine open checkpoint] [--rounds 10]
                                   [--requests 20000] [--backend asyncio|trio]
                                   [--rate 5000] [--seconds 4] [--burst 1]

CPU µs per request (``time.process_time``), the minimum and the median over ``--rounds``
rounds in one process (the minimum is the figure to compare on a shared machine):

- ``bare``: ``FastTransport.handle`` + ``aread`` of ``GET /json`` from nginx, 32 tasks;
- ``client``: ``HttpClient.get("/json")``, the same loop (request building, the Response,
  the JSON decoding of the answer);
- ``engine``: a closed-model ``http.get`` step through the real ``Actor``, ``Recorder`` and
  ``HistoryWriter`` (into a temporary file), 32 VUs taking turns, with a client whose
  ``http.get`` answers at once: the engine's own cost per call, no transport at all;
- ``open``: the open model's dispatcher with that same client: a ``constant-arrival-rate``
  executor at ``--rate`` iterations/s for ``--seconds`` (``--requests`` and ``--rounds`` do
  not apply), CPU µs per iteration including the event loop's idle wake-ups. Under
  ``valgrind --tool=callgrind`` use a low rate (500/s) so that the slowed process still
  sleeps between iterations, as it does at 5,000/s at full speed. ``--burst K`` makes K
  iterations due together every ``K / rate`` seconds (the same rate, K per wake-up). From
  ``--seconds 2`` on the figure is taken in a steady window (from 1 s after the start to
  0.5 s before the end), else over the whole run.
- ``checkpoint``: what a VU's loop awaits after each iteration (``iteration_checkpoint``),
  per await, one task alone, against the backend's plain one (``asyncio.sleep(0)``,
  ``trio.lowlevel.checkpoint``).

``bare`` and ``client`` start nginx as ``peers.py`` does (one worker, CPU 0, a free loopback
port); run them pinned (``taskset -c 1``). asyncio runs on uvloop. To compare two trees, run
each with ``PYTHONPATH=<tree>``, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).parent))

from peers import BODY, CLOSED_WORKLOAD, OPEN_WORKLOAD, running_nginx

import lgbench
from lgbench._backend import iteration_checkpoint, running_on_asyncio
from lgbench.client import FastTransport, HttpClient, Request
from lgbench.engine._actor import Actor, ScenarioContext
from lgbench.engine._control import RunControl
from lgbench.engine._executors import build_executor
from lgbench.engine._recorder import Recorder
from lgbench.engine._runner import measurement_clock, register_scenario
from lgbench.history import HistoryWriter
from lgbench.workload import parse_workload

TASKS = 32


async def _transport_rounds(url: str, what: str, rounds: int, requests: int) -> list[float]:
    figures = []
    async with FastTransport(url, max_connections=TASKS) as transport:
        http = HttpClient(transport)
        request = Request("GET", "/json")
        left = 0

        async def bare() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                response = await transport.handle(request)
                await response.aread()

        async def client() -> None:
            nonlocal left
            get = http.get
            while left > 0:
                left -= 1
                await get("/json")

        loop = bare if what == "bare" else client
        assert len(await (await transport.handle(request)).aread()) == len(BODY)
        for _ in range(rounds):
            left = requests
            gc.collect()
            start = time.process_time()
            async with anyio.create_task_group() as tasks:
                for _ in range(TASKS):
                    tasks.start_soon(loop)
            figures.append((time.process_time() - start) / requests * 1e6)
    return figures


class _InstantHttp:
    async def get(self, path: str, **_: Any) -> dict[str, Any]:
        return {"status": "ok", "service": "lgbench-bench", "value": 1234567}


class _InstantClient:
    http = _InstantHttp()


@contextlib.contextmanager
def _instant_scenario(
    workload_text: str, clock: Callable[[], float]
) -> Iterator[tuple[ScenarioContext, float]]:
    """The workload's one scenario, registered with a real Recorder and HistoryWriter (into
    a temporary file) and the instant client; with the run's origin on ``clock``."""
    (scenario,) = parse_workload(workload_text).scenarios
    with tempfile.TemporaryDirectory() as folder:
        origin_s = clock()
        history = HistoryWriter.open(
            Path(folder) / "history.jsonl", clock=clock, origin_s=origin_s, header={}
        )
        try:
            recorder = Recorder(clock=clock, origin_s=origin_s, history=history)
            ctx = register_scenario(recorder, scenario, _InstantClient(), 1, False)  # type: ignore[arg-type]
            yield ctx, origin_s
        finally:
            history.close()


async def _engine_rounds(rounds: int, requests: int) -> list[float]:
    figures = []
    with _instant_scenario(CLOSED_WORKLOAD.format(vus=TASKS, seconds=10), time.monotonic) as (
        ctx,
        _,
    ):
        actors = [Actor(ctx, vu) for vu in range(1, TASKS + 1)]
        turns = max(1, requests // TASKS)
        for actor in actors:
            await actor.run_iteration()
        for _ in range(rounds):
            gc.collect()
            start = time.process_time()
            for _ in range(turns):
                for actor in actors:
                    await actor.run_iteration()
            figures.append((time.process_time() - start) / (turns * TASKS) * 1e6)
    return figures


class _Bursts:
    """``burst`` iterations due together every ``period_s`` until ``duration_s``."""

    def __init__(self, burst: int, period_s: float, duration_s: float) -> None:
        self.burst, self.period_s, self.duration_s = burst, period_s, duration_s

    def next_at(self, n: int) -> float | None:
        at_s = (n // self.burst + 1) * self.period_s
        return at_s if at_s <= self.duration_s else None

    def due(self, elapsed_s: float) -> int:
        return 0  # not used by the dispatcher

    def rate(self, elapsed_s: float) -> float:
        return self.burst / self.period_s

    def describe(self) -> str:
        return f"{self.burst} every {self.period_s}s"


async def _open_run(rate: int, seconds: int, burst: int = 1) -> tuple[float, int, int]:
    """CPU µs per iteration of an open-model run with the instant client, the iterations
    started and the ones dropped."""
    workload_text = OPEN_WORKLOAD.format(rate=rate, seconds=seconds, vus=200)
    with _instant_scenario(workload_text, measurement_clock()) as (ctx, origin_s):
        executor = build_executor(ctx, RunControl(), origin_s)
        stats = ctx.stats
        if burst > 1:
            bursts = _Bursts(burst, burst / rate, seconds)
            executor.pacer = lambda: bursts  # type: ignore[method-assign]
        gc.collect()
        marks: list[tuple[float, int]] = [(time.process_time(), 0)]

        async def steady_window() -> None:
            await anyio.sleep(1.0)
            marks[:] = [(time.process_time(), stats.started)]
            await anyio.sleep(seconds - 1.5)
            marks.append((time.process_time(), stats.started))

        async with anyio.create_task_group() as tasks:
            if seconds >= 2:
                tasks.start_soon(steady_window)
            await executor.run()
        if len(marks) == 1:
            marks.append((time.process_time(), stats.started))
    (start, first), (end, last) = marks
    return (end - start) / max(1, last - first) * 1e6, stats.started, stats.dropped


async def _checkpoint_rounds(rounds: int, awaits: int) -> dict[str, list[float]]:
    ours = iteration_checkpoint()
    if running_on_asyncio():
        plain: Callable[[], Any] = lambda: asyncio.sleep(0)  # noqa: E731
    else:
        import trio

        plain = trio.lowlevel.checkpoint
    figures: dict[str, list[float]] = {"lgbench": [], "plain": []}
    for _ in range(rounds):
        for name, checkpoint in (("lgbench", ours), ("plain", plain)):
            start = time.process_time()
            for _ in range(awaits):
                await checkpoint()
            figures[name].append((time.process_time() - start) / awaits * 1e6)
    return figures


def _show(what: str, figures: list[float]) -> None:
    print(
        f"{what:<8} CPU µs/request: min {min(figures):.2f}  "
        f"median {statistics.median(figures):.2f}  ({len(figures)} rounds)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", nargs="+", default=["bare", "client", "engine"])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--rate", type=int, default=5000, help="open: iterations/s")
    parser.add_argument("--seconds", type=int, default=4, help="open: the run's length")
    parser.add_argument("--burst", type=int, default=1, help="open: iterations per wake-up")
    args = parser.parse_args()
    options = {"use_uvloop": True} if args.backend == "asyncio" else {}

    def run(func: Callable[..., Any], *func_args: Any) -> Any:
        return anyio.run(func, *func_args, backend=args.backend, backend_options=options)

    print(f"lgbench from {Path(lgbench.__file__).parent}, {args.backend}")
    if "open" in args.what:
        used, started, dropped = run(_open_run, args.rate, args.seconds, args.burst)
        print(f"open     CPU µs/iteration: {used:.2f}  ({started} started, {dropped} dropped)")
    if "engine" in args.what:
        _show("engine", run(_engine_rounds, args.rounds, args.requests))
    if "checkpoint" in args.what:
        by_kind = run(_checkpoint_rounds, args.rounds, args.requests)
        for name, figures in by_kind.items():
            print(
                f"checkpoint ({name}) CPU µs/await: min {min(figures):.3f}  "
                f"median {statistics.median(figures):.3f}"
            )
    wanted = [what for what in ("bare", "client") if what in args.what]
    if wanted:
        with tempfile.TemporaryDirectory() as prefix, running_nginx(Path(prefix)) as (_, port):
            for what in wanted:
                url = f"http://127.0.0.1:{port}"
                _show(what, run(_transport_rounds, url, what, args.rounds, args.requests))


if __name__ == "__main__":
    main()
