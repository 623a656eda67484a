"""Where the server made progress: the evidence that tells a stuck run from a slow server.

A run that stays ``pending`` for a minute is stuck only if the server was doing something
else meanwhile; on a saturated server every run waits, and that is overload, not a bug.
:class:`Progress` answers one question over the whole history, across threads: *did a run
created after time a finish by time b?* (:meth:`Progress.elsewhere`). On a server that
works through its queue in order, such a run overtook whatever was still waiting from
before ``a``.

Built in one streaming pass (:meth:`Progress.created`, :meth:`Progress.finished`), with the
facts on disk in SQLite so a soak's millions of runs cost no memory; after
:meth:`Progress.seal` only three arrays of one number per finished run stay in memory.
"""

from __future__ import annotations

import bisect
import math
import sqlite3
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Final, final

from lgbench.check._events import FINAL_STATUSES, EventRef, Operation
from lgbench.check._model import short_id
from lgbench.operations import operation_names

__all__ = ["NO_PROGRESS", "Progress"]

_FINISHING: Final = operation_names(lambda op: op.follows_run)
_CREATING: Final = operation_names(lambda op: op.creates_run)
_BATCH: Final = 2048


@final
class Progress:
    """Runs created and finished, on the history's merged clock (module docstring).

    ``path`` is a SQLite file (``":memory:"`` for a history already in memory).
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self._db = sqlite3.connect(str(path))
        self._db.execute("CREATE TABLE created (run_id TEXT, file INT, lo REAL)")
        self._db.execute(
            "CREATE TABLE finished (run_id TEXT, file INT, hi REAL, idx INT, what TEXT)"
        )
        self._created: list[tuple[str, int, float]] = []
        self._finished: list[tuple[str, int, float, int, str]] = []
        self._sealed = False
        self._los = array("d")
        self._his = array("d")
        self._rowids = array("q")
        self._first_hi = array("d")
        self._first_at = array("q")
        self._second_hi = array("d")
        self._second_at = array("q")

    # -- building ---------------------------------------------------------------------------

    def operation(self, op: Operation) -> None:
        """Note what ``op`` (on its own file's clock) says about runs starting and ending."""
        if op.outcome != "ok" or op.completion is None:
            return
        file = op.completion.file
        f = op.f
        run_id = op.run_id
        if f in _CREATING and run_id is not None:
            self._created.append((run_id, file, op.lo))
        index = op.completion.index
        if f in _FINISHING and run_id is not None:
            self._finish(run_id, file, op.hi, index, f"{f} of run {short_id(run_id)} ended")
        elif f == "runs.get" and run_id is not None:
            status = op.result.get("status")
            if status in FINAL_STATUSES:
                self._finish(run_id, file, op.hi, index, f"run {short_id(run_id)} seen {status}")
        elif f == "runs.list":
            listed = op.result.get("runs")
            for item in listed if isinstance(listed, list) else ():
                if isinstance(item, dict) and item.get("status") in FINAL_STATUSES:
                    rid = item.get("run_id")
                    if isinstance(rid, str):
                        what = f"run {short_id(rid)} listed {item['status']}"
                        self._finish(rid, file, op.hi, index, what)
        if len(self._created) >= _BATCH or len(self._finished) >= _BATCH:
            self._flush()

    def _finish(self, run_id: str, file: int, hi: float, index: int, what: str) -> None:
        self._finished.append((run_id, file, hi, index, what))

    def _flush(self) -> None:
        if self._created:
            self._db.executemany("INSERT INTO created VALUES (?, ?, ?)", self._created)
            self._created.clear()
        if self._finished:
            self._db.executemany("INSERT INTO finished VALUES (?, ?, ?, ?, ?)", self._finished)
            self._finished.clear()

    def seal(self, offsets: Sequence[float] = ()) -> None:
        """Index what was noted; ``offsets[file]`` moves each file onto the merged clock."""
        if self._sealed:
            return
        self._sealed = True
        self._flush()
        shift = {file: offset for file, offset in enumerate(offsets) if offset}
        # One row per run created and finished: its first create and its first finish.
        # SQLite fills a bare column from the row that gave min(), as documented.
        self._db.execute(
            "CREATE TABLE runs AS SELECT c.run_id AS run_id, c.lo AS lo, c.file AS cfile, "
            "f.hi AS hi, f.file AS ffile, f.idx AS idx, f.what AS what FROM "
            "(SELECT run_id, file, min(lo) AS lo FROM created GROUP BY run_id) AS c JOIN "
            "(SELECT run_id, file, min(hi) AS hi, idx, what FROM finished GROUP BY run_id) AS f "
            "USING (run_id)"
        )
        self._db.execute("DROP TABLE created")
        self._db.execute("DROP TABLE finished")
        merged = sorted(
            (lo + shift.get(cfile, 0.0), hi + shift.get(ffile, 0.0), rowid)
            for rowid, lo, cfile, hi, ffile in self._db.execute(
                "SELECT rowid, lo, cfile, hi, ffile FROM runs"
            )
        )
        self._los = array("d", (row[0] for row in merged))
        self._his = array("d", (row[1] for row in merged))
        self._rowids = array("q", (row[2] for row in merged))
        # From each position in creation order on: the earliest finish and the next one.
        n = len(merged)
        self._first_hi = array("d", [math.inf]) * n
        self._first_at = array("q", [-1]) * n
        self._second_hi = array("d", [math.inf]) * n
        self._second_at = array("q", [-1]) * n
        first: tuple[float, int] = (math.inf, -1)
        second: tuple[float, int] = (math.inf, -1)
        for position in range(n - 1, -1, -1):
            here = (merged[position][1], position)
            if here < first:
                first, second = here, first
            elif here < second:
                second = here
            self._first_hi[position], self._first_at[position] = first
            self._second_hi[position], self._second_at[position] = second

    # -- asking -----------------------------------------------------------------------------

    def elsewhere(self, after: float, before: float, besides: str | None) -> EventRef | None:
        """A run created at or after ``after`` and seen finished by ``before``, other than
        ``besides`` (a witness of its finish), or None when there is none."""
        if not self._sealed:
            raise RuntimeError("Progress.elsewhere() before seal()")
        at = bisect.bisect_left(self._los, after)
        if at >= len(self._los):
            return None
        candidates = (
            (self._first_hi[at], self._first_at[at]),
            (self._second_hi[at], self._second_at[at]),
        )
        for hi, position in candidates:
            if position < 0 or hi > before:
                return None
            run_id, file, index, what = self._db.execute(
                "SELECT run_id, ffile, idx, what FROM runs WHERE rowid = ?",
                (self._rowids[position],),
            ).fetchone()
            if run_id == besides:
                continue
            return EventRef(file, index, hi, what)
        return None

    def close(self) -> None:
        """Release the SQLite file (idempotent)."""
        self._db.close()


#: Progress of an empty history (nothing created, nothing finished).
NO_PROGRESS: Final = Progress()
NO_PROGRESS.seal()
