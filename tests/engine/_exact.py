"""A slow, exact pacing reference in rational arithmetic, to check the float pacers against.

Every float input is taken at its exact binary value (``Fraction(float)``), so the reference and
the pacer describe the very same schedule; only the pacer rounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from lgbench.engine._pacer import ConstantRate, RampingRate


@dataclass(frozen=True)
class ExactSchedule:
    """Piecewise-linear rate: ``(start_s, duration_s, r0, r1)`` pieces, all rational."""

    pieces: tuple[tuple[Fraction, Fraction, Fraction, Fraction], ...]
    duration_s: Fraction | None  # None: no end (a constant rate)

    @staticmethod
    def of(pacer: ConstantRate | RampingRate) -> ExactSchedule:
        if isinstance(pacer, ConstantRate):
            rate = Fraction(pacer.rate_per_s)
            if math.isinf(pacer.duration_s):
                return ExactSchedule(((Fraction(0), Fraction(-1), rate, rate),), None)
            duration = Fraction(pacer.duration_s)
            return ExactSchedule(((Fraction(0), duration, rate, rate),), duration)
        pieces = []
        start = Fraction(0)
        rate = Fraction(pacer.start_rate_per_s)
        for stage in pacer.stages:
            duration = Fraction(stage.duration_s)
            target = Fraction(stage.target_per_s)
            if duration > 0:
                pieces.append((start, duration, rate, target))
            start += duration
            rate = target
        return ExactSchedule(tuple(pieces), start)

    def area(self, t: Fraction) -> Fraction:
        """The exact integral of the rate over ``[0, t]``."""
        total = Fraction(0)
        for start, duration, r0, r1 in self.pieces:
            if t <= start:
                break
            if duration < 0:  # endless constant piece
                return total + r0 * (t - start)
            tau = min(t - start, duration)
            slope = (r1 - r0) / duration
            total += r0 * tau + slope * tau * tau / 2
        return total

    def due(self, t: Fraction) -> int:
        return math.floor(self.area(t))

    def total(self) -> Fraction:
        assert self.duration_s is not None
        return self.area(self.duration_s)

    def crossing(self, n: int, *, bits: int = 80) -> Fraction:
        """Where ``area`` reaches ``n + 1``, by bisection to ``2**-bits`` of the schedule."""
        low = Fraction(0)
        high = self.duration_s if self.duration_s is not None else Fraction(1)
        while self.duration_s is None and self.area(high) < n + 1:
            high *= 2
        for _ in range(bits):
            middle = (low + high) / 2
            if self.area(middle) >= n + 1:
                high = middle
            else:
                low = middle
        return high
