"""Pacing as arithmetic: when each iteration of an open-model (arrival-rate) scenario is due.

A pacer is a frozen description of a rate over elapsed time. It never reads a clock and keeps
no state: ``due(t)`` says how many iterations are due by elapsed time ``t``, ``next_at(n)``
when iteration ``n`` is due, ``rate(t)`` the instantaneous rate for display. Both pacers share
one definition, the one k6's ramping-arrival-rate uses::

    A(t)       = integral of rate over [0, t]          (iterations' worth of rate accumulated)
    due(t)     = floor(A(t))
    next_at(n) = the earliest t with due(t) >= n + 1   (n counts from 0)

So iteration ``n`` is due when ``A`` reaches ``n + 1``: a constant 10/s starts its first
iteration at 0.1 s, not at 0, and ``D`` seconds at ``r``/s run ``floor(r * D)`` iterations, the
last one possibly exactly at ``D``. ``A`` is computed in binary floating point, on the float
values given: 0.29/s is slightly less than 29/100, so 0.29/s for 100 s accumulates
28.999999999999996 and runs 28 iterations. Whole rates (or rates that are binary fractions,
like 0.25/s) have no such surprise.

``next_at`` solves ``A(t) = n + 1`` in closed form (linear ``A`` for a constant rate; the
quadratic formula on a ramp, in the cancellation-free form ``2x / (r0 + sqrt(r0^2 + 2ax))``;
flat and zero-rate segments are plain divisions or skipped), then settles the last few ulps
against ``due`` itself, so ``due(next_at(n)) >= n + 1`` and ``due`` of the float just below
``next_at(n)`` is ``<= n``, exactly, in floating point.

Policy (vegeta states its own; these are lgbench's):

- **Behind schedule: start now.** A pacer does not know the time. A dispatcher that wakes late
  finds ``next_at(n)`` in the past and starts iteration ``n`` at once, stamped with its
  *intended* time, so latency is measured from when it was due (no coordinated omission).
  Iterations are never skipped here; dropping one when no VU is free is the executor's choice,
  and it counts the drop.
- **End: stop.** ``next_at(n)`` is ``None`` once the schedule cannot reach ``n + 1`` within
  ``duration_s``; ``due(t)`` stays at ``due(duration_s)`` after the end; ``rate(t)`` is 0 outside
  ``[0, duration_s)``.
- **Overflow: stop.** An iteration whose due time does not fit in a float (a tiny rate with no
  end) is never due: ``None``.
- **Negative: rejected or before the start.** Negative, NaN or infinite rates, and negative or
  NaN durations, raise :class:`ScheduleError` when the pacer is built (every problem listed);
  a negative elapsed time is before the start (``due`` 0, ``rate`` 0); a negative iteration
  number or a NaN time is a programming error (``ValueError``).
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Protocol, final

from lgbench.errors import UsageError
from lgbench.workload import format_duration

__all__ = [
    "MAX_RATE_PER_S",
    "MIN_DURATION_S",
    "ConstantRate",
    "Pacer",
    "RampingRate",
    "ScheduleError",
    "Stage",
    "due_times",
]

MAX_RATE_PER_S = 1e9
"""The highest rate a pacer accepts, iterations per second."""

MIN_DURATION_S = 1e-6
"""The shortest non-zero stage or schedule: shorter ones would only add rounding."""

_MAX_DURATION_S = 1e12
"""A bound far above the workload files' own (100 years), so every integral stays finite."""

_PACK = struct.Struct("<d")
_UNPACK = struct.Struct("<q")


class ScheduleError(UsageError, ValueError):
    """A pacer or plan was built from invalid numbers; ``problems`` lists every one of them."""

    def __init__(self, what: str, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__(f"invalid {what}: " + "; ".join(self.problems))


class Pacer(Protocol):
    """What the open-model dispatcher needs from a schedule of iterations."""

    @property
    def duration_s(self) -> float:
        """Length of the schedule in seconds (``math.inf`` when it never ends)."""
        ...

    def due(self, elapsed_s: float) -> int:
        """Iterations due by ``elapsed_s`` seconds after the start."""
        ...

    def next_at(self, n: int) -> float | None:
        """Elapsed seconds at which iteration ``n`` (0-based) is due; ``None`` if never."""
        ...

    def rate(self, elapsed_s: float) -> float:
        """Instantaneous rate, iterations per second."""
        ...

    def describe(self) -> str:
        """One line for ``lgbench validate`` and the live view."""
        ...


def _duration_text(seconds: float) -> str:
    """A finite duration as the workload files write it: ``1m30s``, ``250ms``."""
    return format_duration(seconds)


def _check_rate(name: str, value: float, problems: list[str]) -> None:
    if not 0 <= value <= MAX_RATE_PER_S:  # also catches NaN
        problems.append(f"{name} must be between 0 and {MAX_RATE_PER_S:g}/s, got {value!r}")


def _check_duration(name: str, value: float, problems: list[str], *, infinite: bool) -> None:
    if math.isinf(value) and value > 0 and infinite:
        return
    if not (value == 0 or MIN_DURATION_S <= value <= _MAX_DURATION_S):  # also catches NaN
        problems.append(
            f"{name} must be 0 or between {MIN_DURATION_S:g} and {_MAX_DURATION_S:g} seconds,"
            f" got {value!r}"
        )


def _check_elapsed(elapsed_s: float) -> None:
    if math.isnan(elapsed_s):
        raise ValueError("elapsed_s is NaN")


def _ordinal(t: float) -> int:
    """Position of a float >= 0 among all floats: monotonic, and adjacent floats differ by 1."""
    ordinal: int = _UNPACK.unpack(_PACK.pack(t + 0.0))[0]
    return ordinal


def _from_ordinal(ordinal: int) -> float:
    value: float = _PACK.unpack(_UNPACK.pack(ordinal))[0]
    return value


def _earliest(due: Callable[[float], int], need: int, guess: float, end: float) -> float:
    """The smallest float ``t`` in ``[0, end]`` with ``due(t) >= need``.

    ``due`` is non-decreasing, ``due(0) < need <= due(end)``. The closed-form ``guess`` is within
    a few ulps, so this takes two or three evaluations; the exponential bracket and bisection over
    float ordinals make it exact whatever the guess.
    """
    guess = min(max(guess, 0.0), end)
    end_ordinal = _ordinal(end)
    ordinal = _ordinal(guess)
    step = 1
    if due(guess) >= need:
        high = ordinal
        while True:
            low = max(high - step, 0)
            if due(_from_ordinal(low)) < need:
                break
            high = low
            step *= 2
    else:
        low = ordinal
        while True:
            high = min(low + step, end_ordinal)
            if high == end_ordinal or due(_from_ordinal(high)) >= need:
                break
            low = high
            step *= 2
    while high - low > 1:
        middle = (low + high) // 2
        if due(_from_ordinal(middle)) >= need:
            high = middle
        else:
            low = middle
    return _from_ordinal(high)


def _check_iteration(n: int) -> int:
    if n < 0:
        raise ValueError(f"iteration numbers start at 0, got {n}")
    return n + 1


@final
@dataclass(frozen=True, slots=True)
class ConstantRate:
    """``rate_per_s`` iterations per second for ``duration_s`` seconds (default: no end).

    Iteration ``n`` is due at ``(n + 1) / rate_per_s``. A zero rate or zero duration is a valid
    schedule with no iterations.
    """

    rate_per_s: float
    duration_s: float = math.inf

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_rate("rate_per_s", self.rate_per_s, problems)
        _check_duration("duration_s", self.duration_s, problems, infinite=True)
        if problems:
            raise ScheduleError("constant rate", problems)

    def _area(self, elapsed_s: float) -> float:
        if elapsed_s <= 0 or self.rate_per_s == 0:
            return 0.0
        return min(elapsed_s, self.duration_s) * self.rate_per_s

    def due(self, elapsed_s: float) -> int:
        """``floor(rate * t)`` for ``t`` clamped to ``[0, duration_s]``."""
        _check_elapsed(elapsed_s)
        if math.isinf(elapsed_s) and math.isinf(self.duration_s) and self.rate_per_s > 0:
            raise ValueError("an endless schedule has no finite count at infinity")
        return math.floor(self._area(elapsed_s))

    def next_at(self, n: int) -> float | None:
        """``(n + 1) / rate``, settled to the float grid; ``None`` past the end or on overflow."""
        need = _check_iteration(n)
        rate = self.rate_per_s
        if rate == 0:
            return None
        guess = need / rate
        end = self.duration_s
        if math.isinf(end):
            end = 2 * guess + 1  # due(end) >= need by a wide margin
            if math.isinf(end):
                return None
        elif math.floor(end * rate) < need:  # due(end), inlined: the dispatcher asks per iteration
            return None
        # The quotient settled to the float grid is nearly always the answer (``due``
        # inlined, as ``t <= end <= duration_s``). Otherwise the search settles it.
        t = _settled(need, rate)
        if t is not None and t <= end:
            return t
        return _earliest(self.due, need, guess, end)

    def rate(self, elapsed_s: float) -> float:
        """``rate_per_s`` inside ``[0, duration_s)``, else 0."""
        _check_elapsed(elapsed_s)
        return self.rate_per_s if 0 <= elapsed_s < self.duration_s else 0.0

    @property
    def total_iterations(self) -> int | None:
        """Iterations over the whole schedule; ``None`` when it never ends and the rate is > 0."""
        if math.isinf(self.duration_s):
            return 0 if self.rate_per_s == 0 else None
        return self.due(self.duration_s)

    def describe(self) -> str:
        """E.g. ``10/s for 1m0s (600 iterations)``."""
        if math.isinf(self.duration_s):
            return f"{self.rate_per_s:g}/s until stopped"
        return (
            f"{self.rate_per_s:g}/s for {_duration_text(self.duration_s)}"
            f" ({self.total_iterations} iterations)"
        )


@final
@dataclass(frozen=True, slots=True)
class Stage:
    """Move the rate linearly to ``target_per_s`` over ``duration_s`` (0: jump at once)."""

    target_per_s: float
    duration_s: float

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_rate("target_per_s", self.target_per_s, problems)
        _check_duration("duration_s", self.duration_s, problems, infinite=False)
        if problems:
            raise ScheduleError("stage", problems)


@final
@dataclass(frozen=True, slots=True)
class _Segment:
    """One stage of non-zero length: the rate goes linearly from ``r0`` to ``r1``.

    ``area(tau)`` is written so that it is non-decreasing in ``tau`` in floating point (each
    operation is monotonic), starts at exactly 0 and ends at exactly ``total``; that keeps
    ``due`` non-decreasing across the whole schedule.
    """

    start_s: float
    duration_s: float
    r0: float
    r1: float
    slope: float
    total: float

    @staticmethod
    def build(start_s: float, duration_s: float, r0: float, r1: float) -> _Segment:
        slope = (r1 - r0) / duration_s
        if slope >= 0:
            total = duration_s * r0 + 0.5 * slope * duration_s * duration_s
        else:
            total = duration_s * r1 + 0.5 * -slope * duration_s * duration_s
        return _Segment(start_s, duration_s, r0, r1, slope, total)

    def area(self, tau: float) -> float:
        """Iterations' worth of rate accumulated ``tau`` seconds into the segment."""
        tau = min(max(tau, 0.0), self.duration_s)
        if self.slope >= 0:
            return tau * self.r0 + 0.5 * self.slope * tau * tau
        left = self.duration_s - tau  # the rest of a falling ramp, measured from its end
        return max(0.0, self.total - (left * self.r1 + 0.5 * -self.slope * left * left))

    def solve(self, x: float) -> float:
        """``tau`` with ``area(tau) == x`` for ``0 < x <= total``, in closed form."""
        x = min(x, self.total)
        if x <= 0:
            return 0.0
        if self.slope == 0:
            return x / self.r0
        if self.slope > 0:
            return 2 * x / (self.r0 + math.sqrt(self.r0 * self.r0 + 2 * self.slope * x))
        rest = max(self.total - x, 0.0)
        if rest == 0:
            return self.duration_s
        fall = -self.slope
        left = 2 * rest / (self.r1 + math.sqrt(self.r1 * self.r1 + 2 * fall * rest))
        return self.duration_s - left

    def rate(self, tau: float) -> float:
        fraction = min(max(tau / self.duration_s, 0.0), 1.0)
        value = self.r0 + (self.r1 - self.r0) * fraction
        return min(max(value, min(self.r0, self.r1)), max(self.r0, self.r1))


@final
@dataclass(frozen=True, slots=True)
class RampingRate:
    """A piecewise-linear rate: from ``start_rate_per_s`` through each :class:`Stage` in turn.

    A stage of zero duration changes the rate at once; a stage whose target equals the current
    rate holds it. The schedule ends after the last stage (``duration_s`` is their sum).
    """

    start_rate_per_s: float
    stages: tuple[Stage, ...]
    _segments: tuple[_Segment, ...] = field(init=False, repr=False, compare=False)
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _before: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _duration_s: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        object.__setattr__(self, "stages", stages)
        problems: list[str] = []
        _check_rate("start_rate_per_s", self.start_rate_per_s, problems)
        if not stages:
            problems.append("at least one stage is needed")
        for index, stage in enumerate(stages):
            if not isinstance(stage, Stage):
                problems.append(f"stage {index + 1} is not a Stage: {stage!r}")
        if problems:
            raise ScheduleError("ramping rate", problems)

        ends = tuple(accumulate((stage.duration_s for stage in stages), initial=0.0))
        segments: list[_Segment] = []
        rate = self.start_rate_per_s
        for stage, start_s in zip(stages, ends, strict=False):
            if stage.duration_s > 0:
                segments.append(_Segment.build(start_s, stage.duration_s, rate, stage.target_per_s))
            rate = stage.target_per_s
        before = tuple(accumulate((segment.total for segment in segments), initial=0.0))
        object.__setattr__(self, "_segments", tuple(segments))
        object.__setattr__(self, "_starts", tuple(segment.start_s for segment in segments))
        object.__setattr__(self, "_before", before)
        object.__setattr__(self, "_duration_s", ends[-1])

    @property
    def duration_s(self) -> float:
        """Sum of the stage durations."""
        return self._duration_s

    def _area(self, elapsed_s: float) -> float:
        index = bisect_right(self._starts, elapsed_s) - 1
        if index < 0 or elapsed_s <= 0:
            return 0.0
        segment = self._segments[index]
        return self._before[index] + segment.area(elapsed_s - segment.start_s)

    def due(self, elapsed_s: float) -> int:
        """``floor(A(t))`` for ``t`` clamped to ``[0, duration_s]``."""
        _check_elapsed(elapsed_s)
        return math.floor(self._area(elapsed_s))

    def next_at(self, n: int) -> float | None:
        """Earliest ``t`` with ``due(t) >= n + 1``; ``None`` if the schedule ends first."""
        need = _check_iteration(n)
        if not self._segments or self.due(self._duration_s) < need:
            return None
        # The crossing lies in the segment with before < need <= before + total (so one that
        # adds area: zero-rate pauses are passed over), and A(end) >= need bounds the search.
        index = bisect_left(self._before, need) - 1
        segment = self._segments[index]
        guess = segment.start_s + segment.solve(need - self._before[index])
        return _earliest(self.due, need, guess, self._duration_s)

    def rate(self, elapsed_s: float) -> float:
        """Instantaneous rate; 0 before the start and from ``duration_s`` on."""
        _check_elapsed(elapsed_s)
        if elapsed_s < 0 or elapsed_s >= self._duration_s:
            return 0.0
        index = bisect_right(self._starts, elapsed_s) - 1
        segment = self._segments[index]
        return segment.rate(elapsed_s - segment.start_s)

    @property
    def total_iterations(self) -> int:
        """Iterations over the whole schedule."""
        return self.due(self._duration_s)

    def describe(self) -> str:
        """E.g. ``0/s → 20/s over 30s → 80/s over 1m0s (1m30s, 3300 iterations)``."""
        steps = [f"{self.start_rate_per_s:g}/s"]
        for stage in self.stages:
            if stage.duration_s == 0:
                steps.append(f"{stage.target_per_s:g}/s at once")
            else:
                steps.append(f"{stage.target_per_s:g}/s over {_duration_text(stage.duration_s)}")
        return (
            " → ".join(steps)
            + f" ({_duration_text(self._duration_s)}, {self.total_iterations} iterations)"
        )


def due_times(pacer: Pacer, first: int = 0) -> Iterator[float]:
    """``pacer.next_at(n)`` for ``n = first, first + 1, ...`` until it is ``None``.

    The same floats as ``next_at``, one after the other, for the dispatcher, which asks for
    every iteration's time in turn: on a :class:`ConstantRate` this generator does
    ``next_at``'s arithmetic inline (the quotient and its settling), without a method call
    and the argument checks per iteration; wherever the quotient is not settled at once
    (and on every other pacer) it asks ``next_at`` itself.
    """
    if first < 0:
        raise ValueError(f"iteration numbers start at 0, got {first}")
    if type(pacer) is ConstantRate:
        return _constant_times(pacer, first)
    return _asked_times(pacer, first)


def _asked_times(pacer: Pacer, n: int) -> Iterator[float]:
    next_at = pacer.next_at
    while (at_s := next_at(n)) is not None:
        yield at_s
        n += 1


def _constant_times(pacer: ConstantRate, n: int) -> Iterator[float]:
    rate = pacer.rate_per_s
    if rate == 0:
        return
    end = pacer.duration_s
    next_at = pacer.next_at
    need = n + 1
    while True:
        # ConstantRate.next_at's closed form without its checks: ``t <= end`` also means
        # ``due(end) >= need``. Anything else asks next_at (and its search).
        t = _settled(need, rate)
        if t is None or t > end:
            t = next_at(need - 1)
            if t is None:
                return
        yield t
        need += 1


def _settled(need: int, rate: float) -> float | None:
    """The earliest float ``t`` with ``floor(t * rate) >= need`` when it is the quotient
    ``need / rate`` or a float a step or a few from it (nearly always); None when only a
    search can tell (or the quotient overflows)."""
    t = need / rate
    if t == math.inf:
        return None
    if math.floor(t * rate) < need:
        # The product rounds down: the float just above, if due there and not below.
        t = math.nextafter(t, math.inf)
        if math.floor(t * rate) >= need and math.floor(math.nextafter(t, 0.0) * rate) < need:
            return t
        return None
    for _ in range(4):
        below = math.nextafter(t, 0.0)
        if math.floor(below * rate) < need:
            return t
        t = below
    return None
