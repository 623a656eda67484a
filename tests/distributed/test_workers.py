"""``--workers 2`` against the real embedded server: one run, exactly merged results.

Each run splits a sample workload (shortened) over two worker processes and must leave one run
folder whose summary counts are the workers' counts added up, whose merged interval log holds,
bucket for bucket, the merge of the workers' own interval logs, whose histories keep process
ids unique across the workers, and whose checker verdict is valid. Then the faults of the load
generator itself: a worker killed mid-run, the coordinator stopped or killed.
"""

from __future__ import annotations

import collections
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from rich.console import Console

from lgbench.check import check_history
from lgbench.distributed import WorkerPool, history_name, intervals_name
from lgbench.engine import Overrides
from lgbench.engine._overrides import apply_overrides
from lgbench.history import read_history
from lgbench.metrics import LatencyRecorder
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WORKLOADS = Path(__file__).parents[2] / "workloads"
WORKERS = 2


@pytest.fixture(params=[pytest.param("asyncio"), pytest.param("trio")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return (request.param, {})


def _hlog(path: Path) -> dict[str, LatencyRecorder]:
    """Every interval of an .hlog merged, per tag."""
    merged: dict[str, LatencyRecorder] = collections.defaultdict(LatencyRecorder)
    for line in path.read_text().splitlines():
        if line.startswith("Tag="):
            tag, _start, _length, _max, blob = line.split(",", 4)
            merged[tag.removeprefix("Tag=")].merge(LatencyRecorder.from_blob(blob))
    return merged


def _completions(run_dir: Path) -> tuple[collections.Counter[str], list[set[int]]]:
    """Completions per operation over the workers' histories, and each one's process ids."""
    counts: collections.Counter[str] = collections.Counter()
    processes: list[set[int]] = []
    for number in range(1, WORKERS + 1):
        history = read_history(run_dir / history_name(number))
        assert history.header["worker"] == number
        assert history.header["workers"] == WORKERS
        assert "clock_offset_s" in history.header
        ids: set[int] = set()
        for event in history.events:
            if event.get("type") in ("ok", "fail", "info"):
                counts[event["f"]] += 1
            if event.get("process") is not None:
                ids.add(event["process"])
        processes.append(ids)
    return counts, processes


@pytest.mark.parametrize("name", ["quickstart", "double-texting"])
async def test_two_workers_merge_into_one_exact_run(
    name: str, langgraph_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    result = await run_workload(
        load_workload(WORKLOADS / f"{name}.toml"),
        RunOptions(
            target=langgraph_url,
            out_dir=run_dir,
            overrides=Overrides(duration_s=3.0, vus=2, graceful_stop_s=3.0),
            report=False,
        ),
        checker=check_history,
        load=WorkerPool(WORKERS),
    )
    assert not result.partial, result.stop_reason
    summary = json.loads((run_dir / "summary.json").read_text())
    workers = summary["workers"]
    assert [w["worker"] for w in workers] == [1, 2]
    assert all(w["status"] == "finished" and w["pid"] != os.getpid() for w in workers)
    assert all(abs(w["clock_offset_ms"]) < 1000 for w in workers)  # one machine, one clock

    # Counts: the summary's are the workers' completions added up.
    completions, processes = _completions(run_dir)
    assert {op: s["count"] for op, s in summary["operations"].items()} == dict(completions)
    assert processes[0].isdisjoint(processes[1])
    coordinator = read_history(run_dir / "history.jsonl")
    assert coordinator.header["worker"] == 0
    for event in coordinator.events:  # the audit's processes are the coordinator's own
        if event.get("process") is not None:
            assert event["process"] % (WORKERS + 1) == 0

    # Histograms: the merged log is the merge of the workers' logs, bucket for bucket.
    merged = _hlog(run_dir / "intervals.hlog")
    parts: dict[str, LatencyRecorder] = collections.defaultdict(LatencyRecorder)
    for number in range(1, WORKERS + 1):
        for tag, recorder in _hlog(run_dir / intervals_name(number)).items():
            parts[tag].merge(recorder)
    # Loop lag too: the coordinator, which runs no load, does not add its own loop's.
    assert set(merged) == set(parts)
    for tag, recorder in parts.items():
        assert merged[tag].value_counts() == recorder.value_counts(), tag
    for operation, stats in summary["operations"].items():
        if operation in merged:
            assert merged[operation].count == sum(n for _v, n in merged[operation].value_counts())
            assert stats["latency_ms"]["max"] == pytest.approx(
                merged[operation].max_us / 1000, rel=1e-3
            )

    # timeseries.jsonl: the merged intervals add up to the summary too.
    lines = [json.loads(line) for line in (run_dir / "timeseries.jsonl").read_text().splitlines()]
    for operation, stats in summary["operations"].items():
        logged = sum(line["operations"].get(operation, {}).get("count", 0) for line in lines[1:])
        assert logged == stats["count"], operation

    # Scenarios: iterations of both workers; the whole plan's VUs.
    workload = apply_overrides(load_workload(WORKLOADS / f"{name}.toml"), Overrides(vus=2))
    for scenario in workload.scenarios:
        figures = summary["scenarios"][scenario.name]
        assert figures["started"]
        assert figures["max_vus"] == scenario.max_vus()
        iterations = figures["iterations"]
        assert iterations["started"] >= iterations["finished"] > 0

    # One history of the whole run: the checker read every process's file.
    assert result.check is not None and result.check.valid is True
    if name == "double-texting":
        starts = sum(
            len(read_history(run_dir / history_name(n)).markers("burst.start"))
            for n in range(1, WORKERS + 1)
        )
        assert starts == 8  # 4 strategies x 2 threads, split over the workers


async def test_a_worker_killed_mid_run_is_a_fault_not_a_lost_run(
    langgraph_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    pool = WorkerPool(WORKERS)

    async def kill_the_second_worker() -> None:
        # Polling the pool's state, which has no event to wait for.
        while not (pool.workers and pool.workers[-1].status == "running"):  # noqa: ASYNC110
            await anyio.sleep(0.05)
        while pool.workers[-1].intervals < 1:  # noqa: ASYNC110 - it delivered something
            await anyio.sleep(0.05)
        os.kill(pool.workers[-1].process.pid or 0, signal.SIGKILL)

    async with anyio.create_task_group() as group:
        group.start_soon(kill_the_second_worker)
        result = await run_workload(
            load_workload(WORKLOADS / "quickstart.toml"),
            RunOptions(
                target=langgraph_url,
                out_dir=run_dir,
                overrides=Overrides(duration_s=4.0, graceful_stop_s=2.0),
                report=False,
            ),
            checker=check_history,
            load=pool,
        )
    summary = result.summary
    assert summary is not None
    statuses = [w["status"] for w in summary["workers"]]
    assert statuses == ["finished", "lost"]
    assert summary["workers"][1]["intervals"] >= 1
    faults = [f for f in summary["faults"] if f["kind"] == "worker.lost"]
    assert [f["name"] for f in faults] == ["worker 2"]
    assert any("worker 2" in warning for warning in summary["warnings"])
    # Its results up to its last interval stay in the run.
    lost_completions = sum(
        1
        for event in read_history(run_dir / history_name(2)).events
        if event.get("type") in ("ok", "fail", "info")
    )
    assert lost_completions > 0
    assert sum(op["count"] for op in summary["operations"].values()) > 0
    markers = read_history(run_dir / "history.jsonl").markers("worker.lost")
    assert [m["value"]["worker"] for m in markers] == [2]
    # Every invoke of the dead worker has a completion line or is declared info by its loss,
    # in the end-of-run check as in `lgbench check`: unknown outcomes, never an anomaly.
    events = read_history(run_dir / history_name(2)).events
    completed = {e["invoke_index"] for e in events if e.get("type") in ("ok", "fail", "info")}
    cut_short = sum(1 for e in events if e.get("type") == "invoke" and e["index"] not in completed)
    for check in (result.check, check_history(run_dir)):
        assert check is not None and check.valid is not False
        assert check.history["lost_worker_invokes"] == cut_short
        assert check.history["unpaired_invokes"] == 0
    assert not any(w.process.is_alive() for w in pool.workers)


async def test_the_summary_and_its_checkpoints_count_every_process(
    langgraph_url: str, tmp_path: Path
) -> None:
    """``history`` counts the lines and segments of every history file of the run (the
    coordinator's and each worker's, rotated here), and the checkpoint summary.json written
    while the run goes carries the ``workers`` list too."""
    run_dir = tmp_path / "run"
    checkpoints: list[dict[str, Any]] = []

    async def watch_checkpoints() -> None:
        path = run_dir / "summary.json"
        while True:
            if path.exists():  # written atomically: whole or absent
                summary = json.loads(path.read_text())
                if summary["stop_reason"] != "completed":
                    checkpoints.append(summary)
            await anyio.sleep(0.2)

    async with anyio.create_task_group() as group:
        group.start_soon(watch_checkpoints)
        result = await run_workload(
            load_workload(WORKLOADS / "quickstart.toml"),
            RunOptions(
                target=langgraph_url,
                out_dir=run_dir,
                overrides=Overrides(duration_s=4.0, vus=2, graceful_stop_s=2.0),
                report=False,
                checkpoint_s=1.0,
                history_rotate_bytes=16 * 1024,
            ),
            load=WorkerPool(WORKERS),
        )
        group.cancel_scope.cancel()
    summary = result.summary
    assert summary is not None and not result.partial, result.stop_reason

    files = [run_dir / "history.jsonl"] + [run_dir / history_name(n) for n in (1, 2)]
    events = sum(len(read_history(path).events) for path in files)
    segments = sorted(run_dir.glob("history*-[0-9]*.jsonl*"))
    assert any(path.name.startswith("history.w") for path in segments)  # the workers rotated
    assert summary["history"]["events"] == events
    assert summary["history"]["segments"] == len(segments) > 0
    assert summary["history"]["events"] > sum(w["history_events"] for w in summary["workers"])

    assert checkpoints, "no checkpoint summary.json was seen while the run went"
    for checkpoint in checkpoints:
        assert checkpoint["partial"] is True
        assert [w["worker"] for w in checkpoint["workers"]] == [1, 2]
        assert {w["status"] for w in checkpoint["workers"]} <= {"running", "finished"}
        assert all(
            w["pid"] == s["pid"]
            for w, s in zip(checkpoint["workers"], summary["workers"], strict=True)
        )
    last = checkpoints[-1]
    workers_events = sum(w["history_events"] or 0 for w in last["workers"])
    # The coordinator writes into its own history mostly after the load (the audit).
    assert 0 < workers_events <= last["history"]["events"] < events


def _lgbench(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lgbench.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if kwargs.pop("capture", False) else subprocess.DEVNULL,
        start_new_session=True,
        **kwargs,
    )


def _worker_pids(run_dir: Path, timeout_s: float = 60.0) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pids = []
        for number in range(1, WORKERS + 1):
            path = run_dir / history_name(number)
            if path.exists() and path.stat().st_size:
                header = json.loads(path.read_text().splitlines()[0])
                pids.append(int(header["pid"]))
        if len(pids) == WORKERS:
            return pids
        time.sleep(0.1)
    raise AssertionError("the workers never started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent, killed, cannot reap it yet).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_sigterm_stops_every_worker_and_writes_the_folder(
    langgraph_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    process = _lgbench(
        "run",
        str(WORKLOADS / "quickstart.toml"),
        "--workers",
        "2",
        "--target",
        langgraph_url,
        "--out",
        str(run_dir),
        "--duration",
        "30s",
        "--no-report",
        "--quiet",
        capture=True,
    )
    try:
        pids = _worker_pids(run_dir)
        time.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signal.SIGTERM, err.decode()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["partial"] is True
    assert [w["status"] for w in summary["workers"]] == ["stopped", "stopped"]
    assert summary["duration_s"] < 20
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def test_workers_outlive_a_killed_coordinator_by_seconds_at_most(
    langgraph_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    process = _lgbench(
        "run",
        str(WORKLOADS / "quickstart.toml"),
        "--workers",
        "2",
        "--target",
        langgraph_url,
        "--out",
        str(run_dir),
        "--duration",
        "60s",
        "--quiet",
    )
    pids: list[int] = []
    try:
        pids = _worker_pids(run_dir)
        time.sleep(1.0)
        process.kill()
        process.wait(timeout=10)
        killed_at = time.monotonic()
        while any(_alive(pid) for pid in pids) and time.monotonic() - killed_at < 10:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in pids), "a worker outlived its coordinator"
    finally:
        if process.poll() is None:
            process.kill()
        for pid in pids:  # never leave one behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


ABORTING = """
name = "aborting"

[[scenario]]
name = "creates"
executor = "constant-vus"
vus = 4
duration = "40s"
steps = [{ op = "threads.create" }]

[thresholds]
"threads.create.latency.p50" = { condition = "< 0.001ms", abort_on_fail = true }
"""


async def test_an_aborting_threshold_stops_every_worker(langgraph_url: str, tmp_path: Path) -> None:
    from lgbench.workload import parse_workload

    shown = io.StringIO()
    result = await run_workload(
        parse_workload(ABORTING, path=tmp_path / "aborting.toml"),
        RunOptions(
            target=langgraph_url,
            out_dir=tmp_path / "run",
            report=False,
            live="plain",
            plain_every_s=0.5,
        ),
        load=WorkerPool(WORKERS),
        console=Console(file=shown, width=200),
    )
    # The live view: merged figures, then one line per worker.
    assert "worker 1 (pid" in shown.getvalue() and "worker 2 (pid" in shown.getvalue()
    summary = result.summary
    assert summary is not None
    assert result.partial
    assert result.stop_reason.startswith("threshold"), result.stop_reason
    assert [w["status"] for w in summary["workers"]] == ["stopped", "stopped"]
    assert summary["duration_s"] < 20  # not the planned 40 s
    assert summary["thresholds"]["passed"] is False
    # Both workers ran their half of the VUs before the stop.
    assert summary["scenarios"]["creates"]["vus_allocated"] == 4
    assert all(w["history_events"] for w in summary["workers"])


def test_require_all_workers_makes_a_lost_worker_exit_3(langgraph_url: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    process = _lgbench(
        "run",
        str(WORKLOADS / "quickstart.toml"),
        "--workers",
        "2",
        "--require-all-workers",
        "--target",
        langgraph_url,
        "--out",
        str(run_dir),
        "--duration",
        "4s",
        "--no-report",
        "--quiet",
        capture=True,
    )
    try:
        pids = _worker_pids(run_dir)
        time.sleep(1.0)
        os.kill(pids[0], signal.SIGKILL)
        _out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 3, err.decode()
    assert "1 of 2 workers were lost" in err.decode()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [w["status"] for w in summary["workers"]] == ["lost", "finished"]


async def test_report_and_baseline_work_on_the_merged_run(
    langgraph_url: str, tmp_path: Path
) -> None:
    workload = load_workload(WORKLOADS / "quickstart.toml")
    overrides = Overrides(duration_s=2.0, vus=2, graceful_stop_s=2.0)
    first = await run_workload(
        workload,
        RunOptions(target=langgraph_url, out_dir=tmp_path / "base", overrides=overrides),
        load=WorkerPool(WORKERS),
    )
    second = await run_workload(
        workload,
        RunOptions(
            target=langgraph_url,
            out_dir=tmp_path / "new",
            overrides=overrides,
            baseline=first.run_dir,
        ),
        load=WorkerPool(WORKERS),
    )
    assert "report" in first.files and first.files["report"].stat().st_size > 0
    assert first.summary is not None and second.summary is not None
    baseline = second.summary["baseline"]
    # The merged runs were compared operation by operation, with their merged counts.
    assert set(baseline["operations"]) == set(second.summary["operations"])
    for name, compared in baseline["operations"].items():
        assert compared["count"]["new"] == second.summary["operations"][name]["count"]
        assert compared["count"]["base"] == first.summary["operations"][name]["count"]


@pytest.mark.slow
def test_users_tokens_reach_the_workers_in_memory_only(tmp_path: Path) -> None:
    """tenants.toml (shortened) split over two workers: every VU acts as its user, on both
    workers, the isolation checks pass, and no file of the run holds a token."""
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    from lgbench.server import AUTH_SECRET_ENV, fixture_token

    secret = "a-known-fixture-secret-for-this-test"
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lgbench.cli",
            "run",
            str(WORKLOADS / "tenants.toml"),
            "--workers",
            "2",
            "--duration",
            "6s",
            "--out",
            str(run_dir),
            "--no-live",
            "--no-report",
        ],
        capture_output=True,
        timeout=600,
        env={**os.environ, AUTH_SECRET_ENV: secret},
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output.decode(errors="replace")[-4000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [w["status"] for w in summary["workers"]] == ["finished", "finished"]
    # An unauthenticated request would make every create fail: none did.
    assert not [entry for entry in summary["never_succeeded"] if not entry["expected"]]
    assert summary["check"]["valid"] is True
    audit = summary["audit"]  # the workers' threads, read back each as its owner
    assert audit["ran"] and audit["threads"] > 0
    assert audit["gone"] == audit["not_read"] == 0
    users: set[str] = set()
    for number in range(1, WORKERS + 1):
        history = read_history(run_dir / history_name(number))
        assert history.header["auth"] == {"users": 6, "policy": "owner-only"}
        for event in history.events:
            if event.get("type") == "invoke":
                user = event.get("user") or (event.get("value") or {}).get("user")
                users.add(user) if user else None
    assert len(users) == 6  # 12 VUs, two per user, striped over the workers

    tokens = [fixture_token(f"user-{n}", secret).encode() for n in range(1, 7)]
    signatures = [token.rsplit(b".", 1)[1] for token in tokens]
    assert not any(s in output for s in signatures)
    for path in run_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            assert not any(s in data for s in signatures), path.name


def test_reply_rates_of_the_workers_merge_exactly_live_and_in_the_summary() -> None:
    """What a worker ships of its chat replies (each interval's per-stream rates, its
    cumulative ones with its counts) adds up in the coordinator to the histogram of every
    stream together: the live view's tok/s p10 and the summary's figures are exact."""
    from lgbench.results import token_rate_stats
    from tests.engine.test_runner_live import Clock, busy_recorder, chat_recorder, reply_rates

    workers = [chat_recorder(Clock()) for _ in range(WORKERS)]
    snapshots = [worker.snapshot(1.0) for worker in workers]
    clock = Clock()
    coordinator = busy_recorder(clock)
    for snapshot in snapshots:
        coordinator.absorb_interval(snapshot.operations.to_dict(), snapshot.derived.to_dict())
    expected = LatencyRecorder()
    for snapshot in snapshots:
        expected.merge(reply_rates(snapshot)[("chat", "runs.stream")])
    merged = reply_rates(coordinator.snapshot(1.0))[("chat", "runs.stream")]
    assert merged.count == expected.count == 20 * WORKERS
    assert merged.to_dict() == expected.to_dict()
    assert reply_rates(coordinator.snapshot(2.0)) == {}  # handed over once

    coordinator.import_counts(worker.export_counts() for worker in workers)
    whole = coordinator.operations_summary(2.0)["runs.stream"]["stream"]["stream_tokens_per_s"]
    assert whole == msgspec.structs.asdict(token_rate_stats(expected))


def test_the_live_line_shows_the_workers_tokens_per_second(
    langgraph_url: str, tmp_path: Path
) -> None:
    """chat-agents, shortened, over two workers: the plain live line carries the slowest
    tokens/s p10 of the interval, and the summary the reply streams' rates."""
    run_dir = tmp_path / "run"
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "lgbench.cli",
            "run",
            str(WORKLOADS / "chat-agents.toml"),
            "--workers",
            "2",
            "--target",
            langgraph_url,
            "--out",
            str(run_dir),
            "--duration",
            "11s",
            "--graceful-stop",
            "3s",
            "--no-report",
            "--no-live",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    # Thresholds of a shortened run may miss (4); anything else is a failure here.
    assert process.returncode in (0, 4), process.stdout + process.stderr
    lines = re.findall(r"slowest tokens/s p10 ([0-9.]+)/s", process.stdout)
    assert lines and all(float(rate) > 0 for rate in lines), process.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    rates = summary["operations"]["runs.stream"]["stream"]["stream_tokens_per_s"]
    assert rates["p10"] is not None and 0 < rates["min"] <= rates["p10"] <= rates["max"]
