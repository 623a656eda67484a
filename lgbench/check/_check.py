"""check_history: read a history, run every sub-checker on every thread, merge verdicts.

Which threads are judged: a thread is *checked* when it took part in a burst (markers) or
its state was read (``threads.get_state``); only those can pass. Any other thread (e.g. a
chat scenario's, never observed) is counted but not judged, except that an anomaly proven
on it still counts. A history with no checked thread is ``unknown``, never a vacuous pass.

Per checker and thread the verdict is ``False`` when the chosen profile flags one of its
anomalies, ``"unknown"`` when the checker raised or says what it could not see, ``True``
otherwise; a checker that does not apply to a thread (no reject run on it, say) gives no
verdict there. Threads, checkers, strategies and the whole history merge their verdicts:
false beats unknown beats true.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

from lgbench.check._anomalies import (
    CHECKERS,
    PROFILES,
    UNKNOWN,
    Anomaly,
    Profile,
    Valid,
    merge_valid,
)
from lgbench.check._checkers import CHECKER_FUNCTIONS, Context, ThreadCheck
from lgbench.check._model import ThreadModel, build_threads
from lgbench.check._reader import History, read_history
from lgbench.check._result import (
    MAX_EXAMPLES,
    CheckerResult,
    CheckResult,
    StrategySummary,
    ThreadResult,
)

__all__ = ["DEFAULT_SLACK_S", "DEFAULT_STUCK_AFTER_S", "check_history", "judge_history"]

#: A run or thread still pending, running or busy this long with no progress on its
#: thread, after its burst settled, is stuck. Keep it above the longest run of the workload.
DEFAULT_STUCK_AFTER_S: Final = 60.0
#: How long after an interrupt or rollback run was accepted the run it cancels may still
#: be seen in flight before that counts against the server.
DEFAULT_SLACK_S: Final = 1.0
_NOT_CHECKED: Final = "not checked: no burst marker and no state read for this thread"


def check_history(
    path_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    profile: Profile = "observed",
    stuck_after_s: float = DEFAULT_STUCK_AFTER_S,
    slack_s: float = DEFAULT_SLACK_S,
) -> CheckResult:
    """Check one history.jsonl (or several, merged) against a semantics profile.

    Args:
        path_or_paths: a history file, or a list of them (one per process of one run).
        profile: ``"observed"`` (what the in-memory server does, its known behaviours
            accepted) or ``"documented"`` (what the LangGraph docs promise).
        stuck_after_s: seconds without progress after which a run or thread is stuck.
        slack_s: seconds a cancelled run may take to stop after the cancelling run was
            accepted.

    Raises:
        ValueError: unknown profile, or a parameter that is not a positive finite number.
        UsageError: a file cannot be read (a damaged file is read, not refused).
    """
    _validate(profile, stuck_after_s, slack_s)
    history = read_history(path_or_paths)
    return judge_history(history, profile=profile, stuck_after_s=stuck_after_s, slack_s=slack_s)


def _validate(profile: str, stuck_after_s: float, slack_s: float) -> None:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    for name, value in (("stuck_after_s", stuck_after_s), ("slack_s", slack_s)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def judge_history(
    history: History,
    *,
    profile: Profile = "observed",
    stuck_after_s: float = DEFAULT_STUCK_AFTER_S,
    slack_s: float = DEFAULT_SLACK_S,
) -> CheckResult:
    """Check an already read :class:`History` (see :func:`check_history`)."""
    _validate(profile, stuck_after_s, slack_s)
    unknown = list(history.unknown)
    try:
        threads = build_threads(history)
    except Exception as exc:  # a bug must not crash the run that wrote the history
        threads = {}
        unknown.append(f"the history could not be modelled: {type(exc).__name__}: {exc}")
    run_threads = {c.run_id: t.thread_id for t in threads.values() for c in t.creations if c.run_id}
    copied_unknown = frozenset(
        op.args["thread_id"]
        for op in history.operations
        if op.f == "threads.copy"
        and op.outcome == "info"
        and isinstance(op.args.get("thread_id"), str)
    )
    ctx = Context(stuck_after_s, slack_s, tuple(history.phantoms), run_threads, copied_unknown)
    raw: dict[str, dict[str, ThreadCheck]] = {}
    for thread_id, thread in threads.items():
        raw[thread_id] = {}
        for name, check in CHECKER_FUNCTIONS.items():
            try:
                raw[thread_id][name] = check(ctx, thread)
            except Exception as exc:  # a checker that raises gives unknown, never a crash
                raw[thread_id][name] = ThreadCheck(error=f"{type(exc).__name__}: {exc}")
    return _assemble(history, threads, raw, profile, unknown, stuck_after_s, slack_s)


def _verdict(check: ThreadCheck, profile: Profile, checked: bool) -> Valid | None:
    if check.error is not None:
        return UNKNOWN
    if any(profile in a.flagged_by for a in check.anomalies):
        return False
    if not checked or not check.applicable:
        return None
    return UNKNOWN if check.unknown else True


def _sort_key(anomaly: Anomaly) -> tuple[str, float, str, tuple[str, ...]]:
    return (anomaly.type, anomaly.first_time_s, anomaly.thread_id, anomaly.run_ids)


def _assemble(
    history: History,
    threads: Mapping[str, ThreadModel],
    raw: Mapping[str, Mapping[str, ThreadCheck]],
    profile: Profile,
    unknown: list[str],
    stuck_after_s: float,
    slack_s: float,
) -> CheckResult:
    every: dict[tuple[str, str, tuple[str, ...]], Anomaly] = {}
    thread_results: dict[str, ThreadResult] = {}
    per_checker: dict[str, list[tuple[Valid, ThreadCheck]]] = {name: [] for name in CHECKERS}
    for thread_id, thread in threads.items():
        checked = thread.checkable
        verdicts: dict[str, Valid] = {}
        reasons: list[str] = []
        counts: dict[str, int] = {}
        for name, check in raw[thread_id].items():
            for anomaly in check.anomalies:
                every.setdefault(anomaly.key, anomaly)
                if profile in anomaly.flagged_by:
                    counts[anomaly.type] = counts.get(anomaly.type, 0) + 1
            verdict = _verdict(check, profile, checked)
            if verdict is None:
                continue
            verdicts[name] = verdict
            per_checker[name].append((verdict, check))
            if verdict == UNKNOWN:
                reasons.extend(
                    [f"{name}: {check.error}"]
                    if check.error
                    else [f"{name}: {r}" for r in check.unknown]
                )
        valid = merge_valid(verdicts.values())
        if not checked:
            valid = False if valid is False else UNKNOWN
            reasons = [*reasons, _NOT_CHECKED] if valid is not False else reasons
        thread_results[thread_id] = ThreadResult(
            thread_id=thread_id,
            strategy=thread.strategy_label,
            checked=checked,
            valid=valid,
            runs=len(thread.runs),
            checkers=verdicts,
            anomalies=counts,
            unknown=tuple(reasons[:MAX_EXAMPLES]),
        )
    ordered = sorted(every.values(), key=_sort_key)
    anomalies = tuple(a for a in ordered if profile in a.flagged_by)
    findings = tuple(
        a for a in ordered if "documented" in a.flagged_by and "observed" not in a.flagged_by
    )
    checkers = {name: _checker_result(name, per_checker[name], profile) for name in CHECKERS}
    checked_threads = [t for t in thread_results.values() if t.checked]
    if not checked_threads:
        unknown.append(
            "no checkable thread: no burst marker and no threads.get_state in the history"
        )
    valid = merge_valid([c.valid for c in checkers.values()] + ([UNKNOWN] if unknown else []))
    return CheckResult(
        profile=profile,
        valid=valid,
        unknown=tuple(unknown),
        anomalies=anomalies,
        findings=findings,
        checkers=checkers,
        threads=thread_results,
        strategies=_strategies(thread_results),
        counts=_counts(history, threads, thread_results, anomalies, findings),
        history=_history_summary(history),
        parameters={"stuck_after_s": stuck_after_s, "slack_s": slack_s},
    )


def _checker_result(
    name: str, judged: Sequence[tuple[Valid, ThreadCheck]], profile: Profile
) -> CheckerResult:
    reasons = [r for verdict, check in judged if verdict == UNKNOWN for r in check.unknown]
    errors = [check.error for _, check in judged if check.error is not None]
    return CheckerResult(
        name=name,
        valid=merge_valid(v for v, _ in judged),
        anomaly_types=CHECKERS[name],
        anomalies=sum(1 for _, check in judged for a in check.anomalies if profile in a.flagged_by),
        threads=len(judged),
        unknown=tuple(reasons[:MAX_EXAMPLES]),
        unknown_count=len(reasons),
        error=errors[0] if errors else None,
    )


def _strategies(threads: Mapping[str, ThreadResult]) -> dict[str, StrategySummary]:
    groups: dict[str, list[ThreadResult]] = {}
    for result in threads.values():
        if result.checked or result.valid is False:
            groups.setdefault(result.strategy, []).append(result)
    out: dict[str, StrategySummary] = {}
    for strategy, members in sorted(groups.items()):
        counts: dict[str, int] = {}
        for member in members:
            for kind, n in member.anomalies.items():
                counts[kind] = counts.get(kind, 0) + n
        out[strategy] = StrategySummary(
            strategy=strategy,
            valid=merge_valid(m.valid for m in members),
            threads=len(members),
            runs=sum(m.runs for m in members),
            anomalies=counts,
        )
    return out


def _counts(
    history: History,
    threads: Mapping[str, ThreadModel],
    results: Mapping[str, ThreadResult],
    anomalies: Sequence[Anomaly],
    findings: Sequence[Anomaly],
) -> dict[str, int]:
    checked = [t for t in results.values() if t.checked]
    return {
        "threads": len(results),
        "threads_checked": len(checked),
        "threads_unchecked": len(results) - len(checked),
        "runs": sum(len(t.runs) for t in threads.values()),
        "runs_checked": sum(t.runs for t in checked),
        "operations": len(history.operations),
        "info": sum(1 for op in history.operations if op.outcome == "info"),
        "anomalies": len(anomalies),
        "findings": len(findings),
    }


def _history_summary(history: History) -> dict[str, Any]:
    header = history.headers[0] if history.headers else {}
    keep = ("lgbench_version", "started_at", "workload", "target", "server", "backend")
    return {
        "files": list(history.paths),
        "header": {k: header[k] for k in keep if k in header},
        "lines": history.lines,
        "events": history.events,
        "operations": len(history.operations),
        "malformed_lines": history.malformed,
        "truncated_files": history.truncated,
        "unpaired_invokes": history.unpaired,
        "lost_lines": len(history.phantoms),
        "partial": history.partial,
        "issues": history.issues[:MAX_EXAMPLES],
    }
