"""CPU and memory of a process (and its children) between two samples, through psutil.

For the embedded server (its pid, children included: langgraph-api may fork workers) and for
lgbench itself (``os.getpid()``, no children), so a soak report shows both sides' resources.

- ``cpu_percent`` is the CPU time the tree used since the previous sample over the wall time
  between them (100 = one core busy; it can exceed 100). The first sample, and the first after
  the pid changed or the process restarted, has none: there is no baseline yet. A child that
  starts between two samples counts from its birth; the last slice of a child that exits
  between two samples is lost (it is no longer there to ask).
- ``rss_bytes`` sums the resident set of every process in the tree. Pages a forked child
  shares with its parent count once per process, so this is an upper bound; the exact
  figure (USS/PSS) costs a read of every mapping, far too slow to take each second.

A process that has died gives a sample with ``alive`` false and no figures, never an error;
:meth:`ProcessSampler.set_pid` points the sampler at a restarted server. Each sample reads a
few /proc files per process (well under a millisecond for a handful), so it is called
directly from the event loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, final

import psutil

__all__ = ["ProcessSample", "ProcessSampler", "machine_cpu_percent"]


def machine_cpu_percent() -> float:
    """How busy the whole machine was since the previous call, 0 to 100 (100: every core
    busy); the first call has nothing to compare with and answers 0."""
    return float(psutil.cpu_percent(interval=None))


# Start times come from /proc in clock ticks (1/100 s), so a child born just after a sample
# may appear to predate it by up to a tick; and a child unseen by the previous sample can only
# have been born after it, so the slack cannot count anything twice.
_START_SLACK_S = 0.05

# A process is identified by its pid and its start time: a pid can be reused.
_Identity = tuple[int, float]


@final
@dataclass(frozen=True, slots=True)
class ProcessSample:
    """One sample of a process tree; figures are ``None`` when unknown (see the module doc)."""

    pid: int | None
    alive: bool
    cpu_percent: float | None
    rss_bytes: int | None
    processes: int

    def to_dict(self) -> dict[str, Any]:
        """``{"pid", "alive", "cpu_percent", "rss_bytes", "processes"}``."""
        return {
            "pid": self.pid,
            "alive": self.alive,
            "cpu_percent": self.cpu_percent,
            "rss_bytes": self.rss_bytes,
            "processes": self.processes,
        }


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@final
class ProcessSampler:
    """Samples one process (and, with ``include_children``, its descendants)."""

    __slots__ = ("_cpu", "_last_s", "_last_wall_s", "_root", "include_children", "pid")

    def __init__(self, pid: int | None, *, include_children: bool = True) -> None:
        self.include_children = include_children
        self.pid: int | None = None
        self._root: psutil.Process | None = None
        self._cpu: dict[_Identity, float] = {}
        self._last_s: float | None = None
        self._last_wall_s = 0.0
        self.set_pid(pid)

    def set_pid(self, pid: int | None) -> None:
        """Sample ``pid`` from now on (``None``: nothing); a new pid starts the CPU baseline
        again, the same pid keeps it."""
        if pid == self.pid and self._last_s is not None:
            return
        self.pid = pid
        self._root = None
        self._reset()

    def _reset(self) -> None:
        self._cpu = {}
        self._last_s = None

    def _tree(self) -> list[psutil.Process] | None:
        """The root and its descendants, or ``None`` when the root is gone."""
        if self.pid is None:
            return None
        root = self._root
        try:
            if root is None:
                root = self._root = psutil.Process(self.pid)
                self._reset()
            elif not root.is_running():  # compares the start time too: no pid reuse
                self._root = None
                return None
            if root.status() == psutil.STATUS_ZOMBIE:
                return None
            if not self.include_children:
                return [root]
            return [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self._root = None
            return None

    def sample(self) -> ProcessSample:
        """The tree's CPU since the previous call and its RSS now."""
        # Real time on purpose, not the event loop's clock: CPU seconds are real seconds, and
        # a test's virtual clock would make the ratio meaningless.
        now_s = time.monotonic()
        now_wall_s = time.time()
        tree = self._tree()
        if tree is None:
            self._reset()
            return ProcessSample(
                self.pid, alive=False, cpu_percent=None, rss_bytes=None, processes=0
            )
        cpu: dict[_Identity, float] = {}
        used_s = 0.0
        rss = 0
        for process in tree:
            try:
                with process.oneshot():
                    identity = (process.pid, process.create_time())
                    cpu_s = _cpu_s(process)
                    rss += int(process.memory_info().rss)
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                if process is tree[0]:
                    self._root = None
                    self._reset()
                    return ProcessSample(
                        self.pid, alive=False, cpu_percent=None, rss_bytes=None, processes=0
                    )
                continue  # a child that ended meanwhile
            cpu[identity] = cpu_s
            before = self._cpu.get(identity)
            if before is not None:
                used_s += max(0.0, cpu_s - before)
            elif self._last_s is not None and identity[1] >= self._last_wall_s - _START_SLACK_S:
                used_s += cpu_s  # born since the previous sample: all its time is new
        elapsed_s = None if self._last_s is None else now_s - self._last_s
        self._cpu = cpu
        self._last_s = now_s
        self._last_wall_s = now_wall_s
        cpu_percent = 100.0 * used_s / elapsed_s if elapsed_s else None
        return ProcessSample(
            self.pid, alive=True, cpu_percent=cpu_percent, rss_bytes=rss, processes=len(cpu)
        )

    def __repr__(self) -> str:
        return f"<ProcessSampler pid={self.pid} include_children={self.include_children}>"
