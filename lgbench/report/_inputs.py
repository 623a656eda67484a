"""Reading a run folder for the report: every file optional, every damaged line tolerated.

A run killed with SIGKILL leaves no summary.json and may leave the last line of
``history.jsonl``, ``timeseries.jsonl`` or ``intervals.hlog`` cut half-way: the report is
built from whatever is whole, and says what it skipped (``notes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, final

from lgbench.errors import UsageError

__all__ = [
    "CHECK_FILE",
    "HISTORY_FILE",
    "HLOG_FILE",
    "SUMMARY_FILE",
    "TIMESERIES_FILE",
    "RunInputs",
    "read_inputs",
    "read_json_lines",
]

SUMMARY_FILE: Final = "summary.json"
CHECK_FILE: Final = "check.json"
HISTORY_FILE: Final = "history.jsonl"
HLOG_FILE: Final = "intervals.hlog"
TIMESERIES_FILE: Final = "timeseries.jsonl"

_TIMESERIES_KIND: Final = "lgbench.timeseries"
# A history header is one short line; a cap keeps a damaged file without newlines cheap.
_HEADER_MAX_BYTES: Final = 1 << 20


@final
@dataclass(slots=True)
class RunInputs:
    """What a run folder holds, each part None (or empty) when missing or unreadable."""

    run_dir: Path
    summary: dict[str, Any] | None = None
    check: dict[str, Any] | None = None
    history_header: dict[str, Any] | None = None
    timeseries_header: dict[str, Any] | None = None
    timeseries: list[dict[str, Any]] = field(default_factory=list)
    hlog: Path | None = None
    notes: list[str] = field(default_factory=list)
    """What was skipped or damaged, in words, for the report's reader."""


def read_json_lines(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON objects of a JSON-lines file, and notes on the lines skipped.

    A last line without its newline that does not parse is the write a kill cut short:
    noted as truncated. Any other line that is not a JSON object is noted and skipped.
    """
    objects: list[dict[str, Any]] = []
    notes: list[str] = []
    with path.open("rb") as file:
        data = file.read()
    lines = data.split(b"\n")
    ends_whole = data.endswith(b"\n")
    last = len(lines) - 1
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if number - 1 == last and not ends_whole:
                notes.append(f"{path.name}: the last line was cut short (ignored)")
            else:
                notes.append(f"{path.name}: line {number} is not JSON (skipped)")
            continue
        if isinstance(value, dict):
            objects.append(value)
        else:
            notes.append(f"{path.name}: line {number} is not a JSON object (skipped)")
    return objects, notes


def _read_json(path: Path, notes: list[str]) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        notes.append(f"{path.name}: unreadable, left out ({exc})")
        return None
    if not isinstance(value, dict):
        notes.append(f"{path.name}: not a JSON object, left out")
        return None
    return value


def _read_history_header(path: Path, notes: list[str]) -> dict[str, Any] | None:
    try:
        with path.open("rb") as file:
            first = file.readline(_HEADER_MAX_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        notes.append(f"{path.name}: unreadable ({exc})")
        return None
    try:
        value = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        notes.append(f"{path.name}: the first line is not a whole header")
        return None
    if not isinstance(value, dict) or value.get("type") != "header":
        notes.append(f"{path.name}: the first line is not a header")
        return None
    return value


def read_inputs(run_dir: Path) -> RunInputs:
    """Read what ``run_dir`` holds.

    Raises :class:`~lgbench.errors.UsageError` naming the folder when it is not a folder or
    holds none of summary.json, intervals.hlog, timeseries.jsonl and history.jsonl.
    """
    if not run_dir.is_dir():
        what = "a file; give the folder that holds it" if run_dir.exists() else "no such directory"
        raise UsageError(f"{run_dir}: not a run folder ({what})")
    found = RunInputs(run_dir=run_dir)
    notes = found.notes
    found.summary = _read_json(run_dir / SUMMARY_FILE, notes)
    found.check = _read_json(run_dir / CHECK_FILE, notes)
    found.history_header = _read_history_header(run_dir / HISTORY_FILE, notes)
    timeseries_path = run_dir / TIMESERIES_FILE
    if timeseries_path.is_file():
        try:
            lines, line_notes = read_json_lines(timeseries_path)
        except OSError as exc:
            notes.append(f"{TIMESERIES_FILE}: unreadable ({exc})")
        else:
            notes.extend(line_notes)
            if lines and lines[0].get("kind") == _TIMESERIES_KIND:
                found.timeseries_header = lines.pop(0)
            found.timeseries = [line for line in lines if _is_interval(line)]
    hlog_path = run_dir / HLOG_FILE
    if hlog_path.is_file():
        found.hlog = hlog_path
    if (
        found.summary is None
        and found.hlog is None
        and found.timeseries_header is None
        and not found.timeseries
        and found.history_header is None
    ):
        raise UsageError(
            f"{run_dir}: not an lgbench run folder (none of {SUMMARY_FILE}, {HLOG_FILE}, "
            f"{TIMESERIES_FILE} or {HISTORY_FILE} is there or readable)"
        )
    return found


def _is_interval(line: dict[str, Any]) -> bool:
    start, end = line.get("start_s"), line.get("end_s")
    return (
        isinstance(start, int | float)
        and isinstance(end, int | float)
        and not isinstance(start, bool)
        and not isinstance(end, bool)
        and end >= start
    )
