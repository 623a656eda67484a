"""Execution segments: one worker's share of a scenario's plan, k6-style.

A run split over ``N`` worker processes gives worker ``i`` (from 0) the :class:`Segment`
``(i, N)``. Every countable thing of a scenario is *striped*: item ``j`` (a VU, an iteration,
a burst's thread, an open-model arrival) belongs to worker ``j mod N``. So:

- the shares of any count add up to exactly that count (:meth:`Segment.share`), however
  uneven (7 VUs over 3 workers: 3, 2, 2);
- a VU keeps its global number on its worker (:meth:`Segment.global_index`), so its random
  data and its history lines are the ones a single process would give it;
- a ramping VU count ``v(t)`` gives worker ``i`` the VUs ``j < v(t)`` with ``j mod N == i``:
  the workers' counts add up to ``v(t)`` at every instant;
- open-model arrival ``n`` of the whole schedule is worker ``n mod N``'s, at the very time
  the whole schedule has it (:class:`SegmentPacer`): the union of the workers' arrival times
  is the single-process schedule, interleaved, never ``N`` arrivals at the same instant;
- a burst's threads are striped, each thread whole on one worker (its runs must be sent by
  one client, back to back, to provoke double-texting).

:func:`plan_scenario` turns a scenario's executor config and a segment into the
:class:`ScenarioPlan` its executor runs: the whole plan for an unsplit run, the worker's
share otherwise (``schedule`` ``None`` when the share is empty: the worker has nothing to do in
that scenario).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeAlias, final

from lgbench.engine._pacer import ConstantRate, Pacer, RampingRate, Stage
from lgbench.engine._plan import (
    Burst,
    ConstantVus,
    PerVuIterations,
    RampingVus,
    SharedIterations,
    VuChange,
    VuStage,
)
from lgbench.errors import UsageError
from lgbench.workload import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    ExecutorConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    SharedIterationsConfig,
)

__all__ = [
    "ScenarioPlan",
    "Schedule",
    "Segment",
    "SegmentPacer",
    "SegmentVus",
    "plan_scenario",
    "segments",
]


@final
@dataclass(frozen=True, slots=True)
class Segment:
    """Worker ``index`` (from 0) of ``count``: item ``j`` is its own when ``j % count == index``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"a segment needs count >= 1, got {self.count!r}")
        if not isinstance(self.index, int) or not 0 <= self.index < self.count:
            raise ValueError(f"a segment needs 0 <= index < {self.count}, got {self.index!r}")

    @property
    def whole(self) -> bool:
        """The one segment of an unsplit run."""
        return self.count == 1

    def share(self, total: int) -> int:
        """How many of items ``0 .. total - 1`` are this segment's."""
        if total <= self.index:
            return 0
        return (total - self.index + self.count - 1) // self.count

    def global_index(self, local: int) -> int:
        """The whole plan's index of this segment's item ``local`` (from 0)."""
        return self.index + local * self.count

    def owns(self, global_index: int) -> bool:
        """Whether item ``global_index`` of the whole plan is this segment's."""
        return global_index % self.count == self.index

    def label(self) -> str:
        """``worker 2/4`` (counted from 1, as users count)."""
        return f"worker {self.index + 1}/{self.count}"


def segments(count: int) -> tuple[Segment, ...]:
    """The ``count`` segments of a run split over ``count`` workers."""
    return tuple(Segment(index, count) for index in range(count))


@final
@dataclass(frozen=True, slots=True)
class SegmentPacer:
    """Arrivals ``index, index + count, index + 2 count ...`` of ``whole``, at its times."""

    whole: Pacer
    segment: Segment

    @property
    def duration_s(self) -> float:
        """The whole schedule's length."""
        return self.whole.duration_s

    def due(self, elapsed_s: float) -> int:
        """This segment's share of the arrivals due by ``elapsed_s``."""
        return self.segment.share(self.whole.due(elapsed_s))

    def next_at(self, n: int) -> float | None:
        """When this segment's arrival ``n`` is due: the whole schedule's arrival it stands for."""
        if n < 0:
            raise ValueError(f"iteration numbers start at 0, got {n}")
        return self.whole.next_at(self.segment.global_index(n))

    def rate(self, elapsed_s: float) -> float:
        """The whole rate over the number of segments (the average share)."""
        return self.whole.rate(elapsed_s) / self.segment.count

    @property
    def total_iterations(self) -> int | None:
        """This segment's share of the whole schedule's iterations (None: endless)."""
        total: int | None = getattr(self.whole, "total_iterations", None)
        return None if total is None else self.segment.share(total)

    def describe(self) -> str:
        """E.g. ``every 2nd arrival from #1 of 10/s for 1m0s (600 iterations): 300``."""
        if self.segment.whole:
            return self.whole.describe()
        total = self.total_iterations
        mine = "" if total is None else f": {total} iterations"
        return (
            f"arrivals {self.segment.index + 1}, {self.segment.index + 1 + self.segment.count}…"
            f" of {self.whole.describe()}{mine}"
        )


def _segment_points(points: tuple[VuChange, ...], segment: Segment) -> tuple[VuChange, ...]:
    shared: list[VuChange] = []
    for point in points:
        vus = segment.share(point.vus)
        if not shared or shared[-1].vus != vus:
            shared.append(VuChange(point.at_s, vus))
    if shared[-1].vus != 0:  # a plan's changes end with 0 VUs; shares of 0 are 0
        raise AssertionError("a VU plan must end with 0 VUs")
    return tuple(shared)


@final
@dataclass(frozen=True, slots=True)
class SegmentVus:
    """A segment of a ramping VU plan: local VU ``k`` is the whole plan's VU
    ``segment.global_index(k)``, running whenever the whole plan has it running."""

    whole: RampingVus
    segment: Segment
    _points: tuple[VuChange, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_points", _segment_points(self.whole.change_points(), self.segment)
        )

    @property
    def duration_s(self) -> float:
        """The whole plan's length."""
        return self.whole.duration_s

    @property
    def graceful_ramp_down_s(self) -> float:
        """The whole plan's grace for ramped-down VUs."""
        return self.whole.graceful_ramp_down_s

    @property
    def max_vus(self) -> int:
        """This segment's share of the whole plan's most VUs."""
        return self.segment.share(self.whole.max_vus)

    def vus_at(self, elapsed_s: float) -> int:
        """This segment's share of the VUs the whole plan runs at ``elapsed_s``."""
        return self.segment.share(self.whole.vus_at(elapsed_s))

    def change_points(self) -> tuple[VuChange, ...]:
        """The whole plan's changes that change this segment's count."""
        return self._points

    def describe(self) -> str:
        """E.g. ``VUs 1, 3, 5… of 0 → 10 VUs over 30s (...)``."""
        if self.segment.whole:
            return self.whole.describe()
        return (
            f"VUs {self.segment.index + 1}, {self.segment.index + 1 + self.segment.count}…"
            f" of {self.whole.describe()}"
        )


#: What an executor runs: a VU plan, a burst, or an arrival schedule.
Schedule: TypeAlias = (
    ConstantVus | RampingVus | SegmentVus | PerVuIterations | SharedIterations | Burst | Pacer
)


@final
@dataclass(frozen=True, slots=True)
class ScenarioPlan:
    """One worker's share of a scenario: what its executor runs.

    ``schedule`` is ``None`` when the share is empty. For the open model, ``pre_allocated_vus``
    and ``max_vus`` are the share of the pool (for the others ``max_vus`` is the plan's).
    """

    segment: Segment
    schedule: Schedule | None
    pre_allocated_vus: int = 0
    max_vus: int = 0

    @property
    def empty(self) -> bool:
        """Nothing for this worker to do in the scenario."""
        return self.schedule is None

    def vu_number(self, local: int) -> int:
        """The number (from 1) of this worker's VU ``local`` (from 0) in the whole plan."""
        return self.segment.global_index(local) + 1

    @property
    def iterations(self) -> int | None:
        """Iterations this share runs in all (None: as many as time allows)."""
        schedule = self.schedule
        if schedule is None:
            return 0
        if isinstance(schedule, PerVuIterations | SharedIterations):
            return schedule.total_iterations
        if isinstance(schedule, Burst):
            return schedule.threads * schedule.burst
        total: int | None = getattr(schedule, "total_iterations", None)
        return total

    def describe(self) -> str:
        """The share in one line (``nothing`` when empty)."""
        schedule = self.schedule
        if schedule is None:
            return "nothing (a share of 0)"
        text = schedule.describe()
        if isinstance(schedule, SegmentPacer | ConstantRate | RampingRate):
            text += f"; VUs {self.pre_allocated_vus} pre-allocated, at most {self.max_vus}"
        return text


def _pacer(config: ConstantArrivalRateConfig | RampingArrivalRateConfig) -> Pacer:
    unit = config.time_unit_s
    if isinstance(config, ConstantArrivalRateConfig):
        return ConstantRate(config.rate / unit, config.duration_s)
    return RampingRate(
        config.start_rate / unit,
        tuple(Stage(stage.target / unit, stage.duration_s) for stage in config.stages),
    )


def plan_scenario(config: ExecutorConfig, segment: Segment | None = None) -> ScenarioPlan:
    """``segment``'s share of the plan of ``config`` (default: the whole plan).

    Raises :class:`~lgbench.errors.UsageError` when the split cannot work: an open-model
    share with arrivals but no VU to run them (fewer ``max_vus`` than workers).
    """
    segment = segment or Segment(0, 1)
    share = segment.share
    if isinstance(config, ConstantVusConfig):
        vus = share(config.vus)
        schedule: Schedule | None = ConstantVus(vus, config.duration_s) if vus else None
        return ScenarioPlan(segment, schedule, max_vus=vus)
    if isinstance(config, RampingVusConfig):
        whole = RampingVus(
            config.start_vus,
            tuple(VuStage(int(stage.target), stage.duration_s) for stage in config.stages),
            config.graceful_ramp_down_s,
        )
        if segment.whole:
            return ScenarioPlan(segment, whole, max_vus=whole.max_vus)
        part = SegmentVus(whole, segment)
        return ScenarioPlan(segment, part if part.max_vus else None, max_vus=part.max_vus)
    if isinstance(config, PerVuIterationsConfig):
        vus = share(config.vus)
        schedule = PerVuIterations(vus, config.iterations, config.max_duration_s) if vus else None
        return ScenarioPlan(segment, schedule, max_vus=vus)
    if isinstance(config, SharedIterationsConfig):
        vus = share(config.vus)
        # Iterations go to the workers that have VUs (all of them unless vus < workers), striped
        # among those; iterations >= vus, so each such share has at least as many as VUs.
        with_vus = min(segment.count, config.vus)
        iterations = Segment(segment.index, with_vus).share(config.iterations) if vus else 0
        schedule = SharedIterations(vus, iterations, config.max_duration_s) if vus else None
        return ScenarioPlan(segment, schedule, max_vus=vus)
    if isinstance(config, ConstantArrivalRateConfig | RampingArrivalRateConfig):
        whole_pacer = _pacer(config)
        pacer: Pacer = whole_pacer if segment.whole else SegmentPacer(whole_pacer, segment)
        max_vus = share(config.max_vus_limit)
        arrivals = getattr(pacer, "total_iterations", None)
        if arrivals == 0 and not math.isinf(pacer.duration_s):
            return ScenarioPlan(segment, None)
        if max_vus == 0:
            raise UsageError(
                f"max_vus ({config.max_vus_limit}) is fewer than the {segment.count} workers:"
                f" {segment.label()} would drop every arrival; raise max_vus or use fewer workers"
            )
        return ScenarioPlan(segment, pacer, share(config.pre_allocated_vus), max_vus)
    if isinstance(config, BurstConfig):
        threads = share(config.threads)
        burst = Burst(threads, config.burst, config.stagger_s) if threads else None
        return ScenarioPlan(segment, burst, max_vus=threads * config.burst)
    raise ValueError(f"no plan for {type(config).__name__}")
