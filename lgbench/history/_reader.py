"""Reading a ``history.jsonl`` back: the header and the indexed lines, in file order.

For tests, tools and a checker that wants the raw lines. A run killed while writing may
leave its last line unfinished; :func:`read_history` drops that one line (and says so)
instead of failing, and refuses anything else that is not a JSON object per line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

__all__ = ["History", "read_history"]


@final
@dataclass(frozen=True)
class History:
    """A history file's ``header`` and its indexed ``events`` (operations and markers).

    ``truncated`` is True when the last line was cut off and dropped.
    """

    header: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

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


def read_history(path: Path | str) -> History:
    """Parse ``path``. Raises :class:`ValueError` for a missing header or a bad line
    (other than a cut-off last line)."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    truncated = False
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        # No newline at the end: the writer was stopped in the middle of this line.
        lines.pop()
        truncated = True
    parsed: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ValueError(f"{path}:{number}: not a JSON object")
        parsed.append(value)
    if not parsed or parsed[0].get("type") != "header":
        raise ValueError(f"{path}: the first line is not a header")
    return History(header=parsed[0], events=parsed[1:], truncated=truncated)
