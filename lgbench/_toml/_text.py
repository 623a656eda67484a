"""Small helpers for the words of error messages."""

from __future__ import annotations

import datetime
import difflib
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean", "one_of", "quote", "toml_type"]


def quote(text: object) -> str:
    """``text`` in double quotes, escaped as TOML and JSON would, with every character
    that is not printable (line breaks, controls) written as an escape."""
    quoted = json.dumps(str(text), ensure_ascii=False)
    if quoted.isprintable():
        return quoted
    return "".join(
        char if char.isprintable() else json.dumps(char, ensure_ascii=True)[1:-1] for char in quoted
    )


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` for the closest candidate, or an empty string."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean {quote(matches[0])}?)" if matches else ""


def one_of(choices: Iterable[str]) -> str:
    """``one of "a", "b", "c"`` (sorted)."""
    return "one of " + ", ".join(quote(choice) for choice in sorted(choices))


def toml_type(value: Any) -> str:
    """What a TOML value is, with its article: ``"a string"``, ``"an array"``..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return "a date or time"
    return type(value).__name__
