"""Executor configs: how each scenario schedules its iterations (k6's executors).

One frozen config class per executor, registered by its TOML name::

    constant-vus           ConstantVusConfig           vus, duration
    ramping-vus            RampingVusConfig            start_vus, stages, graceful_ramp_down
    per-vu-iterations      PerVuIterationsConfig       vus, iterations, max_duration
    shared-iterations      SharedIterationsConfig      vus, iterations, max_duration
    constant-arrival-rate  ConstantArrivalRateConfig   rate, time_unit, duration,
                                                       pre_allocated_vus, max_vus
    ramping-arrival-rate   RampingArrivalRateConfig    start_rate, time_unit, stages,
                                                       pre_allocated_vus, max_vus
    burst                  BurstConfig                 threads, burst, strategy, assistant,
                                                       input, stagger, max_duration,
                                                       observe_interval

Every config also carries the base options ``start_time`` and ``graceful_stop``.
Parsing is two-step: the scenario's ``executor`` picks the class from
:data:`EXECUTORS`, then :meth:`ExecutorConfig.from_options` reads that class's
:attr:`~ExecutorConfig.OPTIONS`. :meth:`ExecutorConfig.validate` returns every
problem (base checks first, then the executor's own), each with the key it concerns,
so that the parser can point at the line and column. :meth:`~ExecutorConfig.describe`
gives one line such as ``"50 VUs for 1m0s"``, and :meth:`~ExecutorConfig.max_vus` the
number of virtual users the scenario may need at once.

Registering two classes under one name is a programming error (:class:`ValueError`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar, Self, TypeVar

from lgbench._toml import (
    DURATION_FORMS,
    DurationError,
    KeyPath,
    did_you_mean,
    format_duration,
    one_of,
    parse_duration,
    quote,
    toml_type,
)
from lgbench.operations import MULTITASK_STRATEGIES

__all__ = [
    "EXECUTORS",
    "MAX_BURST",
    "MAX_ITERATIONS",
    "MAX_RATE",
    "MAX_VUS",
    "BurstConfig",
    "ConfigProblem",
    "ConstantArrivalRateConfig",
    "ConstantVusConfig",
    "ExecutorConfig",
    "OptionSpec",
    "OptionType",
    "PerVuIterationsConfig",
    "RampingArrivalRateConfig",
    "RampingVusConfig",
    "SharedIterationsConfig",
    "StageConfig",
    "register_executor",
]


@dataclass(frozen=True)
class ConfigProblem:
    """One problem of an executor config; ``key`` is relative to the scenario table."""

    key: KeyPath
    message: str
    expected: str = ""
    at_key: bool = False


class OptionType(enum.Enum):
    """The TOML shape of an executor option; the value names it in error messages."""

    INTEGER = "an integer"
    NUMBER = "a number"
    DURATION = DURATION_FORMS
    VU_STAGES = 'an array of stages like { target = 10, duration = "30s" }'
    RATE_STAGES = 'an array of stages like { target = 20, duration = "30s" }'
    STRATEGY = one_of(MULTITASK_STRATEGIES)
    STRING = "a string"
    TABLE = "a table"


@dataclass(frozen=True)
class OptionSpec:
    """An executor option: its TOML type, whether it must be given, its field name."""

    type: OptionType
    field: str
    required: bool = False


@dataclass(frozen=True)
class StageConfig:
    """One stage of a ramp: reach ``target`` (VUs, or iterations per time unit) linearly
    over ``duration_s`` seconds."""

    target: float
    duration_s: float


_PLACEHOLDERS: Mapping[OptionType, Any] = {
    OptionType.INTEGER: 1,
    OptionType.NUMBER: 1,
    OptionType.DURATION: 1.0,
    OptionType.VU_STAGES: (StageConfig(1, 1.0),),
    OptionType.RATE_STAGES: (StageConfig(1, 1.0),),
    OptionType.STRATEGY: "enqueue",
    OptionType.STRING: "placeholder",
    OptionType.TABLE: MappingProxyType({}),
}
_STAGE_KEYS = ("target", "duration")

#: The most VUs (or threads) one scenario may ask for.
MAX_VUS = 1_000_000
#: The highest arrival rate, in iterations per time unit.
MAX_RATE = 1_000_000_000
#: The most iterations one scenario may ask for.
MAX_ITERATIONS = 10**12
#: The most runs of one burst.
MAX_BURST = 10_000


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


def _plural(count: float, word: str) -> str:
    return f"{_number(count)} {word}{'' if count == 1 else 's'}"


def _number(value: float) -> str:
    if isinstance(value, int) or value == int(value):
        return str(int(value))
    return repr(value)


def _is_nonnegative(value: float) -> bool:
    return value >= 0 and not math.isinf(value)


def _is_positive(value: float) -> bool:
    return value > 0 and not math.isinf(value)


# -- reading options -------------------------------------------------------------------


def _read_integer(raw: Any, key: KeyPath, problems: list[ConfigProblem]) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    problems.append(
        ConfigProblem(key, f"{key[-1]} must be an integer, not {toml_type(raw)}", "an integer")
    )
    return None


def _read_number(raw: Any, key: KeyPath, problems: list[ConfigProblem]) -> float | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return raw
    problems.append(
        ConfigProblem(key, f"{key[-1]} must be a finite number, not {toml_type(raw)}", "a number")
    )
    return None


def _read_duration(raw: Any, key: KeyPath, problems: list[ConfigProblem]) -> float | None:
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        try:
            return parse_duration(raw)
        except DurationError as error:
            problems.append(ConfigProblem(key, f"{key[-1]}: {error.problem}", error.expected))
            return None
    problems.append(
        ConfigProblem(key, f"{key[-1]} must be a duration, not {toml_type(raw)}", DURATION_FORMS)
    )
    return None


def _read_stages(
    raw: Any, key: KeyPath, problems: list[ConfigProblem], *, rates: bool
) -> tuple[StageConfig, ...] | None:
    expected = (OptionType.RATE_STAGES if rates else OptionType.VU_STAGES).value
    if not isinstance(raw, list):
        problems.append(
            ConfigProblem(key, f"stages must be an array, not {toml_type(raw)}", expected)
        )
        return None
    stages: list[StageConfig] = []
    failed = False
    for index, item in enumerate(raw):
        where = (*key, index)
        if not isinstance(item, dict):
            problems.append(
                ConfigProblem(where, f"a stage must be a table, not {toml_type(item)}", expected)
            )
            failed = True
            continue
        for name in item:
            if name not in _STAGE_KEYS:
                problems.append(
                    ConfigProblem(
                        (*where, name),
                        f"unknown key {quote(name)} in a stage{did_you_mean(name, _STAGE_KEYS)}",
                        "target and duration",
                        at_key=True,
                    )
                )
                failed = True
        missing = [name for name in _STAGE_KEYS if name not in item]
        if missing:
            problems.append(
                ConfigProblem(
                    where, f"stage {index + 1} is missing {' and '.join(missing)}", expected
                )
            )
            failed = True
            continue
        read = _read_number if rates else _read_integer
        target = read(item["target"], (*where, "target"), problems)
        duration_s = _read_duration(item["duration"], (*where, "duration"), problems)
        if target is None or duration_s is None:
            failed = True
            continue
        stages.append(StageConfig(target, duration_s))
    return None if failed else tuple(stages)


def _read_option(
    spec: OptionSpec, raw: Any, key: KeyPath, problems: list[ConfigProblem]
) -> Any | None:
    kind = spec.type
    if kind is OptionType.INTEGER:
        return _read_integer(raw, key, problems)
    if kind is OptionType.NUMBER:
        return _read_number(raw, key, problems)
    if kind is OptionType.DURATION:
        return _read_duration(raw, key, problems)
    if kind in (OptionType.VU_STAGES, OptionType.RATE_STAGES):
        return _read_stages(raw, key, problems, rates=kind is OptionType.RATE_STAGES)
    if kind is OptionType.TABLE:
        if isinstance(raw, dict):
            return MappingProxyType(raw)
        problems.append(
            ConfigProblem(key, f"{key[-1]} must be a table, not {toml_type(raw)}", kind.value)
        )
        return None
    if not isinstance(raw, str):
        problems.append(
            ConfigProblem(key, f"{key[-1]} must be a string, not {toml_type(raw)}", kind.value)
        )
        return None
    if kind is OptionType.STRATEGY and raw not in MULTITASK_STRATEGIES:
        problems.append(
            ConfigProblem(
                key,
                f"unknown strategy {quote(raw)}{did_you_mean(raw, MULTITASK_STRATEGIES)}",
                kind.value,
            )
        )
        return None
    return raw


# -- the base class and the registry ----------------------------------------------------

_REGISTRY: dict[str, type[ExecutorConfig]] = {}

#: Executor config classes by TOML name (read-only; add with :func:`register_executor`).
EXECUTORS: Mapping[str, type[ExecutorConfig]] = MappingProxyType(_REGISTRY)

_C = TypeVar("_C", bound="type[ExecutorConfig]")


def register_executor(cls: _C) -> _C:
    """Class decorator: make ``cls`` the config of executor ``cls.TOML_NAME``.

    Raises :class:`ValueError` if the name is empty or already taken: a programming
    error, never a user's.
    """
    name = cls.TOML_NAME
    if not name:
        raise ValueError(f"{cls.__name__} has no TOML_NAME")
    if name in _REGISTRY:
        raise ValueError(
            f"executor {name!r} is already registered by {_REGISTRY[name].__qualname__}"
        )
    _REGISTRY[name] = cls
    return cls


@dataclass(frozen=True, kw_only=True)
class ExecutorConfig:
    """Base of every executor config: when the scenario starts and how long it may drain.

    ``start_time_s`` is the scenario's offset from the start of the run;
    ``graceful_stop_s`` how long iterations in flight may finish once the scenario's
    time is up before they are cancelled.
    """

    TOML_NAME: ClassVar[str] = ""
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = MappingProxyType({})

    start_time_s: float = 0.0
    graceful_stop_s: float = 30.0

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        *,
        start_time_s: float = 0.0,
        graceful_stop_s: float = 30.0,
    ) -> tuple[Self, list[ConfigProblem]]:
        """Build the config from TOML ``options`` (only keys of :attr:`OPTIONS`).

        Returns the config and every problem: wrong types, missing required options,
        then :meth:`validate`'s findings about keys that were read correctly. When
        there are problems the config holds placeholders and must not be run.
        """
        problems: list[ConfigProblem] = []
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for name, spec in cls.OPTIONS.items():
            if name not in options:
                if spec.required:
                    problems.append(
                        ConfigProblem(
                            (name,),
                            f"executor {cls.TOML_NAME} needs {name}",
                            f"{name} = {_example(spec.type)}",
                        )
                    )
                    bad.add(name)
                    values[spec.field] = _PLACEHOLDERS[spec.type]
                continue
            value = _read_option(spec, options[name], (name,), problems)
            if value is None:
                bad.add(name)
                if spec.required:
                    values[spec.field] = _PLACEHOLDERS[spec.type]
                continue
            values[spec.field] = value
        values = cls._complete(values)
        config = cls(start_time_s=start_time_s, graceful_stop_s=graceful_stop_s, **values)
        problems.extend(problem for problem in config.validate() if str(problem.key[0]) not in bad)
        return config, problems

    @classmethod
    def _complete(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Fill defaults that depend on other options (field names in, field names out)."""
        return values

    def options(self) -> dict[str, Any]:
        """The TOML options of this config (durations as text), for writing it back."""
        by_field = {spec.field: (name, spec) for name, spec in self.OPTIONS.items()}
        result: dict[str, Any] = {}
        for item in fields(self):
            if item.name not in by_field:
                continue
            name, spec = by_field[item.name]
            value = getattr(self, item.name)
            if spec.type is OptionType.DURATION:
                value = format_duration(value)
            elif spec.type in (OptionType.VU_STAGES, OptionType.RATE_STAGES):
                value = [
                    {"target": stage.target, "duration": format_duration(stage.duration_s)}
                    for stage in value
                ]
            elif spec.type is OptionType.TABLE:
                value = dict(value)
            result[name] = value
        return result

    def validate(self) -> list[ConfigProblem]:
        """Every problem of this config: the base checks, then the executor's own."""
        problems: list[ConfigProblem] = []
        if not _is_nonnegative(self.start_time_s):
            problems.append(
                ConfigProblem(("start_time",), "start_time cannot be negative", DURATION_FORMS)
            )
        if not _is_nonnegative(self.graceful_stop_s):
            problems.append(
                ConfigProblem(
                    ("graceful_stop",), "graceful_stop cannot be negative", DURATION_FORMS
                )
            )
        problems.extend(self._own_problems())
        return problems

    def _own_problems(self) -> list[ConfigProblem]:
        return []

    def describe(self) -> str:
        """One line for humans: ``"50 VUs for 1m0s"``."""
        raise NotImplementedError

    def max_vus(self) -> int:
        """The most virtual users the scenario can need at once."""
        raise NotImplementedError

    def active_duration_s(self) -> float:
        """How long the scenario schedules work, in seconds (the cap, when iteration-based)."""
        raise NotImplementedError

    def total_duration_s(self) -> float:
        """The longest the scenario can last from its start, graceful stop included."""
        return self.active_duration_s() + self.graceful_stop_s


def _example(kind: OptionType) -> str:
    return {
        OptionType.INTEGER: "10",
        OptionType.NUMBER: "10",
        OptionType.DURATION: '"30s"',
        OptionType.VU_STAGES: '[{ target = 10, duration = "30s" }]',
        OptionType.RATE_STAGES: '[{ target = 20, duration = "30s" }]',
        OptionType.STRATEGY: '"interrupt"',
        OptionType.STRING: '"sleepy"',
        OptionType.TABLE: "{ seconds = 0.5 }",
    }[kind]


def _options(**specs: tuple[OptionType, str, bool]) -> Mapping[str, OptionSpec]:
    return MappingProxyType(
        {name: OptionSpec(kind, field, required) for name, (kind, field, required) in specs.items()}
    )


def _check(
    problems: list[ConfigProblem], ok: bool, key: KeyPath, message: str, expected: str
) -> None:
    if not ok:
        problems.append(ConfigProblem(key, message, expected))


def _check_count(
    problems: list[ConfigProblem], value: float, key: KeyPath, low: float, high: float
) -> None:
    """``value`` must lie in [low, high]; the message names the side it misses."""
    name = str(key[-1])
    expected = f"a number from {low} to {high}"
    if isinstance(value, int) and isinstance(low, int):
        expected = f"an integer from {low} to {high}"
    if not value >= low:
        problems.append(ConfigProblem(key, f"{name} must be at least {low}, not {value}", expected))
    elif not value <= high:
        problems.append(ConfigProblem(key, f"{name} must be at most {high}, not {value}", expected))


def _check_stages(
    problems: list[ConfigProblem], stages: tuple[StageConfig, ...], high: float
) -> None:
    if not stages:
        problems.append(
            ConfigProblem(
                ("stages",), "stages is empty", 'at least one { target = ..., duration = "..." }'
            )
        )
        return
    for index, stage in enumerate(stages):
        _check_count(problems, stage.target, ("stages", index, "target"), 0, high)
        _check(
            problems,
            _is_nonnegative(stage.duration_s),
            ("stages", index, "duration"),
            f"stage {index + 1} has a negative duration",
            DURATION_FORMS,
        )
    if not all(_is_nonnegative(stage.duration_s) for stage in stages):
        return
    total_s = sum(stage.duration_s for stage in stages)
    _check(
        problems,
        total_s > 0,
        ("stages",),
        "the stages last 0s in total",
        "at least one stage with a duration above 0s",
    )


def _check_arrival_vus(
    problems: list[ConfigProblem], pre_allocated_vus: int, max_vus_limit: int
) -> None:
    _check_count(problems, pre_allocated_vus, ("pre_allocated_vus",), 0, MAX_VUS)
    if max_vus_limit > MAX_VUS:
        _check_count(problems, max_vus_limit, ("max_vus",), 1, MAX_VUS)
        return
    _check(
        problems,
        max_vus_limit >= max(pre_allocated_vus, 1),
        ("max_vus",),
        f"max_vus ({max_vus_limit}) is less than pre_allocated_vus ({pre_allocated_vus})"
        if max_vus_limit < pre_allocated_vus
        else "max_vus must be at least 1",
        f"max_vus >= {max(pre_allocated_vus, 1)}",
    )


# -- the executors -----------------------------------------------------------------------


@register_executor
@dataclass(frozen=True, kw_only=True)
class ConstantVusConfig(ExecutorConfig):
    """A fixed number of VUs looping over the steps for a fixed duration (closed model)."""

    TOML_NAME: ClassVar[str] = "constant-vus"
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = _options(
        vus=(OptionType.INTEGER, "vus", True),
        duration=(OptionType.DURATION, "duration_s", True),
    )

    vus: int
    duration_s: float

    def _own_problems(self) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        _check_count(problems, self.vus, ("vus",), 1, MAX_VUS)
        _check(
            problems,
            _is_positive(self.duration_s),
            ("duration",),
            "duration must be more than 0s",
            DURATION_FORMS,
        )
        return problems

    def describe(self) -> str:
        return f"{_plural(self.vus, 'VU')} for {format_duration(self.duration_s)}"

    def max_vus(self) -> int:
        return self.vus

    def active_duration_s(self) -> float:
        return self.duration_s


@register_executor
@dataclass(frozen=True, kw_only=True)
class RampingVusConfig(ExecutorConfig):
    """VUs ramped linearly from ``start_vus`` through each stage's target (closed model).

    When a stage lowers the target, VUs beyond it finish their iteration within
    ``graceful_ramp_down_s`` before they are cancelled.
    """

    TOML_NAME: ClassVar[str] = "ramping-vus"
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = _options(
        start_vus=(OptionType.INTEGER, "start_vus", False),
        stages=(OptionType.VU_STAGES, "stages", True),
        graceful_ramp_down=(OptionType.DURATION, "graceful_ramp_down_s", False),
    )

    stages: tuple[StageConfig, ...]
    start_vus: int = 1
    graceful_ramp_down_s: float = 30.0

    def _own_problems(self) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        _check_count(problems, self.start_vus, ("start_vus",), 0, MAX_VUS)
        _check_stages(problems, self.stages, MAX_VUS)
        _check(
            problems,
            all(
                float(stage.target).is_integer()
                for stage in self.stages
                if math.isfinite(stage.target)
            ),
            ("stages",),
            "a stage target of VUs must be a whole number",
            "integers",
        )
        _check(
            problems,
            _is_nonnegative(self.graceful_ramp_down_s),
            ("graceful_ramp_down",),
            "graceful_ramp_down cannot be negative",
            DURATION_FORMS,
        )
        _check(
            problems,
            any(stage.target >= 1 for stage in self.stages) or self.start_vus >= 1,
            ("stages",),
            "start_vus and every stage target are 0, so no VU would ever run",
            "a stage target of at least 1",
        )
        return problems

    def describe(self) -> str:
        return (
            f"from {self.start_vus} up to {_plural(self.max_vus(), 'VU')} over "
            f"{format_duration(self.active_duration_s())} in {_plural(len(self.stages), 'stage')}"
        )

    def max_vus(self) -> int:
        finite = [stage.target for stage in self.stages if math.isfinite(stage.target)]
        return int(max([self.start_vus, *finite]))

    def active_duration_s(self) -> float:
        return sum(stage.duration_s for stage in self.stages)


def _check_iterations(
    problems: list[ConfigProblem], vus: int, iterations: int, max_duration_s: float
) -> None:
    _check_count(problems, vus, ("vus",), 1, MAX_VUS)
    _check_count(problems, iterations, ("iterations",), 1, MAX_ITERATIONS)
    _check(
        problems,
        _is_positive(max_duration_s),
        ("max_duration",),
        "max_duration must be more than 0s",
        DURATION_FORMS,
    )


@register_executor
@dataclass(frozen=True, kw_only=True)
class PerVuIterationsConfig(ExecutorConfig):
    """Each of ``vus`` VUs runs the steps ``iterations`` times, within ``max_duration_s``."""

    TOML_NAME: ClassVar[str] = "per-vu-iterations"
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = _options(
        vus=(OptionType.INTEGER, "vus", True),
        iterations=(OptionType.INTEGER, "iterations", True),
        max_duration=(OptionType.DURATION, "max_duration_s", False),
    )

    vus: int
    iterations: int
    max_duration_s: float = 600.0

    def _own_problems(self) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        _check_iterations(problems, self.vus, self.iterations, self.max_duration_s)
        return problems

    def describe(self) -> str:
        return (
            f"{_plural(self.iterations, 'iteration')} for each of {_plural(self.vus, 'VU')}"
            f" (max {format_duration(self.max_duration_s)})"
        )

    def max_vus(self) -> int:
        return self.vus

    def active_duration_s(self) -> float:
        return self.max_duration_s


@register_executor
@dataclass(frozen=True, kw_only=True)
class SharedIterationsConfig(ExecutorConfig):
    """``iterations`` in total, taken by whichever of ``vus`` VUs is free, within
    ``max_duration_s``."""

    TOML_NAME: ClassVar[str] = "shared-iterations"
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = _options(
        vus=(OptionType.INTEGER, "vus", True),
        iterations=(OptionType.INTEGER, "iterations", True),
        max_duration=(OptionType.DURATION, "max_duration_s", False),
    )

    vus: int
    iterations: int
    max_duration_s: float = 600.0

    def _own_problems(self) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        _check_iterations(problems, self.vus, self.iterations, self.max_duration_s)
        _check(
            problems,
            self.iterations >= self.vus or self.iterations < 1 or self.vus < 1,
            ("iterations",),
            f"iterations ({self.iterations}) is less than vus ({self.vus}):"
            " some VUs would have nothing to do",
            f"iterations >= {self.vus}",
        )
        return problems

    def describe(self) -> str:
        return (
            f"{_plural(self.iterations, 'iteration')} shared by {_plural(self.vus, 'VU')}"
            f" (max {format_duration(self.max_duration_s)})"
        )

    def max_vus(self) -> int:
        return self.vus

    def active_duration_s(self) -> float:
        return self.max_duration_s


def _default_vus(values: dict[str, Any], peak: float) -> dict[str, Any]:
    """pre_allocated_vus: the peak rate per second rounded up; max_vus: pre_allocated_vus."""
    time_unit_s = values.get("time_unit_s", 1.0)
    if "pre_allocated_vus" not in values:
        per_s = peak / time_unit_s if time_unit_s > 0 else peak
        values["pre_allocated_vus"] = max(1, math.ceil(min(per_s, 1e6)))
    if "max_vus_limit" not in values:
        values["max_vus_limit"] = values["pre_allocated_vus"]
    return values


def _rate_text(rate: float, time_unit_s: float) -> str:
    unit = "s" if time_unit_s == 1 else format_duration(time_unit_s)
    return f"{_number(rate)} iterations/{unit}"


@register_executor
@dataclass(frozen=True, kw_only=True)
class ConstantArrivalRateConfig(ExecutorConfig):
    """``rate`` iterations per ``time_unit_s`` started on schedule for ``duration_s``
    (open model), whatever the server's latency.

    VUs come from a pool of ``pre_allocated_vus`` that may grow to ``max_vus_limit``
    (TOML ``max_vus``); when none is free the iteration is dropped and counted, never
    queued. Defaults: ``pre_allocated_vus`` is the rate per second rounded up,
    ``max_vus`` equals ``pre_allocated_vus``.
    """

    TOML_NAME: ClassVar[str] = "constant-arrival-rate"
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = _options(
        rate=(OptionType.NUMBER, "rate", True),
        time_unit=(OptionType.DURATION, "time_unit_s", False),
        duration=(OptionType.DURATION, "duration_s", True),
        pre_allocated_vus=(OptionType.INTEGER, "pre_allocated_vus", False),
        max_vus=(OptionType.INTEGER, "max_vus_limit", False),
    )

    rate: float
    duration_s: float
    pre_allocated_vus: int
    max_vus_limit: int
    time_unit_s: float = 1.0

    @classmethod
    def _complete(cls, values: dict[str, Any]) -> dict[str, Any]:
        return _default_vus(values, float(values.get("rate", 1)))

    def _own_problems(self) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        if self.rate > MAX_RATE:
            _check_count(problems, self.rate, ("rate",), 0, MAX_RATE)
        else:
            _check(
                problems, _is_positive(self.rate), ("rate",), "rate must be above 0", "a number > 0"
            )
        _check(
            problems,
            _is_positive(self.time_unit_s),
            ("time_unit",),
            "time_unit must be more than 0s",
            DURATION_FORMS,
        )
        _check(
            problems,
            _is_positive(self.duration_s),
            ("duration",),
            "duration must be more than 0s",
            DURATION_FORMS,
        )
        _check_arrival_vus(problems, self.pre_allocated_vus, self.max_vus_limit)
        return problems

    def describe(self) -> str:
        return (
            f"{_rate_text(self.rate, self.time_unit_s)} for {format_duration(self.duration_s)}"
            f" (VUs: {self.pre_allocated_vus}-{self.max_vus_limit})"
        )

    def max_vus(self) -> int:
        return self.max_vus_limit

    def active_duration_s(self) -> float:
        return self.duration_s


@register_executor
@dataclass(frozen=True, kw_only=True)
class RampingArrivalRateConfig(ExecutorConfig):
    """The arrival rate ramped linearly from ``start_rate`` through each stage's target
    (iterations per ``time_unit_s``), open model; VUs as for constant-arrival-rate,
    with defaults from the peak rate."""

    TOML_NAME: ClassVar[str] = "ramping-arrival-rate"
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = _options(
        start_rate=(OptionType.NUMBER, "start_rate", False),
        time_unit=(OptionType.DURATION, "time_unit_s", False),
        stages=(OptionType.RATE_STAGES, "stages", True),
        pre_allocated_vus=(OptionType.INTEGER, "pre_allocated_vus", False),
        max_vus=(OptionType.INTEGER, "max_vus_limit", False),
    )

    stages: tuple[StageConfig, ...]
    pre_allocated_vus: int
    max_vus_limit: int
    start_rate: float = 0
    time_unit_s: float = 1.0

    @classmethod
    def _complete(cls, values: dict[str, Any]) -> dict[str, Any]:
        stages: tuple[StageConfig, ...] = values.get("stages", ())
        peak = max([float(values.get("start_rate", 0)), *(stage.target for stage in stages)])
        return _default_vus(values, peak)

    def _own_problems(self) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        _check_count(problems, self.start_rate, ("start_rate",), 0, MAX_RATE)
        _check(
            problems,
            _is_positive(self.time_unit_s),
            ("time_unit",),
            "time_unit must be more than 0s",
            DURATION_FORMS,
        )
        _check_stages(problems, self.stages, MAX_RATE)
        _check_arrival_vus(problems, self.pre_allocated_vus, self.max_vus_limit)
        return problems

    def peak_rate(self) -> float:
        """The highest rate of any stage (or the start), per time unit."""
        return max([self.start_rate, *(stage.target for stage in self.stages)])

    def describe(self) -> str:
        return (
            f"from {_number(self.start_rate)} up to"
            f" {_rate_text(self.peak_rate(), self.time_unit_s)} over"
            f" {format_duration(self.active_duration_s())} in"
            f" {_plural(len(self.stages), 'stage')}"
            f" (VUs: {self.pre_allocated_vus}-{self.max_vus_limit})"
        )

    def max_vus(self) -> int:
        return self.max_vus_limit

    def active_duration_s(self) -> float:
        return sum(stage.duration_s for stage in self.stages)


@register_executor
@dataclass(frozen=True, kw_only=True)
class BurstConfig(ExecutorConfig):
    """Double-texting: ``threads`` threads, each sent ``burst`` runs back to back.

    One VU per thread creates it, then starts ``burst`` runs of ``assistant_id``
    (TOML ``assistant``; default: ``[defaults] assistant``) with ``input``, each
    ``stagger_s`` after the previous, all with ``multitask_strategy = strategy``,
    and waits for them to settle within ``max_duration_s``, polling the runs' and the
    thread's statuses every ``observe_interval_s``. A burst scenario has no
    ``steps``: the checker judges what the strategy did to each thread.
    """

    TOML_NAME: ClassVar[str] = "burst"
    OPTIONS: ClassVar[Mapping[str, OptionSpec]] = _options(
        threads=(OptionType.INTEGER, "threads", True),
        burst=(OptionType.INTEGER, "burst", True),
        strategy=(OptionType.STRATEGY, "strategy", True),
        assistant=(OptionType.STRING, "assistant_id", True),
        input=(OptionType.TABLE, "input", False),
        stagger=(OptionType.DURATION, "stagger_s", False),
        max_duration=(OptionType.DURATION, "max_duration_s", False),
        observe_interval=(OptionType.DURATION, "observe_interval_s", False),
    )

    threads: int
    burst: int
    strategy: str
    assistant_id: str
    input: Mapping[str, Any] = field(default_factory=_empty)
    stagger_s: float = 0.0
    max_duration_s: float = 600.0
    observe_interval_s: float = 0.2

    def _own_problems(self) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        _check_count(problems, self.threads, ("threads",), 1, MAX_VUS)
        _check_count(problems, self.burst, ("burst",), 1, MAX_BURST)
        _check(
            problems,
            self.strategy in MULTITASK_STRATEGIES,
            ("strategy",),
            f"unknown strategy {quote(self.strategy)}",
            OptionType.STRATEGY.value,
        )
        _check(
            problems,
            bool(self.assistant_id),
            ("assistant",),
            "assistant is empty",
            'an assistant id or graph id, e.g. "sleepy"',
        )
        _check(
            problems,
            _is_nonnegative(self.stagger_s),
            ("stagger",),
            "stagger cannot be negative",
            DURATION_FORMS,
        )
        _check(
            problems,
            _is_positive(self.max_duration_s),
            ("max_duration",),
            "max_duration must be more than 0s",
            DURATION_FORMS,
        )
        _check(
            problems,
            _is_positive(self.observe_interval_s),
            ("observe_interval",),
            "observe_interval must be more than 0s",
            DURATION_FORMS,
        )
        return problems

    def describe(self) -> str:
        stagger = f", {format_duration(self.stagger_s)} apart" if self.stagger_s else ""
        return (
            f"{_plural(self.threads, 'thread')} x bursts of {_plural(self.burst, 'run')}"
            f"{stagger} ({self.strategy}) on {self.assistant_id}"
        )

    def max_vus(self) -> int:
        return self.threads

    def active_duration_s(self) -> float:
        return self.max_duration_s
