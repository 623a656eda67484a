"""Durations: ``"250ms"``, ``"30s"``, ``"1m30s"``, ``"2h"``, ``"1h2m3.5s"`` or plain seconds.

Grammar (no spaces, no sign)::

    duration  := number                      plain seconds: "30", "0.5", or a TOML number
               | component { component }     "1h2m3.5s"
    component := number unit
    number    := digits [ "." [ digits ] ] | "." digits
    unit      := "h" | "m" | "s" | "ms" | "us" | "µs" | "ns"

Values are exact to the nanosecond: each component is read as an exact decimal, the
sum is rounded to whole nanoseconds, and :func:`parse_duration` returns that many
seconds as a float. :func:`format_duration` writes the canonical form (Go's
``time.Duration`` style: ``"1m0s"``, ``"1h2m3.5s"``, ``"250ms"``, ``"1.5us"``, ``"0s"``),
and ``parse_duration(format_duration(s)) == s`` for every duration ``parse_duration``
can return.

Failure modes: :class:`DurationError` (a :class:`ValueError` and a usage error) for an
empty, negative, unknown-unit, non-finite or longer-than-a-century duration, with a
message that lists the accepted forms.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from lgbench._toml._errors import DurationError
from lgbench._toml._text import quote

__all__ = ["DURATION_FORMS", "MAX_DURATION_S", "format_duration", "parse_duration"]

#: What a duration may look like, for error messages.
DURATION_FORMS = 'a duration like "250ms", "30s", "1m30s", "2h", "1h2m3.5s" or a number of seconds'

#: The longest duration accepted: one hundred years, in seconds.
MAX_DURATION_S = 100 * 365 * 86_400

_NS_PER_UNIT = {
    "h": 3_600 * 10**9,
    "m": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
    "us": 10**3,
    "µs": 10**3,  # micro sign
    "μs": 10**3,  # Greek mu
    "ns": 1,
}
_NUMBER = r"(?:\d{1,30}(?:\.\d{0,30})?|\.\d{1,30})"
_PLAIN = re.compile(_NUMBER)
_COMPONENT = re.compile(rf"({_NUMBER})(ms|us|µs|μs|ns|h|m|s)")
_MAX_NS = MAX_DURATION_S * 10**9


def _fail(text: str, reason: str) -> DurationError:
    return DurationError(f"invalid duration {quote(text)}: {reason}", DURATION_FORMS)


def _to_ns(text: str) -> int:
    if not text:
        raise _fail(text, "it is empty")
    if text.startswith("-"):
        raise _fail(text, "durations cannot be negative")
    if _PLAIN.fullmatch(text):
        total = Fraction(text) * 10**9
    else:
        total = Fraction(0)
        position = 0
        while position < len(text):
            match = _COMPONENT.match(text, position)
            if match is None:
                raise _fail(text, f"cannot read {quote(text[position:])}")
            total += Fraction(match.group(1)) * _NS_PER_UNIT[match.group(2)]
            position = match.end()
    if total > _MAX_NS:
        raise _fail(text, "it is longer than a hundred years")
    return round(total)


def parse_duration(value: str | int | float) -> float:
    """Return the duration ``value`` in seconds (a float, exact to the nanosecond).

    ``value`` is a duration string (see the module docstring) or a number of
    seconds. Raises :class:`DurationError` for anything else.
    """
    if isinstance(value, bool):
        raise DurationError(f"invalid duration {value!r}", DURATION_FORMS)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _fail(str(value), "it is not finite")
        if value < 0:
            raise _fail(str(value), "durations cannot be negative")
        fraction = Fraction(value) * 10**9
        if fraction > _MAX_NS:
            raise _fail(str(value), "it is longer than a hundred years")
        return round(fraction) / 10**9
    if not isinstance(value, str):
        raise DurationError(f"invalid duration of type {type(value).__name__}", DURATION_FORMS)
    return _to_ns(value) / 10**9


def _decimal(numerator: int, denominator: int) -> str:
    """``numerator / denominator`` (a power of ten) without trailing zeros."""
    whole, rest = divmod(numerator, denominator)
    if rest == 0:
        return str(whole)
    digits = str(rest).rjust(len(str(denominator)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def format_duration(seconds: float) -> str:
    """The canonical text of a duration of ``seconds``: ``"1m30s"``, ``"250ms"``, ``"0s"``.

    Rounds to whole nanoseconds. Raises :class:`ValueError` for a non-finite value.
    """
    if isinstance(seconds, bool) or not math.isfinite(seconds):
        raise ValueError(f"cannot format {seconds!r} as a duration")
    ns = round(Fraction(seconds) * 10**9)
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_decimal(ns, 1_000)}us"
    if ns < 1_000_000_000:
        return f"{sign}{_decimal(ns, 1_000_000)}ms"
    hours, rest = divmod(ns, 3_600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = f"{_decimal(rest, 10**9)}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text
