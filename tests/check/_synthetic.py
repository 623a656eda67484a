"""Long synthetic histories written by the real :class:`~lgbench.history.HistoryWriter`.

Each thread gets an enqueue burst as the burst executor records it: three creates, observer
rounds (runs.get, threads.get, threads.get_state) while the runs execute one after another,
a final runs.list and the settle marker. ``concurrent`` threads are in progress at once,
their lines interleaved, so a thread's operations are spread through the file as in a run.
Every step takes 1 ms on a fake clock; a thread's story is 21 operations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lgbench.history import HistoryWriter

__all__ = ["OPERATIONS_PER_THREAD", "write_soak"]

OPERATIONS_PER_THREAD = 21


class _Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def _story(writer: HistoryWriter, clock: _Clock, n: int) -> Iterator[None]:
    """One thread's burst; yields between steps so threads interleave."""
    thread = f"T{n:07d}"
    runs = [f"{thread}-{r}" for r in "ABC"]
    process = writer.new_process()
    observer = writer.new_process()
    writer.marker(
        "burst.start",
        scenario="soak",
        value={"thread_id": thread, "strategy": "enqueue", "assistant_id": "sleepy", "runs": 3},
    )
    yield

    def op(f: str, args: dict[str, Any], result: dict[str, Any], who: int) -> Iterator[None]:
        invocation = writer.invoke(process=who, actor=n, scenario="soak", f=f, value=args)
        yield
        writer.complete(invocation, "ok", value=result)
        yield

    for run in runs:
        args = {"thread_id": thread, "assistant_id": "sleepy", "multitask_strategy": "enqueue"}
        yield from op("runs.create", args, {**args, "run_id": run, "status": "pending"}, process)
    tokens: list[str] = []
    for step, run in enumerate(runs):
        for other in runs:
            done = runs.index(other) < step
            status = "success" if done else "running" if other == run else "pending"
            yield from op(
                "runs.get",
                {"thread_id": thread, "run_id": other, "observer": True},
                {"thread_id": thread, "run_id": other, "status": status, "observer": True},
                observer,
            )
        tokens = [*tokens, f"start:{run}"]
        yield from op(
            "threads.get_state",
            {"thread_id": thread, "observer": True},
            {"thread_id": thread, "tokens": tokens, "observer": True},
            observer,
        )
        tokens = [*tokens, f"end:{run}"]
    for run in runs:
        yield from op(
            "runs.get",
            {"thread_id": thread, "run_id": run, "observer": True},
            {"thread_id": thread, "run_id": run, "status": "success", "observer": True},
            observer,
        )
    yield from op(
        "threads.get",
        {"thread_id": thread, "observer": True},
        {"thread_id": thread, "status": "idle", "observer": True},
        observer,
    )
    yield from op(
        "threads.get_state",
        {"thread_id": thread, "observer": True},
        {"thread_id": thread, "tokens": tokens, "observer": True},
        observer,
    )
    yield from op(
        "runs.list",
        {"thread_id": thread, "limit": 10, "observer": True},
        {
            "thread_id": thread,
            "runs": [{"run_id": r, "status": "success"} for r in runs],
            "observer": True,
        },
        observer,
    )
    writer.marker(
        "burst.settled",
        scenario="soak",
        value={"thread_id": thread, "strategy": "enqueue", "run_ids": runs, "timed_out": False},
    )


def write_soak(
    path: Path, *, threads: int, concurrent: int = 16, rotate_bytes: int | None = None
) -> int:
    """Write ``threads`` bursts to ``path``; returns the number of indexed lines."""
    clock = _Clock()
    writer = HistoryWriter.open(
        path,
        clock=clock,
        origin_s=0.0,
        header={
            "workload": "soak",
            "target": "embedded",
            "started_at": "2026-01-01T00:00:00+00:00",
        },
        rotate_bytes=rotate_bytes,
    )
    with writer:
        active: list[Iterator[None]] = []
        started = 0
        while started < threads or active:
            while started < threads and len(active) < concurrent:
                active.append(_story(writer, clock, started))
                started += 1
            for story in list(active):
                clock.now_s += 0.001
                if next(story, StopIteration) is StopIteration:
                    active.remove(story)
        return writer.lines_written
