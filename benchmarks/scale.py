"""Scale-out benchmark: `lgbench run` in one process against `--workers 2`, side by side.

    python benchmarks/scale.py [--seconds 10] [--rounds 3] [--vus 32] [--per-loop] [--ray]
                               [--attempts 3] [--json FILE]

Starts nginx (one worker, pinned to CPU 0, serving a small JSON; ``peers.py``'s set-up) on a
free loopback port, then in each round runs, one after the other (the order alternating
between rounds), ``lgbench run`` of a ``constant-vus`` workload (``--vus`` VUs looping one
``http.get /json``) for ``--seconds``: once as one process, once with ``--workers 2`` (a
coordinator and two workers with 16 VUs each). Both are pinned to CPU 1 (``taskset``; the
workers inherit it), so both get the same one core and the comparison is the cost of a
request, not the number of cores. With ``--ray``, also ``--ray local --workers 2`` (a private
one-machine Ray cluster started by lgbench; its daemons are pinned with it).

Measured the way ``peers.py`` measures (its sampling is reused): every 0.2 s nginx's request
counter and the CPU time of the client's whole process tree; in the *steady window* (from
1.5 s after the first requests to 0.5 s before the last: start-up, spawning the workers and
the end-of-run work fall outside):

- ``req/s``: requests nginx answered per second;
- ``CPU µs/req``: the client tree's CPU time per request (lower is better).

With ``--per-loop``, also one process with half the VUs (as many per event loop as each
worker of ``--workers 2`` has) and two such processes side by side on the core (two event
loops sharing it, without a coordinator or pipes): ``--workers 2`` against the first tells
whether fewer requests per loop cost more, against the second what the worker machinery
costs beyond two processes sharing one core.

A run disturbed by other processes (more than 5 % of a core) is repeated (``--attempts``).
The medians of the rounds are printed with the machine's load average and the other
processes' share of the cores, and the ratios ``--workers 2 / 1 process`` and ``Ray /
--workers 2`` (with ``--per-loop``, also ``--workers 2`` against the two extra modes), of
the medians and the median of each round's own ratio, each marked against its target: a CPU
cost per request within 5 %. On this 2-core machine nginx has one core and the load generator the
other, so more workers cannot deliver more requests here: the rate with N workers on N free
cores needs a bigger machine. Traffic goes to 127.0.0.1 only; nginx is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from peers import (
    CLOSED_WORKLOAD,
    NginxCounter,
    running_nginx,
    sample_run,
    steady_window,
)

LGBENCH = [sys.executable, "-m", "lgbench.cli"]


def run_once(
    workload: Path, port: int, folder: Path, workers: int, bench: Any, mode: str, attempts: int
) -> dict[str, Any] | None:
    """One ``lgbench run`` (``mode``: ``process``, ``process-half``, ``workers`` or ``ray``),
    or for ``twin`` two single-process runs of ``workload`` side by side, sampled; the
    steady-window figures."""
    out = folder / "run"

    def lgbench_run(out: Path) -> list[str]:
        return [
            *LGBENCH,
            "run",
            str(workload),
            "--target",
            f"http://127.0.0.1:{port}",
            "--out",
            str(out),
            "--quiet",
            "--no-report",
            "--no-audit",
        ]

    argv = lgbench_run(out)
    outs = [out]
    if mode == "twin":
        # Two processes on the one core, without a coordinator or pipes: what sharing a
        # core between two event loops costs by itself.
        outs = [folder / "run", folder / "run2"]
        first, second = (shlex.join(lgbench_run(each)) for each in outs)
        script = f"{first} & a=$!; {second} & b=$!; wait $a; x=$?; wait $b; y=$?"
        argv = ["sh", "-c", f'{script}; [ "$x" = 0 ] && [ "$y" = 0 ]']
    if mode in ("workers", "ray"):
        argv += ["--workers", str(workers)]
    if mode == "ray":
        argv += ["--ray", "local"]
    window = None
    for _attempt in range(attempts):
        for each in outs:
            shutil.rmtree(each, ignore_errors=True)  # a disturbed attempt's folder
        code, samples, whole_s, _stdout = sample_run(
            argv, nginx=bench["nginx"], counter=bench["counter"], log=folder / "stderr.log"
        )
        if code != 0:
            err = (folder / "stderr.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"lgbench failed ({code}): {err}")
        window = steady_window(samples)
        if window is not None and not window.disturbed:
            break  # else: retried; the last attempt is kept either way
    if window is None:
        return None
    requests = 0
    for each in outs:
        summary = json.loads((each / "summary.json").read_text())
        requests += summary["operations"]["http.get"]["count"]
        shutil.rmtree(each, ignore_errors=True)
    return {
        "mode": mode,
        "req_per_s": window.req_per_s,
        "cpu_us_per_req": window.cpu_us_per_request,
        "client_cores": window.client_cores,
        "nginx_cores": window.nginx_cores,
        "whole_cpu_us_per_req": whole_s * 1e6 / requests,
        "other_cores": window.other_user_cores,
        "disturbed": window.disturbed,
        "load_1m": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vus", type=int, default=32)
    parser.add_argument(
        "--attempts", type=int, default=3, help="tries of a disturbed run (the last is kept)"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--ray", action="store_true", help="also --ray local --workers 2 (needs lgbench[ray])"
    )
    parser.add_argument(
        "--per-loop",
        action="store_true",
        help="also one process with half the VUs (the same VUs per event loop as each of"
        " --workers 2's workers) and two such processes side by side on the core (two event"
        " loops sharing it, without a coordinator)",
    )
    args = parser.parse_args()
    modes = [
        "process",
        "workers",
        *(["ray"] if args.ray else []),
        *(["process-half", "twin"] if args.per_loop else []),
    ]
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory(prefix="lgbench-scale-") as tmp:
        folder = Path(tmp)
        workload = folder / "w.toml"
        workload.write_text(CLOSED_WORKLOAD.format(vus=args.vus, seconds=args.seconds))
        half = folder / "w-half.toml"
        half.write_text(CLOSED_WORKLOAD.format(vus=args.vus // 2, seconds=args.seconds))
        (folder / "nginx").mkdir()
        with running_nginx(folder / "nginx") as (nginx, port):
            bench = {"nginx": nginx, "counter": NginxCounter(port)}
            for round_ in range(args.rounds):
                order = modes if round_ % 2 == 0 else modes[::-1]
                for mode in order:
                    run_folder = folder / f"run-{round_}-{mode}"
                    run_folder.mkdir()
                    figures = run_once(
                        half if mode in ("process-half", "twin") else workload,
                        port,
                        run_folder,
                        2,
                        bench,
                        mode,
                        args.attempts,
                    )
                    if figures is None:
                        print(f"round {round_ + 1} {mode}: no steady window")
                        continue
                    figures["round"] = round_
                    results[mode].append(figures)
                    print(
                        f"round {round_ + 1} {mode}: {figures['req_per_s']:,.0f} req/s,"
                        f" {figures['cpu_us_per_req']:.1f} CPU µs/req"
                        + (" (disturbed)" if figures["disturbed"] else ""),
                        file=sys.stderr,
                    )
    medians = {
        mode: {
            key: statistics.median(run[key] for run in runs)
            for key in ("req_per_s", "cpu_us_per_req", "whole_cpu_us_per_req", "other_cores")
        }
        for mode, runs in results.items()
        if runs
    }
    loads = [run["load_1m"] for runs in results.values() for run in runs]
    if loads:
        print(
            f"load average (1 min) at the end of each run: {min(loads):.1f} to {max(loads):.1f}"
            f" on {os.cpu_count()} cores"
        )
    print(
        "| load generator (one core) | req/s | CPU µs / request | whole-run CPU µs / request"
        " | other processes (cores) |"
    )
    print("|---|---:|---:|---:|---:|")
    labels = {
        "process": "1 process",
        "workers": "--workers 2",
        "ray": "--ray local --workers 2",
        "process-half": f"1 process, {args.vus // 2} VUs",
        "twin": f"2 processes, {args.vus // 2} VUs each",
    }
    for mode, m in medians.items():
        label = labels[mode]
        print(
            f"| {label} | {m['req_per_s']:,.0f} | {m['cpu_us_per_req']:.1f}"
            f" | {m['whole_cpu_us_per_req']:.1f} | {m['other_cores']:.2f} |"
        )
    pairs = (
        ("workers", "process"),
        ("ray", "workers"),
        ("workers", "process-half"),  # the same VUs per event loop as each worker
        ("workers", "twin"),  # the same two event loops on the core, without the machinery
    )
    for mode, base in pairs:
        if mode in medians and base in medians:
            rate = medians[mode]["req_per_s"] / medians[base]["req_per_s"]
            cost = medians[mode]["cpu_us_per_req"] / medians[base]["cpu_us_per_req"]
            # Round by round (the two ran back to back): the machine's drift cancels better.
            bases = {run["round"]: run for run in results[base]}
            paired = [
                run["cpu_us_per_req"] / bases[run["round"]]["cpu_us_per_req"]
                for run in results[mode]
                if run["round"] in bases
            ]
            paired_cost = statistics.median(paired) if paired else float("nan")
            verdict = "reached" if max(cost, paired_cost) <= 1.05 else "not reached"
            print(
                f"{labels[mode]} / {labels[base]}: rate x {rate:.2f}, CPU per request x"
                f" {cost:.2f} (medians), x {paired_cost:.2f} (median of the rounds' ratios):"
                f" target x 1.05 or less {verdict}"
            )
    if args.json is not None:
        args.json.write_text(json.dumps({"runs": results, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
