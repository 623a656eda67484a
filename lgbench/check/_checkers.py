"""The sub-checkers: one per anomaly family, each judging one thread at a time.

A checker returns a :class:`ThreadCheck`: the anomalies it can prove (each saying which
profiles flag it), the reasons it cannot judge (``unknown``), and whether it applies to
the thread at all. Every proof rests on time windows that do not overlap
(see :mod:`lgbench.check._model`); an ``info`` operation is never part of a proof, it can
only excuse (an info'd create may have created the run nobody else did) or block one.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from lgbench.check._anomalies import BOTH, DOCUMENTED_ONLY, Anomaly, Profile
from lgbench.check._events import FINAL_STATUSES, INF, EventRef, Operation
from lgbench.check._model import (
    ABSENT,
    UNKNOWN_STRATEGY,
    Creation,
    RunModel,
    Snapshot,
    StatusObs,
    ThreadModel,
    graph_of,
    short_id,
)
from lgbench.check._progress import NO_PROGRESS, Progress
from lgbench.check._reader import Phantom
from lgbench.graphs import end_token, reply_text, reply_tokens
from lgbench.operations import operation_names

__all__ = [
    "CHECKER_FUNCTIONS",
    "OVERLOADED",
    "PER_THREAD",
    "WRITES_END",
    "Context",
    "ThreadCheck",
    "coverage_gap",
    "empty_answer",
    "reply_problem",
]

_REPLY_TOKEN: Final = re.compile(r"t(\d+)\.\d+-")

#: How an ``unknown`` reason that blames a slow server, not a stuck run, begins.
OVERLOADED: Final = "server overloaded"

_RANK: Final = {"pending": 0, "running": 1} | {s: 2 for s in FINAL_STATUSES}
#: Stream modes that yield at least one event for every bundled graph that runs.
_ALWAYS_EMITTING: Final = frozenset(
    {"values", "updates", "debug", "tasks", "checkpoints", "events"}
)
_OBSERVED_ONLY: Final[frozenset[Profile]] = frozenset({"observed"})
#: Operations that create a run and answer with its outcome (a wait, a stream).
_CREATE_AND_FOLLOW: Final = operation_names(lambda op: op.creates_run and op.follows_run)
#: Operations that stream one run's events (its own stream, or a join of it).
_RUN_STREAMS: Final = operation_names(lambda op: op.follows_run and op.streams)
#: Strategies whose create may cancel runs in flight (a lost invoke line: may be either).
_CANCELLING: Final = frozenset({"interrupt", "rollback", UNKNOWN_STRATEGY})
#: At most this many anomalies of one family are listed per thread (the verdict is False
#: from the first; a pathological thread must not cost quadratic memory).
PER_THREAD: Final = 64


@dataclass(frozen=True, slots=True)
class Context:
    """What every checker may read besides its thread."""

    stuck_after_s: float
    slack_s: float
    phantoms: Sequence[Phantom]
    #: Run id → the thread a create put it on (to tell a run that leaked across threads).
    run_threads: Mapping[str, str]
    #: Threads copied by a threads.copy whose answer was lost: any thread may be the copy.
    copied_unknown: frozenset[str] = frozenset()
    #: Where the server made progress over the whole history (for stuck vs overloaded).
    progress: Progress = field(default_factory=lambda: NO_PROGRESS)
    #: How long the observed profile lets a thread read busy after its last run ended.
    busy_grace_s: float = 10.0


@dataclass(slots=True)
class ThreadCheck:
    """One checker's judgement of one thread."""

    applicable: bool = True
    anomalies: list[Anomaly] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    error: str | None = None


def _run(run_id: str) -> str:
    return f"run {short_id(run_id)}"


def _thread(thread: ThreadModel) -> str:
    return f"thread {short_id(thread.thread_id)}"


def coverage_gap(thread: ThreadModel) -> str | None:
    """Why the thread's state reads cannot show every run's tokens, or None if they can.

    The reasons say what the history lacked and what would supply it.
    """
    states = thread.reads
    if not states:
        return (
            f"no state read of {_thread(thread)} (threads.get_state, threads.get or "
            "threads.search): add one "
            "after its runs, or keep the post-run audit on"
        )
    if not any(s.present for s in states) and any(
        o.status in ("running", "success", "error")
        for r in thread.runs.values()
        for o in r.statuses
    ):
        return (
            f"the state of {_thread(thread)} never held a tokens list although runs executed "
            "on it: its graph does not record run tokens (run lgbench's bundled graphs to "
            "check a server's run semantics)"
        )
    if thread.is_burst and thread.settle is None:
        return f"no burst.settled marker for {_thread(thread)}: the history may be cut short"
    last = states[-1]
    for run in thread.accepted_runs:
        done_by = run.done_by
        if done_by == INF:
            return (
                f"{_run(run.run_id)} on {_thread(thread)} was never observed final: wait for "
                "it (runs.join, runs.get) or give the post-run audit more time"
            )
        if last.lo < done_by:
            return (
                f"no state read of {_thread(thread)} after {_run(run.run_id)} was seen final: "
                "read the thread after its runs end, or keep the post-run audit on"
            )
    return None


def _maximal(snapshots: Sequence[Snapshot]) -> list[Snapshot]:
    """The reads whose tokens are not a prefix of the next read's (tokens only append,
    so these hold every token ever seen, rollbacks included)."""
    out: list[Snapshot] = []
    for i, snap in enumerate(snapshots):
        if i + 1 < len(snapshots):
            nxt = snapshots[i + 1].tokens
            if len(nxt) >= len(snap.tokens) and nxt[: len(snap.tokens)] == snap.tokens:
                continue
        if out and out[-1].tokens == snap.tokens:
            continue
        out.append(snap)
    return out


def _maximal_reads(thread: ThreadModel) -> list[Snapshot]:
    """The reads to judge the order of tokens in, each kind on its own. A thread read's
    values may be an older checkpoint's (a server may refresh them only when a run ends),
    but they were the thread's state at some instant: the order of their tokens is
    evidence, though their time is not."""
    return [
        snap
        for kind in ("state", "thread", "result")
        for snap in _maximal([s for s in thread.snapshots if s.kind == kind])
    ]


# -- concurrency ----------------------------------------------------------------------------


def check_concurrency(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    out = ThreadCheck()
    pairs: set[tuple[str, str]] = set()
    for snap in _maximal_reads(thread):
        # Runs started and not yet ended at this point of the read (and ending later in it).
        running: dict[str, int] = {}
        for i, (kind, rid) in enumerate(snap.tokens):
            if kind == "end":
                running.pop(rid, None)
                continue
            if snap.first[(kind, rid)] != i:
                continue
            end = snap.first.get(("end", rid))
            for other in running:
                if other != rid and (other, rid) not in pairs and len(pairs) < PER_THREAD:
                    pairs.add((other, rid))
                    out.anomalies.append(
                        Anomaly(
                            "concurrent_runs",
                            thread.thread_id,
                            (other, rid),
                            f"{_run(rid)} started before {_run(other)} ended on "
                            f"{_thread(thread)}: the read at event {snap.ref().index} holds "
                            f"start:{short_id(other)} … start:{short_id(rid)} … "
                            f"end:{short_id(other)}",
                            (snap.ref(),),
                        )
                    )
            if end is not None and end > i:
                running[rid] = i
    for listing in thread.lists:
        listed = sorted(rid for rid, status in listing.runs.items() if status == "running")
        if len(listed) >= 2 and (listed[0], listed[1]) not in pairs:
            pairs.add((listed[0], listed[1]))
            out.anomalies.append(
                Anomaly(
                    "concurrent_runs",
                    thread.thread_id,
                    tuple(listed),
                    f"{len(listed)} runs were listed running at once on {_thread(thread)} "
                    f"by the runs.list at event {listing.op.ref().index}",
                    (listing.op.ref(f"runs.list ok: {len(listed)} running"),),
                )
            )
    _concurrent_statuses(thread, pairs, out)
    if not out.anomalies:
        gap = coverage_gap(thread)
        if gap:
            out.unknown.append(gap)
    return out


def _concurrent_statuses(
    thread: ThreadModel, pairs: set[tuple[str, str]], out: ThreadCheck
) -> None:
    """A was seen running before and after B was seen running: both ran at once.

    A sweep over the runs' proven running spans (first ``running`` answered, last one
    sent), keeping the two spans that reach furthest, so any thread size costs n log n.
    """
    spans: list[tuple[float, float, str, StatusObs, StatusObs]] = []
    queries: list[tuple[float, float, str, StatusObs]] = []
    for run in thread.runs.values():
        seen = [o for o in run.statuses if o.status == "running"]
        if not seen:
            continue
        first = min(seen, key=lambda o: o.hi)
        last = max(seen, key=lambda o: o.lo)
        if first.hi < last.lo:
            spans.append((first.hi, last.lo, run.run_id, first, last))
        queries.extend((o.lo, o.hi, run.run_id, o) for o in seen)
    if not spans:
        return
    spans.sort(key=lambda span: span[0])
    queries.sort(key=lambda query: query[0])
    best: list[tuple[float, float, str, StatusObs, StatusObs]] = []
    added = 0
    for lo, hi, b, y in queries:
        while added < len(spans) and spans[added][0] < lo:
            best = sorted([*best, spans[added]], key=lambda span: -span[1])[:2]
            added += 1
        span = next((sp for sp in best if sp[2] != b), None)
        if span is None or span[1] <= hi or len(pairs) >= PER_THREAD:
            continue
        _, _, a, first, last = span
        if (a, b) in pairs or (b, a) in pairs:
            continue
        pairs.add((a, b))
        out.anomalies.append(
            Anomaly(
                "concurrent_runs",
                thread.thread_id,
                (a, b),
                f"{_run(b)} was running on {_thread(thread)} while {_run(a)} was seen running "
                f"both before (event {first.ref().index}) and after (event {last.ref().index})",
                (first.ref(), y.ref(), last.ref()),
            )
        )


# -- fifo -----------------------------------------------------------------------------------


def check_fifo(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    runs = [r for r in thread.accepted_runs if r.creation is not None and not r.creation.delayed]
    queued = [r for r in runs if r.strategy == "enqueue"]
    if not queued or len(runs) < 2:
        return ThreadCheck(applicable=False)
    out = ThreadCheck()
    by_hi = sorted(runs, key=lambda r: _creation(r).hi)
    his = [_creation(r).hi for r in by_hi]
    flagged: set[tuple[str, str]] = set()
    # 1. Start tokens out of creation order in one read.
    for snap in _maximal_reads(thread):
        pos = {rid: i for (kind, rid), i in snap.first.items() if kind == "start"}
        best: tuple[int, RunModel] | None = None
        prefix: list[tuple[int, RunModel] | None] = []
        for r in by_hi:
            p = pos.get(r.run_id)
            if p is not None and (best is None or p > best[0]):
                best = (p, r)
            prefix.append(best)
        for b in queued:
            pb = pos.get(b.run_id)
            n = bisect.bisect_left(his, _creation(b).lo)
            earlier = prefix[n - 1] if n else None
            if pb is None or earlier is None or earlier[0] <= pb:
                continue
            a = earlier[1]
            if (a.run_id, b.run_id) in flagged or len(flagged) >= PER_THREAD:
                continue
            flagged.add((a.run_id, b.run_id))
            out.anomalies.append(
                Anomaly(
                    "fifo_violation",
                    thread.thread_id,
                    (a.run_id, b.run_id),
                    f"{_run(b.run_id)} started before {_run(a.run_id)} on {_thread(thread)} "
                    f"although {short_id(a.run_id)}'s create returned (event "
                    f"{_creation(a).ref().index}) before {short_id(b.run_id)}'s was sent "
                    f"(event {_creation(b).op.invoke_ref.index}), under enqueue",
                    (_creation(a).ref(), _creation(b).op.invoke_ref, snap.ref()),
                )
            )
    # 2. A later run started while an earlier one was still seen pending. For each earlier
    # run: among the runs created after it, the one that provably started first.
    started = sorted(
        (
            (_creation(b).lo, evidence[0], b, evidence[1])
            for b in queued
            if (evidence := _start_evidence(thread, b)) is not None
        ),
        key=lambda item: item[0],
    )
    created = [item[0] for item in started]
    earliest: list[tuple[float, RunModel, EventRef] | None] = [None] * (len(started) + 1)
    for i in range(len(started) - 1, -1, -1):
        _, t, b, ref = started[i]
        later = earliest[i + 1]
        earliest[i] = (t, b, ref) if later is None or t <= later[0] else later
    for a in runs:
        pending = [o for o in a.statuses if o.status == "pending"]
        if not pending or len(flagged) >= PER_THREAD:
            continue
        late = max(pending, key=lambda o: o.lo)
        first = earliest[bisect.bisect_right(created, _creation(a).hi)]
        if first is None or first[0] > late.lo:
            continue
        _, b, ref = first
        if b is a or (a.run_id, b.run_id) in flagged:
            continue
        flagged.add((a.run_id, b.run_id))
        out.anomalies.append(
            Anomaly(
                "fifo_violation",
                thread.thread_id,
                (a.run_id, b.run_id),
                f"{_run(b.run_id)} started on {_thread(thread)} while {_run(a.run_id)}, "
                f"created before it, was still pending (event {late.ref().index}), under "
                "enqueue",
                (_creation(a).ref(), ref, late.ref()),
            )
        )
    if not out.anomalies:
        gap = coverage_gap(thread)
        if gap:
            out.unknown.append(gap)
    return out


def _creation(run: RunModel) -> Creation:
    assert run.creation is not None
    return run.creation


def _start_evidence(thread: ThreadModel, run: RunModel) -> tuple[float, EventRef] | None:
    """The earliest time by which the run had provably started executing."""
    best: tuple[float, EventRef] | None = None
    for obs in run.statuses:
        if obs.status in ("running", "success", "error", "timeout") and (
            best is None or obs.hi < best[0]
        ):
            best = (obs.hi, obs.ref())
    snap = thread.started(run)
    if snap is not None and (best is None or snap.hi < best[0]):
        best = (snap.hi, snap.ref())
    return best


# -- duplicates -----------------------------------------------------------------------------


def check_duplicates(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    out = ThreadCheck()
    flagged: set[str] = set()
    for snap in _maximal_reads(thread):
        counts: dict[tuple[str, str], int] = {}
        for token in snap.tokens:
            counts[token] = counts.get(token, 0) + 1
        for (kind, rid), n in sorted(counts.items()):
            if n > 1 and rid not in flagged:
                flagged.add(rid)
                out.anomalies.append(
                    Anomaly(
                        "duplicate_execution",
                        thread.thread_id,
                        (rid,),
                        f"{_run(rid)} executed more than once on {_thread(thread)}: the read "
                        f"at event {snap.ref().index} holds {kind}:{short_id(rid)} {n} times",
                        (snap.ref(),),
                    )
                )
    if not out.anomalies:
        gap = coverage_gap(thread)
        if gap:
            out.unknown.append(gap)
    return out


# -- unexpected -----------------------------------------------------------------------------


def check_unexpected(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    out = ThreadCheck()
    strangers = sorted(
        (r for r in thread.runs.values() if r.creation is None and r.first_seen is not None),
        key=lambda r: (r.first_seen_hi, r.run_id),
    )
    # Creates that may have made a run whose id we never learnt: info'd, or ok without one.
    spare = sorted(
        (c for c in thread.creations if c.maybe and c.run_id is None), key=lambda c: c.lo
    )
    used: set[int] = set()
    for run in strangers:
        assert run.first_seen is not None
        home = ctx.run_threads.get(run.run_id)
        if home is not None and home != thread.thread_id:
            if home in thread.copied_from or home in ctx.copied_unknown:
                continue  # a copy of its thread carries its tokens
            out.anomalies.append(
                Anomaly(
                    "unexpected_run",
                    thread.thread_id,
                    (run.run_id,),
                    f"{_run(run.run_id)}, created on thread {short_id(home)}, appeared on "
                    f"{_thread(thread)} (event {run.first_seen.index})",
                    (run.first_seen,),
                )
            )
            continue
        match = next(
            (i for i, c in enumerate(spare) if i not in used and c.lo < run.first_seen_hi), None
        )
        if match is not None:
            used.add(match)
            continue
        if any(c.lo < run.first_seen_hi for c in thread.crons):
            continue
        phantom = next(
            (p for p in ctx.phantoms if p.concerns(thread.thread_id) and p.lo < run.first_seen_hi),
            None,
        )
        if phantom is not None:
            out.unknown.append(
                f"{_run(run.run_id)} on {_thread(thread)} has no create, but one may be the "
                f"unreadable line {phantom.line} of history file {phantom.file}"
            )
            continue
        out.anomalies.append(
            Anomaly(
                "unexpected_run",
                thread.thread_id,
                (run.run_id,),
                f"{_run(run.run_id)} appeared on {_thread(thread)} (event "
                f"{run.first_seen.index}) but no create, not even an unanswered one, could "
                "have made it",
                (run.first_seen,),
            )
        )
    if not out.anomalies and not thread.lists:
        gap = coverage_gap(thread)
        if gap:
            out.unknown.append(gap)
    return out


# -- lost -----------------------------------------------------------------------------------


def check_lost(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    runs = thread.accepted_runs
    if not runs:
        return ThreadCheck(applicable=False)
    out = ThreadCheck()
    rollbacks = _Rollbacks.of(thread)
    for run in runs:
        created = _creation(run)
        if _executed_or_final(thread, run):
            continue
        vanished = _vanished(run, created.hi)
        if vanished is None:
            if not any(o.lo > created.hi for o in run.statuses) and not any(
                listing.op.lo > created.hi for listing in thread.lists
            ):
                out.unknown.append(
                    f"{_run(run.run_id)} on {_thread(thread)} was never observed after it "
                    "was accepted"
                )
            continue
        excuse = _deletion_excuse(thread, rollbacks, run, vanished[0])
        if excuse is not None:
            continue
        phantom = _phantom(ctx, thread, vanished[0])
        if phantom is not None:
            out.unknown.append(
                f"{_run(run.run_id)} on {_thread(thread)} was gone at event {vanished[1].index}, "
                f"and {phantom} may have been the rollback or delete that removed it"
            )
            continue
        out.anomalies.append(
            Anomaly(
                "lost_run",
                thread.thread_id,
                (run.run_id,),
                f"{_run(run.run_id)} was accepted on {_thread(thread)} (event "
                f"{created.ref().index}) but never executed nor reached a final status: "
                f"it was gone at event {vanished[1].index}, and no rollback, cancel or "
                "delete explains it",
                (created.ref(), vanished[1]),
            )
        )
    return out


def _executed_or_final(thread: ThreadModel, run: RunModel) -> bool:
    if thread.started(run) is not None or thread.ended(run) is not None or run.finished:
        return True
    return any(o.status == "running" or o.final for o in run.statuses)


def _vanished(run: RunModel, after: float) -> tuple[float, EventRef] | None:
    """Evidence that the run was gone after its create returned: a 404, or its absence from
    a list that was not full (the model records both as :data:`ABSENT`)."""
    for obs in run.statuses:
        if obs.status == ABSENT and obs.lo > after:
            return (obs.hi, obs.ref())
    return None


def _action(op: Operation) -> str | None:
    """A cancel's action; None when its invoke line was lost (it may have been either)."""
    if op.invoke is None:
        return None
    action = op.args.get("action")
    return action if isinstance(action, str) else "interrupt"


def _phantom(ctx: Context, thread: ThreadModel, before: float, after: float = -INF) -> str | None:
    """A lost line that may hide an operation on the thread, sent in ``(after, before)``."""
    for p in ctx.phantoms:
        if p.concerns(thread.thread_id) and p.lo < before and p.hi > after:
            return f"the unreadable line {p.line} of history file {p.file}"
    return None


@dataclass(frozen=True, slots=True)
class _Rollbacks:
    """A thread's rollback creates (ok or info, or of unknown strategy), by send time, with
    the two latest answers among those sent so far (to answer "any sent before t and
    answered after u, other than this one" in log time)."""

    los: list[float]
    top: list[tuple[tuple[float, int], ...]]

    @classmethod
    def of(cls, thread: ThreadModel) -> _Rollbacks:
        creates = sorted(
            (
                c
                for c in thread.creations
                if c.maybe and c.strategy in ("rollback", UNKNOWN_STRATEGY)
            ),
            key=lambda c: c.lo,
        )
        top: list[tuple[tuple[float, int], ...]] = []
        best: tuple[tuple[float, int], ...] = ()
        for c in creates:
            best = tuple(sorted((*best, (c.hi, id(c))), reverse=True)[:2])
            top.append(best)
        return cls([c.lo for c in creates], top)

    def any(self, sent_before: float, answered_after: float, besides: Creation) -> bool:
        at = bisect.bisect_left(self.los, sent_before)
        if not at:
            return False
        return any(hi > answered_after and key != id(besides) for hi, key in self.top[at - 1])


def _deletion_excuse(
    thread: ThreadModel, rollbacks: _Rollbacks, run: RunModel, by: float
) -> object | None:
    """What may have deleted the run before ``by``: a rollback create that may have come
    after it, its own rollback cancel or delete, or the thread's delete."""
    created = _creation(run)
    if rollbacks.any(by, created.lo, created):
        return rollbacks
    for op in run.cancels:
        if op.lo < by and (op.f == "runs.delete" or _action(op) in ("rollback", None)):
            return op
    for op in thread.deletes:
        if op.f == "threads.delete" and op.lo < by:
            return op
    return None


# -- stuck ----------------------------------------------------------------------------------


def _changes(ctx: Context, thread: ThreadModel) -> list[tuple[float, float]]:
    """Windows in which something on the thread changed (a status, its tokens, a create),
    or may have (a lost line)."""
    out: list[tuple[float, float]] = []

    def scan(values: Sequence[tuple[object, float, float]]) -> None:
        for (prev, lo, _), (cur, _, hi) in itertools.pairwise(values):
            if prev != cur:
                out.append((lo, hi))

    for run in thread.runs.values():
        scan([(o.status, o.lo, o.hi) for o in run.statuses])
    scan([(s.tokens, s.lo, s.hi) for s in thread.state_snapshots])
    scan([(o.status, o.lo, o.hi) for o in thread.thread_statuses])
    for op in [*(c.op for c in thread.creations), *thread.cancels, *thread.deletes]:
        done = op.completion.time_s if op.completion is not None else op.lo
        out.append((op.lo, done))
    out += [(p.lo, p.hi) for p in ctx.phantoms if p.concerns(thread.thread_id)]
    return out


def _quiet(changes: Sequence[tuple[float, float]], start: float, end: float) -> bool:
    return not any(lo < end and hi > start for lo, hi in changes)


def check_stuck(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    """A run (or the thread) still in flight (busy) at its last observation, having been
    so for ``stuck_after_s`` with nothing changing on the thread meanwhile."""
    out = ThreadCheck()
    if thread.is_burst and thread.settle is None:
        out.unknown.append(
            f"no burst.settled marker for {_thread(thread)}: the history may be cut short"
        )
    changes = _changes(ctx, thread)
    limit = ctx.stuck_after_s
    for run in thread.runs.values():
        if not run.statuses:
            continue
        last = max(run.statuses, key=lambda o: o.lo)
        if not last.in_flight:
            continue
        window = last.lo - limit
        before = next((p for p in run.statuses if p.status == last.status and p.hi <= window), None)
        if before is None or not _quiet(changes, window, last.lo):
            out.unknown.append(
                f"{_run(run.run_id)} on {_thread(thread)} was still {last.status} at its last "
                f"observation (event {last.ref().index}), not long enough to call it stuck"
            )
            continue
        elsewhere = ctx.progress.elsewhere(before.hi, last.lo, run.run_id)
        if elsewhere is None:
            out.unknown.append(
                f"{OVERLOADED}: {_run(run.run_id)} stayed {last.status} on {_thread(thread)} "
                f"from event {before.ref().index} to event {last.ref().index}, but no run "
                "created after it finished meanwhile, so the server may be slow, not stuck"
            )
            continue
        out.anomalies.append(
            Anomaly(
                "stuck_run",
                thread.thread_id,
                (run.run_id,),
                f"{_run(run.run_id)} stayed {last.status} on {_thread(thread)} from event "
                f"{before.ref().index} to event {last.ref().index} "
                f"({last.lo - before.hi:.1f} s) with no progress on the thread, while a run "
                f"created after it finished elsewhere (event {elsewhere.index})",
                (before.ref(), elsewhere, last.ref()),
            )
        )
    _stuck_thread(ctx, thread, changes, out)
    return out


def _stuck_thread(
    ctx: Context, thread: ThreadModel, changes: Sequence[tuple[float, float]], out: ThreadCheck
) -> None:
    if not thread.thread_statuses:
        return
    last = thread.thread_statuses[-1]
    if last.status != "busy":
        return
    window = last.lo - ctx.stuck_after_s
    before = next(
        (p for p in thread.thread_statuses if p.status == "busy" and p.hi <= window), None
    )
    runs = [r for r in thread.runs.values() if r.statuses or r.accepted]
    if (
        before is None
        or not _quiet(changes, window, last.lo)
        # An unanswered create may have a run in flight, which would make the thread busy.
        or any(c.maybe and c.run_id is None and c.lo < last.lo for c in thread.creations)
        or not all(thread.final_before(r, window) for r in runs)
    ):
        out.unknown.append(
            f"{_thread(thread)} was still busy at its last observation (event {last.ref().index})"
        )
        return
    rollback_cancels = [
        op for op in thread.cancels if _action(op) in ("rollback", None) and op.lo < last.lo
    ]
    # Observed: busy until another run finishes on the thread, so no run created since.
    excused = bool(rollback_cancels) and not any(
        c.lo > min(op.lo for op in rollback_cancels) for c in thread.creations
    )
    phantom = _phantom(ctx, thread, last.lo)
    if not excused and phantom is not None:
        out.unknown.append(
            f"{_thread(thread)} stayed busy with every run final, but {phantom} may have been "
            "a rollback cancel, which leaves a thread busy"
        )
        return
    elsewhere = ctx.progress.elsewhere(before.hi, last.lo, None)
    if elsewhere is None:
        out.unknown.append(
            f"{OVERLOADED}: {_thread(thread)} stayed busy from event {before.ref().index} to "
            f"event {last.ref().index}, but no run created meanwhile finished, so the server "
            "may be slow, not stuck"
        )
        return
    out.anomalies.append(
        Anomaly(
            "stuck_thread",
            thread.thread_id,
            (),
            f"{_thread(thread)} stayed busy from event {before.ref().index} to event "
            f"{last.ref().index} ({last.lo - before.hi:.1f} s) although every run on it was "
            f"final, while a run created meanwhile finished elsewhere (event {elsewhere.index})",
            (before.ref(), elsewhere, last.ref()),
            DOCUMENTED_ONLY if excused else BOTH,
            "busy_after_rollback_cancel" if excused else None,
        )
    )


# -- status ---------------------------------------------------------------------------------


def check_status(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    out = ThreadCheck()
    for run in thread.runs.values():
        seen = [o for o in run.statuses if o.status in _RANK]
        by_hi = sorted(seen, key=lambda o: o.hi)
        his = [o.hi for o in by_hi]
        # The most advanced status (and the first final one) answered before each point.
        best: list[StatusObs] = []
        first_final: list[StatusObs | None] = []
        for obs in by_hi:
            top = best[-1] if best and _RANK[best[-1].status] >= _RANK[obs.status] else obs
            best.append(top)
            prev = first_final[-1] if first_final else None
            first_final.append(prev if prev is not None else (obs if obs.final else None))
        for y in sorted(seen, key=lambda o: o.lo):
            n = bisect.bisect_left(his, y.lo)
            if not n:
                continue
            x = best[n - 1]
            fin = first_final[n - 1]
            if _RANK[y.status] < _RANK[x.status]:
                back = x
            elif fin is not None and y.final and y.status != fin.status:
                back = fin
            else:
                continue
            out.anomalies.append(
                Anomaly(
                    "status_regression",
                    thread.thread_id,
                    (run.run_id,),
                    f"{_run(run.run_id)} on {_thread(thread)} went from {back.status} "
                    f"(event {back.ref().index}) back to {y.status} (event {y.ref().index})",
                    (back.ref(), y.ref()),
                )
            )
            break
    _idle_while_busy(ctx, thread, out)
    _busy_without_run(ctx, thread, out)
    return out


def _idle_while_busy(ctx: Context, thread: ThreadModel, out: ThreadCheck) -> None:
    """The thread read idle while a run was seen in flight both before and after."""
    idle = sorted((o for o in thread.thread_statuses if o.status == "idle"), key=lambda o: o.lo)
    if not idle:
        return
    los = [o.lo for o in idle]
    for run in thread.runs.values():
        flying = [o for o in run.statuses if o.in_flight]
        if not flying or len(out.anomalies) >= PER_THREAD:
            continue
        first = min(flying, key=lambda o: o.hi)
        last = max(flying, key=lambda o: o.lo)
        obs = next(
            (
                o
                for o in idle[bisect.bisect_right(los, first.hi) :]
                if o.lo < last.lo and o.hi < last.lo
            ),
            None,
        )
        if obs is None:
            continue
        excused = any(
            c.maybe and c.strategy in _CANCELLING and c.lo < obs.hi for c in thread.creations
        ) or any(op.lo < obs.hi for op in thread.cancels)
        if not excused:
            phantom = _phantom(ctx, thread, obs.hi)
            if phantom is not None:
                out.unknown.append(
                    f"{_thread(thread)} read idle while {_run(run.run_id)} was in flight, and "
                    f"{phantom} may have been an interrupt, which explains it"
                )
                excused = True
        out.anomalies.append(
            Anomaly(
                "thread_idle_while_busy",
                thread.thread_id,
                (run.run_id,),
                f"{_thread(thread)} read idle at event {obs.ref().index} while "
                f"{_run(run.run_id)} was {first.status} before it (event {first.ref().index}) "
                f"and {last.status} after it (event {last.ref().index})",
                (first.ref(), obs.ref(), last.ref()),
                DOCUMENTED_ONLY if excused else BOTH,
                "idle_while_in_flight" if excused else None,
            )
        )


# -- interrupt and rollback -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cancellers:
    """A thread's interrupt and rollback creates (ok or info), sorted by send time."""

    creates: list[Creation]
    los: list[float]
    #: The longest answered create: nothing answered starts earlier than this before a run.
    max_span_s: float
    #: Unanswered (info) ones: they may have taken effect at any later time.
    unbounded: list[Creation]

    @classmethod
    def of(cls, thread: ThreadModel) -> _Cancellers:
        creates = sorted(
            (c for c in thread.creations if c.maybe and c.strategy in _CANCELLING),
            key=lambda c: c.lo,
        )
        spans = [c.hi - c.lo for c in creates if c.hi != INF]
        return cls(
            creates,
            [c.lo for c in creates],
            max(spans, default=0.0),
            [c for c in creates if c.hi == INF],
        )

    def first(self, thread: ThreadModel, run: RunModel) -> list[Creation]:
        """The creates that may have been the first to interrupt or roll back the run.

        Candidates: not provably sent before the run existed, sent while the run was not
        provably final. The first ones are those no other candidate provably precedes (sent
        no later than the earliest answer among them). Empty when one of them may have come
        before the run, which leaves its fate ambiguous.
        """
        created = _creation(run)
        final = thread.final_before(run, INF)
        until = final.hi if final is not None else INF
        candidates: list[Creation] = []
        earliest_answer = INF
        start = bisect.bisect_left(self.los, created.lo - self.max_span_s)
        for c in self.creates[start:]:
            if c.lo >= until or c.lo > earliest_answer:
                break
            if c is created or c.hi < created.lo:
                continue
            candidates.append(c)
            earliest_answer = min(earliest_answer, c.hi)
        candidates += [
            c
            for c in self.unbounded
            if c.lo < created.lo - self.max_span_s and c.lo < until and c is not created
        ]
        first = [c for c in candidates if c.lo <= earliest_answer]
        if any(not ThreadModel.created_before(created, c) for c in first):
            return []
        return first


def _self_cancel_possible(run: RunModel) -> bool:
    """The run had its own cancel, delete, or a subscriber that may have disconnected."""
    if run.cancels:
        return True
    return any(
        (op.args.get("on_disconnect") == "cancel" or op.args.get("cancel_on_disconnect"))
        and op.outcome != "ok"
        for op in run.subscribers
    )


def _cancelled(run: RunModel) -> StatusObs | None:
    return next((o for o in run.statuses if o.status in ("interrupted", ABSENT)), None)


def _never_started(thread: ThreadModel, run: RunModel) -> bool:
    return thread.started(run) is None and not any(
        o.status in ("running", "success", "error", "timeout") for o in run.statuses
    )


def _make_multitask_checker(strategy: str) -> Callable[[Context, ThreadModel], ThreadCheck]:
    not_applied = f"{strategy}_not_applied"
    cancelled_pending = f"{strategy}_cancelled_pending"

    def check(ctx: Context, thread: ThreadModel) -> ThreadCheck:
        if not any(c.maybe and c.strategy == strategy for c in thread.creations):
            return ThreadCheck(applicable=False)
        out = ThreadCheck()
        cancellers = _Cancellers.of(thread)
        groups: dict[tuple[int, ...], list[tuple[RunModel, list[Creation]]]] = {}
        for run in thread.accepted_runs:
            first = cancellers.first(thread, run)
            if first and not _self_cancel_possible(run):
                groups.setdefault(tuple(id(c) for c in first), []).append((run, first))
        for members in groups.values():
            first = members[0][1]
            if {c.strategy for c in first} != {strategy}:
                continue
            # Runs cancelled by the same create, earliest answered first: a later member
            # created after one of them was not the current run.
            cancelled = sorted(
                (r for r, _ in members if _cancelled(r) is not None),
                key=lambda r: _creation(r).hi,
            )
            for run, _ in members:
                current = cancelled[0] if cancelled else None
                if current is not None and not ThreadModel.created_before(
                    _creation(current), _creation(run)
                ):
                    current = None
                verdict = ThreadCheck()
                _judge(ctx, thread, run, first, current, verdict, not_applied, cancelled_pending)
                out.unknown += verdict.unknown
                final = thread.final_before(run, INF)
                until = final.hi if final is not None else INF
                phantom = _phantom(ctx, thread, until, _creation(run).lo)
                if verdict.anomalies and phantom is not None:
                    out.unknown.append(
                        f"{_run(run.run_id)} on {_thread(thread)}: {phantom} may have been "
                        "the create or cancel that decided its fate"
                    )
                else:
                    out.anomalies += verdict.anomalies
        return out

    check.__name__ = f"check_{strategy}"
    return check


def _judge(
    ctx: Context,
    thread: ThreadModel,
    run: RunModel,
    first: Sequence[Creation],
    current: RunModel | None,
    out: ThreadCheck,
    not_applied: str,
    cancelled_pending: str,
) -> None:
    strategy = first[0].strategy
    rid = run.run_id
    # A run that was not the current one: the docs would let it live, the server cancels it.
    flagged_by = _OBSERVED_ONLY if current is not None else BOTH
    for canceller in first:
        if not canceller.accepted or not ThreadModel.created_before(_creation(run), canceller):
            continue
        late = thread.in_flight_after(run, canceller.hi + ctx.slack_s)
        if late is None:
            continue
        end = thread.ended(run)
        success = thread.status_seen(run, ("success",))
        done = success.ref() if success is not None else end.ref() if end is not None else None
        if done is not None:
            out.anomalies.append(
                Anomaly(
                    not_applied,
                    thread.thread_id,
                    (rid, _id(canceller)),
                    f"{_run(rid)} on {_thread(thread)} was still in flight (event "
                    f"{late.index}) after {strategy} {_run(_id(canceller))} was accepted "
                    f"(event {canceller.ref().index}), and ran to its end (event {done.index})",
                    (canceller.ref(), late, done),
                    flagged_by,
                )
            )
            return
        if strategy == "rollback":
            present = _present_after(thread, run, canceller.hi + ctx.slack_s)
            if present is not None:
                out.anomalies.append(
                    Anomaly(
                        not_applied,
                        thread.thread_id,
                        (rid, _id(canceller)),
                        f"{_run(rid)} on {_thread(thread)} was still in flight (event "
                        f"{late.index}) after rollback {_run(_id(canceller))} was accepted "
                        f"(event {canceller.ref().index}) and still existed at event "
                        f"{present.ref().index}",
                        (canceller.ref(), late, present.ref()),
                        flagged_by,
                    )
                )
                return
    cancelled = _cancelled(run)
    if cancelled is None:
        if run.done_by == INF:
            out.unknown.append(
                f"{_run(rid)} on {_thread(thread)} was never seen final or gone after a "
                f"{strategy} run that should have cancelled it"
            )
        return
    if strategy == "rollback" and cancelled.status == "interrupted":
        present = _present_after(thread, run, cancelled.hi + ctx.slack_s)
        if present is None:
            if not any(o.status == ABSENT for o in run.statuses):
                out.unknown.append(
                    f"{_run(rid)} on {_thread(thread)} was interrupted by a rollback, and no "
                    "later read shows whether it was deleted"
                )
        else:
            subscribed = any(s.lo < c.hi and s.hi > c.lo for s in run.subscribers for c in first)
            out.anomalies.append(
                Anomaly(
                    "rollback_not_applied",
                    thread.thread_id,
                    (rid, *(_id(c) for c in first[:1])),
                    f"{_run(rid)} on {_thread(thread)} was rolled back by "
                    f"{_run(_id(first[0]))} (event {first[0].ref().index}) but was kept as "
                    f"interrupted instead of deleted (event {present.ref().index})"
                    + (", while a client was streaming or joining it" if subscribed else ""),
                    (first[0].ref(), cancelled.ref(), present.ref()),
                    DOCUMENTED_ONLY if subscribed else BOTH,
                    "rollback_keeps_subscribed_run" if subscribed else None,
                )
            )
            return
    if current is not None and _never_started(thread, run):
        out.anomalies.append(
            Anomaly(
                cancelled_pending,
                thread.thread_id,
                (rid, current.run_id, _id(first[0])),
                f"{strategy} {_run(_id(first[0]))} (event {first[0].ref().index}) cancelled "
                f"pending {_run(rid)} as well as the current {_run(current.run_id)} on "
                f"{_thread(thread)}",
                (first[0].ref(), cancelled.ref()),
                DOCUMENTED_ONLY,
                "cancels_all_in_flight",
            )
        )


def _id(creation: Creation) -> str:
    return creation.run_id or "?"


def _present_after(thread: ThreadModel, run: RunModel, t: float) -> StatusObs | None:
    """A status observation, sent at or after ``t``, showing the run still exists."""
    return next((o for o in run.statuses if o.lo >= t and o.status != ABSENT), None)


# -- reject ---------------------------------------------------------------------------------


def check_reject(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    rejects = [c for c in thread.creations if c.strategy == "reject"]
    if not rejects:
        return ThreadCheck(applicable=False)
    out = ThreadCheck()
    for b in rejects:
        if b.accepted:
            _reject_accepted(thread, b, out)
        elif b.refused:
            _reject_refused(ctx, thread, b, out)
    return out


def _reject_accepted(thread: ThreadModel, b: Creation, out: ThreadCheck) -> None:
    unclear: list[str] = []
    for run in thread.accepted_runs:
        a = _creation(run)
        if a is b or not ThreadModel.created_before(a, b):
            continue
        late = thread.in_flight_after(run, b.hi)
        if late is not None:
            out.anomalies.append(
                Anomaly(
                    "reject_accepted",
                    thread.thread_id,
                    (run.run_id, _id(b)),
                    f"reject {_run(_id(b))} was accepted on {_thread(thread)} (event "
                    f"{b.ref().index}) while {_run(run.run_id)} was still in flight "
                    f"(event {late.index})",
                    (a.ref(), b.ref(), late),
                )
            )
            return
        if thread.final_before(run, b.lo) is None:
            unclear.append(run.run_id)
    if unclear:
        out.unknown.append(
            f"cannot tell whether {_run(unclear[0])} was still in flight when reject "
            f"{_run(_id(b))} was accepted on {_thread(thread)}"
        )


def _reject_refused(ctx: Context, thread: ThreadModel, b: Creation, out: ThreadCheck) -> None:
    witnesses: list[EventRef] = [b.ref()]
    for c in thread.creations:
        if c is b or c.lo >= b.op.hi or c.op.outcome == "fail":
            continue
        if c.op.outcome != "ok" or c.run_id is None:
            return  # an unanswered create may have a run in flight
        final = thread.final_before(thread.runs[c.run_id], b.lo)
        if final is None:
            return
        witnesses.append(final.ref())
    for run in thread.runs.values():
        if run.creation is None and run.first_seen is not None:
            final = thread.final_before(run, b.lo)
            if final is None:
                return
            witnesses.append(final.ref())
    if any(op.lo < b.op.hi for op in thread.crons):
        return
    phantom = next(
        (p for p in ctx.phantoms if p.concerns(thread.thread_id) and p.lo < b.op.hi), None
    )
    if phantom is not None:
        out.unknown.append(
            f"reject {_thread(thread)} refused a run at event {b.ref().index} while no known "
            f"run was in flight, but the unreadable line {phantom.line} of history file "
            f"{phantom.file} may have created one"
        )
        return
    out.anomalies.append(
        Anomaly(
            "reject_refused_idle",
            thread.thread_id,
            tuple(sorted(r.run_id for r in thread.runs.values() if r.creation is not b))[:4],
            f"a reject run was refused with 409 on {_thread(thread)} (event {b.ref().index}) "
            "although every run created before it was already final",
            tuple(witnesses[:6]),
        )
    )


# -- final status ---------------------------------------------------------------------------


def check_final_status(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    runs = [r for r in thread.runs.values() if r.statuses]
    if not runs:
        return ThreadCheck(applicable=False)
    out = ThreadCheck()
    for run in runs:
        success = thread.status_seen(run, ("success",))
        started = thread.started(run)
        graph = run.creation.graph if run.creation is not None else None
        failed = _failed_answer(thread, run)
        error = thread.status_seen(run, ("error",))
        end = thread.ended(run)
        found: tuple[str, tuple[EventRef, ...]] | None = None
        if graph == "failing" and success is not None and started is not None:
            found = (
                f"{_run(run.run_id)} of the failing graph ended success on {_thread(thread)} "
                f"(event {success.ref().index}) although it executed (event "
                f"{started.ref().index}) and that graph always raises",
                (started.ref(), success.ref()),
            )
        elif failed is not None and success is not None:
            found = (
                f"{_run(run.run_id)} ended success on {_thread(thread)} (event "
                f"{success.ref().index}) although its own {failed.f} returned the graph's "
                f"error (event {failed.ref().index})",
                (failed.ref(), success.ref()),
            )
        elif error is not None and end is not None:
            found = (
                f"{_run(run.run_id)} ended error on {_thread(thread)} (event "
                f"{error.ref().index}) although its last step completed: end:"
                f"{short_id(run.run_id)} is in the read at event {end.ref().index}",
                (end.ref(), error.ref()),
            )
        if found is not None:
            explanation, witnesses = found
            out.anomalies.append(
                Anomaly(
                    "wrong_final_status", thread.thread_id, (run.run_id,), explanation, witnesses
                )
            )
    return out


def _failed_answer(thread: ThreadModel, run: RunModel) -> Operation | None:
    """The run's own wait or stream that answered with the graph's error: proof it failed.

    Joins are left out: a join after the run ended answers with the thread's current error,
    which may be a later run's.
    """
    for op in run.finished:
        if op.run_id != run.run_id or op.f not in _CREATE_AND_FOLLOW:
            continue
        error = op.result.get("error") if op.f == "runs.wait" else op.result.get("error_event")
        if error:
            return op
    return None


# -- results --------------------------------------------------------------------------------


def _modes(value: object) -> set[str]:
    if value is None:
        return {"values"}
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {m for m in value if isinstance(m, str)}
    return set()


def empty_answer(op: Operation) -> str | None:
    """What a wait or stream answered ``ok`` lacked, when it cannot lawfully be empty.

    A run of a bundled graph given an input or a command always returns values (every
    bundled graph writes its ``start`` token first; ``failing`` returns its error), and its
    stream always carries events in a mode that emits for every step. So a wait answered
    ``{}`` or a stream that closed with no event, for such a run, lost its result, whatever
    the run's status says. The caller makes sure nothing could have cancelled the run.
    """
    if op.outcome != "ok" or op.args.get("has_input") is not True:
        return None
    if graph_of(op.args.get("assistant_id")) is None:
        return None
    if op.f == "runs.wait":
        if op.result.get("error") or op.result.get("has_values") is not False:
            return None
        return "returned no values"
    if op.f == "runs.stream":
        if op.result.get("error_event") is not None or op.result.get("events") != 0:
            return None
        if not _modes(op.args.get("stream_mode")) & _ALWAYS_EMITTING:
            return None
        if op.result.get("metadata") is False or op.result.get("run_id") is None:
            return "closed with no event at all, not even metadata"
        return "closed with no event after metadata"
    return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def reply_problem(op: Operation, *, may_be_cut: bool) -> str | None:
    """What is wrong with the chat reply a stream delivered, or None when it is exactly the
    run's (:func:`lgbench.graphs.reply_tokens`: every token once, in order, to the last).

    A reply cut short after an intact prefix is wrong only when nothing could have cancelled
    the run (``may_be_cut`` False); tokens lost in the middle, repeated or out of order are
    wrong always.
    """
    reply = op.result.get("reply")
    run_id = op.run_id
    if op.outcome != "ok" or not isinstance(reply, Mapping) or run_id is None:
        return None
    chunks = reply.get("chunks")
    first = reply.get("first")
    digest = reply.get("sha256")
    if not isinstance(chunks, int) or not isinstance(first, str) or not isinstance(digest, str):
        return None
    found = _REPLY_TOKEN.match(first)
    if found is None:
        return f"streamed a reply whose first chunk {first[:24]!r} is no reply token"
    turn = int(found.group(1))
    if _digest(reply_text(run_id, turn, chunks)) == digest:
        return None
    prefix = "".join(reply_tokens(run_id, turn, chunks + 1)[:chunks])
    if _digest(prefix) == digest:
        if may_be_cut or op.result.get("error_event") is not None:
            return None
        return f"streamed only the first {chunks} tokens of the reply, then ended"
    return (
        f"streamed {chunks} reply chunks that are not the run's reply: a token was lost, "
        "repeated or out of order"
    )


def _cancellable(thread: ThreadModel, op: Operation) -> bool:
    """Something on the thread may have cancelled or removed the run ``op`` created."""
    if thread.cancels or thread.deletes:
        return True
    return any(c.op is not op and c.maybe and c.strategy in _CANCELLING for c in thread.creations)


def check_results(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    # Waits and streams whose answer cannot lawfully be empty (see empty_answer).
    creating = [
        op
        for op in thread.results
        if op.f in _CREATE_AND_FOLLOW
        and op.args.get("has_input") is True
        and graph_of(op.args.get("assistant_id")) is not None
    ]
    ops = [op for op in thread.results if op.run_id is not None and op.run_id in thread.runs]
    replies = [op for op in thread.results if "reply" in op.result]
    if not ops and not creating and not replies:
        return ThreadCheck(applicable=False)
    out = ThreadCheck()
    flagged: set[int] = set()
    for op in creating:
        what = empty_answer(op)
        if what is None or len(out.anomalies) >= PER_THREAD:
            continue
        if _cancellable(thread, op) or _phantom(ctx, thread, op.hi) is not None:
            continue
        flagged.add(id(op))
        rid = op.run_id
        out.anomalies.append(
            Anomaly(
                "result_lost",
                thread.thread_id,
                (rid,) if rid else (),
                f"the {op.f} of {_run(rid) if rid else 'a run'} of the bundled graph "
                f"{op.args.get('assistant_id')} on {_thread(thread)} {what} (event "
                f"{op.ref().index}), although that graph given an input always returns values "
                "and nothing on the thread could have cancelled the run",
                (op.ref(),),
            )
        )
    for op in thread.results:
        if op.f not in _RUN_STREAMS or len(out.anomalies) >= PER_THREAD:
            continue
        problem = reply_problem(op, may_be_cut=_cancellable(thread, op))
        if problem is None:
            continue
        flagged.add(id(op))
        out.anomalies.append(
            Anomaly(
                "reply_mismatch",
                thread.thread_id,
                (op.run_id,) if op.run_id else (),
                f"the {op.f} of {_run(op.run_id or '?')} on {_thread(thread)} {problem} "
                f"(event {op.ref().index})",
                (op.ref(),),
            )
        )
    for op in ops:
        if id(op) in flagged:
            continue
        assert op.run_id is not None
        run = thread.runs[op.run_id]
        success = thread.status_seen(run, ("success",))
        if success is None:
            continue
        lost = False
        what = ""
        proof: tuple[EventRef, ...] = ()
        if op.f == "runs.wait":
            lost, what, proof = _wait_lost(thread, run, op)
        elif op.f == "runs.join":
            lost = op.result.get("has_values") is False and not op.result.get("error")
            what = "returned no values"
        elif op.f == "runs.stream":
            lost = op.result.get("events") == 0 and bool(
                _modes(op.args.get("stream_mode")) & _ALWAYS_EMITTING
            )
            what = "closed with no event after metadata"
        if lost:
            out.anomalies.append(
                Anomaly(
                    "result_lost",
                    thread.thread_id,
                    (run.run_id,),
                    f"the {op.f} of {_run(run.run_id)} on {_thread(thread)} {what} (event "
                    f"{op.ref().index}) although the run succeeded (event "
                    f"{success.ref().index})",
                    (op.ref(), success.ref(), *proof),
                )
            )
            continue
        if op.f == "runs.join":
            _join_mismatch(thread, run, op, out)
    return out


def _wait_lost(
    thread: ThreadModel, run: RunModel, op: Operation
) -> tuple[bool, str, tuple[EventRef, ...]]:
    """Whether a wait's answer lost its (successful) run's result; what it lacked; proof.

    A wait answers with its own run's final values, so they hold the run's ``end`` token.
    Only a run that provably executed is judged: a run created without input executes
    nothing yet ends ``success`` with no token, and one stopped by ``interrupt(...)`` or
    ``interrupt_before`` ends ``success`` without its ``end`` (the bundled graphs, on
    langgraph-api 0.16). So empty values count only once a read shows the run's ``start``
    or ``end``, and values without ``end`` only once a read shows that token.
    """
    if op.result.get("error"):
        return False, "", ()
    ended = thread.ended(run)
    if op.result.get("has_values") is False:
        executed = ended or thread.started(run)
        if executed is None:
            return False, "", ()
        return True, "returned no values", (executed.ref(),)
    if ended is None:
        return False, "", ()
    tokens = op.result.get("tokens")
    if isinstance(tokens, list) and end_token(run.run_id) in tokens:
        return False, "", ()
    return (
        True,
        f"returned values without its end:{short_id(run.run_id)} token",
        (ended.ref(),),
    )


def _join_mismatch(thread: ThreadModel, run: RunModel, op: Operation, out: ThreadCheck) -> None:
    snap = next((s for s in thread.snapshots if s.op is op), None)
    if snap is None or thread.ended(run) is None:
        return
    rid = run.run_id
    end = snap.position("end", rid)
    later = [t for t in snap.tokens[end + 1 :] if t[1] != rid] if end is not None else []
    if end is not None and not later:
        return
    early = thread.in_flight_after(run, op.hi)
    problem = (
        f"lack end:{short_id(rid)}"
        if end is None
        else f"hold {later[0][0]}:{short_id(later[0][1])} after end:{short_id(rid)}"
    )
    out.anomalies.append(
        Anomaly(
            "join_result_mismatch",
            thread.thread_id,
            (rid,),
            f"the runs.join of {_run(rid)} on {_thread(thread)} returned values that are not "
            f"its result: they {problem} (event {op.ref().index})"
            + (", and the join returned before the run ended" if early else ""),
            (op.ref(), *((early,) if early else ())),
            BOTH if early else DOCUMENTED_ONLY,
            None if early else "join_returns_current_values",
        )
    )


# -- writes ---------------------------------------------------------------------------------

#: Graphs whose successful run always ends by writing its ``end`` token, given an input
#: (``interrupting`` ends success at its interrupt without one; ``failing`` never succeeds).
WRITES_END: Final = frozenset(
    {"sleepy", "streamer", "subgraph", "storing", "chat", "agent", "fanout"}
)


def _wrote_end(thread: ThreadModel, run: RunModel) -> tuple[EventRef, str] | None:
    """Proof that the run wrote its ``end`` token: a read that held it, or a create of a
    graph that always writes it, given an input; and how to say it."""
    ended = thread.ended(run)
    if ended is not None:
        return ended.ref(), "a read held it"
    creation = run.creation
    if creation is not None and creation.has_input and creation.graph in WRITES_END:
        return creation.ref(), f"its {creation.graph} graph, given an input, always writes it"
    return None


def _rewrites(thread: ThreadModel) -> list[Operation]:
    """Operations that may take tokens out of a thread's state: a rollback (create or
    cancel), a state update, a copy into it, a delete."""
    ops = [c.op for c in thread.creations if c.maybe and c.strategy in ("rollback", "unknown")]
    ops += [op for op in thread.cancels if _action(op) in ("rollback", None)]
    ops += thread.deletes
    ops += thread.updates
    return ops


def check_writes(ctx: Context, thread: ThreadModel) -> ThreadCheck:
    """A run seen ``success`` whose ``end`` token a later read of its thread lacks."""
    runs = [r for r in thread.runs.values() if any(o.status == "success" for o in r.statuses)]
    if not runs or not thread.reads:
        return ThreadCheck(applicable=False)
    out = ThreadCheck()
    rewrites = _rewrites(thread)
    for run in runs:
        success = min((o for o in run.statuses if o.status == "success"), key=lambda o: o.hi)
        proof = _wrote_end(thread, run)
        if proof is None:
            continue
        wrote, how = proof
        after = success.hi + ctx.slack_s
        for read in thread.reads:
            if read.lo < after or not read.present or read.has("end", run.run_id):
                continue
            if read.kind == "thread" and _thread_busy_at(thread, read.op):
                continue  # a busy thread's values may still be an older checkpoint's
            if any(op.lo < read.hi for op in rewrites) or thread.copied_from:
                out.unknown.append(
                    f"the read at event {read.ref().index} lacks end:{short_id(run.run_id)} of "
                    f"{_run(run.run_id)}, seen success on {_thread(thread)}, but a rollback, "
                    "state update, copy or delete may have removed it"
                )
                break
            phantom = _phantom(ctx, thread, read.hi)
            if phantom is not None:
                out.unknown.append(
                    f"the read at event {read.ref().index} lacks end:{short_id(run.run_id)}, "
                    f"but {phantom} may have removed it"
                )
                break
            out.anomalies.append(
                Anomaly(
                    "lost_write",
                    thread.thread_id,
                    (run.run_id,),
                    f"{_run(run.run_id)} ended success on {_thread(thread)} (event "
                    f"{success.ref().index}) and wrote end:{short_id(run.run_id)} ({how}: event "
                    f"{wrote.index}), but the read at event {read.ref().index}, sent later, "
                    "lacks it: the run's writes were lost (overwritten by a concurrent run?)",
                    (wrote, success.ref(), read.ref()),
                )
            )
            break
        if len(out.anomalies) >= PER_THREAD:
            break
    return out


def _thread_busy_at(thread: ThreadModel, op: Operation) -> bool:
    """The thread read this ``op`` made reported ``busy``."""
    return any(o.op is op and o.status == "busy" for o in thread.thread_statuses)


def _busy_without_run(ctx: Context, thread: ThreadModel, out: ThreadCheck) -> None:
    """``threads.get`` busy although every run on the thread had ended before it was sent
    (seen final or gone, or its wait, join or stream ran to its end)."""
    runs = [r for r in thread.runs.values() if r.statuses or r.accepted]
    if not runs or any(c.maybe and c.run_id is None for c in thread.creations) or thread.crons:
        return
    done = max(r.done_by for r in runs)
    if done == INF:
        return
    last = max(runs, key=lambda r: r.done_by)
    witness = next(
        (o.ref() for o in last.statuses if o.hi == done),
        next((op.ref() for op in last.finished if op.hi == done), None),
    )
    for obs in thread.thread_statuses:
        if obs.status != "busy" or obs.lo - ctx.slack_s < done:
            continue
        if any(c.op.outcome != "fail" and c.lo < obs.hi and c.hi > done for c in thread.creations):
            return  # a run created since may already make the thread busy
        if _phantom(ctx, thread, obs.hi) is not None or witness is None:
            return
        lasting = obs.lo - ctx.busy_grace_s >= done
        rollback = any(
            _action(op) in ("rollback", None) and op.lo < obs.lo for op in thread.cancels
        )
        flagged_by: frozenset[Profile]
        if rollback:
            flagged_by, behaviour = DOCUMENTED_ONLY, "busy_after_rollback_cancel"
        elif lasting:
            flagged_by, behaviour = BOTH, None
        else:
            flagged_by, behaviour = DOCUMENTED_ONLY, "busy_after_final"
        out.anomalies.append(
            Anomaly(
                "busy_without_run",
                thread.thread_id,
                tuple(sorted(r.run_id for r in runs))[:4],
                f"{_thread(thread)} read busy at event {obs.ref().index}, "
                f"{obs.lo - done:.1f} s after its last run ended (event {witness.index}), with "
                "no run pending or running on it",
                (witness, obs.ref()),
                flagged_by,
                behaviour,
            )
        )
        if flagged_by == BOTH:
            return


CHECKER_FUNCTIONS: Final[Mapping[str, Callable[[Context, ThreadModel], ThreadCheck]]] = {
    "concurrency": check_concurrency,
    "fifo": check_fifo,
    "duplicates": check_duplicates,
    "unexpected": check_unexpected,
    "lost": check_lost,
    "stuck": check_stuck,
    "status": check_status,
    "interrupt": _make_multitask_checker("interrupt"),
    "rollback": _make_multitask_checker("rollback"),
    "reject": check_reject,
    "final_status": check_final_status,
    "results": check_results,
    "writes": check_writes,
}
