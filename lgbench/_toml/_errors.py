"""Errors of the workload layer.

::

    UsageError (exit code 2)
    ├── WorkloadError      an invalid workload file: carries every WorkloadIssue found
    ├── DurationError      a duration that is not "250ms", "30s", "1m30s", "2h" or seconds
    └── TemplateError      a template that cannot be parsed, or rendered at run time

``str(WorkloadError)`` is the exact text ``lgbench validate`` prints: one
``path:line:col: message (expected ...)`` line per issue, sorted by position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lgbench.errors import UsageError

__all__ = ["DurationError", "TemplateError", "WorkloadError", "WorkloadIssue"]


@dataclass(frozen=True, order=True)
class WorkloadIssue:
    """One problem in a workload file, at a 1-based line and column.

    ``line`` and ``column`` are 0 when the problem concerns the whole file (it
    cannot be read, for example). ``expected`` says what would have been
    accepted; it may be empty.
    """

    path: str
    line: int
    column: int
    message: str
    expected: str = ""

    def __str__(self) -> str:
        where = self.path if self.line <= 0 else f"{self.path}:{self.line}:{max(self.column, 1)}"
        text = f"{where}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class WorkloadError(UsageError):
    """An invalid workload: every issue found in the file, sorted by position."""

    issues: tuple[WorkloadIssue, ...]

    def __init__(self, issues: Iterable[WorkloadIssue]) -> None:
        ordered = tuple(sorted(set(issues)))
        if not ordered:
            raise ValueError("a WorkloadError needs at least one issue")
        self.issues = ordered
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


class _ProblemError(UsageError, ValueError):
    """A value error with a short ``problem`` and what was ``expected`` instead."""

    problem: str
    expected: str

    def __init__(self, problem: str, expected: str = "") -> None:
        self.problem = problem
        self.expected = expected
        super().__init__(f"{problem}; expected {expected}" if expected else problem)


class DurationError(_ProblemError):
    """A duration string or number that cannot be read; ``expected`` lists the accepted forms."""


class TemplateError(_ProblemError):
    """A template that is malformed, or that cannot be rendered with the variables at hand."""
