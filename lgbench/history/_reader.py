"""Reading a history back: the header and the indexed lines, in file order.

For tests, tools and a checker that wants the raw lines. A run folder or the files of a
rotated set are read as one history (segments in order, ``.gz`` decompressed). A run killed
while writing may leave its last line unfinished; :func:`read_history` drops that one line
(and says so) instead of failing, keeps what a damaged ``.gz`` tail left readable, and
refuses anything else that is not a JSON object per line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from lgbench.errors import UsageError
from lgbench.history._segments import find_history_sets, iter_lines

__all__ = ["History", "read_history"]


@final
@dataclass(frozen=True)
class History:
    """A history's ``header`` (its first file's) and its indexed ``events`` (operations and
    markers), across every segment of a rotated set.

    ``truncated`` is True when the live file's last line was cut off and dropped; ``files``
    are the files read, in order; ``issues`` says what else was dropped (a damaged ``.gz``
    tail, a segment read in its plain form because both were there).
    """

    header: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    files: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()

    def operations(self) -> list[dict[str, Any]]:
        """Invoke and completion lines only (no markers)."""
        return [event for event in self.events if event.get("type") != "marker"]

    def markers(self, name: str | None = None) -> list[dict[str, Any]]:
        """Marker lines, all of them or those called ``name``."""
        return [
            event
            for event in self.events
            if event.get("type") == "marker" and (name is None or event.get("name") == name)
        ]


def read_history(
    source: Path | str | os.PathLike[str] | Sequence[Path | str | os.PathLike[str]],
) -> History:
    """Parse one history: a file, a run folder, or the files of one rotated set (plain and
    ``.gz`` mixed, in any order).

    Raises:
        ValueError: a missing header or a bad line (other than a cut-off last line of the
            live file, or the damaged tail of a ``.gz`` segment, which are dropped and said).
        UsageError: no history there, a file that cannot be read, a segment missing from
            the middle, or several histories (one run folder per call).
    """
    sets = find_history_sets(source)
    if len(sets) != 1:
        names = ", ".join(s.name for s in sets)
        raise UsageError(f"several histories given ({names}); read them one at a time")
    (found,) = sets
    issues = list(found.issues)
    header: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    truncated = False
    for entry in found.files:
        reader = iter_lines(entry.path)
        first = True
        for number, raw in enumerate(reader, start=1):
            if not raw.endswith(b"\n"):
                # The writer (or the compressor's source) was stopped in this line.
                if entry.live:
                    truncated = True
                else:
                    issues.append(f"{entry.path}:{number}: the last line is cut short, dropped")
                break
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"{entry.path}:{number}: not JSON: {exc}") from None
            if not isinstance(value, dict):
                raise ValueError(f"{entry.path}:{number}: not a JSON object")
            if first:
                first = False
                if value.get("type") != "header":
                    raise ValueError(f"{entry.path}: the first line is not a header")
                if header is None:
                    header = value
                continue
            events.append(value)
        if reader.damage is not None:
            issues.append(reader.damage)
        if first:  # no complete line at all
            if reader.damage is None and not (entry.live and len(found.files) > 1):
                raise ValueError(f"{entry.path}: the first line is not a header")
            if reader.damage is None:  # killed between creating the live file and its header
                issues.append(f"{entry.path}: empty, the writer was stopped as it rotated")
    if header is None:
        raise ValueError(f"{found.name}: the first line is not a header")
    return History(
        header=header,
        events=events,
        truncated=truncated,
        files=tuple(str(f.path) for f in found.files),
        issues=tuple(issues),
    )
