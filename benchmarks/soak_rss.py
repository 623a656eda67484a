"""Soak memory: does `lgbench run`'s own RSS stay flat over a long run at a constant rate?

    python benchmarks/soak_rss.py [--minutes 30] [--warmup 5] [--rate 5] [--backend asyncio]
                                  [--workload FILE] [--json FILE] [--html FILE] [--keep DIR]

Runs ``lgbench run`` in a subprocess against the embedded server (which lgbench starts
itself, as a child process) for ``--minutes`` of load, and samples the RSS of the
``lgbench`` process alone (psutil; neither the server nor any other child) every 10 s.
Time 0 is the first line of the run's ``history.jsonl`` (the load has begun; the
server's start-up is before it). It prints the series once a minute, then:

- growth = (RSS at the end - RSS at minute ``--warmup``) / RSS at minute ``--warmup``;
  **target: < 5 %** (issue 7: from minute 5 to minute 30);
- the least-squares slope of the 10 s samples after the warm-up, in MiB/h;
- the peak RSS while lgbench finishes (the checker reading the history, the report):
  after the load, outside the growth figure.

The workload, unless ``--workload`` names another (e.g. ``workloads/soak.toml``): written to
a temporary folder, the conversation scenario of ``workloads/soak.toml`` alone, at a
constant arrival rate of ``--rate`` iterations/s (``constant-arrival-rate``): create a
thread, a waited run of ``sleepy`` (50 ms), a streamed run of ``streamer`` (5 events, 10 ms
apart), the thread's state, delete the thread. ``lgbench run`` gets
``--duration`` = ``--minutes`` plus 20 s, so the load still runs at the last sample.

A JSON result goes to ``--json`` (default ``reports/soak-rss-<UTC time>.json``): the
10 s series (with the embedded server's RSS beside it, for context), the minute series,
growth, slope, the run's summary figures and lgbench's exit code. ``--html`` also draws
the series (plotly, loaded from its CDN). ``--keep DIR`` keeps the run folder.

A quick check: ``--minutes 3 --warmup 1``. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import psutil

SAMPLE_EVERY_S: Final = 10.0
DURATION_MARGIN_S: Final = 20
START_TIMEOUT_S: Final = 180.0
FINISH_TIMEOUT_S: Final = 900.0
TARGET_GROWTH: Final = 0.05
MIB: Final = 1024 * 1024
ROOT: Final = Path(__file__).resolve().parent.parent

WORKLOAD: Final = """\
# Written by benchmarks/soak_rss.py: workloads/soak.toml's conversations at a constant rate.
name = "soak-rss"

[target]
url = "embedded"

[target.timeouts]
connect = "10s"
read = "2m"

[defaults]
seed = 5
graceful_stop = "30s"
assistant = "sleepy"

[[scenario]]
name = "conversations"
executor = "constant-arrival-rate"
rate = {rate}
time_unit = "1s"
duration = "{duration_s}s"
pre_allocated_vus = 10
max_vus = 100
steps = [
  {{ op = "threads.create", save = "thread", metadata = {{ soak = true }} }},
  {{ op = "runs.wait", thread = "$thread", input = {{ seconds = 0.05 }} }},
  {{ op = "runs.stream", thread = "$thread", assistant = "streamer",
    input = {{ n = 5, gap_s = 0.01 }}, stream_mode = "values" }},
  {{ op = "threads.get_state", thread = "$thread" }},
  {{ op = "threads.delete", thread = "$thread" }},
]
"""


@dataclass(slots=True)
class Sample:
    t_s: float  # since the load began
    rss: int  # lgbench's process only
    server_rss: int  # lgbench's children (the embedded server), for context
    phase: str  # "load" or "finish"


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


def slope_mib_per_h(samples: Sequence[Sample]) -> float | None:
    if len(samples) < 2:
        return None
    xs = [s.t_s / 3600 for s in samples]
    ys = [s.rss / MIB for s in samples]
    mx = sum(xs) / len(xs)
    my = sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def at_or_after(samples: Sequence[Sample], t_s: float) -> Sample | None:
    return next((s for s in samples if s.t_s >= t_s - 0.5), None)


def wait_for_load(history: Path, process: subprocess.Popen[bytes]) -> float | None:
    """The monotonic time the run's first history line appeared, None if lgbench ended first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if history.exists() and history.stat().st_size > 0:
            return time.monotonic()
        time.sleep(0.05)
    return None


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # lgbench stops gracefully and stops its server
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    minutes: float = args.minutes
    load_s = minutes * 60
    duration_s = int(load_s) + DURATION_MARGIN_S
    if args.workload:
        workload = Path(args.workload).resolve()
    else:
        workload = folder / "soak-rss.toml"
        workload.write_text(WORKLOAD.format(rate=args.rate, duration_s=duration_s))
    out = folder / "run"
    argv = [
        sys.executable, "-c", "import sys; from lgbench.cli import main; sys.exit(main())",
        "run", str(workload), "--target", "embedded", "--out", str(out),
        "--duration", f"{duration_s}s", "--backend", args.backend, "--no-live", "--quiet",
    ]  # fmt: skip
    log_path = folder / "lgbench.log"
    samples: list[Sample] = []
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        try:
            ps = psutil.Process(process.pid)
            t0 = wait_for_load(out / "history.jsonl", process)
            if t0 is None:
                raise SystemExit(
                    "lgbench ended or did not start its load:\n"
                    + log_path.read_text(errors="replace")[-2000:]
                )
            print(
                f"lgbench pid {process.pid}: load began; sampling its RSS every"
                f" {SAMPLE_EVERY_S:.0f} s for {minutes:g} min",
                flush=True,
            )
            print(f"{'minute':>6} {'lgbench MiB':>11} {'vs warm-up':>10} {'server MiB':>10}")
            k = 0
            while True:
                due = t0 + k * SAMPLE_EVERY_S
                time.sleep(max(0.0, due - time.monotonic()))
                t_s = time.monotonic() - t0
                finished = process.poll() is not None
                if finished:
                    break
                phase = "load" if t_s <= load_s + 0.5 else "finish"
                try:
                    sample = Sample(t_s, int(ps.memory_info().rss), tree_rss(ps), phase)
                except psutil.Error:
                    break
                samples.append(sample)
                if phase == "load" and k % round(60 / SAMPLE_EVERY_S) == 0:
                    warm = at_or_after(samples, args.warmup * 60)
                    vs = f"{(sample.rss / warm.rss - 1) * 100:+9.1f}%" if warm else f"{'':>10}"
                    server_mib = sample.server_rss / MIB
                    print(f"{t_s / 60:6.1f} {sample.rss / MIB:11.1f} {vs} {server_mib:10.1f}")
                if phase == "finish" and t_s > load_s + FINISH_TIMEOUT_S:
                    print("lgbench took too long to finish; stopping it", file=sys.stderr)
                    stop(process)
                    break
                k += 1
            code = process.wait()
        finally:
            stop(process)
    return analyse(args, samples, code, out, log_path)


def analyse(
    args: argparse.Namespace, samples: list[Sample], code: int, out: Path, log_path: Path
) -> dict[str, Any]:
    load = [s for s in samples if s.phase == "load"]
    finish = [s for s in samples if s.phase == "finish"]
    minute = [s for s in load if round(s.t_s / SAMPLE_EVERY_S) % round(60 / SAMPLE_EVERY_S) == 0]
    warm = at_or_after(load, args.warmup * 60)
    end = load[-1] if load else None
    growth = (end.rss / warm.rss - 1) if warm and end and end.t_s > warm.t_s else None
    after_warm = [s for s in load if warm and s.t_s >= warm.t_s]
    summary_path = out / "summary.json"
    summary: dict[str, Any] = {}
    if summary_path.exists():
        full = json.loads(summary_path.read_text())
        summary = {
            "operations": {
                name: {"count": op.get("count"), "errors": op.get("errors")}
                for name, op in full.get("operations", {}).items()
            },
            "dropped_iterations": full.get("dropped_iterations"),
            "partial": full.get("partial"),
            "history_events": full.get("history", {}).get("events"),
        }
    history = out / "history.jsonl"
    return {
        "benchmark": "soak_rss",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "argv": sys.argv,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "minutes": args.minutes,
        "warmup_minutes": args.warmup,
        "rate_per_s": None if args.workload else args.rate,
        "workload": args.workload or "(written by soak_rss.py)",
        "backend": args.backend,
        "lgbench_exit_code": code,
        "rss_at_warmup": warm.rss if warm else None,
        "rss_at_end": end.rss if end else None,
        "growth": growth,
        "target_growth": TARGET_GROWTH,
        "reached": growth is not None and growth < TARGET_GROWTH,
        "slope_mib_per_h": slope_mib_per_h(after_warm),
        "max_rss_load": max((s.rss for s in load), default=None),
        "max_rss_finish": max((s.rss for s in finish), default=None),
        "history_bytes": history.stat().st_size if history.exists() else None,
        "summary": summary,
        "log_tail": log_path.read_text(errors="replace")[-1500:],
        "minute_samples": [asdict(s) for s in minute],
        "samples": [asdict(s) for s in samples],
    }


def report(result: dict[str, Any]) -> None:
    growth = result["growth"]
    slope = result["slope_mib_per_h"]
    print()
    if growth is None:
        print("growth: not enough samples after the warm-up")
    else:
        verdict = "reached" if result["reached"] else "NOT reached"
        print(
            f"growth from minute {result['warmup_minutes']:g} to {result['minutes']:g}:"
            f" {result['rss_at_warmup'] / MIB:.1f} -> {result['rss_at_end'] / MIB:.1f} MiB,"
            f" {growth * 100:+.2f} % (target < {TARGET_GROWTH * 100:.0f} %: {verdict})"
        )
    if slope is not None:
        print(f"slope after the warm-up: {slope:+.2f} MiB/h")
    if result["max_rss_finish"]:
        print(f"peak RSS while lgbench finished: {result['max_rss_finish'] / MIB:.1f} MiB")
    ops = result["summary"].get("operations", {})
    if ops:
        counts = ", ".join(f"{name} {op['count']}" for name, op in ops.items())
        print(
            f"operations: {counts}; dropped iterations: {result['summary']['dropped_iterations']}"
        )
    if result["history_bytes"] is not None:
        print(f"history.jsonl: {result['history_bytes'] / MIB:.1f} MiB")
    print(f"lgbench exit code {result['lgbench_exit_code']}")


def write_html(result: dict[str, Any], path: Path) -> None:
    import plotly.graph_objects as go

    samples = result["samples"]
    figure = go.Figure()
    figure.add_scatter(
        x=[s["t_s"] / 60 for s in samples],
        y=[s["rss"] / MIB for s in samples],
        name="lgbench RSS (MiB)",
        mode="lines+markers",
    )
    figure.add_vline(x=result["warmup_minutes"], line_dash="dash", annotation_text="warm-up")
    figure.update_layout(
        title=f"lgbench RSS over a {result['minutes']:g}-minute soak",
        xaxis_title="minutes since the load began",
        yaxis_title="MiB",
        yaxis_rangemode="tozero",
    )
    figure.write_html(str(path), include_plotlyjs="cdn")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="load duration (default 30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="minutes (default 5)")
    parser.add_argument("--rate", type=float, default=5.0, help="iterations/s (default 5)")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--workload", metavar="FILE", help="another workload (its own rate)")
    parser.add_argument("--json", metavar="FILE", help="default reports/soak-rss-<time>.json")
    parser.add_argument("--html", metavar="FILE", help="a plot of the series")
    parser.add_argument("--keep", metavar="DIR", help="keep the run folder there")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a minute per line
    if not 0 < args.warmup < args.minutes:
        parser.error("--warmup must be above 0 and below --minutes")
    folder = Path(tempfile.mkdtemp(prefix="soak-rss-"))
    try:
        result = run(args, folder)
        if args.keep:
            shutil.copytree(folder / "run", args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(result)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    json_path = Path(args.json) if args.json else ROOT / "reports" / f"soak-rss-{stamp}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2))
    print(f"wrote {json_path}")
    if args.html:
        write_html(result, Path(args.html))
        print(f"wrote {args.html}")
    return 0 if result["reached"] else 1


if __name__ == "__main__":
    sys.exit(main())
