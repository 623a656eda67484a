"""How deep JSON nests, measured before it is decoded, cheaply enough for every answer.

A server (or anything in front of it) may answer ``[[[[…]]]]`` a million levels deep.
Python's decoder stops at its recursion limit with a ``RecursionError``, and a value just
under that limit breaks the next recursive step instead (a ``repr`` in an error message,
the history's encoder). :func:`loads_within_depth` refuses JSON nested deeper than a limit
far below the recursion limit, so every value lgbench holds can be walked recursively.

Cost: the answer is reduced to its brackets by one C ``bytes.translate`` (about 0.7 ns a
byte; text is encoded first); fewer brackets than twice the limit settle it. Otherwise
each pass of ``replace("[]", "")`` removes exactly one level of nesting, so a normal
answer (depth 5 to 10) needs as many passes over its brackets only; a run of
more opening brackets in a row than the limit settles the usual bomb at once. Brackets
inside strings may mislead that count: whenever it does not say "within the limit", it
is done again with the strings cut out first (a regex: the slow path, for odd answers
only, never for a refused one's innocent twin).

Decoding: msgspec's decoder first (about 5x faster than ``json.loads`` on a small event,
see benchmarks/README.md), and ``json.loads`` whenever msgspec refuses the text. msgspec
refuses everything ``json.loads`` refuses, and more: ``NaN`` and ``Infinity``, numbers
beyond a float (``1e400``), lone surrogates, a BOM, UTF-16 and UTF-32 bytes. Every such
text goes to ``json.loads``, which then decodes it as it always did or raises the error it
always raised, so the values (big ints included) and the errors are ``json.loads``'s own.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import msgspec

from lgbench.client._errors import ResponseLimitError

__all__ = ["json_too_deep", "loads_strict", "loads_within_depth"]

_TO_SQUARE: Final = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_BYTES_STRINGS: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_loads: Final = json.loads
#: msgspec's decoder alone: what it accepts it decodes to ``json.loads``'s value; it raises
#: ValueError (or RecursionError) for the rest, which only ``json.loads`` may then decide.
#: For a text no longer than ``2 * max_depth`` (it cannot nest deeper) on hot paths.
loads_strict: Final = msgspec.json.Decoder().decode


def _levels_exceed(skeleton: bytes, max_depth: int) -> bool | None:
    """Whether balanced brackets nest deeper than ``max_depth`` (None: not balanced)."""
    if b"[" * (max_depth + 1) in skeleton:
        return True
    for _ in range(max_depth):
        if not skeleton:
            return False
        shorter = skeleton.replace(b"[]", b"")
        if len(shorter) == len(skeleton):
            return None
        skeleton = shorter
    return bool(skeleton)


def _skeleton(text: bytes, strip_strings: bool) -> bytes:
    if strip_strings:
        text = _BYTES_STRINGS.sub(b"", text)
    return text.translate(_TO_SQUARE, _NOT_BRACKETS)


def json_too_deep(text: bytes | str, max_depth: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects more than ``max_depth`` deep.

    Text that is not JSON gets an answer too (the decoder then says what is wrong).
    """
    if len(text) <= 2 * max_depth:
        return False  # most events: too short to nest that deep
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    skeleton = _skeleton(text, strip_strings=False)
    if len(skeleton) <= 2 * max_depth:
        return False  # too few brackets to nest that deep, whatever their order
    if _levels_exceed(skeleton, max_depth) is False:
        return False
    # Too deep, or unbalanced: brackets inside strings may have misled the count (or the
    # JSON is broken). Count again without the strings to be sure.
    return bool(_levels_exceed(_skeleton(text, strip_strings=True), max_depth))


def loads_within_depth(text: bytes | str, max_depth: int) -> Any:
    """``json.loads(text)``, or :class:`ResponseLimitError` when it nests past ``max_depth``.

    ``ValueError`` for text that is not JSON, as ``json.loads`` raises it.
    """
    # The length test first: most events are far too short to nest past the limit.
    if len(text) > 2 * max_depth and json_too_deep(text, max_depth):
        raise ResponseLimitError(f"JSON nested deeper than {max_depth} levels")
    try:
        return loads_strict(text)
    except (ValueError, RecursionError):
        # msgspec.DecodeError is a ValueError; a str with a lone surrogate raises
        # UnicodeEncodeError. json.loads has the last word on all of them.
        pass
    try:
        return _loads(text)
    except RecursionError:
        # Only when the limit is set near Python's own recursion limit.
        raise ResponseLimitError("JSON nested deeper than Python can decode") from None
