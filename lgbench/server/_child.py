"""The embedded server's process: ``python -m lgbench.server._child ...``.

Started by :class:`lgbench.server.EmbeddedServer` in a new session, inside a temporary
working directory, with stdout and stderr going to the server log. It

1. asks the kernel to send it SIGTERM when the thread that started it dies
   (``PR_SET_PDEATHSIG``, Linux only, and only when asked: the signal follows the
   *thread* that forked, so the parent requests it only from its main thread);
2. watches a pipe whose write end only the parent holds: end of file means the parent
   process is gone, however it died (SIGKILL included), on any Unix;
3. checks that the port is free, because ``langgraph_api.cli.run_server`` silently moves
   to another port when the requested one is taken, and the parent would then wait on
   the wrong one; a taken port ends this process with :data:`EXIT_PORT_IN_USE`;
4. runs the real in-memory LangGraph API server with lgbench's bundled graphs.

Keep the imports at the top light: langgraph_api is imported only once the process is
set up, so that a missing or broken installation shows up in the log, not as a hang.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Final

from lgbench.server._protocol import EXIT_PARENT_GONE, EXIT_PORT_IN_USE, EXIT_SERVER_MISSING

__all__ = ["main"]

_PR_SET_PDEATHSIG: Final = 1
# After the parent is gone: how long a graceful shutdown may take before the whole
# process group is killed.
_ORPHAN_GRACE_S: Final = 5.0


def _set_parent_death_signal(signum: int) -> None:
    """Linux ``prctl(PR_SET_PDEATHSIG, signum)``; a no-op where it does not exist."""
    if not sys.platform.startswith("linux"):
        return
    # dlopen(NULL): the interpreter's own symbols, libc's prctl among them (find_library
    # would shell out to ldconfig).
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        print(f"lgbench: prctl(PR_SET_PDEATHSIG) failed: {os.strerror(errno)}", file=sys.stderr)


def _orphaned(workdir: Path) -> None:
    """The parent is gone: shut down gracefully, then make sure the whole group dies."""
    print("lgbench: the parent process is gone; stopping the server", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(_ORPHAN_GRACE_S)
    # Still here: the graceful shutdown hung. Nobody else will clean up after us.
    shutil.rmtree(workdir, ignore_errors=True)
    os.killpg(os.getpgid(0), signal.SIGKILL)


def _watch_parent(fd: int, workdir: Path) -> None:
    # Only the parent holds the write end, so read() returns b"" (or fails) exactly when
    # the parent process has exited, whatever killed it.
    try:
        while os.read(fd, 64):
            pass
    except OSError:
        pass
    _orphaned(workdir)


def _port_is_free(host: str, port: int) -> bool:
    # The same test run_server makes (bind with SO_REUSEADDR), so that when it passes
    # here, run_server keeps the port instead of silently picking another.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class _PortMovedFilter(logging.Filter):
    """Ends the process if run_server reports the port taken after our own check."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "already in use" in record.getMessage():
            print("lgbench: the port was taken during startup", file=sys.stderr, flush=True)
            os._exit(EXIT_PORT_IN_USE)
        return True


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn handles SIGTERM itself while serving, then re-raises it once shut down, so
    # the process would die right there by the signal. Turning it into SystemExit lets
    # main()'s cleanup run, both then and during startup.
    raise SystemExit(0)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lgbench.server._child")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-jobs-per-worker", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--watch-fd", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--parent-death-signal", action="store_true")
    # The bundled Auth handlers; their secret comes in the environment (LGBENCH_AUTH_SECRET).
    parser.add_argument("--auth", action="store_true")
    parser.add_argument("--auth-path", default="lgbench.server._auth:auth")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Set up the process and run the server until SIGTERM; returns the exit code."""
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if args.parent_death_signal:
        # SIGTERM, not SIGKILL: uvicorn then shuts down cleanly and _watch_parent still
        # gets the chance to remove the working directory.
        _set_parent_death_signal(signal.SIGTERM)
    # The parent may have died between fork and prctl: then no signal will ever come.
    if os.getppid() != args.parent_pid:
        return EXIT_PARENT_GONE
    threading.Thread(
        target=_watch_parent,
        args=(args.watch_fd, args.workdir),
        name="lgbench-parent-watch",
        daemon=True,
    ).start()

    if not _port_is_free(args.host, args.port):
        print(f"lgbench: port {args.port} on {args.host} is in use", file=sys.stderr)
        return EXIT_PORT_IN_USE

    try:
        from langgraph_api.cli import run_server
    except ImportError as exc:
        print(f"lgbench: cannot import langgraph_api: {exc}", file=sys.stderr)
        return EXIT_SERVER_MISSING
    from lgbench.graphs import server_graphs_config
    from lgbench.server._fixture_tokens import AUTH_SECRET_ENV

    if args.auth and not os.environ.get(AUTH_SECRET_ENV):
        print(f"lgbench: --auth needs {AUTH_SECRET_ENV} in the environment", file=sys.stderr)
        return 2

    # langgraph_api.cli logs through this logger when it moves off a taken port.
    logging.getLogger("langgraph_api.cli").addFilter(_PortMovedFilter())
    print(
        f"lgbench: starting langgraph-api on {args.host}:{args.port}, pid {os.getpid()}, "
        f"in {os.getcwd()}",
        file=sys.stderr,
        flush=True,
    )
    try:
        run_server(
            args.host,
            args.port,
            reload=False,
            graphs=server_graphs_config(),
            n_jobs_per_worker=args.n_jobs_per_worker,
            open_browser=False,
            tunnel=False,
            runtime_edition="inmem",
            # No periodic pickling of the whole in-memory database (a CPU spike every 10 s
            # in the middle of a load test); the working directory is thrown away anyway.
            disable_persistence=True,
            auth={"path": args.auth_path} if args.auth else None,
        )
    finally:
        # Orphaned (the parent died and we were told by signal or pipe): nobody else
        # will remove the working directory.
        if os.getppid() != args.parent_pid:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
