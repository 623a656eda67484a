"""The embedded LangGraph server: the real in-memory ``langgraph-api`` in a subprocess.

:class:`EmbeddedServer` (sync, a context manager) and :func:`open_embedded_server` (async,
for the engine, on asyncio or trio) start ``python -m lgbench.server._child`` on a free
loopback port with lgbench's bundled graphs, wait until ``GET /ok`` answers 200, and stop
the server's whole process group afterwards. The server runs in its own temporary working
directory, because the in-memory runtime saves its database to ``./.langgraph_api`` and
reloads it on the next start; the directory is removed when the server stops.

The server goes away however lgbench ends:

- ``stop()`` (also on ``with``-block exit, exceptions and Ctrl-C included): SIGTERM to the
  process group, up to :data:`STOP_TIMEOUT_S` for a graceful exit, then SIGKILL;
- garbage collection and interpreter exit: a ``weakref.finalize`` safety net runs the same;
- lgbench killed outright (SIGKILL): the child notices through ``PR_SET_PDEATHSIG`` (Linux)
  and through a pipe only lgbench holds (any Unix), and shuts itself down.

Faults, for :mod:`lgbench.faults`: ``kill()`` SIGKILLs the process group (a crash),
``restart()`` stops the server if it runs and starts it again on the same port (the
in-memory server comes back empty: threads, runs, assistants' versions and the store
are lost), ``pause()`` / ``resume()`` send SIGSTOP / SIGCONT to the process group (a
hung server: connections are accepted by the kernel and then nothing answers). A paused
server would stay stopped forever if lgbench died (a stopped process cannot act on the
parent-death signal or the pipe), so while it is paused a tiny guard process, in a
session of its own, waits on a pipe only lgbench holds and sends SIGCONT to the group
when lgbench is gone; the usual cleanup then runs. Stopping a paused server sends
SIGCONT after SIGTERM so that it shuts down gracefully.

Failure modes (all :class:`~lgbench.errors.ServerError`, exit code 3): langgraph-api is not
installed (the ``lgbench[server]`` extra), the process exits during startup, or it is not
healthy within ``startup_timeout_s``; the message carries the tail of the server log.
Invalid arguments raise :class:`ServerConfigError` (a ``ValueError``; exit code 2).

Unix only (process groups).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import ipaddress
import json
import os
import re
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, NoReturn, final

import anyio
import anyio.to_thread

import lgbench
from lgbench.errors import ServerError, UsageError
from lgbench.graphs import GRAPH_IDS
from lgbench.server._fixture_tokens import AUTH_SECRET_ENV
from lgbench.server._protocol import EXIT_PARENT_GONE, EXIT_PORT_IN_USE, EXIT_SERVER_MISSING

__all__ = [
    "DEFAULT_N_JOBS_PER_WORKER",
    "DEFAULT_STARTUP_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "AsyncEmbeddedServer",
    "EmbeddedServer",
    "ServerConfigError",
    "open_embedded_server",
    "probe_ready",
    "server_extra_installed",
]

#: Runs the server executes at once. ``langgraph dev`` / ``run_server`` default to 1,
#: which turns any concurrent load into a queue; 10 is what langgraph-api itself uses
#: when the variable is unset.
DEFAULT_N_JOBS_PER_WORKER: Final = 10
#: How long ``start()`` waits for ``GET /ok`` (a cold start imports a lot).
DEFAULT_STARTUP_TIMEOUT_S: Final = 60.0
#: How long ``stop()`` lets the server shut down after SIGTERM before SIGKILL.
STOP_TIMEOUT_S: Final = 5.0

_INSTALL_HINT: Final = 'pip install "lgbench[server]"'
# langgraph dev's default port: often taken by a developer's own server; never pick it.
_RESERVED_PORTS: Final = frozenset({2024})
_PORT_ATTEMPTS: Final = 5
_POLL_INTERVAL_S: Final = 0.1
_PROBE_TIMEOUT_S: Final = 2.0
_LOG_TAIL_BYTES: Final = 4000
_ANSI_ESCAPE: Final = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KILL_WAIT_S: Final = 10.0
# The pause guard: blocks on a pipe only lgbench holds, and at end of file (lgbench gone,
# however it died) lets the stopped server group continue so its own cleanup can run.
# -S: no site import, so it is up in milliseconds.
_PAUSE_GUARD_CODE: Final = (
    "import os, signal, sys\n"
    "fd, pgid = int(sys.argv[1]), int(sys.argv[2])\n"
    "try:\n"
    "    while os.read(fd, 64):\n"
    "        pass\n"
    "except OSError:\n"
    "    pass\n"
    "try:\n"
    "    os.killpg(pgid, signal.SIGCONT)\n"
    "except OSError:\n"
    "    pass\n"
)

# Set for the server process so it never reaches the network: no LangSmith tracing, no
# PyPI version check, no OpenTelemetry export; plain logs and unbuffered output in the file.
_OFFLINE_ENV: Final[Mapping[str, str]] = {
    "LANGSMITH_TRACING": "false",
    "LANGSMITH_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "OTEL_SDK_DISABLED": "true",
    "OTEL_ENABLED": "false",
    "LANGGRAPH_METRICS_ENABLED": "false",
    "LANGGRAPH_LOGS_ENABLED": "false",
    "LOG_COLOR": "false",
    "PYTHONUNBUFFERED": "1",
}
# Removed from the server's environment: credentials and endpoints that would make it
# phone home (license beacon, metadata loop, exporters). lgbench's own API key handling
# is opt-in per target and never involves the embedded server.
_DROPPED_ENV: Final = (
    "LANGGRAPH_CLOUD_LICENSE_KEY",
    "LANGSMITH_CONTROL_PLANE_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGSMITH_ENDPOINT",
    "LANGCHAIN_ENDPOINT",
    "LANGSMITH_AUTH_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "LSD_DD_API_KEY",
    "CUSTOM_LSD_DD_API_KEY",
    "LANGGRAPH_METRICS_ENDPOINT",
    "LANGGRAPH_LOGS_ENDPOINT",
)


class ServerConfigError(UsageError, ValueError):
    """Invalid arguments for the embedded server (non-loopback host, bad port...)."""


def server_extra_installed() -> bool:
    """Whether the ``lgbench[server]`` extra (langgraph-api, in-memory runtime) is present.

    Looks the packages up without importing them (importing langgraph_api configures
    logging and takes seconds).
    """
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("langgraph_api", "langgraph_runtime_inmem")
    )


def _bind_host(host: str, *, allow_remote: bool) -> str:
    """The IPv4 address to bind: a loopback one, or any one when ``allow_remote``."""
    if host == "localhost":
        # One address, not whatever "localhost" resolves to first (often ::1).
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None:
        raise ServerConfigError(
            f"the embedded server binds an IP address such as 127.0.0.1, not {host!r}"
        )
    if not address.is_loopback and not allow_remote:
        raise ServerConfigError(
            f"the embedded server binds loopback addresses only, not {host!r}: it has no "
            "authentication and runs whatever its graphs do (lgbench serve --host binds "
            "another address, with a warning)"
        )
    if address.version != 4:
        # langgraph_api.cli.run_server probes ports with IPv4 sockets and fails on IPv6.
        raise ServerConfigError(f"langgraph-api cannot bind IPv6 addresses such as {host!r}")
    return host


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port(host: str) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
        if port not in _RESERVED_PORTS:
            return port


def _http_get(host: str, port: int, path: str, timeout_s: float) -> tuple[int, bytes]:
    # http.client, not httpx: no proxy environment variables to honour by mistake, no pool.
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def probe_ready(host: str, port: int, timeout_s: float) -> bool:
    """Whether the server at ``host:port`` answers as a running API: ``GET /ok`` 200.

    A server without ``/ok`` (404 or 405 there) is asked ``GET /info`` (a 2xx will do), then
    its root ``/`` (any 2xx or 4xx answer: the application is up and routing requests). A 5xx
    anywhere means not ready yet. Raises :class:`OSError` or
    :class:`http.client.HTTPException` when the server cannot be reached.
    """
    status, _ = _http_get(host, port, "/ok", timeout_s)
    if status == 200:
        return True
    if status not in (404, 405):
        return False
    status, _ = _http_get(host, port, "/info", timeout_s)
    if 200 <= status < 300:
        return True
    status, _ = _http_get(host, port, "/", timeout_s)
    return 200 <= status < 500


def _exit_status(process: subprocess.Popen[bytes]) -> int | None:
    """The process's exit status (negative: killed by that signal), None while it runs.

    Does not reap it where ``waitid(WNOWAIT)`` exists: as long as the leader is a zombie,
    its process group id cannot be reused, so a later ``killpg`` cannot hit a stranger.
    """
    if process.returncode is not None:
        return process.returncode
    if not hasattr(os, "waitid"):
        return process.poll()
    try:
        result = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return process.poll()
    if result is None:
        return None
    return result.si_status if result.si_code == os.CLD_EXITED else -result.si_status


def _wait_stopped(process: subprocess.Popen[bytes]) -> None:
    """Wait (briefly) until the leader has acted on SIGSTOP, which it does asynchronously.

    ``waitid(WSTOPPED | WNOWAIT)`` only looks: the state stays for anyone else to see.
    """
    if not hasattr(os, "waitid"):
        return
    deadline = time.monotonic() + _KILL_WAIT_S
    while time.monotonic() < deadline:
        try:
            result = os.waitid(os.P_PID, process.pid, os.WSTOPPED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if result is not None or _exit_status(process) is not None:
            return
        time.sleep(0.005)
    raise ServerError(f"the embedded server (pid {process.pid}) did not stop on SIGSTOP")


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _terminate_group(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM the process group, wait up to ``timeout_s``, SIGKILL what is left, reap."""
    # start_new_session=True made the server the leader of its own group.
    pgid = process.pid
    try:
        if _exit_status(process) is None:
            _signal_group(pgid, signal.SIGTERM)
            # A paused (SIGSTOPped) server only acts on SIGTERM once it continues.
            _signal_group(pgid, signal.SIGCONT)
            deadline = time.monotonic() + timeout_s
            while _exit_status(process) is None and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        # Whatever remains of the group (a hung leader, or processes it started) dies now,
        # even if the wait above was interrupted (a second Ctrl-C).
        _signal_group(pgid, signal.SIGKILL)
        process.wait()


def _socket_inodes(pid: int) -> set[int] | None:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    inodes: set[int] = set()
    for name in names:
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            if target.startswith("socket:["):
                inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _listening_inodes(port: int) -> set[int] | None:
    inodes: set[int] = set()
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(int(fields[9]))
    return inodes if found_table else None


def _listens_on(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the socket listening on ``port`` (None: cannot tell).

    Guards against answering readiness for someone else's server that grabbed the port
    while ours was still importing (Linux /proc; elsewhere the check is skipped).
    """
    owned = _socket_inodes(pid)
    listening = _listening_inodes(port)
    if owned is None or listening is None:
        return None
    return bool(owned & listening)


def _child_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
    env.update(_OFFLINE_ENV)
    # The child runs in a temporary directory; make sure it imports this very lgbench
    # (a source checkout may not be installed). Appended, and skipped for site-packages,
    # so nothing gets ahead of the standard library.
    root = str(Path(lgbench.__file__).resolve().parent.parent)
    site_dirs = {
        str(Path(path).resolve())
        for path in [*getattr(site, "getsitepackages", list)(), site.getusersitepackages()]
    }
    if root not in site_dirs:
        existing = env.get("PYTHONPATH")
        env["PYTHONPATH"] = f"{existing}{os.pathsep}{root}" if existing else root
    if extra:
        env.update(extra)
    return env


class _PortTaken(Exception):
    """Startup lost the port to another process: retry on a fresh one."""


@dataclass(eq=False)
class _Session:
    """Everything one ``start()`` owns; ``close()`` releases all of it, once."""

    log_path: Path
    log_file: IO[bytes]
    delete_log: bool
    process: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    watch_fd: int | None = None
    healthy: bool = False
    # Killed by kill(): its death is no reason to keep the log.
    killed: bool = False
    pause_guard: subprocess.Popen[bytes] | None = None
    pause_guard_fd: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def end_pause_guard(self) -> None:
        with self.lock:
            guard, guard_fd = self.pause_guard, self.pause_guard_fd
            self.pause_guard = self.pause_guard_fd = None
        if guard is not None:
            guard.kill()
            guard.wait()
        if guard_fd is not None:
            with contextlib.suppress(OSError):
                os.close(guard_fd)

    def end_process(self) -> None:
        with self.lock:
            process, workdir, watch_fd = self.process, self.workdir, self.watch_fd
            self.process = self.workdir = self.watch_fd = None
        try:
            if process is not None:
                _terminate_group(process, STOP_TIMEOUT_S)
        finally:
            self.end_pause_guard()
            # Only after the group is dead: closing it tells the child we are gone.
            if watch_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(watch_fd)
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)

    def close(self) -> None:
        died_on_its_own = (
            self.process is not None and _exit_status(self.process) is not None and not self.killed
        )
        try:
            self.end_process()
        finally:
            self.log_file.close()
            # A temporary log is worth keeping only when something went wrong.
            if self.delete_log and self.healthy and not died_on_its_own:
                self.log_path.unlink(missing_ok=True)


@final
class EmbeddedServer:
    """The real LangGraph in-memory server with lgbench's bundled graphs, in a subprocess.

    ::

        with EmbeddedServer() as server:
            httpx.get(f"{server.url}/info")

    Args:
        host: an IPv4 loopback address (``127.0.0.1``, any ``127.x.y.z``, ``localhost``);
            with ``allow_remote``, any IPv4 address (``0.0.0.0``: every interface), which
            exposes a server with no authentication to whoever can reach it.
        port: the port to bind; default a free one (never 2024), re-picked if another
            process takes it during startup. A given port that is taken is an error.
        log_path: file for the server's stdout and stderr, truncated on start; default a
            temporary file, deleted on a clean stop and kept when something went wrong.
        n_jobs_per_worker: runs the server executes at once (default
            :data:`DEFAULT_N_JOBS_PER_WORKER`).
        startup_timeout_s: how long ``start()`` waits for ``GET /ok``.
        env: extra environment variables for the server process, applied last (they
            override lgbench's offline defaults too).
        auth_secret: run with lgbench's bundled Auth handlers (owner-only access, see
            :mod:`lgbench.server._auth`), accepting the fixture tokens of this secret
            (:func:`lgbench.server.fixture_token`); None: no authentication. The secret
            reaches the server through its environment, never its command line or log.
        auth_path: the Auth object to load instead of the bundled one (``"module:name"``,
            as langgraph.json's ``auth.path``), e.g. a test's deliberately leaky handlers.

    Raises:
        ServerConfigError: invalid arguments.

    The graphs are registered under their graph ids (:data:`lgbench.graphs.GRAPH_IDS`).
    Run requests may name a graph's default assistant by its graph id (``assistant_id=
    "sleepy"``); URL paths under ``/assistants/{assistant_id}`` need its UUID,
    :func:`lgbench.graphs.default_assistant_id`. ``start()``
    may be called again after ``stop()``: the server comes back on the same port when it
    is still free. Not thread-safe except ``stop()``, which any thread may call, once or
    many times.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
        n_jobs_per_worker: int | None = None,
        startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
        env: Mapping[str, str] | None = None,
        auth_secret: str | None = None,
        auth_path: str | None = None,
        allow_remote: bool = False,
    ) -> None:
        self._bind = _bind_host(host, allow_remote=allow_remote)
        # Where lgbench itself connects: the bound address, or loopback for a wildcard.
        self._host = "127.0.0.1" if self._bind == "0.0.0.0" else self._bind
        if auth_path is not None and auth_secret is None:
            raise ServerConfigError("auth_path needs auth_secret")
        if auth_secret is not None and not auth_secret:
            raise ServerConfigError("auth_secret must not be empty")
        if port is not None and not 1 <= port <= 65535:
            raise ServerConfigError(f"port must be between 1 and 65535, got {port}")
        if n_jobs_per_worker is None:
            n_jobs_per_worker = DEFAULT_N_JOBS_PER_WORKER
        if n_jobs_per_worker < 1:
            raise ServerConfigError(
                f"n_jobs_per_worker must be at least 1, got {n_jobs_per_worker}"
            )
        if not startup_timeout_s > 0:
            raise ServerConfigError(f"startup_timeout_s must be positive, got {startup_timeout_s}")
        self._fixed_port = port is not None
        self._port = port
        self._requested_log_path = log_path
        self._n_jobs_per_worker = n_jobs_per_worker
        self._startup_timeout_s = startup_timeout_s
        self._env = dict(env) if env else {}
        self._auth = auth_secret is not None
        self._auth_path = auth_path
        if auth_secret is not None:
            self._env[AUTH_SECRET_ENV] = auth_secret
        self._session: _Session | None = None
        self._finalizer: weakref.finalize[[], EmbeddedServer] | None = None
        self._deadline = 0.0
        self._attempts = 0
        self._started_at = 0.0
        self._startup_s: float | None = None
        # During restart(): the port must come back as it was, never move.
        self._restarting = False

    # -- what callers read ---------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address lgbench connects to (the bound one, or 127.0.0.1 for 0.0.0.0)."""
        return self._host

    @property
    def bind_host(self) -> str:
        """The address the server binds."""
        return self._bind

    @property
    def exposed(self) -> bool:
        """Whether the server listens beyond loopback (other machines may reach it)."""
        return not _is_loopback(self._bind)

    @property
    def port(self) -> int:
        """The server's port (known once started, or when given)."""
        if self._port is None:
            raise RuntimeError("the embedded server has no port yet: start() it first")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43817`` (no trailing slash)."""
        return f"http://{self._host}:{self.port}"

    @property
    def pid(self) -> int:
        """Process id of the server, which also leads its own process group."""
        process = self._session.process if self._session else None
        if process is None:
            raise RuntimeError("the embedded server is not running")
        return process.pid

    @property
    def running_pid(self) -> int | None:
        """Process id of the server while it runs, None between a stop and a start."""
        process = self._session.process if self._session else None
        return None if process is None else process.pid

    @property
    def log_path(self) -> Path:
        """Where the server's output goes (the current or last start's log)."""
        if self._session is not None:
            return self._session.log_path
        if self._requested_log_path is not None:
            return self._requested_log_path
        raise RuntimeError("the embedded server has no log yet: start() it first")

    @property
    def workdir(self) -> Path | None:
        """The server's temporary working directory while it runs (removed on stop)."""
        return self._session.workdir if self._session else None

    @property
    def n_jobs_per_worker(self) -> int:
        """Runs the server executes at once."""
        return self._n_jobs_per_worker

    @property
    def graphs(self) -> tuple[str, ...]:
        """Graph ids registered on the server (also usable as assistant ids)."""
        return GRAPH_IDS

    @property
    def startup_s(self) -> float | None:
        """Seconds the last ``start()`` took until ``/ok`` answered; None before."""
        return self._startup_s

    def is_running(self) -> bool:
        """Whether the server process is alive (started and not exited or stopped)."""
        process = self._session.process if self._session else None
        return process is not None and _exit_status(process) is None

    def info(self) -> dict[str, Any]:
        """The server's ``GET /info``: ``version``, ``langgraph_py_version``, ``flags``...

        Raises:
            ServerError: the server is not running or does not answer properly.
        """
        if not self.is_running():
            raise ServerError("the embedded server is not running")
        try:
            status, body = _http_get(self._host, self.port, "/info", _PROBE_TIMEOUT_S)
            info = json.loads(body)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise ServerError(f"the embedded server's /info failed: {exc}") from exc
        if status != 200 or not isinstance(info, dict):
            raise ServerError(f"the embedded server's /info answered {status}: {body[:200]!r}")
        return info

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the server and wait until it is healthy.

        Raises:
            ServerError: the ``lgbench[server]`` extra is missing, or the server exited
                or was not healthy within ``startup_timeout_s`` (message: the log's tail).
            RuntimeError: it is already running.
        """
        self._begin()
        try:
            while True:
                try:
                    if self._check_ready():
                        break
                except _PortTaken:
                    self._relaunch()
                    continue
                time.sleep(_POLL_INTERVAL_S)
        except BaseException:
            self.stop()
            raise
        self._ready()

    def stop(self) -> None:
        """Stop the server's whole process group and remove its working directory.

        SIGTERM, up to :data:`STOP_TIMEOUT_S` to exit, then SIGKILL. Idempotent.
        """
        finalizer = self._finalizer
        if finalizer is not None:
            finalizer()

    # -- faults (lgbench.faults) ---------------------------------------------------------

    def is_paused(self) -> bool:
        """Whether :meth:`pause` stopped the server and :meth:`resume` has not yet run."""
        return self._session is not None and self._session.pause_guard is not None

    def kill(self) -> None:
        """SIGKILL the server's whole process group, as a crash would, and wait for it to die.

        The working directory and log stay until :meth:`restart` or :meth:`stop`. Does
        nothing when the server is not running.

        Raises:
            ServerError: the process did not die within a few seconds (it should).
        """
        session = self._session
        process = session.process if session is not None else None
        if session is None or process is None or _exit_status(process) is not None:
            return
        session.killed = True
        _signal_group(process.pid, signal.SIGKILL)
        session.end_pause_guard()
        deadline = time.monotonic() + _KILL_WAIT_S
        # Not reaped (see _exit_status): the group id stays ours until stop() or restart().
        while _exit_status(process) is None:
            if time.monotonic() > deadline:
                raise ServerError(f"the embedded server (pid {process.pid}) survived SIGKILL")
            time.sleep(0.01)

    def pause(self) -> None:
        """SIGSTOP the server's process group: it holds its connections and answers nothing.

        Idempotent. A guard process makes sure the server continues (and so cleans up)
        if lgbench dies while it is paused.

        Raises:
            ServerError: the server is not running, or the guard cannot be started.
        """
        session = self._session
        process = session.process if session is not None else None
        if session is None or process is None or _exit_status(process) is not None:
            raise ServerError("cannot pause the embedded server: it is not running")
        if session.pause_guard is not None:
            return
        # The guard first: were lgbench to die right after SIGSTOP, the server would
        # otherwise stay stopped for ever.
        guard_read, guard_write = os.pipe()
        try:
            guard = subprocess.Popen(
                [sys.executable, "-S", "-c", _PAUSE_GUARD_CODE, str(guard_read), str(process.pid)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(guard_read,),
            )
        except OSError as exc:
            os.close(guard_write)
            raise ServerError(f"cannot start the pause guard process: {exc}") from exc
        finally:
            os.close(guard_read)
        with session.lock:
            session.pause_guard, session.pause_guard_fd = guard, guard_write
        _signal_group(process.pid, signal.SIGSTOP)
        _wait_stopped(process)

    def resume(self) -> None:
        """SIGCONT the server's process group after :meth:`pause`. Idempotent."""
        session = self._session
        if session is None:
            return
        process = session.process
        if process is not None and _exit_status(process) is None:
            _signal_group(process.pid, signal.SIGCONT)
        session.end_pause_guard()

    def restart(self) -> None:
        """Stop the server if it runs (gracefully, as :meth:`stop`), then start it again
        on the same port and wait until it is healthy. The log continues.

        The in-memory server loses all its state: threads, runs, crons, the store and
        assistants other than the bundled graphs' defaults are gone after a restart.

        Raises:
            ServerError: the server was never started, could not get its port back (another
                process took it), or was not healthy within ``startup_timeout_s``.
        """
        self._prepare_restart()
        try:
            self._session_or_fail().end_process()
            self._relaunch_same_port()
            while not self._check_ready():
                time.sleep(_POLL_INTERVAL_S)
        except BaseException:
            self._restarting = False
            self.stop()
            raise
        self._restarting = False
        self._ready()

    def _session_or_fail(self) -> _Session:
        if self._session is None or self._finalizer is None or not self._finalizer.alive:
            raise ServerError("cannot restart the embedded server: it is not started")
        return self._session

    def _prepare_restart(self) -> None:
        self._session_or_fail().end_pause_guard()
        # SIGCONT in case it was paused: a stopped server would take the whole stop timeout.
        if self.is_running():
            _signal_group(self.pid, signal.SIGCONT)

    def _relaunch_same_port(self) -> None:
        """Launch again after end_process(), on the same port (no waiting)."""
        session = self._session_or_fail()
        session.killed = False
        self._restarting = True
        self._started_at = time.monotonic()
        self._deadline = self._started_at + self._startup_timeout_s
        self._attempts = 0
        self._startup_s = None
        self._launch()

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        where = self.url if self._port is not None else "no port yet"
        return f"<EmbeddedServer {where} {state}>"

    # -- the steps, shared with open_embedded_server -------------------------------------

    def _begin(self) -> None:
        """Check prerequisites, open the log and launch the process (no waiting)."""
        if self.is_running():
            raise RuntimeError("the embedded server is already running")
        self.stop()
        if not server_extra_installed():
            raise ServerError(
                "the embedded LangGraph server needs the lgbench[server] extra "
                f"(langgraph-api and its in-memory runtime are not installed): {_INSTALL_HINT}"
            )
        if self._requested_log_path is not None:
            log_path = self._requested_log_path
            try:
                log_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file in the way, a read-only or missing place
                raise ServerConfigError(
                    f"cannot write the embedded server's log {log_path}: {exc.strerror or exc}"
                ) from None
            delete_log = False
        else:
            fd, name = tempfile.mkstemp(prefix="lgbench-server-", suffix=".log")
            os.close(fd)
            log_path, delete_log = Path(name), True
        try:
            log_file = log_path.open("wb")
        except OSError as exc:
            raise ServerConfigError(
                f"cannot write the embedded server's log {log_path}: {exc.strerror or exc}"
            ) from None
        session = _Session(log_path=log_path, log_file=log_file, delete_log=delete_log)
        self._session = session
        self._finalizer = weakref.finalize(self, session.close)
        self._started_at = time.monotonic()
        self._deadline = self._started_at + self._startup_timeout_s
        self._attempts = 0
        self._startup_s = None
        self._launch()

    def _launch(self) -> None:
        session = self._session
        assert session is not None
        self._attempts += 1
        if self._port is None or (self._attempts > 1 and not self._fixed_port):
            self._port = _free_port(self._bind)
        workdir = Path(tempfile.mkdtemp(prefix="lgbench-server-"))
        watch_read, watch_write = os.pipe()
        command = [
            sys.executable,
            "-m",
            "lgbench.server._child",
            "--host",
            self._bind,
            "--port",
            str(self._port),
            "--n-jobs-per-worker",
            str(self._n_jobs_per_worker),
            "--parent-pid",
            str(os.getpid()),
            "--watch-fd",
            str(watch_read),
            "--workdir",
            str(workdir),
        ]
        # PR_SET_PDEATHSIG fires when the *thread* that forked exits. Only the main thread
        # is sure to outlive the server; from other threads the pipe watch covers alone.
        if threading.current_thread() is threading.main_thread():
            command.append("--parent-death-signal")
        if self._auth:
            command.append("--auth")
            if self._auth_path is not None:
                command += ["--auth-path", self._auth_path]
        session.log_file.write(f"lgbench: {' '.join(command)}\n".encode())
        session.log_file.flush()
        try:
            process = subprocess.Popen(
                command,
                cwd=workdir,
                env=_child_environment(self._env),
                stdin=subprocess.DEVNULL,
                stdout=session.log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(watch_read,),
            )
        except OSError as exc:
            os.close(watch_write)
            shutil.rmtree(workdir, ignore_errors=True)
            raise ServerError(f"cannot start the embedded server: {exc}") from exc
        finally:
            os.close(watch_read)
        with session.lock:
            session.process, session.workdir, session.watch_fd = process, workdir, watch_write

    def _relaunch(self) -> None:
        session = self._session
        assert session is not None
        session.end_process()
        self._launch()

    def _check_ready(self) -> bool:
        """One readiness probe: True once :func:`probe_ready` (``/ok`` answers 200) from our
        process.

        Raises:
            _PortTaken: lost the port during startup and may retry on another.
            ServerError: the process exited, or the deadline passed.
        """
        session = self._session
        process = session.process if session is not None else None
        if process is None or self._port is None:
            raise ServerError("the embedded server was stopped during startup")
        status = _exit_status(process)
        if status is not None:
            self._startup_failed(status)
        if time.monotonic() > self._deadline:
            raise self._error(f"was not healthy within {self._startup_timeout_s:g} s")
        try:
            if not probe_ready(self._host, self._port, _PROBE_TIMEOUT_S):
                return False
        except (OSError, http.client.HTTPException):
            return False
        if _listens_on(process.pid, self._port) is False:
            # Someone else answered on our port: ours failed or will fail to bind it.
            self._port_taken()
        return True

    def _startup_failed(self, status: int) -> NoReturn:
        if status == EXIT_PORT_IN_USE or (status != 0 and self._log_says_port_taken()):
            self._port_taken()
        if status == EXIT_SERVER_MISSING:
            raise self._error(f"cannot import langgraph_api: {_INSTALL_HINT}")
        if status == EXIT_PARENT_GONE:
            raise self._error("saw its parent exit during startup")
        how = f"was killed by signal {-status}" if status < 0 else f"exited with code {status}"
        raise self._error(f"{how} during startup")

    def _port_taken(self) -> NoReturn:
        if self._restarting:
            raise self._error(f"could not get its port {self._port} back: another process took it")
        if self._fixed_port:
            raise self._error(f"could not bind port {self._port} on {self._bind}: it is in use")
        if self._attempts >= _PORT_ATTEMPTS:
            raise self._error(f"lost its port to another process {self._attempts} times")
        raise _PortTaken

    def _log_says_port_taken(self) -> bool:
        return "address already in use" in self._log_tail().lower()

    def _ready(self) -> None:
        session = self._session
        assert session is not None
        session.healthy = True
        self._startup_s = time.monotonic() - self._started_at

    def _log_tail(self) -> str:
        session = self._session
        if session is None:
            return ""
        with contextlib.suppress(OSError):
            session.log_file.flush()
        try:
            with session.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - _LOG_TAIL_BYTES))
                tail = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return _ANSI_ESCAPE.sub("", tail).strip()

    def _error(self, what: str) -> ServerError:
        tail = self._log_tail()
        log_path = self._session.log_path if self._session else None
        message = f"the embedded LangGraph server {what}; log: {log_path}"
        if tail:
            message += f"\n--- end of the server log ---\n{tail}"
        return ServerError(message)


@final
class AsyncEmbeddedServer:
    """The handle :func:`open_embedded_server` yields: an :class:`EmbeddedServer` for async code.

    Reads as the server it wraps (``url``, ``port``, ``pid``...) and adds the faults as
    coroutines that never block the event loop: :meth:`kill`, :meth:`restart`,
    :meth:`pause`, :meth:`resume`. The wrapped sync server is :attr:`server`.
    """

    def __init__(self, server: EmbeddedServer) -> None:
        self._server = server
        # restart() must not run twice at once (two launches would race for the port).
        self._restart_lock = anyio.Lock()

    @property
    def server(self) -> EmbeddedServer:
        """The wrapped :class:`EmbeddedServer`."""
        return self._server

    @property
    def host(self) -> str:
        """The loopback address the server binds."""
        return self._server.host

    @property
    def port(self) -> int:
        """The server's port (the same across restarts)."""
        return self._server.port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43817`` (no trailing slash)."""
        return self._server.url

    @property
    def pid(self) -> int:
        """Process id of the server (a new one after each restart)."""
        return self._server.pid

    @property
    def running_pid(self) -> int | None:
        """Process id of the server while it runs, None while a restart is under way."""
        return self._server.running_pid

    @property
    def log_path(self) -> Path:
        """Where the server's output goes (restarts append to it)."""
        return self._server.log_path

    @property
    def workdir(self) -> Path | None:
        """The server's temporary working directory while it runs."""
        return self._server.workdir

    @property
    def n_jobs_per_worker(self) -> int:
        """Runs the server executes at once."""
        return self._server.n_jobs_per_worker

    @property
    def graphs(self) -> tuple[str, ...]:
        """Graph ids registered on the server (also usable as assistant ids)."""
        return self._server.graphs

    @property
    def startup_s(self) -> float | None:
        """Seconds the last start or restart took until ``/ok`` answered."""
        return self._server.startup_s

    def is_running(self) -> bool:
        """Whether the server process is alive (a paused one is)."""
        return self._server.is_running()

    def is_paused(self) -> bool:
        """Whether the server is paused."""
        return self._server.is_paused()

    async def info(self) -> dict[str, Any]:
        """The server's ``GET /info`` (see :meth:`EmbeddedServer.info`)."""
        return await anyio.to_thread.run_sync(self._server.info)

    async def kill(self) -> None:
        """SIGKILL the process group and wait until the server is dead (a crash)."""
        await anyio.to_thread.run_sync(self._server.kill)

    async def pause(self) -> None:
        """SIGSTOP the process group (see :meth:`EmbeddedServer.pause`)."""
        await anyio.to_thread.run_sync(self._server.pause)

    async def resume(self) -> None:
        """SIGCONT the process group after :meth:`pause`."""
        await anyio.to_thread.run_sync(self._server.resume)

    async def restart(self) -> None:
        """Stop the server if it runs, start it again on the same port, wait for ``/ok``.

        The in-memory server comes back empty (see :meth:`EmbeddedServer.restart`). If
        cancelled or failing, the server is stopped, as when the ``async with`` ends.

        Raises:
            ServerError: as :meth:`EmbeddedServer.restart`.
        """
        server = self._server
        async with self._restart_lock:
            server._prepare_restart()
            try:
                await anyio.to_thread.run_sync(server._session_or_fail().end_process)
                # From the event loop's thread, as the first launch: the parent-death signal
                # follows the thread that forks.
                server._relaunch_same_port()
                while True:
                    if await anyio.to_thread.run_sync(server._check_ready):
                        break
                    await anyio.sleep(_POLL_INTERVAL_S)
            except BaseException:
                server._restarting = False
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(server.stop)
                raise
            server._restarting = False
            server._ready()

    def __repr__(self) -> str:
        return f"<AsyncEmbeddedServer {self._server!r}>"


@contextlib.asynccontextmanager
async def open_embedded_server(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_path: Path | None = None,
    n_jobs_per_worker: int | None = None,
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
    auth_secret: str | None = None,
) -> AsyncIterator[AsyncEmbeddedServer]:
    """Run an :class:`EmbeddedServer` for the duration of an ``async with`` block.

    Yields an :class:`AsyncEmbeddedServer`: the server's properties plus the faults
    (kill, restart, pause, resume) as coroutines.

    Works on asyncio and trio. Readiness probes run in worker threads while this task
    sleeps between them, so startup can be cancelled; the server is stopped however the
    block ends (cancellation included: the stop is shielded). The process itself is
    spawned from the event loop's thread, which lives as long as the block does (the
    parent-death signal is tied to the spawning thread).

    Raises:
        ServerError, ServerConfigError: as :class:`EmbeddedServer`.
    """
    server = EmbeddedServer(
        host=host,
        port=port,
        log_path=log_path,
        n_jobs_per_worker=n_jobs_per_worker,
        startup_timeout_s=startup_timeout_s,
        env=env,
        auth_secret=auth_secret,
    )
    try:
        server._begin()
        while True:
            try:
                if await anyio.to_thread.run_sync(server._check_ready):
                    break
            except _PortTaken:
                server._relaunch()
                continue
            await anyio.sleep(_POLL_INTERVAL_S)
        server._ready()
        yield AsyncEmbeddedServer(server)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(server.stop)
