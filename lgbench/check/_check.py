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

:func:`check_history` holds one part of the history at a time: a streaming pass spills the
operations by thread to disk (:mod:`lgbench.check._spill`) and notes the facts that span
threads (lost lines, which thread created each run, copies whose answer was lost); then each
partition's threads are modelled and judged, and their verdicts folded into running totals
(:class:`_Verdicts`). :func:`judge_history` judges a history already in memory the same way.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
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
from lgbench.check._checkers import (
    CHECKER_FUNCTIONS,
    OVERLOADED,
    PER_THREAD,
    WRITES_END,
    Context,
    ThreadCheck,
    empty_answer,
    reply_problem,
)
from lgbench.check._events import CREATING_OPS, Event, Operation
from lgbench.check._model import ThreadModel, build_threads, graph_of, short_id
from lgbench.check._progress import Progress
from lgbench.check._reader import History, Phantom, Scan, scan_history
from lgbench.check._result import (
    MAX_EXAMPLES,
    CheckerResult,
    CheckResult,
    StrategySummary,
    ThreadResult,
)
from lgbench.check._spill import DEFAULT_PARTITION_BYTES, Spill
from lgbench.check._tenancy import TENANCY, Tenancy, policy_of
from lgbench.graphs import end_token

__all__ = [
    "DEFAULT_SLACK_S",
    "DEFAULT_STUCK_AFTER_S",
    "STATELESS",
    "check_history",
    "judge_history",
]

#: A run or thread still pending, running or busy this long with no progress on its
#: thread, after its burst settled, is stuck. Keep it above the longest run of the workload.
DEFAULT_STUCK_AFTER_S: Final = 60.0
#: How long after an interrupt or rollback run was accepted the run it cancels may still
#: be seen in flight before that counts against the server.
DEFAULT_SLACK_S: Final = 1.0
_NOT_CHECKED: Final = "not checked: no burst marker and no state read for this thread"
#: The pseudo-thread under which stateless runs are judged.
STATELESS: Final = "stateless"


def check_history(
    path_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    profile: Profile = "observed",
    stuck_after_s: float = DEFAULT_STUCK_AFTER_S,
    slack_s: float = DEFAULT_SLACK_S,
    partition_bytes: int = DEFAULT_PARTITION_BYTES,
) -> CheckResult:
    """Check a history against a semantics profile, in bounded memory.

    Args:
        path_or_paths: a history file, a run folder, or a list of files: the segments of a
            rotated history (plain and ``.gz`` mixed, any order) and/or one history per
            process of one run (merged on the wall clock).
        profile: ``"observed"`` (what the in-memory server does, its known behaviours
            accepted) or ``"documented"`` (what the LangGraph docs promise).
        stuck_after_s: seconds without progress after which a run or thread is stuck.
        slack_s: seconds a cancelled run may take to stop after the cancelling run was
            accepted.
        partition_bytes: how much spilled history one partition may hold before it is
            split again; memory while judging is about twelve times this, or what the
            largest single thread takes if that is more. The verdict does not depend on it.

    Raises:
        ValueError: unknown profile, or a parameter that is not a positive finite number.
        UsageError: a file cannot be read, a folder holds no history, or a segment is
            missing from the middle of a rotated set (a damaged file is read, not refused).
    """
    _validate(profile, stuck_after_s, slack_s)
    if isinstance(partition_bytes, bool) or not isinstance(partition_bytes, int):
        raise ValueError(f"partition_bytes must be an int, got {partition_bytes!r}")
    with Spill(partition_bytes) as spill:
        progress = Progress(spill.folder / "progress.sqlite")
        try:
            stateless = _Stateless()
            tenancy = Tenancy()
            scan = scan_history(
                path_or_paths,
                _Sink(spill, progress, stateless, tenancy),
                intern_ids=False,
                skip_empty=True,
            )
            progress.seal(scan.offsets)
            verdicts = _Verdicts(profile, scan.unknown)
            ctx = Context(
                stuck_after_s,
                slack_s,
                tuple(scan.phantoms),
                spill.runs,
                frozenset(scan.copied_unknown),
                progress,
            )
            for part in spill.partitions(scan):
                _judge_part(part, ctx, verdicts)
                del part
            verdicts.add_stateless(stateless, scan)
            verdicts.add_tenancy(tenancy, policy_of(scan.headers), scan)
            return verdicts.result(scan, scan.operations, scan.info, stuck_after_s, slack_s)
        finally:
            progress.close()


class _Sink:
    """The streaming pass's sink: operations to the spill (by thread), to the progress
    index, to the stateless runs' judge and to the tenant-isolation judge."""

    def __init__(
        self, spill: Spill | None, progress: Progress, stateless: _Stateless, tenancy: Tenancy
    ) -> None:
        self._spill = spill  # None: the history is in memory already, nothing to spill
        self._progress = progress
        self._stateless = stateless
        self._tenancy = tenancy

    def operation(self, op: Operation) -> None:
        if not op.args and not op.result and op.f not in CREATING_OPS:
            # Nothing to judge (every raw HTTP step's operation, half of most histories):
            # no thread, run or user for the spill, the progress index or the tenancy
            # judge, and not a stateless run. Skipping them is the same verdict, cheaper.
            return
        self._progress.operation(op)
        self._tenancy.operation(op)
        if op.stateless:
            self._stateless.operation(op)
        elif self._spill is not None:
            self._spill.operation(op)

    def marker(self, event: Event) -> None:
        if self._spill is not None:
            self._spill.marker(event)


class _Stateless:
    """Stateless runs (no thread), judged by their own answers: a wait or stream of a
    bundled graph given input that came back empty, or a wait whose values lack its own
    run's end token, lost the run's result (nothing else can touch a stateless run)."""

    def __init__(self) -> None:
        self.judged = 0
        self.lost = 0
        self.counts: dict[str, int] = {}
        #: The first flagged operations: anomaly type and what was wrong (on their files'
        #: clocks).
        self.flagged: list[tuple[Operation, str, str]] = []

    def operation(self, op: Operation) -> None:
        if op.outcome != "ok" or op.f not in ("runs.wait", "runs.stream"):
            return
        kind = "result_lost"
        what = empty_answer(op)
        if what is None and op.f == "runs.wait":
            what = self._without_end(op)
        if what is None and op.f == "runs.stream":
            kind, what = "reply_mismatch", reply_problem(op, may_be_cut=False)
        if (op.args.get("has_input") is True and graph_of(op.args.get("assistant_id"))) or (
            "reply" in op.result
        ):
            self.judged += 1
        if what is None:
            return
        self.lost += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self.flagged) < PER_THREAD:
            self.flagged.append((op, kind, what))

    @staticmethod
    def _without_end(op: Operation) -> str | None:
        run_id = op.run_id
        tokens = op.result.get("tokens")
        if (
            run_id is None
            or op.result.get("error")
            or op.args.get("has_input") is not True
            or graph_of(op.args.get("assistant_id")) not in WRITES_END
            or not isinstance(tokens, list)
        ):
            return None
        if end_token(run_id) in tokens:
            return None
        return f"returned values without its end:{short_id(run_id)} token"

    def anomalies(self, shift: Any) -> list[Anomaly]:
        out: list[Anomaly] = []
        for op, kind, what in self.flagged:
            op = shift(op)
            rid = op.run_id
            why = (
                ", although that graph given an input always returns values"
                if kind == "result_lost"
                else ""
            )
            out.append(
                Anomaly(
                    kind,
                    STATELESS,
                    (rid,) if rid else (),
                    f"the stateless {op.f} of {'run ' + short_id(rid) if rid else 'a run'} of "
                    f"the bundled graph {op.args.get('assistant_id')} {what} (event "
                    f"{op.ref().index}){why}",
                    (op.ref(),),
                )
            )
        return out


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
    verdicts = _Verdicts(profile, history.unknown)
    run_threads: dict[str, str] = {}
    for op in sorted(history.operations, key=lambda op: op.thread_id or ""):
        thread_id = op.thread_id
        if thread_id is not None and op.f in CREATING_OPS and op.outcome != "fail":
            run_id = op.result.get("run_id")
            if isinstance(run_id, str) and run_id:
                run_threads[run_id] = thread_id  # the greatest thread id wins
    copied_unknown = frozenset(
        op.args["thread_id"]
        for op in history.operations
        if op.f == "threads.copy"
        and op.outcome == "info"
        and isinstance(op.args.get("thread_id"), str)
    )
    progress = Progress()
    stateless = _Stateless()
    tenancy = Tenancy()
    try:
        sink = _Sink(None, progress, stateless, tenancy)
        for op in history.operations:
            sink.operation(op)
        progress.seal()
        ctx = Context(
            stuck_after_s,
            slack_s,
            tuple(history.phantoms),
            run_threads,
            copied_unknown,
            progress,
        )
        _judge_part(history, ctx, verdicts)
    finally:
        progress.close()
    verdicts.add_stateless(stateless, None)
    verdicts.add_tenancy(tenancy, policy_of(history.headers), None)
    info = sum(1 for op in history.operations if op.outcome == "info")
    return verdicts.result(history, len(history.operations), info, stuck_after_s, slack_s)


def _judge_part(part: History, ctx: Context, verdicts: _Verdicts) -> None:
    """Model and judge every thread of ``part`` (all of each thread's operations)."""
    try:
        threads = build_threads(part)
    except Exception as exc:  # a bug must not crash the run that wrote the history
        verdicts.unknown.append(f"the history could not be modelled: {type(exc).__name__}: {exc}")
        return
    for thread_id, thread in threads.items():
        raw: dict[str, ThreadCheck] = {}
        for name, check in CHECKER_FUNCTIONS.items():
            try:
                raw[name] = check(ctx, thread)
            except Exception as exc:  # a checker that raises gives unknown, never a crash
                raw[name] = ThreadCheck(error=f"{type(exc).__name__}: {exc}")
        verdicts.add(thread_id, thread, raw)


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


class _Checker:
    """One sub-checker's running totals over the threads judged so far."""

    __slots__ = ("anomalies", "error", "reasons", "threads", "unknown_count", "valid")

    def __init__(self) -> None:
        self.valid: Valid = True
        self.anomalies = 0
        self.threads = 0
        self.unknown_count = 0
        #: The first reasons in thread order: (thread id, position, reason), kept short.
        self.reasons: list[tuple[str, int, str]] = []
        self.error: tuple[str, str] | None = None

    def add(self, thread_id: str, verdict: Valid, check: ThreadCheck, profile: Profile) -> None:
        self.valid = merge_valid((self.valid, verdict))
        self.threads += 1
        self.anomalies += sum(1 for a in check.anomalies if profile in a.flagged_by)
        if verdict == UNKNOWN and check.unknown:
            self.unknown_count += len(check.unknown)
            self.reasons.extend((thread_id, i, r) for i, r in enumerate(check.unknown))
            if len(self.reasons) > MAX_EXAMPLES:
                self.reasons.sort()
                del self.reasons[MAX_EXAMPLES:]
        if check.error is not None and (self.error is None or thread_id < self.error[0]):
            self.error = (thread_id, check.error)

    def result(self, name: str) -> CheckerResult:
        self.reasons.sort()
        return CheckerResult(
            name=name,
            valid=self.valid if self.threads else True,
            anomaly_types=CHECKERS[name],
            anomalies=self.anomalies,
            threads=self.threads,
            unknown=tuple(r for _, _, r in self.reasons[:MAX_EXAMPLES]),
            unknown_count=self.unknown_count,
            error=self.error[1] if self.error is not None else None,
        )


class _Verdicts:
    """Verdicts folded in thread by thread, in any thread order; the result is the same as
    if every thread had been judged at once, in sorted order."""

    def __init__(self, profile: Profile, unknown: Iterable[str]) -> None:
        self.profile = profile
        self.unknown = list(unknown)
        self.threads: dict[str, ThreadResult] = {}
        self.anomalies: dict[tuple[str, str, tuple[str, ...]], Anomaly] = {}
        self.checkers = {name: _Checker() for name in CHECKERS}
        self.runs = 0
        #: Runs and threads not called stuck because the server may only be overloaded.
        self.overloaded = 0
        # Threads mostly share their verdicts: one dict per distinct content, not per thread.
        self._shared: dict[tuple[tuple[str, Any], ...], Mapping[str, Any]] = {}

    def _share(self, mapping: dict[str, Any]) -> Mapping[str, Any]:
        key = tuple(mapping.items())
        return self._shared.setdefault(key, mapping) if len(self._shared) < 4096 else mapping

    def add(self, thread_id: str, thread: ThreadModel, raw: Mapping[str, ThreadCheck]) -> None:
        profile = self.profile
        checked = thread.checkable
        verdicts: dict[str, Valid] = {}
        reasons: list[str] = []
        counts: dict[str, int] = {}
        self.runs += len(thread.runs)
        for name, check in raw.items():
            self.overloaded += sum(1 for r in check.unknown if r.startswith(OVERLOADED))
            for anomaly in check.anomalies:
                self.anomalies.setdefault(anomaly.key, anomaly)
                if profile in anomaly.flagged_by:
                    counts[anomaly.type] = counts.get(anomaly.type, 0) + 1
            verdict = _verdict(check, profile, checked)
            if verdict is None:
                continue
            verdicts[name] = verdict
            self.checkers[name].add(thread_id, verdict, check, profile)
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
        self.threads[thread_id] = ThreadResult(
            thread_id=thread_id,
            strategy=sys.intern(thread.strategy_label),  # one per strategy, not per thread
            checked=checked,
            valid=valid,
            runs=len(thread.runs),
            checkers=self._share(verdicts),
            anomalies=self._share(counts),
            unknown=tuple(reasons[:MAX_EXAMPLES]),
        )

    def add_stateless(self, stateless: _Stateless, scan: Scan | None) -> None:
        """The stateless runs' verdict, as the pseudo-thread :data:`STATELESS`."""
        if not stateless.judged and not stateless.lost:
            return
        shift = scan.operation if scan is not None else (lambda op: op)
        anomalies = stateless.anomalies(shift)
        check = ThreadCheck(anomalies=anomalies)
        for anomaly in anomalies:
            self.anomalies.setdefault(anomaly.key, anomaly)
        valid: Valid = not stateless.lost
        self.checkers["results"].add(STATELESS, valid, check, self.profile)
        self.checkers["results"].anomalies += stateless.lost - len(anomalies)
        self.runs += stateless.judged
        self.threads[STATELESS] = ThreadResult(
            thread_id=STATELESS,
            strategy=STATELESS,
            checked=True,
            valid=valid,
            runs=stateless.judged,
            checkers={"results": valid},
            anomalies=dict(sorted(stateless.counts.items())),
            unknown=(),
        )

    def add_tenancy(self, tenancy: Tenancy, policy: str, scan: Scan | None) -> None:
        """Tenant isolation's verdict, as the pseudo-thread :data:`TENANCY` (only when some
        operation was made as a user)."""
        if not tenancy.judged:
            return
        shift = scan.operation if scan is not None else (lambda op: op)
        anomalies, counts = tenancy.anomalies(policy, shift)
        check = ThreadCheck(anomalies=anomalies)
        for anomaly in anomalies:
            self.anomalies.setdefault(anomaly.key, anomaly)
        valid: Valid = not counts
        checker = self.checkers["isolation"]
        checker.add(TENANCY, valid, check, self.profile)
        checker.anomalies += sum(counts.values()) - len(anomalies)
        self.threads[TENANCY] = ThreadResult(
            thread_id=TENANCY,
            strategy=TENANCY,
            checked=True,
            valid=valid,
            runs=0,
            checkers={"isolation": valid},
            anomalies=dict(sorted(counts.items())),
            unknown=(),
        )

    def result(
        self,
        history: History | Scan,
        operations: int,
        info: int,
        stuck_after_s: float,
        slack_s: float,
    ) -> CheckResult:
        profile = self.profile
        unknown = self.unknown
        thread_results = dict(sorted(self.threads.items()))
        ordered = sorted(self.anomalies.values(), key=_sort_key)
        anomalies = tuple(a for a in ordered if profile in a.flagged_by)
        findings = tuple(
            a for a in ordered if "documented" in a.flagged_by and "observed" not in a.flagged_by
        )
        checkers = {name: self.checkers[name].result(name) for name in CHECKERS}
        checked_threads = [t for t in thread_results.values() if t.checked]
        if self.overloaded:
            unknown.append(
                f"{OVERLOADED}: {self.overloaded} run(s) or thread(s) stayed in flight with no "
                "run created after them finishing meanwhile, so they were not called stuck: "
                "the server was too slow to tell (lighten the load or raise --stuck-after)"
            )
        if not checked_threads:
            unknown.append(
                "no checkable thread: no burst marker, no thread state read and no stateless "
                "run result in the history: add a threads.get_state step after the runs, or "
                "keep the post-run audit on"
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
            counts=_counts(operations, info, self.runs, thread_results, anomalies, findings),
            history=_history_summary(history, operations),
            parameters={"stuck_after_s": stuck_after_s, "slack_s": slack_s},
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
    operations: int,
    info: int,
    runs: int,
    results: Mapping[str, ThreadResult],
    anomalies: Sequence[Anomaly],
    findings: Sequence[Anomaly],
) -> dict[str, int]:
    checked = [t for t in results.values() if t.checked]
    return {
        "threads": len(results),
        "threads_checked": len(checked),
        "threads_unchecked": len(results) - len(checked),
        "runs": runs,
        "runs_checked": sum(t.runs for t in checked),
        "operations": operations,
        "info": info,
        "anomalies": len(anomalies),
        "findings": len(findings),
    }


def _history_summary(history: History | Scan, operations: int) -> dict[str, Any]:
    header = history.headers[0] if history.headers else {}
    keep = ("lgbench_version", "started_at", "workload", "target", "server", "backend")
    phantoms: Sequence[Phantom] = history.phantoms
    return {
        "files": list(history.paths),
        "segments": list(history.segments),
        "header": {k: header[k] for k in keep if k in header},
        "lines": history.lines,
        "events": history.events,
        "operations": operations,
        "malformed_lines": history.malformed,
        "truncated_files": history.truncated,
        "unpaired_invokes": history.unpaired,
        "lost_worker_invokes": history.lost_in_flight,
        "lost_lines": len(phantoms),
        "partial": history.partial,
        "issues": history.issues[:MAX_EXAMPLES],
    }
