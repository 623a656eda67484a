"""Numbers of threshold results in words: ``2.31 s``, ``0.5 %``, ``48.2/s``, ``+12 %/h``."""

from __future__ import annotations

__all__ = ["format_value"]


def _number(value: float) -> str:
    """About three significant digits, never in exponent form, no trailing zeros."""
    size = abs(value)
    if size >= 100 or value == int(value):
        text = f"{value:.0f}"
    elif size >= 10:
        text = f"{value:.1f}"
    elif size >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_value(value: float, unit: str) -> str:
    """``value`` in the report ``unit`` (``ms``, ``%``, ``/s``, ``%/h`` or ``""``), for people.

    Milliseconds of a second or more are shown in seconds; a drift always has its sign.
    """
    if unit == "ms":
        if abs(value) >= 1000:
            return f"{_number(value / 1000)} s"
        return f"{_number(value)} ms"
    if unit == "%":
        return f"{_number(value)} %"
    if unit == "%/h":
        return f"{'+' if value > 0 else ''}{_number(value)} %/h"
    if unit == "/s":
        return f"{_number(value)}/s"
    return _number(value)
