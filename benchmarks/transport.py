"""Transport benchmark: keep-alive GETs against nginx on loopback, several clients side by side.

    python benchmarks/transport.py [--connections 32] [--seconds 5] [--rounds 3]

Starts nginx (one worker, pinned to CPU 0) serving a small JSON, then runs
each client in its own process pinned to CPU 1, ``--connections`` concurrent
keep-alive workers for ``--seconds``, ``--rounds`` times, and prints the
median requests/s and CPU microseconds per request of each, and each one's
ratio to plain ``httpx.AsyncClient`` and to aiohttp. CPU µs/request describes
a client even when the server is the limit; req/s is what a user sees.

Needs nginx on PATH (``apt-get install nginx-light``) and, for the peers,
``pip install ".[bench]"``. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BODY = '{"status":"ok","service":"lgbench-bench","value":1234567}'  # a small JSON answer
CLIENTS = (
    "lgbench-fast-trio",
    "lgbench-fast-asyncio",
    "lgbench-fast-uvloop",
    "lgbench-httpx-transport",
    "httpx.AsyncClient",
    "aiohttp",
)
SERVER_CPU = 0
CLIENT_CPU = 1

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
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
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    if port == 2024:  # taken on our machines by something else
        return _free_port()
    return port


def start_nginx(prefix: Path) -> tuple[subprocess.Popen[bytes], int]:
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
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"nginx did not start; see {prefix}/error.log")


# --- clients: each runs `connections` workers looping GET /json until the deadline ---


async def _workers(
    connections: int, seconds: float, one_request: Callable[[], Awaitable[None]]
) -> int:
    import anyio

    done = 0
    deadline = anyio.current_time() + seconds

    async def worker() -> None:
        nonlocal done
        while anyio.current_time() < deadline:
            await one_request()
            done += 1

    async with anyio.create_task_group() as tg:
        for _ in range(connections):
            tg.start_soon(worker)
    return done


async def _lgbench_fast(url: str, connections: int, seconds: float) -> int:
    from lgbench.client import FastTransport, Request

    async with FastTransport(url, max_connections=connections) as transport:
        request = Request("GET", "/json")

        async def one() -> None:
            response = await transport.handle(request)
            body = await response.aread()
            assert response.status_code == 200 and len(body) == len(BODY)

        return await _workers(connections, seconds, one)


async def _lgbench_httpx(url: str, connections: int, seconds: float) -> int:
    from lgbench.client import HttpxTransport, Request

    async with HttpxTransport(url, max_connections=connections) as transport:
        request = Request("GET", "/json")

        async def one() -> None:
            response = await transport.handle(request)
            body = await response.aread()
            assert response.status_code == 200 and len(body) == len(BODY)

        return await _workers(connections, seconds, one)


async def _httpx_plain(url: str, connections: int, seconds: float) -> int:
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:

        async def one() -> None:
            response = await client.get("/json")
            assert response.status_code == 200 and len(response.content) == len(BODY)

        return await _workers(connections, seconds, one)


async def _aiohttp(url: str, connections: int, seconds: float) -> int:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as session:

        async def one() -> None:
            async with session.get("/json") as response:
                body = await response.read()
                assert response.status == 200 and len(body) == len(BODY)

        return await _workers(connections, seconds, one)


def _run_client(name: str, url: str, connections: int, seconds: float) -> dict[str, Any]:
    import anyio

    backend, options, fn = {
        "lgbench-fast-trio": ("trio", {}, _lgbench_fast),
        "lgbench-fast-asyncio": ("asyncio", {}, _lgbench_fast),
        "lgbench-fast-uvloop": ("asyncio", {"use_uvloop": True}, _lgbench_fast),
        "lgbench-httpx-transport": ("asyncio", {}, _lgbench_httpx),
        "httpx.AsyncClient": ("asyncio", {}, _httpx_plain),
        "aiohttp": ("asyncio", {}, _aiohttp),
    }[name]
    # Warm up connections and code paths, then measure.
    anyio.run(fn, url, connections, 0.3, backend=backend, backend_options=options)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    count = anyio.run(fn, url, connections, seconds, backend=backend, backend_options=options)
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "client": name,
        "requests": count,
        "req_per_s": count / wall_s,
        "cpu_us_per_request": cpu_s / count * 1e6 if count else float("inf"),
    }


def _measure(name: str, url: str, connections: int, seconds: float) -> dict[str, Any] | None:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            name,
            "--url",
            url,
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "MALLOC_TRIM_THRESHOLD_": "1073741824",
            "MALLOC_MMAP_THRESHOLD_": "1073741824",
        },
        check=False,
    )
    if proc.returncode != 0:
        print(f"  {name}: failed\n{proc.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", nargs="*", default=list(CLIENTS), choices=CLIENTS)
    parser.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        os.sched_setaffinity(0, {CLIENT_CPU})
        print(json.dumps(_run_client(args.child, args.url, args.connections, args.seconds)))
        return

    print(
        f"machine: {platform.machine()} {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        f"workload: keep-alive GET of a {len(BODY)}-byte JSON from nginx (1 worker, CPU "
        f"{SERVER_CPU}); clients on CPU {CLIENT_CPU}; {args.connections} connections; "
        f"{args.seconds:g} s x {args.rounds} rounds, median"
    )
    with tempfile.TemporaryDirectory(prefix="lgbench-bench-") as tmp:
        nginx, port = start_nginx(Path(tmp))
        url = f"http://127.0.0.1:{port}"
        try:
            results: dict[str, dict[str, float]] = {}
            for name in args.clients:
                rounds = [
                    r
                    for r in (
                        _measure(name, url, args.connections, args.seconds)
                        for _ in range(args.rounds)
                    )
                    if r
                ]
                if not rounds:
                    continue
                results[name] = {
                    "req_per_s": statistics.median(r["req_per_s"] for r in rounds),
                    "cpu_us_per_request": statistics.median(
                        r["cpu_us_per_request"] for r in rounds
                    ),
                }
                print(
                    f"  {name:26s} {results[name]['req_per_s']:>10,.0f} req/s "
                    f"{results[name]['cpu_us_per_request']:>9.1f} CPU µs/request",
                    flush=True,
                )
        finally:
            os.killpg(nginx.pid, signal.SIGTERM)
            nginx.wait(timeout=10)
    for peer in ("httpx.AsyncClient", "aiohttp"):
        if peer not in results:
            continue
        print(f"ratios to {peer} (req/s; CPU/request):")
        for name, figures in results.items():
            if name.startswith("lgbench"):
                print(
                    f"  {name:26s} {figures['req_per_s'] / results[peer]['req_per_s']:6.1f}x;"
                    f" {results[peer]['cpu_us_per_request'] / figures['cpu_us_per_request']:6.1f}x"
                )


if __name__ == "__main__":
    main()
