"""``timeseries.jsonl``: what each interval counted, written as the run goes.

``intervals.hlog`` holds each interval's latency histograms; this file holds what histograms
cannot: outcomes per operation, the scenarios' VUs and iterations, and (when sampled) the
target's and lgbench's own resources. The report draws its time plots from both, and a run
killed mid-way still has every closed interval here. One JSON object per line::

    {"kind": "lgbench.timeseries", "schema_version": 1, "started_at": "...", "interval_s": 1.0}
    {"start_s": 0.0, "end_s": 1.0,
     "operations": {"runs.wait": {"count": 3, "ok": 2, "errors": 1, "http_errors": {"409": 1},
                                  "transport_errors": 0, "timeouts": 0, "run_errors": 0,
                                  "other": 0, "interrupted": 0}},
     "scenarios": {"chat": {"active_vus": 4, "started": 10, "finished": 9, "failed": 0,
                            "dropped": 0}},
     "server": {...}, "lgbench": {...}}

Counters are the interval's own (deltas); ``active_vus`` is the value at the interval's end.
Operations and scenarios with nothing to say in an interval are left out. ``server`` and
``lgbench`` appear only when sampled (see docs/summary.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import IO, Any, Final, final

from lgbench.engine._recorder import Recorder, Snapshot

__all__ = ["TIMESERIES_SCHEMA_VERSION", "TimeseriesWriter"]

TIMESERIES_SCHEMA_VERSION: Final = 1

_SCENARIO_COUNTERS: Final = ("started", "finished", "failed", "dropped")
_EXTRA_COUNTERS: Final = ("run", "cancelled", "other")


@final
class TimeseriesWriter:
    """One line per interval into an unbuffered binary file (one ``os.write`` per line)."""

    __slots__ = ("_extra_seen", "_fd", "_recorder", "_scenario_seen")

    def __init__(self, file: IO[bytes], recorder: Recorder) -> None:
        self._fd = file.fileno()
        self._recorder = recorder
        self._extra_seen: dict[str, tuple[int, int, int]] = {}
        self._scenario_seen: dict[str, tuple[int, ...]] = {}

    def write_header(self, *, started_at: datetime, interval_s: float) -> None:
        self._write(
            {
                "kind": "lgbench.timeseries",
                "schema_version": TIMESERIES_SCHEMA_VERSION,
                "started_at": started_at.isoformat(),
                "interval_s": interval_s,
            }
        )

    def write(self, snapshot: Snapshot, samples: Mapping[str, Any] | None = None) -> None:
        """The interval ``snapshot`` closed, with optional sampled figures (``server``...)."""
        line: dict[str, Any] = {
            "start_s": round(snapshot.start_s, 6),
            "end_s": round(snapshot.end_s, 6),
            "operations": self._operations(snapshot),
            "scenarios": self._scenarios(),
        }
        if samples:
            line.update(samples)
        self._write(line)

    def _operations(self, snapshot: Snapshot) -> dict[str, Any]:
        extras = self._extra_deltas()
        found: dict[str, Any] = {}
        by_operation = snapshot.operations.by_operation()
        for operation in sorted(set(by_operation) | set(extras)):
            metrics = by_operation.get(operation)
            run, cancelled, other = extras.get(operation, (0, 0, 0))
            ok = metrics.ok if metrics is not None else 0
            errors = metrics.errors if metrics is not None else 0
            if not (ok or errors or cancelled or other):
                continue
            found[operation] = {
                # The same arithmetic as summary.json's: a failed graph answered 200 (ok in
                # the histogram's outcome) but counts as an error; operations lgbench cut
                # itself are interrupted, neither counted nor errors.
                "count": ok + errors + other,
                "ok": ok - run,
                "errors": errors + run + other,
                "http_errors": (
                    {str(status): n for status, n in sorted(metrics.http_errors.items())}
                    if metrics is not None
                    else {}
                ),
                "transport_errors": metrics.transport_errors if metrics is not None else 0,
                "timeouts": metrics.timeouts if metrics is not None else 0,
                "run_errors": run,
                "other": other,
                "interrupted": cancelled,
            }
        return found

    def _extra_deltas(self) -> dict[str, tuple[int, int, int]]:
        """Run errors, interruptions and other errors since the last line, per operation."""
        totals: dict[str, list[int]] = {}
        for scope in self._recorder.operation_scopes():
            counts = totals.setdefault(scope.operation, [0, 0, 0])
            counts[0] += scope.counts.run
            counts[1] += scope.counts.cancelled
            counts[2] += scope.counts.other
        deltas: dict[str, tuple[int, int, int]] = {}
        for operation, (run, cancelled, other) in totals.items():
            seen = self._extra_seen.get(operation, (0, 0, 0))
            self._extra_seen[operation] = (run, cancelled, other)
            delta = (run - seen[0], cancelled - seen[1], other - seen[2])
            if any(delta):
                deltas[operation] = delta
        return deltas

    def _scenarios(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, stats in self._recorder.scenarios.items():
            now = tuple(getattr(stats, counter) for counter in _SCENARIO_COUNTERS)
            seen = self._scenario_seen.get(name, (0,) * len(now))
            self._scenario_seen[name] = now
            if not stats.running and now == seen and not stats.active_vus:
                continue
            entry: dict[str, Any] = {"active_vus": stats.active_vus}
            entry.update(
                (counter, value - before)
                for counter, value, before in zip(_SCENARIO_COUNTERS, now, seen, strict=True)
            )
            found[name] = entry
        return found

    def sync(self) -> None:
        """fsync the file (see the runner's durability policy)."""
        os.fsync(self._fd)

    def _write(self, line: Mapping[str, Any]) -> None:
        data = (json.dumps(line, separators=(",", ":"), allow_nan=False) + "\n").encode()
        # One write per line: a killed run leaves whole lines (a short write is retried).
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
