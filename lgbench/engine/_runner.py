"""The engine's part of a run: the load, its files, and the run's figures.

:class:`LoadRun` is what :func:`lgbench.run.run_workload` hands the load to once the target
is up. In order:

1. opens ``history.jsonl``, ``intervals.hlog`` and ``timeseries.jsonl``, and runs every
   scenario at its start time in one task group, with a task closing an interval every second
   (hlog and timeseries lines, live view, the live threshold judge) and
   one measuring event-loop lag (a 10 ms sleep's oversleep); every time is read from
   :func:`measurement_clock`; the services the run layer gives (the fault schedule) run beside;
2. reads back the threads in the post-run audit (:mod:`lgbench.engine._audit`);
3. whatever happens (an interruption, or a crash inside the run), closes its files with what
   was recorded so far, a last ``run.partial`` history marker when it stopped early, and one
   ``<operation>.hgrm`` per operation; :meth:`LoadRun.summary` is then the run's figures as
   the results model, for the run layer's post-run steps (checker, thresholds, baseline...).

Every 10 s (``checkpoint_s``) a partial ``summary.json`` is written from a copy of the
recorder, so a run killed with SIGKILL still leaves one.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, Protocol, final

import anyio
import msgspec
from msgspec.structs import replace

import lgbench
from lgbench import _backend
from lgbench._atomic import write_atomically
from lgbench.client import AsyncTransport, FastTransport, LangGraphClient, Timeout, get_client
from lgbench.engine._actor import ScenarioContext
from lgbench.engine._audit import AuditOptions, AuditProgress, run_audit
from lgbench.engine._control import RunControl
from lgbench.engine._executors import Executor, build_executor, executor_model
from lgbench.engine._heap import start_up_heap_frozen
from lgbench.engine._listener import RunListener, RunStart
from lgbench.engine._live import LiveMode, LiveView
from lgbench.engine._overrides import Overrides
from lgbench.engine._recorder import Recorder, ScenarioStats, Snapshot
from lgbench.engine._sampling import RunSampler
from lgbench.engine._segment import ScenarioPlan
from lgbench.engine._split import SplitLoad, SplitRun
from lgbench.engine._tenants import Tenants
from lgbench.engine._timeseries import TimeseriesWriter
from lgbench.errors import UsageError
from lgbench.history import HistoryWriter, never_succeeded, never_succeeded_message
from lgbench.metrics import (
    HlogWriter,
    IntervalSnapshot,
    LatencyRecorder,
    format_percentile_distribution,
)
from lgbench.observe import DriftTracker
from lgbench.results import (
    SCHEMA_VERSION,
    Audit,
    Fault,
    Files,
    HistoryFigures,
    Iterations,
    LagFigures,
    Latency,
    NeverSucceeded,
    Scenario,
    Server,
    Summary,
    Target,
    UnsupportedRoute,
    Worker,
    WorkloadInfo,
    summary_part,
)
from lgbench.workload import BurstConfig, ScenarioConfig, Threshold, Workload, dump_workload

__all__ = [
    "SUMMARY_SCHEMA_VERSION",
    "Breach",
    "IntervalJudge",
    "LoadEnd",
    "LoadRun",
    "LoadSettings",
    "load_client",
    "measure_loop_lag",
    "measurement_clock",
    "planned_duration_s",
    "register_scenario",
    "write_summary",
]

SUMMARY_SCHEMA_VERSION: Final = SCHEMA_VERSION
"""Version of ``summary.json`` (:data:`lgbench.results.SCHEMA_VERSION`)."""

_HISTORY: Final = "history.jsonl"
_INTERVALS: Final = "intervals.hlog"
_TIMESERIES: Final = "timeseries.jsonl"
_SUMMARY: Final = "summary.json"
_MIN_CONNECTIONS: Final = 256
_CHECKPOINT_REASON: Final = "running (checkpoint: lgbench was still running when written)"
_UNSAFE_FILE_CHARS: Final = re.compile(r"[^A-Za-z0-9._-]+")


@final
@dataclass(frozen=True, slots=True)
class LoadSettings:
    """What the engine takes of a run's options (:class:`lgbench.run.RunOptions` has them all).

    ``final_files``: the files the run layer writes at the end (``summary``, ``junit``,
    ``report``: key and name), listed in every summary, checkpoints too.
    """

    interval_s: float = 1.0
    loop_lag_interval_s: float | None = 0.01
    checkpoint_s: float | None = 10.0
    history_rotate_bytes: int | None = 256 * 2**20
    drift_window_s: float = 60.0
    live: LiveMode = "quiet"
    transport: str | None = None
    overrides: Overrides = field(default_factory=Overrides)
    audit: AuditOptions = field(default_factory=AuditOptions)
    final_files: Mapping[str, str] = field(default_factory=dict)


class Breach(Protocol):
    """An ``abort_on_fail`` threshold that failed during the run."""

    @property
    def threshold(self) -> Threshold: ...

    @property
    def reason(self) -> str: ...


class IntervalJudge(Protocol):
    """Judges thresholds as the intervals close, so an ``abort_on_fail`` one can stop the run
    (:class:`lgbench.thresholds.ThresholdEvaluator`, which the run layer passes in)."""

    @property
    def needs_intervals(self) -> bool: ...

    def observe(
        self, operations: IntervalSnapshot, derived: IntervalSnapshot
    ) -> Iterable[Breach]: ...


@final
@dataclass(frozen=True, slots=True)
class LoadEnd:
    """How the load ended: when (on the run's clock), partial or not and why, and the
    ``<operation>.hgrm`` files written (operation: file name)."""

    now_s: float
    partial: bool
    reason: str
    hgrm: dict[str, str]


#: A task that runs beside the load, given the run's recorder (the fault schedule).
Service = Callable[[Recorder], Coroutine[Any, Any, None]]


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


def _add_workers(summary: Summary, found: Mapping[str, Any]) -> Summary:
    """What a split run's workers add to the coordinator's summary (``found``:
    :meth:`SplitLoad.summary`): their entries, the routes they found missing, and their
    history files' figures, so ``history`` counts every file of the run as one process's would.
    """
    ours, theirs = summary.history, found["history"]
    return replace(
        summary,
        workers=summary_part(found["workers"], tuple[Worker, ...], source=_SUMMARY),
        unsupported=(
            *summary.unsupported,
            *summary_part(found["unsupported"], tuple[UnsupportedRoute, ...], source=_SUMMARY),
        ),
        history=HistoryFigures(
            events=ours.events + theirs["events"],
            segments=ours.segments + theirs["segments"],
            compression_errors=(*ours.compression_errors, *theirs["compression_errors"]),
        ),
    )


def write_summary(path: Path, summary: Summary) -> None:
    """Write ``summary`` as ``path`` whole: a reader sees the old file or the new one."""
    write_atomically(path, summary.to_json())


@final
class LoadRun:
    """The load of one run, once its target is up: :meth:`run` does it, :meth:`summary` tells.

    ``files``: the run's files so far (the run layer's ``server_log``), shared: the engine
    adds its own, the run layer its results'. ``listeners``: told of the run's figures as
    they come (shared too, one that fails is dropped). ``evaluator``: the thresholds judged
    live. ``services``: run beside the load (the fault schedule). ``load``: other processes
    generate the load; the run layer starts them (:meth:`split_run` is what they are told)
    and sets ``start_wall_s``.
    """

    def __init__(
        self,
        workload: Workload,
        options: LoadSettings,
        *,
        control: RunControl,
        live: LiveView,
        run_dir: Path,
        seed: int,
        target: str,
        url: str,
        server_info: Mapping[str, object],
        evaluator: IntervalJudge,
        files: dict[str, Path],
        listeners: list[RunListener],
        tenants: Tenants | None = None,
        sampler: RunSampler | None = None,
        load: SplitLoad | None = None,
        services: Sequence[Service] = (),
    ) -> None:
        self.load = load
        self.start_wall_s: float | None = None
        self.workload = workload
        self.options = options
        self.control = control
        self.target = target
        self.seed = seed
        self.run_dir = run_dir
        self.planned_s = planned_duration_s(workload)
        self.live = live
        self.running = False
        self.signal: int | None = None
        self.server_info = server_info
        self.url = url
        self.recorder: Recorder | None = None
        self.started_at = datetime.now(UTC)
        self.origin_s = 0.0
        self.clock: Callable[[], float] = anyio.current_time
        self.files = files
        self.crashed: BaseException | None = None
        self.ended: LoadEnd | None = None
        self.timeseries: TimeseriesWriter | None = None
        self.summary_lock = threading.Lock()
        self.evaluator = evaluator
        self.drift = DriftTracker(options.drift_window_s)
        self.sampler = sampler
        self.services = tuple(services)
        self.faults: list[Fault] = []
        self.audit: AuditProgress | None = None
        self.listeners = listeners
        self.tenants = tenants

    def tell(self, call: Callable[[RunListener], object]) -> None:
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

    def split_run(self) -> SplitRun:
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

    async def run(self, client: LangGraphClient) -> None:
        """Run the load with ``client``, then the audit; :attr:`ended` is set once the files
        are closed, also when it was cancelled or crashed (a crash is kept in
        :attr:`crashed` and raised again)."""
        # Before the run's clock starts: no full collection of the start-up heap in the load.
        with start_up_heap_frozen():
            await self._run_load(client)

    async def _run_load(self, client: LangGraphClient) -> None:
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
        self.tell(lambda each: each.run_started(start))
        if self.load is not None:
            executors = []  # the workers run them
        self.live.start()
        self.running = True
        try:
            async with anyio.create_task_group() as services:
                services.start_soon(self._intervals, recorder)
                if self.sampler is not None:
                    services.start_soon(self.sampler.run, self.options.interval_s)
                for service in self.services:
                    services.start_soon(service, recorder)
                services.start_soon(self._sync_files, recorder, history, hlog_file)
                # A split run's coordinator runs no load: the loops whose lag matters are
                # the workers' (their figures merge in); sampling its own idle loop 100 times
                # a second would only cost the core it shares with them.
                if self.options.loop_lag_interval_s and self.load is None:
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

    def _executor(
        self, scenario: ScenarioConfig, client: LangGraphClient, recorder: Recorder
    ) -> Executor:
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
        self.tell(lambda each: each.interval_closed(snapshot, recorder))
        if self.evaluator.needs_intervals:
            for breach in self.evaluator.observe(snapshot.operations, snapshot.derived):
                name = breach.threshold.name
                self.tell(lambda each: each.threshold_breached(name))  # noqa: B023 (called now)
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
        faults: list[Fault] | None = None
        if self.workload.faults or (split is not None and split["faults"]):
            faults = list(self.faults)
            if split is not None:
                faults.extend(summary_part(split["faults"], tuple[Fault, ...], source=_SUMMARY))

        def write() -> None:
            checkpoint = self._summary(frozen, now_s, True, _CHECKPOINT_REASON, {}, files=files)
            if split is not None:
                checkpoint = _add_workers(checkpoint, split)
            if faults is not None:
                checkpoint = replace(checkpoint, faults=tuple(faults))
            with self.summary_lock:
                if self.running:
                    write_summary(self.run_dir / _SUMMARY, checkpoint)

        try:
            await anyio.to_thread.run_sync(write, abandon_on_cancel=True)
        except OSError as exc:
            recorder.warn("checkpoint", f"cannot write a checkpoint summary.json: {exc}")

    async def _sync_files(self, recorder: Recorder, history: HistoryWriter, hlog: IO[str]) -> None:
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

    def _finish(self, recorder: Recorder, history: HistoryWriter, hlog_file: IO[str]) -> None:
        """Close the load's files (synchronous: a cancelled task can run it)."""
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
        self.ended = LoadEnd(now_s, partial, reason, hgrm)

    def summary(self) -> Summary:
        """The run's figures once the load ended (:attr:`ended`), as the results model: the
        workers' merged in, and the operations that never succeeded. What the run layer
        judges (checker, drift, faults, thresholds, baseline) it adds itself."""
        recorder, ended = self.recorder, self.ended
        if recorder is None or ended is None:
            raise RuntimeError("the load has not ended: it has no summary yet")
        summary = self._summary(recorder, ended.now_s, ended.partial, ended.reason, ended.hgrm)
        if self.load is not None:
            summary = self._merge_workers(summary)
        failing = never_succeeded(
            {name: msgspec.to_builtins(op) for name, op in summary.operations.items()},
            self.workload.expected,
            (route.operation for route in summary.unsupported),
        )
        return replace(
            summary,
            never_succeeded=summary_part(failing, tuple[NeverSucceeded, ...], source=_SUMMARY),
            # An operation the server does not implement was already warned about, by name.
            warnings=(
                *summary.warnings,
                *(never_succeeded_message(e) for e in failing if not e["unsupported"]),
            ),
        )

    def _merge_workers(self, summary: Summary) -> Summary:
        """The workers' own figures: one entry each, lost workers as faults, missing routes."""
        assert self.load is not None
        found = self.load.summary()
        summary = _add_workers(summary, found)
        # Judged with the workload's own faults (a lost worker is a fault of the generator).
        self.faults.extend(summary_part(found["faults"], tuple[Fault, ...], source=_SUMMARY))
        lost = [w for w in found["workers"] if w["status"] not in ("finished", "stopped")]
        if lost:
            names = ", ".join(f"{w['worker']} ({w['status']})" for w in lost)
            warning = (
                f"not every worker finished: {names}; their results up to their last interval"
                " are kept"
            )
            summary = replace(summary, warnings=(*summary.warnings, warning))
        return summary

    def _audit_summary(self, recorder: Recorder) -> Audit:
        progress = self.audit
        if progress is None:
            enabled = self.options.audit.enabled and self.workload.audit
            return Audit(ran=False, reason="interrupted" if enabled else "turned off")
        figures = progress.to_dict()
        audit = summary_part(figures, Audit, source=_SUMMARY)
        operations = recorder.audit_operations(figures["duration_s"])
        return replace(audit, ran=True, operations=operations)

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
        *,
        files: Mapping[str, Path] | None = None,
    ) -> Summary:
        """The summary of ``recorder``: the live one on the loop, or a copy in a thread.

        ``files``: the run's files (default: as now); a thread gets a copy taken on the loop.
        """
        files = self.files if files is None else files
        duration_s = max(now_s - self.origin_s, 0.0)
        schedule_lag, loop_lag = recorder.lag_summary()
        operations = recorder.operations(duration_s)
        scenarios: dict[str, Scenario] = {}
        for name, stats in recorder.scenarios.items():
            active_s = stats.elapsed_s(now_s)
            iteration_time: LatencyRecorder = stats.iteration_time
            scenario_operations = recorder.operations(active_s, name)
            scenarios[name] = Scenario(
                executor=stats.executor,
                model=stats.model,
                description=stats.description,
                tags=dict(stats.tags),
                start_time_s=float(stats.start_time_s),
                planned_duration_s=_seconds(stats.planned_s),
                ran_s=float(active_s),
                started=stats.started_s is not None,
                max_vus=stats.max_vus,
                vus_allocated=stats.allocated_vus,
                iterations=Iterations(
                    started=stats.started,
                    finished=stats.finished,
                    failed=stats.failed,
                    interrupted=stats.interrupted,
                    rate_per_s=stats.started / active_s if active_s > 0 else 0.0,
                    duration_ms=Latency(**iteration_time.stats().to_ms()),
                    skipped_operations=sum(
                        op.skipped.after_failure for op in scenario_operations.values()
                    ),
                ),
                dropped_iterations=stats.dropped,
                operations=scenario_operations,
            )
        history = recorder.history_figures()
        listed = {key: path.name for key, path in files.items() if key != "server_log"}
        return Summary(
            schema_version=SUMMARY_SCHEMA_VERSION,
            lgbench_version=lgbench.__version__,
            workload=WorkloadInfo(
                name=self.workload.name,
                path=self.workload.path,
                seed=self.seed,
                overrides=self.options.overrides.to_dict(),
            ),
            target=Target(url=self._target_label(), embedded=self.target == "embedded"),
            server=summary_part(dict(self.server_info), Server, source=_SUMMARY),
            backend=_backend_name(),
            transport=self.options.transport or self.workload.target.transport,
            started_at=self.started_at.isoformat(),
            ended_at=datetime.now(UTC).isoformat(),
            duration_s=float(duration_s),
            planned_duration_s=float(self.planned_s),
            partial=partial,
            stop_reason=reason,
            operations=operations,
            scenarios=scenarios,
            tags={
                f"{name}={value}": recorder.operations(duration_s, tag=(name, value))
                for name, value in recorder.tags()
            },
            dropped_iterations=sum(s.dropped for s in recorder.scenarios.values()),
            observation=recorder.observation(),
            audit=self._audit_summary(recorder),
            schedule_lag_ms=LagFigures(**schedule_lag),
            event_loop_lag_ms=LagFigures(**loop_lag),
            out_of_range={
                name: op.out_of_range for name, op in operations.items() if op.out_of_range
            },
            unsupported=summary_part(
                recorder.routes.to_list(), tuple[UnsupportedRoute, ...], source=_SUMMARY
            ),
            warnings=tuple(recorder.warnings),
            history=HistoryFigures(
                events=history["events"],
                segments=history["segments"],
                compression_errors=tuple(history["compression_errors"]),
            ),
            files=Files(
                **listed,
                **self.options.final_files,
                hgrm=hgrm,
                **({"server_log": str(files["server_log"])} if "server_log" in files else {}),
            ),
            check=None,  # the run layer's checker judges the history once it is closed
        )


def _seconds(value: float | None) -> float | None:
    return None if value is None else float(value)
