"""The ``lgbench`` command line.

Every error lgbench raises on purpose carries its exit code (lgbench/exitcodes.py);
:func:`main` is the one place that turns errors into exit codes and messages, so
users never see a traceback for their own mistakes or an unreachable target.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

import anyio
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench import __version__
from lgbench.errors import LgbenchError, UsageError
from lgbench.exitcodes import ExitCode

__all__ = ["main"]

BACKENDS = ("asyncio", "trio")
TRANSPORTS = ("fast", "httpx")


class _ArgumentParser(argparse.ArgumentParser):
    """Exits with ExitCode.USAGE (2) on bad usage, as argparse does, but through our errors."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="lgbench",
        description="Load, soak and correctness runner for LangGraph API deployments.",
    )
    parser.add_argument("--version", action="version", version=f"lgbench {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    serve = verbs.add_parser(
        "serve", help="run the embedded LangGraph server with lgbench's graphs until Ctrl-C"
    )
    serve.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    serve.add_argument("--log", type=Path, default=None, help="write the server's log here")
    serve.add_argument(
        "--n-jobs-per-worker", type=int, default=None, help="runs the server executes at once"
    )

    smoke = verbs.add_parser(
        "smoke", help="a small built-in scenario against the embedded server or --target"
    )
    smoke.add_argument(
        "--target",
        default="embedded",
        help='base URL of a LangGraph server with lgbench\'s graphs, or "embedded" (default)',
    )
    smoke.add_argument("--backend", choices=BACKENDS, default="asyncio")
    smoke.add_argument("--transport", choices=TRANSPORTS, default="fast")
    smoke.add_argument("--vus", type=int, default=4, help="concurrent virtual users")
    smoke.add_argument("--iterations", type=int, default=5, help="iterations per virtual user")
    smoke.add_argument("--server-log", type=Path, default=None, help="embedded server's log file")
    return parser


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C so ``with`` blocks (the embedded server) clean up."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_async(backend: str, fn: Callable[[], Awaitable[object]]) -> object:
    options: dict[str, object] = {}
    if backend == "asyncio" and importlib.util.find_spec("uvloop") is not None:
        options["use_uvloop"] = True
    return anyio.run(fn, backend=backend, backend_options=options)


def _serve(args: argparse.Namespace, console: Console) -> int:
    from lgbench.server import EmbeddedServer

    log_path = args.log or Path(tempfile.mkdtemp(prefix="lgbench-serve-")) / "server.log"
    with EmbeddedServer(
        host=args.host, port=args.port, log_path=log_path, n_jobs_per_worker=args.n_jobs_per_worker
    ) as server:
        version = server.info().get("version", "unknown")
        console.print(f"[bold]lgbench serve[/]: langgraph-api {version} at [bold]{server.url}[/]")
        console.print(f"graphs: {', '.join(server.graphs)}   log: {server.log_path}")
        console.print("Ctrl-C to stop.")
        try:
            while server.is_running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            console.print("stopping…")
            return ExitCode.OK
        raise LgbenchError(f"the embedded server exited on its own; see its log: {server.log_path}")


def _print_smoke(console: Console, result: object) -> None:
    from lgbench._smoke import SmokeResult

    assert isinstance(result, SmokeResult)
    table = Table(title=f"lgbench smoke — langgraph-api {result.server_version}")
    for column in ("operation", "count", "errors", "rate/s", "p50 ms", "p90 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for row in result.summary_rows():
        table.add_row(
            row["operation"],
            str(row["count"]),
            str(row["errors"]),
            f"{row['rate_per_s']:.1f}",
            *(f"{row[key]:.1f}" for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms")),
        )
    console.print(table)
    console.print(
        f"{result.events_received} stream events in {result.elapsed_s:.2f} s "
        f"({result.events_received / max(result.elapsed_s, 1e-9):.0f} events/s)"
    )
    for name, stats in result.operations.items():
        for example in stats.error_examples:
            console.print(f"[red]{name}[/]: {example}")


def _smoke(args: argparse.Namespace, console: Console) -> int:
    from lgbench._smoke import SmokeConfig, run_smoke

    def go(url: str) -> object:
        config = SmokeConfig(
            url=url, vus=args.vus, iterations=args.iterations, transport=args.transport
        )
        return _run_async(args.backend, lambda: run_smoke(config))

    try:
        SmokeConfig(url="x", vus=args.vus, iterations=args.iterations)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.target == "embedded":
        from lgbench.server import EmbeddedServer

        log_path = args.server_log or Path(tempfile.mkdtemp(prefix="lgbench-smoke-")) / "server.log"
        console.print("starting the embedded LangGraph server…")
        with EmbeddedServer(log_path=log_path) as server:
            console.print(f"embedded server at {server.url} (log: {server.log_path})")
            result = go(server.url)
    else:
        result = go(args.target)
    _print_smoke(console, result)
    failed = sum(stats.errors for stats in getattr(result, "operations", {}).values())
    return ExitCode.TARGET if failed else ExitCode.OK


_VERBS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "serve": _serve,
    "smoke": _smoke,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    console = Console(stderr=False, highlight=False)
    errors = Console(stderr=True, highlight=False)
    try:
        args = _build_parser().parse_args(argv)
        with _sigterm_as_interrupt():
            return int(_VERBS[args.verb](args, console))
    except LgbenchError as exc:
        errors.print(f"[bold red]error[/]: {escape(str(exc))}", soft_wrap=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
