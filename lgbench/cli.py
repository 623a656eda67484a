"""The ``lgbench`` command line.

Every error lgbench raises on purpose carries its exit code (lgbench/exitcodes.py);
:func:`main` is the one place that turns errors into exit codes and messages, so
users never see a traceback for their own mistakes or an unreachable target.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import importlib.util
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Final

import anyio
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lgbench import __version__
from lgbench._backend import trio_run_options
from lgbench._secrets import redact_url
from lgbench._terminal import SafeConsole
from lgbench.errors import LgbenchError, UsageError
from lgbench.exitcodes import ExitCode

if TYPE_CHECKING:
    from lgbench.engine import LiveMode, Overrides, SplitLoad
    from lgbench.monitor import MetricsSettings
    from lgbench.results import Summary
    from lgbench.workload import Workload

__all__ = ["main"]

BACKENDS = ("asyncio", "trio")
_NAME_MAX = 255  # bytes in one file name (Linux, macOS)
_PATH_MAX = 4096  # bytes in a whole path (Linux)
TRANSPORTS = ("fast", "httpx")


class _ArgumentParser(argparse.ArgumentParser):
    """Exits with ExitCode.USAGE (2) on bad usage, as argparse does, but through our errors."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.endswith("expected one argument"):
            # argparse reads "--duration -1s" as two flags; the user meant a value.
            message += " (a value that starts with '-' needs '=', e.g. --duration=-1s)"
        raise UsageError(f"{self.prog}: {message}")


def _path(text: str) -> Path:
    """A path argument; an empty one would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    path = Path(text)
    # pathlib's exists() and is_dir() raise on a name too long instead of answering False.
    if len(os.fsencode(text)) >= _PATH_MAX or any(
        len(os.fsencode(part)) > _NAME_MAX for part in path.parts
    ):
        raise argparse.ArgumentTypeError(f"{os.strerror(errno.ENAMETOOLONG)}: {text}")
    return path


def _int_from(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low or (high is not None and value > high):
            limits = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {limits}, not {value}")
        return value

    return parse


def _workers(text: str) -> int:
    """``--workers``: a whole number >= 1, or ``auto`` (the machine's cores)."""
    if text == "auto":
        return os.cpu_count() or 1
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a number of workers: {text!r} (a whole number >= 1, or auto)"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (or auto), not {value}")
    return value


def _ray_address(text: str) -> str:
    """``--ray``: ``local`` or a cluster address (``host:port``, ``ray://host:port``)."""
    if not text.strip() or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f'not a Ray address: {text!r} (host:port, or "local")')
    return text


def _add_workers_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help=f"{what} over N worker processes on this machine (N >= 1, or auto = one per"
        " core; default 1: one process); docs/distributed.md",
    )


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


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
    serve.add_argument(
        "--port", type=_int_from(1, 65535), default=None, help="port (default: a free one)"
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="IPv4 address to bind (default 127.0.0.1, loopback only); any other address "
        "(0.0.0.0: every interface) exposes a server with no authentication, with a warning",
    )
    serve.add_argument("--log", type=_path, default=None, help="write the server's log here")
    serve.add_argument(
        "--n-jobs-per-worker",
        type=_int_from(1),
        default=None,
        help="runs the server executes at once",
    )
    serve.add_argument(
        "--auth",
        action="store_true",
        help="bundled Auth handlers: owner-only access for fixture tokens signed with"
        " $LGBENCH_AUTH_SECRET (docs/workload.md)",
    )

    run = verbs.add_parser(
        "run",
        help="run a workload file; writes a run folder (summary.json, history.jsonl, ...)",
        description=(
            "Run FILE.toml against --target (or the file's [target], or the embedded server)."
            " Ctrl-C or SIGTERM stops gracefully (in-flight iterations get their"
            " graceful_stop); a second one stops at once. The run folder is written either way."
        ),
    )
    run.add_argument("file", type=_path, metavar="FILE.toml", help="the workload")
    run.add_argument(
        "--target", default=None, help='base URL of the server under test, or "embedded"'
    )
    run.add_argument(
        "--out",
        type=_path,
        default=None,
        metavar="DIR",
        help="run folder (default: reports/<workload>-<UTC time>/)",
    )
    _add_override_flags(run)
    run.add_argument("--backend", choices=BACKENDS, default="asyncio")
    _add_workers_flag(run, "split the load")
    run.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        type=_ray_address,
        help='run the --workers as Ray actors on the cluster at ADDRESS, or "local" for a'
        " private one-machine cluster (needs lgbench[ray]); docs/distributed.md",
    )
    run.add_argument(
        "--require-all-workers",
        action="store_true",
        help="with --workers: a worker lost during the run fails it (exit 3) instead of a warning",
    )
    run.add_argument(
        "--transport", choices=TRANSPORTS, default=None, help="HTTP client (default: the file's)"
    )
    run.add_argument(
        "--no-live", action="store_true", help="a plain progress line every few seconds"
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors")
    run.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="EXPR",
        help="another threshold, e.g. 'runs.wait.latency.p99<2s' (repeatable; docs/thresholds.md)",
    )
    run.add_argument(
        "--baseline",
        type=_path,
        action="append",
        default=None,
        metavar="BASE",
        help="compare with this run at the end (a run folder, summary.json, or a folder of"
        " runs; repeatable: several runs make one baseline); a regression exits 4",
    )
    _add_regression_flags(run)
    run.add_argument(
        "--json", type=_path, default=None, metavar="PATH", help="also copy summary.json here"
    )
    run.add_argument(
        "--junit", type=_path, default=None, metavar="PATH", help="also copy junit.xml here"
    )
    run.add_argument(
        "--no-report", action="store_true", help="do not write report.html (lgbench report can)"
    )
    run.add_argument(
        "--no-audit",
        action="store_true",
        help="do not read every thread back after the load (the post-run audit)",
    )
    run.add_argument(
        "--checkpoint-every",
        default="10s",
        metavar="D",
        help='write a partial summary.json this often while running (default 10s; "0" never),'
        " so a run killed with SIGKILL still leaves one",
    )
    _add_monitoring_flags(run)

    validate = verbs.add_parser(
        "validate", help="check a workload file and print its plan, without running it"
    )
    validate.add_argument("file", type=_path, metavar="FILE.toml", help="the workload")
    _add_override_flags(validate)
    _add_workers_flag(validate, "show each worker's share of a run split")

    check = verbs.add_parser(
        "check",
        help="check a history.jsonl against LangGraph's run and thread semantics",
        description=(
            "Judge every thread of HISTORY.jsonl (several files: one run's processes, merged)."
            " Exit code 5 when anomalies are found, 0 when valid, 0 with an 'unknown'"
            " verdict when too little was observed to judge, and 2 when no line is a history"
            " event (not an lgbench history)."
        ),
    )
    check.add_argument(
        "history",
        type=_path,
        nargs="+",
        metavar="HISTORY",
        help="a run folder, or history files (history.jsonl, rotated history-NNNN.jsonl.gz)",
    )
    check.add_argument(
        "--profile",
        choices=("documented", "observed"),
        default="observed",
        help="what the server is held to (default: observed, the in-memory server's behaviour)",
    )
    check.add_argument("--out", type=_path, default=None, help="also write the verdict here (JSON)")
    check.add_argument(
        "--stuck-after",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="no progress for this long makes a run or thread stuck (default 60)",
    )
    report = verbs.add_parser(
        "report", help="rebuild report.html from a run folder (also one left by a killed run)"
    )
    report.add_argument("run_dir", type=_path, metavar="RUN_DIR")

    export = verbs.add_parser(
        "export",
        help="write a run folder's results as tables (csv or parquet) for pandas, polars, DuckDB",
        description=(
            "Write RUN_DIR's operations (one row per operation, from the history and its"
            " rotated segments), intervals (latency percentiles per interval), timeseries,"
            " scenarios and resources as tables; docs/export.md lists their columns."
        ),
    )
    export.add_argument("run_dir", type=_path, metavar="RUN_DIR")
    export.add_argument(
        "--format",
        choices=("csv", "parquet"),
        required=True,
        help="csv (no extra needed) or parquet (needs lgbench[export]: pyarrow)",
    )
    export.add_argument(
        "--out", type=_path, default=None, metavar="DIR", help="where (default: RUN_DIR/export/)"
    )

    compare = verbs.add_parser(
        "compare",
        help="compare a baseline's runs with a new run per operation and figure; exit 4 on a"
        " regression called with confidence",
        usage="%(prog)s [-h] [--max-regression PCT] [--min-difference D] [--confidence PCT]"
        " [--explain] BASE... NEW",
    )
    compare.add_argument(
        "runs",
        type=_path,
        nargs="+",
        metavar="BASE... NEW",
        help="the baseline (one or more run folders, summary.json files or folders of runs),"
        " then the new run (the last argument)",
    )
    _add_regression_flags(compare)
    compare.add_argument(
        "--explain",
        action="store_true",
        help="per figure: the change, its interval, the noise floor and why it passed or failed",
    )

    trend = verbs.add_parser(
        "trend",
        help="find where figures changed in a series of runs (change points); exit 4 on a"
        " regression",
    )
    trend.add_argument(
        "runs",
        type=_path,
        nargs="+",
        metavar="RUN",
        help="run folders, summary.json files or folders of runs (ordered by start time)",
    )
    trend.add_argument(
        "--max-regression",
        default="10%",
        metavar="PCT",
        help="a change point worse by more than this fails (default 10%%)",
    )
    return parser


def _add_monitoring_flags(parser: argparse.ArgumentParser) -> None:
    """Live metrics while the run goes (docs/monitoring.md)."""
    parser.add_argument(
        "--prometheus",
        default=None,
        metavar="HOST:PORT",
        help="serve live metrics at http://HOST:PORT/metrics for Prometheus (e.g."
        " 127.0.0.1:9464; a non-loopback host is warned about); needs lgbench[prometheus]",
    )
    parser.add_argument(
        "--prometheus-grace",
        default="15s",
        metavar="D",
        help="keep /metrics up this long after the run, so the last scrape sees the final"
        ' figures (default 15s, Prometheus\'s default scrape interval; "0" stops at once)',
    )
    parser.add_argument(
        "--otlp",
        default=None,
        metavar="URL",
        help="push live metrics to an OpenTelemetry collector over OTLP/HTTP (e.g."
        " http://127.0.0.1:4318: /v1/metrics is added to a URL without a path);"
        " needs lgbench[otlp]",
    )
    parser.add_argument(
        "--otlp-every",
        default="10s",
        metavar="D",
        help="how often to push to --otlp (default 10s; once more at the end)",
    )


def _metrics_settings(args: argparse.Namespace) -> MetricsSettings | None:
    """What --prometheus and --otlp ask for; None when neither is given (the metrics
    package is then not even loaded)."""
    push_every_s = _seconds("--otlp-every", args.otlp_every)
    if not push_every_s:
        raise UsageError(f"--otlp-every {args.otlp_every}: must be above 0")
    grace_s = _seconds("--prometheus-grace", args.prometheus_grace) or 0.0
    if args.prometheus is None and args.otlp is None:
        return None
    from lgbench.monitor import MetricsSettings

    return MetricsSettings(
        prometheus=args.prometheus,
        grace_s=grace_s,
        otlp=args.otlp,
        push_every_s=push_every_s,
    )


def _add_regression_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-regression",
        default="10%",
        metavar="PCT",
        help="how much worse a percentile or the error rate may get (default 10%%)",
    )
    parser.add_argument(
        "--min-difference",
        default="1ms",
        metavar="D",
        help="latency differences below this are noise, never regressions (default 1ms)",
    )
    parser.add_argument(
        "--confidence",
        default="95%",
        metavar="PCT",
        help="a regression is called only when its interval at this confidence lies beyond"
        " the limit and the noise floor (default 95%%)",
    )


def _confidence(args: argparse.Namespace) -> float:
    from lgbench.gate import parse_percentage

    try:
        confidence = parse_percentage(args.confidence)
    except LgbenchError as exc:
        raise UsageError(f"--confidence: {exc}") from None
    if not 0.5 <= confidence < 1:
        raise UsageError(f"--confidence {args.confidence}: must be at least 50% and below 100%")
    return confidence


def _regression_limits(args: argparse.Namespace) -> tuple[float, float]:
    from lgbench.gate import parse_percentage

    try:
        max_regression = parse_percentage(args.max_regression)
    except LgbenchError as exc:
        raise UsageError(f"--max-regression: {exc}") from None
    min_difference_s = _seconds("--min-difference", args.min_difference)
    assert min_difference_s is not None
    return max_regression, min_difference_s * 1000.0


def _add_override_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration",
        default=None,
        metavar="D",
        help='cap every scenario at D ("30s", "2m"): durations, stages and start times',
    )
    parser.add_argument(
        "--vus", type=int, default=None, metavar="N", help="VUs per scenario (threads of a burst)"
    )
    parser.add_argument(
        "--rate", type=float, default=None, metavar="R", help="arrival rate, iterations/s"
    )
    parser.add_argument(
        "--iterations", type=int, default=None, metavar="N", help="iterations (iteration executors)"
    )
    parser.add_argument(
        "--graceful-stop",
        default=None,
        metavar="G",
        help="time for iterations in flight to finish at the end of every scenario",
    )


def _seconds(flag: str, text: str | None) -> float | None:
    from lgbench.workload import DurationError, parse_duration

    if text is None:
        return None
    if text.strip() == "0":
        return 0.0
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _overrides(args: argparse.Namespace) -> Overrides:
    from lgbench.engine import Overrides

    seconds = _seconds
    return Overrides(
        duration_s=seconds("--duration", args.duration),
        vus=args.vus,
        rate_per_s=args.rate,
        iterations=args.iterations,
        graceful_stop_s=seconds("--graceful-stop", args.graceful_stop),
    )


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM and SIGINT like Ctrl-C so ``with`` blocks (the embedded server) clean up.

    SIGINT too, explicitly: a process started in the background by a shell without job
    control (``cmd &`` in a script, many CI runners) inherits SIGINT ignored, and Python then
    leaves it ignored, so a supervisor's SIGINT would never stop ``lgbench serve``.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, action in previous.items():
            signal.signal(sig, action)


def _run_async(backend: str, fn: Callable[[], Awaitable[object]]) -> object:
    options: dict[str, object] = {}
    if backend == "asyncio" and importlib.util.find_spec("uvloop") is not None:
        options["use_uvloop"] = True
    elif backend == "trio":
        options.update(trio_run_options())
    return anyio.run(fn, backend=backend, backend_options=options)


def _serve(args: argparse.Namespace, console: Console) -> int:
    from lgbench.server import AUTH_SECRET_ENV, EmbeddedServer

    _check_file_flag("--log", args.log)
    auth_secret: str | None = None
    if args.auth:
        auth_secret = os.environ.get(AUTH_SECRET_ENV, "")
        if not auth_secret:
            raise UsageError(
                f"--auth: set {AUTH_SECRET_ENV} to the secret the fixture tokens are signed with"
                " (see docs/workload.md, [target.auth])"
            )
    server = EmbeddedServer(
        host=args.host,
        port=args.port,
        log_path=args.log,
        n_jobs_per_worker=args.n_jobs_per_worker,
        auth_secret=auth_secret,
        allow_remote=True,
    )
    if server.exposed:
        guard = "owner-only fixture-token auth" if auth_secret else "no authentication"
        SafeConsole(stderr=True, highlight=False).print(
            f"[bold yellow]warning[/]: binding {escape(server.bind_host)}, not loopback: the "
            f"embedded server has {guard} and runs whatever its graphs do, for anyone "
            "who can reach this address. Bind 127.0.0.1 (the default) unless you mean it."
        )
    with server:
        version = server.info().get("version", "unknown")
        console.print(f"[bold]lgbench serve[/]: langgraph-api {version} at [bold]{server.url}[/]")
        console.print(f"graphs: {', '.join(server.graphs)}")
        console.print(f"server pid: {server.pid}   log: {server.log_path}")
        if auth_secret is not None:
            console.print(
                "auth: owner-only, fixture tokens lgbench.<identity>.<signature> signed with"
                f" ${AUTH_SECRET_ENV}"
            )
        try:
            # Inside the try: a Ctrl-C sent as soon as this line is read is a clean stop.
            console.print("Ctrl-C to stop.")
            while server.is_running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            console.print("stopping…")
            return ExitCode.OK
        raise LgbenchError(f"the embedded server exited on its own; see its log: {server.log_path}")


def _validate(args: argparse.Namespace, console: Console) -> int:
    from lgbench._fit import fit_table, print_wide
    from lgbench.engine import apply_overrides, planned_duration_s
    from lgbench.faults import faults_after
    from lgbench.workload import format_duration, load_workload, workload_thresholds

    workload = apply_overrides(load_workload(args.file), _overrides(args))
    overrides = _overrides(args).describe()
    console.print(
        f"[bold]{escape(workload.name)}[/] ({escape(str(args.file))}): valid"
        + (f", with {escape(overrides)}" if overrides else ""),
        soft_wrap=True,
    )
    target = workload.target
    console.print(
        f"target: {escape(target.url)} ({target.transport} transport"
        + (f", API key from ${target.api_key_env}" if target.api_key_env else "")
        + ")"
    )
    auth = target.auth
    if auth is not None:
        source = {
            "tokens_env": f"tokens from ${auth.tokens_env}",
            "tokens_file": f"tokens from {auth.tokens_file}",
            "users": f"{auth.users} fixture tokens",
        }[auth.source]
        mapping = f"{auth.vus_per_user} VUs per user" if auth.vus_per_user else "round robin"
        console.print(
            escape(f"users: {source}, in {auth.header}, {mapping}, policy {auth.policy}"),
            soft_wrap=True,
        )
    seed = workload.defaults.seed
    console.print(f"seed: {seed if seed is not None else 'chosen at run time'}")
    if console.is_terminal:
        table = fit_table(
            console,
            lambda dropped: _plan_table(workload, dropped),
            ("model", "ends by", "max VUs", "executor"),
        )
        print_wide(console, table)
    else:
        # A CI log has no width: a table squeezed into 80 columns would wrap every plan.
        console.print("scenarios, by start time:")
        for line in _plain_plan(workload):
            console.print(escape(line), soft_wrap=True)
    load_s = planned_duration_s(workload)
    console.print(
        f"load for about {format_duration(load_s)}; at most"
        f" {format_duration(workload.total_duration_s())} with graceful stops;"
        f" up to {workload.max_vus()} VUs at once"
    )
    if args.workers > 1:
        _print_shares(workload, args.workers, console)
    for threshold in workload_thresholds(workload):
        console.print(f"threshold: {escape(threshold.describe())}", soft_wrap=True)
    skipped = faults_after(workload.faults, load_s)
    for fault in workload.faults:
        note = f" [yellow](skipped: the load ends at {format_duration(load_s)})[/]"
        console.print(
            f"fault: {escape(fault.describe())}" + (note if fault in skipped else ""),
            soft_wrap=True,
        )
    return ExitCode.OK


def _print_shares(workload: Workload, workers: int, console: Console) -> None:
    """Each worker's share of every scenario (a split plan that cannot work raises)."""
    from lgbench.engine import plan_scenario, segments

    console.print(
        f"split over {workers} workers (VU, arrival and thread j go to worker j mod {workers},"
        " counted from 0):"
    )
    for segment in segments(workers):
        console.print(f"{segment.label()}:")
        for scenario in workload.scenarios:
            plan = plan_scenario(scenario.executor, segment)
            console.print(f"  {escape(scenario.name)}: {escape(plan.describe())}", soft_wrap=True)


_PLAN_COLUMNS: Final = ("start", "scenario", "executor", "model", "plan", "max VUs", "ends by")


def _plan_cells(workload: Workload) -> list[dict[str, str]]:
    """``lgbench validate``'s scenarios, by start time: one cell per column (plain text)."""
    from lgbench.engine import executor_model
    from lgbench.workload import format_duration

    rows = []
    for scenario in workload.scenarios:
        executor = scenario.executor
        rows.append(
            {
                "start": format_duration(scenario.start_time_s),
                "scenario": scenario.name,
                "executor": scenario.executor_name,
                "model": executor_model(executor),
                "plan": executor.describe(),
                "max VUs": str(scenario.max_vus()),
                "ends by": format_duration(scenario.start_time_s + executor.total_duration_s()),
            }
        )
    return rows


def _plain_plan(workload: Workload) -> list[str]:
    """The plan as lines of aligned columns, as wide as their cells: for output that is not
    a terminal, where nothing should wrap."""
    rows = [dict(zip(_PLAN_COLUMNS, _PLAN_COLUMNS, strict=True)), *_plan_cells(workload)]
    widths = {c: max(len(row[c]) for row in rows) for c in _PLAN_COLUMNS}
    right = ("start", "max VUs")
    return [
        "  ".join(
            row[c].rjust(widths[c]) if c in right else row[c].ljust(widths[c])
            for c in _PLAN_COLUMNS
        ).rstrip()
        for row in rows
    ]


def _plan_table(workload: Workload, dropped: frozenset[str]) -> Table:
    """``lgbench validate``'s scenarios, by start time, without the ``dropped`` columns."""
    columns = [c for c in _PLAN_COLUMNS if c not in dropped]
    table = Table(title="scenarios, by start time", title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column in ("start", "max VUs") else "left")
    for cells in _plan_cells(workload):
        table.add_row(*(escape(cells[column]) for column in columns))
    return table


def _run(args: argparse.Namespace, console: Console) -> int:
    from lgbench.engine import AuditOptions, print_failures, print_summary
    from lgbench.run import RunOptions, find_checker, run_workload
    from lgbench.workload import load_workload, parse_threshold_option, unjudgeable_reason

    workload = load_workload(args.file)
    scenarios = [scenario.name for scenario in workload.scenarios]
    thresholds = tuple(parse_threshold_option(text, scenarios=scenarios) for text in args.threshold)
    for text, threshold in zip(args.threshold, thresholds, strict=True):
        never = unjudgeable_reason(threshold.metric, workload.scenarios)
        if never is not None:
            raise UsageError(f"--threshold {text!r}: {never}")
    max_regression, min_difference_ms = _regression_limits(args)
    if args.target is not None:
        _check_target_flag(args.target)
    _check_transport(args, workload.target.url, workload.target.transport)
    _check_out_paths(args)
    metrics = _metrics_settings(args)
    load = _worker_pool(args, workload)
    errors = SafeConsole(stderr=True, highlight=False)
    live: LiveMode
    if args.quiet:
        live = "quiet"
    elif args.no_live or not console.is_terminal:
        live = "plain"
    else:
        live = "rich"
    options = RunOptions(
        checkpoint_s=_seconds("--checkpoint-every", args.checkpoint_every) or None,
        target=args.target,
        out_dir=args.out,
        overrides=_overrides(args),
        transport=args.transport,
        live=live,
        handle_signals=True,
        thresholds=thresholds,
        baseline=tuple(args.baseline) if args.baseline else None,
        confidence=_confidence(args),
        max_regression=max_regression,
        min_difference_ms=min_difference_ms,
        report=not args.no_report,
        audit=AuditOptions(enabled=not args.no_audit),
    )
    checker = find_checker()
    session = None
    if metrics is not None and metrics.wanted:
        from lgbench.monitor import MetricsSession

        # Before the target is contacted: a taken port is exit 2, not a half-started run.
        session = MetricsSession(metrics, lambda line: errors.print(line, soft_wrap=True))
        session.start()
        options = dataclasses.replace(options, listeners=session.listeners)
    try:
        result = _run_async(
            args.backend,
            lambda: run_workload(
                workload,
                options,
                checker=checker,
                console=errors if live == "quiet" else console,
                load=load,
            ),
        )
    except BaseException:
        if session is not None:
            session.close()
        raise
    from lgbench.run import RunResult

    assert isinstance(result, RunResult)
    out = errors if args.quiet else console
    if result.results is not None:
        if args.quiet:
            print_failures(errors, result.results)
        else:
            print_summary(console, result.results)
    _print_verdict(result.check, out, quiet=args.quiet)
    if result.results is not None:
        _print_gates(result.results, result.comparison, out, quiet=args.quiet)
        _copy_outputs(result.files, args)
    if not args.quiet or result.partial:
        (errors if args.quiet else console).print(
            f"run folder: {escape(str(result.run_dir))}"
            + (f" (partial: {escape(result.stop_reason)})" if result.partial else "")
        )
    if session is not None:
        # An interrupted run's user wants out: no grace then.
        session.close() if result.partial else session.finish()
    if result.partial:
        signum = _signal_of(result.stop_reason)
        if signum is not None:
            return 128 + signum
        if result.summary is None:
            return 130
    if args.require_all_workers and result.summary is not None:
        lost = [w for w in result.summary.get("workers", []) if w["status"] == "lost"]
        if lost:
            errors.print(
                f"error: {len(lost)} of {args.workers} workers were lost (--require-all-workers)"
            )
            return ExitCode.TARGET
    if result.anomalies_found:
        return ExitCode.ANOMALIES
    if not result.thresholds_passed or result.operations_failed:
        return ExitCode.THRESHOLDS
    return ExitCode.OK


def _worker_pool(args: argparse.Namespace, workload: Workload) -> SplitLoad | None:
    """The worker pool of ``--workers N`` (None for one process), after checking that the
    split can work (a usage error otherwise, before anything starts)."""
    if args.require_all_workers and args.workers == 1 and args.ray is None:
        raise UsageError("--require-all-workers needs --workers 2 or more (or --ray)")
    if args.workers == 1 and args.ray is None:
        return None
    if workload.target.auth is not None and args.ray is not None:
        # Local workers get the users' tokens over their pipes; a Ray actor would get them
        # over a network socket that is authenticated but not encrypted.
        raise UsageError(
            "--ray: a workload with [target.auth] splits over local worker processes only"
            " (--workers N), so that the users' tokens never cross the network"
        )
    from lgbench.distributed import RayPool, WorkerPool
    from lgbench.engine import apply_overrides, plan_scenario, segments

    planned = apply_overrides(workload, _overrides(args))
    for segment in segments(args.workers):
        for scenario in planned.scenarios:
            plan_scenario(scenario.executor, segment)
    if args.ray is not None:
        return RayPool(args.workers, args.ray)
    return WorkerPool(args.workers)


def _check_target_flag(url: str) -> None:
    """``--target`` held to the rules the workload file's ``[target] url`` follows."""
    from urllib.parse import urlsplit

    problem: str | None = None
    if url == "embedded":
        return
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as exc:
        parts, port_ok, problem = None, False, str(exc)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problem = problem or "not an http:// or https:// URL with a host"
    elif not port_ok:
        problem = "an invalid port"
    elif parts.username is not None or parts.password is not None:
        problem = "credentials in a URL are not sent; put the API key in [target] api_key_env"
    elif parts.query or parts.fragment:
        problem = "a base URL has no query or fragment"
    elif any(char.isspace() for char in url):
        problem = "it contains spaces"
    if problem is not None:
        raise UsageError(
            f"--target {redact_url(url)!r}: {problem}"
            ' (expected "embedded" or a base URL such as http://127.0.0.1:8123)'
        )


def _check_transport(args: argparse.Namespace, file_url: str, file_transport: str) -> None:
    """lgbench's fast transport speaks plain HTTP: say so before the run, naming the source."""
    url = args.target if args.target is not None else file_url
    transport = args.transport or file_transport
    if transport == "fast" and url.startswith("https://"):
        source = "--target" if args.target is not None else f"{args.file} [target] url"
        raise UsageError(
            f"{source} {url!r}: the fast transport speaks plain http:// only;"
            ' use --transport httpx (or transport = "httpx" in [target]) for https'
        )


def _check_out_paths(args: argparse.Namespace) -> None:
    """Refuse, before anything runs, output paths that cannot be written as asked."""
    if args.out is not None:
        if args.out.exists() and not args.out.is_dir():
            raise UsageError(f"--out {args.out}: a file, not a folder (the run folder goes there)")
        _check_parent("--out", args.out)
    for flag in ("--json", "--junit"):
        _check_file_flag(flag, getattr(args, flag[2:]))


def _check_file_flag(flag: str, path: Path | None) -> None:
    """``flag PATH`` names a file to write: not a folder, and no file where a folder goes."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{flag} {path}: a folder; give the file to write")
    _check_parent(flag, path)


def _check_parent(flag: str, path: Path) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{flag} {path}: {parent} is a file, not a folder")
            return


def _print_gates(summary: Summary, comparison: object, console: Console, *, quiet: bool) -> None:
    """Thresholds and the baseline comparison; in quiet mode only what failed."""
    from lgbench.results import Thresholds
    from lgbench.thresholds import render_thresholds

    thresholds = summary.thresholds
    if isinstance(thresholds, Thresholds) and not (quiet and thresholds.passed):
        render_thresholds(thresholds, console)
    if comparison is None:
        return  # no --baseline: the comparison's tables are not even loaded
    from lgbench.gate import Comparison, render_comparison

    if isinstance(comparison, Comparison) and not (quiet and comparison.passed):
        render_comparison(comparison, console)


def _copy_outputs(files: dict[str, Path], args: argparse.Namespace) -> None:
    """``--json`` and ``--junit``: copies of the run folder's files where CI expects them."""
    for flag, key in (("json", "summary"), ("junit", "junit")):
        target: Path | None = getattr(args, flag)
        if target is None or key not in files:
            continue
        try:
            if target.exists() and os.path.samefile(target, files[key]):
                continue  # --json pointing into the run folder: already there
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[key], target)
        except OSError as exc:
            raise UsageError(f"--{flag} {target}: cannot write it: {_os_reason(exc)}") from None


def _os_reason(exc: OSError) -> str:
    """An OSError's reason without Python's reprs (``[Errno 2] ... 'x'``)."""
    if exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    return exc.strerror or str(exc)


def _print_verdict(verdict: object, console: Console, *, quiet: bool) -> None:
    """The checker's verdict per strategy, with witnesses; in quiet mode only when invalid."""
    from lgbench.check import CheckResult, render_check

    if isinstance(verdict, CheckResult) and not (quiet and verdict.valid is not False):
        render_check(verdict, console)


def _signal_of(reason: str) -> int | None:
    try:
        return int(signal.Signals[reason])
    except KeyError:
        return None


def _check(args: argparse.Namespace, console: Console) -> int:
    from lgbench.check import (
        DEFAULT_STUCK_AFTER_S,
        check_history,
        render_check,
        write_check_json,
    )

    stuck_after_s = DEFAULT_STUCK_AFTER_S if args.stuck_after is None else args.stuck_after
    _check_file_flag("--out", args.out)
    try:
        result = check_history(args.history, profile=args.profile, stuck_after_s=stuck_after_s)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    history = result.history
    issues = [str(issue) for issue in history.get("issues", ())]
    if history.get("events") == 0 and not _any_history_header(args.history):
        # No header and not one event: judging it would print a hollow "unknown".
        files = ", ".join(str(name) for name in history.get("files", ()))
        why = "; ".join(issues) or "no header line"
        raise UsageError(f"{files}: not an lgbench history ({why})")
    render_check(result, console)
    errors = SafeConsole(stderr=True, highlight=False)
    for issue in issues:
        # A damaged segment is read around, not refused: say what was skipped.
        errors.print(f"warning: {escape(issue)}", soft_wrap=True)
    if args.out is not None:
        try:
            written = write_check_json(result, args.out)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot write it: {_os_reason(exc)}") from None
        console.print(f"written: {escape(str(written))}")
    # An unknown verdict is not a failure: it says what was missing to judge (see above).
    return ExitCode.ANOMALIES if result.valid is False else ExitCode.OK


def _any_history_header(paths: Sequence[Path]) -> bool:
    """Whether one of the histories in ``paths`` starts with a header line."""
    import json

    from lgbench.history import find_history_sets, iter_lines

    for found in find_history_sets(paths):
        for raw in iter_lines(found.files[0].path):
            try:
                first = json.loads(raw)
            except ValueError:
                break
            if isinstance(first, dict) and first.get("type") == "header":
                return True
            break
    return False


def report_command(run_dir: Path, console: Console) -> int:
    """``lgbench report RUN_DIR``: rebuild report.html, print its path; the exit code.

    Errors are raised (:class:`~lgbench.errors.UsageError`) for the CLI's one handler.
    """
    from lgbench.report import write_report

    written = write_report(run_dir)
    # What was skipped is in the page too; said here so a script sees it without opening it.
    for note in written.notes:
        console.print(f"[yellow]warning[/]: {escape(note)}", soft_wrap=True)
    console.print(f"written: {escape(str(written.path))}")
    return int(ExitCode.OK)


def _report(args: argparse.Namespace, console: Console) -> int:
    return report_command(args.run_dir, console)


def _export(args: argparse.Namespace, console: Console) -> int:
    from lgbench.export import export_run

    result = export_run(args.run_dir, args.format, args.out)
    errors = Console(stderr=True, highlight=False)
    for issue in result.issues:
        errors.print(f"[yellow]warning[/]: {escape(issue)}", soft_wrap=True)
    for name, path in result.files.items():
        console.print(f"{escape(str(path))}: {result.rows[name]} rows", soft_wrap=True)
    return ExitCode.OK


def compare_command(
    base: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    new: str | os.PathLike[str],
    *,
    max_regression: float,
    console: Console,
    min_difference_ms: float | None = None,
    confidence: float | None = None,
    explain: bool = False,
) -> int:
    """``lgbench compare BASE... NEW`` (:func:`lgbench.gate.compare_paths`): prints the
    comparison and returns :attr:`ExitCode.THRESHOLDS` (4) when a figure regressed with
    confidence beyond the limit and the noise floor, :attr:`ExitCode.OK` otherwise. Raises
    :class:`~lgbench.errors.UsageError` (exit 2) for a missing or unreadable summary.
    """
    from lgbench.gate import (
        DEFAULT_CONFIDENCE,
        DEFAULT_MIN_DIFFERENCE_MS,
        compare_paths,
        render_comparison,
    )

    comparison = compare_paths(
        base,
        new,
        max_regression=max_regression,
        min_difference_ms=(
            DEFAULT_MIN_DIFFERENCE_MS if min_difference_ms is None else min_difference_ms
        ),
        confidence=DEFAULT_CONFIDENCE if confidence is None else confidence,
    )
    render_comparison(comparison, console, explain=explain)
    return ExitCode.OK if comparison.passed else ExitCode.THRESHOLDS


def _compare(args: argparse.Namespace, console: Console) -> int:
    from lgbench.gate import summary_path

    max_regression, min_difference_ms = _regression_limits(args)
    confidence = _confidence(args)
    if len(args.runs) < 2:
        raise UsageError("lgbench compare needs a baseline and a new run: BASE... NEW")
    *bases, new_path = args.runs
    new = summary_path(new_path)
    for given in bases:
        base = summary_path(given)
        if base.exists() and new.exists() and os.path.samefile(base, new):
            raise UsageError(
                f"BASE and NEW are the same file ({base}): a run compared with itself always passes"
            )
    return compare_command(
        bases,
        new_path,
        max_regression=max_regression,
        min_difference_ms=min_difference_ms,
        confidence=confidence,
        explain=args.explain,
        console=console,
    )


def _trend(args: argparse.Namespace, console: Console) -> int:
    from lgbench.gate import parse_percentage

    try:
        max_regression = parse_percentage(args.max_regression)
    except LgbenchError as exc:
        raise UsageError(f"--max-regression: {exc}") from None
    return trend_command(args.runs, console=console, max_regression=max_regression)


def trend_command(
    paths: Sequence[str | os.PathLike[str]],
    *,
    console: Console,
    max_regression: float | None = None,
) -> int:
    """``lgbench trend RUN…`` (:func:`lgbench.gate.trend_of_runs`): prints each change point
    and returns 4 when one is a regression (a figure worse by more than ``max_regression``
    after it), else 0.
    """
    from lgbench.gate import DEFAULT_MAX_REGRESSION, render_trend, trend_of_runs

    limit = DEFAULT_MAX_REGRESSION if max_regression is None else max_regression
    result = trend_of_runs(paths, max_regression=limit)
    render_trend(result, console, max_regression=limit)
    return ExitCode.OK if result.passed else ExitCode.THRESHOLDS


_VERBS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "check": _check,
    "compare": _compare,
    "export": _export,
    "report": _report,
    "run": _run,
    "serve": _serve,
    "trend": _trend,
    "validate": _validate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    console = SafeConsole(stderr=False, highlight=False)
    errors = SafeConsole(stderr=True, highlight=False)
    try:
        args = _build_parser().parse_args(argv)
        with _signals_as_interrupt():
            return int(_VERBS[args.verb](args, console))
    except LgbenchError as exc:
        errors.print(f"[bold red]error[/]: {escape(str(exc))}", soft_wrap=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
