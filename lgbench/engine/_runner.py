"""Running a workload: target, client, scenarios, recorder, and the run folder.

:func:`run_workload` is what ``lgbench run`` calls. In order:

1. applies the command line's :class:`~lgbench.engine.Overrides`;
2. makes the run folder (``reports/<workload>-<UTC time>/`` or ``RunOptions.out_dir``);
3. starts the embedded server when the target is ``"embedded"`` (on a free loopback port, its
   log in ``server.log``; stopped at the end, also on Ctrl-C);
4. asks the target for ``GET /info`` (what the server says it is goes into the summary, see
   :func:`~lgbench.observe.describe_server`; a target without ``/info`` is an "unknown
   server", not an error); a target that cannot be reached raises
   :class:`~lgbench.errors.TargetError` (exit code 3) before anything runs;
5. opens ``history.jsonl``, ``intervals.hlog`` and ``timeseries.jsonl``, and runs every
   scenario at its start time in one task group, with a task closing an interval every second
   (hlog and timeseries lines, live view) and
   one measuring event-loop lag (a 10 ms sleep's oversleep); every time is read from
   :func:`measurement_clock`;
6. calls the checker hook, if any, on the finished history (its verdict goes to
   ``check.json``), then writes ``summary.json`` (:data:`SUMMARY_SCHEMA_VERSION`) and one
   ``<operation>.hgrm`` per operation.

Stopping (:class:`~lgbench.engine.RunControl`): the first Ctrl-C or SIGTERM (with
``handle_signals``) or :meth:`RunControl.request_stop` starts no new iteration and gives those
in flight their ``graceful_stop``; a second one cancels at once. Whatever happens (an
interruption, or a crash inside the run), the files are written with what was recorded so
far, ``"partial": true``, and a last ``run.partial`` history marker.

The API key comes only from the environment variable the workload's ``api_key_env`` names.
With ``[target.auth]`` the users' tokens are read before anything runs (a bad source is a
:class:`~lgbench.errors.UsageError`), each VU acts as its user (:mod:`lgbench.engine._tenants`),
and the embedded server runs with the bundled Auth handlers when ``[target.embedded] auth``
asks for them (its secret: ``LGBENCH_AUTH_SECRET`` when set, else a fresh random one). A split
run hands the tokens, as :class:`~lgbench._secrets.Secret`, to its load's ``start`` (each
worker gets them in memory, over its pipe); the secret stays here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import re
import secrets
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, final

import anyio
from msgspec.structs import replace
from rich.console import Console
from rich.markup import escape

import lgbench
from lgbench import _backend
from lgbench._atomic import write_atomically
from lgbench._secrets import Secret
from lgbench._terminal import SafeConsole
from lgbench.client import (
    ApiError,
    AsyncTransport,
    FastTransport,
    LangGraphClient,
    Timeout,
    TransportError,
    get_client,
)
from lgbench.engine._actor import ScenarioContext
from lgbench.engine._audit import AuditOptions, AuditProgress, run_audit
from lgbench.engine._control import RunControl
from lgbench.engine._executors import Executor, build_executor, executor_model
from lgbench.engine._heap import start_up_heap_frozen
from lgbench.engine._listener import RunListener, RunStart
from lgbench.engine._live import LiveMode, LiveView
from lgbench.engine._overrides import Overrides, apply_overrides
from lgbench.engine._recorder import Recorder, ScenarioStats, Snapshot
from lgbench.engine._sampling import RunSampler
from lgbench.engine._segment import ScenarioPlan
from lgbench.engine._split import SplitLoad, SplitRun
from lgbench.engine._tenants import Tenants, load_tokens
from lgbench.engine._timeseries import TimeseriesWriter
from lgbench.errors import LgbenchError, TargetError, UsageError
from lgbench.faults import (
    PROXY_KINDS,
    FaultEvent,
    FaultProxy,
    check_schedule,
    faults_after,
    run_fault_schedule,
)
from lgbench.history import HistoryWriter, never_succeeded, never_succeeded_message
from lgbench.metrics import HlogWriter, LatencyRecorder, format_percentile_distribution
from lgbench.observe import DriftTracker, describe_server
from lgbench.results import (
    SCHEMA_VERSION,
    Drift,
    Fault,
    FaultSkipped,
    NeverSucceeded,
    ProxyCounters,
    Sampling,
    Summary,
    Thresholds,
    summary_part,
)
from lgbench.server import AUTH_SECRET_ENV
from lgbench.thresholds import ThresholdEvaluator
from lgbench.workload import (
    BurstConfig,
    ScenarioConfig,
    Threshold,
    Workload,
    dump_workload,
    format_duration,
    workload_thresholds,
)

__all__ = [
    "SUMMARY_SCHEMA_VERSION",
    "Checker",
    "RunOptions",
    "RunResult",
    "default_run_dir",
    "find_checker",
    "load_client",
    "measure_loop_lag",
    "measurement_clock",
    "planned_duration_s",
    "register_scenario",
    "run_workload",
]

SUMMARY_SCHEMA_VERSION: Final = SCHEMA_VERSION
"""Version of ``summary.json`` (:data:`lgbench.results.SCHEMA_VERSION`)."""

#: A checker: given ``history.jsonl``, returns a verdict (a dict, or an object with
#: ``to_dict()``; its ``valid`` is False when anomalies were found).
Checker = Callable[[Path], Any]

_HISTORY: Final = "history.jsonl"
_INTERVALS: Final = "intervals.hlog"
_TIMESERIES: Final = "timeseries.jsonl"
_SUMMARY: Final = "summary.json"
_SERVER_LOG: Final = "server.log"
_CHECK: Final = "check.json"
_JUNIT: Final = "junit.xml"
_MIN_CONNECTIONS: Final = 256
_REPORT: Final = "report.html"
_CHECKPOINT_REASON: Final = "running (checkpoint: lgbench was still running when written)"
_CLOSE_TIMEOUT_S: Final = 5.0
_UNSAFE_FILE_CHARS: Final = re.compile(r"[^A-Za-z0-9._-]+")


@final
@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a workload (the ``lgbench run`` flags).

    ``target``: ``"embedded"`` or a URL, overriding the workload's. ``out_dir``: the run folder
    (default ``<reports_dir>/<workload>-<UTC time>``). ``transport``: overrides the workload's.
    ``live``: display mode. ``interval_s``: snapshot period (hlog lines, live view).
    ``loop_lag_interval_s``: the event-loop lag probe's sleep (None: no probe).
    ``handle_signals``: SIGINT/SIGTERM stop the run (graceful, then at once); main thread only.
    ``checkpoint_s``: how often a partial ``summary.json`` is written while the run goes (None:
    only at the end), so a run killed with SIGKILL still leaves one.
    ``thresholds``: more thresholds (the command line's), judged after the workload's.
    ``baseline``: a summary.json, run folder or folder of runs (or several: one baseline of
    all their runs) to compare with at the end (:func:`lgbench.gate.compare_runs`); a latency
    or error rate worse, at ``confidence``, by more than ``max_regression``, the baseline's
    noise floor and ``min_difference_ms``, fails the run.
    ``drift_window_s``: the window of drift detection. ``sample_target``: read the target's
    ``/metrics`` and the embedded server's CPU and RSS each interval. ``report``: write
    ``report.html`` at the end. ``history_rotate_bytes``: past this size ``history.jsonl``
    becomes a compressed segment and a fresh file continues it (None: never), so a soak's
    history stays readable and its disk use modest. ``audit``: the post-run audit and its
    budget (it also needs the workload's ``audit``; ``--no-audit`` turns it off).
    ``listeners``: told of the run's figures as they come (:class:`RunListener`: the live
    metrics exporters).
    """

    target: str | None = None
    out_dir: Path | None = None
    reports_dir: Path = Path("reports")
    overrides: Overrides = field(default_factory=Overrides)
    transport: str | None = None
    live: LiveMode = "quiet"
    interval_s: float = 1.0
    loop_lag_interval_s: float | None = 0.01
    handle_signals: bool = False
    plain_every_s: float = 5.0
    checkpoint_s: float | None = 10.0
    thresholds: tuple[Threshold, ...] = ()
    baseline: Path | tuple[Path, ...] | None = None
    confidence: float = 0.95
    max_regression: float = 0.10
    min_difference_ms: float = 1.0
    drift_window_s: float = 60.0
    sample_target: bool = True
    report: bool = True
    history_rotate_bytes: int | None = 256 * 2**20
    audit: AuditOptions = field(default_factory=AuditOptions)
    listeners: tuple[RunListener, ...] = ()

    def __post_init__(self) -> None:
        if self.transport not in (None, "fast", "httpx"):
            raise UsageError(f"transport must be fast or httpx, not {self.transport!r}")
        if not self.interval_s > 0:
            raise UsageError(f"interval_s must be above 0, not {self.interval_s!r}")


@final
@dataclass(slots=True)
class RunResult:
    """What a run left: its folder, its summary (None if it never started), partial or not."""

    run_dir: Path
    summary: dict[str, Any] | None
    partial: bool
    stop_reason: str
    check: Any = None
    files: dict[str, Path] = field(default_factory=dict)
    comparison: Any = None
    """The baseline comparison (:class:`lgbench.gate.Comparison`), when one was asked for."""
    results: Summary | None = None
    """The summary as the typed model (``summary`` is the file's content as plain data)."""

    def __post_init__(self) -> None:
        if self.results is None and self.summary is not None:
            self.results = Summary.of(self.summary, source=str(self.run_dir / _SUMMARY))

    @property
    def thresholds_passed(self) -> bool:
        """False when a threshold failed (or had no data) or the baseline comparison failed."""
        if self.results is None:
            return True
        thresholds, baseline = self.results.thresholds, self.results.baseline
        return not (
            (isinstance(thresholds, Thresholds) and thresholds.passed is False)
            or (isinstance(baseline, dict) and baseline.get("passed") is False)
        )

    @property
    def operations_failed(self) -> bool:
        """True when an operation never succeeded and ``[expected_errors]`` does not cover
        its errors (exit code 4, like a failed threshold)."""
        failing = () if self.results is None else self.results.never_succeeded
        return any(not entry.expected for entry in failing or ())

    @property
    def anomalies_found(self) -> bool:
        """True when the checker ran and said the history is not valid."""
        verdict = self.check
        if isinstance(verdict, Mapping):
            return verdict.get("valid") is False
        return getattr(verdict, "valid", None) is False


def planned_duration_s(workload: Workload) -> float:
    """When the load phase ends: the last scenario's active phase, from the run's start.

    Graceful stops are not load, and neither is a burst's ``max_duration`` (the deadline for
    its runs to settle): a burst's load is its runs being sent. What comes after is the drain.
    """

    def load_s(scenario: ScenarioConfig) -> float:
        executor = scenario.executor
        if isinstance(executor, BurstConfig):
            return executor.stagger_s * (executor.burst - 1)
        return executor.active_duration_s()

    return max((s.start_time_s + load_s(s) for s in workload.scenarios), default=0.0)


def default_run_dir(reports_dir: Path, name: str, now: datetime | None = None) -> Path:
    """``<reports_dir>/<name>-<YYYYmmddTHHMMSSZ>``, with ``-2``, ``-3``... if it exists."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = reports_dir / f"{name}-{stamp}"
    candidate = base
    n = 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}-{n}")
        n += 1
    return candidate


def find_checker() -> Checker | None:
    """``lgbench.check.check_history`` when that package is installed, else None."""
    try:
        from lgbench import check  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    found = getattr(check, "check_history", None)
    return found if callable(found) else None


def measurement_clock() -> Callable[[], float]:
    """The monotonic clock every latency and schedule is measured on (call inside the loop).

    On trio, its own clock (high resolution; the virtual clock in tests). On asyncio,
    :func:`time.monotonic`: the very clock asyncio's ``loop.time()`` reads, at full resolution,
    whereas uvloop's ``loop.time()`` counts whole milliseconds (libuv's cached loop time) and
    would round every latency to a millisecond. Sleeps still go through anyio, whose deadlines
    are on the same clock.
    """
    if _backend.running_on_asyncio():
        return time.monotonic
    clock, _ = _backend.hot_path_primitives()  # trio's clock, without anyio's dispatch per read
    return clock


def _hgrm_name(operation: str) -> str:
    return _UNSAFE_FILE_CHARS.sub("_", operation) + ".hgrm"


def _backend_name() -> str:
    return "asyncio" if _backend.running_on_asyncio() else "trio"


def _timeout(workload: Workload) -> Timeout:
    timeouts = workload.target.timeouts
    return Timeout(
        connect_s=timeouts.connect_s,
        read_s=timeouts.read_s,
        write_s=timeouts.read_s,
        total_s=timeouts.total_s,
    )


def _api_key(workload: Workload) -> str | None:
    name = workload.target.api_key_env
    if not name:
        return None
    value = os.environ.get(name, "").strip()
    return value or None


def load_client(
    workload: Workload,
    url: str,
    transport: str | AsyncTransport,
    *,
    for_load: bool = True,
) -> LangGraphClient:
    """The client a run's load (or, ``for_load=False``, its sampling) talks to ``url`` with.

    ``transport``: ``"fast"``, ``"httpx"`` or a ready transport (a test's mock). Raises
    :class:`~lgbench.errors.UsageError` for settings the client refuses.
    """
    target = workload.target
    try:
        chosen: Any = transport
        if for_load and transport == "fast" and url.startswith("http://"):
            # One connection per operation in flight: a pool smaller than the VUs would
            # queue them inside lgbench, and that queueing would read as server latency.
            connections = max(_MIN_CONNECTIONS, 2 * workload.max_vus())
            chosen = FastTransport(url, max_connections=connections)
        return get_client(
            url=url,
            api_key=_api_key(workload),
            headers=dict(target.headers),
            secret_headers=target.secret_headers,
            timeout=_timeout(workload),
            transport=chosen,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


async def measure_loop_lag(recorder: Recorder, interval_s: float) -> None:
    """Sleep ``interval_s`` again and again, recording how much each sleep overslept: the
    event loop's own lag (a blocking call, a long collection, a busy machine)."""
    clock = recorder.clock
    while True:
        expected_s = clock() + interval_s
        await anyio.sleep(interval_s)
        recorder.loop_lag(expected_s, clock())


def register_scenario(
    recorder: Recorder,
    scenario: ScenarioConfig,
    client: LangGraphClient,
    seed: int,
    keep_stream_events: bool,
    plan: ScenarioPlan | None = None,
    *,
    tenants: Tenants | None = None,
) -> ScenarioContext:
    """Register ``scenario``'s stats with ``recorder`` (the whole plan's figures, or
    ``plan``'s share) and return the context its executor and actors share (``tenants``:
    the users VUs act as, with ``[target.auth]``)."""
    config = scenario.executor
    model = executor_model(config)
    stats = recorder.scenario(
        ScenarioStats(
            name=scenario.name,
            executor=scenario.executor_name,
            model=model,
            description=config.describe(),
            tags=scenario.tags,
            start_time_s=scenario.start_time_s,
            planned_s=config.active_duration_s(),
            max_vus=scenario.max_vus() if plan is None else plan.max_vus,
        )
    )
    return ScenarioContext(
        scenario=scenario,
        client=client,
        recorder=recorder,
        stats=stats,
        model=model,
        seed=seed,
        keep_stream_events=keep_stream_events,
        tenants=tenants,
    )


def _check_summary(verdict: Any, data: Any) -> dict[str, Any] | None:
    """The checker's verdict in short, for summary.json (the whole of it, ``data``, is in
    check.json)."""
    if verdict is None:
        return None
    valid = data.get("valid") if isinstance(data, dict) else getattr(verdict, "valid", None)
    short: dict[str, Any] = {"valid": valid, "file": _CHECK}
    if isinstance(data, dict) and "error" in data:
        short["error"] = data["error"]
    return short


def _to_jsonable(verdict: Any) -> Any:
    if verdict is None or isinstance(verdict, dict | list | str | int | float | bool):
        return verdict
    to_dict = getattr(verdict, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return repr(verdict)


async def run_workload(
    workload: Workload,
    options: RunOptions | None = None,
    *,
    transport: AsyncTransport | None = None,
    control: RunControl | None = None,
    checker: Checker | None = None,
    console: Console | None = None,
    load: SplitLoad | None = None,
) -> RunResult:
    """Run ``workload``; returns what it left (see the module docstring).

    ``transport``: a ready transport for the client (tests pass a
    :class:`~lgbench.client.MockTransport`; then ``target`` only names the URL).
    ``control``: to stop the run from outside. ``checker``: called with the history's path
    (with ``load``: the run folder, every process's history in it).
    ``load``: other processes generate the load (``lgbench run --workers N``); this process
    coordinates them and writes the run folder from their merged results.
    Raises :class:`~lgbench.errors.UsageError` for invalid overrides,
    :class:`~lgbench.errors.TargetError` when the target cannot be reached or the embedded
    server cannot start.
    """
    options = options or RunOptions()
    run = _Run(
        apply_overrides(workload, options.overrides),
        options,
        transport=transport,
        control=control or RunControl(),
        checker=checker,
        console=console or SafeConsole(stderr=True),
        load=load,
    )
    if not options.handle_signals:
        return await run.execute()
    results: list[RunResult] = []
    errors: list[Exception] = []
    async with anyio.create_task_group() as task_group:

        async def main() -> None:
            try:
                results.append(await run.execute())
            except Exception as exc:  # re-raised below, outside the task group
                errors.append(exc)
            finally:
                task_group.cancel_scope.cancel()

        task_group.start_soon(_watch_signals, run)
        task_group.start_soon(main)
    if errors:
        raise errors[0]
    if not results:
        raise KeyboardInterrupt
    return results[0]


def _add_workers(summary: dict[str, Any], found: Mapping[str, Any]) -> None:
    """What a split run's workers add to the coordinator's summary data (``found``:
    :meth:`SplitLoad.summary`): their entries, the routes they found missing, and their
    history files' figures, so ``history`` counts every file of the run as one process's would.
    """
    summary["workers"] = found["workers"]
    summary["unsupported"] = [*summary["unsupported"], *found["unsupported"]]
    ours, theirs = summary["history"], found["history"]
    summary["history"] = {
        "events": ours["events"] + theirs["events"],
        "segments": ours["segments"] + theirs["segments"],
        "compression_errors": [*ours["compression_errors"], *theirs["compression_errors"]],
    }


def _write_summary(path: Path, summary: Summary) -> None:
    write_atomically(path, summary.to_json())


async def _close_client(client: LangGraphClient) -> None:
    # Shielded and bounded: connections are released even when the run was cancelled.
    with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
        await client.aclose()


async def _watch_signals(run: _Run) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            run.signal = signum
            name = signal.Signals(signum).name
            if run.running and not run.control.stopping:
                run.live.warn(
                    f"{name}: stopping gracefully (in-flight iterations get their graceful_stop);"
                    " again to stop at once"
                )
                run.control.request_stop(name)
            else:
                run.control.cancel(name)


@final
class _Run:
    """One execution of a workload; :meth:`execute` does the whole job."""

    def __init__(
        self,
        workload: Workload,
        options: RunOptions,
        *,
        transport: AsyncTransport | None,
        control: RunControl,
        checker: Checker | None,
        console: Console,
        load: SplitLoad | None = None,
    ) -> None:
        self.load = load
        self.start_wall_s: float | None = None
        self.workload = workload
        self.options = options
        self.transport = transport
        self.control = control
        self.checker = checker
        self.console = console
        self.target = options.target or workload.target.url
        self.seed = (
            workload.defaults.seed
            if workload.defaults.seed is not None
            else random.SystemRandom().randrange(2**31)
        )
        self.run_dir = options.out_dir or default_run_dir(options.reports_dir, workload.name)
        self.planned_s = planned_duration_s(workload)
        self.live = LiveView(
            options.live,
            console,
            title=f"lgbench run {workload.name}",
            planned_s=self.planned_s,
            plain_every_s=options.plain_every_s,
        )
        self.running = False
        self.signal: int | None = None
        self.server_info: dict[str, Any] = describe_server(None)
        self.url = self.target
        self.recorder: Recorder | None = None
        self.started_at = datetime.now(UTC)
        self.origin_s = 0.0
        self.clock: Callable[[], float] = anyio.current_time
        self.files: dict[str, Path] = {}
        self.crashed: BaseException | None = None
        self.result: RunResult | None = None
        self.timeseries: TimeseriesWriter | None = None
        self.summary_lock = threading.Lock()
        self.evaluator = ThresholdEvaluator(workload_thresholds(workload, options.thresholds))
        self.drift = DriftTracker(options.drift_window_s)
        self.live.window_s = options.drift_window_s
        if load is not None:
            self.live.worker_lines = load.live_lines
        self.baseline: list[Any] | None = None
        self.comparison: Any = None
        self.server: Any = None
        self.sampler: RunSampler | None = None
        self.proxy: FaultProxy | None = None
        self.direct_url = self.target
        self.faults: list[dict[str, Any]] = []
        self.audit: AuditProgress | None = None
        self.listeners = list(options.listeners)
        self.tenants: Tenants | None = None
        self.tokens: list[str] = []
        self.auth_secret: str | None = None

    def _tell(self, call: Callable[[RunListener], object]) -> None:
        """Call every listener; one that raises is warned about and dropped."""
        for listener in list(self.listeners):
            try:
                call(listener)
            except Exception as exc:
                self.listeners.remove(listener)
                message = f"a metrics listener failed and was stopped: {type(exc).__name__}: {exc}"
                if self.recorder is not None:
                    self.recorder.warn(f"listener:{id(listener)}", message)
                else:
                    self.live.warn(message)

    # -- the whole run -------------------------------------------------------------------

    async def execute(self) -> RunResult:
        if self.options.baseline is not None:
            from lgbench.gate import expand_runs, load_run

            given = self.options.baseline
            paths = [given] if isinstance(given, Path) else list(given)
            # Before anything runs: a bad baseline must not cost a whole run.
            self.baseline = [load_run(run) for path in paths for run in expand_runs(path)]
        self._check_faults()
        self._load_tokens()
        created = not self.run_dir.exists()
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, a read-only or missing place
            raise UsageError(
                f"cannot create the run folder {self.run_dir}: {exc.strerror or exc}"
            ) from None
        try:
            return await self._execute()
        finally:
            if created and self.result is None and not any(self.run_dir.iterdir()):
                self.run_dir.rmdir()  # nothing ran, nothing to keep

    def _load_tokens(self) -> None:
        """The users' tokens, before anything runs (a bad source costs no run)."""
        auth = self.workload.target.auth
        if auth is None:
            return
        if self.target == "embedded" and self.workload.target.embedded.auth:
            self.auth_secret = os.environ.get(AUTH_SECRET_ENV) or secrets.token_hex(16)
        self.tokens = load_tokens(auth, fixture_secret=self.auth_secret)

    async def _execute(self) -> RunResult:
        with anyio.CancelScope() as hard:
            self.control.bind(hard)
            async with contextlib.AsyncExitStack() as stack:
                self.url = self.direct_url = await self._start_target(stack)
                await self._start_proxy(stack)
                client = self._client()
                stack.push_async_callback(_close_client, client)
                auth = self.workload.target.auth
                tokens = [Secret(token) for token in self.tokens]  # for a split run's workers
                if auth is not None:
                    # The users' clients share the load client's connections.
                    self.tenants = Tenants(auth, client, self.tokens)
                    self.tokens = []
                await self._probe(client if self.tenants is None else self.tenants.users[0].client)
                # A given transport (a test's mock) serves the load alone, not sampling.
                if self.options.sample_target and self.transport is None:
                    # Its own connections: sampling must not queue behind the load's requests.
                    observer = self._client(self.direct_url, for_load=False)
                    stack.push_async_callback(_close_client, observer)
                    self._start_sampling(observer)
                if self.load is not None:
                    stack.push_async_callback(self.load.aclose)
                    self.start_wall_s = await self.load.start(self._split_run(), tokens=tokens)
                del tokens
                with start_up_heap_frozen():
                    await self._run(client)
        if self.result is None:
            # Cancelled before any scenario ran (e.g. Ctrl-C while the server started).
            self.result = RunResult(self.run_dir, None, True, self.control.reason or "cancelled")
        return self.result

    async def _start_target(self, stack: contextlib.AsyncExitStack) -> str:
        if self.target != "embedded":
            return self.target
        from lgbench.server import open_embedded_server

        embedded = self.workload.target.embedded
        log_path = Path(embedded.log) if embedded.log else self.run_dir / _SERVER_LOG
        self.files["server_log"] = log_path
        if self.options.live != "quiet":
            self.live.console.print("starting the embedded LangGraph server…")
        server = await stack.enter_async_context(
            open_embedded_server(
                port=embedded.port or None,
                log_path=log_path,
                n_jobs_per_worker=embedded.n_jobs_per_worker,
                auth_secret=self.auth_secret,
            )
        )
        self.server = server
        url: str = server.url
        return url

    def _check_faults(self) -> None:
        problems = check_schedule(
            self.workload.faults, has_proxy=True, has_server=self.target == "embedded"
        )
        if problems:
            raise UsageError(
                "the fault schedule cannot run against this target:\n"
                + "\n".join(f"- {problem}" for problem in problems)
            )

    async def _start_proxy(self, stack: contextlib.AsyncExitStack) -> None:
        """Network faults need a proxy between lgbench and the target: the load goes through
        it, the target's /metrics sampling does not (it reports on the target, not the path).
        """
        if not any(spec.kind in PROXY_KINDS for spec in self.workload.faults):
            return
        parts = urllib.parse.urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme != "http" or parts.hostname is None:
            raise UsageError(f"network faults need a plain http:// target, not {self.url}")
        self.proxy = await stack.enter_async_context(FaultProxy(parts.hostname, port))
        self.url = self.proxy.url

    async def _play_faults(self, recorder: Recorder) -> None:
        def on_change(event: FaultEvent) -> None:
            recorder.marker(
                f"fault.{event.phase}",
                scenario="",
                value={"name": event.name, "kind": event.kind, "at_s": round(event.at_s, 6)},
            )
            if event.phase == "start":
                self.faults.append(
                    {"name": event.name, "kind": event.kind, "start_s": event.at_s, "end_s": None}
                )
                self.live.note(f"fault {escape(event.spec.describe())}: started")
            else:
                for fault in self.faults:
                    if fault["name"] == event.name and fault["end_s"] is None:
                        fault["end_s"] = event.at_s
                self.live.note(f"fault {escape(json.dumps(event.name, ensure_ascii=False))}: ended")
            self._tell(
                lambda each: each.fault_changed(event.name, event.kind, event.phase, event.at_s)
            )

        skipped = faults_after(self.workload.faults, self.planned_s)
        for spec in skipped:
            self.live.note(
                f"fault {escape(spec.describe())}: skipped, the load ends at"
                f" {format_duration(self.planned_s)}"
            )
        await run_fault_schedule(
            [spec for spec in self.workload.faults if spec not in skipped],
            proxy=self.proxy,
            server=self.server if self.target == "embedded" else None,
            origin_s=self.origin_s,
            on_change=on_change,
            clock=self.clock,
        )

    def _client(self, url: str | None = None, *, for_load: bool = True) -> LangGraphClient:
        transport_name = self.options.transport or self.workload.target.transport
        transport = self.transport if self.transport is not None else transport_name
        return load_client(self.workload, url or self.url, transport, for_load=for_load)

    def _split_run(self) -> SplitRun:
        """What the workers of a split run are told."""
        return SplitRun(
            workload_text=dump_workload(self.workload),
            workload_path=self.workload.path,
            url=self.url,
            target_label=self._target_label(),
            transport=self.options.transport,
            backend=_backend_name(),
            seed=self.seed,
            run_dir=str(self.run_dir),
            interval_s=self.options.interval_s,
            loop_lag_interval_s=self.options.loop_lag_interval_s,
            history_rotate_bytes=self.options.history_rotate_bytes,
            server={key: self.server_info.get(key) for key in ("name", "version", "label")},
        )

    def _start_sampling(self, observer: LangGraphClient) -> None:
        server = self.server
        self.sampler = RunSampler(
            observer.http,
            server_pid=(lambda: getattr(server, "pid", None)) if server is not None else None,
            on_warning=self.live.warn,
        )

    async def _probe(self, client: LangGraphClient) -> None:
        try:
            info = await client.http.get("/info")
        except TransportError as exc:
            raise TargetError(f"cannot reach the target {self.url}: {exc}") from None
        except ApiError as exc:
            if exc.status_code in (401, 403):
                what = "API key (the variable named by api_key_env)"
                if self.tenants is not None:
                    what = f"first user's token ([target.auth] {self.tenants.auth.source})"
                raise TargetError(
                    f"the target {self.url} refused lgbench ({exc.status_code}): check the {what}"
                ) from None
            # No /info (or a broken one) is no reason to refuse the target: it is then an
            # "unknown server", and the load shows whether it speaks the API.
            self.server_info = describe_server(None, status=exc.status_code)
            return
        self.server_info = describe_server(info)

    async def _run(self, client: LangGraphClient) -> None:
        clock = self.clock = measurement_clock()
        self.origin_s = origin_s = clock()
        self.started_at = datetime.now(UTC)
        if self.start_wall_s is not None:  # the workers start then: so does the run's clock
            self.origin_s = origin_s = clock() + (self.start_wall_s - time.time())
            self.started_at = datetime.fromtimestamp(self.start_wall_s, UTC)
        history_path = self.run_dir / _HISTORY
        history = HistoryWriter.open(
            history_path,
            clock=clock,
            origin_s=origin_s,
            rotate_bytes=self.options.history_rotate_bytes,
            header={
                "workload": self.workload.name,
                "target": self._target_label(),
                "server": {key: self.server_info.get(key) for key in ("name", "version", "label")},
                "backend": _backend_name(),
                "seed": self.seed,
                **self._auth_header(),
                **(
                    {"worker": 0, "workers": self.load.count, "clock_offset_s": 0.0}
                    if self.load is not None
                    else {}
                ),
            },
        )
        if self.load is not None:  # process ids stay unique across the workers' histories
            history.stripe_processes(0, self.load.count + 1)
        self.files["history"] = history_path
        hlog_path = self.run_dir / _INTERVALS
        hlog_file = hlog_path.open("w", encoding="utf-8")
        self.files["intervals"] = hlog_path
        hlog = HlogWriter(hlog_file, start_epoch_s=self.start_wall_s or time.time())
        hlog.write_header(comments=(f"[workload: {self.workload.name}]",))
        recorder = self.recorder = Recorder(
            clock=clock,
            origin_s=origin_s,
            history=history,
            hlog=hlog,
            keep_stream_events=self.workload.defaults.keep_stream_events,
        )
        recorder.on_warning = self.live.warn
        if self.workload.target.auth is not None:
            recorder.owner_key = self.workload.target.auth.owner_key
        timeseries_path = self.run_dir / _TIMESERIES
        timeseries_file = timeseries_path.open("wb", buffering=0)
        self.files["timeseries"] = timeseries_path
        self.timeseries = TimeseriesWriter(timeseries_file, recorder)
        self.timeseries.write_header(started_at=self.started_at, interval_s=self.options.interval_s)
        executors = [
            self._executor(scenario, client, recorder) for scenario in self.workload.scenarios
        ]
        start = RunStart(
            self.workload.name,
            self.run_dir,
            self.planned_s,
            self.started_at.timestamp(),
            self.options.interval_s,
        )
        self._tell(lambda each: each.run_started(start))
        if self.load is not None:
            executors = []  # the workers run them
        self.live.start()
        self.running = True
        try:
            async with anyio.create_task_group() as services:
                services.start_soon(self._intervals, recorder)
                if self.sampler is not None:
                    services.start_soon(self.sampler.run, self.options.interval_s)
                if self.workload.faults:
                    services.start_soon(self._play_faults, recorder)
                services.start_soon(self._sync_files, recorder, history, hlog_file)
                if self.options.loop_lag_interval_s:
                    services.start_soon(
                        measure_loop_lag, recorder, self.options.loop_lag_interval_s
                    )
                async with anyio.create_task_group() as scenarios:
                    for executor in executors:
                        scenarios.start_soon(executor.run)
                if self.load is not None:
                    await self.load.drive(recorder, self.control)
                await self._audit(client, recorder)
                services.cancel_scope.cancel()
        except BaseException as exc:
            if not isinstance(exc, anyio.get_cancelled_exc_class()):
                self.crashed = exc
            raise
        finally:
            self.running = False
            self.live.stop()
            try:
                self._finish(recorder, history, hlog_file)
            finally:
                history.close()
                hlog_file.close()
                timeseries_file.close()

    def _auth_header(self) -> dict[str, Any]:
        """What the history header says of the users: their number and the policy the
        checker holds the deployment to (labels only, never a token)."""
        if self.tenants is None:
            return {}
        auth = self.tenants.auth
        return {"auth": {"users": len(self.tenants.users), "policy": auth.policy}}

    async def _audit(self, client: LangGraphClient, recorder: Recorder) -> None:
        """The post-run audit (lgbench/engine/_audit.py), unless it is off or the run was
        stopped (an interrupted run goes straight to its results)."""
        options = self.options.audit
        if not (options.enabled and self.workload.audit) or self.control.stopping:
            return
        progress = self.audit = AuditProgress()
        self.live.audit = progress
        if self.options.live != "quiet":
            self.live.console.print(
                f"audit: reading back {len(recorder.threads)} threads ({options.describe()})",
                soft_wrap=True,
            )
        tenants = self.tenants
        clients = None
        if tenants is not None:
            owners = recorder.threads.owners

            def clients(thread_id: str) -> LangGraphClient:
                user = tenants.by_label(owners.get(thread_id))
                return client if user is None else user.client

        await run_audit(client, recorder, options, progress, clients=clients)

    def _target_label(self) -> str:
        return "embedded" if self.target == "embedded" else self.url

    def _executor(self, scenario: Any, client: LangGraphClient, recorder: Recorder) -> Executor:
        ctx = register_scenario(
            recorder,
            scenario,
            client,
            self.seed,
            self.workload.defaults.keep_stream_events,
            tenants=self.tenants,
        )
        return build_executor(ctx, self.control, self.origin_s)

    async def _intervals(self, recorder: Recorder) -> None:
        interval_s = self.options.interval_s
        next_s = self.origin_s + interval_s
        checkpoint_s = self.options.checkpoint_s
        next_checkpoint_s = self.origin_s + (checkpoint_s or math.inf)
        # Workers close their intervals at the same instants and send them: wait a little for
        # them, and close this one at the boundary, so each merged interval is theirs.
        settle_s = min(0.25, interval_s / 4) if self.load is not None else 0.0
        while True:
            await anyio.sleep_until(next_s + settle_s)
            now_s = self.clock() if self.load is None else next_s
            snapshot = self._close_interval(recorder, now_s)
            self.live.window = self.drift.current()
            self.live.update(snapshot, recorder, now_s)
            if checkpoint_s and now_s >= next_checkpoint_s:
                next_checkpoint_s = now_s + checkpoint_s
                await self._checkpoint(recorder, now_s)
            next_s += interval_s
            if next_s <= now_s:  # fell behind: skip to the next boundary
                next_s += math.ceil((now_s - next_s) / interval_s) * interval_s

    def _close_interval(self, recorder: Recorder, now_s: float) -> Snapshot:
        """Close the interval at ``now_s``: hlog and timeseries lines (synchronous)."""
        snapshot = recorder.snapshot(now_s)
        if self.timeseries is not None:
            samples = self.sampler.take() if self.sampler is not None else {}
            try:
                self.timeseries.write(snapshot, samples)
            except OSError as exc:
                recorder.warn("timeseries", f"cannot write {_TIMESERIES}: {exc}")
        self.drift.observe(snapshot.operations)
        self._tell(lambda each: each.interval_closed(snapshot, recorder))
        if self.evaluator.needs_intervals:
            for breach in self.evaluator.observe(snapshot.operations, snapshot.derived):
                name = breach.threshold.name
                self._tell(lambda each: each.threshold_breached(name))  # noqa: B023 (called now)
                if not self.control.stopping:
                    message = f"threshold {breach.threshold.name} failed: {breach.reason}"
                    self.live.warn(f"{message}; stopping the run (abort_on_fail)")
                    self.control.request_stop(f"threshold: {message}")
        return snapshot

    async def _checkpoint(self, recorder: Recorder, now_s: float) -> None:
        """A partial summary.json of what the closed intervals hold, so SIGKILL leaves one.

        The event loop records into the recorder without a lock, so the worker thread never
        reads it: a copy is taken here, on the loop (a block copy per histogram, about 10 ms
        for 200), and the percentiles (about 1 ms per histogram in Python) are computed from
        the copy in a worker thread, so the loop (and every latency it measures) does not
        stall for them.
        A checkpoint that lands after the final summary is not written.
        """
        frozen = recorder.copy()
        files = dict(self.files)
        split = self.load.summary() if self.load is not None else None
        faults: list[dict[str, Any]] | None = None
        if self.workload.faults or (split is not None and split["faults"]):
            faults = [dict(fault) for fault in self.faults]
            faults.extend(split["faults"] if split is not None else ())

        def write() -> None:
            data = self._summary_data(
                frozen, now_s, True, _CHECKPOINT_REASON, {}, None, files=files
            )
            if split is not None:
                _add_workers(data, split)
            checkpoint = self._to_summary(data)
            if faults is not None:
                checkpoint = replace(
                    checkpoint, faults=summary_part(faults, tuple[Fault, ...], source=_SUMMARY)
                )
            with self.summary_lock:
                if self.running:
                    _write_summary(self.run_dir / _SUMMARY, checkpoint)

        try:
            await anyio.to_thread.run_sync(write, abandon_on_cancel=True)
        except OSError as exc:
            recorder.warn("checkpoint", f"cannot write a checkpoint summary.json: {exc}")

    async def _sync_files(self, recorder: Recorder, history: HistoryWriter, hlog: Any) -> None:
        """fsync the files written as the run goes, once per interval, in a worker thread.

        Every history line is in the OS's page cache before the next request goes out (a
        completion no request followed, here at the latest), so killing lgbench loses
        nothing that a request depended on; this bounds what a crash of the machine itself
        can lose to about one interval. fsync may take long on a busy disk: never on the
        event loop.
        """

        def sync() -> None:
            history.sync()
            os.fsync(hlog.fileno())
            if self.timeseries is not None:
                self.timeseries.sync()

        while True:
            await anyio.sleep(self.options.interval_s)
            try:
                history.flush()  # completions kept in memory: on the loop, which writes lines
                await anyio.to_thread.run_sync(sync, abandon_on_cancel=True)
            except (OSError, ValueError) as exc:  # ValueError: a file closed meanwhile
                recorder.warn("fsync", f"cannot sync the run's files ({self.run_dir}): {exc}")

    # -- the outputs -----------------------------------------------------------------------

    def _stop_reason(self) -> tuple[bool, str]:
        if self.crashed is not None:
            return True, f"error: {type(self.crashed).__name__}: {self.crashed}"
        if self.control.stopping:
            return True, self.control.reason or "stopped"
        return False, "completed"

    def _finish(self, recorder: Recorder, history: HistoryWriter, hlog_file: Any) -> None:
        """Write everything (synchronous: a cancelled task can run it)."""
        now_s = self.clock()
        self._close_interval(recorder, now_s)
        hlog_file.flush()
        partial, reason = self._stop_reason()
        peaks = self.sampler.cpu_peaks if self.sampler is not None else None
        for warning in recorder.lag_warnings(peaks):
            recorder.warn(warning, warning)
        if partial:
            recorder.marker(
                "run.partial", scenario="", value={"reason": reason, "signal": self.signal}
            )
        history.close()
        hgrm = self._write_hgrm(recorder)
        check, judged = self._check(recorder)
        # The verdict as check.json has it, made once: a long run's verdict is not small.
        check_data = _to_jsonable(check)
        check_dict = check_data if isinstance(check_data, dict) else None
        if judged:
            self._write_check(recorder, check_data)
        data = self._summary_data(recorder, now_s, partial, reason, hgrm, check, check_data)
        if self.load is not None:
            self._merge_workers(data)
        failing = never_succeeded(
            data["operations"],
            self.workload.expected,
            (route["operation"] for route in data["unsupported"]),
        )
        results = replace(
            self._to_summary(data),
            never_succeeded=summary_part(failing, tuple[NeverSucceeded, ...], source=_SUMMARY),
            # An operation the server does not implement was already warned about, by name.
            warnings=(
                *data["warnings"],
                *(never_succeeded_message(e) for e in failing if not e["unsupported"]),
            ),
        )
        results = self._judge(results, check_dict)
        summary = results.to_builtins()  # what the file holds is what the caller gets
        summary_path = self.run_dir / _SUMMARY
        with self.summary_lock:  # after any checkpoint in flight, never under one
            _write_summary(summary_path, results)
        self.files["summary"] = summary_path
        self._write_junit(recorder, summary, check_dict)
        self._write_report(recorder)
        self._tell(lambda each: each.run_finished(summary, check_dict))
        self.result = RunResult(
            self.run_dir,
            summary,
            partial,
            reason,
            check,
            dict(self.files),
            self.comparison,
            results=results,
        )

    def _judge(self, summary: Summary, check: dict[str, Any] | None) -> Summary:
        """Drift, thresholds and the baseline comparison, into the summary."""
        self.drift.finish()
        summary = replace(summary, drift=summary_part(self.drift.to_dict(), Drift, source=_SUMMARY))
        if self.sampler is not None:
            sampling = summary_part(self.sampler.status(), Sampling, source=_SUMMARY)
            summary = replace(summary, server=replace(summary.server, sampling=sampling))
        if self.workload.faults or self.faults:
            skipped = [
                {"name": spec.name, "kind": spec.kind, "at_s": spec.at_s}
                for spec in faults_after(self.workload.faults, self.planned_s)
            ]
            summary = replace(
                summary,
                faults=summary_part(self.faults, tuple[Fault, ...], source=_SUMMARY),
                faults_skipped=summary_part(skipped, tuple[FaultSkipped, ...], source=_SUMMARY),
            )
            if self.proxy is not None:
                stats = dataclasses.asdict(self.proxy.stats())
                summary = replace(
                    summary, proxy=summary_part(stats, ProxyCounters, source=_SUMMARY)
                )
        if self.evaluator.thresholds:
            report = self.evaluator.finish(summary, check)
            summary = replace(
                summary, thresholds=summary_part(report.to_dict(), Thresholds, source=_SUMMARY)
            )
        if self.baseline is not None:
            from lgbench.gate import RunData, compare_runs, load_run_samples

            # The intervals are on disk (flushed every second); the summary is not yet.
            this_run = RunData(str(self.run_dir), summary, load_run_samples(self.run_dir))
            comparison = compare_runs(
                self.baseline,
                [this_run],
                max_regression=self.options.max_regression,
                min_difference_ms=self.options.min_difference_ms,
                confidence=self.options.confidence,
            )
            summary = replace(summary, baseline=comparison.to_dict())
            self.comparison = comparison
        return summary

    def _merge_workers(self, summary: dict[str, Any]) -> None:
        """The workers' own figures: one entry each, lost workers as faults, missing routes."""
        assert self.load is not None
        found = self.load.summary()
        _add_workers(summary, found)
        # Judged with the workload's own faults (a lost worker is a fault of the generator).
        self.faults.extend(found["faults"])
        lost = [w for w in found["workers"] if w["status"] not in ("finished", "stopped")]
        if lost:
            names = ", ".join(f"{w['worker']} ({w['status']})" for w in lost)
            summary["warnings"].append(
                f"not every worker finished: {names}; their results up to their last interval"
                " are kept"
            )

    def _audit_summary(self, recorder: Recorder) -> dict[str, Any]:
        progress = self.audit
        if progress is None:
            enabled = self.options.audit.enabled and self.workload.audit
            return {
                "ran": False,
                "reason": "interrupted" if enabled else "turned off",
            }
        summary = progress.to_dict()
        summary["ran"] = True
        summary["operations"] = recorder.audit_operations(summary["duration_s"])
        return summary

    def _write_junit(
        self, recorder: Recorder, summary: dict[str, Any], check: dict[str, Any] | None
    ) -> None:
        from lgbench.gate import write_junit

        try:
            self.files["junit"] = write_junit(
                self.run_dir / _JUNIT, summary, check, summary.get("baseline")
            )
        except (OSError, ValueError, TypeError) as exc:
            recorder.warn("junit", f"cannot write {_JUNIT}: {exc}")

    def _write_report(self, recorder: Recorder) -> None:
        if not self.options.report:
            return
        from lgbench.report import build_report

        try:
            self.files["report"] = build_report(self.run_dir)
        except (LgbenchError, OSError, ValueError, KeyError, TypeError) as exc:
            # The results are on disk already; `lgbench report` can try again.
            recorder.warn("report", f"cannot write {_REPORT}: {type(exc).__name__}: {exc}")

    def _check(self, recorder: Recorder) -> tuple[Any, bool]:
        """Run the checker hook on the history: its verdict (None when there is no checker),
        and whether it judged (a checker that failed gives an ``unknown`` stand-in)."""
        if self.checker is None:
            return None, False
        try:
            if self.load is not None:  # every process's history, read as one
                return self.checker(self.run_dir), True
            return self.checker(self.files["history"]), True
        except Exception as exc:  # a checker bug must not lose the run's results
            recorder.warn("checker", f"the checker failed: {type(exc).__name__}: {exc}")
            return {"valid": "unknown", "error": f"{type(exc).__name__}: {exc}"}, False

    def _write_check(self, recorder: Recorder, check_data: Any) -> None:
        """The checker's full verdict, ``check.json``."""
        path = self.run_dir / _CHECK
        try:
            write_atomically(
                path, json.dumps(check_data, indent=2, ensure_ascii=False, default=str) + "\n"
            )
            self.files["check"] = path
        except (OSError, TypeError, ValueError) as exc:
            recorder.warn("check.json", f"cannot write {path}: {exc}")

    def _write_hgrm(self, recorder: Recorder) -> dict[str, str]:
        written: dict[str, str] = {}
        for operation, metrics in recorder.registry.totals_by_operation().items():
            if not metrics.latency.count:
                continue
            name = _hgrm_name(operation)
            (self.run_dir / name).write_text(
                format_percentile_distribution(metrics.latency), encoding="utf-8"
            )
            written[operation] = name
        return written

    def _summary(
        self,
        recorder: Recorder,
        now_s: float,
        partial: bool,
        reason: str,
        hgrm: dict[str, str],
        check: Any,
        check_data: Any = None,
        *,
        files: Mapping[str, Path] | None = None,
    ) -> Summary:
        """:meth:`_summary_data` as the results model."""
        data = self._summary_data(
            recorder, now_s, partial, reason, hgrm, check, check_data, files=files
        )
        return self._to_summary(data)

    @staticmethod
    def _to_summary(data: dict[str, Any]) -> Summary:
        # Through the model: a key it does not know (a renamed one) fails here, loudly.
        return Summary.from_builtins(data, source=f"the run's {_SUMMARY}")

    def _summary_data(
        self,
        recorder: Recorder,
        now_s: float,
        partial: bool,
        reason: str,
        hgrm: dict[str, str],
        check: Any,
        check_data: Any = None,
        *,
        files: Mapping[str, Path] | None = None,
    ) -> dict[str, Any]:
        """The summary of ``recorder``: the live one on the loop, or a copy in a thread.

        ``files``: the run's files (default: as now); a thread gets a copy taken on the loop.
        """
        files = self.files if files is None else files
        duration_s = max(now_s - self.origin_s, 0.0)
        schedule_lag, loop_lag = recorder.lag_summary()
        operations = recorder.operations_summary(duration_s)
        scenarios: dict[str, Any] = {}
        for name, stats in recorder.scenarios.items():
            active_s = stats.elapsed_s(now_s)
            iteration_time: LatencyRecorder = stats.iteration_time
            scenarios[name] = {
                "executor": stats.executor,
                "model": stats.model,
                "description": stats.description,
                "tags": stats.tags,
                "start_time_s": stats.start_time_s,
                "planned_duration_s": stats.planned_s,
                "ran_s": active_s,
                "started": stats.started_s is not None,
                "max_vus": stats.max_vus,
                "vus_allocated": stats.allocated_vus,
                "iterations": {
                    "started": stats.started,
                    "finished": stats.finished,
                    "failed": stats.failed,
                    "interrupted": stats.interrupted,
                    "rate_per_s": stats.started / active_s if active_s > 0 else 0.0,
                    "duration_ms": iteration_time.stats().to_ms(),
                },
                "dropped_iterations": stats.dropped,
                "operations": recorder.operations_summary(active_s, name),
            }
            scenarios[name]["iterations"]["skipped_operations"] = sum(
                op["skipped"]["after_failure"] for op in scenarios[name]["operations"].values()
            )
        return {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "lgbench_version": lgbench.__version__,
            "workload": {
                "name": self.workload.name,
                "path": self.workload.path,
                "seed": self.seed,
                "overrides": self.options.overrides.to_dict(),
            },
            "target": {"url": self._target_label(), "embedded": self.target == "embedded"},
            "server": dict(self.server_info),
            "backend": _backend_name(),
            "transport": self.options.transport or self.workload.target.transport,
            "started_at": self.started_at.isoformat(),
            "ended_at": datetime.now(UTC).isoformat(),
            "duration_s": duration_s,
            "planned_duration_s": self.planned_s,
            "partial": partial,
            "stop_reason": reason,
            "operations": operations,
            "scenarios": scenarios,
            "tags": {
                f"{name}={value}": recorder.operations_summary(duration_s, tag=(name, value))
                for name, value in recorder.tags()
            },
            "dropped_iterations": sum(s.dropped for s in recorder.scenarios.values()),
            "observation": recorder.observation_summary(),
            "audit": self._audit_summary(recorder),
            "schedule_lag_ms": schedule_lag,
            "event_loop_lag_ms": loop_lag,
            "out_of_range": {
                name: op["out_of_range"] for name, op in operations.items() if op["out_of_range"]
            },
            "unsupported": recorder.routes.to_list(),
            "warnings": list(recorder.warnings),
            "history": recorder.history_figures(),
            "files": {
                **{key: path.name for key, path in files.items() if key != "server_log"},
                "summary": _SUMMARY,
                "junit": _JUNIT,
                **({"report": _REPORT} if self.options.report else {}),
                "hgrm": hgrm,
                **({"server_log": str(files["server_log"])} if "server_log" in files else {}),
            },
            "check": _check_summary(check, check_data),
        }
