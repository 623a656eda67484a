"""The hand-written histories of tests/data/histories/: one small case per behaviour.

Each case is a short timeline on one or two threads, written as the burst executor would
record it (creates, an observer polling runs.get and threads.get, a final get_state and
runs.list, burst markers; the ``searched_*`` cases as it records them now, with
threads.search reading back both threads at once). ``python -m tests.check._cases``
rewrites the files; a test checks that the files on disk are what this module writes.

Run ids are single letters, thread ids ``T1``…; times are seconds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from lgbench.graphs import reply_tokens
from lgbench.history import StreamSummary
from tests.check._builder import HistoryBuilder

__all__ = ["CASES", "DIRECTORY", "write_all"]

DIRECTORY = Path(__file__).resolve().parent.parent / "data" / "histories"


def s(run: str) -> str:
    return f"start:{run}"


def e(run: str) -> str:
    return f"end:{run}"


def observe(
    h: HistoryBuilder,
    thread: str,
    t: float,
    runs: Mapping[str, str | None],
    thread_status: str | None = None,
    tokens: list[str] | None = None,
) -> None:
    """One observer round at ``t``: runs.get of each run, threads.get, maybe get_state."""
    for i, (run, status) in enumerate(runs.items()):
        h.get(thread, run, t + i * 0.003, status)
    at = t + len(runs) * 0.003
    if thread_status is not None:
        h.thread(thread, at, thread_status)
    if tokens is not None:
        h.state(thread, at + 0.003, tokens)


def finish(
    h: HistoryBuilder,
    thread: str,
    strategy: str,
    t: float,
    runs: Mapping[str, str | None],
    tokens: list[str] | None,
    *,
    listed: list[tuple[str, str]] | None = None,
    timed_out: bool = False,
) -> None:
    """The last observer round, the final get_state and runs.list, then burst.settled."""
    observe(h, thread, t, runs, "idle")
    h.state(thread, t + 0.1, tokens)
    final = listed if listed is not None else [(r, st) for r, st in runs.items() if st]
    h.list_runs(thread, t + 0.11, final)
    h.settled(thread, strategy, t + 0.12, list(runs), timed_out=timed_out)


# -- evidence in the answers ------------------------------------------------------------------


def lost_write(*, lost: bool = True) -> HistoryBuilder:
    """A and B (sleepy, given input) end success; a later read lacks A's tokens."""
    h = HistoryBuilder(workload="writes")
    h.create("T1", "A", 0.01, 0.02, args={"has_input": True})
    h.create("T1", "B", 0.03, 0.04, args={"has_input": True})
    h.get("T1", "A", 1.5, "success")
    h.get("T1", "B", 2.5, "success")
    tokens = [s("B"), e("B")] if lost else [s("A"), e("A"), s("B"), e("B")]
    h.state("T1", 4.0, tokens)
    return h


def busy_without_run(after_s: float) -> HistoryBuilder:
    """A ends success at 1.5 s; the thread reads busy ``after_s`` later, then idle."""
    h = HistoryBuilder(workload="busy")
    h.create("T1", "A", 0.01, 0.02, args={"has_input": True})
    h.get("T1", "A", 1.5, "success")
    h.thread("T1", 1.5 + after_s, "busy")
    h.thread("T1", 1.6 + after_s, "idle")
    h.state("T1", 1.7 + after_s, [s("A"), e("A")])
    return h


def wait(
    thread: str | None, answer: dict[str, object], *, status: str = "success"
) -> HistoryBuilder:
    """A runs.wait of sleepy given input (stateless when ``thread`` is None), answered
    ``answer``; a stateful run is then seen ``status`` and its state read."""
    h = HistoryBuilder(workload="wait")
    args: dict[str, object] = {"assistant_id": "sleepy", "has_input": True}
    if thread is not None:
        args["thread_id"] = thread
    invoke = {
        "multitask_strategy": None,
        "stream_mode": None,
        "on_disconnect": None,
        "after_seconds": None,
        **args,
    }
    h.op("runs.wait", 0.01, 1.0, args=invoke, result={**args, "run_id": "A", **answer})
    if thread is not None:
        h.get(thread, "A", 1.1, status)
        h.state(thread, 1.2, [s("A"), e("A")] if status == "success" else [s("A")])
    return h


def chat_stream(chunks: list[str], *, thread: str | None = "T1") -> HistoryBuilder:
    """A runs.stream of the chat graph (run A, turn 1) that delivered ``chunks``."""
    h = HistoryBuilder(workload="chat")
    summary = StreamSummary()
    summary.add("metadata", {"run_id": "A"}, 1)
    for i, chunk in enumerate(chunks):
        summary.add("messages", [{"content": chunk, "id": "reply:A"}, {}], 2 + i)
    args: dict[str, object] = {
        "assistant_id": "chat",
        "has_input": True,
        "multitask_strategy": None,
        "stream_mode": ["messages-tuple"],
        "on_disconnect": None,
        "after_seconds": None,
    }
    if thread is not None:
        args["thread_id"] = thread
    h.op("runs.stream", 0.01, 1.0, args=args, result=summary.to_value(args))
    if thread is not None:
        h.get(thread, "A", 1.1, "success")
        h.state(thread, 1.2, [s("A"), e("A")])
    return h


def stateless_stream(events: int) -> HistoryBuilder:
    """A stateless runs.stream of streamer given input, with ``events`` events."""
    h = HistoryBuilder(workload="stateless")
    args = {
        "assistant_id": "streamer",
        "has_input": True,
        "multitask_strategy": None,
        "stream_mode": ["values"],
        "on_disconnect": None,
        "after_seconds": None,
    }
    result = {
        "assistant_id": "streamer",
        "run_id": "A" if events else None,
        "events": events,
        "event_counts": {"values": events} if events else {},
        "first_event_ns": None,
        "last_event_ns": None,
        "error_event": None,
        "tokens": [s("A"), e("A")] if events else None,
    }
    h.op("runs.stream", 0.01, 1.0, args=args, result=result)
    return h


# -- enqueue ----------------------------------------------------------------------------------


def enqueue_clean() -> HistoryBuilder:
    """Three enqueued runs execute one after another, in creation order."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    h.create("T1", "C", 0.05, 0.06)
    observe(h, "T1", 0.1, {"A": "pending", "B": "pending", "C": "pending"}, "busy")
    observe(h, "T1", 0.8, {"A": "running", "B": "pending", "C": "pending"}, "busy", [s("A")])
    observe(
        h,
        "T1",
        1.4,
        {"A": "success", "B": "running", "C": "pending"},
        "busy",
        [s("A"), e("A"), s("B")],
    )
    observe(
        h,
        "T1",
        2.0,
        {"A": "success", "B": "success", "C": "running"},
        "busy",
        [s("A"), e("A"), s("B"), e("B"), s("C")],
    )
    finish(
        h,
        "T1",
        "enqueue",
        2.6,
        {"A": "success", "B": "success", "C": "success"},
        [s("A"), e("A"), s("B"), e("B"), s("C"), e("C")],
    )
    return h


def enqueue_timeline(tokens: list[str], *, b_status: str = "success") -> HistoryBuilder:
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    observe(h, "T1", 0.1, {"A": "pending", "B": "pending"}, "busy")
    finish(h, "T1", "enqueue", 2.0, {"A": "success", "B": b_status}, tokens)
    return h


def concurrent_runs() -> HistoryBuilder:
    """B starts before A ends."""
    return enqueue_timeline([s("A"), s("B"), e("A"), e("B")])


def concurrent_statuses() -> HistoryBuilder:
    """No tokens overlap, but A is seen running before and after B is seen running."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    observe(h, "T1", 0.5, {"A": "running", "B": "pending"}, "busy")
    observe(h, "T1", 0.7, {"B": "running"}, "busy")
    observe(h, "T1", 0.9, {"A": "running"}, "busy")
    finish(
        h, "T1", "enqueue", 2.0, {"A": "success", "B": "success"}, [s("A"), e("A"), s("B"), e("B")]
    )
    return h


def fifo_violation() -> HistoryBuilder:
    """A was created first, B executed first."""
    return enqueue_timeline([s("B"), e("B"), s("A"), e("A")])


def duplicate_execution() -> HistoryBuilder:
    """A's tokens appear twice: it executed twice."""
    return enqueue_timeline([s("A"), e("A"), s("A"), e("A"), s("B"), e("B")])


def unexpected_run() -> HistoryBuilder:
    """Run X, which nobody created, executed between A and B."""
    return enqueue_timeline([s("A"), e("A"), s("X"), e("X"), s("B"), e("B")])


def unexpected_run_after_info() -> HistoryBuilder:
    """Run X has no create, but an unanswered (info) create may have made it: valid."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=3)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", None, 0.03, 5.0, outcome="info")
    h.create("T1", "B", 5.01, 5.02)
    finish(
        h,
        "T1",
        "enqueue",
        7.0,
        {"A": "success", "B": "success"},
        [s("A"), e("A"), s("X"), e("X"), s("B"), e("B")],
        listed=[("A", "success"), ("X", "success"), ("B", "success")],
    )
    return h


def lost_run() -> HistoryBuilder:
    """B was accepted, never ran, and is gone (404) with no rollback to explain it."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    observe(h, "T1", 0.1, {"A": "pending", "B": "pending"}, "busy")
    observe(h, "T1", 0.8, {"A": "running", "B": None}, "busy", [s("A")])
    finish(h, "T1", "enqueue", 1.5, {"A": "success", "B": None}, [s("A"), e("A")])
    return h


def elsewhere(h: HistoryBuilder, t: float) -> None:
    """On thread T9, run Z created at ``t`` and seen success 2 s later: the server made
    progress elsewhere (what tells a stuck run from an overloaded server)."""
    h.create("T9", "Z", t, t + 0.01)
    h.get("T9", "Z", t + 2.0, "success")


def stuck_run(*, progress: bool = True) -> HistoryBuilder:
    """B stays pending for 100 s after A finished; the burst's settle times out. With
    ``progress``, a run created on another thread meanwhile finished: B is stuck; without,
    the server may only be overloaded."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    observe(h, "T1", 0.1, {"A": "pending", "B": "pending"}, "busy")
    observe(h, "T1", 1.5, {"A": "success", "B": "pending"}, "busy", [s("A"), e("A")])
    if progress:
        elsewhere(h, 10.0)
    for t in (30.0, 60.0, 90.0):
        observe(h, "T1", t, {"A": "success", "B": "pending"}, "busy")
    observe(h, "T1", 120.0, {"A": "success", "B": "pending"}, "busy")
    h.state("T1", 120.1, [s("A"), e("A")])
    h.list_runs("T1", 120.11, [("A", "success"), ("B", "pending")])
    h.settled("T1", "enqueue", 120.12, ["A", "B"], timed_out=True)
    return h


def stuck_thread(*, after_rollback_cancel: bool = False) -> HistoryBuilder:
    """Both runs are final by 1.5 s, the thread still reads busy 100 s later (while a run
    created on another thread meanwhile finished)."""
    h = HistoryBuilder(workload="enqueue")
    elsewhere(h, 10.0)
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    if after_rollback_cancel:
        h.op(
            "runs.cancel",
            0.5,
            0.52,
            args={"thread_id": "T1", "run_id": "B", "action": "rollback", "wait": False},
            result={"thread_id": "T1", "run_id": "B"},
        )
        observe(h, "T1", 1.5, {"A": "success", "B": None}, "busy", [s("A"), e("A")])
        final: dict[str, str | None] = {"A": "success", "B": None}
        tokens = [s("A"), e("A")]
    else:
        observe(
            h, "T1", 1.5, {"A": "success", "B": "success"}, "busy", [s("A"), e("A"), s("B"), e("B")]
        )
        final = {"A": "success", "B": "success"}
        tokens = [s("A"), e("A"), s("B"), e("B")]
    for t in (30.0, 60.0, 90.0):
        observe(h, "T1", t, final, "busy")
    h.state("T1", 100.1, tokens)
    h.list_runs("T1", 100.11, [(r, st) for r, st in final.items() if st])
    h.settled("T1", "enqueue", 100.12, ["A", "B"], timed_out=True)
    observe(h, "T1", 101.0, {}, "busy")
    return h


def status_regression() -> HistoryBuilder:
    """A is seen success, then running again."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    observe(h, "T1", 1.3, {"A": "success", "B": "pending"}, "busy")
    observe(h, "T1", 1.5, {"A": "running", "B": "running"}, "busy")
    finish(
        h, "T1", "enqueue", 2.5, {"A": "success", "B": "success"}, [s("A"), e("A"), s("B"), e("B")]
    )
    return h


def thread_idle_while_busy() -> HistoryBuilder:
    """The thread reads idle while A is running, with no interrupt anywhere."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=1)
    h.create("T1", "A", 0.01, 0.02)
    observe(h, "T1", 0.7, {"A": "running"}, "busy")
    observe(h, "T1", 0.8, {}, "idle")
    observe(h, "T1", 0.9, {"A": "running"}, "busy")
    finish(h, "T1", "enqueue", 1.5, {"A": "success"}, [s("A"), e("A")])
    return h


# -- interrupt --------------------------------------------------------------------------------


def interrupt_clean() -> HistoryBuilder:
    """What the in-memory server does with three interrupt runs 50 ms apart: A and B end
    interrupted before starting, C runs, and the thread reads idle while C is pending."""
    h = HistoryBuilder(workload="interrupt")
    h.burst("T1", "interrupt", 0.0)
    h.create("T1", "A", 0.01, 0.02, strategy="interrupt")
    h.create("T1", "B", 0.07, 0.08, strategy="interrupt")
    h.create("T1", "C", 0.13, 0.14, strategy="interrupt")
    observe(h, "T1", 0.2, {"A": "interrupted", "B": "interrupted", "C": "pending"}, "idle")
    observe(
        h, "T1", 0.8, {"A": "interrupted", "B": "interrupted", "C": "running"}, "idle", [s("C")]
    )
    finish(
        h,
        "T1",
        "interrupt",
        1.4,
        {"A": "interrupted", "B": "interrupted", "C": "success"},
        [s("C"), e("C")],
    )
    return h


def interrupt_not_applied() -> HistoryBuilder:
    """A keeps running for seconds after interrupt run B was accepted, then succeeds."""
    h = HistoryBuilder(workload="interrupt")
    h.burst("T1", "interrupt", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02, strategy="interrupt")
    observe(h, "T1", 0.7, {"A": "running"}, "busy", [s("A")])
    h.create("T1", "B", 0.8, 0.81, strategy="interrupt")
    observe(h, "T1", 2.0, {"A": "running", "B": "pending"}, "busy", [s("A")])
    finish(
        h,
        "T1",
        "interrupt",
        4.0,
        {"A": "success", "B": "success"},
        [s("A"), e("A"), s("B"), e("B")],
    )
    return h


def interrupt_end_within_slack() -> HistoryBuilder:
    """A's last step completes just as interrupt run B is accepted: within the slack."""
    h = HistoryBuilder(workload="interrupt")
    h.burst("T1", "interrupt", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02, strategy="interrupt")
    observe(h, "T1", 0.7, {"A": "running"}, "busy", [s("A")])
    h.create("T1", "B", 0.8, 0.81, strategy="interrupt")
    observe(h, "T1", 0.9, {"A": "success", "B": "pending"}, "busy", [s("A"), e("A")])
    finish(
        h,
        "T1",
        "interrupt",
        2.5,
        {"A": "success", "B": "success"},
        [s("A"), e("A"), s("B"), e("B")],
    )
    return h


def interrupt_cancels_pending() -> HistoryBuilder:
    """A runs, B is enqueued behind it, interrupt run C cancels both (observed), while the
    docs speak only of the current run A."""
    h = HistoryBuilder(workload="interrupt")
    h.burst("T1", "interrupt", 0.0)
    h.create("T1", "A", 0.01, 0.02)
    observe(h, "T1", 0.7, {"A": "running"}, "busy", [s("A")])
    h.create("T1", "B", 0.8, 0.81)
    h.create("T1", "C", 0.85, 0.86, strategy="interrupt")
    observe(h, "T1", 0.9, {"A": "interrupted", "B": "interrupted", "C": "pending"}, "busy")
    finish(
        h,
        "T1",
        "interrupt",
        2.5,
        {"A": "interrupted", "B": "interrupted", "C": "success"},
        [s("A"), s("C"), e("C")],
    )
    return h


# -- rollback ---------------------------------------------------------------------------------


def rollback_clean() -> HistoryBuilder:
    """Three rollback runs: A and B are deleted (404) before starting, C runs."""
    h = HistoryBuilder(workload="rollback")
    h.burst("T1", "rollback", 0.0)
    h.create("T1", "A", 0.01, 0.02, strategy="rollback")
    h.create("T1", "B", 0.07, 0.08, strategy="rollback")
    h.create("T1", "C", 0.13, 0.14, strategy="rollback")
    observe(h, "T1", 0.2, {"A": None, "B": None, "C": "pending"}, "busy")
    finish(h, "T1", "rollback", 1.5, {"A": None, "B": None, "C": "success"}, [s("C"), e("C")])
    return h


def rollback_cancels_pending() -> HistoryBuilder:
    """A runs, B is enqueued behind it, rollback run C deletes both (observed), while the
    docs speak only of the current run A."""
    h = HistoryBuilder(workload="rollback")
    h.burst("T1", "rollback", 0.0)
    h.create("T1", "A", 0.01, 0.02)
    observe(h, "T1", 0.7, {"A": "running"}, "busy", [s("A")])
    h.create("T1", "B", 0.8, 0.81)
    h.create("T1", "C", 0.85, 0.86, strategy="rollback")
    observe(h, "T1", 0.9, {"A": None, "B": None, "C": "pending"}, "busy", [])
    finish(h, "T1", "rollback", 2.5, {"A": None, "B": None, "C": "success"}, [s("C"), e("C")])
    return h


def rollback_not_applied(*, subscribed: bool = False) -> HistoryBuilder:
    """Rollback run B interrupts A but A is kept (interrupted) instead of deleted; with
    ``subscribed``, a client was joined to A's stream at the time."""
    h = HistoryBuilder(workload="rollback")
    h.burst("T1", "rollback", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02, strategy="rollback")
    if subscribed:
        h.op(
            "runs.join_stream",
            0.03,
            0.2,
            args={"thread_id": "T1", "run_id": "A", "cancel_on_disconnect": False},
            result={
                "thread_id": "T1",
                "run_id": "A",
                "events": 0,
                "event_counts": {},
                "first_event_ns": None,
                "last_event_ns": None,
                "error_event": None,
                "tokens": None,
            },
            process=5,
        )
    h.create("T1", "B", 0.07, 0.08, strategy="rollback")
    observe(h, "T1", 0.2, {"A": "interrupted", "B": "pending"}, "idle")
    finish(h, "T1", "rollback", 1.5, {"A": "interrupted", "B": "success"}, [s("B"), e("B")])
    return h


def rollback_survivor() -> HistoryBuilder:
    """A keeps running after rollback run B was accepted, and still exists afterwards."""
    h = HistoryBuilder(workload="rollback")
    h.burst("T1", "rollback", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02, strategy="rollback")
    observe(h, "T1", 0.7, {"A": "running"}, "busy", [s("A")])
    h.create("T1", "B", 0.8, 0.81, strategy="rollback")
    observe(h, "T1", 2.0, {"A": "running", "B": "pending"}, "busy", [s("A")])
    finish(h, "T1", "rollback", 4.0, {"A": "interrupted", "B": "success"}, [s("A"), s("B"), e("B")])
    return h


# -- reject -----------------------------------------------------------------------------------


def reject_clean() -> HistoryBuilder:
    """B and C are refused (409) while A is pending; A runs; a later D on the idle thread is
    accepted."""
    h = HistoryBuilder(workload="reject")
    h.burst("T1", "reject", 0.0)
    h.create("T1", "A", 0.01, 0.02, strategy="reject")
    h.create("T1", None, 0.03, 0.04, strategy="reject", outcome="fail")
    h.create("T1", None, 0.05, 0.06, strategy="reject", outcome="fail")
    observe(h, "T1", 0.1, {"A": "pending"}, "busy")
    observe(h, "T1", 1.2, {"A": "success"}, "idle", [s("A"), e("A")])
    h.create("T1", "D", 1.3, 1.31, strategy="reject")
    finish(
        h, "T1", "reject", 2.5, {"A": "success", "D": "success"}, [s("A"), e("A"), s("D"), e("D")]
    )
    return h


def reject_accepted() -> HistoryBuilder:
    """B is accepted while A is still pending."""
    h = HistoryBuilder(workload="reject")
    h.burst("T1", "reject", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02, strategy="reject")
    h.create("T1", "B", 0.03, 0.04, strategy="reject")
    observe(h, "T1", 0.1, {"A": "pending", "B": "pending"}, "busy")
    finish(
        h, "T1", "reject", 2.5, {"A": "success", "B": "success"}, [s("A"), e("A"), s("B"), e("B")]
    )
    return h


def reject_refused_idle(*, after_info: bool = False) -> HistoryBuilder:
    """A finished (seen success) before B was sent, yet B is refused with 409.

    With ``after_info`` an unanswered create came in between: it may have made a run that
    was in flight, so the refusal proves nothing.
    """
    h = HistoryBuilder(workload="reject")
    h.burst("T1", "reject", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02, strategy="reject")
    observe(h, "T1", 1.2, {"A": "success"}, "idle", [s("A"), e("A")])
    if after_info:
        h.create("T1", None, 1.25, 1.28, strategy="reject", outcome="info")
    h.create("T1", None, 1.3, 1.31, strategy="reject", outcome="fail")
    finish(h, "T1", "reject", 2.5, {"A": "success"}, [s("A"), e("A")])
    return h


# -- final status and results -----------------------------------------------------------------


def failing(status: str, tokens: list[str]) -> HistoryBuilder:
    h = HistoryBuilder(workload="failing")
    h.burst("T1", "enqueue", 0.0, runs=1)
    h.create("T1", "A", 0.01, 0.02, assistant="failing")
    finish(h, "T1", "enqueue", 1.0, {"A": status}, tokens)
    return h


def error_after_end() -> HistoryBuilder:
    """A wrote its end token, then ended error."""
    return enqueue_timeline([s("A"), e("A"), s("B"), e("B")], b_status="error")


def stream(events: int, *, join_tokens: list[str] | None = None) -> HistoryBuilder:
    """A streamed run (runs.stream) on T1, then B enqueued; a join of A after both ended."""
    h = HistoryBuilder(workload="stream")
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create(
        "T1",
        None,
        0.01,
        1.0,
        f="runs.stream",
        result={
            "run_id": "A",
            "events": events,
            "event_counts": {"values": events},
            "first_event_ns": None,
            "last_event_ns": None,
            "error_event": None,
            "tokens": [s("A"), e("A")] if events else None,
        },
        args={"stream_mode": ["values"]},
    )
    h.create("T1", "B", 0.02, 0.03)
    observe(h, "T1", 1.1, {"A": "success", "B": "running"}, "busy", [s("A"), e("A"), s("B")])
    if join_tokens is not None:
        args = {"thread_id": "T1", "run_id": "A"}
        h.op(
            "runs.join",
            2.0,
            2.01,
            args=args,
            result={**args, "tokens": join_tokens, "error": None, "has_values": True},
            process=7,
        )
    finish(
        h, "T1", "enqueue", 1.8, {"A": "success", "B": "success"}, [s("A"), e("A"), s("B"), e("B")]
    )
    return h


def stream_then_state() -> HistoryBuilder:
    """No burst and no runs.get: a run streamed to its end, then the thread's state read
    (as a chat scenario does). The finished stream shows the run was final by then."""
    h = HistoryBuilder(workload="chat")
    h.op("threads.create", 0.0, 0.01, args={}, result={"thread_id": "T1"})
    h.create(
        "T1",
        None,
        0.02,
        1.0,
        f="runs.stream",
        strategy=None,
        result={
            "run_id": "A",
            "events": 4,
            "event_counts": {"values": 4},
            "first_event_ns": None,
            "last_event_ns": None,
            "error_event": None,
            "tokens": [s("A"), e("A")],
        },
    )
    h.state("T1", 1.01, [s("A"), e("A")], process=0)
    return h


def join_before_end() -> HistoryBuilder:
    """A join of A returns while A is still running, with values lacking A's end."""
    h = HistoryBuilder(workload="stream")
    h.burst("T1", "enqueue", 0.0, runs=1)
    h.create("T1", "A", 0.01, 0.02)
    args = {"thread_id": "T1", "run_id": "A"}
    h.op(
        "runs.join",
        0.05,
        0.6,
        args=args,
        result={**args, "tokens": [s("A")], "error": None, "has_values": True},
        process=7,
    )
    observe(h, "T1", 0.7, {"A": "running"}, "busy", [s("A")])
    finish(h, "T1", "enqueue", 1.5, {"A": "success"}, [s("A"), e("A")])
    return h


# -- thin histories ---------------------------------------------------------------------------


def copied_thread() -> HistoryBuilder:
    """T2 is a copy of T1 (threads.copy): A's tokens, made on T1, are in T2's state too."""
    h = enqueue_timeline([s("A"), e("A"), s("B"), e("B")])
    h.op(
        "threads.copy",
        2.5,
        2.51,
        args={"thread_id": "T1"},
        result={"thread_id": "T2"},
    )
    h.state("T2", 2.6, [s("A"), e("A"), s("B"), e("B")])
    return h


def no_settle() -> HistoryBuilder:
    """The run was cut short: a burst with no settled marker and no final state read."""
    h = HistoryBuilder(workload="enqueue")
    h.burst("T1", "enqueue", 0.0, runs=2)
    h.create("T1", "A", 0.01, 0.02)
    h.create("T1", "B", 0.03, 0.04)
    observe(h, "T1", 0.1, {"A": "pending", "B": "pending"}, "busy")
    return h


def no_state() -> HistoryBuilder:
    """Runs created and waited for on a thread nobody observed: nothing to judge."""
    h = HistoryBuilder(workload="chat")
    h.op("threads.create", 0.0, 0.01, args={}, result={"thread_id": "T1"})
    h.create(
        "T1",
        None,
        0.02,
        0.6,
        f="runs.wait",
        result={"tokens": [s("A"), e("A")], "error": None, "has_values": True},
    )
    return h


# -- tenant isolation ([target.auth]): operations name their user ---------------------------


def _user_op(
    h: HistoryBuilder,
    user: str,
    f: str,
    t: float,
    args: dict[str, object] | None = None,
    result: dict[str, object] | None = None,
    *,
    status: int | None = None,
    process: int = 0,
) -> None:
    """One operation made as ``user``: ok with ``result``, or failed with HTTP ``status``."""
    error = None
    if status is not None:
        error = {"class": "ApiError", "status": status, "message": "refused"}
    h.op(
        f,
        t,
        t + 0.01,
        args={"user": user, **(args or {})},
        result=result,
        outcome="ok" if status is None else "fail",
        error=error,
        process=process,
    )


def tenants(
    *,
    search_leaks: bool = False,
    owner_read_back: str = "user-1",
    refused_later: bool = False,
    policy: str | None = None,
    other_reads: bool = False,
) -> HistoryBuilder:
    """Two users, a thread each (T1 of user-1, T2 of user-2), a store namespace of user-1.

    user-2's probes of user-1's thread and items are refused (404, 403) and its search finds
    its own thread; each user reads its own thread's state back. The variants: user-2's
    search also returns T1 (``search_leaks``); user-1's read of T1 reports another owner
    (``owner_read_back``); user-1's same read is refused later with nothing changed
    (``refused_later``); user-2 reads T1 successfully (``other_reads``) under ``policy``.
    """
    h = HistoryBuilder(workload="tenants", auth={"users": 2, "policy": policy or "owner-only"})
    _user_op(h, "user-1", "threads.create", 0.0, {}, {"thread_id": "T1", "owner": "user-1"})
    _user_op(
        h, "user-2", "threads.create", 0.0, {}, {"thread_id": "T2", "owner": "user-2"}, process=1
    )
    _user_op(h, "user-1", "threads.create", 0.1, {}, {"thread_id": "T3", "owner": "user-1"})
    _user_op(
        h, "user-2", "threads.create", 0.1, {}, {"thread_id": "T4", "owner": "user-2"}, process=1
    )
    namespace = {"namespace": ["user-1", "notes"], "key": "k"}
    _user_op(h, "user-1", "store.put_item", 0.2, namespace, {})
    _user_op(h, "user-2", "threads.get", 0.3, {"thread_id": "T1"}, status=404, process=1)
    _user_op(h, "user-2", "store.get_item", 0.4, namespace, status=403, process=1)
    found = ["T2", "T4", "T1"] if search_leaks else ["T2", "T4"]
    _user_op(h, "user-2", "threads.search", 0.5, {}, {"found": found}, process=1)
    if other_reads:
        _user_op(
            h, "user-2", "threads.get", 0.55, {"thread_id": "T1"}, {"thread_id": "T1"}, process=1
        )
    _user_op(
        h,
        "user-1",
        "threads.get",
        0.6,
        {"thread_id": "T1"},
        {"thread_id": "T1", "status": "idle", "owner": owner_read_back},
    )
    if refused_later:
        _user_op(h, "user-1", "threads.get", 0.8, {"thread_id": "T1"}, status=403)
    _user_op(h, "user-1", "store.get_item", 0.7, namespace, {"found": [["user-1", "notes"], "k"]})
    for user, thread, t in (("user-1", "T1", 1.0), ("user-2", "T2", 1.0), ("user-1", "T3", 1.1)):
        _user_op(
            h,
            user,
            "threads.get_state",
            t,
            {"thread_id": thread},
            {"thread_id": thread, "tokens": [], "next": [], "interrupts": 0},
            process=0 if user == "user-1" else 1,
        )
    _user_op(
        h,
        "user-2",
        "threads.get_state",
        1.1,
        {"thread_id": "T4"},
        {"thread_id": "T4", "tokens": [], "next": [], "interrupts": 0},
        process=1,
    )
    return h


def tenants_one_owner() -> HistoryBuilder:
    """Both users' threads come back owned by user-1's identity: two tokens, one owner."""
    h = HistoryBuilder(workload="tenants", auth={"users": 2, "policy": "owner-only"})
    for n, (user, t) in enumerate((("user-1", 0.0), ("user-2", 0.1), ("user-2", 0.2))):
        thread = f"T{n + 1}"
        _user_op(h, user, "threads.create", t, {}, {"thread_id": thread, "owner": "user-1"})
        _user_op(
            h,
            user,
            "threads.get_state",
            1.0 + t,
            {"thread_id": thread},
            {"thread_id": thread, "tokens": [], "next": [], "interrupts": 0},
        )
    return h


# -- a burst read back by threads.search ------------------------------------------------------


def searched(t1_tokens: list[str], *, busy_at: float | None = None) -> HistoryBuilder:
    """Two enqueue bursts (T1, T2: A then B, C then D) watched as the burst executor does:
    one threads.search of both threads per tick, one runs.list per thread once it reads
    idle, and the next search as the read of its final state; no threads.get_state. T1's
    reads hold ``t1_tokens``; with ``busy_at``, a search then finds T1 busy again."""
    h = HistoryBuilder(workload="enqueue")
    for thread, runs in (("T1", "AB"), ("T2", "CD")):
        h.burst(thread, "enqueue", 0.0, runs=2)
        h.create(thread, runs[0], 0.01, 0.02, args={"has_input": True})
        h.create(thread, runs[1], 0.03, 0.04, args={"has_input": True})
    h.search(0.5, [("T1", "busy", None), ("T2", "busy", None)])
    h.search(1.0, [("T1", "busy", [s("A"), e("A")]), ("T2", "busy", [s("C"), e("C")])])
    h.search(1.6, [("T1", "idle", t1_tokens), ("T2", "idle", [s("C"), e("C"), s("D"), e("D")])])
    h.list_runs("T1", 1.61, [("A", "success"), ("B", "success")])
    h.list_runs("T2", 1.62, [("C", "success"), ("D", "success")])
    h.search(2.7, [("T1", "idle", t1_tokens), ("T2", "idle", [s("C"), e("C"), s("D"), e("D")])])
    h.settled("T1", "enqueue", 2.71, ["A", "B"])
    h.settled("T2", "enqueue", 2.72, ["C", "D"])
    if busy_at is not None:
        h.search(busy_at, [("T1", "busy", t1_tokens), ("T2", "idle", None)])
    return h


def header_only() -> HistoryBuilder:
    return HistoryBuilder(workload="empty")


CASES: dict[str, Callable[[], HistoryBuilder]] = {
    "enqueue_clean": enqueue_clean,
    "concurrent_runs": concurrent_runs,
    "concurrent_statuses": concurrent_statuses,
    "fifo_violation": fifo_violation,
    "duplicate_execution": duplicate_execution,
    "unexpected_run": unexpected_run,
    "unexpected_run_after_info": unexpected_run_after_info,
    "lost_run": lost_run,
    "stuck_run": stuck_run,
    "stuck_run_overloaded": lambda: stuck_run(progress=False),
    "stuck_thread": stuck_thread,
    "stuck_thread_after_rollback_cancel": lambda: stuck_thread(after_rollback_cancel=True),
    "status_regression": status_regression,
    "thread_idle_while_busy": thread_idle_while_busy,
    "interrupt_clean": interrupt_clean,
    "interrupt_not_applied": interrupt_not_applied,
    "interrupt_end_within_slack": interrupt_end_within_slack,
    "interrupt_cancels_pending": interrupt_cancels_pending,
    "rollback_clean": rollback_clean,
    "rollback_cancels_pending": rollback_cancels_pending,
    "rollback_not_applied": rollback_not_applied,
    "rollback_not_applied_subscribed": lambda: rollback_not_applied(subscribed=True),
    "rollback_survivor": rollback_survivor,
    "reject_clean": reject_clean,
    "reject_accepted": reject_accepted,
    "reject_refused_idle": reject_refused_idle,
    "reject_refused_after_info": lambda: reject_refused_idle(after_info=True),
    "failing_clean": lambda: failing("error", [s("A")]),
    "failing_success": lambda: failing("success", [s("A")]),
    "error_after_end": error_after_end,
    "stream_clean": lambda: stream(3),
    "stream_empty": lambda: stream(0),
    "join_after_end": lambda: stream(3, join_tokens=[s("A"), e("A"), s("B"), e("B")]),
    "join_before_end": join_before_end,
    "stream_then_state": stream_then_state,
    "copied_thread": copied_thread,
    "no_settle": no_settle,
    "no_state": no_state,
    "header_only": header_only,
    "tenants_isolated": tenants,
    "tenants_search_leak": lambda: tenants(search_leaks=True),
    "tenants_wrong_owner": lambda: tenants(owner_read_back="user-2"),
    "tenants_auth_inconsistent": lambda: tenants(refused_later=True),
    "tenants_other_reads": lambda: tenants(other_reads=True),
    "tenants_shared_reads": lambda: tenants(other_reads=True, policy="shared"),
    "tenants_one_owner": tenants_one_owner,
    "searched_clean": lambda: searched([s("A"), e("A"), s("B"), e("B")]),
    "searched_concurrent_runs": lambda: searched([s("A"), s("B"), e("A"), e("B")]),
    "searched_fifo_violation": lambda: searched([s("B"), e("B"), s("A"), e("A")]),
    "searched_lost_write": lambda: searched([s("B"), e("B")]),
    "searched_busy_without_run": lambda: searched([s("A"), e("A"), s("B"), e("B")], busy_at=30.0),
    "lost_write": lost_write,
    "lost_write_clean": lambda: lost_write(lost=False),
    "busy_without_run": lambda: busy_without_run(20.0),
    "busy_briefly_after_run": lambda: busy_without_run(2.0),
    "wait_empty": lambda: wait("T1", {"tokens": None, "error": None, "has_values": False}),
    "wait_error_then_success": lambda: wait(
        "T1", {"tokens": None, "error": {"error": "ValueError"}, "has_values": False}
    ),
    "stateless_wait_clean": lambda: wait(
        None, {"tokens": [s("A"), e("A")], "error": None, "has_values": True}
    ),
    "stateless_wait_empty": lambda: wait(
        None, {"tokens": None, "error": None, "has_values": False}
    ),
    "stateless_wait_foreign": lambda: wait(
        None, {"tokens": [s("X"), e("X")], "error": None, "has_values": True}
    ),
    "stateless_stream_clean": lambda: stateless_stream(3),
    "chat_reply_clean": lambda: chat_stream(reply_tokens("A", 1, 5)),
    "chat_reply_gap": lambda: chat_stream(
        reply_tokens("A", 1, 5)[:2] + reply_tokens("A", 1, 5)[3:]
    ),
    "chat_reply_repeated": lambda: chat_stream(
        reply_tokens("A", 1, 5)[:3] + reply_tokens("A", 1, 5)[2:]
    ),
    "chat_reply_cut": lambda: chat_stream(reply_tokens("A", 1, 5)[:3]),
    "stateless_chat_reply_cut": lambda: chat_stream(reply_tokens("A", 1, 5)[:3], thread=None),
    "stateless_stream_empty": lambda: stateless_stream(0),
}


def write_all(directory: Path = DIRECTORY) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [build().write(directory / f"{name}.jsonl") for name, build in CASES.items()]


if __name__ == "__main__":  # pragma: no cover
    for path in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else DIRECTORY):
        print(path)
