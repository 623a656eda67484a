"""Scale-out benchmark: `lgbench run` in one process against `--workers 2`, side by side.

    python benchmarks/scale.py [--seconds 10] [--rounds 3] [--vus 32] [--per-loop] [--ray]
                               [--attempts 3] [--json FILE]
    python benchmarks/scale.py --quota 0.3 [--pairs] [--period-ms 100] [--max-workers 3]
                               [--vus-per-loop 16] [--shares 8192] [--only NAMES]
                               [--seconds 8] [--rounds 3] [--attempts 3] [--json FILE]

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

``--quota CORES`` measures that rate anyway, on emulated cores: every *load process* (each
worker of a split run, or the one process of a single-process run) gets a cgroup of its own
(cgroup v1 cpu controller, ``/sys/fs/cgroup/cpu``: needs root; the script exits with a clear
message otherwise) whose CFS bandwidth quota lets it use at most ``CORES`` of a core
(``cpu.cfs_quota_us`` per ``cpu.cfs_period_us``, ``--period-ms``). The processes are found
when the load starts (the ``lgbench run`` process itself, or its children that
``multiprocessing`` spawned, not its resource tracker), moved into their groups then, and
back out when the load stops; the coordinator stays unconstrained and its own CPU is shown.
With ``--vus-per-loop`` VUs per load process, each is CPU-bound at its quota while nginx and
the core are not the limit, so N quota'd workers should deliver N times one's rate. Every
run still on CPU 1, nginx on CPU 0 with no quota; the quota'd groups and nginx's get
``--shares`` (a plain process weighs 1024), so that on a shared machine they get their quota
ahead of other processes. Modes, one after the other in each round (order alternating):

- one process without a quota (the distortion reference: CPU per request unconstrained);
- one process at its quota; one worker at its quota (``_one_worker.py``: a coordinator and
  one worker, which the command line does not offer);
- ``--workers N`` for N = 2, 3... while N times CORES leaves a tenth of the core free
  (``--max-workers``), with N times the VUs;
- with ``--pairs``, also one process and one worker *at the same time*, each against an
  nginx of its own (the single process started once the worker is spawned, so the loads
  overlap), two single processes so (A/A: what the pairing itself spreads), and
  ``--workers 2`` beside one worker (target (b) for N = 2, when three quotas fit). Runs at
  the same time share the machine's moment, which runs one after the other do not; they are
  compared over the part of their steady windows they have in common.

A run whose load processes did not use at least 90 % of their quota (something else held
them: the machine, nginx) is repeated. Printed: per mode req/s, CPU µs per request of the
load processes and of the whole tree, each load process's cores, the coordinator's, the share
of CFS periods that throttled (``cpu.stat``), nginx's cores; then the targets, each as the
median of the rounds' own ratios: (a) a worker's CPU per request against one process's;
(b) N workers' rate against N times one worker's (and N times one process's); and the distortion:
one process at its quota against one without.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).parent))

from peers import (
    CLIENT_CPU,
    CLOSED_WORKLOAD,
    SAMPLE_EVERY_S,
    TAIL_S,
    WARMUP_S,
    NginxCounter,
    Sample,
    _machine_cpu,
    _tree_cpu,
    running_nginx,
    sample_run,
    steady_window,
)

LGBENCH = [sys.executable, "-m", "lgbench.cli"]


def lgbench_run_argv(program: list[str], workload: Path, port: int, out: Path) -> list[str]:
    """``lgbench run`` of ``workload`` against the local nginx, quiet, without the report or
    the audit (what every measured run here is)."""
    return [
        *program,
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


def run_once(
    workload: Path, port: int, folder: Path, workers: int, bench: Any, mode: str, attempts: int
) -> dict[str, Any] | None:
    """One ``lgbench run`` (``mode``: ``process``, ``process-half``, ``workers`` or ``ray``),
    or for ``twin`` two single-process runs of ``workload`` side by side, sampled; the
    steady-window figures."""
    out = folder / "run"

    def lgbench_run(out: Path) -> list[str]:
        return lgbench_run_argv(LGBENCH, workload, port, out)

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


# --- --quota: cores emulated with CFS bandwidth quotas ------------------------------------------

CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
#: Of the client's core, what N quota'd processes leave to the coordinator and the kernel.
FREE_SHARE = 0.1
#: A quota'd process that used less than this share of its quota in the steady window was not
#: held by its quota (something else limited it): the run is repeated.
AT_QUOTA = 0.9
#: nginx above this many cores may be the limit: the run is repeated.
NGINX_LIMIT_CORES = 0.8
QUOTA_LABELS = {
    "free": "1 process, no quota",
    "process": "1 process",
    "worker-1": "1 worker (+ coordinator)",
    "workers-2": "--workers 2",
    "workers-3": "--workers 3",
    "pair:process": "1 process, beside 1 worker",
    "pair:worker-1": "1 worker, beside 1 process",
    "aa:process-a": "1 process, beside another (A)",
    "aa:process-b": "1 process, beside another (B)",
    "scale:workers-2": "--workers 2, beside 1 worker",
    "scale:worker-1": "1 worker, beside --workers 2",
}


class CpuGroup:
    """A cgroup of the v1 cpu controller: ``cpu.shares``, and with ``quota`` at most that many
    cores (CFS bandwidth: ``quota * period`` of CPU time per ``period``)."""

    def __init__(self, name: str, *, quota: float | None, period_us: int, shares: int) -> None:
        self.path = CGROUP_CPU / name
        self.path.mkdir()
        self.quota = quota
        (self.path / "cpu.shares").write_text(str(shares))
        if quota is not None:
            (self.path / "cpu.cfs_period_us").write_text(str(period_us))
            (self.path / "cpu.cfs_quota_us").write_text(str(round(quota * period_us)))

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))  # the whole process, every thread

    def stat(self) -> dict[str, int]:
        """``cpu.stat``: ``nr_periods``, ``nr_throttled``, ``throttled_time`` (ns)..."""
        pairs = (line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return {key: int(value) for key, value in pairs}

    def empty(self) -> None:
        """Move its processes back to the root group (the run's end needs no quota)."""
        for pid in (self.path / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):  # exited meanwhile
                (CGROUP_CPU / "cgroup.procs").write_text(pid)

    def remove(self) -> None:
        self.empty()
        self.path.rmdir()


def check_cgroups(prefix: str) -> None:
    """Exit with a clear message unless this process may create cpu cgroups with quotas."""
    probe = CGROUP_CPU / f"{prefix}-probe"
    try:
        probe.mkdir()
        try:
            (probe / "cpu.cfs_quota_us").write_text("-1")
        finally:
            probe.rmdir()
    except OSError as exc:
        raise SystemExit(
            f"--quota needs a writable cgroup v1 cpu controller at {CGROUP_CPU} (root, with"
            f" cpu.cfs_quota_us; a cgroup v2-only machine is not supported): {exc}"
        ) from None


class IdleProofCounter(NginxCounter):
    """``NginxCounter`` that reconnects when nginx closed its idle keep-alive connection (an
    nginx used only by ``--pairs`` idles through the other measurements of a round)."""

    def requests(self) -> int:
        try:
            return super().requests()
        except (http.client.HTTPException, ConnectionError):
            self.close()  # the next request connects again
            return super().requests()


@dataclass(slots=True)
class QuotaSample:
    """A reading of ``peers.py`` (``client``: the whole tree) and of the quota'd processes."""

    reading: Sample
    quota_cpu: dict[int, float]  # CPU seconds of each quota'd process, by pid
    stats: list[dict[str, int]]  # cpu.stat of each group


def _cpu_s(proc: psutil.Process) -> float:
    with contextlib.suppress(psutil.Error):
        times = proc.cpu_times()
        return float(times.user + times.system)
    return 0.0


def _active(samples: Sequence[QuotaSample], i: int) -> bool:
    """Load between samples ``i - 1`` and ``i`` (each reading is one request itself)."""
    return samples[i].reading.requests - samples[i - 1].reading.requests - 1 > 10


def _window_bounds(samples: Sequence[QuotaSample]) -> tuple[int, int] | None:
    """The first and last sample of ``peers.steady_window``'s window (the same rule)."""
    active = [i for i in range(1, len(samples)) if _active(samples, i)]
    if not active:
        return None
    start_s = samples[active[0] - 1].reading.t_s + WARMUP_S
    end_s = samples[active[-1]].reading.t_s - TAIL_S
    inside = [i for i, s in enumerate(samples) if start_s <= s.reading.t_s <= end_s]
    if len(inside) < 2 or end_s - start_s < 1.0:
        return None
    return inside[0], inside[-1]


def _load_processes(client: psutil.Process, mode: str, count: int) -> list[psutil.Process]:
    """The processes that run the load: the client itself, or its ``count`` spawned workers."""
    if mode in ("free", "process"):
        return [client]
    workers = _workers_of(client)
    if len(workers) != count:
        raise SystemExit(f"{mode}: found {len(workers)} worker processes, expected {count}")
    return workers


@dataclass(slots=True)
class Slot:
    """One ``lgbench run`` of a quota'd measurement, against an nginx of its own (runs measured
    at the same time must not share a request counter)."""

    mode: str
    argv: list[str]
    groups: list[CpuGroup]
    nginx: psutil.Process
    counter: NginxCounter
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    client: psutil.Process | None = None
    samples: list[QuotaSample] = field(default_factory=list)
    load: list[psutil.Process] = field(default_factory=list)
    idle: int = 0
    released_s: float | None = None

    def start(self) -> None:
        with self.log.with_suffix(".out").open("wb") as out, self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                ["taskset", "-c", str(CLIENT_CPU), *self.argv], stdout=out, stderr=err
            )
        self.client = psutil.Process(self.proc.pid)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawned(self) -> bool:
        """Its workers exist (a single process: at once)."""
        if self.mode in ("free", "process") or self.client is None:
            return self.client is not None
        with contextlib.suppress(psutil.Error):
            return len(_workers_of(self.client)) == len(self.groups)
        return False

    def after_reading(self) -> None:
        """When the load starts, each load process into a group of its own (the coordinator
        stays in the root group); when it stops, back out."""
        samples = self.samples
        if len(samples) > 1 and _active(samples, len(samples) - 1):
            self.idle = 0
            if not self.load:
                assert self.client is not None
                self.load = _load_processes(self.client, self.mode, len(self.groups))
                for process, group in zip(self.load, self.groups, strict=True):
                    group.add(process.pid)
        elif self.load and self.released_s is None:
            self.idle += 1
            if self.idle == 2:  # the load is over: its end-of-run work needs no quota
                for group in self.groups:
                    group.empty()
                self.released_s = time.monotonic()


def _workers_of(client: psutil.Process) -> list[psutil.Process]:
    return [
        child
        for child in client.children()
        if "spawn_main" in " ".join(child.cmdline())  # not multiprocessing's resource tracker
    ]


def sample_quota_runs(slots: Sequence[Slot]) -> None:
    """Run every slot pinned to CLIENT_CPU, sampling each as ``peers.sample_run`` does. A
    single process starts once every split run beside it has spawned its workers (whose
    start-up is then about a single process's), so that their loads overlap."""
    splits = [slot for slot in slots if slot.mode not in ("free", "process")]
    for slot in splits:
        slot.start()
    # Each slot's tree and nginx CPU (user, system), last known.
    last: dict[int, tuple[float, float]] = {}
    try:
        while True:
            if all(slot.spawned() for slot in splits):
                for slot in slots:
                    if slot.proc is None:
                        slot.start()
            live = [slot for slot in slots if slot.running]
            if not live and all(slot.proc is not None for slot in slots):
                break
            readings: dict[int, tuple[tuple[float, float], tuple[float, float]]] = {}
            for k, slot in enumerate(slots):
                if slot in live and slot.client is not None:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        tree, nginx = _tree_cpu(slot.client), _tree_cpu(slot.nginx)
                        readings[k] = (tree, nginx)
                        last[k] = (tree[0] + nginx[0], tree[1] + nginx[1])
            machine, steal_s = _machine_cpu()
            own = os.times()
            t_s = time.monotonic()
            for k, (tree, nginx) in readings.items():
                slot = slots[k]
                # The other slots count as this script's own CPU: not "other processes".
                beside = [pair for j, pair in last.items() if j != k]
                slot.samples.append(
                    QuotaSample(
                        Sample(
                            t_s=t_s,
                            requests=slot.counter.requests(),
                            client=tree,
                            nginx=nginx,
                            machine=machine,
                            steal_s=steal_s,
                            own=(
                                own.user + sum(u for u, _ in beside),
                                own.system + sum(s for _, s in beside),
                            ),
                        ),
                        {p.pid: _cpu_s(p) for p in slot.load},
                        [group.stat() for group in slot.groups],
                    )
                )
                slot.after_reading()
            time.sleep(SAMPLE_EVERY_S)
    except BaseException:
        for slot in slots:  # this script stopped: so do the runs
            if slot.running:
                assert slot.proc is not None
                slot.proc.terminate()
        raise
    finally:
        for slot in slots:
            if slot.proc is not None:
                slot.proc.wait()


def _window_span(samples: Sequence[QuotaSample]) -> tuple[float, float] | None:
    """The times of the steady window's first and last readings (``steady_window``'s rule)."""
    bounds = _window_bounds(samples)
    if bounds is None:
        return None
    return samples[bounds[0]].reading.t_s, samples[bounds[1]].reading.t_s


def quota_figures(
    mode: str,
    samples: Sequence[QuotaSample],
    span: tuple[float, float],
    released_s: float | None,
    quota: float | None,
) -> dict[str, Any] | None:
    """The figures of one quota'd run between the readings of ``span`` (its steady window,
    or the part that runs measured at the same time have in common), computed as
    ``peers.steady_window`` computes them. None: fewer than two readings."""
    inside = [i for i, s in enumerate(samples) if span[0] <= s.reading.t_s <= span[1]]
    if len(inside) < 2:
        return None
    a, b = samples[inside[0]], samples[inside[-1]]
    if released_s is not None and released_s < b.reading.t_s:
        raise SystemExit(f"{mode}: the quota was lifted inside the steady window")
    ra, rb = a.reading, b.reading
    seconds = rb.t_s - ra.t_s
    # Each reading is one request itself.
    requests = rb.requests - ra.requests - (inside[-1] - inside[0])

    def delta(pick: Callable[[Sample], tuple[float, float]]) -> tuple[float, float]:
        (u0, s0), (u1, s1) = pick(ra), pick(rb)
        return u1 - u0, s1 - s0

    client, nginx, own, machine = (
        delta(lambda x: x.client),
        delta(lambda x: x.nginx),
        delta(lambda x: x.own),
        delta(lambda x: x.machine),
    )
    nginx_cores = sum(nginx) / seconds
    steal_cores = (rb.steal_s - ra.steal_s) / seconds
    per_process = {pid: (b.quota_cpu[pid] - a.quota_cpu[pid]) / seconds for pid in a.quota_cpu}
    quota_s = sum(per_process.values()) * seconds
    tree_s = sum(client)
    periods = sum(
        sb["nr_periods"] - sa["nr_periods"] for sa, sb in zip(a.stats, b.stats, strict=True)
    )
    throttled = sum(
        sb["nr_throttled"] - sa["nr_throttled"] for sa, sb in zip(a.stats, b.stats, strict=True)
    )
    throttled_ns = sum(
        sb["throttled_time"] - sa["throttled_time"] for sa, sb in zip(a.stats, b.stats, strict=True)
    )
    limit = quota if quota is not None else 1.0  # "free" runs on the whole core
    at_quota = min(per_process.values()) / limit
    return {
        "mode": mode,
        "seconds": seconds,
        "req_per_s": requests / seconds,
        # The load processes' own CPU (the quota'd ones), and the whole tree's (coordinator,
        # multiprocessing's resource tracker) per request.
        "load_cpu_us_per_req": quota_s / requests * 1e6,
        "tree_cpu_us_per_req": tree_s / requests * 1e6,
        "load_cores": sorted(per_process.values()),
        "at_quota": at_quota,
        "coordinator_cores": (tree_s - quota_s) / seconds,
        "throttled_share": throttled / periods if periods else None,
        "throttled_ms_per_s": throttled_ns / 1e6 / seconds / max(len(a.stats), 1),
        "nginx_cores": nginx_cores,
        "other_cores": max(machine[0] - client[0] - nginx[0] - own[0], 0.0) / seconds,
        "steal_cores": steal_cores,
        "held": at_quota >= AT_QUOTA and nginx_cores < NGINX_LIMIT_CORES and steal_cores < 0.05,
        "load_1m": os.getloadavg()[0],
    }


def _argv(mode: str, args: argparse.Namespace, folder: Path, port: int, out: Path) -> list[str]:
    count = _count(mode)
    vus = args.vus_per_loop * count
    workload = folder / f"w-{vus}.toml"
    if not workload.exists():
        workload.write_text(CLOSED_WORKLOAD.format(vus=vus, seconds=args.seconds))
    program = (
        [sys.executable, str(Path(__file__).parent / "_one_worker.py")]
        if mode == "worker-1"
        else LGBENCH
    )
    workers = ["--workers", str(count)] if mode.startswith("workers-") else []
    return [*lgbench_run_argv(program, workload, port, out), *workers]


def _count(mode: str) -> int:
    """Load processes of a mode."""
    return int(mode.rsplit("-", 1)[1]) if mode.startswith("worker") else 1


def measure(
    modes: Sequence[str],
    args: argparse.Namespace,
    folder: Path,
    benches: Sequence[dict[str, Any]],
    prefix: str,
) -> list[dict[str, Any] | None]:
    """Runs of ``modes`` (QUOTA_LABELS) at the same time, each against its own nginx,
    repeated while a load process was not held by its quota (``args.attempts`` tries; the
    last is kept). Each run's figures (None: no steady window)."""
    outs = [folder / f"run-{k}" for k in range(len(modes))]
    figures: list[dict[str, Any] | None] = []
    for _attempt in range(args.attempts):
        slots = []
        try:
            for k, mode in enumerate(modes):
                shutil.rmtree(outs[k], ignore_errors=True)
                quota = None if mode == "free" else args.quota
                groups: list[CpuGroup] = []
                slots.append(
                    Slot(
                        mode,
                        _argv(mode, args, folder, benches[k]["port"], outs[k]),
                        groups,
                        benches[k]["nginx"],
                        benches[k]["counter"],
                        folder / f"stderr-{k}.log",
                    )
                )
                for n in range(_count(mode)):
                    groups.append(
                        CpuGroup(
                            f"{prefix}-{k}-{n}",
                            quota=quota,
                            period_us=round(args.period_ms * 1000),
                            shares=args.shares,
                        )
                    )
            sample_quota_runs(slots)
        finally:
            for slot in slots:
                for group in slot.groups:
                    group.remove()
        for slot in slots:
            assert slot.proc is not None
            if slot.proc.returncode != 0:
                err = slot.log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"lgbench failed ({slot.proc.returncode}): {err}")
        # Runs at the same time are compared over the part of their windows they share.
        spans = [span for slot in slots if (span := _window_span(slot.samples)) is not None]
        common = (
            (max(span[0] for span in spans), min(span[1] for span in spans))
            if len(spans) == len(slots)
            else None
        )
        figures = []
        for k, slot in enumerate(slots):
            quota = None if slot.mode == "free" else args.quota
            figures.append(
                quota_figures(slot.mode, slot.samples, common, slot.released_s, quota)
                if common is not None and common[1] - common[0] >= 1.0
                else None
            )
            summary = json.loads((outs[k] / "summary.json").read_text())
            lost = [w for w in summary.get("workers", []) if w["status"] != "finished"]
            if lost:
                raise SystemExit(f"{slot.mode}: workers did not finish: {lost}")
        if all(f is not None and f["held"] for f in figures):
            break
    for out in outs:
        shutil.rmtree(out, ignore_errors=True)
    return figures


def _paired(
    results: dict[str, list[dict[str, Any]]],
    mode: str,
    base: str,
    ratio: Callable[[dict[str, Any], dict[str, Any]], float],
) -> list[float]:
    """``ratio(run of mode, run of base)`` for each round that has both (back to back)."""
    bases = {run["round"]: run for run in results.get(base, [])}
    return [
        ratio(run, bases[run["round"]]) for run in results.get(mode, []) if run["round"] in bases
    ]


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return (
        f"x {statistics.median(values):.3f} (median of {len(values)} rounds,"
        f" {min(values):.3f} to {max(values):.3f})"
    )


def run_quota_mode(args: argparse.Namespace) -> None:
    """``--quota``: see the module docstring."""
    if not 0 < args.quota < 1:
        raise SystemExit(f"--quota: a share of a core between 0 and 1, got {args.quota}")
    if not 1 <= args.period_ms <= 1000:
        raise SystemExit(f"--period-ms: between 1 and 1000, got {args.period_ms}")
    if args.max_workers < 1 or args.vus_per_loop < 1 or args.shares < 2:
        raise SystemExit("--max-workers and --vus-per-loop must be at least 1, --shares 2")
    prefix = f"lgbench-scale-{os.getpid()}"
    check_cgroups(prefix)
    # SIGTERM unwinds like Ctrl-C: the groups are removed and nginx stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    fits = [n for n in range(2, args.max_workers + 1) if n * args.quota <= 1 - FREE_SHARE]
    # Each measurement: the modes run at the same time, and the names of their results.
    measurements: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        ((mode,), (mode,)) for mode in ("free", "process", "worker-1")
    ]
    measurements += [((f"workers-{n}",), (f"workers-{n}",)) for n in fits]
    if args.pairs:
        measurements += [
            (("process", "worker-1"), ("pair:process", "pair:worker-1")),
            (("process", "process"), ("aa:process-a", "aa:process-b")),
        ]
        if 3 * args.quota <= 1 - FREE_SHARE:  # target (b) for N = 2, at the same time
            measurements.append((("workers-2", "worker-1"), ("scale:workers-2", "scale:worker-1")))
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {name for _modes, names in measurements for name in names}
        if unknown:
            raise SystemExit(f"--only: no such measurement here: {', '.join(sorted(unknown))}")
        measurements = [m for m in measurements if wanted & set(m[1])]
    results: dict[str, list[dict[str, Any]]] = {
        name: [] for _modes, names in measurements for name in names
    }
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lgbench-scale-")))
        # nginx: no quota, the same weight as the quota'd groups (the machine is shared).
        nginx_group = CpuGroup(f"{prefix}-nginx", quota=None, period_us=100_000, shares=args.shares)
        stack.callback(nginx_group.remove)
        benches = []
        for k in range(2 if args.pairs else 1):
            (folder / f"nginx-{k}").mkdir()
            nginx, port = stack.enter_context(running_nginx(folder / f"nginx-{k}"))
            for process in (nginx, *nginx.children()):
                nginx_group.add(process.pid)
            benches.append({"nginx": nginx, "counter": IdleProofCounter(port), "port": port})
        for round_ in range(args.rounds):
            for modes, names in measurements if round_ % 2 == 0 else measurements[::-1]:
                run_folder = folder / f"run-{round_}-{'+'.join(names)}"
                run_folder.mkdir()
                for name, figures in zip(
                    names, measure(modes, args, run_folder, benches, prefix), strict=True
                ):
                    if figures is None:
                        print(f"round {round_ + 1} {name}: no steady window", file=sys.stderr)
                        continue
                    figures["round"] = round_
                    results[name].append(figures)
                    print(
                        f"round {round_ + 1} {QUOTA_LABELS[name]}: {figures['req_per_s']:,.0f}"
                        f" req/s, {figures['load_cpu_us_per_req']:.1f} CPU µs/req in the load"
                        f" processes, {figures['tree_cpu_us_per_req']:.1f} in the tree; cores"
                        f" {', '.join(f'{c:.3f}' for c in figures['load_cores'])}, coordinator"
                        f" {figures['coordinator_cores']:.3f}, nginx"
                        f" {figures['nginx_cores']:.2f}, others {figures['other_cores']:.2f},"
                        f" throttled {figures['throttled_share'] or 0:.0%} of periods"
                        + ("" if figures["held"] else " (NOT held by the quota)"),
                        file=sys.stderr,
                    )
    print_quota(args, results)
    if args.json is not None:
        args.json.write_text(json.dumps({"quota": args.quota, "runs": results}, indent=2))


def print_quota(args: argparse.Namespace, results: dict[str, list[dict[str, Any]]]) -> None:
    loads = [run["load_1m"] for runs in results.values() for run in runs]
    if loads:
        print(
            f"load average (1 min) at the end of each run: {min(loads):.1f} to {max(loads):.1f}"
            f" on {os.cpu_count()} cores; quota {args.quota} of a core per load process,"
            f" period {args.period_ms:g} ms, {args.vus_per_loop} VUs per load process"
        )
    print(
        "| mode | req/s | CPU µs / request, load processes | CPU µs / request, tree"
        " | cores per load process | coordinator (cores) | throttled periods | nginx (cores)"
        " | other processes (cores) | rounds held |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    med = statistics.median
    for mode, runs in results.items():
        if not runs:
            continue
        cores = [c for run in runs for c in run["load_cores"]]
        throttled = [run["throttled_share"] for run in runs if run["throttled_share"] is not None]
        print(
            f"| {QUOTA_LABELS[mode]} | {med(r['req_per_s'] for r in runs):,.0f}"
            f" | {med(r['load_cpu_us_per_req'] for r in runs):.1f}"
            f" | {med(r['tree_cpu_us_per_req'] for r in runs):.1f}"
            f" | {min(cores):.3f} to {max(cores):.3f}"
            f" | {med(r['coordinator_cores'] for r in runs):.3f}"
            f" | {f'{med(throttled):.0%}' if throttled else '-'}"
            f" | {med(r['nginx_cores'] for r in runs):.2f}"
            f" | {med(r['other_cores'] for r in runs):.2f}"
            f" | {sum(r['held'] for r in runs)} of {len(runs)} |"
        )

    def cost(key: str) -> Callable[[dict[str, Any], dict[str, Any]], float]:
        return lambda run, base: float(run[key] / base[key])

    def rate(n: int) -> Callable[[dict[str, Any], dict[str, Any]], float]:
        """N workers' rate against N times one's."""
        return lambda run, one: float(run["req_per_s"] / (n * one["req_per_s"]))

    print("\nTarget (a), a worker costs within 5 % of a single process per request (CPU µs):")
    for mode in [m for m in results if m.startswith("worker")]:
        for key, what in (("load_cpu_us_per_req", "worker(s)"), ("tree_cpu_us_per_req", "tree")):
            values = _paired(results, mode, "process", cost(key))
            if not values:
                continue
            verdict = "reached" if med(values) <= 1.05 else "not reached"
            print(f"  {QUOTA_LABELS[mode]} / 1 process, {what}: {_spread(values)}: {verdict}")
    for mode, base, what in (
        ("pair:worker-1", "pair:process", "1 worker / 1 process, at the same time"),
        ("aa:process-b", "aa:process-a", "A/A: 1 process / another, at the same time"),
    ):
        for key, part in (
            ("load_cpu_us_per_req", "load processes"),
            ("tree_cpu_us_per_req", "tree"),
        ):
            values = _paired(results, mode, base, cost(key))
            if values:
                print(f"  {what}, {part}: {_spread(values)}")
    print("\nTarget (b), N workers deliver >= 0.9 x N x one worker's rate (req/s):")
    for mode in [m for m in results if m.startswith("workers-")]:
        n = int(mode.rsplit("-", 1)[1])
        for base in ("worker-1", "process"):
            values = _paired(results, mode, base, rate(n))
            if not values:
                continue
            verdict = "reached" if med(values) >= 0.9 else "not reached"
            print(
                f"  {QUOTA_LABELS[mode]} / ({n} x {QUOTA_LABELS[base]}):"
                f" {_spread(values)}: {verdict}"
            )
    values = _paired(
        results,
        "scale:workers-2",
        "scale:worker-1",
        rate(2),
    )
    if values:
        verdict = "reached" if med(values) >= 0.9 else "not reached"
        print(f"  --workers 2 / (2 x 1 worker), at the same time: {_spread(values)}: {verdict}")
    print("\nDistortion: the quota'd single process against the same process without a quota:")
    values = _paired(results, "process", "free", cost("load_cpu_us_per_req"))
    if values:
        print(f"  CPU µs / request, 1 process at quota / without: {_spread(values)}")


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
    parser.add_argument(
        "--quota",
        type=float,
        default=None,
        metavar="CORES",
        help="emulate cores: each load process (a worker, or the single process) in a cgroup"
        " of its own limited to CORES of a core (cgroup v1 cpu controller; needs root);"
        " compares 1, 2 and 3 quota'd workers against one",
    )
    parser.add_argument(
        "--period-ms",
        type=float,
        default=100.0,
        help="with --quota: the CFS period (cpu.cfs_period_us)",
    )
    parser.add_argument(
        "--max-workers",
        type=int,
        default=3,
        help="with --quota: the most workers (only as many as leave a tenth of the core free)",
    )
    parser.add_argument(
        "--shares",
        type=int,
        default=8192,
        help="with --quota: cpu.shares of every quota'd group and of nginx's (a plain process"
        " weighs 1024), so that they get their quota ahead of the machine's other processes",
    )
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="with --quota: also one process and one worker at the same time (each against"
        " its own nginx), and two processes so (the pairing's own noise)",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="NAMES",
        help="with --quota: only these measurements, comma-separated (free, process, worker-1,"
        " workers-N; with --pairs also pair:process, aa:process-a, scale:workers-2)",
    )
    parser.add_argument(
        "--vus-per-loop",
        type=int,
        default=16,
        help="with --quota: VUs per quota'd process (N workers get N times as many)",
    )
    args = parser.parse_args()
    if args.quota is not None:
        if args.ray or args.per_loop:
            parser.error("--quota runs its own modes: not with --ray or --per-loop")
        run_quota_mode(args)
        return
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
