"""The tenant-isolation judge keeps only what could still prove something."""

from __future__ import annotations

from pathlib import Path

from lgbench.check._reader import read_history
from lgbench.check._tenancy import Tenancy
from tests.check._builder import HistoryBuilder


def _own_work(h: HistoryBuilder, threads: int) -> None:
    for n in range(threads):
        user = f"user-{n % 3 + 1}"
        t = n * 0.01
        h.op(
            "threads.create",
            t,
            t + 0.001,
            args={"user": user},
            result={"thread_id": f"T{n}", "owner": user},
        )
        for k in range(3):
            h.op(
                "threads.get",
                t + 0.002 + k * 0.001,
                t + 0.0025 + k * 0.001,
                args={"user": user, "thread_id": f"T{n}"},
                result={"thread_id": f"T{n}", "owner": user},
            )


def test_a_users_own_work_leaves_nothing_to_judge_behind(tmp_path: Path) -> None:
    h = HistoryBuilder(workload="tenants")
    _own_work(h, 300)
    tenancy = Tenancy()
    for op in read_history(h.write(tmp_path / "history.jsonl")).operations:
        tenancy.operation(op)
    assert tenancy.judged == 1200
    assert len(tenancy.created) == 300
    assert tenancy._accesses == [] and tenancy._reports == []
    assert tenancy.anomalies("owner-only", lambda op: op) == ([], {})


def test_an_access_read_before_its_resources_creation_is_still_judged(tmp_path: Path) -> None:
    h = HistoryBuilder(workload="tenants")
    # user-2's read of T1 is answered before user-1's create line is written (the create's
    # answer came late): still a breach once the create is read.
    h.op("threads.create", 0.0, 0.5, args={"user": "user-1"}, result={"thread_id": "T1"})
    h.op(
        "threads.get",
        0.2,
        0.3,
        args={"user": "user-2", "thread_id": "T1"},
        result={"thread_id": "T1"},
        process=1,
    )
    tenancy = Tenancy()
    for op in read_history(h.write(tmp_path / "history.jsonl")).operations:
        tenancy.operation(op)
    anomalies, counts = tenancy.anomalies("owner-only", lambda op: op)
    assert counts == {"isolation_breach": 1}
    assert anomalies[0].explanation.startswith("user-2's threads.get succeeded on thread T1")
