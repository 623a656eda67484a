"""Where each key and value of a TOML document sits: key paths to (line, column).

tomli reports positions of syntax errors only, so semantic errors ("unknown key",
"bad duration") need their own map. :class:`SourceMap` scans the text once and
records, for every key path such as ``("scenario", 1, "steps", 0, "op")``, the
position of the key and of its value. It understands table headers, arrays of
tables (with their running indexes, nested ones included), dotted keys, quoted keys
with escapes, inline tables (TOML 1.1 multi-line ones too), arrays of any nesting
spread over many lines, the four string forms and comments.

It is meant for text that tomli has already accepted. On anything else it never
raises: it keeps what it found so far, and :meth:`SourceMap.locate` falls back to
the closest enclosing table whose position is known, then to line 1, column 1.
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["KeyPath", "Position", "SourceMap"]

#: A path from the document root: table keys are strings, array indexes ints.
KeyPath: TypeAlias = tuple[str | int, ...]

_BARE_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_SCALAR_END = frozenset(",]}#\n")
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    '"': '"',
    "\\": "\\",
}
_HEX_LENGTHS = {"x": 2, "u": 4, "U": 8}


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column (columns count characters, as tomli does)."""

    line: int
    column: int


class _StopScan(Exception):
    """The text is not TOML this scanner understands; keep what was found."""


class SourceMap:
    """Positions of the keys and values of one TOML document."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._line_starts = [0]
        self._line_starts.extend(i + 1 for i, char in enumerate(text) if char == "\n")
        self._keys: dict[KeyPath, int] = {}
        self._values: dict[KeyPath, int] = {}
        self._i = 0
        self._arrays_of_tables: dict[KeyPath, int] = {}
        with contextlib.suppress(_StopScan, IndexError, ValueError, RecursionError):
            self._scan_document()

    # -- queries -----------------------------------------------------------------------

    def position(self, offset: int) -> Position:
        """The line and column of a character offset in the text."""
        offset = max(0, min(offset, len(self._text)))
        line = bisect.bisect_right(self._line_starts, offset)
        return Position(line, offset - self._line_starts[line - 1] + 1)

    def key(self, path: KeyPath) -> Position | None:
        """Where the key at ``path`` is written, or None if it is not in the text."""
        offset = self._keys.get(path)
        return None if offset is None else self.position(offset)

    def value(self, path: KeyPath) -> Position | None:
        """Where the value at ``path`` starts, or None if it is not in the text."""
        offset = self._values.get(path)
        return None if offset is None else self.position(offset)

    def locate(self, path: KeyPath, *, at_key: bool = False) -> Position:
        """The best position for a problem with ``path``: its key or value, else its table.

        ``at_key`` prefers the key (unknown keys); otherwise the value comes first
        (wrong types, bad values). A path that is not in the text (a missing key)
        falls back to the nearest enclosing table or inline table, then to 1:1.
        """
        first, second = (self._keys, self._values) if at_key else (self._values, self._keys)
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            offset = first.get(prefix, second.get(prefix))
            if offset is not None:
                return self.position(offset)
        return Position(1, 1)

    # -- scanning ----------------------------------------------------------------------

    def _peek(self, ahead: int = 0) -> str:
        index = self._i + ahead
        return self._text[index] if index < len(self._text) else ""

    def _skip_blank(self, *, newlines: bool) -> None:
        """Skip spaces and tabs (and newlines and comments, when ``newlines``)."""
        text = self._text
        while self._i < len(text):
            char = text[self._i]
            if char in " \t" or (newlines and char in "\r\n"):
                self._i += 1
            elif char == "#" and newlines:
                end = text.find("\n", self._i)
                self._i = len(text) if end < 0 else end
            else:
                return

    def _skip_line_rest(self) -> None:
        end = self._text.find("\n", self._i)
        self._i = len(self._text) if end < 0 else end + 1

    def _scan_document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self._i >= len(self._text):
                return
            start = self._i
            if self._peek() == "[":
                table = self._scan_header()
            else:
                self._scan_key_value(table)
            if self._i <= start:
                raise _StopScan
            self._skip_line_rest()

    def _scan_header(self) -> KeyPath:
        start = self._i
        is_array = self._peek(1) == "["
        self._i += 2 if is_array else 1
        parts = self._scan_key()
        resolved: list[str | int] = []
        for number, (part, offset) in enumerate(parts):
            resolved.append(part)
            prefix = tuple(resolved)
            last = number == len(parts) - 1
            if last and is_array:
                count = self._arrays_of_tables.get(prefix, 0)
                self._arrays_of_tables[prefix] = count + 1
                self._keys.setdefault(prefix, start)
                resolved.append(count)
                prefix = tuple(resolved)
            elif prefix in self._arrays_of_tables:
                self._keys.setdefault(prefix, offset)
                resolved.append(self._arrays_of_tables[prefix] - 1)
                continue
            self._keys.setdefault(prefix, start if last else offset)
        return tuple(resolved)

    def _scan_key_value(self, table: KeyPath) -> None:
        parts = self._scan_key()
        self._skip_blank(newlines=False)
        if self._peek() != "=":
            raise _StopScan
        self._i += 1
        self._skip_blank(newlines=False)
        path = table
        for part, offset in parts:
            path = (*path, part)
            self._keys.setdefault(path, offset)
        self._scan_value(path)

    def _scan_key(self) -> list[tuple[str, int]]:
        """A dotted key: each part with the offset where it is written."""
        parts: list[tuple[str, int]] = []
        while True:
            self._skip_blank(newlines=False)
            offset = self._i
            char = self._peek()
            if char == '"':
                parts.append((self._scan_basic_string(decode=True), offset))
            elif char == "'":
                end = self._text.find("'", self._i + 1)
                if end < 0:
                    raise _StopScan
                parts.append((self._text[self._i + 1 : end], offset))
                self._i = end + 1
            else:
                text = self._text
                while self._i < len(text) and text[self._i] in _BARE_KEY_CHARS:
                    self._i += 1
                if self._i == offset:
                    raise _StopScan
                parts.append((text[offset : self._i], offset))
            self._skip_blank(newlines=False)
            if self._peek() != ".":
                return parts
            self._i += 1

    def _scan_basic_string(self, *, decode: bool) -> str:
        """A one-line basic string from its opening quote; decoded only when asked."""
        text = self._text
        self._i += 1
        chunks: list[str] = []
        while self._i < len(text):
            char = text[self._i]
            if char == '"':
                self._i += 1
                return "".join(chunks)
            if char == "\n":
                raise _StopScan
            if char == "\\":
                escape = self._peek(1)
                self._i += 2
                if not decode:
                    continue
                if escape in _ESCAPES:
                    chunks.append(_ESCAPES[escape])
                elif escape in _HEX_LENGTHS:
                    digits = text[self._i : self._i + _HEX_LENGTHS[escape]]
                    self._i += len(digits)
                    chunks.append(chr(int(digits, 16)))
                else:
                    chunks.append("\\" + escape)
                continue
            if decode:
                chunks.append(char)
            self._i += 1
        raise _StopScan

    def _scan_multiline_string(self, quote: str) -> None:
        text = self._text
        self._i += 3
        while self._i < len(text):
            if quote == '"' and text[self._i] == "\\":
                self._i += 2
            elif text.startswith(quote * 3, self._i):
                self._i += 3
                # Up to two more quotes may close the content itself.
                for _ in range(2):
                    if self._peek() == quote:
                        self._i += 1
                return
            else:
                self._i += 1
        raise _StopScan

    def _scan_value(self, path: KeyPath) -> None:
        self._values.setdefault(path, self._i)
        text = self._text
        char = self._peek()
        if char == '"':
            if text.startswith('"""', self._i):
                self._scan_multiline_string('"')
            else:
                self._scan_basic_string(decode=False)
        elif char == "'":
            if text.startswith("'''", self._i):
                self._scan_multiline_string("'")
            else:
                end = text.find("'", self._i + 1)
                if end < 0:
                    raise _StopScan
                self._i = end + 1
        elif char == "{":
            self._scan_inline_table(path)
        elif char == "[":
            self._scan_array(path)
        else:
            start = self._i
            while self._i < len(text) and text[self._i] not in _SCALAR_END:
                self._i += 1
            if self._i == start:
                raise _StopScan

    def _scan_inline_table(self, path: KeyPath) -> None:
        self._i += 1
        while True:
            self._skip_blank(newlines=True)
            char = self._peek()
            if char == "}":
                self._i += 1
                return
            if char == ",":
                self._i += 1
                continue
            if not char:
                raise _StopScan
            start = self._i
            self._scan_key_value(path)
            if self._i <= start:
                raise _StopScan

    def _scan_array(self, path: KeyPath) -> None:
        self._i += 1
        index = 0
        while True:
            self._skip_blank(newlines=True)
            char = self._peek()
            if char == "]":
                self._i += 1
                return
            if char == ",":
                self._i += 1
                continue
            if not char:
                raise _StopScan
            start = self._i
            self._scan_value((*path, index))
            index += 1
            if self._i <= start:
                raise _StopScan
