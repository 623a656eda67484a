"""Peers benchmark: `lgbench run` against wrk, hey, Locust and a plain httpx loop, one core each.

    python benchmarks/peers.py [--seconds 10] [--rounds 3] [--connections 32] [--rate 5000]
                               [--tools lgbench-asyncio lgbench-trio wrk hey locust httpx]
                               [--no-open] [--json FILE]

Starts nginx (one worker, pinned to CPU 0) serving a small JSON at ``/json`` on a free
loopback port, then runs each load generator in its own process pinned to CPU 1 with
``--connections`` keep-alive connections (VUs, users, tasks) for ``--seconds``, ``--rounds``
times, tools interleaved within a round, and prints the median of each figure:

- ``lgbench run`` of a workload written to a temporary folder: a ``constant-vus`` scenario
  whose one step is ``http.get /json`` (``--no-live --quiet``), on asyncio (uvloop) and trio;
- ``wrk -t1``, ``hey -z``, Locust (``FastHttpUser``, no wait time, headless, one process) and
  an ``httpx.AsyncClient`` loop with one task per connection.

How it measures, the same way for every tool. Every 0.2 s the script reads nginx's request
counter (``stub_status``) and the CPU time of the client's process tree, of nginx and of the
whole machine. The *steady window* runs from 1.5 s after the first requests reach nginx to
0.5 s before the last ones: start-up, spawning, warm-up and the end-of-run work (for lgbench:
the checker, the summary) fall outside it. In that window:

- ``req/s``: requests nginx answered (the tool's own figure is shown beside it);
- ``CPU µs/req``: the client's CPU time divided by those requests. It describes a client even
  when the server is its limit (wrk saturates the single nginx worker);
- ``client`` and ``nginx`` CPU, in cores: which side was the limit.

``whole µs/req`` divides the client's whole CPU time (``getrusage`` of the reaped child:
start-up and end-of-run included) by the requests the tool itself reported.

A round is *disturbed* when processes other than the client, nginx and this script used more
than 5 % of a core of user-space CPU in the window, or the hypervisor stole more than that: it
is repeated (up to ``--attempts`` times; the last attempt is kept either way). Before each
measurement the script waits while ``benchmarks/transport.py`` runs (both scripts use the same
two cores) and while anything else keeps the machine busy (at most ``--max-wait`` seconds).

Then the open model: ``lgbench run`` of a ``constant-arrival-rate`` scenario at ``--rate``
iterations/s (one ``http.get /json`` each; 200 VUs) for ``--seconds``, on each backend:
achieved rate, dropped iterations, lgbench's own schedule lag and event-loop lag (p99, from
summary.json) and the client's CPU.

Needs nginx (``apt-get install nginx-light``), wrk and hey (``apt-get install wrk hey``) and
``pip install ".[bench]"`` (Locust, psutil). Tools that are missing are skipped. Traffic goes
to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import http.client
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

BODY = '{"status":"ok","service":"lgbench-bench","value":1234567}'  # as in transport.py
CLOSED_TOOLS = ("lgbench-asyncio", "lgbench-trio", "wrk", "hey", "locust", "httpx")
OPEN_BACKENDS = ("asyncio", "trio")
PEERS = ("wrk", "hey", "locust", "httpx")
SERVER_CPU = 0
CLIENT_CPU = 1
SAMPLE_EVERY_S = 0.2
WARMUP_S = 1.5
TAIL_S = 0.5
DISTURBED_CORES = 0.05
OPEN_VUS = 200
OTHER_BENCHMARK = "benchmarks/transport.py"

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /json {{
            default_type application/json;
            return 200 '{body}';
        }}
        location = /nginx-status {{
            stub_status;
        }}
        location / {{
            return 404;
        }}
    }}
}}
"""

CLOSED_WORKLOAD = """\
# Written by benchmarks/peers.py: {vus} VUs, each looping one raw GET of /json.
name = "peers-closed"

[defaults]
seed = 1
graceful_stop = "2s"

[[scenario]]
name = "get"
executor = "constant-vus"
vus = {vus}
duration = "{seconds}s"
steps = [{{ op = "http.get", path = "/json" }}]
"""

OPEN_WORKLOAD = """\
# Written by benchmarks/peers.py: {rate} iterations/s, each one raw GET of /json.
name = "peers-open"

[defaults]
seed = 1
graceful_stop = "2s"

[[scenario]]
name = "arrivals"
executor = "constant-arrival-rate"
rate = {rate}
duration = "{seconds}s"
pre_allocated_vus = {vus}
max_vus = {vus}
steps = [{{ op = "http.get", path = "/json" }}]
"""

LOCUSTFILE = """\
# Written by benchmarks/peers.py: each user loops GET /json with no wait time.
from locust import FastHttpUser, constant, task


class GetJson(FastHttpUser):
    wait_time = constant(0)

    @task
    def get_json(self) -> None:
        self.client.get("/json")
"""


# --- nginx ----------------------------------------------------------------------------------


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port != 2024:  # taken on our machines by something else
            return port


@contextlib.contextmanager
def running_nginx(prefix: Path) -> Iterator[tuple[psutil.Process, int]]:
    """nginx with one worker pinned to SERVER_CPU; yields (master process, port)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = _free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, body=BODY))
    proc = subprocess.Popen(
        ["taskset", "-c", str(SERVER_CPU), nginx, "-p", str(prefix), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"nginx did not start; see {prefix}/error.log") from None
                time.sleep(0.05)
        yield psutil.Process(proc.pid), port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class NginxCounter:
    """nginx's total request count, read from stub_status over one keep-alive connection."""

    _PATTERN = re.compile(rb"\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n")

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def requests(self) -> int:
        """Requests answered so far, this status request included."""
        self._conn.request("GET", "/nginx-status")
        body = self._conn.getresponse().read()
        found = self._PATTERN.search(body)
        if found is None:
            raise RuntimeError(f"unexpected stub_status answer: {body!r}")
        return int(found.group(3))

    def close(self) -> None:
        self._conn.close()


# --- sampling one run -----------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    """One reading: nginx's request count and (user, system) CPU seconds of each party."""

    t_s: float
    requests: int
    client: tuple[float, float]
    nginx: tuple[float, float]
    machine: tuple[float, float]  # every CPU summed, idle and steal excluded
    steal_s: float
    own: tuple[float, float]  # this script


def _tree_cpu(proc: psutil.Process) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, its reaped children and live descendants."""
    user = system = 0.0
    for p in (proc, *proc.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            user += t.user + t.children_user
            system += t.system + t.children_system
    return user, system


def _machine_cpu() -> tuple[tuple[float, float], float]:
    """((user, system) CPU seconds, steal seconds) of the whole machine, every CPU summed.

    System includes interrupt and softirq time (the kernel's network work).
    """
    t = psutil.cpu_times()
    user = t.user + t.nice
    system = t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
    return (user, system), getattr(t, "steal", 0.0)


@dataclass(slots=True)
class Window:
    """The steady window of one run (see the module docstring).

    ``other_user_cores``: user-space CPU of processes other than the client, nginx and this
    script (another benchmark, a build...): what makes a round *disturbed*.
    ``other_kernel_cores``: kernel time nobody was charged for (mostly softirq network work
    on an otherwise idle CPU, kernel threads): shown, but caused by the load itself.
    """

    seconds: float
    requests: int
    req_per_s: float
    cpu_us_per_request: float
    client_cores: float
    nginx_cores: float
    other_user_cores: float
    other_kernel_cores: float
    steal_cores: float

    @property
    def disturbed(self) -> bool:
        return self.other_user_cores > DISTURBED_CORES or self.steal_cores > DISTURBED_CORES


def steady_window(samples: Sequence[Sample]) -> Window | None:
    """The steady window's figures, or None when the run was too short to have one."""
    # Each sample's own status request is one request; anything beyond it is load.
    active = [
        i for i in range(1, len(samples)) if samples[i].requests - samples[i - 1].requests - 1 > 10
    ]
    if not active:
        return None
    start_s = samples[active[0] - 1].t_s + WARMUP_S
    end_s = samples[active[-1]].t_s - TAIL_S
    inside = [i for i, s in enumerate(samples) if start_s <= s.t_s <= end_s]
    if len(inside) < 2 or end_s - start_s < 1.0:
        return None
    a, b = samples[inside[0]], samples[inside[-1]]

    def delta(pick: Callable[[Sample], tuple[float, float]]) -> tuple[float, float]:
        (u0, s0), (u1, s1) = pick(a), pick(b)
        return u1 - u0, s1 - s0

    seconds = b.t_s - a.t_s
    requests = b.requests - a.requests - (inside[-1] - inside[0])
    client, nginx, own, machine = (
        delta(lambda x: x.client),
        delta(lambda x: x.nginx),
        delta(lambda x: x.own),
        delta(lambda x: x.machine),
    )
    client_s = sum(client)
    return Window(
        seconds=seconds,
        requests=requests,
        req_per_s=requests / seconds,
        cpu_us_per_request=client_s / requests * 1e6 if requests else float("inf"),
        client_cores=client_s / seconds,
        nginx_cores=sum(nginx) / seconds,
        other_user_cores=max(machine[0] - client[0] - nginx[0] - own[0], 0.0) / seconds,
        other_kernel_cores=max(machine[1] - client[1] - nginx[1] - own[1], 0.0) / seconds,
        steal_cores=(b.steal_s - a.steal_s) / seconds,
    )


@dataclass(slots=True)
class RunFigures:
    tool: str
    window: Window | None
    reported_requests: int
    reported_req_per_s: float
    whole_cpu_us_per_request: float
    errors: int
    extra: dict[str, Any] = field(default_factory=dict)


def _busy_cores(nginx: psutil.Process, seconds: float = 1.0) -> float:
    """CPU the rest of the machine uses now (nginx and this script excluded), in cores."""
    before = _machine_cpu()[0], _tree_cpu(nginx), os.times()
    time.sleep(seconds)
    after = _machine_cpu()[0], _tree_cpu(nginx), os.times()
    used = sum(after[0]) - sum(before[0]) - (sum(after[1]) - sum(before[1]))
    used -= (after[2].user + after[2].system) - (before[2].user + before[2].system)
    return max(used, 0.0) / seconds


def wait_for_quiet(nginx: psutil.Process, max_wait_s: float) -> None:
    """Wait while the transport benchmark runs (it shares our two cores) or the machine is busy.

    Gives up waiting for a busy machine after ``max_wait_s`` (the disturbance check after the
    run still applies); never for the transport benchmark.
    """
    announced = ""
    deadline = time.monotonic() + max_wait_s
    while True:
        if subprocess.run(
            ["pgrep", "-f", OTHER_BENCHMARK], capture_output=True, check=False
        ).stdout.strip():
            kind, reason = "other", f"{OTHER_BENCHMARK} is running"
        elif (busy := _busy_cores(nginx)) > DISTURBED_CORES and time.monotonic() < deadline:
            kind, reason = "busy", f"the machine is busy ({busy:.2f} cores)"
        else:
            return
        if kind != announced:
            print(f"    ({reason}: waiting)", flush=True)
            announced = kind
        time.sleep(3)


def sample_run(
    argv: Sequence[str],
    *,
    nginx: psutil.Process,
    counter: NginxCounter,
    log: Path,
) -> tuple[int, list[Sample], float, str]:
    """Run ``argv`` pinned to CLIENT_CPU, sampling as it goes.

    Returns (exit code, samples, whole-process CPU seconds, stdout).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out_path = log.with_suffix(".out")
    with out_path.open("wb") as out, log.open("wb") as err:
        proc = subprocess.Popen(["taskset", "-c", str(CLIENT_CPU), *argv], stdout=out, stderr=err)
        client = psutil.Process(proc.pid)
        samples: list[Sample] = []
        while proc.poll() is None:
            try:
                client_cpu = _tree_cpu(client)
            except psutil.NoSuchProcess:
                break
            machine, steal_s = _machine_cpu()
            own = os.times()
            samples.append(
                Sample(
                    t_s=time.monotonic(),
                    requests=counter.requests(),
                    client=client_cpu,
                    nginx=_tree_cpu(nginx),
                    machine=machine,
                    steal_s=steal_s,
                    own=(own.user, own.system),
                )
            )
            time.sleep(SAMPLE_EVERY_S)
        code = proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    whole_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return code, samples, whole_s, out_path.read_text(errors="replace")


# --- the tools ------------------------------------------------------------------------------


def _bin(name: str) -> str | None:
    """A console script of this venv first (lgbench, locust), else one on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


@dataclass(slots=True)
class Bench:
    url: str
    seconds: int
    connections: int
    rate: int
    tmp: Path
    nginx: psutil.Process
    counter: NginxCounter
    attempts: int
    max_wait_s: float

    def measure(self, tool: str, run: Callable[[Path], RunFigures | None]) -> RunFigures | None:
        """One measurement of ``tool``, repeated when disturbed."""
        figures: RunFigures | None = None
        for attempt in range(1, self.attempts + 1):
            wait_for_quiet(self.nginx, self.max_wait_s)
            load1 = os.getloadavg()[0]
            folder = Path(tempfile.mkdtemp(prefix=f"{tool}-", dir=self.tmp))
            try:
                figures = run(folder)
            finally:
                shutil.rmtree(folder)  # a run's history is ~100 MB; nothing here is kept
            if figures is None:
                return None
            window = figures.window
            if window is not None and not window.disturbed:
                break
            why = (
                "no steady window"
                if window is None
                else f"other processes {window.other_user_cores:.2f} cores,"
                f" steal {window.steal_cores:.2f}"
            )
            print(
                f"    {tool}: disturbed round ({why}; load {load1:.2f}), attempt {attempt}",
                flush=True,
            )
        return figures

    def _sample(self, argv: Sequence[str], folder: Path) -> tuple[int, list[Sample], float, str]:
        return sample_run(argv, nginx=self.nginx, counter=self.counter, log=folder / "stderr.log")

    @staticmethod
    def _failed(tool: str, folder: Path, code: int) -> None:
        tail = (folder / "stderr.log").read_text(errors="replace").strip()[-1500:]
        print(f"    {tool}: exit code {code}\n{tail}", file=sys.stderr, flush=True)

    # lgbench run

    def lgbench(self, backend: str, workload_text: str, folder: Path) -> RunFigures | None:
        exe = _bin("lgbench")
        if exe is None:
            return None
        workload = folder / "workload.toml"
        workload.write_text(workload_text)
        out = folder / "run"
        argv = [
            exe, "run", str(workload), "--target", self.url, "--backend", backend,
            "--no-live", "--quiet", "--out", str(out),
        ]  # fmt: skip
        code, samples, whole_s, _ = self._sample(argv, folder)
        if code != 0 or not (out / "summary.json").exists():
            self._failed(f"lgbench ({backend})", folder, code)
            return None
        summary = json.loads((out / "summary.json").read_text())
        op = summary["operations"]["http.get"]
        (scenario,) = summary["scenarios"].values()
        stderr = (folder / "stderr.log").read_text(errors="replace").strip()
        extra = {
            "iterations_started": scenario["iterations"]["started"],
            "iteration_rate_per_s": scenario["iterations"]["rate_per_s"],
            "dropped_iterations": summary["dropped_iterations"],
            "vus_allocated": scenario["vus_allocated"],
            "schedule_lag_p99_ms": summary["schedule_lag_ms"].get("p99"),
            "event_loop_lag_p99_ms": summary["event_loop_lag_ms"].get("p99"),
            "latency_p99_ms": op["latency_ms"]["p99"],
            "service_time_p99_ms": (op.get("service_time_ms") or {}).get("p99"),
            "server_version": summary["server"]["version"],
            "warnings": summary["warnings"],
            "stderr": stderr[-500:],
            "history_events": summary["history"]["events"],
        }
        return RunFigures(
            tool=f"lgbench-{backend}",
            window=steady_window(samples),
            reported_requests=op["count"],
            reported_req_per_s=op["rate_per_s"],
            whole_cpu_us_per_request=whole_s / op["count"] * 1e6 if op["count"] else 0.0,
            errors=op["errors"],
            extra=extra,
        )

    # peers

    def wrk(self, folder: Path) -> RunFigures | None:
        exe = shutil.which("wrk")
        if exe is None:
            return None
        argv = [exe, "-t1", f"-c{self.connections}", f"-d{self.seconds}s", f"{self.url}/json"]
        code, samples, whole_s, out = self._sample(argv, folder)
        found = re.search(r"(\d+) requests in ([\d.]+)s", out)
        if code != 0 or found is None:
            self._failed("wrk", folder, code)
            return None
        count, secs = int(found.group(1)), float(found.group(2))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        errors = (int(bad.group(1)) if bad else 0) + (
            sum(int(g) for g in sock.groups()) if sock else 0
        )
        return RunFigures("wrk", steady_window(samples), count, count / secs,
                          whole_s / count * 1e6, errors)  # fmt: skip

    def hey(self, folder: Path) -> RunFigures | None:
        exe = shutil.which("hey")
        if exe is None:
            return None
        argv = [exe, "-z", f"{self.seconds}s", "-c", str(self.connections), f"{self.url}/json"]
        code, samples, whole_s, out = self._sample(argv, folder)
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        statuses = {int(s): int(n) for s, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", out)}
        if code != 0 or rate is None or not statuses:
            self._failed("hey", folder, code)
            return None
        count = sum(statuses.values())
        errors = count - statuses.get(200, 0) + len(re.findall(r"^\s*\[\d+\].*error", out, re.M))
        return RunFigures("hey", steady_window(samples), count, float(rate.group(1)),
                          whole_s / count * 1e6, errors)  # fmt: skip

    def locust(self, folder: Path) -> RunFigures | None:
        exe = _bin("locust")
        if exe is None:
            return None
        locustfile = folder / "locustfile.py"
        locustfile.write_text(LOCUSTFILE)
        prefix = folder / "locust"
        n = str(self.connections)
        argv = [
            exe, "-f", str(locustfile), "--headless", "-u", n, "-r", n,
            "-t", f"{self.seconds}s", "--host", self.url, "--csv", str(prefix),
            "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        ]  # fmt: skip
        code, samples, whole_s, _ = self._sample(argv, folder)
        stats = prefix.with_name(prefix.name + "_stats.csv")
        if code != 0 or not stats.exists():
            self._failed("locust", folder, code)
            return None
        with stats.open(newline="") as f:
            (total,) = [row for row in csv.DictReader(f) if row["Name"] == "Aggregated"]
        count = int(total["Request Count"])
        return RunFigures("locust", steady_window(samples), count, float(total["Requests/s"]),
                          whole_s / count * 1e6, int(total["Failure Count"]))  # fmt: skip

    def httpx(self, folder: Path) -> RunFigures | None:
        argv = [
            sys.executable, __file__, "--child-httpx", "--url", self.url,
            "--connections", str(self.connections), "--seconds", str(self.seconds),
        ]  # fmt: skip
        code, samples, whole_s, out = self._sample(argv, folder)
        if code != 0 or not out.strip():
            self._failed("httpx", folder, code)
            return None
        result = json.loads(out.strip().splitlines()[-1])
        count = result["requests"]
        return RunFigures("httpx", steady_window(samples), count, count / result["seconds"],
                          whole_s / count * 1e6, result["errors"])  # fmt: skip


async def _httpx_loop(url: str, connections: int, seconds: float) -> dict[str, Any]:
    import anyio
    import httpx

    done = errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        started = anyio.current_time()
        deadline = started + seconds

        async def task() -> None:
            nonlocal done, errors
            while anyio.current_time() < deadline:
                response = await client.get("/json")
                done += 1
                errors += response.status_code != 200 or len(response.content) != len(BODY)

        async with anyio.create_task_group() as tg:
            for _ in range(connections):
                tg.start_soon(task)
        return {"requests": done, "errors": errors, "seconds": anyio.current_time() - started}


# --- reporting ------------------------------------------------------------------------------


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(rounds: Sequence[RunFigures]) -> dict[str, Any]:
    """Median of each figure over the rounds."""
    windows = [r.window for r in rounds if r.window is not None]
    keys = (
        "req_per_s", "cpu_us_per_request", "client_cores", "nginx_cores", "other_user_cores",
        "other_kernel_cores",
    )  # fmt: skip
    result: dict[str, Any] = {
        "rounds": len(rounds),
        "reported_req_per_s": _median([r.reported_req_per_s for r in rounds]),
        "whole_cpu_us_per_request": _median([r.whole_cpu_us_per_request for r in rounds]),
        "errors": sum(r.errors for r in rounds),
        **{k: _median([getattr(w, k) for w in windows]) for k in keys},
    }
    extras = [r.extra for r in rounds if r.extra]
    for key in ("iteration_rate_per_s", "dropped_iterations", "schedule_lag_p99_ms",
                "event_loop_lag_p99_ms", "latency_p99_ms", "service_time_p99_ms",
                "iterations_started", "vus_allocated"):  # fmt: skip
        values = [e.get(key) for e in extras]
        if any(v is not None for v in values):
            result[key] = _median(values)
    if extras:
        result["warnings"] = sorted({w for e in extras for w in e.get("warnings", [])})
    return result


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def print_closed(results: dict[str, dict[str, Any]], connections: int) -> None:
    print(f"\nclosed model: {connections}-connection GET loop (steady window, median of rounds)")
    print(
        f"  {'tool':16s} {'req/s':>9s} {'CPU µs/req':>10s} {'client':>7s} {'nginx':>6s}"
        f" {'reported req/s':>15s} {'whole µs/req':>12s} {'errors':>6s}"
    )
    for tool, r in results.items():
        print(
            f"  {tool:16s} {_fmt(r['req_per_s'], ',.0f'):>9s}"
            f" {_fmt(r['cpu_us_per_request'], '.1f'):>10s}"
            f" {_fmt(r['client_cores'], '.2f'):>7s} {_fmt(r['nginx_cores'], '.2f'):>6s}"
            f" {_fmt(r['reported_req_per_s'], ',.0f'):>15s}"
            f" {_fmt(r['whole_cpu_us_per_request'], '.1f'):>12s} {r['errors']:>6d}"
        )
    for tool in results:
        if not tool.startswith("lgbench"):
            continue
        ours = results[tool]
        print(f"  {tool} against each peer (req/s ratio; CPU-per-request ratio, peer/lgbench):")
        for peer in PEERS:
            theirs = results.get(peer)
            if not theirs or not ours["req_per_s"] or not theirs["req_per_s"]:
                continue
            print(
                f"    {peer:8s} {ours['req_per_s'] / theirs['req_per_s']:5.2f}x;"
                f" {theirs['cpu_us_per_request'] / ours['cpu_us_per_request']:5.2f}x"
            )


def print_targets(
    closed: dict[str, dict[str, Any]], opened: dict[str, dict[str, Any]], rate: int
) -> None:
    """The issue's targets, each judged on the figure that fits it.

    Against a peer that saturated nginx (≥ 0.9 of its core) req/s says more about nginx than
    about the peer, so the ratio of CPU µs per request is used; otherwise req/s.
    """
    print("\ntargets:")
    for tool in (t for t in closed if t.startswith("lgbench")):
        ours = closed[tool]
        for peer, goal in (("wrk", 0.5), ("locust", 4.0)):
            theirs = closed.get(peer)
            if not theirs or not ours["req_per_s"] or not theirs["req_per_s"]:
                continue
            if (theirs["nginx_cores"] or 0.0) >= 0.9:
                basis = "CPU µs/request, nginx is the peer's limit"
                ratio = theirs["cpu_us_per_request"] / ours["cpu_us_per_request"]
            else:
                basis = "req/s, both client-bound"
                ratio = ours["req_per_s"] / theirs["req_per_s"]
            verdict = "reached" if ratio >= goal else "not reached"
            print(f"  {tool} >= {goal:g}x {peer} ({basis}): {ratio:.2f}x, {verdict}")
    for backend, r in opened.items():
        lag = r.get("schedule_lag_p99_ms")
        achieved = r.get("iteration_rate_per_s") or 0.0
        dropped = r.get("dropped_iterations") or 0
        held = lag is not None and lag < 5.0 and achieved >= 0.99 * rate
        verdict = ("held" if not dropped else "held, with drops") if held else "not held"
        print(
            f"  open model {rate:,}/s on {backend}: {achieved:,.0f}/s achieved, schedule lag"
            f" p99 {_fmt(lag, '.2f')} ms, {dropped:,.0f} dropped: {verdict}"
        )


def print_open(results: dict[str, dict[str, Any]], rate: int) -> None:
    print(f"\nopen model: constant-arrival-rate {rate:,}/s, {OPEN_VUS} VUs (median of rounds)")
    print(
        f"  {'backend':9s} {'achieved/s':>10s} {'req/s':>7s} {'dropped':>8s} {'sched lag p99':>13s}"
        f" {'loop lag p99':>12s} {'latency p99':>11s} {'client':>7s} {'CPU µs/req':>10s}"
    )
    for backend, r in results.items():
        print(
            f"  {backend:9s} {_fmt(r.get('iteration_rate_per_s'), ',.0f'):>10s}"
            f" {_fmt(r['req_per_s'], ',.0f'):>7s}"
            f" {_fmt(r.get('dropped_iterations'), ',.0f'):>8s}"
            f" {_fmt(r.get('schedule_lag_p99_ms'), '.2f'):>10s} ms"
            f" {_fmt(r.get('event_loop_lag_p99_ms'), '.2f'):>9s} ms"
            f" {_fmt(r.get('latency_p99_ms'), '.2f'):>8s} ms"
            f" {_fmt(r['client_cores'], '.2f'):>7s}"
            f" {_fmt(r['cpu_us_per_request'], '.1f'):>10s}"
        )
        for warning in r.get("warnings", []):
            print(f"    warning: {warning}")


def _version(argv: Sequence[str], pattern: str) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    found = re.search(pattern, proc.stdout + proc.stderr)
    return found.group(1) if found else "?"


def versions() -> dict[str, str]:
    found: dict[str, str] = {"python": platform.python_version()}
    for dist in ("lgbench", "anyio", "trio", "uvloop", "httptools", "httpx", "locust",
                 "geventhttpclient", "gevent"):  # fmt: skip
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[dist] = importlib.metadata.version(dist)
    found["nginx"] = _version(["nginx", "-v"], r"nginx/(\S+)")
    found["wrk"] = _version(["wrk", "--version"], r"wrk (\S+)")
    found["hey"] = _version(["dpkg-query", "-W", "hey"], r"hey\s+(\S+)")
    return found


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="each run's length")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=5000, help="open model, iterations/s")
    parser.add_argument("--tools", nargs="*", default=list(CLOSED_TOOLS), choices=CLOSED_TOOLS)
    parser.add_argument("--backends", nargs="*", default=list(OPEN_BACKENDS),
                        choices=OPEN_BACKENDS, help="open model backends")  # fmt: skip
    parser.add_argument("--no-open", action="store_true", help="skip the open-model check")
    parser.add_argument("--attempts", type=int, default=4, help="tries per disturbed round")
    parser.add_argument(
        "--max-wait",
        type=float,
        default=600.0,
        metavar="S",
        help="longest wait for a busy machine to calm down before each run",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--child-httpx", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_httpx:
        import anyio

        print(json.dumps(anyio.run(_httpx_loop, args.url, args.connections, args.seconds)))
        return

    os.sched_setaffinity(0, {SERVER_CPU})  # keep this sampler off the client's core
    cpu_model = _version(["lscpu"], r"Model name:\s+(.+)")
    machine = f"{platform.machine()} {platform.platform()}, {os.cpu_count()} CPUs ({cpu_model})"
    found_versions = versions()
    print(f"machine: {machine}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in found_versions.items()))
    print(
        f"workload: keep-alive GET of a {len(BODY)}-byte JSON from nginx (1 worker, CPU"
        f" {SERVER_CPU}); each client alone on CPU {CLIENT_CPU}; {args.connections} connections;"
        f" {args.seconds} s x {args.rounds} rounds; steady window {WARMUP_S} s after the first"
        f" request to {TAIL_S} s before the last"
    )
    closed: dict[str, list[RunFigures]] = {tool: [] for tool in args.tools}
    opened: dict[str, list[RunFigures]] = {b: [] for b in ([] if args.no_open else args.backends)}
    with (
        tempfile.TemporaryDirectory(prefix="lgbench-peers-") as tmp_name,
        running_nginx(Path(tmp_name)) as (nginx, port),
    ):
        tmp = Path(tmp_name)
        counter = NginxCounter(port)
        url = f"http://127.0.0.1:{port}"
        bench = Bench(url, args.seconds, args.connections, args.rate, tmp, nginx, counter,
                      args.attempts, args.max_wait)  # fmt: skip
        closed_text = CLOSED_WORKLOAD.format(vus=args.connections, seconds=args.seconds)
        open_text = OPEN_WORKLOAD.format(rate=args.rate, seconds=args.seconds, vus=OPEN_VUS)
        runners: dict[str, Callable[[Path], RunFigures | None]] = {
            "lgbench-asyncio": lambda f: bench.lgbench("asyncio", closed_text, f),
            "lgbench-trio": lambda f: bench.lgbench("trio", closed_text, f),
            "wrk": bench.wrk,
            "hey": bench.hey,
            "locust": bench.locust,
            "httpx": bench.httpx,
        }
        try:
            for n in range(1, args.rounds + 1):
                print(f"round {n}/{args.rounds}", flush=True)
                for tool in args.tools:
                    figures = bench.measure(tool, runners[tool])
                    if figures is None:
                        continue
                    closed[tool].append(figures)
                    w = figures.window
                    print(
                        f"    {tool:16s} "
                        + (
                            f"{w.req_per_s:>9,.0f} req/s {w.cpu_us_per_request:7.1f} µs/req"
                            f" client {w.client_cores:.2f} nginx {w.nginx_cores:.2f}"
                            f" others {w.other_user_cores:.2f}+{w.other_kernel_cores:.2f}k"
                            if w
                            else "no steady window"
                        )
                        + f" (reported {figures.reported_req_per_s:,.0f} req/s)",
                        flush=True,
                    )
                for backend in opened:
                    figures = bench.measure(
                        f"open-{backend}", functools.partial(bench.lgbench, backend, open_text)
                    )
                    if figures is None:
                        continue
                    opened[backend].append(figures)
                    e = figures.extra
                    print(
                        f"    open-{backend:11s} {e['iteration_rate_per_s']:>9,.0f} it/s"
                        f" dropped {e['dropped_iterations']}"
                        f" schedule lag p99 {e['schedule_lag_p99_ms']} ms"
                        f" loop lag p99 {e['event_loop_lag_p99_ms']} ms",
                        flush=True,
                    )
        finally:
            counter.close()

    closed_results = {tool: summarize(rounds) for tool, rounds in closed.items() if rounds}
    open_results = {b: summarize(rounds) for b, rounds in opened.items() if rounds}
    print_closed(closed_results, args.connections)
    if open_results:
        print_open(open_results, args.rate)
    print_targets(closed_results, open_results, args.rate)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "versions": found_versions,
                    "seconds": args.seconds,
                    "connections": args.connections,
                    "rate": args.rate,
                    "closed": closed_results,
                    "open": open_results,
                    "rounds": {
                        name: [asdict(r) for r in rounds]
                        for name, rounds in (
                            *closed.items(),
                            *((f"open-{b}", r) for b, r in opened.items()),
                        )
                    },
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
