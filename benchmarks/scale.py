"""Scale-out benchmark: `lgbench run` in one process against `--workers 2`, side by side.

    python benchmarks/scale.py [--seconds 10] [--rounds 3] [--vus 32] [--json FILE]

Starts nginx (one worker, pinned to CPU 0, serving a small JSON; ``peers.py``'s set-up) on a
free loopback port, then in each round runs, one after the other (the order alternating
between rounds), ``lgbench run`` of a ``constant-vus`` workload (``--vus`` VUs looping one
``http.get /json``) for ``--seconds``: once as one process, once with ``--workers 2`` (a
coordinator and two workers with 16 VUs each). Both are pinned to CPU 1 (``taskset``; the
workers inherit it), so both get the same one core and the comparison is the cost of a
request, not the number of cores.

Measured the way ``peers.py`` measures (its sampling is reused): every 0.2 s nginx's request
counter and the CPU time of the client's whole process tree; in the *steady window* (from
1.5 s after the first requests to 0.5 s before the last: start-up, spawning the workers and
the end-of-run work fall outside):

- ``req/s``: requests nginx answered per second;
- ``CPU µs/req``: the client tree's CPU time per request (lower is better).

A round disturbed by other processes (more than 5 % of a core) is repeated. The medians of
the rounds are printed, and the ratios ``--workers 2 / 1 process``: the target is a CPU cost
per request within 5 %. On this 2-core machine nginx has one core and the load generator the
other, so more workers cannot deliver more requests here: the rate with N workers on N free
cores needs a bigger machine. Traffic goes to 127.0.0.1 only; nginx is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
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
    workload: Path, port: int, folder: Path, workers: int, bench: Any
) -> dict[str, Any] | None:
    """One ``lgbench run`` (``workers`` 1: no flag), sampled; its steady-window figures."""
    out = folder / "run"
    argv = [
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
    if workers > 1:
        argv += ["--workers", str(workers)]
    window = None
    for _attempt in range(3):
        shutil.rmtree(out, ignore_errors=True)  # a disturbed attempt's folder
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
    summary = json.loads((out / "summary.json").read_text())
    requests = summary["operations"]["http.get"]["count"]
    shutil.rmtree(out, ignore_errors=True)
    return {
        "workers": workers,
        "req_per_s": window.req_per_s,
        "cpu_us_per_req": window.cpu_us_per_request,
        "client_cores": window.client_cores,
        "nginx_cores": window.nginx_cores,
        "whole_cpu_us_per_req": whole_s * 1e6 / requests,
        "disturbed": window.disturbed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vus", type=int, default=32)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="lgbench-scale-") as tmp:
        folder = Path(tmp)
        workload = folder / "w.toml"
        workload.write_text(CLOSED_WORKLOAD.format(vus=args.vus, seconds=args.seconds))
        (folder / "nginx").mkdir()
        with running_nginx(folder / "nginx") as (nginx, port):
            bench = {"nginx": nginx, "counter": NginxCounter(port)}
            for round_ in range(args.rounds):
                order = (1, 2) if round_ % 2 == 0 else (2, 1)
                for workers in order:
                    run_folder = folder / f"run-{round_}-{workers}"
                    run_folder.mkdir()
                    figures = run_once(workload, port, run_folder, workers, bench)
                    if figures is None:
                        print(f"round {round_ + 1} workers {workers}: no steady window")
                        continue
                    results[workers].append(figures)
                    print(
                        f"round {round_ + 1} workers {workers}: {figures['req_per_s']:,.0f} req/s,"
                        f" {figures['cpu_us_per_req']:.1f} CPU µs/req"
                        + (" (disturbed)" if figures["disturbed"] else ""),
                        file=sys.stderr,
                    )
    medians = {
        workers: {
            key: statistics.median(run[key] for run in runs)
            for key in ("req_per_s", "cpu_us_per_req", "whole_cpu_us_per_req")
        }
        for workers, runs in results.items()
    }
    print("| load generator (one core) | req/s | CPU µs / request | whole-run CPU µs / request |")
    print("|---|---:|---:|---:|")
    for workers, label in ((1, "1 process"), (2, "--workers 2")):
        m = medians[workers]
        print(
            f"| {label} | {m['req_per_s']:,.0f} | {m['cpu_us_per_req']:.1f}"
            f" | {m['whole_cpu_us_per_req']:.1f} |"
        )
    rate = medians[2]["req_per_s"] / medians[1]["req_per_s"]
    cost = medians[2]["cpu_us_per_req"] / medians[1]["cpu_us_per_req"]
    print(f"\n2 workers / 1 process: rate x {rate:.2f}, CPU per request x {cost:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"runs": results, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
