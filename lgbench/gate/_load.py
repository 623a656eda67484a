"""Reading a run's summary.json for comparison, and the ``--max-regression`` flag's value."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Final

from lgbench.errors import UsageError

__all__ = [
    "SUMMARY_FILE",
    "SUMMARY_SCHEMA_VERSIONS",
    "load_summary",
    "parse_percentage",
    "summary_path",
]

#: The summary's name inside a run folder.
SUMMARY_FILE: Final = "summary.json"
#: The summary.json schema versions this package understands (docs/summary.md).
SUMMARY_SCHEMA_VERSIONS: Final = frozenset({1})


def summary_path(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or the summary.json inside it when it is a run folder."""
    given = Path(path)
    return given / SUMMARY_FILE if given.is_dir() else given


def load_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a summary.json, or the one inside a run folder, and check it is one.

    Raises :class:`~lgbench.errors.UsageError` naming the file when it is missing or
    unreadable, is not JSON, is not a summary (no ``schema_version`` and ``operations``
    object), or has a ``schema_version`` this lgbench does not know.
    """
    file = summary_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if Path(path).is_dir():
            raise UsageError(f"{path}: no {SUMMARY_FILE} in this run folder") from None
        raise UsageError(f"{file}: no such summary file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: cannot read it: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{file}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if (
        not isinstance(data, dict)
        or "schema_version" not in data
        or not isinstance(data.get("operations"), dict)
    ):
        raise UsageError(
            f"{file}: not an lgbench summary (expected a JSON object with "
            "'schema_version' and 'operations', as lgbench run writes in summary.json)"
        )
    version = data["schema_version"]
    # bool is an int in Python; a summary never says "schema_version": true.
    if isinstance(version, bool) or version not in SUMMARY_SCHEMA_VERSIONS:
        known = ", ".join(str(v) for v in sorted(SUMMARY_SCHEMA_VERSIONS))
        raise UsageError(
            f"{file}: summary schema_version {version!r} is not one this lgbench reads "
            f"({known}); compare summaries written by the same lgbench version"
        )
    return data


def parse_percentage(text: str) -> float:
    """``"10%"`` → ``0.10``; the percent sign is required.

    A bare number is refused because it is ambiguous: ``10`` may mean 10 % or 1000 %,
    ``0.1`` may mean 0.1 % or 10 %. Negative, NaN and infinite values are refused too.
    Raises :class:`~lgbench.errors.UsageError` quoting the text.
    """
    stripped = text.strip()
    if not stripped.endswith("%"):
        raise UsageError(f"{text!r} is not a percentage: write it with a percent sign, e.g. 10%")
    try:
        value = float(stripped[:-1].strip())
    except ValueError:
        raise UsageError(f"{text!r} is not a percentage, e.g. 10% or 2.5%") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{text!r}: a percentage must be a finite number of at least 0%")
    return value / 100.0
