"""Per-operation metrics: latency histograms plus outcome counts, keyed by operation.

Latency is measured honestly for each load model:

- **Open model** (arrival rate): :meth:`OperationMetrics.record` takes the iteration's
  *intended* start, so a dispatcher or server that falls behind shows up as latency instead of
  being hidden (no coordinated omission to correct).
- **Closed model** (VUs looping): :meth:`OperationMetrics.record_corrected` records the raw
  latency in :attr:`~OperationMetrics.latency` and the back-filled one (HdrHistogram's
  ``record_corrected_value``) in the separate :attr:`~OperationMetrics.corrected` histogram.
  Both never go into one histogram.

The latency histograms hold operations that got a response, successful or an HTTP error;
transport errors and timeouts are counted apart, so a timeout never appears as a latency
capped at the timeout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, final

from lgbench.metrics._hdr import LatencyRecorder

__all__ = ["MetricKey", "OperationMetrics", "latency_us"]


def latency_us(start_s: float, end_s: float) -> int:
    """Whole microseconds from ``start_s`` to ``end_s`` (seconds on one clock), rounded."""
    if math.isnan(start_s) or math.isnan(end_s):
        raise ValueError("latency from a NaN time")
    return round((end_s - start_s) * 1_000_000)


@final
@dataclass(frozen=True, slots=True, order=True)
class MetricKey:
    """What metrics are kept apart by: operation, scenario and sorted ``(name, value)`` tags.

    The operation name is the one used everywhere (``threads.create``, ``runs.stream``).
    """

    operation: str
    scenario: str = ""
    tags: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.operation:
            raise ValueError("a metric key needs an operation name")
        tags = tuple(sorted((str(name), str(value)) for name, value in self.tags))
        if len({name for name, _ in tags}) != len(tags):
            raise ValueError(f"tag names repeat: {tags!r}")
        object.__setattr__(self, "tags", tags)

    @classmethod
    def of(
        cls, operation: str, scenario: str = "", tags: Mapping[str, str] | None = None
    ) -> MetricKey:
        """A key from a tag mapping."""
        return cls(operation, scenario, tuple((tags or {}).items()))

    def label(self) -> str:
        """``runs.wait`` or ``runs.wait{scenario=chat,strategy=enqueue}``, for humans."""
        parts = ([f"scenario={self.scenario}"] if self.scenario else []) + [
            f"{name}={value}" for name, value in self.tags
        ]
        return f"{self.operation}{{{','.join(parts)}}}" if parts else self.operation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"operation": self.operation, "scenario": self.scenario, "tags": dict(self.tags)}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> MetricKey:
        """Inverse of :meth:`to_dict`."""
        return cls.of(state["operation"], state.get("scenario", ""), state.get("tags") or {})


@final
class OperationMetrics:
    """Latency histograms and outcome counts for one :class:`MetricKey`.

    Recording costs one or two histogram records (about 1-2 µs each) and a few additions.
    """

    __slots__ = ("_corrected", "http_errors", "latency", "ok", "timeouts", "transport_errors")

    def __init__(self) -> None:
        self.latency = LatencyRecorder()
        """Raw latencies (open model: from the intended start)."""
        self._corrected: LatencyRecorder | None = None
        self.ok = 0
        self.http_errors: dict[int, int] = {}
        """Responses with an error status, by status code."""
        self.transport_errors = 0
        self.timeouts = 0

    # --- recording ------------------------------------------------------------------------------

    def _outcome(self, error_status: int | None) -> None:
        if error_status is None:
            self.ok += 1
        else:
            self.http_errors[error_status] = self.http_errors.get(error_status, 0) + 1

    def record(self, start_s: float, end_s: float, *, error_status: int | None = None) -> bool:
        """One completed operation; ``start_s`` is the INTENDED start in the open model.

        ``error_status`` is the HTTP status when the response was an error (it is still timed).
        Returns False when the latency was out of range (counted in ``out_of_range``).
        """
        self._outcome(error_status)
        return self.latency.record_us(latency_us(start_s, end_s))

    def record_value(self, value: int) -> bool:
        """One value recorded as it is, not timed here (a chat reply stream's rate, in
        thousandths of a token per second; a schedule lag already in µs), kept in
        :attr:`latency` like a latency: the same histogram, merged, logged and resampled the
        same way; counted as ``ok``."""
        self.ok += 1
        return self.latency.record_us(value)

    def record_corrected(
        self,
        start_s: float,
        end_s: float,
        expected_interval_us: int,
        *,
        error_status: int | None = None,
    ) -> bool:
        """One completed operation of a closed-model VU, with coordinated-omission correction.

        The raw latency goes to :attr:`latency`; the latency plus the back-filled values for
        ``expected_interval_us`` (the VU's usual iteration interval) go to :attr:`corrected`.
        """
        # _outcome and latency_us inline: this runs once per closed-model request.
        if error_status is None:
            self.ok += 1
        else:
            self.http_errors[error_status] = self.http_errors.get(error_status, 0) + 1
        if start_s != start_s or end_s != end_s:  # NaN
            raise ValueError("latency from a NaN time")
        value_us = round((end_s - start_s) * 1_000_000)
        corrected = self._corrected
        if corrected is None:
            corrected = self._corrected = LatencyRecorder()
        corrected.record_corrected_us(value_us, expected_interval_us)
        return self.latency.record_us(value_us)

    def record_transport_error(self) -> None:
        """An operation that got no response: refused, reset, protocol error."""
        self.transport_errors += 1

    def record_timeout(self) -> None:
        """An operation that timed out before completing."""
        self.timeouts += 1

    # --- reading --------------------------------------------------------------------------------

    @property
    def corrected(self) -> LatencyRecorder | None:
        """Back-filled latencies of the closed model; ``None`` if nothing was recorded so."""
        return self._corrected

    @property
    def errors(self) -> int:
        """HTTP errors, transport errors and timeouts."""
        return sum(self.http_errors.values()) + self.transport_errors + self.timeouts

    @property
    def count(self) -> int:
        """Operations with an outcome: ``ok + errors``."""
        return self.ok + self.errors

    @property
    def out_of_range(self) -> int:
        """Latencies rejected as negative or above one hour (counted, not in the histogram)."""
        return self.latency.out_of_range

    def summary(self, duration_s: float) -> dict[str, Any]:
        """The JSON summary of these metrics over ``duration_s`` seconds.

        Latencies are in milliseconds; ``min``/``max``/percentiles are bucket edges and
        ``mean`` is exact; ``corrected_latency_ms`` appears only for closed-model records.
        Costs one percentile pass per histogram (about 1 ms each).
        """
        summary: dict[str, Any] = {
            "count": self.count,
            "ok": self.ok,
            "errors": self.errors,
            "http_errors": {str(status): n for status, n in sorted(self.http_errors.items())},
            "transport_errors": self.transport_errors,
            "timeouts": self.timeouts,
            "rate_per_s": self.count / duration_s if duration_s > 0 else 0.0,
            "out_of_range": self.out_of_range,
            "latency_ms": self.latency.stats().to_ms(),
        }
        if self._corrected is not None:
            summary["corrected_latency_ms"] = self._corrected.stats().to_ms()
        return summary

    # --- merging, handing over, transport -------------------------------------------------------

    def merge(self, other: OperationMetrics) -> None:
        """Add ``other`` into these metrics (``other`` is unchanged)."""
        self.latency.merge(other.latency)
        if other._corrected is not None:
            if self._corrected is None:
                self._corrected = LatencyRecorder()
            self._corrected.merge(other._corrected)
        self.ok += other.ok
        for status, n in other.http_errors.items():
            self.http_errors[status] = self.http_errors.get(status, 0) + n
        self.transport_errors += other.transport_errors
        self.timeouts += other.timeouts

    def copy(self) -> OperationMetrics:
        """An independent copy (histograms copied, not shared)."""
        twin = OperationMetrics.__new__(OperationMetrics)  # no histograms made only to be dropped
        twin.latency = self.latency.copy()
        twin._corrected = None if self._corrected is None else self._corrected.copy()
        twin.ok = self.ok
        twin.http_errors = dict(self.http_errors)
        twin.transport_errors = self.transport_errors
        twin.timeouts = self.timeouts
        return twin

    def take(self) -> OperationMetrics:
        """Hand everything recorded so far to a new object and start again empty.

        Swaps fresh histograms in instead of resetting (hdrh's reset walks every counter in
        Python); references to this object stay valid for recording.
        """
        taken = OperationMetrics()
        taken.latency, self.latency = self.latency, taken.latency
        taken._corrected, self._corrected = self._corrected, None
        taken.ok, self.ok = self.ok, 0
        taken.http_errors, self.http_errors = self.http_errors, {}
        taken.transport_errors, self.transport_errors = self.transport_errors, 0
        taken.timeouts, self.timeouts = self.timeouts, 0
        return taken

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (histograms encoded), to merge in another process."""
        return {
            "latency": self.latency.to_dict(),
            "corrected": None if self._corrected is None else self._corrected.to_dict(),
            "ok": self.ok,
            "http_errors": {str(status): n for status, n in self.http_errors.items()},
            "transport_errors": self.transport_errors,
            "timeouts": self.timeouts,
        }

    def merge_dict(self, state: Mapping[str, Any]) -> None:
        """Add a :meth:`to_dict` state into these metrics."""
        self.latency.merge_dict(state["latency"])
        if state.get("corrected") is not None:
            if self._corrected is None:
                self._corrected = LatencyRecorder()
            self._corrected.merge_dict(state["corrected"])
        self.ok += int(state["ok"])
        for status, n in state["http_errors"].items():
            self.http_errors[int(status)] = self.http_errors.get(int(status), 0) + int(n)
        self.transport_errors += int(state["transport_errors"])
        self.timeouts += int(state["timeouts"])

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> OperationMetrics:
        """Inverse of :meth:`to_dict`."""
        metrics = cls()
        metrics.merge_dict(state)
        return metrics

    def __repr__(self) -> str:
        return f"<OperationMetrics count={self.count} errors={self.errors}>"
