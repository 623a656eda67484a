"""Synthetic run folders for the report tests: every file a run writes, made by the same
writers (HlogWriter, LatencyRecorder) or in the documented shapes, with known contents."""

from __future__ import annotations

import io
import json
import random
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lgbench.metrics import HlogWriter, LatencyRecorder

START_EPOCH_S = 1_795_600_000.0
STARTED_AT = "2026-11-25T10:26:40+00:00"


def recorder(values_us: Iterable[int]) -> LatencyRecorder:
    found = LatencyRecorder()
    for value in values_us:
        assert found.record_us(value)
    return found


def write_hlog(
    path: Path,
    intervals: dict[str, list[list[int]]],
    *,
    interval_s: float = 1.0,
    truncate_last: bool = False,
) -> dict[str, list[int]]:
    """An .hlog with, per tag, one line per interval holding the given µs values.

    Returns every tag's values over the whole run. ``truncate_last`` cuts the last line in
    the middle of its histogram, as a SIGKILL during a write would.
    """
    out = io.StringIO()
    writer = HlogWriter(out, start_epoch_s=START_EPOCH_S)
    writer.write_header(comments=("[workload: synthetic]",))
    count = max(len(v) for v in intervals.values())
    for index in range(count):
        for tag, per_interval in intervals.items():
            if index < len(per_interval):
                writer.write_interval(
                    tag, index * interval_s, interval_s, recorder(per_interval[index])
                )
    text = out.getvalue()
    if truncate_last:
        text = text.rstrip("\n")
        text = text[: len(text) - 20]
    path.write_text(text)
    return {tag: [v for values in lines for v in values] for tag, lines in intervals.items()}


def timeseries_line(
    start_s: float,
    end_s: float,
    *,
    operations: dict[str, dict[str, Any]] | None = None,
    scenarios: dict[str, dict[str, Any]] | None = None,
    server: dict[str, Any] | None = None,
    lgbench: dict[str, Any] | None = None,
) -> dict[str, Any]:
    line: dict[str, Any] = {
        "start_s": start_s,
        "end_s": end_s,
        "operations": operations or {},
        "scenarios": scenarios or {},
    }
    if server is not None:
        line["server"] = server
    if lgbench is not None:
        line["lgbench"] = lgbench
    return line


def write_timeseries(
    path: Path, lines: list[dict[str, Any]], *, interval_s: float = 1.0, cut_last: bool = False
) -> None:
    header = {
        "kind": "lgbench.timeseries",
        "schema_version": 1,
        "started_at": STARTED_AT,
        "interval_s": interval_s,
    }
    text = "".join(json.dumps(line) + "\n" for line in [header, *lines])
    if cut_last:
        text = text.rstrip("\n")
        text = text[: len(text) - 15]
    path.write_text(text)


def write_history(path: Path, *, cut_last: bool = False) -> None:
    header = {
        "type": "header",
        "schema_version": 1,
        "lgbench_version": "0.1.0",
        "started_at": STARTED_AT,
        "workload": "synthetic",
        "target": "http://127.0.0.1:9",
        "server": {"name": "langgraph-api", "version": "0.16.7", "label": "langgraph-api 0.16.7"},
        "backend": "trio",
        "seed": 7,
    }
    events = [
        {"index": 0, "type": "invoke", "time_ns": 1000, "f": "runs.wait", "process": 0},
        {"index": 1, "type": "ok", "time_ns": 9000, "f": "runs.wait", "process": 0},
    ]
    text = "".join(json.dumps(line) + "\n" for line in [header, *events])
    if cut_last:
        text = text.rstrip("\n")[:-10]
    path.write_text(text)


def latency_block(values_us: list[int]) -> dict[str, float]:
    ordered = sorted(values_us)
    return {
        "min": ordered[0] / 1000,
        "mean": sum(ordered) / len(ordered) / 1000,
        "p50": ordered[len(ordered) // 2] / 1000,
        "p90": ordered[int(len(ordered) * 0.9)] / 1000,
        "p95": ordered[int(len(ordered) * 0.95)] / 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000,
        "p99_9": ordered[-1] / 1000,
        "max": ordered[-1] / 1000,
    }


def synthetic_run(run_dir: Path, *, seconds: int = 30, seed: int = 3) -> dict[str, Any]:
    """A whole run folder with every optional part: thresholds (one failing, windowed),
    a baseline with a regression, drift, faults, sampled server and lgbench figures, errors,
    a stream with ttfe and queue wait, and a checker verdict with an anomaly and a finding.

    Returns the summary written.
    """
    rng = random.Random(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    wait = [[rng.randint(40_000, 90_000) for _ in range(20)] for _ in range(seconds)]
    stream = [[rng.randint(200_000, 900_000) for _ in range(5)] for _ in range(seconds)]
    ttfe = [[rng.randint(50_000, 150_000) for _ in range(5)] for _ in range(seconds)]
    queue = [[rng.randint(20_000, 100_000) for _ in range(5)] for _ in range(seconds)]
    lag = [[rng.randint(50, 3_000) for _ in range(100)] for _ in range(seconds)]
    values = write_hlog(
        run_dir / "intervals.hlog",
        {
            "runs.wait": wait,
            "runs.stream": stream,
            "runs.stream.ttfe": ttfe,
            "runs.stream.queue_wait": queue,
            "lgbench.loop_lag": lag,
            "lgbench.schedule_lag": [[] for _ in range(seconds)],
        },
    )
    lines = []
    for second in range(seconds):
        errors = 2 if 10 <= second < 15 else 0
        lines.append(
            timeseries_line(
                float(second),
                float(second + 1),
                operations={
                    "runs.wait": {
                        "count": 20 + errors,
                        "ok": 20,
                        "errors": errors,
                        "http_errors": {"409": errors} if errors else {},
                        "transport_errors": 0,
                        "timeouts": 0,
                    },
                    "runs.stream": {"count": 5, "ok": 5, "errors": 0, "http_errors": {}},
                },
                scenarios={
                    "chat": {
                        "active_vus": min(second + 1, 8),
                        "started": 5,
                        "finished": 5,
                        "failed": 0,
                        "dropped": 1 if second == 20 else 0,
                    }
                },
                server={
                    "n_pending": second % 4,
                    "n_running": 2,
                    "workers_active": 2,
                    "cpu_percent": 30.0 + second,
                    "rss_bytes": 200_000_000 + second * 1_000_000,
                },
                lgbench={"cpu_percent": 12.5, "rss_bytes": 60_000_000},
            )
        )
    write_timeseries(run_dir / "timeseries.jsonl", lines)
    write_history(run_dir / "history.jsonl")
    wait_all = values["runs.wait"]
    summary: dict[str, Any] = {
        "schema_version": 1,
        "lgbench_version": "0.1.0",
        "workload": {"name": "synthetic", "path": "w.toml", "seed": 7, "overrides": {}},
        "target": {"url": "http://127.0.0.1:9", "embedded": False},
        "server": {
            "name": "langgraph-api",
            "version": "0.16.7",
            "langgraph_py_version": "1.2.24",
            "label": "langgraph-api 0.16.7",
        },
        "backend": "trio",
        "transport": "fast",
        "started_at": STARTED_AT,
        "ended_at": "2026-11-25T10:27:10+00:00",
        "duration_s": float(seconds),
        "planned_duration_s": float(seconds),
        "partial": False,
        "stop_reason": "completed",
        "operations": {
            "runs.wait": {
                "count": len(wait_all) + 10,
                "ok": len(wait_all),
                "errors": 10,
                "errors_by_kind": {
                    "http": {"409": 10},
                    "transport": 0,
                    "timeout": 0,
                    "run": 0,
                    "other": 0,
                },
                "interrupted": 2,
                "rate_per_s": (len(wait_all) + 10) / seconds,
                "latency_ms": latency_block(wait_all),
            },
            "runs.stream": {
                "count": len(values["runs.stream"]),
                "ok": len(values["runs.stream"]),
                "errors": 0,
                "errors_by_kind": {"http": {}},
                "rate_per_s": len(values["runs.stream"]) / seconds,
                "latency_ms": latency_block(values["runs.stream"]),
                "stream": {
                    "streams": len(values["runs.stream"]),
                    "events": {"min": 3, "mean": 3.0, "p50": 3, "p99": 3, "max": 3, "total": 450},
                    "events_per_s": 15.0,
                    "ttfe_ms": latency_block(values["runs.stream.ttfe"]),
                    "queue_wait_ms": latency_block(values["runs.stream.queue_wait"]),
                    "event_gap_ms": latency_block([1000, 2000, 3000]),
                },
            },
        },
        "scenarios": {
            "chat": {
                "executor": "constant-vus",
                "description": "8 VUs for 30s",
                "started": True,
                "ran_s": float(seconds),
                "max_vus": 8,
                "iterations": {"started": 150, "finished": 150, "failed": 0, "interrupted": 0},
                "dropped_iterations": 1,
            }
        },
        "dropped_iterations": 1,
        "warnings": ["1 arrival-rate iteration dropped <because every VU was busy>"],
        "check": {"valid": False, "file": "check.json"},
        "thresholds": {
            "passed": False,
            "results": [
                {
                    "name": "runs.wait.latency.p99",
                    "condition": "< 80ms",
                    "source": "workload",
                    "window_s": None,
                    "abort_on_fail": False,
                    "operator": "<",
                    "limit": 80.0,
                    "unit": "ms",
                    "value": 89.1,
                    "status": "failed",
                    "passed": False,
                    "reason": "p99 89.1 ms is not < 80 ms",
                    "windows": None,
                    "aborted_run": False,
                },
                {
                    "name": "runs.wait.latency.p50 in 10s windows",
                    "condition": "< 1s",
                    "source": "command line",
                    "window_s": 10.0,
                    "abort_on_fail": True,
                    "operator": "<",
                    "limit": 1000.0,
                    "unit": "ms",
                    "value": 70.0,
                    "status": "passed",
                    "passed": True,
                    "reason": "",
                    "windows": {
                        "evaluated": 3,
                        "failed": 0,
                        "skipped": 0,
                        "worst": {"start_s": 10.0, "end_s": 20.0, "value": 70.0},
                        "failures": [],
                    },
                    "aborted_run": False,
                },
                {
                    "name": "errors.rate",
                    "condition": "< 1%",
                    "source": "workload",
                    "window_s": 10.0,
                    "abort_on_fail": False,
                    "operator": "<",
                    "limit": 1.0,
                    "unit": "%",
                    "value": 1.6,
                    "status": "failed",
                    "passed": False,
                    "reason": "1 of 3 windows failed",
                    "windows": {
                        "evaluated": 3,
                        "failed": 1,
                        "skipped": 0,
                        "worst": {"start_s": 10.0, "end_s": 20.0, "value": 4.8},
                        "failures": [{"start_s": 10.0, "end_s": 20.0, "value": 4.8}],
                    },
                    "aborted_run": False,
                },
            ],
        },
        "baseline": {
            "base": "reports/base/summary.json",
            "max_regression": 0.1,
            "passed": False,
            "regressions": ["runs.wait p99: 60.2 ms -> 89.1 ms (+48%, limit +10%)"],
            "operations": {
                "runs.wait": {"p99": {"base": 60.2, "new": 89.1, "change": 0.48}},
            },
        },
        "drift": {
            "window_s": 10,
            "operations": {
                "runs.wait": {
                    "windows": 3,
                    "p50": {"relative_per_h": 0.5, "first_ms": 60.0, "last_ms": 65.0},
                    "p99": {"relative_per_h": 1.2, "first_ms": 80.0, "last_ms": 89.0},
                    "error_rate": {"slope_per_h": 0.03, "first": 0.0, "last": 0.016},
                    "points": [[10, 60.0, 80.0, 0.0, 200], [20, 62.0, 85.0, 0.05, 210]],
                }
            },
        },
        "faults": [
            {"name": "slow-network", "kind": "latency", "start_s": 10.0, "end_s": 15.0},
            {"name": "server-kill", "kind": "kill", "start_s": 25.0, "end_s": None},
        ],
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    (run_dir / "check.json").write_text(json.dumps(_check(), indent=2))
    return summary


def _check() -> dict[str, Any]:
    anomaly = {
        "type": "concurrent_runs",
        "thread_id": "thread-1",
        "run_ids": ["run-a", "run-b"],
        "explanation": "run-b started while run-a was still running <on thread-1>",
        "events": [
            {"index": 12, "time_s": 1.5, "what": "runs.get: run-a running"},
            {"index": 14, "time_s": 1.7, "what": "threads.get_state: start:run-b"},
        ],
        "flagged_by": ["concurrency"],
    }
    finding = {**anomaly, "type": "interrupt_cancelled_pending", "behaviour": "inmem_cancel"}
    return {
        "schema_version": 1,
        "profile": "observed",
        "valid": False,
        "unknown": [],
        "parameters": {"stuck_after_s": 60.0, "slack_s": 1.0},
        "history": {"lines": 100, "events": 99, "operations": 40, "malformed_lines": 0},
        "counts": {
            "threads": 3,
            "threads_checked": 2,
            "threads_unchecked": 1,
            "runs": 6,
            "runs_checked": 5,
            "operations": 40,
            "info": 0,
            "anomalies": 1,
            "findings": 1,
        },
        "strategies": {
            "enqueue": {"valid": True, "threads": 1, "runs": 3, "anomalies": {}},
            "interrupt": {
                "valid": False,
                "threads": 1,
                "runs": 2,
                "anomalies": {"concurrent_runs": 1},
            },
        },
        "checkers": {
            "concurrency": {
                "valid": False,
                "anomaly_types": ["concurrent_runs"],
                "anomalies": 1,
                "threads": 2,
                "unknown": [],
                "unknown_count": 0,
                "error": None,
            }
        },
        "anomalies": {
            "concurrent_runs": {
                "description": "two runs of one thread executed at once",
                "count": 1,
                "examples": [anomaly],
            }
        },
        "findings": {
            "inmem_cancel": {
                "description": "the in-memory server cancels pending runs too",
                "anomaly_types": ["interrupt_cancelled_pending"],
                "count": 1,
                "examples": [finding],
            }
        },
        "threads": {
            "thread-1": {
                "strategy": "interrupt",
                "checked": True,
                "valid": False,
                "runs": 2,
                "checkers": {"concurrency": False},
                "anomalies": {"concurrent_runs": 1},
                "unknown": [],
            }
        },
    }


def make_partial(source: Path, target: Path) -> Path:
    """A copy of the run folder ``source`` as a SIGKILL would leave it: no summary.json,
    check.json, report or .hgrm files, and the last line of history.jsonl,
    timeseries.jsonl and intervals.hlog cut short."""
    shutil.copytree(source, target)
    for name in ("summary.json", "check.json", "report.html"):
        (target / name).unlink(missing_ok=True)
    for hgrm in target.glob("*.hgrm"):
        hgrm.unlink()
    for name in ("history.jsonl", "timeseries.jsonl", "intervals.hlog"):
        path = target / name
        if path.exists():
            data = path.read_bytes().rstrip(b"\n")
            path.write_bytes(data[: len(data) - 12])
    return target
