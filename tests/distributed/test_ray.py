"""``--ray``: the workers as Ray actors on a two-node cluster on loopback.

Ray is the optional extra ``lgbench[ray]`` (about 240 MB, so not in ``test``): without it these
tests skip. The cluster is ``ray.cluster_utils.Cluster`` with two one-CPU nodes on 127.0.0.1
(Ray's ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps it on loopback), shut down by the test:
never ``ray stop``, never a bare ``ray.init()``.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before Ray is imported

from lgbench._secrets import Secret
from lgbench.check import check_history
from lgbench.cli import main
from lgbench.distributed import RUN_MARKER, RayPool, WorkerState, history_name, intervals_name
from lgbench.engine import Overrides, Recorder, RunControl, SplitRun
from lgbench.errors import TargetError, UsageError
from lgbench.history import HistoryWriter, read_history
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WORKLOADS = Path(__file__).parents[2] / "workloads"


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("asyncio", {})


def _start_two_nodes(scratch: Path) -> Any:
    """A head node (the coordinator's) and a second node whose workers' temporary folder is
    ``scratch``: a worker there writes its files away from the run folder, as on another
    machine, and they must come back."""
    pytest.importorskip("ray", reason="needs the lgbench[ray] extra")
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False},
    )
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1", env_vars={"TMPDIR": str(scratch)})
        cluster.wait_for_nodes()
    except BaseException:
        cluster.shutdown()
        raise
    cluster.scratch = scratch  # for the tests' eyes
    return cluster


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    cluster = _start_two_nodes(tmp_path_factory.mktemp("second-node"))
    try:
        yield cluster
    finally:
        cluster.shutdown()


def _other_node(cluster: Any) -> Any:
    (node,) = [node for node in cluster.list_all_nodes() if node is not cluster.head_node]
    return node


def _lgbench(*args: str) -> tuple[int, str]:
    """``lgbench ARGS`` in this process, with its exit code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


async def test_a_run_spans_both_nodes_with_the_same_result_shape(
    two_nodes: Any, langgraph_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    result = await run_workload(
        load_workload(WORKLOADS / "quickstart.toml"),
        RunOptions(
            target=langgraph_url,
            out_dir=run_dir,
            overrides=Overrides(duration_s=3.0, vus=2, graceful_stop_s=3.0),
            report=False,
        ),
        checker=check_history,
        load=RayPool(2, two_nodes.address),
    )
    assert not result.partial, result.stop_reason
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [w["status"] for w in summary["workers"]] == ["finished", "finished"]
    assert len({w["pid"] for w in summary["workers"]}) == 2
    completions: collections.Counter[str] = collections.Counter()
    for number in (1, 2):
        for event in read_history(run_dir / history_name(number)).events:
            if event.get("type") in ("ok", "fail", "info"):
                completions[event["f"]] += 1
    assert {op: s["count"] for op, s in summary["operations"].items()} == dict(completions)
    assert result.check is not None and result.check.valid is True
    assert not (run_dir / RUN_MARKER).exists()
    import ray

    assert not ray.is_initialized()  # disconnected; the cluster is the test's to stop


async def test_the_files_of_a_worker_on_another_node_come_back_to_the_run_folder(
    two_nodes: Any, langgraph_url: str, tmp_path: Path
) -> None:
    """The second node's worker writes its history (rotated, compressed segments too) and its
    interval log under that node's own temporary folder; at the end the coordinator copies
    them into its run folder, where `lgbench check` reads every process's history."""
    run_dir = tmp_path / "run"
    result = await run_workload(
        load_workload(WORKLOADS / "quickstart.toml"),
        RunOptions(
            target=langgraph_url,
            out_dir=run_dir,
            overrides=Overrides(duration_s=3.0, vus=2, graceful_stop_s=3.0),
            report=False,
            history_rotate_bytes=16 * 1024,
        ),
        checker=check_history,
        load=RayPool(2, two_nodes.address),
    )
    assert not result.partial, result.stop_reason
    summary = json.loads((run_dir / "summary.json").read_text())
    workers = {w["node"]: w for w in summary["workers"]}
    head, other = two_nodes.head_node.node_id, _other_node(two_nodes).node_id
    assert set(workers) == {head, other}  # one worker on each node
    assert workers[head]["shipped_bytes"] is None  # wrote into the run folder itself
    away = workers[other]
    number = away["worker"]
    assert away["status"] == "finished"
    shipped = [
        path
        for path in run_dir.iterdir()
        if path.name in (history_name(number), intervals_name(number))
        or path.name.startswith(f"history.w{number}-")
    ]
    assert {path.name for path in shipped} >= {history_name(number), intervals_name(number)}
    assert any(path.name.endswith(".jsonl.gz") for path in shipped)  # rotated segments too
    assert away["shipped_bytes"] == sum(path.stat().st_size for path in shipped)
    # The scratch folder on its node is gone once its files are home.
    assert not list(two_nodes.scratch.glob("lgbench-worker-*"))

    # Its history is read like the others: every completion it wrote is in the summary.
    completions: collections.Counter[str] = collections.Counter()
    for n in (1, 2):
        for event in read_history(run_dir / history_name(n)).events:
            if event.get("type") in ("ok", "fail", "info"):
                completions[event["f"]] += 1
    assert {op: s["count"] for op, s in summary["operations"].items()} == dict(completions)
    header = read_history(run_dir / history_name(number)).header
    assert header is not None and header["worker"] == number
    hlog = (run_dir / intervals_name(number)).read_text()
    assert hlog.startswith("#") and len(hlog.splitlines()) > 3

    code, printed = _lgbench("check", str(run_dir), "--out", str(tmp_path / "check.json"))
    assert code == 0, printed
    check = json.loads((tmp_path / "check.json").read_text())
    assert check["valid"] is True
    history = check["history"]
    read = {Path(name).name for name in [*history["files"], *history["segments"]]}
    assert {path.name for path in shipped if path.name.startswith("history")} <= read
    assert history["events"] == summary["history"]["events"]
    assert history["issues"] == [] and history["unpaired_invokes"] == 0


async def test_an_actor_killed_mid_run_is_a_lost_worker_whose_operations_in_flight_are_info(
    two_nodes: Any, langgraph_url: str, tmp_path: Path
) -> None:
    """`ray.kill` of the worker actor on the coordinator's node (its history is in the run
    folder): the run goes on with the other, the loss is marked, and its operations in
    flight are declared info to the checker, never a failure."""
    import ray

    run_dir = tmp_path / "run"
    pool = RayPool(2, two_nodes.address)

    async def kill_the_worker_writing_here() -> None:
        # Polling the run folder and the pool's state, which have no event to wait for.
        while True:
            here = [
                w
                for w in pool.workers
                if w.status == "running" and w.intervals >= 1
                and (run_dir / history_name(w.number)).exists()
            ]  # fmt: skip
            if here:
                break
            await anyio.sleep(0.05)
        await anyio.to_thread.run_sync(ray.kill, here[0].process.actor)

    async with anyio.create_task_group() as group:
        group.start_soon(kill_the_worker_writing_here)
        result = await run_workload(
            load_workload(WORKLOADS / "quickstart.toml"),
            RunOptions(
                target=langgraph_url,
                out_dir=run_dir,
                overrides=Overrides(duration_s=4.0, vus=4, graceful_stop_s=2.0),
                report=False,
            ),
            checker=check_history,
            load=pool,
        )
    summary = result.summary
    assert summary is not None
    (lost,) = [w for w in summary["workers"] if w["status"] == "lost"]
    assert [w["status"] for w in summary["workers"] if w is not lost] == ["finished"]
    assert lost["history"] == history_name(lost["worker"])  # its history stays in the run
    markers = read_history(run_dir / "history.jsonl").markers("worker.lost")
    assert [m["value"]["worker"] for m in markers] == [lost["worker"]]
    events = read_history(run_dir / history_name(lost["worker"])).events
    completed = {e["invoke_index"] for e in events if e.get("type") in ("ok", "fail", "info")}
    cut_short = sum(1 for e in events if e.get("type") == "invoke" and e["index"] not in completed)
    for check in (result.check, check_history(run_dir)):
        assert check is not None and check.valid is not False
        assert check.history["lost_worker_invokes"] == cut_short
        assert check.history["unpaired_invokes"] == 0


def test_a_node_dying_mid_run_is_a_lost_worker_and_exit_3_with_require_all_workers(
    langgraph_url: str, tmp_path: Path
) -> None:
    """The second node is removed mid-run (its raylet and its worker killed): the run goes on
    with the head node's worker, the loss is a `worker.lost` marker, a fault and a warning, and
    `--require-all-workers` turns it into exit code 3. Its own cluster: the node is gone after."""
    cluster = _start_two_nodes(tmp_path / "second-node")
    run_dir = tmp_path / "run"
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lgbench.cli",
                "run",
                str(WORKLOADS / "quickstart.toml"),
                "--ray",
                cluster.address,
                "--workers",
                "2",
                "--require-all-workers",
                "--target",
                langgraph_url,
                "--out",
                str(run_dir),
                "--duration",
                "6s",
                "--no-report",
                "--quiet",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _wait_for_the_load_on(cluster.scratch)
            time.sleep(1.5)  # an interval or so delivered
            cluster.remove_node(_other_node(cluster), allow_graceful=False)
            _out, err = process.communicate(timeout=180)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    finally:
        cluster.shutdown()
    assert process.returncode == 3, err.decode()
    assert "1 of 2 workers were lost" in err.decode()
    summary = json.loads((run_dir / "summary.json").read_text())
    statuses = sorted(w["status"] for w in summary["workers"])
    assert statuses == ["finished", "lost"]
    (lost,) = [w for w in summary["workers"] if w["status"] == "lost"]
    assert lost["intervals"] >= 1  # its results up to its last interval are in the run
    # Its history was on the node: the summary counts only the files the run folder holds.
    assert lost["history"] == "" and lost["history_events"] is None
    assert not (run_dir / history_name(lost["worker"])).exists()
    files = [run_dir / "history.jsonl"] + [
        run_dir / w["history"] for w in summary["workers"] if w["history"]
    ]
    assert summary["history"]["events"] == sum(len(read_history(f).events) for f in files)
    faults = [f for f in summary["faults"] if f["kind"] == "worker.lost"]
    assert [f["name"] for f in faults] == [f"worker {lost['worker']}"]
    assert any(f"worker {lost['worker']}" in warning for warning in summary["warnings"])
    markers = read_history(run_dir / "history.jsonl").markers("worker.lost")
    assert [m["value"]["worker"] for m in markers] == [lost["worker"]]
    # Its history was on the node that died: the run folder holds the others', all valid.
    code, printed = _lgbench("check", str(run_dir), "--out", str(tmp_path / "check.json"))
    assert code == 0, printed
    assert json.loads((tmp_path / "check.json").read_text())["valid"] is True


def _wait_for_the_load_on(scratch: Path, timeout_s: float = 120.0) -> None:
    """Until the worker on the second node has written history lines under ``scratch``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in scratch.glob("lgbench-worker-*/history.w*.jsonl"):
            if path.stat().st_size > 2000:
                return
        time.sleep(0.1)
    raise AssertionError("the second node's worker never started its load")


class _EndedActor:
    """An actor Ray has found dead (or its node) while its socket stays silent, as when a
    machine loses power: no end of file ever comes."""

    exitcode = None

    def is_alive(self) -> bool:
        return False

    def join(self, timeout: float | None = None) -> None:
        pass

    def terminate(self) -> None:
        pass

    def kill(self) -> None:
        pass


async def test_a_worker_whose_actor_ended_in_silence_is_hung_up_on_and_lost(
    tmp_path: Path,
) -> None:
    """Needs no Ray: the pool's watch sees the actor ended and hangs up on its socket, so the
    run does not wait for ever for a worker that will never speak again."""
    pool = RayPool(1, "local")
    ours, theirs = multiprocessing.Pipe()  # a socket pair, as the actor's callback is
    pool.workers.append(WorkerState(1, _EndedActor(), ours, pid=1, status="running"))
    clock = time.monotonic
    history = HistoryWriter.open(
        tmp_path / "history.jsonl", clock=clock, origin_s=clock(), header={}
    )
    recorder = Recorder(clock=clock, origin_s=clock(), history=history)
    try:
        with anyio.fail_after(30):
            await pool.drive(recorder, RunControl())
    finally:
        history.close()
        theirs.close()
    assert pool.workers[0].status == "lost"
    markers = read_history(tmp_path / "history.jsonl").markers("worker.lost")
    assert [m["value"]["worker"] for m in markers] == [1]


async def test_too_few_cpus_is_a_clear_error_before_any_load(
    two_nodes: Any, langgraph_url: str, tmp_path: Path
) -> None:
    with pytest.raises(TargetError, match="2 CPUs, fewer than the 3 workers"):
        await run_workload(
            load_workload(WORKLOADS / "quickstart.toml"),
            RunOptions(target=langgraph_url, out_dir=tmp_path / "run", report=False),
            load=RayPool(3, two_nodes.address),
        )


async def test_a_ray_pool_refuses_the_users_tokens_before_starting_anything() -> None:
    """Its callback socket crosses the network unencrypted: no actor starts with tokens."""
    pool = RayPool(2, "local")
    run = SplitRun(
        workload_text="",
        workload_path="w.toml",
        url="http://127.0.0.1:9",
        target_label="embedded",
        transport=None,
        backend="asyncio",
        seed=1,
        run_dir="run",
        interval_s=1.0,
        loop_lag_interval_s=None,
        history_rotate_bytes=None,
    )
    with pytest.raises(UsageError, match="never cross the network"):
        await pool.start(run, tokens=[Secret("lgbench.user-1.0123456789abcdef")])
    assert pool.workers == []
