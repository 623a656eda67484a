"""The post-run audit: every thread the load created, read back once after it.

Whatever the workload did, its threads end checkable: after the load (and its graceful stop),
before the checker, :func:`run_audit` reads each thread the :class:`~lgbench.engine.ThreadLedger`
remembers: ``runs.list`` of the thread, and once no run on it is pending or running,
``threads.get_state``. A thread with runs still in flight is read again later, its pause
doubling (from ``_FIRST_PAUSE_S`` to ``_MAX_PAUSE_S``) until they settle or the budget ends. A
thread the workload deleted gets one ``threads.get_state`` (a 404 shows the delete took
effect), after every live thread was read.

The audit has a budget (:class:`AuditOptions`: seconds and requests, printed when it starts);
what it did not read is counted, never guessed. Its operations are observer operations of the
scenario ``audit`` (history ``observer: true``, metrics tag ``role=audit``) between
``audit.start`` and ``audit.end`` markers, kept out of the load's numbers: ``summary.json``
has them in ``audit``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, final

import anyio

from lgbench.client import LangGraphClient, NotFoundError, RunError
from lgbench.engine._recorder import OperationScope, Recorder, ThreadLedger

__all__ = ["AUDIT_SCENARIO", "AuditOptions", "AuditProgress", "run_audit"]

#: The scenario name the audit's operations are recorded under.
AUDIT_SCENARIO: Final = "audit"
_IN_FLIGHT: Final = frozenset({"pending", "running"})
_FIRST_PAUSE_S: Final = 0.5
_MAX_PAUSE_S: Final = 8.0
#: The page a thread's runs are listed with: a listed page shorter than it is complete.
_LIST_LIMIT: Final = 100


@final
@dataclass(frozen=True, slots=True)
class AuditOptions:
    """Whether the audit runs, and its budget: ``time_s`` seconds, ``requests`` requests,
    ``concurrency`` threads read at once."""

    enabled: bool = True
    time_s: float = 60.0
    requests: int = 5_000
    concurrency: int = 8

    def describe(self) -> str:
        return f"budget {self.time_s:g} s and {self.requests} requests"


@final
@dataclass(slots=True)
class AuditProgress:
    """What the audit did so far (the live view shows it; ``summary.json`` keeps it)."""

    threads: int = 0
    deleted: int = 0
    read: int = 0
    settled: int = 0
    unsettled: int = 0
    gone: int = 0
    undeleted: int = 0
    requests: int = 0
    forgotten: int = 0
    started_s: float | None = None
    ended_s: float | None = None
    stop_reason: str | None = None
    budget: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """``audit: 37/120 threads``, as the live view shows it."""
        done = self.settled + self.unsettled + self.gone + self.undeleted
        text = f"audit: {done}/{self.threads + self.deleted} threads, {self.requests} requests"
        if self.stop_reason:
            text += f" ({self.stop_reason})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "deleted_threads": self.deleted,
            "settled": self.settled,
            "unsettled": self.unsettled,
            "gone": self.gone,
            "undeleted": self.undeleted,
            "not_read": self.threads
            + self.deleted
            - self.settled
            - self.unsettled
            - self.gone
            - self.undeleted,
            "forgotten": self.forgotten,
            "requests": self.requests,
            "duration_s": (
                self.ended_s - self.started_s
                if self.started_s is not None and self.ended_s is not None
                else 0.0
            ),
            "stop_reason": self.stop_reason,
            "budget": dict(self.budget),
        }


@final
class _Audit:
    def __init__(
        self,
        client: LangGraphClient,
        recorder: Recorder,
        options: AuditOptions,
        progress: AuditProgress,
        clients: Callable[[str], LangGraphClient] | None = None,
    ) -> None:
        self.client = client
        #: The client a thread is read through: its owner's, with [target.auth].
        self.client_for: Callable[[str], LangGraphClient] = clients or (lambda _thread: client)
        self.recorder = recorder
        self.options = options
        self.progress = progress
        self.clock = recorder.clock
        self.deadline_s = math.inf
        self._scopes: dict[str, OperationScope] = {}

    def _scope(self, operation: str) -> OperationScope:
        found = self._scopes.get(operation)
        if found is None:
            found = self._scopes[operation] = self.recorder.scope(
                operation, AUDIT_SCENARIO, None, "burst", observer=True, audit=True
            )
        return found

    def exhausted(self) -> bool:
        if self.progress.requests >= self.options.requests:
            self.progress.stop_reason = "request budget spent"
            return True
        if self.clock() >= self.deadline_s:
            self.progress.stop_reason = "time budget spent"
            return True
        return False

    async def call(
        self,
        process: int,
        operation: str,
        method: Callable[..., Any],
        arguments: Mapping[str, Any],
    ) -> tuple[bool, Any]:
        """One request, recorded under ``process`` (one per worker: a process never has two
        operations in flight); ``(ok, result or error)``."""
        recorder = self.recorder
        scope = self._scope(operation)
        self.progress.requests += 1
        start_s = self.clock()
        invocation = recorder.invoke(
            scope, process=process, actor=0, arguments=arguments, at_s=start_s
        )
        try:
            result = await method(**arguments)
        except anyio.get_cancelled_exc_class():
            if not invocation.completed:
                recorder.failed(
                    scope,
                    invocation,
                    arguments,
                    None,
                    start_s=start_s,
                    latency_start_s=start_s,
                    end_s=self.clock(),
                    cancelled=True,
                )
            raise
        except RunError as exc:  # a read never fails a run; kept for completeness
            recorder.ok(
                scope,
                invocation,
                arguments,
                exc.body,
                start_s=start_s,
                latency_start_s=start_s,
                end_s=self.clock(),
                run_error=exc,
            )
            return True, exc.body
        except Exception as exc:
            recorder.failed(
                scope,
                invocation,
                arguments,
                exc,
                start_s=start_s,
                latency_start_s=start_s,
                end_s=self.clock(),
            )
            return False, exc
        recorder.ok(
            scope,
            invocation,
            arguments,
            result,
            start_s=start_s,
            latency_start_s=start_s,
            end_s=self.clock(),
        )
        return True, result

    async def read_live(self, process: int, thread_id: str) -> None:
        """List the thread's runs until none is in flight (backing off), then read its state."""
        progress = self.progress
        client = self.client_for(thread_id)
        runs = client.runs
        pause_s = _FIRST_PAUSE_S
        while True:
            if self.exhausted():
                progress.unsettled += 1
                return
            ok, listed = await self.call(
                process, "runs.list", runs.list, {"thread_id": thread_id, "limit": _LIST_LIMIT}
            )
            if not ok and isinstance(listed, NotFoundError):
                progress.gone += 1
                return
            busy = not ok or any(
                isinstance(run, Mapping) and run.get("status") in _IN_FLIGHT
                for run in (listed if isinstance(listed, list) else ())
            )
            if not busy:
                break
            wake_s = self.clock() + pause_s
            if wake_s >= self.deadline_s:
                progress.unsettled += 1
                progress.stop_reason = "time budget spent"
                return
            await anyio.sleep_until(wake_s)
            pause_s = min(pause_s * 2, _MAX_PAUSE_S)
        if self.exhausted():
            progress.unsettled += 1
            return
        await self.call(
            process,
            "threads.get_state",
            client.threads.get_state,
            {"thread_id": thread_id},
        )
        progress.settled += 1

    async def read_deleted(self, process: int, thread_id: str) -> None:
        """One state read of a deleted thread: a 404 shows the delete took effect."""
        if self.exhausted():
            return
        ok, _ = await self.call(
            process,
            "threads.get_state",
            self.client_for(thread_id).threads.get_state,
            {"thread_id": thread_id},
        )
        if ok:
            self.progress.undeleted += 1  # still there after its delete: the checker judges
        else:
            self.progress.gone += 1

    async def run(self, ledger: ThreadLedger) -> None:
        live = [thread_id for thread_id, deleted in ledger.threads.items() if not deleted]
        deleted = [thread_id for thread_id, gone in ledger.threads.items() if gone]
        work: list[tuple[Callable[[int, str], Any], str]] = [(self.read_live, t) for t in live]
        work += [(self.read_deleted, t) for t in deleted]
        position = [0]

        async def worker() -> None:
            process = self.recorder.new_process()
            while position[0] < len(work) and not self.exhausted():
                read, thread_id = work[position[0]]
                position[0] += 1
                await read(process, thread_id)

        async with anyio.create_task_group() as workers:
            for _ in range(max(1, min(self.options.concurrency, len(work)))):
                workers.start_soon(worker)


async def run_audit(
    client: LangGraphClient,
    recorder: Recorder,
    options: AuditOptions,
    progress: AuditProgress | None = None,
    *,
    clients: Callable[[str], LangGraphClient] | None = None,
) -> AuditProgress:
    """Read back every thread ``recorder.threads`` remembers (see the module docstring),
    each through ``clients(thread_id)`` when given (its owner's client), else ``client``."""
    ledger = recorder.threads
    progress = progress if progress is not None else AuditProgress()
    progress.deleted = sum(1 for gone in ledger.threads.values() if gone)
    progress.threads = len(ledger) - progress.deleted
    progress.forgotten = ledger.forgotten
    progress.budget = {
        "time_s": options.time_s,
        "requests": options.requests,
        "concurrency": options.concurrency,
    }
    audit = _Audit(client, recorder, options, progress, clients)
    progress.started_s = audit.clock()
    audit.deadline_s = progress.started_s + options.time_s
    recorder.marker(
        "audit.start",
        scenario=AUDIT_SCENARIO,
        value={
            "threads": progress.threads,
            "deleted_threads": progress.deleted,
            "forgotten": progress.forgotten,
            "budget": dict(progress.budget),
        },
    )
    try:
        await audit.run(ledger)
    finally:
        progress.ended_s = audit.clock()
        if progress.stop_reason is None:
            progress.stop_reason = "done"
        recorder.marker("audit.end", scenario=AUDIT_SCENARIO, value=progress.to_dict())
    return progress
