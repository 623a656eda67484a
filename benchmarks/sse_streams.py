"""Open SSE streams: how many one lgbench process holds, and its memory per open stream.

    python benchmarks/sse_streams.py [--steps 1000 2000 5000 10000]
                                     [--clients lgbench-uvloop lgbench-asyncio lgbench-trio
                                                bare-asyncio bare-streams]
                                     [--interval 2] [--settle 5] [--open-concurrency 200]
                                     [--tracemalloc N] [--json FILE]

Starts ``benchmarks/_sse_server.py`` in a process of its own (a loopback SSE server that
answers ``POST /threads/{id}/runs/stream``, sends a ``metadata`` event, then a small event
every ``--interval`` seconds per stream, and never ends a stream by itself). Then, for each
step and each client, a fresh process:

1. builds its client and sends one warm-up request (``GET /info``), so one-time costs
   (imports, the loop's read buffer) fall into the baseline, then measures its RSS;
2. opens ``N`` streams, at most ``--open-concurrency`` of them connecting at once (a stream
   stops counting against that once its ``metadata`` event has arrived), and waits until
   every stream has received its ``metadata`` event *and* a later event, i.e. is open and
   receiving;
3. waits ``--settle`` seconds, still receiving, then measures RSS (after ``gc.collect()``),
   the CPU it used while holding, and the events it received; closes every stream and
   measures RSS again.

RSS is the client process's own (psutil), never the server's. "per stream" is
(RSS with N streams open - baseline) / N.

Clients:

- ``lgbench-uvloop``, ``lgbench-asyncio``, ``lgbench-trio``: lgbench's own client,
  ``get_client(url=..., transport=FastTransport(url, max_connections=N + 1))``, one task per
  stream doing ``async with client.runs.stream(thread_id, ...) as s: async for part in s``
  (the JSON of each event decoded, as the engine does). uvloop is what ``lgbench run`` uses
  on asyncio. ``get_client(url=...)`` alone would hold at most 256 streams: the fast
  transport's default ``max_connections``; the rest would wait for a connection.
- ``lgbench-run``: ``lgbench run`` itself (a process of its own, uvloop) of a workload
  whose VUs each hold one stream (``runs.stream``): a ``ramping-vus`` scenario at 1 VU for
  8 s (the baseline is measured there, with that one stream open), then a ramp to N VUs,
  held. Its RSS is read from outside (no ``gc.collect()``); the process is stopped with
  SIGINT afterwards. With ``--tracemalloc`` it runs in the child's own process instead.
- ``bare-asyncio``: the floor. An ``asyncio.Protocol`` per connection on the default loop,
  no task per stream, no parsing beyond counting ``event:`` lines.
- ``bare-streams``: the plain way to write it in asyncio, and what a client with one
  coroutine per stream cannot go below: ``asyncio.open_connection`` and one plain asyncio
  task per stream reading with ``reader.read()``, counting ``event:`` lines.

``--tracemalloc N``: afterwards, one more run of each lgbench client with N streams under
tracemalloc, printing the allocations held per stream, by line (tracemalloc's own cost
inflates RSS there, so that run reports no RSS).

The file limit: each process raises its soft limit to the hard one (20,000 here); a
client holds one socket per stream, so one process tops out just under that. Traffic goes
to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
import tracemalloc
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import psutil

HERE: Final = Path(__file__).resolve().parent
SERVER: Final = HERE / "_sse_server.py"
CLIENTS: Final = (
    "lgbench-run",
    "lgbench-uvloop",
    "lgbench-asyncio",
    "lgbench-trio",
    "bare-asyncio",
    "bare-streams",
)
FLOOR: Final = "bare-asyncio"
TASK_FLOOR: Final = "bare-streams"
RESULT_PREFIX: Final = "RESULT "
MIB: Final = 1024 * 1024
INPUT: Final = {"messages": [{"role": "user", "content": "hold this stream open"}]}
ASSISTANT: Final = "agent"


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_bytes() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def thread_id(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


@dataclass(slots=True)
class Counts:
    """What the streams of one client process have seen so far."""

    opened: int = 0
    receiving: int = 0
    events: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def fail(self, exc: BaseException) -> None:
        self.failed += 1
        name = f"{type(exc).__name__}: {exc}"[:120]
        self.errors[name] = self.errors.get(name, 0) + 1


@dataclass(slots=True)
class ChildResult:
    client: str
    streams: int
    opened: int
    receiving: int
    failed: int
    errors: dict[str, int]
    baseline_rss: int
    open_rss: int
    closed_rss: int
    open_s: float
    hold_s: float
    hold_cpu_s: float
    hold_events: int
    file_limit: int
    traced: list[str]

    @property
    def above_baseline(self) -> int:
        return self.open_rss - self.baseline_rss

    @property
    def per_stream(self) -> float:
        return self.above_baseline / max(1, self.opened)


# --- the child processes --------------------------------------------------------------------


def _trace_top(before: tracemalloc.Snapshot, n_streams: int, top: int) -> list[str]:
    after = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    stats = after.compare_to(before, "lineno")
    total = sum(s.size_diff for s in stats)
    lines = [
        f"total {total / n_streams:,.0f} B/stream held by Python objects ({total / MIB:.1f} MiB)"
    ]
    for stat in stats[:top]:
        frame = stat.traceback[0]
        where = f"{_short(frame.filename)}:{frame.lineno}"
        lines.append(
            f"{stat.size_diff / n_streams:8,.0f} B/stream  {stat.count_diff / n_streams:6.2f}"
            f" blocks/stream  {where}"
        )
    return lines


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.replace(str(HERE.parent) + "/", "")


async def _wait_for(
    counts: Counts, n: int, timeout_s: float, sleep: Callable[[float], Any]
) -> None:
    deadline = time.monotonic() + timeout_s
    while counts.receiving + counts.failed < n and time.monotonic() < deadline:
        await sleep(0.1)


async def _hold_lgbench(args: argparse.Namespace) -> ChildResult:
    import anyio

    from lgbench.client import FastTransport, get_client

    n: int = args.streams
    counts = Counts()
    client = get_client(
        url=args.url, api_key=None, transport=FastTransport(args.url, max_connections=n + 1)
    )
    await client.http.get("/info")
    baseline = rss_bytes()
    snapshot = tracemalloc.take_snapshot() if args.trace else None
    opening = anyio.Semaphore(args.open_concurrency)

    async def hold(i: int) -> None:
        await opening.acquire()
        seen = 0
        try:
            async with client.runs.stream(
                thread_id(i), ASSISTANT, input=INPUT, stream_mode="values"
            ) as stream:
                async for part in stream:
                    seen += 1
                    if seen == 1:
                        counts.opened += 1
                        opening.release()
                    else:
                        counts.events += 1
                        if seen == 2:
                            counts.receiving += 1
                    del part
        except Exception as exc:
            counts.fail(exc)
        finally:
            if seen == 0:
                opening.release()

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(hold, i)
        await _wait_for(counts, n, args.open_timeout, anyio.sleep)
        open_s = time.monotonic() - started
        result = await _settle(args, counts, baseline, open_s, anyio.sleep, snapshot)
        tg.cancel_scope.cancel()
    await client.aclose()
    result.closed_rss = rss_bytes()
    return result


async def _settle(
    args: argparse.Namespace,
    counts: Counts,
    baseline: int,
    open_s: float,
    sleep: Callable[[float], Any],
    snapshot: tracemalloc.Snapshot | None,
) -> ChildResult:
    process = psutil.Process()
    cpu0 = sum(process.cpu_times()[:2])
    events0 = counts.events
    t0 = time.monotonic()
    await sleep(args.settle)
    hold_s = time.monotonic() - t0
    hold_cpu_s = sum(process.cpu_times()[:2]) - cpu0
    hold_events = counts.events - events0
    open_rss = rss_bytes()
    traced = _trace_top(snapshot, max(1, counts.opened), args.trace) if snapshot else []
    return ChildResult(
        client=args.child,
        streams=args.streams,
        opened=counts.opened,
        receiving=counts.receiving,
        failed=counts.failed,
        errors=counts.errors,
        baseline_rss=baseline,
        open_rss=open_rss,
        closed_rss=0,
        open_s=open_s,
        hold_s=hold_s,
        hold_cpu_s=hold_cpu_s,
        hold_events=hold_events,
        file_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        traced=traced,
    )


class _BareStream(asyncio.Protocol):
    """One stream of the floor client: counts ``event:`` lines, keeps nothing."""

    __slots__ = ("_request", "counts", "seen", "transport")

    def __init__(self, counts: Counts, request: bytes) -> None:
        self.counts = counts
        self.seen = 0
        self.transport: asyncio.BaseTransport | None = None
        self._request = request

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self._request)  # type: ignore[attr-defined]
        del self._request

    def data_received(self, data: bytes) -> None:
        n = data.count(b"event: ")
        if n == 0:
            return
        counts = self.counts
        before = self.seen
        self.seen = before + n
        if before == 0:
            counts.opened += 1
        counts.events += n - (before == 0)
        if before < 2 <= self.seen:
            counts.receiving += 1


def _bare_request(host: str, port: int, i: int) -> bytes:
    body = json.dumps(
        {"input": INPUT, "stream_mode": "values", "assistant_id": ASSISTANT},
        separators=(",", ":"),
    ).encode()
    return (
        f"POST /threads/{thread_id(i)}/runs/stream HTTP/1.1\r\nhost: {host}:{port}\r\n"
        f"accept: text/event-stream\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _hold_bare(args: argparse.Namespace) -> ChildResult:
    loop = asyncio.get_running_loop()
    host, port = _host_port(args.url)
    n: int = args.streams
    counts = Counts()
    streams: list[_BareStream] = []
    baseline = rss_bytes()
    snapshot = tracemalloc.take_snapshot() if args.trace else None
    opening = asyncio.Semaphore(args.open_concurrency)

    async def open_one(i: int) -> None:
        async with opening:
            try:
                _, proto = await loop.create_connection(
                    lambda: _BareStream(counts, _bare_request(host, port, i)), host, port
                )
            except OSError as exc:
                counts.fail(exc)
                return
            streams.append(proto)

    started = time.monotonic()
    for first in range(0, n, args.open_concurrency):
        await asyncio.gather(
            *(open_one(i) for i in range(first, min(n, first + args.open_concurrency)))
        )
    await _wait_for(counts, n, args.open_timeout, asyncio.sleep)
    open_s = time.monotonic() - started
    result = await _settle(args, counts, baseline, open_s, asyncio.sleep, snapshot)
    for proto in streams:
        if proto.transport is not None:
            proto.transport.close()
    streams.clear()
    await asyncio.sleep(0.5)
    result.closed_rss = rss_bytes()
    return result


async def _hold_bare_streams(args: argparse.Namespace) -> ChildResult:
    host, port = _host_port(args.url)
    n: int = args.streams
    counts = Counts()
    tasks: set[asyncio.Task[None]] = set()
    baseline = rss_bytes()
    snapshot = tracemalloc.take_snapshot() if args.trace else None
    opening = asyncio.Semaphore(args.open_concurrency)

    async def hold(i: int) -> None:
        seen = 0
        await opening.acquire()
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(_bare_request(host, port, i))
            while data := await reader.read(65536):
                found = data.count(b"event: ")
                if not found:
                    continue
                if seen == 0:
                    counts.opened += 1
                    opening.release()
                counts.events += found - (seen == 0)
                if seen < 2 <= seen + found:
                    counts.receiving += 1
                seen += found
            writer.close()
        except OSError as exc:
            counts.fail(exc)
        finally:
            if seen == 0:
                opening.release()

    started = time.monotonic()
    for i in range(n):
        # A plain task per stream on purpose: this is the floor without anyio.
        task = asyncio.get_running_loop().create_task(hold(i))
        tasks.add(task)
    await _wait_for(counts, n, args.open_timeout, asyncio.sleep)
    open_s = time.monotonic() - started
    result = await _settle(args, counts, baseline, open_s, asyncio.sleep, snapshot)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    tasks.clear()
    result.closed_rss = rss_bytes()
    return result


def _host_port(url: str) -> tuple[str, int]:
    rest = url.split("://", 1)[1].rstrip("/")
    host, _, port = rest.rpartition(":")
    return host, int(port)


_RUN_WORKLOAD: Final = """\
name = "sse-streams"

[target]
url = "{url}"

[defaults]
graceful_stop = "0s"

[[scenario]]
name = "streams"
executor = "ramping-vus"
start_vus = 1
graceful_ramp_down = "0s"
stages = [
  {{ target = 1, duration = "{warm_s}s" }},
  {{ target = {streams}, duration = "{ramp_s}s" }},
  {{ target = {streams}, duration = "{hold_s}s" }},
]
steps = [
  {{ op = "runs.stream", assistant = "{assistant}", input = {input}, stream_mode = "values" }},
]
"""


def _server_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/bench/stats", timeout=10) as answer:
        stats: dict[str, int] = json.loads(answer.read())
        return stats


def _tree_rss(process: psutil.Process) -> int:
    rss = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            rss += child.memory_info().rss
    return int(rss)


def _tree_cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _hold_lgbench_run(args: argparse.Namespace) -> ChildResult:
    """``lgbench run`` of a workload whose VUs each hold one stream: 1 VU for ``warm_s``
    (the baseline, measured with that one stream open), then a ramp to N VUs, held."""
    import tempfile

    n: int = args.streams
    warm_s, ramp_s = 8, max(5, n // 1000)
    hold_s = int(args.open_timeout + args.settle + 60)
    url: str = args.url
    with tempfile.TemporaryDirectory(prefix="sse-streams-") as folder:
        workload = Path(folder) / "streams.toml"
        workload.write_text(
            _RUN_WORKLOAD.format(
                url=url,
                warm_s=warm_s,
                ramp_s=ramp_s,
                hold_s=hold_s,
                streams=n,
                assistant=ASSISTANT,
                input=json.dumps(INPUT).replace('":', '" ='),
            )
        )
        argv = [
            str(Path(sys.executable).with_name("lgbench")), "run", str(workload),
            "--out", str(Path(folder) / "run"), "--no-live", "--quiet", "--no-report", "--no-audit",
        ]  # fmt: skip
        errors: dict[str, int] = {}
        process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        try:
            ps = psutil.Process(process.pid)
            first = time.monotonic() + args.open_timeout
            while time.monotonic() < first and _server_stats(url)["open_streams"] < 1:
                if process.poll() is not None:
                    raise SystemExit(f"lgbench run ended early: {process.stderr.read()}")  # type: ignore[union-attr]
                time.sleep(0.05)
            started = time.monotonic()
            time.sleep(max(0.0, warm_s - 1.5))
            baseline = _tree_rss(ps)
            deadline = started + warm_s + args.open_timeout
            opened = 0
            while time.monotonic() < deadline:
                opened = _server_stats(url)["open_streams"]
                if opened >= n:
                    break
                time.sleep(0.1)
            open_s = time.monotonic() - started - warm_s
            # Every stream has its metadata event; one interval more and each has a later one.
            time.sleep(args.interval + 0.5)
            stats0 = _server_stats(url)
            cpu0 = _tree_cpu_s(ps)
            t0 = time.monotonic()
            time.sleep(args.settle)
            hold = time.monotonic() - t0
            hold_cpu_s = _tree_cpu_s(ps) - cpu0
            stats1 = _server_stats(url)
            open_rss = _tree_rss(ps)
            receiving = min(stats1["open_streams"], opened)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            assert process.stderr is not None
            for line in process.stderr.read().splitlines()[-5:]:
                errors[line[:120]] = errors.get(line[:120], 0) + 1
    return ChildResult(
        client="lgbench-run",
        streams=n,
        opened=opened,
        receiving=receiving,
        failed=n - opened,
        errors=errors,
        baseline_rss=baseline,
        open_rss=open_rss,
        closed_rss=0,
        open_s=open_s,
        hold_s=hold,
        hold_cpu_s=hold_cpu_s,
        hold_events=stats1["events_sent"] - stats0["events_sent"],
        file_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        traced=[],
    )


def _trace_lgbench_run(args: argparse.Namespace) -> ChildResult:
    """``lgbench run`` of the same workload in this process, under tracemalloc: the
    allocations held per stream once all are open, against those at one VU."""
    import tempfile
    import threading

    from lgbench.cli import main as lgbench_main

    n: int = args.streams
    url: str = args.url
    warm_s = 8
    folder = tempfile.mkdtemp(prefix="sse-streams-trace-")
    workload = Path(folder) / "streams.toml"
    workload.write_text(
        _RUN_WORKLOAD.format(
            url=url,
            warm_s=warm_s,
            ramp_s=max(5, n // 1000),
            hold_s=int(args.open_timeout + 60),
            streams=n,
            assistant=ASSISTANT,
            input=json.dumps(INPUT).replace('":', '" ='),
        )
    )
    traced: list[str] = []
    opened = 0

    def watch() -> None:
        nonlocal opened
        while _server_stats(url)["open_streams"] < 1:
            time.sleep(0.05)
        time.sleep(warm_s - 1.5)
        before = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        deadline = time.monotonic() + args.open_timeout
        while (opened := _server_stats(url)["open_streams"]) < n and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(args.interval + 0.5)
        traced.extend(_trace_top(before, max(1, opened), args.trace))
        os.kill(os.getpid(), signal.SIGINT)  # lgbench run stops gracefully

    threading.Thread(target=watch, daemon=True).start()
    argv = ["run", str(workload), "--out", str(Path(folder) / "run")]
    lgbench_main([*argv, "--no-live", "--quiet", "--no-report", "--no-audit"])
    return ChildResult(
        client="lgbench-run", streams=n, opened=opened, receiving=opened, failed=n - opened,
        errors={}, baseline_rss=0, open_rss=0, closed_rss=0, open_s=0.0, hold_s=0.0,
        hold_cpu_s=0.0, hold_events=0, file_limit=raise_file_limit(), traced=traced,
    )  # fmt: skip


def child_main(args: argparse.Namespace) -> None:
    raise_file_limit()
    if args.trace:
        tracemalloc.start(1)
    if args.child == "lgbench-run":
        result = _trace_lgbench_run(args) if args.trace else _hold_lgbench_run(args)
        print(RESULT_PREFIX + json.dumps(asdict(result)), flush=True)
        return
    client: str = args.child
    result: ChildResult
    if client == "bare-asyncio":
        result = asyncio.run(_hold_bare(args))
    elif client == "bare-streams":
        result = asyncio.run(_hold_bare_streams(args))
    else:
        import anyio

        backend = "trio" if client == "lgbench-trio" else "asyncio"
        options = {"use_uvloop": True} if client == "lgbench-uvloop" else {}
        result = anyio.run(_hold_lgbench, args, backend=backend, backend_options=options)
    print(RESULT_PREFIX + json.dumps(asdict(result)), flush=True)


# --- the parent -----------------------------------------------------------------------------


@dataclass(slots=True)
class Server:
    process: subprocess.Popen[str]
    url: str

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(self.url + "/bench/stats", timeout=10) as answer:
            stats: dict[str, int] = json.loads(answer.read())
            return stats

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def wait_closed(self, timeout_s: float = 60.0) -> int:
        deadline = time.monotonic() + timeout_s
        while (open_streams := self.stats()["open_streams"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        return open_streams

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(interval_s: float) -> Server:
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", "0", "--interval", str(interval_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if len(line) != 3 or line[0] != "listening":
        process.kill()
        process.wait()
        raise SystemExit(f"the SSE server did not start: {line!r}")
    return Server(process, f"http://{line[1]}:{line[2]}")


def run_child(
    args: argparse.Namespace, server: Server, client: str, streams: int, trace: int
) -> ChildResult | None:
    argv = [
        sys.executable, __file__, "--child", client, "--url", server.url,
        "--streams", str(streams), "--settle", str(args.settle), "--interval", str(args.interval),
        "--open-concurrency", str(args.open_concurrency),
        "--open-timeout", str(args.open_timeout), "--trace", str(trace),
    ]  # fmt: skip
    peak_server = 0
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as process:
        try:
            out, _ = process.communicate(timeout=args.open_timeout + args.settle + 120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            print(f"  {client} {streams}: timed out", file=sys.stderr)
            return None
        peak_server = max(peak_server, server.rss())
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if process.returncode != 0 or not lines:
        print(f"  {client} {streams}: exit code {process.returncode}", file=sys.stderr)
        return None
    data = json.loads(lines[-1][len(RESULT_PREFIX) :])
    left = server.wait_closed()
    if left:
        print(f"  the server still holds {left} streams after {client}", file=sys.stderr)
    return ChildResult(**data)


def _ratio(r: ChildResult, floor: ChildResult | None) -> str:
    if floor is None or floor.per_stream <= 0:
        return "     -"
    return f"{r.per_stream / floor.per_stream:5.1f}x"


def _row(r: ChildResult, floors: dict[str, ChildResult]) -> str:
    cores = r.hold_cpu_s / r.hold_s if r.hold_s else 0.0
    return (
        f"{r.client:16} {r.streams:>7,} {r.opened:>7,} {r.receiving:>7,} {r.failed:>5}"
        f" {r.baseline_rss / MIB:8.1f} {r.open_rss / MIB:8.1f} {r.above_baseline / MIB:8.1f}"
        f" {r.per_stream / 1024:7.2f} {_ratio(r, floors.get(FLOOR))}"
        f" {_ratio(r, floors.get(TASK_FLOOR))} {r.open_s:6.1f} {cores:6.2f}"
        f" {r.hold_events / r.hold_s if r.hold_s else 0:8,.0f} {r.closed_rss / MIB:8.1f}"
    )


HEADER: Final = (
    f"{'client':16} {'streams':>7} {'open':>7} {'recv':>7} {'fail':>5} {'base MiB':>8}"
    f" {'open MiB':>8} {'+MiB':>8} {'KiB/str':>7} {'x bare':>6} {'x task':>6} {'open s':>6}"
    f" {'cores':>6} {'events/s':>8} {'closed':>8}"
)


def parent_main(args: argparse.Namespace) -> None:
    raise_file_limit()
    server = start_server(args.interval)
    results: list[ChildResult] = []
    traced: dict[str, list[str]] = {}
    try:
        print(
            f"SSE server {server.url} (pid {server.process.pid}), one event per stream every"
            f" {args.interval} s; file limit {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}",
            flush=True,
        )
        print(HEADER, flush=True)
        for streams in args.steps:
            floors: dict[str, ChildResult] = {}
            ordered = sorted(args.clients, key=lambda c: not c.startswith("bare-"))  # floors first
            for client in ordered:
                result = run_child(args, server, client, streams, 0)
                if result is None:
                    continue
                results.append(result)
                if client in (FLOOR, TASK_FLOOR):
                    floors[client] = result
                print(_row(result, floors), flush=True)
                for error, count in result.errors.items():
                    print(f"    {count} x {error}", flush=True)
        if args.tracemalloc:
            for client in args.clients:
                if client.startswith("bare-"):
                    continue
                result = run_child(args, server, client, args.tracemalloc, args.trace_top)
                if result is not None:
                    traced[client] = result.traced
                    print(f"\ntracemalloc, {client}, {result.opened:,} streams:", flush=True)
                    for line in result.traced:
                        print("  " + line, flush=True)
        server_rss = server.rss()
    finally:
        server.stop()
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "benchmark": "sse_streams",
                    "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                    "machine": _machine(),
                    "argv": sys.argv,
                    "interval_s": args.interval,
                    "settle_s": args.settle,
                    "server_rss_end": server_rss,
                    "results": [
                        {
                            **asdict(r),
                            "above_baseline": r.above_baseline,
                            "per_stream": r.per_stream,
                        }
                        for r in results
                    ],
                    "tracemalloc": traced,
                },
                indent=2,
            )
        )
        print(f"wrote {args.json}")


def _machine() -> dict[str, Any]:
    import importlib.metadata as md

    versions: dict[str, str | None] = {}
    for name in ("lgbench", "anyio", "trio", "uvloop", "httptools", "psutil"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--interval", type=float, default=2.0, help="s between a stream's events")
    parser.add_argument("--settle", type=float, default=5.0, help="s held before measuring")
    parser.add_argument("--open-concurrency", type=int, default=200, metavar="N")
    parser.add_argument("--open-timeout", type=float, default=180.0, metavar="S")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="N", help="streams traced")
    parser.add_argument("--trace-top", type=int, default=15, metavar="K")
    parser.add_argument("--json", metavar="FILE")
    # The child process's own options.
    parser.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--streams", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
