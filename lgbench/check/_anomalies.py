"""The anomaly catalogue, the known server behaviours, and three-valued verdicts.

Every anomaly has a stable snake_case name (:data:`ANOMALY_TYPES`), belongs to one
checker family (:data:`CHECKERS`), and says which profiles flag it. The ``observed``
profile accepts the in-memory server's known behaviours (:data:`BEHAVIOURS`), which the
``documented`` profile flags: each such anomaly names the behaviour, and the difference
between the profiles is reported as a *finding*.

Verdicts are ``True``, ``False`` or ``"unknown"``; merging: false beats unknown beats
true (:func:`merge_valid`).

What each anomaly needs from the history (a proof never rests on an ``info`` operation,
and "before" means a completion answered before the other request was sent):

===============================  ===============================================================
``concurrent_runs``              a state read (or a wait/join/stream's values) holding
                                 ``start:A … start:B … end:A``; or one ``runs.list`` with two
                                 runs ``running``; or A seen running before and after B was
``fifo_violation``               two accepted runs, the later one ``enqueue``, A created before
                                 B: B's ``start`` before A's in a read, or B started while A was
                                 still seen ``pending``
``duplicate_execution``          a read holding a run's ``start`` (or ``end``) token twice
``unexpected_run``               tokens, a status or a list entry of a run id no create (not even
                                 an unanswered one, a cron, or a copy of its thread) can explain
``lost_run``                     a run accepted (``ok``), never executed nor final, then answered
                                 404 (or missing from a complete ``runs.list``) with no rollback
                                 create, cancel or delete that may explain it
``stuck_run``                    a run's last status still ``pending``/``running``, unchanged for
                                 ``stuck_after_s`` with nothing changing on its thread
``stuck_thread``                 the thread's last status still ``busy``, the same way, every
                                 run on it final
``status_regression``            two status observations, one before the other, going from
                                 final to non-final (or another final), or running to pending
``thread_idle_while_busy``       ``threads.get`` idle while a run was seen in flight before and
                                 after it
``interrupt_not_applied``        an interrupt create accepted while the run existed, the run
                                 seen in flight ``slack_s`` after, then ``success`` or ``end``
``interrupt_cancelled_pending``  one interrupt create cancelling a run that never started as
                                 well as an earlier one (documented profile only)
``rollback_not_applied``         as interrupt_not_applied for rollback; or the run kept as
                                 ``interrupted`` (runs.get ok) instead of deleted
``rollback_cancelled_pending``   as interrupt_cancelled_pending, for rollback
``reject_accepted``              a reject create accepted while an earlier run was seen in
                                 flight after it was answered
``reject_refused_idle``          a reject create refused (409) while every run created before it
                                 was seen final before it was sent, and nothing unanswered could
                                 have added one
``wrong_final_status``           ``success`` of a ``failing`` run that executed, or ``error`` of a
                                 run whose ``end`` token is in the state
``result_lost``                  for a run seen ``success``: a join answered with no values; a
                                 wait (its run id from ``Content-Location``) with no values or
                                 without the run's ``end`` token, once a read shows the run
                                 executed (``start``/``end``) or ended (``end``); a stream
                                 with no event after ``metadata``; and, whatever its status, a
                                 wait answered ``{}`` or a stream with no event of a bundled
                                 graph given input, on a thread nothing could cancel it on,
                                 or stateless
``join_result_mismatch``         a join's values lacking the run's ``end`` or holding later runs'
                                 tokens (observed accepts it after the run ended)
``reply_mismatch``               a stream of the ``chat`` or ``agent`` graph whose reply chunks are
                                 not exactly the run's reply (``lgbench.graphs.reply_tokens`` of
                                 its run id and turn): a token lost, repeated or out of order,
                                 or cut short with nothing on the thread that could cancel it
``lost_write``                   a run seen ``success`` that wrote its ``end`` token (a read held
                                 it, or a bundled graph given input always writes it), absent
                                 from a state read sent ``slack_s`` after the success was seen,
                                 with no rollback, state update, copy or delete on the thread
``busy_without_run``             ``threads.get`` busy, sent after every run of the thread was
                                 seen final (``slack_s`` before it; the observed profile allows
                                 ``busy_grace_s``), with no create unanswered
``isolation_breach``             an ok operation of user B naming a resource user A created (a
                                 read, update, delete, run, stream, join, copy; a store call on
                                 A's namespace), or B's search or listing returning it; under
                                 the ``shared`` policy writes only
``wrong_owner``                  a resource created by A whose create or a later read reports as
                                 owner the identity another user's creations report; or two
                                 users whose creations all report one owner
``auth_inconsistent``            one user's same request (operation, resources) ok and refused
                                 (401/403), one before the other, with no write that may have
                                 touched those resources in between
===============================  ===============================================================

A thread is judged when it took part in a burst (markers) or its state was read
(``threads.get_state``, or ``threads.get`` with its values' tokens); a verdict needs a state
read after every accepted run was seen final (or its stream ran to its end), and for a burst
its ``burst.settled`` marker, else it is ``unknown`` and says so. Stateless runs (no thread)
are judged by their own answers, together, as the pseudo-thread ``stateless``; tenant isolation
(histories whose operations name their users, ``[target.auth]``) as the pseudo-thread
``tenancy``.

``stuck_run`` and ``stuck_thread`` also need the server to have made progress elsewhere
meanwhile: a run created after the stuck one was last seen changing, finished before the
last observation. Without it the server may just be overloaded, and the verdict is
``unknown`` ("server overloaded"), never a violation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, final

from lgbench.check._events import EventRef

__all__ = [
    "ANOMALY_TYPES",
    "BEHAVIOURS",
    "BOTH",
    "CHECKERS",
    "DOCUMENTED_ONLY",
    "PROFILES",
    "UNKNOWN",
    "Anomaly",
    "Profile",
    "Valid",
    "merge_valid",
]

Profile = Literal["documented", "observed"]
#: The profiles, in report order.
PROFILES: Final[tuple[Profile, ...]] = ("documented", "observed")
#: Flagged by both profiles.
BOTH: Final[frozenset[Profile]] = frozenset(PROFILES)
#: Flagged by the documented profile only (the observed one accepts a known behaviour).
DOCUMENTED_ONLY: Final[frozenset[Profile]] = frozenset({"documented"})

UNKNOWN: Final = "unknown"
Valid = bool | Literal["unknown"]


def merge_valid(values: Iterable[Valid]) -> Valid:
    """Merge verdicts: any ``False`` gives False, else any ``"unknown"`` gives unknown."""
    merged: Valid = True
    for value in values:
        if value is False:
            return False
        if value == UNKNOWN:
            merged = UNKNOWN
    return merged


#: Each anomaly type: what it means. Names are stable: reports and thresholds use them.
ANOMALY_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "concurrent_runs": "two runs executed on one thread at the same time",
        "duplicate_execution": "a run executed twice (its start or end token appears twice)",
        "fifo_violation": "enqueued runs did not execute in creation order",
        "isolation_breach": (
            "a user read, listed, changed, deleted, streamed or joined another user's resource"
        ),
        "interrupt_cancelled_pending": (
            "an interrupt cancelled a pending run besides the current one "
            "(the docs speak only of the current run)"
        ),
        "auth_inconsistent": (
            "the same request by the same user was accepted and refused (401/403) with nothing "
            "changed in between"
        ),
        "interrupt_not_applied": (
            "a run kept executing to success after an interrupt run was accepted on its thread"
        ),
        "join_result_mismatch": "a join returned values that are not the joined run's result",
        "lost_write": (
            "a run ended success but its writes are missing from a later read of its thread"
        ),
        "busy_without_run": "a thread read busy although every run on it had ended",
        "lost_run": "an accepted run vanished without executing or reaching a final status",
        "reject_accepted": "a reject run was accepted while another run was in flight",
        "reject_refused_idle": "a reject run was refused (409) while the thread was idle",
        "reply_mismatch": (
            "a stream delivered a chat reply that is not the run's: a token lost, repeated, "
            "out of order, or the reply cut short"
        ),
        "result_lost": (
            "a wait, join or stream of a successful run returned no values or no event, "
            "or a wait's values lacked its run's end"
        ),
        "rollback_cancelled_pending": (
            "a rollback deleted a pending run besides the current one "
            "(the docs speak only of the current run)"
        ),
        "rollback_not_applied": (
            "a run survived, or kept executing, after a rollback run was accepted"
        ),
        "status_regression": (
            "a run's status went backwards (final to non-final, running to pending)"
        ),
        "stuck_run": "a run stayed pending or running with no progress on its thread",
        "stuck_thread": "a thread stayed busy with no run in flight",
        "thread_idle_while_busy": "a thread read idle while one of its runs was pending or running",
        "unexpected_run": "a run nobody created executed on, or was listed on, a thread",
        "wrong_final_status": "a run's final status contradicts what its graph did",
        "wrong_owner": "a resource one user created was reported owned by another user",
    }
)

#: Checker families, in report order: each anomaly type belongs to exactly one.
CHECKERS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "concurrency": ("concurrent_runs",),
        "fifo": ("fifo_violation",),
        "duplicates": ("duplicate_execution",),
        "unexpected": ("unexpected_run",),
        "lost": ("lost_run",),
        "stuck": ("stuck_run", "stuck_thread"),
        "status": ("status_regression", "thread_idle_while_busy", "busy_without_run"),
        "interrupt": ("interrupt_not_applied", "interrupt_cancelled_pending"),
        "rollback": ("rollback_not_applied", "rollback_cancelled_pending"),
        "reject": ("reject_accepted", "reject_refused_idle"),
        "final_status": ("wrong_final_status",),
        "results": ("result_lost", "join_result_mismatch", "reply_mismatch"),
        "writes": ("lost_write",),
        "isolation": ("isolation_breach", "wrong_owner", "auth_inconsistent"),
    }
)

#: Known behaviours of the in-memory server (langgraph-api 0.16, runtime-inmem 0.36) that
#: the observed profile accepts and the documented profile flags.
BEHAVIOURS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "cancels_all_in_flight": (
            "interrupt and rollback cancel every in-flight run of the thread, pending ones "
            "included; the docs speak only of the current run"
        ),
        "rollback_keeps_subscribed_run": (
            "a rollback marks a run with a live stream or join subscriber interrupted "
            "instead of deleting it"
        ),
        "idle_while_in_flight": (
            "after an interrupt, rollback or cancel the thread reads idle while a run on it "
            "is still pending or running"
        ),
        "busy_after_rollback_cancel": (
            "a rollback cancel leaves the thread busy until another run finishes on it"
        ),
        "busy_after_final": ("a thread may read busy for a few seconds after its last run ended"),
        "join_returns_current_values": (
            "a join after the run ended returns the thread's current values, not that run's result"
        ),
    }
)


@final
@dataclass(frozen=True, slots=True)
class Anomaly:
    """One anomaly: its type, where, a one-sentence explanation, and its witnesses.

    ``flagged_by`` names the profiles that count it as a violation; ``behaviour`` names the
    known server behaviour that lets the other profile accept it.
    """

    type: str
    thread_id: str
    run_ids: tuple[str, ...]
    explanation: str
    events: tuple[EventRef, ...]
    flagged_by: frozenset[Profile] = BOTH
    behaviour: str | None = None

    def __post_init__(self) -> None:
        if self.type not in ANOMALY_TYPES:
            raise ValueError(f"unknown anomaly type {self.type!r}")
        if self.behaviour is not None and self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}")

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """What makes two anomalies the same; one naming no run (a stream that never said
        which run it was) is told apart by its first witness."""
        if self.run_ids or not self.events:
            return (self.type, self.thread_id, self.run_ids)
        first = self.events[0]
        return (self.type, self.thread_id, (f"@{first.file}:{first.index}",))

    @property
    def first_time_s(self) -> float:
        return min((e.time_s for e in self.events), default=0.0)

    def to_dict(self, *, with_file: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "thread_id": self.thread_id,
            "run_ids": list(self.run_ids),
            "explanation": self.explanation,
            "events": [e.to_dict(with_file=with_file) for e in self.events],
            "flagged_by": sorted(self.flagged_by),
        }
        if self.behaviour is not None:
            out["behaviour"] = self.behaviour
        return out
