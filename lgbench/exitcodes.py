"""Process exit codes of the ``lgbench`` command.

These values are a contract with CI pipelines: never renumber one, only add.
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode"]


class ExitCode(enum.IntEnum):
    #: Everything ran and every gate passed.
    OK = 0
    #: lgbench itself failed: a bug, never the user's or the target's fault.
    INTERNAL_ERROR = 1
    #: Bad command-line usage or an invalid workload file.
    USAGE = 2
    #: The target is unreachable, or the embedded server could not start.
    TARGET = 3
    #: One or more thresholds (or a baseline comparison) failed.
    THRESHOLDS = 4
    #: The semantics checker found anomalies (wins over THRESHOLDS).
    ANOMALIES = 5
