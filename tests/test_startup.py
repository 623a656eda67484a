"""What ``lgbench run`` loads before its load starts: only what a run uses.

A run pays for every module it imports once per process, and once more per worker process;
the packages below are needed only for a flag or a transport a run may not use, so the
command line and the run layer load them on first use. (The CPU a run spends starting is
measured by benchmarks/peers.py, not here.)
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Loaded on first use: each is there for one option of a run.
NOT_AT_START_UP = (
    "httpx",  # --transport httpx (lgbench.client.HttpxTransport)
    "lgbench.client._httpx_transport",
    "lgbench.client._sync",  # the synchronous client, a library caller's
    "lgbench.gate._runs",  # --baseline
    "lgbench.gate._stats",
    "lgbench.gate._render",
    "lgbench.gate._trend",  # lgbench trend
    "lgbench.monitor",  # --prometheus, --otlp
)


def _loaded_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_a_run_starts_without_the_modules_of_options_it_does_not_use() -> None:
    loaded = _loaded_after(
        "import lgbench.cli, lgbench.run, lgbench.engine, lgbench.check, lgbench.report\n"
        "from lgbench.gate import parse_percentage, write_junit\n"
        "from lgbench.client import FastTransport, get_client"
    )
    assert "lgbench.run._runner" in loaded  # the probe imported what a run imports
    assert sorted(loaded.intersection(NOT_AT_START_UP)) == []


def test_the_names_loaded_on_first_use_still_load() -> None:
    loaded = _loaded_after(
        "import lgbench.client, lgbench.gate\n"
        "assert lgbench.client.HttpxTransport.__module__ == 'lgbench.client'\n"
        "assert lgbench.client.get_sync_client.__module__ == 'lgbench.client'\n"
        "assert lgbench.gate.compare_runs.__module__ == 'lgbench.gate'\n"
        "from lgbench.gate import render_trend\n"
        "assert callable(render_trend)"
    )
    assert {"httpx", "lgbench.client._sync", "lgbench.gate._runs", "lgbench.gate._trend"} <= loaded
