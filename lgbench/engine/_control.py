"""Stopping a run: gracefully first, at once the second time.

:class:`RunControl` is shared by the runner and every scenario. :meth:`RunControl.request_stop`
(the first Ctrl-C or SIGTERM, or a caller) sets :attr:`RunControl.stop_requested`: scenarios
start no new iteration, and iterations in flight get their scenario's ``graceful_stop`` before
they are cancelled. A second request, or :meth:`RunControl.cancel`, cancels the whole run at
once. Either way the runner still writes what was recorded, marked partial.

Create it inside the event loop (it holds an :class:`anyio.Event`).
"""

from __future__ import annotations

from typing import final

import anyio

__all__ = ["RunControl"]


@final
class RunControl:
    """Graceful and immediate stops of one run (see the module docstring)."""

    __slots__ = ("_scopes", "cancelled", "reason", "stop_requested")

    def __init__(self) -> None:
        self.stop_requested = anyio.Event()
        self.reason: str | None = None
        self.cancelled = False
        self._scopes: list[anyio.CancelScope] = []

    @property
    def stopping(self) -> bool:
        """True once a stop was requested (gracefully or not)."""
        return self.stop_requested.is_set()

    def request_stop(self, reason: str = "stopped") -> None:
        """Stop gracefully; the second call stops at once."""
        if self.stop_requested.is_set():
            self.cancel(reason)
            return
        self.reason = reason
        self.stop_requested.set()

    def cancel(self, reason: str = "cancelled") -> None:
        """Cancel the run at once (its results so far are still written)."""
        if self.reason is None:
            self.reason = reason
        self.cancelled = True
        self.stop_requested.set()
        for scope in self._scopes:
            scope.cancel()

    def bind(self, scope: anyio.CancelScope) -> None:
        """The cancel scope :meth:`cancel` cancels (the runner's, around every scenario)."""
        self._scopes.append(scope)
        if self.cancelled:
            scope.cancel()
