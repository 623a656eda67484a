"""The one error of the results model."""

from __future__ import annotations

from lgbench.errors import UsageError

__all__ = ["ResultsError"]


class ResultsError(UsageError):
    """A summary.json that is not one (not JSON, a value of the wrong type, whose message names
    its path such as ``$.operations[...].count``, or a ``schema_version`` this lgbench
    cannot read), or two results that cannot be merged. Bad input: exit code 2."""
