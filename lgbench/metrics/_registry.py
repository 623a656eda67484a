"""The metrics registry: live per-key metrics, interval snapshots and cumulative totals.

Recording goes into the live :class:`~lgbench.metrics.OperationMetrics` of each key. Every
interval (a few seconds; an .hlog line each), :meth:`MetricsRegistry.snapshot_interval` hands
the live contents over in an :class:`IntervalSnapshot`, starts the live metrics again empty, and
merges the interval into the cumulative totals. So memory stays bounded over an 8-hour soak,
and each interval histogram holds exactly what was recorded in that interval.

Across processes (several workers on one machine), :meth:`MetricsRegistry.to_dict` gives the
totals as JSON-ready data with encoded histograms, and :meth:`MetricsRegistry.merge_dict` adds
such data into another registry. Histograms never pickle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, final

from lgbench.metrics._operation import MetricKey, OperationMetrics

__all__ = ["SCHEMA_VERSION", "IntervalSnapshot", "MetricsRegistry"]

SCHEMA_VERSION = 1
"""Version of the :meth:`MetricsRegistry.to_dict` and :meth:`IntervalSnapshot.to_dict` data."""


def _by_operation(
    metrics: Iterable[tuple[MetricKey, OperationMetrics]],
) -> dict[str, OperationMetrics]:
    merged: dict[str, OperationMetrics] = {}
    for key, each in sorted(metrics, key=lambda item: item[0]):
        merged.setdefault(key.operation, OperationMetrics()).merge(each)
    return merged


def _entries(metrics: Mapping[MetricKey, OperationMetrics]) -> list[dict[str, Any]]:
    return [
        {"key": key.to_dict(), "metrics": each.to_dict()} for key, each in sorted(metrics.items())
    ]


@final
@dataclass(frozen=True, slots=True, eq=False)
class IntervalSnapshot:
    """What was recorded from ``start_s`` to ``end_s`` (seconds since the run's start), per key."""

    start_s: float
    end_s: float
    metrics: Mapping[MetricKey, OperationMetrics]

    @property
    def length_s(self) -> float:
        """``end_s - start_s``."""
        return self.end_s - self.start_s

    def by_operation(self) -> dict[str, OperationMetrics]:
        """The interval's metrics merged across scenarios and tags, by operation name."""
        return _by_operation(self.metrics.items())

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per operation, the interval's summary (rates over the interval's length)."""
        return {
            operation: each.summary(self.length_s)
            for operation, each in self.by_operation().items()
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, histograms encoded."""
        return {
            "schema_version": SCHEMA_VERSION,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "metrics": _entries(self.metrics),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> IntervalSnapshot:
        """Inverse of :meth:`to_dict`."""
        _check_schema(state)
        metrics = {
            MetricKey.from_dict(entry["key"]): OperationMetrics.from_dict(entry["metrics"])
            for entry in state["metrics"]
        }
        return cls(float(state["start_s"]), float(state["end_s"]), metrics)


def _check_schema(state: Mapping[str, Any]) -> None:
    if state.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"metrics data has schema_version {state.get('schema_version')!r},"
            f" expected {SCHEMA_VERSION}"
        )


@final
class MetricsRegistry:
    """Metrics per (operation, scenario, tags) for one run.

    ``origin_s`` is the run's start on the clock passed to :meth:`snapshot_interval`
    (``anyio.current_time()``); snapshot times are reported as seconds since it.
    """

    __slots__ = ("_elapsed_s", "_live", "_totals", "origin_s")

    def __init__(self, origin_s: float = 0.0) -> None:
        self.origin_s = origin_s
        self._live: dict[MetricKey, OperationMetrics] = {}
        self._totals: dict[MetricKey, OperationMetrics] = {}
        self._elapsed_s = 0.0

    def metrics(
        self, operation: str, scenario: str = "", tags: Mapping[str, str] | None = None
    ) -> OperationMetrics:
        """The live metrics to record into for a key, created on first use.

        The object stays the same for the whole run (snapshots swap its contents), so callers
        may keep it instead of looking it up per request.
        """
        return self.metrics_for(MetricKey.of(operation, scenario, tags))

    def metrics_for(self, key: MetricKey) -> OperationMetrics:
        """Like :meth:`metrics`, by key."""
        live = self._live.get(key)
        if live is None:
            live = self._live[key] = OperationMetrics()
        return live

    def snapshot_interval(self, now_s: float) -> IntervalSnapshot:
        """Close the interval at ``now_s`` (same clock as ``origin_s``) and start the next.

        Returns what every key recorded since the previous snapshot (keys that recorded nothing
        are there, empty); the live metrics start again empty; the totals absorb the interval.
        """
        end_s = now_s - self.origin_s
        if end_s < self._elapsed_s:
            raise ValueError(
                f"snapshot at {end_s} s is before the previous one at {self._elapsed_s} s"
            )
        interval: dict[MetricKey, OperationMetrics] = {}
        for key, live in self._live.items():
            taken = interval[key] = live.take()
            total = self._totals.get(key)
            if total is None:
                total = self._totals[key] = OperationMetrics()
            total.merge(taken)
        snapshot = IntervalSnapshot(self._elapsed_s, end_s, interval)
        self._elapsed_s = end_s
        return snapshot

    @property
    def elapsed_s(self) -> float:
        """End of the last snapshot, in seconds since ``origin_s``: what the totals cover."""
        return self._elapsed_s

    @property
    def totals(self) -> Mapping[MetricKey, OperationMetrics]:
        """Cumulative metrics per key up to the last snapshot (read-only view)."""
        return MappingProxyType(self._totals)

    def totals_by_operation(self) -> dict[str, OperationMetrics]:
        """Cumulative metrics merged across scenarios and tags, by operation name."""
        return _by_operation(self._totals.items())

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per operation, the cumulative summary (rates over ``elapsed_s``).

        Take a last :meth:`snapshot_interval` first: the totals stop at the last snapshot.
        """
        return {
            operation: each.summary(self._elapsed_s)
            for operation, each in self.totals_by_operation().items()
        }

    def copy(self) -> MetricsRegistry:
        """A registry holding a copy of these totals (live metrics start empty in it).

        Taken where the recording happens, it can be summarised in another thread while
        recording goes on here.
        """
        twin = MetricsRegistry(self.origin_s)
        twin._totals = {key: metrics.copy() for key, metrics in self._totals.items()}
        twin._elapsed_s = self._elapsed_s
        return twin

    def to_dict(self) -> dict[str, Any]:
        """The totals as JSON-ready data (histograms encoded), for another process to merge."""
        return {
            "schema_version": SCHEMA_VERSION,
            "elapsed_s": self._elapsed_s,
            "metrics": _entries(self._totals),
        }

    def merge_dict(self, state: Mapping[str, Any]) -> None:
        """Add another registry's :meth:`to_dict` into these totals.

        ``elapsed_s`` becomes the longer of the two (workers of one run share its clock).
        """
        _check_schema(state)
        for entry in state["metrics"]:
            key = MetricKey.from_dict(entry["key"])
            total = self._totals.get(key)
            if total is None:
                total = self._totals[key] = OperationMetrics()
            total.merge_dict(entry["metrics"])
        self._elapsed_s = max(self._elapsed_s, float(state["elapsed_s"]))
