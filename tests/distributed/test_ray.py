"""``--ray``: the workers as Ray actors on a two-node cluster on loopback.

Ray is the optional extra ``lgbench[ray]`` (about 240 MB, so not in ``test``): without it these
tests skip. The cluster is ``ray.cluster_utils.Cluster`` with two one-CPU nodes on 127.0.0.1
(Ray's ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps it on loopback), shut down by the test:
never ``ray stop``, never a bare ``ray.init()``.
"""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before Ray is imported

from lgbench._secrets import Secret
from lgbench.check import check_history
from lgbench.distributed import RUN_MARKER, RayPool, history_name
from lgbench.engine import Overrides, SplitRun
from lgbench.errors import TargetError, UsageError
from lgbench.history import read_history
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WORKLOADS = Path(__file__).parents[2] / "workloads"


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("asyncio", {})


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[Any]:
    pytest.importorskip("ray", reason="needs the lgbench[ray] extra")
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False},
    )
    try:
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


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
