"""The one exception tree of lgbench.

Every error lgbench raises on purpose derives from :class:`LgbenchError` and
carries the exit code the command line ends with::

    LgbenchError (1)
    ├── UsageError (2)                 bad flags, invalid workload
    ├── TargetError (3)                target unreachable
    │   └── ServerError (3)            embedded server missing or failed to start
    └── ClientError (1)                lgbench.client: see lgbench.client._errors
        ├── TransportError (3)         connect refused, reset, timeout, protocol
        └── ApiError (1)               HTTP error status with the server's body

The client subtree lives in :mod:`lgbench.client._errors` so the client stays
usable on its own; it is re-exported here.
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
