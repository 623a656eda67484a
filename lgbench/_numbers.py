"""Floats for people and diffs: summary.json without ``12.345678901234567``.

Latencies are measured in whole microseconds, so three decimals of a millisecond hold all
there is; :func:`rounded` keeps three decimals of values from 1 up and four significant
digits below 1 (an error rate of ``0.0001234`` stays readable and non-zero). Integers,
strings and the structure are left alone, so every reader of the file reads it as before.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["rounded"]


def _float(value: float) -> float:
    if not math.isfinite(value) or value == 0.0:
        return value
    if abs(value) >= 1.0:
        return round(value, 3)
    return float(f"{value:.4g}")


def rounded(data: Any) -> Any:
    """``data`` (JSON-like: dicts, lists, tuples, scalars) with every float rounded."""
    if isinstance(data, float):
        return _float(data)
    if isinstance(data, dict):
        return {key: rounded(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [rounded(value) for value in data]
    return data
