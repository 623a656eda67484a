"""Running a workload: the target, the engine's load, then the post-run steps.

:func:`run_workload` is what ``lgbench run`` calls. In order:

1. applies the command line's :class:`~lgbench.engine.Overrides`;
2. makes the run folder (``reports/<workload>-<UTC time>/`` or ``RunOptions.out_dir``);
3. starts the embedded server when the target is ``"embedded"`` (on a free loopback port, its
   log in ``server.log``; stopped at the end, also on Ctrl-C), and the fault proxy when the
   workload has network faults;
4. asks the target for ``GET /info`` (what the server says it is goes into the summary, see
   :func:`~lgbench.observe.describe_server`; a target without ``/info`` is an "unknown
   server", not an error); a target that cannot be reached raises
   :class:`~lgbench.errors.TargetError` (exit code 3) before anything runs;
5. starts sampling the target (its ``/metrics``, the embedded server's CPU and RSS) and hands
   the load to the engine (:class:`lgbench.engine.LoadRun`: ``history.jsonl``,
   ``intervals.hlog``, ``timeseries.jsonl``, the live view, the audit), with the fault
   schedule beside it and the thresholds judged live;
6. walks the post-run steps (:mod:`lgbench.run._steps`): the checker (``check.json``),
   ``summary.json`` (:data:`~lgbench.engine.SUMMARY_SCHEMA_VERSION`), thresholds, baseline,
   ``junit.xml``, ``report.html``.

Stopping (:class:`~lgbench.engine.RunControl`): the first Ctrl-C or SIGTERM (with
``handle_signals``) or :meth:`RunControl.request_stop` starts no new iteration and gives those
in flight their ``graceful_stop``; a second one cancels at once. Whatever happens (an
interruption, or a crash inside the run), the files are written with what was recorded so
far, ``"partial": true``, and a last ``run.partial`` history marker.

The API key comes only from the environment variable the workload's ``api_key_env`` names.
With ``[target.auth]`` the users' tokens are read before anything runs (a bad source is a
:class:`~lgbench.errors.UsageError`), each VU acts as its user (:class:`~lgbench.engine.Tenants`),
and the embedded server runs with the bundled Auth handlers when ``[target.embedded] auth``
asks for them (its secret: ``LGBENCH_AUTH_SECRET`` when set, else a fresh random one). A split
run hands the tokens, as :class:`~lgbench._secrets.Secret`, to its load's ``start`` (each
worker gets them in memory, over its pipe); the secret stays here.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, final

import anyio
from msgspec.structs import replace
from rich.console import Console
from rich.markup import escape

from lgbench._secrets import Secret
from lgbench._terminal import SafeConsole
from lgbench.check import check_history
from lgbench.client import ApiError, AsyncTransport, LangGraphClient, TransportError
from lgbench.engine import (
    AuditOptions,
    LiveMode,
    LiveView,
    LoadRun,
    LoadSettings,
    Overrides,
    Recorder,
    RunControl,
    RunListener,
    RunSampler,
    SplitLoad,
    Tenants,
    apply_overrides,
    load_client,
    load_tokens,
    planned_duration_s,
)
from lgbench.errors import TargetError, UsageError
from lgbench.faults import (
    PROXY_KINDS,
    FaultEvent,
    FaultProxy,
    check_schedule,
    faults_after,
    run_fault_schedule,
)
from lgbench.observe import describe_server
from lgbench.results import Fault, Summary, Thresholds
from lgbench.run._steps import (
    SUMMARY_FILE,
    Checker,
    Finishing,
    FinishOptions,
    final_files,
    post_run_steps,
)
from lgbench.server import AUTH_SECRET_ENV, AsyncEmbeddedServer, open_embedded_server
from lgbench.thresholds import ThresholdEvaluator
from lgbench.workload import Threshold, Workload, format_duration, workload_thresholds

if TYPE_CHECKING:
    from lgbench.gate import Comparison, RunData

__all__ = [
    "RunOptions",
    "RunResult",
    "default_run_dir",
    "find_checker",
    "run_workload",
]

_SUMMARY: Final = SUMMARY_FILE
_SERVER_LOG: Final = "server.log"
_CLOSE_TIMEOUT_S: Final = 5.0


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
    ``listeners``: told of the run's figures as they come
    (:class:`~lgbench.engine.RunListener`: the live metrics exporters).
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
    comparison: Comparison | None = None
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


def find_checker() -> Checker:
    """The checker ``lgbench run`` uses: :func:`lgbench.check.check_history`."""
    return check_history


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


async def _close_client(client: LangGraphClient) -> None:
    # Shielded and bounded: connections are released even when the run was cancelled.
    with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
        await client.aclose()


async def _watch_signals(run: _Run) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            run.signal = signum
            if run.engine is not None:
                run.engine.signal = signum
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
        self.workload = workload
        self.options = options
        self.transport = transport
        self.control = control
        self.checker = checker
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
        self.signal: int | None = None
        self.server_info: Mapping[str, object] = describe_server(None)
        self.url = self.target
        self.files: dict[str, Path] = {}
        self.result: RunResult | None = None
        self.evaluator = ThresholdEvaluator(workload_thresholds(workload, options.thresholds))
        self.live.window_s = options.drift_window_s
        if load is not None:
            self.live.worker_lines = load.live_lines
        self.baseline: list[RunData] | None = None
        self.server: AsyncEmbeddedServer | None = None
        self.sampler: RunSampler | None = None
        self.proxy: FaultProxy | None = None
        self.direct_url = self.target
        self.listeners = list(options.listeners)
        self.tenants: Tenants | None = None
        self.tokens: list[str] = []
        self.auth_secret: str | None = None
        self.engine: LoadRun | None = None

    @property
    def running(self) -> bool:
        """Whether the load is running (a signal then stops it gracefully)."""
        return self.engine is not None and self.engine.running

    # -- the whole run -------------------------------------------------------------------

    async def execute(self) -> RunResult:
        if self.options.baseline is not None:
            given = self.options.baseline
            paths = [given] if isinstance(given, Path) else list(given)
            # Before anything runs: a bad baseline must not cost a whole run.
            from lgbench.gate import expand_runs, load_run

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
                engine = self.engine = self._engine()
                if self.load is not None:
                    stack.push_async_callback(self.load.aclose)
                    engine.start_wall_s = await self.load.start(engine.split_run(), tokens=tokens)
                del tokens
                await self._run(engine, client)
        if self.result is None:
            # Cancelled before any scenario ran (e.g. Ctrl-C while the server started).
            self.result = RunResult(self.run_dir, None, True, self.control.reason or "cancelled")
        return self.result

    def _engine(self) -> LoadRun:
        """The engine's run of the load, given what this run started."""
        options = self.options
        settings = LoadSettings(
            interval_s=options.interval_s,
            loop_lag_interval_s=options.loop_lag_interval_s,
            checkpoint_s=options.checkpoint_s,
            history_rotate_bytes=options.history_rotate_bytes,
            drift_window_s=options.drift_window_s,
            live=options.live,
            transport=options.transport,
            overrides=options.overrides,
            audit=options.audit,
            final_files=final_files(options.report),
        )
        return LoadRun(
            self.workload,
            settings,
            control=self.control,
            live=self.live,
            run_dir=self.run_dir,
            seed=self.seed,
            target=self.target,
            url=self.url,
            server_info=self.server_info,
            evaluator=self.evaluator,
            files=self.files,
            listeners=self.listeners,
            tenants=self.tenants,
            sampler=self.sampler,
            load=self.load,
            services=(self._play_faults,) if self.workload.faults else (),
        )

    async def _run(self, engine: LoadRun, client: LangGraphClient) -> None:
        engine.signal = self.signal
        try:
            await engine.run(client)
        finally:
            if engine.ended is not None:
                self._finish(engine)

    def _finish(self, engine: LoadRun) -> None:
        """Walk the post-run steps (synchronous: a cancelled task can run them)."""
        assert engine.recorder is not None and engine.ended is not None
        options = self.options
        finishing = Finishing(
            engine=engine,
            recorder=engine.recorder,
            checker=self.checker,
            evaluator=self.evaluator,
            baseline=self.baseline,
            options=FinishOptions(
                report=options.report,
                confidence=options.confidence,
                max_regression=options.max_regression,
                min_difference_ms=options.min_difference_ms,
            ),
            proxy=self.proxy,
            sampler=self.sampler,
        )
        for step in post_run_steps(finishing):
            step(finishing)
        self.result = RunResult(
            self.run_dir,
            finishing.written,
            engine.ended.partial,
            engine.ended.reason,
            finishing.verdict,
            dict(self.files),
            finishing.comparison,
            results=finishing.summary,
        )

    async def _start_target(self, stack: contextlib.AsyncExitStack) -> str:
        if self.target != "embedded":
            return self.target
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
        """The workload's fault schedule, beside the load (a service of the engine's)."""
        engine = self.engine
        assert engine is not None
        faults = engine.faults

        def on_change(event: FaultEvent) -> None:
            recorder.marker(
                f"fault.{event.phase}",
                scenario="",
                value={"name": event.name, "kind": event.kind, "at_s": round(event.at_s, 6)},
            )
            if event.phase == "start":
                faults.append(
                    Fault(name=event.name, kind=event.kind, start_s=event.at_s, end_s=None)
                )
                self.live.note(f"fault {escape(event.spec.describe())}: started")
            else:
                for index, fault in enumerate(faults):
                    if fault.name == event.name and fault.end_s is None:
                        faults[index] = replace(fault, end_s=event.at_s)
                self.live.note(f"fault {escape(json.dumps(event.name, ensure_ascii=False))}: ended")
            engine.tell(
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
            origin_s=engine.origin_s,
            on_change=on_change,
            clock=engine.clock,
        )

    def _client(self, url: str | None = None, *, for_load: bool = True) -> LangGraphClient:
        transport_name = self.options.transport or self.workload.target.transport
        transport = self.transport if self.transport is not None else transport_name
        return load_client(self.workload, url or self.url, transport, for_load=for_load)

    def _start_sampling(self, observer: LangGraphClient) -> None:
        server = self.server
        self.sampler = RunSampler(
            observer.http,
            server_pid=(lambda: server.running_pid) if server is not None else None,
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
