"""Every workload under workloads/ passes on the embedded server as a new user first runs it:
shortened with ``--duration 20s`` (exit code 0). Thresholds a 20 s run cannot judge (a
1-minute window, drift) say so and do not fail; faults after the end are listed as skipped.

Slow: each workload starts its own embedded server, as ``lgbench run`` does without a target.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_run import ROOT, lgbench

WORKLOADS = sorted((ROOT / "workloads").glob("*.toml"))


@pytest.mark.slow
@pytest.mark.parametrize("path", WORKLOADS, ids=[path.stem for path in WORKLOADS])
def test_a_bundled_workload_shortened_to_20s_passes(path: Path, tmp_path: Path) -> None:
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    out = tmp_path / "run"
    done = lgbench(
        "run",
        path,
        "--duration",
        "20s",
        "--out",
        out,
        "--no-live",
        "--no-report",
        timeout_s=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    # Only what [expected_errors] expects may fail every time (tenants.toml's probes).
    assert not [entry for entry in summary["never_succeeded"] if not entry["expected"]]
    results = (summary.get("thresholds") or {}).get("results", [])
    assert all(result["status"] in ("passed", "too_short") for result in results)
    for result in results:
        if result["status"] == "too_short":
            assert result["reason"].startswith("the run was too short for")
            assert f"{result['name']}: the run was too short" in done.stdout
    if path.name == "faults.toml":
        skipped = {fault["name"] for fault in summary["faults_skipped"]}
        assert skipped and skipped.isdisjoint(fault["name"] for fault in summary["faults"])
        for name in skipped:
            assert f'fault "{name}":' in done.stdout and "skipped" in done.stdout
    if path.name == "chat-agents.toml":
        # Chat replies measured as LLM serving is, while the run goes (the plain live line)
        # and at its end: each reply stream's own tokens per second, judged on the whole run.
        assert "worst ttft p95" in done.stdout and "slowest tokens/s p10" in done.stdout
        rate = next(r for r in results if r["name"] == "runs.stream.tokens_per_s.p10")
        stream = summary["operations"]["runs.stream"]["stream"]
        assert rate["status"] == "passed" and rate["window_s"] is None
        assert rate["value"] == pytest.approx(stream["stream_tokens_per_s"]["p10"])
        assert 5 < rate["value"] <= stream["stream_tokens_per_s"]["p50"]
        # Each run's output tokens (the workload asks for 20 to 60 a reply), and each reply
        # stream's rate logged second by second, for windows, the gate and the report.
        per_reply = stream["reply_tokens_per_stream"]
        assert per_reply["total"] == stream["reply_tokens"]
        assert 20 <= per_reply["p50"] <= per_reply["max"] <= 60
        hlog = (out / "intervals.hlog").read_text()
        assert hlog.count("Tag=runs.stream.tokens_per_s,") >= 5
    if path.name == "soak.toml":
        assert {r["status"] for r in results} == {"passed", "too_short"}
