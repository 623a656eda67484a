"""The checker's result: verdicts per thread, per checker, per strategy, and check.json.

check.json (``schema_version`` 1), every key always present::

    schema_version   1
    profile          "documented" | "observed"
    valid            true | false | "unknown"   (false beats unknown beats true)
    unknown          [str]       why the top-level verdict is unknown, if it is
    parameters       {stuck_after_s, slack_s}
    history          {files, segments, header, lines, events, operations,
                      malformed_lines, truncated_files, unpaired_invokes,
                      lost_worker_invokes, lost_lines, partial, issues}
                                          files: one per history (a rotated set is one);
                                          segments: every file read, in order;
                                          lost_worker_invokes: invokes of a worker lost
                                          mid-run left without a completion (info)
    counts           {threads, threads_checked, threads_unchecked, runs, runs_checked,
                      operations, info, anomalies, findings}
    strategies       {strategy: {valid, threads, runs, anomalies: {type: n}}}
    checkers         {name: {valid, anomaly_types, anomalies, threads, unknown,
                             unknown_count, error}}
    anomalies        {type: {description, count, examples: [anomaly]}}   (8 examples)
    findings         {behaviour: {description, anomaly_types, count, examples}}
    threads          {thread_id: {strategy, checked, valid, runs, checkers: {name: valid},
                                  anomalies: {type: n}, unknown: [str]}}

An anomaly is ``{type, thread_id, run_ids, explanation, events: [{index, time_s, what}],
flagged_by, behaviour?}``; ``events`` carry a ``file`` number when several histories
were merged (the segments of one rotated history are one file, numbered as one). Dicts
are sorted by key, lists by time, so two checks of one history give identical files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, final

from lgbench._atomic import write_atomically
from lgbench.check._anomalies import (
    ANOMALY_TYPES,
    BEHAVIOURS,
    Anomaly,
    Profile,
    Valid,
)

__all__ = [
    "CHECK_SCHEMA_VERSION",
    "MAX_EXAMPLES",
    "CheckResult",
    "CheckerResult",
    "StrategySummary",
    "ThreadResult",
    "write_check_json",
]

#: The version of check.json's schema.
CHECK_SCHEMA_VERSION: Final = 1
#: Examples kept per anomaly type (and per finding, and unknown reasons per checker).
MAX_EXAMPLES: Final = 8


@final
@dataclass(frozen=True, slots=True)
class CheckerResult:
    """One sub-checker's verdict over every thread it applies to."""

    name: str
    valid: Valid
    anomaly_types: tuple[str, ...]
    anomalies: int
    threads: int
    unknown: tuple[str, ...]
    unknown_count: int
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "anomaly_types": list(self.anomaly_types),
            "anomalies": self.anomalies,
            "threads": self.threads,
            "unknown": list(self.unknown),
            "unknown_count": self.unknown_count,
            "error": self.error,
        }


@final
@dataclass(frozen=True, slots=True)
class ThreadResult:
    """One thread's verdict; ``checked`` is False for threads nothing made checkable."""

    thread_id: str
    strategy: str
    checked: bool
    valid: Valid
    runs: int
    checkers: Mapping[str, Valid]
    anomalies: Mapping[str, int]
    unknown: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "checked": self.checked,
            "valid": self.valid,
            "runs": self.runs,
            "checkers": dict(self.checkers),
            "anomalies": dict(sorted(self.anomalies.items())),
            "unknown": list(self.unknown),
        }


@final
@dataclass(frozen=True, slots=True)
class StrategySummary:
    """The verdict over the threads of one multitask strategy."""

    strategy: str
    valid: Valid
    threads: int
    runs: int
    anomalies: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "threads": self.threads,
            "runs": self.runs,
            "anomalies": dict(sorted(self.anomalies.items())),
        }


@final
@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :func:`~lgbench.check.check_history` found.

    ``valid`` is True, False or ``"unknown"``; ``anomalies`` are those the chosen profile
    flags (every one, uncapped); ``findings`` are those the documented profile flags and
    the observed one accepts, whatever the chosen profile.
    """

    profile: Profile
    valid: Valid
    unknown: tuple[str, ...]
    anomalies: tuple[Anomaly, ...]
    findings: tuple[Anomaly, ...]
    checkers: Mapping[str, CheckerResult]
    threads: Mapping[str, ThreadResult]
    strategies: Mapping[str, StrategySummary]
    counts: Mapping[str, int]
    history: Mapping[str, Any]
    parameters: Mapping[str, float]

    @property
    def _with_file(self) -> bool:
        return len(self.history.get("files", ())) > 1

    def anomaly_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for anomaly in self.anomalies:
            counts[anomaly.type] = counts.get(anomaly.type, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        """check.json's content (see the module docstring)."""
        with_file = self._with_file
        anomalies: dict[str, Any] = {}
        for kind, count in self.anomaly_counts().items():
            examples = [a for a in self.anomalies if a.type == kind][:MAX_EXAMPLES]
            anomalies[kind] = {
                "description": ANOMALY_TYPES[kind],
                "count": count,
                "examples": [a.to_dict(with_file=with_file) for a in examples],
            }
        findings: dict[str, Any] = {}
        for behaviour in sorted({a.behaviour or "" for a in self.findings}):
            found = [a for a in self.findings if (a.behaviour or "") == behaviour]
            findings[behaviour or "other"] = {
                "description": BEHAVIOURS.get(behaviour, "flagged by the documented profile only"),
                "anomaly_types": sorted({a.type for a in found}),
                "count": len(found),
                "examples": [a.to_dict(with_file=with_file) for a in found[:MAX_EXAMPLES]],
            }
        return {
            "schema_version": CHECK_SCHEMA_VERSION,
            "profile": self.profile,
            "valid": self.valid,
            "unknown": list(self.unknown),
            "parameters": dict(self.parameters),
            "history": dict(self.history),
            "counts": dict(self.counts),
            "strategies": {k: v.to_dict() for k, v in sorted(self.strategies.items())},
            "checkers": {k: v.to_dict() for k, v in self.checkers.items()},
            "anomalies": anomalies,
            "findings": findings,
            "threads": {k: v.to_dict() for k, v in sorted(self.threads.items())},
        }


def write_check_json(result: CheckResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` as check.json (UTF-8, indented, a trailing newline); returns the path.

    The file is written to a temporary name beside it and renamed, so a reader never sees
    half a file. Raises OSError when the directory is not writable.
    """
    return write_atomically(
        path, json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )
