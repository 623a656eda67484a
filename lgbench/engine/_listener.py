"""What a run tells the outside world as it goes: :class:`RunListener`.

A listener (``RunOptions.listeners``) hears of the run's start, each closed interval, each
fault starting or ending, each ``abort_on_fail`` threshold breached, and the final summary.
Every call is made on the event loop, synchronously, where the figures are recorded: a
listener must be quick (no I/O; hand work to a thread of its own) and must not keep the
recorder (other threads may never read it). A listener that raises is reported as a warning
and heard from no more: it never costs the run its results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, final

if TYPE_CHECKING:
    from lgbench.engine._recorder import Recorder, Snapshot

__all__ = ["RunListener", "RunStart"]


@final
@dataclass(frozen=True, slots=True)
class RunStart:
    """What a listener is told when the load begins."""

    workload: str
    run_dir: Path
    planned_s: float
    started_at_unix_s: float
    interval_s: float


class RunListener(Protocol):
    """Hears a run's figures as they come (see the module docstring)."""

    def run_started(self, start: RunStart) -> None:
        """The load is about to begin (the recorder exists, nothing is recorded yet)."""

    def interval_closed(self, snapshot: Snapshot, recorder: Recorder) -> None:
        """An interval closed: ``snapshot`` holds its own figures, ``recorder`` the cumulative
        ones (to be read now, never kept)."""

    def fault_changed(self, name: str, kind: str, phase: str, at_s: float) -> None:
        """A scheduled fault started (``phase == "start"``) or ended, at ``at_s`` seconds."""

    def threshold_breached(self, name: str) -> None:
        """An ``abort_on_fail`` threshold failed during the run."""

    def run_finished(self, summary: Mapping[str, Any], check: Mapping[str, Any] | None) -> None:
        """``summary.json`` was written (``check``: the checker's verdict, when it ran)."""
