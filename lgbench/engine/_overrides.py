"""Command-line overrides (``--duration``, ``--vus``, ``--rate``, ``--iterations``) applied to a
workload, executor by executor. Pure: a new :class:`~lgbench.workload.Workload` comes back.

How each override applies (an executor an override does not mention keeps its value):

==========================  ==================================================================
executor                    what changes
==========================  ==================================================================
every scenario              ``--duration D``: ``start_time`` is capped at D;
                            ``--graceful-stop G``: ``graceful_stop = G`` (and a ramping-vus
                            ``graceful_ramp_down`` is capped at G)
constant-vus                ``--duration``: ``duration`` capped at D; ``--vus N``: ``vus = N``
ramping-vus                 ``--duration``: the stages are cut at D (the stage in progress
                            ends at D, its target interpolated, rounded up); ``--vus N``: every
                            VU count is scaled so the peak is N (a non-zero count stays >= 1)
per-vu-iterations           ``--duration``: ``max_duration`` capped; ``--vus``: ``vus = N``;
                            ``--iterations I``: ``iterations = I`` (per VU)
shared-iterations           ``--duration``: ``max_duration`` capped; ``--vus``: ``vus = N``;
                            ``--iterations I``: ``iterations = max(I, vus)`` (in all)
constant-arrival-rate       ``--duration``: ``duration`` capped; ``--rate R``: ``R``
                            iterations per second; ``--vus N``: ``max_vus = N`` and
                            ``pre_allocated_vus`` at most N
ramping-arrival-rate        ``--duration``: stages cut at D as for ramping-vus (rates not
                            rounded); ``--rate R``: every rate scaled so the peak is R per
                            second; ``--vus N``: as for constant-arrival-rate
burst                       ``--vus N``: ``threads = N``; its ``max_duration`` (the deadline
                            for the runs to settle) is not a duration of load and is kept
==========================  ==================================================================

Invalid values (``--vus 0``, a negative duration, a result the executor refuses) raise
:class:`~lgbench.errors.UsageError` naming the flag.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, final

from lgbench.errors import UsageError
from lgbench.workload import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    ExecutorConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    ScenarioConfig,
    SharedIterationsConfig,
    StageConfig,
    Workload,
    format_duration,
)

__all__ = ["Overrides", "apply_overrides"]


@final
@dataclass(frozen=True, slots=True)
class Overrides:
    """What the command line overrides; ``None`` leaves the workload's value."""

    duration_s: float | None = None
    vus: int | None = None
    rate_per_s: float | None = None
    iterations: int | None = None
    graceful_stop_s: float | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.graceful_stop_s is not None and not (
            self.graceful_stop_s >= 0 and math.isfinite(self.graceful_stop_s)
        ):
            problems.append(f"--graceful-stop cannot be negative, not {self.graceful_stop_s!r}")
        if self.duration_s is not None and not (
            self.duration_s > 0 and math.isfinite(self.duration_s)
        ):
            problems.append(f"--duration must be more than 0s, not {self.duration_s!r}")
        if self.vus is not None and self.vus < 1:
            problems.append(f"--vus must be at least 1, not {self.vus}")
        if self.rate_per_s is not None and not (
            self.rate_per_s > 0 and math.isfinite(self.rate_per_s)
        ):
            problems.append(f"--rate must be above 0, not {self.rate_per_s!r}")
        if self.iterations is not None and self.iterations < 1:
            problems.append(f"--iterations must be at least 1, not {self.iterations}")
        if problems:
            raise UsageError("; ".join(problems))

    @property
    def empty(self) -> bool:
        """True when nothing is overridden."""
        return self == Overrides()

    def describe(self) -> str:
        """``--duration 3s --vus 2``, as typed (empty when nothing is overridden)."""
        parts: list[str] = []
        if self.duration_s is not None:
            parts.append(f"--duration {format_duration(self.duration_s)}")
        if self.vus is not None:
            parts.append(f"--vus {self.vus}")
        if self.rate_per_s is not None:
            parts.append(f"--rate {self.rate_per_s:g}")
        if self.iterations is not None:
            parts.append(f"--iterations {self.iterations}")
        if self.graceful_stop_s is not None:
            parts.append(f"--graceful-stop {format_duration(self.graceful_stop_s)}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The overrides given, for the summary."""
        return {
            name: value
            for name, value in (
                ("duration_s", self.duration_s),
                ("vus", self.vus),
                ("rate_per_s", self.rate_per_s),
                ("iterations", self.iterations),
                ("graceful_stop_s", self.graceful_stop_s),
            )
            if value is not None
        }


def _cut_stages(
    start: float, stages: tuple[StageConfig, ...], limit_s: float, *, whole: bool
) -> tuple[StageConfig, ...]:
    """``stages`` up to ``limit_s`` seconds; the stage in progress ends there, interpolated."""
    kept: list[StageConfig] = []
    elapsed_s = 0.0
    level = start
    for stage in stages:
        if elapsed_s >= limit_s:
            break
        if elapsed_s + stage.duration_s <= limit_s:
            kept.append(stage)
        else:
            part_s = limit_s - elapsed_s
            fraction = part_s / stage.duration_s
            target = level + (stage.target - level) * fraction
            if whole:
                target = math.ceil(target - 1e-9)
            kept.append(StageConfig(target, part_s))
        elapsed_s += stage.duration_s
        level = stage.target
    return tuple(kept)


def _scaled_count(value: float, factor: float) -> int:
    if value <= 0:
        return 0
    return max(1, round(value * factor))


def _ramping_vus(config: RampingVusConfig, o: Overrides) -> RampingVusConfig:
    stages = config.stages
    start_vus = config.start_vus
    if o.duration_s is not None:
        stages = _cut_stages(start_vus, stages, o.duration_s, whole=True)
    if o.vus is not None:
        peak = max([start_vus, *(stage.target for stage in stages)])
        factor = o.vus / peak if peak > 0 else 1.0
        start_vus = _scaled_count(start_vus, factor)
        stages = tuple(
            StageConfig(_scaled_count(stage.target, factor), stage.duration_s) for stage in stages
        )
    return dataclasses.replace(config, stages=stages, start_vus=start_vus)


def _arrival_vus(config: Any, o: Overrides) -> dict[str, Any]:
    if o.vus is None:
        return {}
    return {"max_vus_limit": o.vus, "pre_allocated_vus": min(config.pre_allocated_vus, o.vus)}


def _ramping_rate(config: RampingArrivalRateConfig, o: Overrides) -> RampingArrivalRateConfig:
    stages = config.stages
    start_rate = config.start_rate
    if o.duration_s is not None:
        stages = _cut_stages(start_rate, stages, o.duration_s, whole=False)
    if o.rate_per_s is not None:
        peak_per_s = max([start_rate, *(stage.target for stage in stages)]) / config.time_unit_s
        factor = o.rate_per_s / peak_per_s if peak_per_s > 0 else 1.0
        start_rate *= factor
        stages = tuple(StageConfig(stage.target * factor, stage.duration_s) for stage in stages)
    return dataclasses.replace(
        config, stages=stages, start_rate=start_rate, **_arrival_vus(config, o)
    )


def _capped(value: float, cap: float | None) -> float:
    return value if cap is None else min(value, cap)


def _executor(config: ExecutorConfig, o: Overrides) -> ExecutorConfig:
    base: dict[str, Any] = {"start_time_s": _capped(config.start_time_s, o.duration_s)}
    if o.graceful_stop_s is not None:
        base["graceful_stop_s"] = o.graceful_stop_s
    if isinstance(config, ConstantVusConfig):
        return dataclasses.replace(
            config,
            duration_s=_capped(config.duration_s, o.duration_s),
            vus=config.vus if o.vus is None else o.vus,
            **base,
        )
    if isinstance(config, RampingVusConfig):
        ramp_down_s = _capped(config.graceful_ramp_down_s, o.graceful_stop_s)
        return dataclasses.replace(
            _ramping_vus(config, o), graceful_ramp_down_s=ramp_down_s, **base
        )
    if isinstance(config, PerVuIterationsConfig):
        return dataclasses.replace(
            config,
            vus=config.vus if o.vus is None else o.vus,
            iterations=config.iterations if o.iterations is None else o.iterations,
            max_duration_s=_capped(config.max_duration_s, o.duration_s),
            **base,
        )
    if isinstance(config, SharedIterationsConfig):
        vus = config.vus if o.vus is None else o.vus
        iterations = config.iterations if o.iterations is None else o.iterations
        return dataclasses.replace(
            config,
            vus=vus,
            iterations=max(iterations, vus),
            max_duration_s=_capped(config.max_duration_s, o.duration_s),
            **base,
        )
    if isinstance(config, ConstantArrivalRateConfig):
        rate: dict[str, Any] = {}
        if o.rate_per_s is not None:
            rate = {"rate": o.rate_per_s, "time_unit_s": 1.0}
        return dataclasses.replace(
            config,
            duration_s=_capped(config.duration_s, o.duration_s),
            **rate,
            **_arrival_vus(config, o),
            **base,
        )
    if isinstance(config, RampingArrivalRateConfig):
        return dataclasses.replace(_ramping_rate(config, o), **base)
    if isinstance(config, BurstConfig):
        return dataclasses.replace(
            config, threads=config.threads if o.vus is None else o.vus, **base
        )
    return dataclasses.replace(config, **base)


def _flag_of(key: object) -> str:
    return {
        "duration": "--duration",
        "stages": "--duration/--vus/--rate",
        "max_duration": "--duration",
        "vus": "--vus",
        "max_vus": "--vus",
        "pre_allocated_vus": "--vus",
        "threads": "--vus",
        "rate": "--rate",
        "iterations": "--iterations",
        "graceful_stop": "--graceful-stop",
    }.get(str(key), "an override")


def apply_overrides(workload: Workload, overrides: Overrides) -> Workload:
    """``workload`` with ``overrides`` applied (see the module docstring); same order of
    scenarios (by start time, then name). Raises :class:`UsageError` when a result is invalid.
    """
    if overrides.empty:
        return workload
    scenarios: list[ScenarioConfig] = []
    problems: list[str] = []
    for scenario in workload.scenarios:
        executor = _executor(scenario.executor, overrides)
        for problem in executor.validate():
            problems.append(
                f"scenario {scenario.name!r} with {_flag_of(problem.key[0])}: {problem.message}"
            )
        scenarios.append(dataclasses.replace(scenario, executor=executor))
    if problems:
        raise UsageError("; ".join(problems))
    scenarios.sort(key=lambda s: (s.start_time_s, s.name))
    return dataclasses.replace(workload, scenarios=tuple(scenarios))
