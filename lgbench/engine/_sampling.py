"""What a run samples beside its own figures: the target's ``/metrics``, CPU and memory.

:class:`RunSampler` runs in its own task (a slow or silent target never delays an interval's
close) and keeps only the newest sample; the runner takes it into the next
``timeseries.jsonl`` line as ``server`` (the target's queue and workers, and the embedded
server's CPU and RSS) and ``lgbench`` (lgbench's own CPU and RSS).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final, final

import anyio

from lgbench.client import HttpClient
from lgbench.observe import ProcessSampler, ServerSampler, machine_cpu_percent

__all__ = ["RunSampler"]

#: The target's figures kept per interval (the rest are cumulative counters).
_SERVER_FIGURES: Final = ("queue.", "workers.")
_PROCESS_FIGURES: Final = ("cpu_percent", "rss_bytes")


@final
class RunSampler:
    """Samples once per interval. ``server_pid`` gives the embedded server's pid, which a
    restart (fault injection) changes; None for a target lgbench did not start."""

    __slots__ = ("_latest", "_processes", "_server_pid", "cpu_peaks", "target")

    def __init__(
        self,
        http: HttpClient,
        *,
        server_pid: Callable[[], int | None] | None,
        on_warning: Callable[[str], None],
    ) -> None:
        self.target = ServerSampler(http, on_warning=on_warning)
        self._server_pid = server_pid
        self._processes = {"lgbench": ProcessSampler(os.getpid(), include_children=False)}
        if server_pid is not None:
            self._processes["server"] = ProcessSampler(server_pid())
        self._latest: dict[str, dict[str, Any]] = {}
        #: The highest one-interval CPU use (100 = one core) seen per process, ``lgbench`` and
        #: ``server``: whether lgbench's lag was its own doing or the machine's.
        self.cpu_peaks: dict[str, float] = {}

    def take(self) -> dict[str, dict[str, Any]]:
        """The newest sample, once (empty when none came since the last take)."""
        latest, self._latest = self._latest, {}
        return latest

    def status(self) -> dict[str, Any]:
        """For summary.json's ``server.sampling``."""
        return {"status": self.target.status, "sources": list(self.target.sources)}

    async def run(self, interval_s: float) -> None:
        while True:
            self._latest = await self._sample()
            await anyio.sleep(interval_s)

    async def _sample(self) -> dict[str, dict[str, Any]]:
        samples: dict[str, dict[str, Any]] = {}
        if self.target.active:
            figures = await self.target.sample()
            server: dict[str, Any] = {
                key: value
                for key, value in figures.items()
                if key.startswith(_SERVER_FIGURES) and value is not None
            }
            for key in _PROCESS_FIGURES:
                value = figures.get(f"process.{key}")
                if value is not None:
                    server[key] = value
            if server:
                samples["server"] = server
        # The machine as a whole: a late timer with lgbench's own CPU low is the machine's
        # doing only if the machine was busy; otherwise lgbench's loop was blocked.
        machine = machine_cpu_percent()
        self.cpu_peaks["machine"] = max(self.cpu_peaks.get("machine", 0.0), machine)
        for name, process in self._processes.items():
            if name == "server" and self._server_pid is not None:
                process.set_pid(self._server_pid())
            sample = process.sample()
            if sample.alive:
                if sample.cpu_percent is not None:
                    self.cpu_peaks[name] = max(self.cpu_peaks.get(name, 0.0), sample.cpu_percent)
                measured = {"cpu_percent": sample.cpu_percent, "rss_bytes": sample.rss_bytes}
                # The process's own measure wins over what the server says of itself.
                samples.setdefault(name, {}).update(
                    (key, value) for key, value in measured.items() if value is not None
                )
        return samples
