"""The hand-written histories (tests/data/histories/), re-checked on every run.

Each case's verdict is compared as a whole dict, per profile: the top-level verdict, the
anomaly counts, the findings (what the documented profile flags and the observed one
accepts) and every checker that did not pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lgbench.check import ANOMALY_TYPES, CheckResult, Profile, check_history
from tests.check._cases import CASES, DIRECTORY

F, U = False, "unknown"


def verdict(result: CheckResult) -> dict[str, Any]:
    findings: dict[str, int] = {}
    for anomaly in result.findings:
        key = anomaly.behaviour or "other"
        findings[key] = findings.get(key, 0) + 1
    return {
        "valid": result.valid,
        "anomalies": result.anomaly_counts(),
        "findings": dict(sorted(findings.items())),
        "checkers": {
            name: checker.valid
            for name, checker in result.checkers.items()
            if checker.threads and checker.valid is not True
        },
    }


def v(
    valid: bool | str = True,
    anomalies: dict[str, int] | None = None,
    findings: dict[str, int] | None = None,
    checkers: dict[str, bool | str] | None = None,
) -> dict[str, Any]:
    return {
        "valid": valid,
        "anomalies": anomalies or {},
        "findings": findings or {},
        "checkers": checkers or {},
    }


def flagged(anomaly: str, checker: str) -> dict[str, Any]:
    return v(F, {anomaly: 1}, checkers={checker: F})


# case → verdict under both profiles, or (observed, documented) when they differ.
EXPECTED: dict[str, dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]] = {
    "enqueue_clean": v(),
    "concurrent_runs": flagged("concurrent_runs", "concurrency"),
    "concurrent_statuses": flagged("concurrent_runs", "concurrency"),
    "fifo_violation": flagged("fifo_violation", "fifo"),
    "duplicate_execution": flagged("duplicate_execution", "duplicates"),
    "unexpected_run": flagged("unexpected_run", "unexpected"),
    "unexpected_run_after_info": v(),
    "lost_run": flagged("lost_run", "lost"),
    "stuck_run": v(
        F,
        {"stuck_run": 1},
        checkers={"concurrency": U, "fifo": U, "duplicates": U, "stuck": F},
    ),
    "stuck_run_overloaded": v(
        U, checkers={"concurrency": U, "fifo": U, "duplicates": U, "stuck": U}
    ),
    "stuck_thread": v(
        F, {"stuck_thread": 1, "busy_without_run": 1}, checkers={"stuck": F, "status": F}
    ),
    "stuck_thread_after_rollback_cancel": (
        v(findings={"busy_after_rollback_cancel": 2}),
        v(
            F,
            {"stuck_thread": 1, "busy_without_run": 1},
            {"busy_after_rollback_cancel": 2},
            {"stuck": F, "status": F},
        ),
    ),
    "status_regression": flagged("status_regression", "status"),
    "thread_idle_while_busy": flagged("thread_idle_while_busy", "status"),
    "interrupt_clean": (
        v(findings={"idle_while_in_flight": 1}),
        v(F, {"thread_idle_while_busy": 1}, {"idle_while_in_flight": 1}, {"status": F}),
    ),
    "interrupt_not_applied": flagged("interrupt_not_applied", "interrupt"),
    "interrupt_end_within_slack": v(),
    "interrupt_cancels_pending": (
        v(findings={"cancels_all_in_flight": 1}),
        v(F, {"interrupt_cancelled_pending": 1}, {"cancels_all_in_flight": 1}, {"interrupt": F}),
    ),
    "rollback_clean": v(),
    "rollback_cancels_pending": (
        v(findings={"cancels_all_in_flight": 1}),
        v(F, {"rollback_cancelled_pending": 1}, {"cancels_all_in_flight": 1}, {"rollback": F}),
    ),
    "rollback_not_applied": flagged("rollback_not_applied", "rollback"),
    "rollback_not_applied_subscribed": (
        v(findings={"rollback_keeps_subscribed_run": 1}),
        v(
            F,
            {"rollback_not_applied": 1},
            {"rollback_keeps_subscribed_run": 1},
            {"rollback": F},
        ),
    ),
    "rollback_survivor": flagged("rollback_not_applied", "rollback"),
    "reject_clean": v(),
    "reject_accepted": flagged("reject_accepted", "reject"),
    "reject_refused_idle": flagged("reject_refused_idle", "reject"),
    "reject_refused_after_info": v(),
    "failing_clean": v(),
    "failing_success": flagged("wrong_final_status", "final_status"),
    "error_after_end": flagged("wrong_final_status", "final_status"),
    "stream_clean": v(),
    "stream_empty": flagged("result_lost", "results"),
    "join_after_end": (
        v(findings={"join_returns_current_values": 1}),
        v(F, {"join_result_mismatch": 1}, {"join_returns_current_values": 1}, {"results": F}),
    ),
    "join_before_end": flagged("join_result_mismatch", "results"),
    "stream_then_state": v(),
    "copied_thread": v(),
    "no_settle": v(
        U,
        checkers={
            "concurrency": U,
            "fifo": U,
            "duplicates": U,
            "unexpected": U,
            "stuck": U,
        },
    ),
    "no_state": v(U),
    "header_only": v(U),
    "tenants_isolated": v(),
    "tenants_search_leak": flagged("isolation_breach", "isolation"),
    "tenants_wrong_owner": flagged("wrong_owner", "isolation"),
    "tenants_auth_inconsistent": flagged("auth_inconsistent", "isolation"),
    "tenants_other_reads": flagged("isolation_breach", "isolation"),
    "tenants_shared_reads": v(),
    "tenants_one_owner": flagged("wrong_owner", "isolation"),
    "searched_clean": v(),
    "searched_concurrent_runs": flagged("concurrent_runs", "concurrency"),
    "searched_fifo_violation": flagged("fifo_violation", "fifo"),
    "searched_lost_write": flagged("lost_write", "writes"),
    "searched_busy_without_run": v(F, {"busy_without_run": 1}, checkers={"stuck": U, "status": F}),
    "lost_write": flagged("lost_write", "writes"),
    "lost_write_clean": v(),
    "busy_without_run": flagged("busy_without_run", "status"),
    "busy_briefly_after_run": (
        v(findings={"busy_after_final": 1}),
        v(F, {"busy_without_run": 1}, {"busy_after_final": 1}, {"status": F}),
    ),
    "wait_empty": flagged("result_lost", "results"),
    "wait_error_then_success": flagged("wrong_final_status", "final_status"),
    "stateless_wait_clean": v(),
    "stateless_wait_empty": flagged("result_lost", "results"),
    "stateless_wait_foreign": flagged("result_lost", "results"),
    "stateless_stream_clean": v(),
    "stateless_stream_empty": flagged("result_lost", "results"),
    "chat_reply_clean": v(),
    "chat_reply_gap": flagged("reply_mismatch", "results"),
    "chat_reply_repeated": flagged("reply_mismatch", "results"),
    "chat_reply_cut": flagged("reply_mismatch", "results"),
    "stateless_chat_reply_cut": flagged("reply_mismatch", "results"),
}

# anomaly → (case that must flag it, its profile), (case that must pass, its profile).
PAIRS: dict[str, tuple[tuple[str, Profile], tuple[str, Profile]]] = {
    "isolation_breach": (("tenants_search_leak", "observed"), ("tenants_isolated", "observed")),
    "wrong_owner": (("tenants_wrong_owner", "documented"), ("tenants_isolated", "documented")),
    "auth_inconsistent": (
        ("tenants_auth_inconsistent", "observed"),
        ("tenants_isolated", "observed"),
    ),
    "concurrent_runs": (("concurrent_runs", "observed"), ("enqueue_clean", "documented")),
    "duplicate_execution": (("duplicate_execution", "observed"), ("enqueue_clean", "documented")),
    "fifo_violation": (("fifo_violation", "observed"), ("enqueue_clean", "documented")),
    "interrupt_cancelled_pending": (
        ("interrupt_cancels_pending", "documented"),
        ("interrupt_cancels_pending", "observed"),
    ),
    "interrupt_not_applied": (
        ("interrupt_not_applied", "observed"),
        ("interrupt_end_within_slack", "documented"),
    ),
    "join_result_mismatch": (("join_after_end", "documented"), ("join_after_end", "observed")),
    "lost_run": (("lost_run", "observed"), ("rollback_clean", "documented")),
    "reject_accepted": (("reject_accepted", "observed"), ("reject_clean", "documented")),
    "reject_refused_idle": (
        ("reject_refused_idle", "observed"),
        ("reject_refused_after_info", "documented"),
    ),
    "result_lost": (("stream_empty", "observed"), ("stream_clean", "documented")),
    "rollback_cancelled_pending": (
        ("rollback_cancels_pending", "documented"),
        ("rollback_cancels_pending", "observed"),
    ),
    "rollback_not_applied": (
        ("rollback_not_applied", "observed"),
        ("rollback_clean", "documented"),
    ),
    "status_regression": (("status_regression", "observed"), ("enqueue_clean", "documented")),
    "stuck_run": (("stuck_run", "observed"), ("enqueue_clean", "documented")),
    "stuck_thread": (("stuck_thread", "observed"), ("enqueue_clean", "documented")),
    "thread_idle_while_busy": (("interrupt_clean", "documented"), ("interrupt_clean", "observed")),
    "unexpected_run": (("unexpected_run", "observed"), ("unexpected_run_after_info", "documented")),
    "wrong_final_status": (("failing_success", "observed"), ("failing_clean", "documented")),
    "lost_write": (("lost_write", "observed"), ("lost_write_clean", "documented")),
    "reply_mismatch": (("chat_reply_gap", "observed"), ("chat_reply_clean", "documented")),
    "busy_without_run": (
        ("busy_briefly_after_run", "documented"),
        ("busy_briefly_after_run", "observed"),
    ),
}


def path(name: str) -> Path:
    return DIRECTORY / f"{name}.jsonl"


def test_every_case_has_an_expected_verdict() -> None:
    assert set(EXPECTED) == set(CASES)
    assert {p.stem for p in DIRECTORY.glob("*.jsonl")} == set(CASES)


def test_every_anomaly_type_has_a_flagged_and_a_passing_case() -> None:
    assert set(PAIRS) == set(ANOMALY_TYPES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_files_are_what_the_cases_write(name: str) -> None:
    assert path(name).read_text(encoding="utf-8") == CASES[name]().text()


@pytest.mark.parametrize("profile", ["observed", "documented"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_verdict(name: str, profile: Profile) -> None:
    expected = EXPECTED[name]
    if isinstance(expected, tuple):
        expected = expected[0] if profile == "observed" else expected[1]
    assert verdict(check_history(path(name), profile=profile)) == expected


@pytest.mark.parametrize("anomaly", sorted(PAIRS))
def test_flagged_and_passing(anomaly: str) -> None:
    (bad, bad_profile), (good, good_profile) = PAIRS[anomaly]
    flagged_result = check_history(path(bad), profile=bad_profile)
    assert flagged_result.valid is False
    assert anomaly in flagged_result.anomaly_counts()
    passing = check_history(path(good), profile=good_profile)
    assert anomaly not in passing.anomaly_counts()
    assert passing.valid is True


def test_documented_flags_are_findings_under_both_profiles() -> None:
    for profile in ("observed", "documented"):
        result = check_history(path("interrupt_cancels_pending"), profile=profile)
        assert [a.type for a in result.findings] == ["interrupt_cancelled_pending"]
        assert result.findings[0].behaviour == "cancels_all_in_flight"


def test_witnesses_name_runs_events_and_times() -> None:
    result = check_history(path("fifo_violation"))
    (anomaly,) = result.anomalies
    assert anomaly.run_ids == ("A", "B")
    assert anomaly.explanation.startswith("run B started before run A on thread T1")
    assert [e.index for e in anomaly.events] == [2, 3, 18]
    assert [round(e.time_s, 3) for e in anomaly.events] == [0.02, 0.03, 2.102]
    assert anomaly.events[-1].what == "threads.get_state ok: tokens start:B end:B start:A end:A"


def test_unknown_says_what_was_missing() -> None:
    result = check_history(path("no_settle"))
    assert result.threads["T1"].unknown[0] == (
        "concurrency: no state read of thread T1 (threads.get_state, threads.get or "
        "threads.search): add one "
        "after its runs, or keep the post-run audit on"
    )
    stuck = result.checkers["stuck"]
    assert stuck.unknown[0] == "no burst.settled marker for thread T1: the history may be cut short"
    assert check_history(path("header_only")).unknown == (
        "no checkable thread: no burst marker, no thread state read and no stateless run "
        "result in the history: add a threads.get_state step after the runs, or keep the "
        "post-run audit on",
    )


def test_unchecked_threads_are_counted_not_judged() -> None:
    result = check_history(path("no_state"))
    assert result.counts["threads"] == 1
    assert result.counts["threads_unchecked"] == 1
    thread = result.threads["T1"]
    assert (thread.checked, thread.valid) == (False, "unknown")
    assert result.strategies == {}


def test_a_real_run_of_double_texting() -> None:
    """Recorded against the embedded server (langgraph-api 0.16.7, runtime-inmem 0.36.7):
    ``lgbench run workloads/double-texting.toml --vus 1 --duration 1s``."""
    path = DIRECTORY / "real" / "double-texting-inmem-0.16.7.jsonl"
    observed = check_history(path, profile="observed")
    assert verdict(observed) == v(findings={"idle_while_in_flight": 1})
    assert observed.counts["threads_checked"] == 4
    assert verdict(check_history(path, profile="documented")) == v(
        F, {"thread_idle_while_busy": 1}, {"idle_while_in_flight": 1}, {"status": F}
    )


def test_an_isolation_breach_names_the_user_the_resource_and_its_creator() -> None:
    result = check_history(path("tenants_search_leak"))
    (anomaly,) = result.anomalies
    assert anomaly.type == "isolation_breach"
    assert anomaly.thread_id == "tenancy"
    assert anomaly.explanation.startswith(
        "user-2's threads.search returned thread T1, which user-1 created"
    )
    assert [e.what for e in anomaly.events] == ["threads.search ok", "threads.create ok"]
    assert result.threads["tenancy"].anomalies == {"isolation_breach": 1}


def test_a_refused_probe_and_a_history_without_users_are_no_breach() -> None:
    isolated = check_history(path("tenants_isolated"))
    assert isolated.checkers["isolation"].threads == 1
    assert isolated.checkers["isolation"].valid is True
    plain = check_history(path("enqueue_clean"))
    assert plain.checkers["isolation"].threads == 0
    assert "tenancy" not in plain.threads


@pytest.mark.parametrize("partition_bytes", [1, 4 << 20])
def test_a_search_is_a_read_of_each_thread_it_found(partition_bytes: int) -> None:
    """Each thread is judged on its own part of one threads.search answer, whether the
    threads are spilled apart or not, and its witnesses cite the search."""
    result = check_history(path("searched_concurrent_runs"), partition_bytes=partition_bytes)
    assert {t: r.checked for t, r in result.threads.items()} == {"T1": True, "T2": True}
    assert result.threads["T2"].valid is True
    (anomaly,) = result.anomalies
    assert anomaly.thread_id == "T1"
    assert anomaly.events[0].what == "threads.search ok: tokens start:A start:B end:A end:B"
