"""The most frequent error messages of an operation, in bounded memory.

A run that fails 1,364 times in a row with the same HTTP 422 must say *why* in its summary,
not only deep in ``history.jsonl``. Each :class:`ErrorTally` counts errors by ``(kind,
status, message)``, where the message is what the server said (the ``detail`` of an error
answer, not the request line, which holds ids) with ids and long numbers folded to ``<id>``
and ``<n>`` so that one cause stays one entry. At most :data:`MAX_DISTINCT` distinct entries
are kept per tally; errors with any further message are counted in ``unlisted``, so a soak's
memory does not grow with the number of distinct messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, final

from lgbench.client import ApiError, RunError, TimeoutError, TransportError

if TYPE_CHECKING:
    from lgbench.workload import ExpectedErrors

__all__ = [
    "MAX_DISTINCT",
    "MAX_MESSAGE_CHARS",
    "ErrorTally",
    "describe_error",
    "error_message",
    "never_succeeded",
    "never_succeeded_message",
    "run_error_message",
]

MAX_DISTINCT: Final = 32
"""Distinct ``(kind, status, message)`` entries kept per tally; the rest are only counted."""

MAX_MESSAGE_CHARS: Final = 200
_WARNING_MESSAGE_CHARS: Final = 80

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX_ID = re.compile(r"\b[0-9a-fA-F]{24,}\b")
_NUMBER = re.compile(r"\b\d{5,}\b")

_Key = tuple[str, int | None, str]


def _fold(text: str) -> str:
    text = _UUID.sub("<id>", text)
    text = _HEX_ID.sub("<id>", text)
    text = _NUMBER.sub("<n>", text)
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text


def _body_text(body: Any) -> str:
    if isinstance(body, Mapping):
        for field in ("detail", "message", "error"):
            value = body.get(field)
            if value:
                return value if isinstance(value, str) else repr(value)
        return repr(dict(body))
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return "" if body is None else str(body)


def error_message(exc: BaseException | None, *, cancelled: bool = False) -> str:
    """What an error says, without the request line: an error answer's ``detail``, a graph
    failure's exception, else the exception's text (ids folded, at most 200 characters)."""
    if cancelled or exc is None:
        return "cancelled while in flight"
    if isinstance(exc, ApiError):
        text = _body_text(exc.body) or f"HTTP {exc.status_code}"
    elif isinstance(exc, RunError):
        text = f"{exc.error}: {exc.message}" if exc.message else str(exc.error)
    elif isinstance(exc, TimeoutError | TransportError):
        text = str(exc) or type(exc).__name__
    else:
        text = f"{type(exc).__name__}: {exc}"
    return _fold(text)


def run_error_message(error: Any) -> str:
    """The message of a graph failure reported inside a successful answer or stream."""
    if isinstance(error, RunError):
        return error_message(error)
    if isinstance(error, Mapping):
        name = error.get("error")
        message = error.get("message")
        if name or message:
            return _fold(f"{name}: {message}" if name and message else str(name or message))
    return _fold(str(error) if error is not None else "the run failed")


@final
class ErrorTally:
    """Errors counted by ``(kind, status, message)``; see the module docstring."""

    __slots__ = ("_counts", "unlisted")

    def __init__(self) -> None:
        self._counts: dict[_Key, int] = {}
        self.unlisted = 0

    def add(self, kind: str, status: int | None, message: str, count: int = 1) -> None:
        key = (kind, status, message)
        if key in self._counts:
            self._counts[key] += count
        elif len(self._counts) < MAX_DISTINCT:
            self._counts[key] = count
        else:
            self.unlisted += count

    def merge(self, other: ErrorTally) -> None:
        for (kind, status, message), count in other._counts.items():
            self.add(kind, status, message, count)
        self.unlisted += other.unlisted

    def __len__(self) -> int:
        return len(self._counts)

    @property
    def total(self) -> int:
        return sum(self._counts.values()) + self.unlisted

    def top(self, limit: int = 5) -> list[dict[str, Any]]:
        """The ``limit`` most frequent entries, most frequent first, as summary.json has them."""
        ranked = sorted(self._counts.items(), key=lambda item: (-item[1], item[0][0], item[0][2]))
        return [
            {"kind": kind, "status": status, "message": message, "count": count}
            for (kind, status, message), count in ranked[:limit]
        ]

    def entries(self) -> Iterable[tuple[str, int | None, str, int]]:
        for (kind, status, message), count in self._counts.items():
            yield kind, status, message, count


def _error_counts(operation: Mapping[str, Any]) -> list[tuple[str, int | None, int]]:
    """``(kind, status, count)`` of an operation's errors, from summary.json's form."""
    by_kind = operation.get("errors_by_kind") or {}
    found: list[tuple[str, int | None, int]] = []
    for kind, value in by_kind.items():
        if kind == "http" and isinstance(value, Mapping):
            found += [(kind, int(status), int(n)) for status, n in value.items() if n]
        elif isinstance(value, int) and value:
            found.append((kind, None, value))
    return found


def never_succeeded(
    operations: Mapping[str, Any],
    expected: Callable[[str], ExpectedErrors | None],
    unsupported: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The operations of a summary that failed every time they ended (cancellations by a
    graceful stop aside): ``{"operation", "count", "errors", "expected", "unsupported",
    "top_errors"}``, where ``expected`` says whether ``[expected_errors]`` covers every one of
    its errors and ``unsupported`` whether it is among the operations the server lacks."""
    lacking = frozenset(unsupported)
    found: list[dict[str, Any]] = []
    for name, operation in operations.items():
        errors = _error_counts(operation)
        if operation.get("ok", 0) > 0 or not any(kind != "cancelled" for kind, _, _ in errors):
            continue
        declared = expected(name)
        covered = declared is not None and all(
            declared.covers(kind, status) for kind, status, _ in errors if kind != "cancelled"
        )
        found.append(
            {
                "operation": name,
                "count": operation.get("count", 0),
                "errors": operation.get("errors", 0),
                "expected": covered,
                "unsupported": name in lacking,
                "top_errors": list(operation.get("top_errors", []))[:3],
            }
        )
    return found


def describe_error(entry: Mapping[str, Any], *, max_chars: int | None = None) -> str:
    """``HTTP 422 "Invalid assistant: 'nope'"`` / ``timeout "..."``: one top_errors entry."""
    kind = entry.get("kind")
    head = f"HTTP {entry.get('status')}" if kind == "http" else str(kind)
    message = str(entry.get("message") or "")
    if max_chars is not None and len(message) > max_chars:
        message = message[: max_chars - 1] + "…"
    return f'{head} "{message}"' if message else head


def never_succeeded_message(entry: Mapping[str, Any]) -> str:
    """The warning for one :func:`never_succeeded` entry."""
    text = f"{entry['operation']} never succeeded: {entry['errors']} of {entry['count']} failed"
    top = entry.get("top_errors") or []
    if entry.get("unsupported"):
        text += ": the server does not implement it (see unsupported)"
    elif top:
        shown = describe_error(top[0], max_chars=_WARNING_MESSAGE_CHARS)
        text += f", most often {shown} ({top[0]['count']} times)"
    if entry.get("expected"):
        text += " (every error is listed in [expected_errors])"
    return text
