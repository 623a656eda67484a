"""The one exception tree of lgbench.

Every error lgbench raises on purpose derives from :class:`LgbenchError` and
carries the exit code the command line ends with::

    LgbenchError (1)
    ├── UsageError (2)                 bad flags, invalid workload
    │   ├── WorkloadError (2)          lgbench.workload: every issue with file:line:col
    │   ├── DurationError (2)          lgbench.workload: a bad duration ("10x")
    │   ├── TemplateError (2)          lgbench.workload: a bad ${...} template
    │   ├── ScheduleError (2)          lgbench.engine: an impossible rate or plan
    │   ├── ServerConfigError (2)      lgbench.server: bad embedded-server options
    │   └── ResultsError (2)           lgbench.results: a summary.json that is not one
    ├── TargetError (3)                target unreachable
    │   └── ServerError (3)            embedded server missing or failed to start
    └── ClientError (1)                lgbench.client: see lgbench.client._errors
        ├── TransportError (3)         connect refused, reset, timeout, protocol
        ├── ApiError (1)               HTTP error status with the server's body
        └── RunError (1)               a run's graph failed (wait/join answered __error__)

Subtrees live beside the code that raises them, so each part stays usable on its
own; this drawing is the one map of the whole tree.
"""

from __future__ import annotations

from typing import ClassVar

from lgbench.exitcodes import ExitCode

__all__ = ["LgbenchError", "ServerError", "TargetError", "UsageError"]


class LgbenchError(Exception):
    """Base of every error lgbench raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL_ERROR


class UsageError(LgbenchError):
    """Bad command-line usage or an invalid workload."""

    exit_code = ExitCode.USAGE


class TargetError(LgbenchError):
    """The target cannot be reached or used."""

    exit_code = ExitCode.TARGET


class ServerError(TargetError):
    """The embedded server is not installed, failed to start, or died."""
