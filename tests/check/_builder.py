"""Write history.jsonl files in the docs/history.md format, for checker tests.

:class:`HistoryBuilder` takes operations with their send and answer times (seconds) in any
order, then lays the lines out the way lgbench's recorder does: sorted by time, ``index``
ascending from 0 in file order, completions pointing at their invoke's index. Short ids
("T1", "A") keep hand-written cases readable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["HistoryBuilder"]


@dataclass
class _Line:
    time_s: float
    order: int
    fields: dict[str, Any]
    invoke_of: int | None = None  # for completions: the order number of their invoke


@dataclass
class HistoryBuilder:
    """Collects events; :meth:`lines` renders them (header first, then by time)."""

    workload: str = "test"
    backend: str = "asyncio"
    #: The header's ``auth`` (users and policy of a [target.auth] run), when given.
    auth: dict[str, Any] | None = None
    _lines: list[_Line] = field(default_factory=list)
    _order: int = 0
    _process: int = 100

    def _add(self, time_s: float, fields: dict[str, Any], invoke_of: int | None = None) -> int:
        self._order += 1
        self._lines.append(_Line(time_s, self._order, fields, invoke_of))
        return self._order

    def op(
        self,
        f: str,
        t0: float,
        t1: float | None,
        *,
        args: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
        outcome: str | None = "ok",
        error: dict[str, Any] | None = None,
        process: int = 0,
        actor: int = 0,
        scenario: str = "s",
        observer: bool = False,
    ) -> None:
        """One operation: invoke at ``t0``, completion (``outcome``) at ``t1``.

        ``outcome=None`` (or ``t1=None``) leaves the invoke without a completion.
        """
        value = dict(args or {})
        if observer:
            value["observer"] = True
        common = {"process": process, "actor": actor, "scenario": scenario, "f": f}
        order = self._add(t0, {"type": "invoke", **common, "value": value, "error": None})
        if outcome is None or t1 is None:
            return
        done = dict(result or {}) if outcome == "ok" else None
        if observer:
            done = {**(done or {}), "observer": True}
        self._add(
            t1,
            {"type": outcome, **common, "value": done, "error": error},
            invoke_of=order,
        )

    def marker(self, name: str, t: float, value: dict[str, Any], scenario: str = "s") -> None:
        self._add(t, {"type": "marker", "name": name, "scenario": scenario, "value": value})

    # -- shorthands -----------------------------------------------------------------------

    def create(
        self,
        thread: str,
        run: str | None,
        t0: float,
        t1: float | None,
        *,
        strategy: str | None = "enqueue",
        outcome: str | None = "ok",
        status: str = "pending",
        assistant: str = "sleepy",
        f: str = "runs.create",
        process: int = 0,
        result: dict[str, Any] | None = None,
        args: dict[str, Any] | None = None,
    ) -> None:
        invoke = {
            "thread_id": thread,
            "assistant_id": assistant,
            "multitask_strategy": strategy,
            "stream_mode": None,
            "on_disconnect": None,
            "after_seconds": None,
            **(args or {}),
        }
        ok: dict[str, Any] = {"thread_id": thread, "assistant_id": assistant}
        if run is not None:
            ok["run_id"] = run
        if f == "runs.create":
            ok.update(status=status, created_at="2026-01-01T00:00:00+00:00")
        error = None
        if outcome == "fail":
            error = {"class": "ConflictError", "status": 409, "message": "thread is busy"}
        elif outcome == "info":
            error = {"class": "ReadTimeout", "status": None, "message": "timed out"}
        self.op(
            f,
            t0,
            t1,
            args=invoke,
            result={**ok, **(result or {})},
            outcome=outcome,
            error=error,
            process=process,
        )

    def get(
        self, thread: str, run: str, t0: float, status: str | None, *, process: int = 1
    ) -> None:
        """runs.get by an observer; ``status=None`` is a 404."""
        args = {"thread_id": thread, "run_id": run}
        if status is None:
            error = {"class": "NotFoundError", "status": 404, "message": "run not found"}
            self.op(
                "runs.get",
                t0,
                t0 + 0.002,
                args=args,
                outcome="fail",
                error=error,
                process=process,
                observer=True,
            )
        else:
            self.op(
                "runs.get",
                t0,
                t0 + 0.002,
                args=args,
                result={**args, "status": status},
                process=process,
                observer=True,
            )

    def thread(self, thread: str, t0: float, status: str, *, process: int = 1) -> None:
        args = {"thread_id": thread}
        self.op(
            "threads.get",
            t0,
            t0 + 0.002,
            args=args,
            result={**args, "status": status},
            process=process,
            observer=True,
        )

    def state(self, thread: str, t0: float, tokens: list[str] | None, *, process: int = 1) -> None:
        args = {"thread_id": thread}
        result = {**args, "tokens": tokens, "next": [], "interrupts": 0}
        self.op(
            "threads.get_state",
            t0,
            t0 + 0.002,
            args=args,
            result=result,
            process=process,
            observer=True,
        )

    def search(
        self,
        t0: float,
        threads: list[tuple[str, str, list[str] | None]],
        *,
        process: int = 2,
    ) -> None:
        """One ``threads.search`` answered with ``(thread, status, tokens)`` per thread."""
        found = [{"thread_id": t, "status": st, "tokens": tokens} for t, st, tokens in threads]
        self.op(
            "threads.search",
            t0,
            t0 + 0.002,
            args={"metadata": {"lgbench_burst": "b"}, "limit": 100},
            result={"threads": found},
            process=process,
            observer=True,
        )

    def list_runs(
        self,
        thread: str,
        t0: float,
        runs: list[tuple[str, str]],
        *,
        limit: int = 10,
        process: int = 1,
    ) -> None:
        args = {"thread_id": thread, "limit": limit}
        listed = [
            {
                "run_id": r,
                "status": s,
                "created_at": None,
                "updated_at": None,
                "multitask_strategy": None,
            }
            for r, s in runs
        ]
        self.op(
            "runs.list",
            t0,
            t0 + 0.002,
            args=args,
            result={"thread_id": thread, "runs": listed},
            process=process,
            observer=True,
        )

    def burst(self, thread: str, strategy: str, t: float, runs: int = 3) -> None:
        self.marker(
            "burst.start",
            t,
            {
                "thread_id": thread,
                "strategy": strategy,
                "assistant_id": "sleepy",
                "runs": runs,
                "stagger_s": 0,
            },
        )

    def settled(
        self,
        thread: str,
        strategy: str,
        t: float,
        run_ids: list[str],
        *,
        timed_out: bool = False,
    ) -> None:
        self.marker(
            "burst.settled",
            t,
            {
                "thread_id": thread,
                "strategy": strategy,
                "run_ids": run_ids,
                "statuses": {},
                "timed_out": timed_out,
            },
        )

    # -- output ---------------------------------------------------------------------------

    def lines(self) -> list[str]:
        header = {
            "type": "header",
            "schema_version": 1,
            "lgbench_version": "0.1.0",
            "started_at": "2026-01-01T00:00:00+00:00",
            "workload": self.workload,
            "target": "embedded",
            "server": {"version": "0.16.7"},
            "backend": self.backend,
        }
        if self.auth is not None:
            header["auth"] = self.auth
        ordered = sorted(self._lines, key=lambda line: (line.time_s, line.order))
        index_of: dict[int, int] = {}
        out = [json.dumps(header, separators=(",", ":"))]
        for index, line in enumerate(ordered):
            index_of[line.order] = index
            fields: dict[str, Any] = {
                "index": index,
                "type": line.fields["type"],
                "time_ns": round(line.time_s * 1e9),
                "wall": 1767225600.0 + line.time_s,
            }
            rest = {k: v for k, v in line.fields.items() if k != "type"}
            if line.invoke_of is not None:
                fields["invoke_index"] = index_of[line.invoke_of]
            fields.update(rest)
            out.append(json.dumps(fields, separators=(",", ":")))
        return out

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"

    def write(self, path: Path) -> Path:
        path.write_text(self.text(), encoding="utf-8")
        return path
