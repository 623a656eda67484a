"""What live metrics cost a run: CPU µs per request with and without --prometheus / --otlp.

    python benchmarks/monitor_cost.py [--seconds 10] [--rounds 3] [--vus 32]
                                      [--scrape-every 1] [--push-every 1]

Starts nginx (one worker, CPU 0, as ``peers.py``: 404 but for ``/json``) serving a small
JSON, then runs ``lgbench run`` (pinned to CPU 1) of a ``constant-vus`` workload whose one step is
``http.get /json``, three ways, taking turns within each round:

- ``plain``: no exporter;
- ``prometheus``: ``--prometheus 127.0.0.1:PORT --prometheus-grace 0``, scraped by this script
  every ``--scrape-every`` seconds (a Prometheus at 1 s scrapes 15 times more often than its
  default);
- ``otlp``: ``--otlp`` to a stand-in collector in this script (it answers 200 and counts the
  bytes), pushed every ``--push-every`` seconds.

Per run: the requests summary.json counts and the CPU time of the ``lgbench`` process
(``getrusage`` of the reaped child: start-up, the load and the end-of-run work). Printed: the
median per variant of CPU µs per request, and the difference from ``plain``. The start-up and
end-of-run costs are the same for every variant, so the difference is the exporter's; on a
shared machine it drowns in the noise between runs, hence the second measure.

``--direct``: the exporter's own work, timed in this process on a real recorder holding
``--operations`` operations in ``--scenarios`` scenarios, each interval with
``--per-interval`` requests spread over them: the feed's per-interval update (on the event
loop, what every run with an exporter pays each second), one ``/metrics`` rendering
(prometheus_client's ``generate_latest``, in its own thread, per scrape) and one OTLP
encoding (per push). Per-request cost = per-interval work / requests per interval.
Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from peers import _free_port, running_nginx

CLIENT_CPU = 1
VARIANTS = ("plain", "prometheus", "otlp")

WORKLOAD = """
name = "monitor-cost"

[target]
url = "http://127.0.0.1:{port}"

[[scenario]]
name = "get"
executor = "constant-vus"
vus = {vus}
duration = "{seconds}s"
steps = [{{ op = "http.get", path = "/json" }}]
"""


class _Collector:
    """Accepts OTLP/HTTP pushes without decoding them."""

    def __init__(self) -> None:
        self.pushes = 0
        self.bytes = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.pushes += 1
                outer.bytes += len(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _scrape(url: str, every_s: float, stop: threading.Event, sizes: list[int]) -> None:
    while not stop.wait(every_s):
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                sizes.append(len(answer.read()))
        except OSError:
            pass  # not up yet, or already down


def _run(variant: str, workload: Path, out: Path, args: argparse.Namespace,
         collector: _Collector) -> dict[str, Any]:  # fmt: skip
    command = [
        "taskset", "-c", str(CLIENT_CPU), sys.executable, "-m", "lgbench.cli", "run",
        str(workload), "--out", str(out), "--quiet", "--no-report", "--no-audit",
    ]  # fmt: skip
    stop = threading.Event()
    sizes: list[int] = []
    scraper = None
    if variant == "prometheus":
        port = _free_port()
        command += ["--prometheus", f"127.0.0.1:{port}", "--prometheus-grace", "0"]
        url = f"http://127.0.0.1:{port}/metrics"
        scraper = threading.Thread(target=_scrape, args=(url, args.scrape_every, stop, sizes))
        scraper.start()
    elif variant == "otlp":
        command += ["--otlp", collector.url, "--otlp-every", f"{args.push_every}s"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop.set()
    if scraper is not None:
        scraper.join()
    if done.returncode != 0:
        raise SystemExit(f"{variant}: lgbench exited {done.returncode}:\n{done.stderr}")
    summary = json.loads((out / "summary.json").read_text())
    requests = sum(op["count"] for op in summary["operations"].values())
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "requests": requests,
        "cpu_s": cpu_s,
        "us_per_request": cpu_s / requests * 1e6,
        "scrapes": len(sizes),
        "scrape_bytes": statistics.median(sizes) if sizes else 0,
    }


def direct(operations: int, scenarios: int, per_interval: int, intervals: int) -> None:
    """See the module docstring (``--direct``)."""
    import random

    from prometheus_client import CollectorRegistry, generate_latest

    from lgbench.engine._listener import RunStart
    from lgbench.engine._recorder import Recorder, ScenarioStats
    from lgbench.history import HistoryWriter
    from lgbench.monitor import MetricsFeed, metrics_data
    from lgbench.monitor._prometheus import _Collector

    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        history = HistoryWriter.open(
            Path(tmp) / "history.jsonl", clock=time.monotonic, origin_s=0.0, header={}
        )
        recorder = Recorder(clock=time.monotonic, origin_s=0.0, history=history)
        scopes = []
        for s in range(scenarios):
            recorder.scenario(
                ScenarioStats(
                    name=f"scenario-{s}", executor="constant-vus", model="closed",
                    description="", tags={}, start_time_s=0.0, planned_s=60.0, max_vus=10,
                )
            )  # fmt: skip
            for o in range(operations):
                scopes.append(recorder.scope(f"op.{o}", f"scenario-{s}", None, "open"))
        feed = MetricsFeed()
        feed.run_started(RunStart("bench", Path(tmp), 60.0, time.time(), 1.0))
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(feed))
        updates, renders, encodes = [], [], []
        for interval in range(intervals):
            for _ in range(per_interval):
                scope = rng.choice(scopes)
                latency_s = rng.lognormvariate(-4.5, 1.0)  # about 10 ms, a long tail
                scope.metrics.record(interval, interval + latency_s)
            snapshot = recorder.snapshot(interval + 1.0)
            started = time.process_time()
            feed.interval_closed(snapshot, recorder)
            updates.append(time.process_time() - started)
            started = time.process_time()
            text = generate_latest(registry)
            renders.append(time.process_time() - started)
            started = time.process_time()
            metrics_data(feed.figures)
            encodes.append(time.process_time() - started)
        history.close()
    update_us = statistics.median(updates) * 1e6
    print(
        f"direct: {operations} operations x {scenarios} scenarios, {per_interval:,} requests"
        f" per 1 s interval, median of {intervals} intervals; /metrics {len(text) / 1024:.0f} KiB"
    )
    print("| work | when | CPU µs each | µs per request |")
    print("|---|---|---:|---:|")
    print(f"| feed update | every interval, on the loop | {update_us:,.0f} |"
          f" {update_us / per_interval:.2f} |")  # fmt: skip
    for name, when, values in (
        ("/metrics rendering", "per scrape, HTTP thread", renders),
        ("OTLP MetricsData", "per push, pusher thread", encodes),
    ):
        each_us = statistics.median(values) * 1e6
        print(f"| {name} | {when} | {each_us:,.0f} | {each_us / per_interval:.2f} at one per s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--direct", action="store_true", help="only the in-process measure")
    parser.add_argument("--operations", type=int, default=10)
    parser.add_argument("--scenarios", type=int, default=3)
    parser.add_argument("--per-interval", type=int, default=5000)
    parser.add_argument("--intervals", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vus", type=int, default=32)
    parser.add_argument("--scrape-every", type=float, default=1.0)
    parser.add_argument("--push-every", type=float, default=1.0)
    args = parser.parse_args()
    if args.direct:
        direct(args.operations, args.scenarios, args.per_interval, args.intervals)
        return
    with tempfile.TemporaryDirectory(prefix="lgbench-monitor-cost-") as tmp:
        folder = Path(tmp)
        (folder / "nginx").mkdir()
        collector = _Collector()
        with running_nginx(folder / "nginx") as (_, port):
            workload = folder / "w.toml"
            workload.write_text(WORKLOAD.format(port=port, vus=args.vus, seconds=args.seconds))
            results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
            for number in range(args.rounds):
                for variant in VARIANTS:
                    out = folder / f"{variant}-{number}"
                    result = _run(variant, workload, out, args, collector)
                    results[variant].append(result)
                    print(f"round {number + 1} {variant}: {result}", file=sys.stderr)
        collector.close()
    plain = statistics.median(r["us_per_request"] for r in results["plain"])
    print(f"lgbench run, constant-vus {args.vus} x http.get /json, {args.seconds:g} s,"
          f" median of {args.rounds}; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| variant | requests | CPU µs / request | minus plain |")
    print("|---|---:|---:|---:|")
    for variant, runs in results.items():
        per_request = statistics.median(r["us_per_request"] for r in runs)
        requests = statistics.median(r["requests"] for r in runs)
        print(f"| {variant} | {requests:,.0f} | {per_request:.1f} | {per_request - plain:+.1f} |")
    if results["prometheus"]:
        scrapes = [r["scrapes"] for r in results["prometheus"]]
        sizes = [r["scrape_bytes"] for r in results["prometheus"]]
        print(f"prometheus: {statistics.median(scrapes):.0f} scrapes per run, "
              f"{statistics.median(sizes) / 1024:.1f} KiB each")  # fmt: skip
    per_push = collector.bytes / max(collector.pushes, 1) / 1024
    print(f"otlp: {collector.pushes} pushes, {per_push:.1f} KiB each")


if __name__ == "__main__":
    main()
