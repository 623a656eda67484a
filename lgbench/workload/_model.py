"""The workload model: frozen, validated configs built from a TOML file.

::

    Workload(name, path, target, defaults, scenarios, thresholds, faults, expected_errors)
    ├── TargetConfig(url, api_key_env, headers, secret_headers, timeouts, transport, embedded,
    │                auth)
    │   ├── TimeoutsConfig(connect_s, read_s, total_s)
    │   ├── EmbeddedConfig(port, n_jobs_per_worker, log, auth)
    │   └── AuthConfig(tokens_env, tokens_file, users, vus_per_user, header, scheme,
    │                  policy, owner_key)
    ├── DefaultsConfig(seed, think_time_s, graceful_stop_s, assistant, tags,
    │                  keep_stream_events)
    ├── ScenarioConfig(name, executor, tags, steps, on_error)         sorted by (start, name)
    │   └── steps: OperationStepConfig(op, params, save, repeat, think_time_s, on_error)
    │            | SleepStepConfig(duration_s)
    ├── ThresholdSpec(expression_key, condition_text, location, window_s,
    │                 abort_on_fail, abort_delay_s)
    ├── FaultSpec (lgbench.faults)                                       sorted by (at, name)
    └── ExpectedErrors(operation, statuses, kinds)                       sorted by operation

Defaults are already applied: each scenario's tags include ``[defaults] tags``,
each step's ``think_time_s`` and each run step's ``assistant_id`` fall back to
``[defaults]``, each executor's ``graceful_stop_s`` too. Step parameters use the
SDK's names (``thread_id``, never the ``thread`` alias) and keep their templates
(``"$thread"``) for :func:`~lgbench.workload.render` at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

from lgbench._toml import Position
from lgbench.faults import FaultSpec
from lgbench.operations import OPERATIONS, OperationSpec
from lgbench.workload._executors import ExecutorConfig

__all__ = [
    "AUTH_POLICIES",
    "ERROR_KINDS",
    "ON_ERROR",
    "AsUser",
    "AuthConfig",
    "AuthPolicy",
    "DefaultsConfig",
    "EmbeddedConfig",
    "ExpectedErrors",
    "OnError",
    "OperationStepConfig",
    "ScenarioConfig",
    "SleepStepConfig",
    "StepConfig",
    "TargetConfig",
    "ThresholdSpec",
    "TimeoutsConfig",
    "Transport",
    "Workload",
]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


#: What an iteration does after a failed operation: end there, or go on with the next steps.
OnError: TypeAlias = Literal["stop", "continue"]
#: The values of ``on_error``.
ON_ERROR: tuple[OnError, ...] = ("stop", "continue")

#: Who may read a user's resources: their owner only, or every user (writes stay the owner's).
AuthPolicy: TypeAlias = Literal["owner-only", "shared"]
#: The values of ``[target.auth] policy``.
AUTH_POLICIES: tuple[AuthPolicy, ...] = ("owner-only", "shared")
#: A step's ``as_user``: the VU's own user (the default), or another one the engine picks.
AsUser: TypeAlias = Literal["self", "other"]

#: The HTTP client lgbench drives the target with.
Transport: TypeAlias = Literal["fast", "httpx"]


@dataclass(frozen=True)
class TimeoutsConfig:
    """Per-request timeouts in seconds; ``total_s`` None means no overall limit.

    ``read_s`` bounds the wait for each chunk of a response, so long streams and
    waits that send keep-alives are not cut short by it.
    """

    connect_s: float = 10.0
    read_s: float = 60.0
    total_s: float | None = None


@dataclass(frozen=True)
class EmbeddedConfig:
    """Options of the embedded server (``url = "embedded"``).

    ``port`` 0 picks a free loopback port; ``n_jobs_per_worker`` None keeps the
    server's default; ``log`` is the server's log file (None: in the run folder); ``auth``
    runs it with lgbench's bundled Auth handlers (owner-only access for fixture tokens).
    """

    port: int = 0
    n_jobs_per_worker: int | None = None
    log: str | None = None
    auth: bool = False


@dataclass(frozen=True)
class AuthConfig:
    """Who the virtual users are (``[target.auth]``): one token per user, from exactly one
    source, never from the file itself.

    ``tokens_env`` names an environment variable holding a JSON list of tokens;
    ``tokens_file`` a file of tokens, one a line; ``users`` asks lgbench to mint that many
    fixture tokens for the embedded server with auth. User ``k`` (from 1) is labelled
    ``user-k``: only labels ever reach the history and the reports. VUs map to users round
    robin (``vus_per_user`` None) or ``vus_per_user`` consecutive VUs per user. Tokens go in
    ``header``: ``authorization`` as ``<scheme> <token>``, any other header as the bare token.
    ``policy`` is what the checker holds the deployment to; ``owner_key`` the metadata key the
    deployment stamps its owner's identity in (read back for ``wrong_owner``).
    """

    tokens_env: str | None = None
    tokens_file: str | None = None
    users: int | None = None
    vus_per_user: int | None = None
    header: str = "authorization"
    scheme: str = "Bearer"
    policy: AuthPolicy = "owner-only"
    owner_key: str = "owner"

    @property
    def source(self) -> str:
        """The source's key, as written in the file (for error messages)."""
        if self.tokens_env is not None:
            return "tokens_env"
        if self.tokens_file is not None:
            return "tokens_file"
        return "users"


@dataclass(frozen=True)
class TargetConfig:
    """The server under test.

    ``url`` is ``"embedded"`` (start lgbench's own server) or an http(s) URL.
    ``api_key_env`` names the environment variable holding the API key: the key is
    never in the file, and no ambient key is sent unless a workload opts in.
    ``secret_headers`` names headers (lower case) whose values are hidden like credentials,
    beyond those named like one (docs/security.md).
    """

    url: str = "embedded"
    api_key_env: str | None = None
    headers: Mapping[str, str] = field(default_factory=_empty)
    secret_headers: tuple[str, ...] = ()
    timeouts: TimeoutsConfig = TimeoutsConfig()
    transport: Transport = "fast"
    embedded: EmbeddedConfig = EmbeddedConfig()
    auth: AuthConfig | None = None

    @property
    def is_embedded(self) -> bool:
        """True when lgbench starts the embedded server itself."""
        return self.url == "embedded"


@dataclass(frozen=True)
class DefaultsConfig:
    """Workload-wide defaults: the random seed (None: chosen at run time and recorded),
    think time after each step, graceful stop of each scenario, default assistant,
    tags added to every scenario, and whether the history keeps every stream event
    (otherwise each stream is summarised)."""

    seed: int | None = None
    think_time_s: float = 0.0
    graceful_stop_s: float = 30.0
    assistant: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)
    keep_stream_events: bool = False


@dataclass(frozen=True)
class OperationStepConfig:
    """One call of a LangGraph client operation (``op``, e.g. ``"runs.wait"``).

    ``params`` are keyed by the SDK's parameter names and may hold templates;
    ``save`` names the variable the result is stored in; the call is made ``repeat``
    times, each followed by ``think_time_s`` of pause. ``on_error`` (None: the scenario's)
    says whether the iteration goes on after a failed call of this step. With ``turns``,
    the ``repeat`` calls are the turns of one conversation: each is recorded under the tag
    ``turn=<k>`` (1 to ``repeat``), so latency per turn shows how it grows. With
    ``as_user = "other"`` the calls are made as a user other than the VU's own, picked by
    the engine: a cross-tenant probe of the VU's own resources (``[target.auth]``).
    """

    op: str
    params: Mapping[str, Any] = field(default_factory=_empty)
    save: str | None = None
    repeat: int = 1
    think_time_s: float = 0.0
    on_error: OnError | None = None
    turns: bool = False
    as_user: AsUser = "self"

    @property
    def spec(self) -> OperationSpec:
        """The operation's entry in :data:`~lgbench.workload.OPERATIONS`."""
        return OPERATIONS[self.op]


#: The tag a step with ``turns`` records each call under (``turn=1`` ... ``turn=<repeat>``).
TURN_TAG: Final = "turn"
#: Turns beyond this many are not offered as threshold selectors (a bound, not a rule).
_MAX_TURN_TAGS: Final = 1000


def turn_tags(repeat: int) -> set[tuple[str, str]]:
    """The ``(name, value)`` tags the calls of a step with ``turns`` and ``repeat`` carry."""
    return {(TURN_TAG, str(k)) for k in range(1, min(repeat, _MAX_TURN_TAGS) + 1)}


#: The tag every operation of a run with ``[target.auth]`` carries: ``user=user-<k>``.
USER_TAG: Final = "user"
#: Users beyond this many are not offered as threshold selectors (a bound, not a rule).
_MAX_USER_TAGS: Final = 1000


def user_tags(users: int | None) -> set[tuple[str, str]]:
    """The ``(name, value)`` tags the operations of ``users`` users carry (None: a count
    known only at run time, from a token source: as many as the bound allows)."""
    count = _MAX_USER_TAGS if users is None else min(users, _MAX_USER_TAGS)
    return {(USER_TAG, f"user-{k}") for k in range(1, count + 1)}


@dataclass(frozen=True)
class SleepStepConfig:
    """A pause of ``duration_s`` seconds (``{ sleep = "500ms" }``)."""

    duration_s: float


#: A step of a scenario.
StepConfig: TypeAlias = OperationStepConfig | SleepStepConfig


@dataclass(frozen=True)
class ScenarioConfig:
    """A named scenario: how it schedules iterations, and the steps of one iteration.

    Burst scenarios have no steps (their executor config says what to run). ``on_error``:
    what an iteration does after a failed operation, unless the step says otherwise.
    """

    name: str
    executor: ExecutorConfig
    tags: Mapping[str, str] = field(default_factory=_empty)
    steps: tuple[StepConfig, ...] = ()
    on_error: OnError = "stop"

    @property
    def executor_name(self) -> str:
        """The executor's TOML name, e.g. ``"constant-vus"``."""
        return self.executor.TOML_NAME

    @property
    def start_time_s(self) -> float:
        """Seconds after the start of the run when this scenario begins."""
        return self.executor.start_time_s

    @property
    def graceful_stop_s(self) -> float:
        """Seconds iterations in flight may take to finish once the scenario's time is up."""
        return self.executor.graceful_stop_s

    def describe(self) -> str:
        """``"chat: constant-vus, 50 VUs for 1m0s"``."""
        return f"{self.name}: {self.executor_name}, {self.executor.describe()}"

    def max_vus(self) -> int:
        """The most virtual users this scenario may run at once."""
        return self.executor.max_vus()


@dataclass(frozen=True)
class ThresholdSpec:
    """A threshold of the file: ``"runs.wait.latency.p99" = "< 2s"``, checked when loaded.

    ``expression_key`` is the key as written; ``condition_text`` the comparison alone, in
    canonical form (``"< 2s"``); ``window_s`` the window from either form (``"< 2s in every
    1m"`` or ``{ condition = "< 2s", window = "1m" }``), None for the whole run;
    ``abort_on_fail`` / ``abort_delay_s`` stop the run early. ``location`` is where the
    condition is written (not part of equality). :func:`~lgbench.workload.workload_thresholds`
    turns these into thresholds :mod:`lgbench.thresholds` can evaluate.
    """

    expression_key: str
    condition_text: str
    location: Position = field(default=Position(0, 0), compare=False)
    window_s: float | None = None
    abort_on_fail: bool = False
    abort_delay_s: float = 0.0


#: The error kinds of the summary's ``errors_by_kind``, usable in ``[expected_errors]``;
#: ``cancelled`` only so that older workloads still load (interrupted operations are no
#: errors now, so it covers nothing).
ERROR_KINDS: tuple[str, ...] = ("http", "timeout", "transport", "run", "cancelled", "other")


@dataclass(frozen=True)
class ExpectedErrors:
    """Errors an operation is expected to meet (``[expected_errors]``): HTTP ``statuses``
    and whole error ``kinds`` (``http`` is every status). An operation whose every error is
    expected may fail every time without failing the run."""

    operation: str
    statuses: frozenset[int] = frozenset()
    kinds: frozenset[str] = frozenset()

    def covers(self, kind: str, status: int | None) -> bool:
        """Whether an error of ``kind`` (with its HTTP ``status``) is expected."""
        return kind in self.kinds or (kind == "http" and status in self.statuses)

    def describe(self) -> str:
        """``"404, 409, timeout"``: the statuses, then the kinds."""
        return ", ".join([str(s) for s in sorted(self.statuses)] + sorted(self.kinds))


@dataclass(frozen=True)
class Workload:
    """A parsed, valid workload. ``path`` is the file it came from, as given."""

    name: str
    path: str
    target: TargetConfig = TargetConfig()
    defaults: DefaultsConfig = DefaultsConfig()
    scenarios: tuple[ScenarioConfig, ...] = ()
    thresholds: tuple[ThresholdSpec, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    #: Read every thread the load created back after it (``audit = false`` turns it off).
    audit: bool = True
    expected_errors: tuple[ExpectedErrors, ...] = ()

    def expected(self, operation: str) -> ExpectedErrors | None:
        """What ``[expected_errors]`` says of ``operation`` (None: nothing is expected)."""
        for entry in self.expected_errors:
            if entry.operation == operation:
                return entry
        return None

    def scenario(self, name: str) -> ScenarioConfig:
        """The scenario called ``name``; raises :class:`KeyError` if there is none."""
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        raise KeyError(name)

    def max_vus(self) -> int:
        """VUs needed if every scenario peaked at once (an upper bound)."""
        return sum(scenario.max_vus() for scenario in self.scenarios)

    def total_duration_s(self) -> float:
        """When the last scenario may end, graceful stops included, from the run's start."""
        return max(
            (s.start_time_s + s.executor.total_duration_s() for s in self.scenarios), default=0.0
        )
