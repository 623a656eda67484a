"""Text from a server is shown, never obeyed: escapes for the terminal.

A server under test (or a proxy in front of it) chooses many strings lgbench prints: error
messages, its name and version in ``/info``, ids, statuses, graph names. Printed raw, an
ESC sequence would recolour or clear the screen, an OSC 8 sequence would plant a link, a
lone ``\\r`` would overwrite the line before it, and a bidi override would show a line in an
order that hides what it says. :func:`printable` writes every such character as a visible
escape (``\\x1b``, ``\\r``, ``\\u202e``); :class:`SafeConsole` is a rich console that does so
for every string it renders (so the live view, the final tables and error messages are
safe wherever the string came from), while rich's own styling still works.

Newlines and tabs are kept: lgbench's own multi-line output needs them, and they move the
cursor no further than the text itself does.
"""

from __future__ import annotations

import re
from typing import Any, Final

from rich.console import Console
from rich.text import Text

__all__ = ["SafeConsole", "printable"]

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional formatting
# characters (marks, embeddings, overrides, isolates) that reorder what is displayed.
_UNPRINTABLE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return "\\r"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control and bidi formatting character written as an escape."""
    if _UNPRINTABLE.search(text) is None:
        return text
    return _UNPRINTABLE.sub(_escape, text)


class SafeConsole(Console):
    """A rich :class:`~rich.console.Console` that escapes control characters in every
    string it renders (markup in it is still read as markup: callers escape text from
    outside with :func:`rich.markup.escape`, as they always have)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text), **kwargs)
