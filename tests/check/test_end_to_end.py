"""workloads/double-texting.toml, shortened, against the real embedded server, then checked.

Three threads per strategy (``--vus 3``), every scenario started within a second
(``--duration 1s``), on asyncio and trio. The observed profile must find the server valid;
whatever the documented profile flags there must be a known behaviour of the in-memory
server that the observed profile accepts (README.md, "Known server behaviour").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lgbench.check import check_history
from lgbench.engine import Overrides
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WORKLOAD = Path(__file__).parents[2] / "workloads" / "double-texting.toml"


@pytest.fixture(params=[pytest.param("asyncio"), pytest.param("trio")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Both event loops; asyncio without debug mode, which would slow every request down."""
    return (request.param, {})


async def test_double_texting_on_the_real_server(langgraph_url: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = await run_workload(
        load_workload(WORKLOAD),
        RunOptions(
            target=langgraph_url,
            out_dir=run_dir,
            overrides=Overrides(duration_s=1.0, vus=3),
        ),
        checker=check_history,
    )
    assert not result.partial, result.stop_reason
    history = run_dir / "history.jsonl"

    observed = check_history(history, profile="observed")
    assert observed.valid is True, (
        [a.explanation for a in observed.anomalies],
        observed.unknown,
        {name: c.unknown for name, c in observed.checkers.items() if c.unknown},
    )
    assert observed.counts["threads_checked"] == 12
    assert observed.counts["info"] == 0
    assert {name: s.threads for name, s in observed.strategies.items()} == {
        "enqueue": 3,
        "interrupt": 3,
        "reject": 3,
        "rollback": 3,
    }
    # The run folder holds the same verdict, written by the runner through the checker hook.
    assert json.loads((run_dir / "check.json").read_text(encoding="utf-8"))["valid"] is True

    documented = check_history(history, profile="documented")
    assert set(documented.anomalies) == set(documented.findings)
    behaviours = {a.behaviour for a in documented.findings}
    # Interrupting runs that are still pending leaves the thread idle while the last run is
    # pending and then running: every interrupt thread shows it.
    assert "idle_while_in_flight" in behaviours
    assert behaviours <= {"idle_while_in_flight", "cancels_all_in_flight"}
    assert documented.valid is False
