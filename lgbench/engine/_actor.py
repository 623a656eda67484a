"""Actors: the virtual users. Each runs a scenario's steps, one operation at a time.

An :class:`Actor` has its VU number (from 1 within its scenario), a process id for the history
(a new one after every ``info``, as in Jepsen: a process never has two operations in flight and
never invokes again after an unknown outcome), its own seeded random generator (from the
workload's seed, the scenario's name and the VU number, so a run repeats), its variables (what
``save`` keeps; cleared at the start of each iteration) and its iteration counter.

An iteration runs the steps in order: a sleep step sleeps; an operation step renders its
parameters (templates), calls the client ``repeat`` times, saves the result, and pauses
``think_time`` after each call. What a failed operation (``fail`` or ``info``) does depends on
its step's ``on_error``, else its scenario's:

- ``"stop"`` (the default) ends the iteration (the next steps usually need its result), after
  the pauses the iteration still had to take (think times and sleeps), so a VU whose target
  is down keeps its pace rather than spinning through thousands of failing iterations a
  second;
- ``"continue"`` goes on with the next call. The failed step saved nothing, so a later step
  that reads its variable is skipped (no call, no pause), and what *that* step saves is
  missing too.

Either way the iteration counts as failed, and every call it did not make because of the
failure is counted per operation (``skipped.after_failure`` in the summary). A run whose graph
failed is not a failure of the operation: it is counted as a run error and the iteration goes
on. A template that cannot be rendered (a saved object without the field) is a failed call,
with a warning. An operation the server does not implement (:class:`~lgbench.engine.RouteSupport`)
is not sent at all once lgbench knows: the call is counted as ``skipped.unsupported`` and the
iteration goes on without its result, whatever ``on_error`` says.
A stream step saves the stream's summary (``run_id``, ``events``, ``tokens``...).

A ``runs.stream`` step with ``stream_resumable = true`` on a thread, and every
``runs.join_stream`` step, read a stream that reconnects when its connection breaks
(:class:`~lgbench.client.ResumableStream`: it joins the run again with
``Last-Event-ID`` and delivers each event once), up to the step's ``reconnect`` option
(default 3) times in a row; ``reconnect = 0`` turns that off. A stream without event ids
(not resumable) is never reconnected: its transport error ends the operation as ``info``.
A reconnected stream is still one operation: its ``ok`` value carries ``reconnects``.

Every operation goes through :meth:`Actor.call`, which times it, feeds the
:class:`~lgbench.engine.Recorder` and turns exceptions into outcomes. Cancellation (graceful
stop expired, a VU ramped down) is recorded as ``cancelled`` and re-raised.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias, final

import anyio

from lgbench.client import ApiError, ClientError, LangGraphClient, ResumableStream, RunError
from lgbench.engine._recorder import LoadModel, OperationScope, Recorder, ScenarioStats
from lgbench.engine._tenants import Tenants, User
from lgbench.history import Invocation, StreamSummary
from lgbench.operations import OPERATIONS, OperationSpec
from lgbench.workload import (
    OperationStepConfig,
    ScenarioConfig,
    SleepStepConfig,
    StepConfig,
    TemplateError,
    parse_template,
    render,
)

__all__ = ["Actor", "CallResult", "IterationOutcome", "ScenarioContext"]

#: How an iteration ended.
IterationOutcome: TypeAlias = Literal["finished", "failed", "interrupted"]

_US: Final = 1_000_000
_NO_OPTIONS: Final[Mapping[str, Any]] = MappingProxyType({})
# An iteration's missing variables while there are none: shared, so never added to
# (Actor._unsaved makes a set of the iteration's own first).
_NOTHING_MISSING: Final[set[str]] = set()


@final
class CallResult:
    """What :meth:`Actor.call` gives back: whether it took effect, its result, or the error.

    ``unsupported``: not sent, the server does not implement the operation (see the module
    docstring). A plain class, not a frozen dataclass: one is made per call, and a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``.
    """

    __slots__ = ("error", "ok", "unsupported", "value")

    def __init__(
        self,
        ok: bool,
        value: Any = None,
        error: BaseException | None = None,
        unsupported: bool = False,
    ) -> None:
        self.ok = ok
        self.value = value
        self.error = error
        self.unsupported = unsupported

    def __repr__(self) -> str:
        return (
            f"CallResult(ok={self.ok!r}, value={self.value!r}, error={self.error!r}, "
            f"unsupported={self.unsupported!r})"
        )


@final
@dataclass(slots=True)
class ScenarioContext:
    """What every actor of one scenario shares."""

    scenario: ScenarioConfig
    client: LangGraphClient
    recorder: Recorder
    stats: ScenarioStats
    model: LoadModel
    seed: int
    keep_stream_events: bool = False
    #: The users VUs act as (``[target.auth]``); None: every VU uses ``client`` as is.
    tenants: Tenants | None = None
    _methods: dict[tuple[str, str | None], Callable[..., Any]] = field(default_factory=dict)
    _scopes: dict[tuple[str, bool, int | None, str | None], OperationScope] = field(
        default_factory=dict
    )
    _needs: dict[int, frozenset[str]] = field(default_factory=dict)
    _fixed: dict[int, _FixedCall | None] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.scenario.name

    def client_of(self, user: User | None) -> LangGraphClient:
        """The client requests made as ``user`` go through (None: the shared one)."""
        return self.client if user is None else user.client

    def method(self, spec: OperationSpec, user: User | None = None) -> Callable[..., Any]:
        """``client.<resource>.<method>`` for ``spec``, on ``user``'s client."""
        place = (spec.name, None if user is None else user.label)
        found = self._methods.get(place)
        if found is None:
            found = getattr(getattr(self.client_of(user), spec.resource), spec.method)
            self._methods[place] = found
        return found

    def needs(self, position: int) -> frozenset[str]:
        """The saved variables the step at ``position`` reads (looked up once per step)."""
        found = self._needs.get(position)
        if found is None:
            step = self.scenario.steps[position]
            found = frozenset()
            if isinstance(step, OperationStepConfig):
                found = _variables(step.params)
            self._needs[position] = found
        return found

    def fixed_call(self, position: int) -> _FixedCall | None:
        """The rendered values and call arguments of the step at ``position`` when every
        call has the same ones: parameters that are plain scalars, no template among them
        (looked up once per step; None: rendered per call). Shared by every call: nothing
        downstream changes the values or the keyword arguments it is given."""
        if position in self._fixed:
            return self._fixed[position]
        found: _FixedCall | None = None
        step = self.scenario.steps[position]
        if isinstance(step, OperationStepConfig) and all(
            _plain_scalar(value) for value in step.params.values()
        ):
            values = dict(step.params)  # what render gives for them
            try:
                args, kwargs = step.spec.arguments(values)
            except (KeyError, TemplateError):
                pass  # each call says so, as for any step
            else:
                found = _FixedCall(values, args, kwargs)
        self._fixed[position] = found
        return found

    def scope(
        self,
        operation: str,
        *,
        observer: bool = False,
        turn: int | None = None,
        user: str | None = None,
    ) -> OperationScope:
        """Where ``operation`` records in this scenario (looked up once per operation, and
        per conversation turn for a step with ``turns``: tagged ``turn=<k>``; per user with
        ``[target.auth]``: tagged ``user=<label>``)."""
        found = self._scopes.get((operation, observer, turn, user))
        if found is None:
            tags = self.scenario.tags
            if turn is not None:
                tags = {**tags, "turn": str(turn)}
            found = self._scopes[operation, observer, turn, user] = self.recorder.scope(
                operation, self.scenario.name, tags, self.model, observer=observer, user=user
            )
        return found


def _plain_scalar(value: object) -> bool:
    if isinstance(value, str):
        return "$" not in value
    return value is None or type(value) in (int, float, bool)


@final
@dataclass(frozen=True, slots=True)
class _FixedCall:
    """A step's values and call arguments, the same at every call (see ``fixed_call``)."""

    values: Mapping[str, Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@final
class _CreatedRun:
    """``on_run_created`` of ``runs.wait`` and ``runs.stream``: keeps the run id (and the
    thread of a stateless run) the answer's headers named, so its ok line can name the run
    even when the answer itself says nothing of it (an empty wait, an event-less stream)."""

    __slots__ = ("run_id", "thread_id")

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.thread_id: str | None = None

    def __call__(self, metadata: Mapping[str, object]) -> None:
        run_id = metadata.get("run_id")
        thread_id = metadata.get("thread_id")
        self.run_id = run_id if isinstance(run_id, str) else None
        self.thread_id = thread_id if isinstance(thread_id, str) else None

    def arguments(self, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        """The call's arguments with the run id (and the thread id the call did not give),
        for the history's ok value."""
        if self.run_id is None:
            return kwargs
        extra: dict[str, Any] = {"run_id": self.run_id}
        if self.thread_id is not None and not kwargs.get("thread_id"):
            extra["thread_id"] = self.thread_id
        return {**kwargs, **extra}


def actor_seed(seed: int, scenario: str, vu: int) -> str:
    """The seed of one VU's generator: the workload seed, the scenario and the VU number."""
    return f"{seed}:{scenario}:{vu}"


@final
class Actor:
    """One virtual user of a scenario (see the module docstring)."""

    __slots__ = (
        "_iteration_count",
        "_iteration_total_s",
        "_rng",
        "ctx",
        "iteration",
        "process",
        "user",
        "variables",
        "vu",
    )

    def __init__(self, ctx: ScenarioContext, vu: int) -> None:
        self.ctx = ctx
        self.vu = vu
        self.process = ctx.recorder.new_process()
        # Made on first draw (see rng): a generator's state is 2.5 KiB per VU, and most
        # steps' templates draw nothing. The same seed, so the same draws either way.
        self._rng: random.Random | None = None
        self.iteration = 0
        self.variables: dict[str, Any] = {}
        #: The user this VU acts as (``[target.auth]``), None without users.
        self.user: User | None = None if ctx.tenants is None else ctx.tenants.user_for(vu)
        self._iteration_total_s = 0.0
        self._iteration_count = 0

    def __repr__(self) -> str:
        return f"<Actor {self.ctx.name}#{self.vu} process={self.process}>"

    @property
    def rng(self) -> random.Random:
        """The VU's generator, seeded from the workload's seed, the scenario and the VU."""
        return self._rng or self._make_rng()

    def _make_rng(self) -> random.Random:
        rng = self._rng
        if rng is None:
            rng = self._rng = random.Random(actor_seed(self.ctx.seed, self.ctx.name, self.vu))
        return rng

    # -- iterations -------------------------------------------------------------------------

    def expected_interval_us(self, think_time_s: float) -> int:
        """The closed model's expected interval: the mean iteration time, else the think time."""
        if self._iteration_count:
            return round(self._iteration_total_s / self._iteration_count * _US)
        return round(think_time_s * _US)

    async def run_iteration(self, intended_s: float | None = None) -> IterationOutcome:
        """One iteration of the scenario's steps; ``intended_s`` is its scheduled start
        (open model), from which its first operation is timed."""
        ctx = self.ctx
        stats = ctx.stats
        clock = ctx.recorder.clock
        started_s = clock()
        stats.started += 1
        stats.active_vus += 1
        # ${user} reads the VU's user label from here (no step may save to a built-in name).
        self.variables = {} if self.user is None else {"user": self.user.label}
        number = self.iteration
        self.iteration += 1
        outcome: IterationOutcome = "interrupted"
        # The steps run in this frame rather than in a helper coroutine of their own: an
        # iteration's frame lives as long as its operation (an SSE stream's whole life,
        # ≈ 0.4 KiB a level), and every resumption of a request passes each level.
        try:
            steps = ctx.scenario.steps
            failed = False
            # Variables a failed or skipped step did not save: the steps that read one
            # are skipped. A set only once something is missing, and no enumerate (the
            # frame's size, above).
            missing: set[str] = _NOTHING_MISSING
            for position in range(len(steps)):
                step = steps[position]
                if isinstance(step, SleepStepConfig):
                    await anyio.sleep(step.duration_s)
                    # The schedule is for the iteration's start, not after a pause.
                    intended_s = None
                    continue
                assert isinstance(step, OperationStepConfig)
                if missing and not missing.isdisjoint(ctx.needs(position)):
                    ctx.scope(step.op).counts.skipped += step.repeat
                    missing = self._unsaved(step, missing)
                    continue
                spec = OPERATIONS[step.op]
                stop = (step.on_error or ctx.scenario.on_error) == "stop"
                fixed = ctx.fixed_call(position)
                for call_number in range(step.repeat):
                    calls_left = step.repeat - call_number - 1
                    try:
                        if fixed is not None:
                            values = fixed.values
                        else:
                            # The generator, or the way to make it should a template draw.
                            rng = self._rng or self._make_rng
                            values = render(step.params, self.variables, rng, self.vu, number)
                    except TemplateError as exc:
                        ctx.recorder.warn(
                            f"template:{ctx.name}:{step.op}",
                            f"scenario {ctx.name!r}, {step.op}: {exc} (the call was skipped)",
                        )
                        failed = True
                        if stop:
                            self._skip_rest(position, calls_left + 1)
                            outcome = "failed"
                            return outcome
                        ctx.scope(step.op).counts.skipped += calls_left + 1
                        missing = self._unsaved(step, missing)
                        break
                    result = await self.call(
                        spec,
                        values,
                        intended_s=intended_s,
                        think_time_s=step.think_time_s,
                        turn=call_number + 1 if step.turns else None,
                        as_other=step.as_user == "other",
                        fixed=fixed,
                    )
                    intended_s = None  # only the iteration's first operation was scheduled
                    if result.unsupported:
                        # Not sent, no pause: the server lacks the operation; the rest goes on.
                        missing = self._unsaved(step, missing)
                        continue
                    if not result.ok:
                        failed = True
                        if stop:
                            # The pauses still to come are taken all the same: a VU whose
                            # target is down keeps its pace instead of spinning through
                            # failing iterations.
                            await anyio.sleep(_pauses_after(steps, position, calls_left))
                            self._skip_rest(position, calls_left)
                            outcome = "failed"
                            return outcome
                        missing = self._unsaved(step, missing)
                    elif step.save:
                        self.variables[step.save] = result.value
                        missing.discard(step.save)
                    if step.think_time_s:
                        await anyio.sleep(step.think_time_s)
            outcome = "failed" if failed else "finished"
            return outcome
        finally:
            stats.active_vus -= 1
            ended_s = clock()
            if outcome == "finished":
                stats.finished += 1
                self._iteration_total_s += ended_s - started_s
                self._iteration_count += 1
                stats.iteration_time.record_us(round((ended_s - started_s) * _US))
            elif outcome == "failed":
                stats.failed += 1
            else:
                stats.interrupted += 1

    def _unsaved(self, step: OperationStepConfig, missing: set[str]) -> set[str]:
        """``step`` saved nothing this time: what it saves is missing, unless saved before
        (``missing``, or a new set when that was the shared empty one)."""
        if step.save and step.save not in self.variables:
            if missing is _NOTHING_MISSING:
                missing = set()
            missing.add(step.save)
        return missing

    def _skip_rest(self, position: int, calls_left: int) -> None:
        """Count what an iteration stopped at ``steps[position]`` leaves undone: the step's
        ``calls_left`` calls and every later operation step's."""
        ctx = self.ctx
        steps = ctx.scenario.steps
        current = steps[position]
        assert isinstance(current, OperationStepConfig)
        if calls_left:
            ctx.scope(current.op).counts.skipped += calls_left
        for step in steps[position + 1 :]:
            if isinstance(step, OperationStepConfig):
                ctx.scope(step.op).counts.skipped += step.repeat

    # -- one operation ----------------------------------------------------------------------

    async def call(
        self,
        spec: OperationSpec,
        values: Mapping[str, Any],
        *,
        intended_s: float | None = None,
        think_time_s: float = 0.0,
        observer: bool = False,
        process: int | None = None,
        turn: int | None = None,
        as_other: bool = False,
        fixed: _FixedCall | None = None,
    ) -> CallResult:
        """Perform ``spec`` with rendered ``values``; record it; never raise but cancellation.

        ``process`` overrides the actor's process id (observers have their own); ``turn``
        records the call as that turn of a conversation (tag ``turn=<k>``); ``as_other``
        makes it as another user than the VU's own (a cross-tenant probe); ``fixed``: the
        step's arguments, the same at every call (:meth:`ScenarioContext.fixed_call`).
        """
        ctx = self.ctx
        recorder = ctx.recorder
        user = self.user
        if as_other and user is not None and ctx.tenants is not None:
            user = ctx.tenants.other_than(user, self.rng)
        streams = spec.streams
        try:
            args, kwargs = spec.arguments(values) if fixed is None else (fixed.args, fixed.kwargs)
            options = spec.options(values) if streams else _NO_OPTIONS
        except (KeyError, TemplateError) as exc:
            recorder.warn(
                f"arguments:{ctx.name}:{spec.name}",
                f"scenario {ctx.name!r}, {spec.name}: {exc} (the iteration was skipped)",
            )
            return CallResult(False)
        scope = ctx.scope(
            spec.name, observer=observer, turn=turn, user=None if user is None else user.label
        )
        routes = recorder.routes
        if routes:
            unsupported = routes.unsupported(spec.name, kwargs)
            if unsupported is not None:
                unsupported.skipped += 1
                scope.counts.unsupported += 1
                return CallResult(False, unsupported=True)
        method = ctx.method(spec, user)
        clock = recorder.clock
        expected_us = 0
        if scope.model == "closed":  # expected_interval_us inline: once per call
            count = self._iteration_count
            expected_us = round(
                self._iteration_total_s / count * _US if count else think_time_s * _US
            )
        own_process = process is None
        start_s = clock()
        latency_start_s = start_s if intended_s is None else min(intended_s, start_s)
        invocation = recorder.invoke(
            scope,
            process=self.process if process is None else process,
            actor=self.vu,
            # A user's store call is recorded with its namespace (positional in the call),
            # so the checker knows whose items it touched.
            arguments=kwargs if user is None or not args else {**_positional(spec, args), **kwargs},
            at_s=start_s,
        )
        try:
            if streams:
                return await self._stream(
                    scope,
                    invocation,
                    spec,
                    method,
                    args,
                    kwargs,
                    options,
                    start_s,
                    latency_start_s,
                    expected_us,
                    ctx.client_of(user),
                )
            created: _CreatedRun | None = None
            try:
                if spec.creates_run and spec.follows_run:
                    # The values say nothing of the run: its id comes from the answer's header.
                    created = _CreatedRun()
                    result = await method(*args, on_run_created=created, **kwargs)
                else:
                    result = await method(*args, **kwargs)
            except RunError as exc:
                recorder.ok(
                    scope,
                    invocation,
                    kwargs if created is None else created.arguments(kwargs),
                    exc.body,
                    start_s=start_s,
                    latency_start_s=latency_start_s,
                    end_s=clock(),
                    expected_interval_us=expected_us,
                    run_error=exc,
                )
                return CallResult(True, exc.body)
        except anyio.get_cancelled_exc_class():
            if not invocation.completed:
                type_ = recorder.failed(
                    scope,
                    invocation,
                    kwargs,
                    None,
                    start_s=start_s,
                    latency_start_s=latency_start_s,
                    end_s=clock(),
                    cancelled=True,
                )
                if type_ == "info" and own_process:
                    self.process = recorder.new_process()
            raise
        except Exception as exc:
            if invocation.completed:
                raise
            type_ = recorder.failed(
                scope,
                invocation,
                kwargs,
                exc,
                start_s=start_s,
                latency_start_s=latency_start_s,
                end_s=clock(),
                expected_interval_us=expected_us,
            )
            if type_ == "info" and own_process:
                self.process = recorder.new_process()
            if isinstance(exc, ApiError) and exc.status_code in (404, 405):
                await routes.judge(spec.name, kwargs, exc, self._probe)
            return CallResult(False, error=exc)
        recorder.ok(
            scope,
            invocation,
            kwargs if created is None else created.arguments(kwargs),
            result,
            start_s=start_s,
            latency_start_s=latency_start_s,
            end_s=clock(),
            expected_interval_us=expected_us,
        )
        return CallResult(True, result)

    async def _stream(
        self,
        scope: OperationScope,
        invocation: Invocation,
        spec: OperationSpec,
        method: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: Mapping[str, Any],
        start_s: float,
        latency_start_s: float,
        expected_us: int,
        client: LangGraphClient,
    ) -> CallResult:
        recorder = self.ctx.recorder
        clock = recorder.clock
        to_ns = recorder.history.to_ns
        summary = StreamSummary(keep_events=self.ctx.keep_stream_events)
        metadata_s: float | None = None
        first_s: float | None = None
        previous_s: float | None = None
        created: _CreatedRun | None = None
        if spec.creates_run:
            created = _CreatedRun()
            stream = method(*args, on_run_created=created, **kwargs)
        else:
            stream = method(*args, **kwargs)
        resumable = self._resumable(spec, stream, kwargs, options, client)
        if resumable is not None:
            stream = resumable
        first_token_s: float | None = None
        token_s: float | None = None
        try:
            async with stream:
                async for part in stream:
                    now_s = clock()
                    was_metadata = summary.metadata_ns is None and part.event == "metadata"
                    tokens_before = summary.reply_chunks
                    summary.add(part.event, part.data, to_ns(now_s))
                    del part  # not held while the stream waits for its next event
                    if was_metadata and summary.metadata_ns is not None:
                        metadata_s = now_s
                        continue
                    if summary.reply_chunks != tokens_before:
                        # A token of a chat reply: time to first token, then between tokens.
                        if token_s is None:
                            first_token_s = now_s
                        else:
                            scope.aux("itl").record(token_s, now_s)
                        token_s = now_s
                    if first_s is None:
                        first_s = now_s
                    elif previous_s is not None:
                        scope.record_gap(previous_s, now_s)
                    previous_s = now_s
        except BaseException:
            if resumable is not None and resumable.reconnects:
                recorder.stream_reconnects(scope, resumable.reconnects)
            raise
        value = recorder.stream_ok(
            scope,
            invocation,
            kwargs if created is None else created.arguments(kwargs),
            summary,
            start_s=start_s,
            latency_start_s=latency_start_s,
            end_s=clock(),
            metadata_s=metadata_s,
            first_event_s=first_s,
            first_token_s=first_token_s,
            expected_interval_us=expected_us,
            reconnects=resumable.reconnects if resumable is not None else 0,
        )
        return CallResult(True, value)

    async def _probe(self, path: str) -> int | None:
        """``OPTIONS path``: the status it answered, None when none came (see
        :class:`~lgbench.engine.RouteSupport`)."""
        try:
            await self.ctx.client_of(self.user).http.request_json("OPTIONS", path)
        except ApiError as exc:
            return exc.status_code
        except ClientError:
            return None
        return 200

    def _resumable(
        self,
        spec: OperationSpec,
        stream: Any,
        kwargs: Mapping[str, Any],
        options: Mapping[str, Any],
        client: LangGraphClient,
    ) -> ResumableStream | None:
        """``stream`` made to reconnect (through ``client``: as the same user), when the
        step's run can be resumed (module docstring)."""
        attempts: int | None = options.get("reconnect")
        if attempts == 0 or not spec.can_resume:
            return None
        runs = client.runs
        if spec.creates_run:
            # The run's own stream: joined again by the run id its answer's header gave.
            thread_id = kwargs.get("thread_id")
            if not kwargs.get("stream_resumable") or not thread_id:
                return None  # no event ids, or a stateless run, which cannot be joined
            return ResumableStream(
                runs,
                stream,
                thread_id,
                max_reconnects=attempts,
                cancel_on_disconnect=kwargs.get("on_disconnect") == "cancel",
            )
        return ResumableStream(
            runs,
            stream,
            kwargs["thread_id"],
            kwargs["run_id"],
            max_reconnects=attempts,
            cancel_on_disconnect=bool(kwargs.get("cancel_on_disconnect")),
        )


def _positional(spec: OperationSpec, args: Sequence[Any]) -> dict[str, Any]:
    """The positional-only arguments of a call of ``spec``, by name."""
    names = [name for name, param in spec.params.items() if param.kind == "positional_only"]
    return dict(zip(names, args, strict=False))


def _pauses_after(steps: Sequence[StepConfig], position: int, calls_left: int) -> float:
    """The think times and sleeps an iteration would still take after a call of
    ``steps[position]`` with ``calls_left`` more calls of it to go."""
    current = steps[position]
    assert isinstance(current, OperationStepConfig)
    total_s = current.think_time_s * (calls_left + 1)
    for step in steps[position + 1 :]:
        if isinstance(step, SleepStepConfig):
            total_s += step.duration_s
        elif isinstance(step, OperationStepConfig):
            total_s += step.think_time_s * step.repeat
    return total_s


def _variables(value: Any) -> frozenset[str]:
    """The saved variables the templates in ``value`` (at any depth) read."""
    if isinstance(value, str):
        if "$" not in value:
            return frozenset()
        try:
            return parse_template(value).variables()
        except TemplateError:
            return frozenset()  # reported when the step renders
    if isinstance(value, Mapping):
        return frozenset().union(*(_variables(item) for item in value.values()))
    if isinstance(value, list | tuple):
        return frozenset().union(*(_variables(item) for item in value))
    return frozenset()
