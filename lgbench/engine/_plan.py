"""Closed-model plans: how many virtual users should be running, or which runs start when.

A plan is a pure function of elapsed time, like a pacer: no clock, no state. The executor asks
``vus_at(t)`` (or walks ``change_points()``) and keeps VU indexes ``0 .. vus_at(t) - 1``
looping; a VU whose index falls out of that range finishes its current iteration and stops
(a ramping plan interrupts it after ``graceful_ramp_down_s``), and carries on if its index comes
back into range first. So the VUs ever needed at once are ``max_vus``.

- :class:`ConstantVus` — ``vus`` VUs loop for ``duration_s``.
- :class:`RampingVus` — the VU count moves linearly through stages in whole steps, k6-style:
  a ramp from ``a`` to ``b`` over ``d`` seconds changes the count by one at each
  ``d * i / |b - a|`` (so 0 → 10 over 10 s adds a VU every second, the first at 1 s).
- :class:`PerVuIterations` — each of ``vus`` VUs runs ``iterations`` iterations.
- :class:`SharedIterations` — ``vus`` VUs share ``iterations`` iterations, whoever is free.
- :class:`Burst` — for double-texting: on each of ``threads`` threads start ``burst`` runs,
  run ``r`` at ``r * stagger_s`` on every thread.

Invalid numbers raise :class:`~lgbench.engine.ScheduleError` listing every problem.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, final

from lgbench.engine._pacer import ScheduleError, _duration_text

__all__ = [
    "Burst",
    "BurstStart",
    "ConstantVus",
    "PerVuIterations",
    "RampingVus",
    "SharedIterations",
    "VuChange",
    "VuPlan",
    "VuStage",
]


class VuChange(NamedTuple):
    """From ``at_s`` seconds after the start, ``vus`` VUs should be running."""

    at_s: float
    vus: int


class BurstStart(NamedTuple):
    """Start run ``run_index`` on thread ``thread_index`` at ``offset_s`` after the start."""

    offset_s: float
    thread_index: int
    run_index: int


class VuPlan(Protocol):
    """What a closed-model executor needs from its plan."""

    @property
    def duration_s(self) -> float:
        """When new iterations stop being started (for iteration plans: the time limit)."""
        ...

    @property
    def max_vus(self) -> int:
        """The most VUs alive at once, to allocate up front."""
        ...

    def vus_at(self, elapsed_s: float) -> int:
        """VUs that should be running ``elapsed_s`` seconds after the start."""
        ...

    def change_points(self) -> tuple[VuChange, ...]:
        """Every change of ``vus_at``, in time order, starting at 0 and ending with 0 VUs."""
        ...

    def describe(self) -> str:
        """One line for ``lgbench validate`` and the live view."""
        ...


def _check_count(name: str, value: int, problems: list[str], *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"{name} must be a whole number >= {minimum}, got {value!r}")


def _check_seconds(name: str, value: float, problems: list[str], *, positive: bool) -> None:
    ok = value > 0 if positive else value >= 0
    if not ok or math.isinf(value):  # `not ok` also catches NaN
        bound = "> 0" if positive else ">= 0"
        problems.append(f"{name} must be a finite number of seconds {bound}, got {value!r}")


def _raise(what: str, problems: list[str]) -> None:
    if problems:
        raise ScheduleError(what, problems)


def _vus_at(points: tuple[VuChange, ...], times: tuple[float, ...], elapsed_s: float) -> int:
    if math.isnan(elapsed_s):
        raise ValueError("elapsed_s is NaN")
    index = bisect_right(times, elapsed_s) - 1
    return points[index].vus if index >= 0 else 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@final
@dataclass(frozen=True, slots=True)
class ConstantVus:
    """``vus`` VUs loop from 0 until ``duration_s``."""

    vus: int
    duration_s: float

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_count("vus", self.vus, problems, minimum=1)
        _check_seconds("duration_s", self.duration_s, problems, positive=True)
        _raise("constant-vus plan", problems)

    @property
    def max_vus(self) -> int:
        """``vus``."""
        return self.vus

    def vus_at(self, elapsed_s: float) -> int:
        """``vus`` inside ``[0, duration_s)``, else 0."""
        if math.isnan(elapsed_s):
            raise ValueError("elapsed_s is NaN")
        return self.vus if 0 <= elapsed_s < self.duration_s else 0

    def change_points(self) -> tuple[VuChange, ...]:
        """Start all at 0, stop all at ``duration_s``."""
        return (VuChange(0.0, self.vus), VuChange(self.duration_s, 0))

    def describe(self) -> str:
        """E.g. ``50 VUs for 1m0s``."""
        return f"{_plural(self.vus, 'VU')} for {_duration_text(self.duration_s)}"


@final
@dataclass(frozen=True, slots=True)
class VuStage:
    """Move the VU count linearly to ``target_vus`` over ``duration_s`` (0: at once)."""

    target_vus: int
    duration_s: float

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_count("target_vus", self.target_vus, problems, minimum=0)
        _check_seconds("duration_s", self.duration_s, problems, positive=False)
        _raise("VU stage", problems)


def _ramp_points(start_vus: int, stages: tuple[VuStage, ...]) -> tuple[float, list[VuChange]]:
    """The plan's length and its changes: one per instant (the last wins), real changes only."""
    points = [VuChange(0.0, start_vus)]
    vus = start_vus
    start_s = 0.0
    for stage in stages:
        end_s = start_s + stage.duration_s
        if stage.duration_s == 0:
            points.append(VuChange(start_s, stage.target_vus))
        else:
            steps = abs(stage.target_vus - vus)
            sign = 1 if stage.target_vus > vus else -1
            for step in range(1, steps + 1):
                at_s = end_s if step == steps else start_s + stage.duration_s * step / steps
                points.append(VuChange(at_s, vus + sign * step))
        vus = stage.target_vus
        start_s = end_s
    points.append(VuChange(start_s, 0))
    merged: list[VuChange] = []
    for point in points:
        if merged and merged[-1].at_s == point.at_s:
            merged.pop()
        if not merged or merged[-1].vus != point.vus:
            merged.append(point)
    return start_s, merged


@final
@dataclass(frozen=True, slots=True)
class RampingVus:
    """VUs from ``start_vus`` through each :class:`VuStage`; all stop after the last stage.

    A VU ramped down finishes its iteration and is interrupted after ``graceful_ramp_down_s``.
    """

    start_vus: int
    stages: tuple[VuStage, ...]
    graceful_ramp_down_s: float = 30.0
    _points: tuple[VuChange, ...] = field(init=False, repr=False, compare=False)
    _times: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _duration_s: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        object.__setattr__(self, "stages", stages)
        problems: list[str] = []
        _check_count("start_vus", self.start_vus, problems, minimum=0)
        _check_seconds("graceful_ramp_down_s", self.graceful_ramp_down_s, problems, positive=False)
        if not stages:
            problems.append("at least one stage is needed")
        for index, stage in enumerate(stages):
            if not isinstance(stage, VuStage):
                problems.append(f"stage {index + 1} is not a VuStage: {stage!r}")
        if not problems:
            duration_s, points = _ramp_points(self.start_vus, stages)
            if duration_s <= 0:
                problems.append("the stages must last longer than 0 s in total")
            elif max(point.vus for point in points) == 0:
                problems.append("no VU would ever run (a ramp's first VU would come at the end)")
        _raise("ramping-vus plan", problems)
        object.__setattr__(self, "_points", tuple(points))
        object.__setattr__(self, "_times", tuple(point.at_s for point in points))
        object.__setattr__(self, "_duration_s", duration_s)

    @property
    def duration_s(self) -> float:
        """Sum of the stage durations; every VU is ramped down then."""
        return self._duration_s

    @property
    def max_vus(self) -> int:
        """The most VUs running at once (a count reached only at the end never runs)."""
        return max(point.vus for point in self._points)

    def vus_at(self, elapsed_s: float) -> int:
        """The VU count in force at ``elapsed_s`` (the last change at or before it)."""
        return _vus_at(self._points, self._times, elapsed_s)

    def change_points(self) -> tuple[VuChange, ...]:
        """Each whole-VU step of the ramps, then 0 at the end."""
        return self._points

    def describe(self) -> str:
        """E.g. ``0 → 10 VUs over 30s → 10 over 1m0s → 0 over 10s (1m40s, max 10, ...)``."""
        steps = [str(self.start_vus)]
        for index, stage in enumerate(self.stages):
            unit = " VUs" if index == 0 else ""
            if stage.duration_s == 0:
                steps.append(f"{stage.target_vus}{unit} at once")
            else:
                steps.append(f"{stage.target_vus}{unit} over {_duration_text(stage.duration_s)}")
        return (
            " → ".join(steps)
            + f" ({_duration_text(self.duration_s)}, max {self.max_vus},"
            + f" graceful ramp-down {_duration_text(self.graceful_ramp_down_s)})"
        )


@final
@dataclass(frozen=True, slots=True)
class PerVuIterations:
    """Each of ``vus`` VUs runs ``iterations`` iterations, all stopped at ``max_duration_s``."""

    vus: int
    iterations: int
    max_duration_s: float

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_count("vus", self.vus, problems, minimum=1)
        _check_count("iterations", self.iterations, problems, minimum=1)
        _check_seconds("max_duration_s", self.max_duration_s, problems, positive=True)
        _raise("per-vu-iterations plan", problems)

    @property
    def duration_s(self) -> float:
        """``max_duration_s``: the plan may finish earlier, never later."""
        return self.max_duration_s

    @property
    def max_vus(self) -> int:
        """``vus``."""
        return self.vus

    @property
    def total_iterations(self) -> int:
        """``vus * iterations``."""
        return self.vus * self.iterations

    def vus_at(self, elapsed_s: float) -> int:
        """``vus`` until ``max_duration_s`` (each stops earlier once its iterations are done)."""
        if math.isnan(elapsed_s):
            raise ValueError("elapsed_s is NaN")
        return self.vus if 0 <= elapsed_s < self.max_duration_s else 0

    def change_points(self) -> tuple[VuChange, ...]:
        """All start at 0; any still running stop at ``max_duration_s``."""
        return (VuChange(0.0, self.vus), VuChange(self.max_duration_s, 0))

    def describe(self) -> str:
        """E.g. ``10 VUs x 5 iterations each (50 in all, at most 10m0s)``."""
        return (
            f"{_plural(self.vus, 'VU')} x {_plural(self.iterations, 'iteration')} each"
            f" ({self.total_iterations} in all, at most {_duration_text(self.max_duration_s)})"
        )


@final
@dataclass(frozen=True, slots=True)
class SharedIterations:
    """``vus`` VUs share ``iterations`` iterations (each takes the next one when free).

    As in k6, ``iterations`` may not be fewer than ``vus``: a VU that could never get an
    iteration is a mistake in the workload.
    """

    vus: int
    iterations: int
    max_duration_s: float

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_count("vus", self.vus, problems, minimum=1)
        _check_count("iterations", self.iterations, problems, minimum=1)
        _check_seconds("max_duration_s", self.max_duration_s, problems, positive=True)
        if not problems and self.iterations < self.vus:
            problems.append(f"iterations ({self.iterations}) must be at least vus ({self.vus})")
        _raise("shared-iterations plan", problems)

    @property
    def duration_s(self) -> float:
        """``max_duration_s``: the plan may finish earlier, never later."""
        return self.max_duration_s

    @property
    def max_vus(self) -> int:
        """``vus``."""
        return self.vus

    @property
    def total_iterations(self) -> int:
        """``iterations``."""
        return self.iterations

    def vus_at(self, elapsed_s: float) -> int:
        """``vus`` until ``max_duration_s`` (fewer once the iterations run out)."""
        if math.isnan(elapsed_s):
            raise ValueError("elapsed_s is NaN")
        return self.vus if 0 <= elapsed_s < self.max_duration_s else 0

    def change_points(self) -> tuple[VuChange, ...]:
        """All start at 0; any still running stop at ``max_duration_s``."""
        return (VuChange(0.0, self.vus), VuChange(self.max_duration_s, 0))

    def describe(self) -> str:
        """E.g. ``100 iterations shared by 10 VUs (at most 10m0s)``."""
        return (
            f"{_plural(self.iterations, 'iteration')} shared by {_plural(self.vus, 'VU')}"
            f" (at most {_duration_text(self.max_duration_s)})"
        )


@final
@dataclass(frozen=True, slots=True)
class Burst:
    """On each of ``threads`` threads, start ``burst`` runs, run ``r`` at ``r * stagger_s``.

    With ``stagger_s == 0`` every run starts at once, in the order of :meth:`starts` (run 0 on
    every thread, then run 1 on every thread, ...), which is how double-texting is provoked.
    """

    threads: int
    burst: int
    stagger_s: float = 0.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_count("threads", self.threads, problems, minimum=1)
        _check_count("burst", self.burst, problems, minimum=1)
        _check_seconds("stagger_s", self.stagger_s, problems, positive=False)
        _raise("burst plan", problems)

    @property
    def duration_s(self) -> float:
        """Offset of the last start."""
        return (self.burst - 1) * self.stagger_s

    @property
    def max_vus(self) -> int:
        """Every run may be in flight at once: ``threads * burst``."""
        return self.threads * self.burst

    def starts(self) -> tuple[BurstStart, ...]:
        """Every start, ordered by offset, then run index, then thread index."""
        return tuple(
            BurstStart(run * self.stagger_s, thread, run)
            for run in range(self.burst)
            for thread in range(self.threads)
        )

    def due(self, elapsed_s: float) -> int:
        """How many of :meth:`starts` are due by ``elapsed_s`` (offset <= elapsed_s)."""
        if math.isnan(elapsed_s):
            raise ValueError("elapsed_s is NaN")
        if elapsed_s < 0:
            return 0
        if self.stagger_s == 0 or math.isinf(elapsed_s):
            return self.burst * self.threads
        # Run r starts at the float product r * stagger_s; settle the estimate against it.
        waves = min(self.burst, math.floor(elapsed_s / self.stagger_s) + 1)
        while waves < self.burst and waves * self.stagger_s <= elapsed_s:
            waves += 1
        while waves > 0 and (waves - 1) * self.stagger_s > elapsed_s:
            waves -= 1
        return waves * self.threads

    def describe(self) -> str:
        """E.g. ``100 threads x 3 runs, 10ms apart``."""
        spacing = "at once" if self.stagger_s == 0 else f"{_duration_text(self.stagger_s)} apart"
        return f"{_plural(self.threads, 'thread')} x {_plural(self.burst, 'run')}, {spacing}"
