"""Checks every history the engine writes must pass, whatever the workload."""

from __future__ import annotations

from lgbench.history import History


def assert_well_formed(history: History) -> None:
    """Indexes ascend from 0; each invoke completes once, later, on its own process, and a
    process never has two operations in flight nor invokes again after an info."""
    assert [e["index"] for e in history.events] == list(range(len(history.events)))
    open_by_process: dict[int, int] = {}
    done_processes: set[int] = set()
    completed: set[int] = set()
    by_index = {e["index"]: e for e in history.events}
    for event in history.events:
        if event["type"] == "invoke":
            process = event["process"]
            assert process not in open_by_process, f"process {process} has two in flight"
            assert process not in done_processes, f"process {process} invoked after info"
            open_by_process[process] = event["index"]
        elif event["type"] in ("ok", "fail", "info"):
            invoke = by_index[event["invoke_index"]]
            assert invoke["type"] == "invoke" and invoke["f"] == event["f"]
            assert invoke["process"] == event["process"]
            assert event["time_ns"] >= invoke["time_ns"]
            assert event["invoke_index"] not in completed
            completed.add(event["invoke_index"])
            del open_by_process[event["process"]]
            if event["type"] == "info":
                done_processes.add(event["process"])
    assert open_by_process == {}, "every invoke got its completion"
