"""summary.json as one typed object: :class:`Summary`, read and written by one codec.

:meth:`Summary.to_json` writes what lgbench always wrote (``json.dumps`` with a two-space
indent, non-ASCII kept, floats rounded by :func:`lgbench._numbers.rounded`, NaN as ``NaN``), so
the bytes of a summary.json do not change with the model; msgspec turns the structs into plain
data and checks what is read. :meth:`Summary.from_json` reads every ``schema_version`` 1 file:
older ones without the keys added since (``unsupported``, ``observation``...) read with those
empty. A key the model does not know is an error that names it: the runner builds its summary
through the model, so a key renamed on one side fails every run (and its tests) instead of
vanishing from the file or blanking a report section. (So a newer lgbench's file with keys
added since is refused by this one, with that message.) The tests hold that a real run's file
is read and written back byte for byte.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TypeVar, final

import msgspec
from msgspec import UNSET, UnsetType

from lgbench._numbers import rounded
from lgbench.results._errors import ResultsError
from lgbench.results._merge import merge_summaries
from lgbench.results._model import (
    SCHEMA_VERSION,
    Audit,
    CheckVerdict,
    Drift,
    Fault,
    FaultSkipped,
    Files,
    HistoryFigures,
    LagFigures,
    NeverSucceeded,
    Observation,
    Operation,
    ProxyCounters,
    Scenario,
    Server,
    Target,
    Thresholds,
    UnsupportedRoute,
    Worker,
    WorkloadInfo,
)

__all__ = ["Summary", "summary_part", "summary_schema"]

_Part = TypeVar("_Part")

_SCHEMA_ID: Final = "https://lgbench.invalid/summary.schema.json"


@final
class Summary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What one run measured: summary.json (docs/summary.md)."""

    schema_version: int = SCHEMA_VERSION
    lgbench_version: str = ""
    workload: WorkloadInfo = msgspec.field(default_factory=WorkloadInfo)
    target: Target = msgspec.field(default_factory=Target)
    server: Server = msgspec.field(default_factory=Server)
    backend: str = ""
    transport: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    planned_duration_s: float | None = None
    partial: bool = False
    stop_reason: str = ""
    operations: dict[str, Operation] = msgspec.field(default_factory=dict)
    scenarios: dict[str, Scenario] = msgspec.field(default_factory=dict)
    tags: dict[str, dict[str, Operation]] = msgspec.field(default_factory=dict)
    dropped_iterations: int = 0
    observation: Observation = msgspec.field(default_factory=Observation)
    audit: Audit = msgspec.field(default_factory=Audit)
    schedule_lag_ms: LagFigures = msgspec.field(default_factory=LagFigures)
    event_loop_lag_ms: LagFigures = msgspec.field(default_factory=LagFigures)
    out_of_range: dict[str, int] = msgspec.field(default_factory=dict)
    unsupported: tuple[UnsupportedRoute, ...] = ()
    warnings: tuple[str, ...] = ()
    history: HistoryFigures = msgspec.field(default_factory=HistoryFigures)
    files: Files = msgspec.field(default_factory=Files)
    check: CheckVerdict | None = None
    #: Written with the final summary (a checkpoint has none yet).
    never_succeeded: tuple[NeverSucceeded, ...] | UnsetType = UNSET
    drift: Drift | UnsetType = UNSET
    #: Only when the workload has faults.
    faults: tuple[Fault, ...] | UnsetType = UNSET
    faults_skipped: tuple[FaultSkipped, ...] | UnsetType = UNSET
    #: Only with network faults: the fault proxy's counters.
    proxy: ProxyCounters | UnsetType = UNSET
    thresholds: Thresholds | UnsetType = UNSET
    #: Only with ``--baseline``: the comparison (its own ``schema_version``, docs/ci.md).
    baseline: dict[str, Any] | UnsetType = UNSET
    #: Only for a run split over worker processes: one entry each.
    workers: tuple[Worker, ...] | UnsetType = UNSET

    # -- reading and writing ------------------------------------------------------------------

    @classmethod
    def from_builtins(cls, data: Any, *, source: str = "summary.json") -> Summary:
        """The summary held by decoded JSON ``data`` (dicts, lists, scalars)."""
        if not isinstance(data, dict):
            raise ResultsError(f"{source}: not a JSON object")
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ResultsError(
                f"{source}: schema_version {version!r}, this lgbench reads {SCHEMA_VERSION}"
            )
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise ResultsError(f"{source}: {exc}") from None

    @classmethod
    def of(cls, summary: Summary | Mapping[str, Any], *, source: str = "summary.json") -> Summary:
        """``summary`` itself, or the summary held by summary.json's decoded content."""
        if isinstance(summary, Summary):
            return summary
        return cls.from_builtins(dict(summary), source=source)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "summary.json") -> Summary:
        """Read a summary.json's text (``NaN`` and ``Infinity`` as Python's json writes them)."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ResultsError(f"{source}: not JSON: {exc}") from None
        return cls.from_builtins(data, source=source)

    @classmethod
    def read(cls, path: Path) -> Summary:
        """Read the summary.json at ``path``."""
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}") from None
        return cls.from_json(text, source=str(path))

    def to_builtins(self) -> dict[str, Any]:
        """Plain data (rounded floats, ``UNSET`` keys left out), as the file holds it."""
        data: dict[str, Any] = rounded(msgspec.to_builtins(self, enc_hook=_plain))
        return data

    def to_json(self) -> str:
        """summary.json's text: two-space indent, non-ASCII kept, a final newline."""
        return json.dumps(self.to_builtins(), indent=2, ensure_ascii=False) + "\n"

    def without_histograms(self) -> Summary:
        """This summary without the histograms that only merging needs (as written to disk)."""
        return Summary.from_builtins(_drop_histograms(msgspec.to_builtins(self)))

    # -- combining ------------------------------------------------------------------------------

    def merge(self, other: Summary) -> Summary:
        """One summary of two parts of one run that ran side by side (worker processes).

        Counts sum; figures are recomputed from the merged histograms (both sides must carry
        them, see :class:`~lgbench.results.OperationHistograms`), never averaged; the run's
        span is the union of both; warnings are united. What is judged on the whole run
        (thresholds, the baseline, drift, the checker) is left for the caller to judge on the
        merged result: see :func:`~lgbench.results.merge_summaries`.
        """
        merged: Summary = merge_summaries(self, other)
        return merged


def _plain(value: Any) -> Any:
    """A number subclass in an open section (numpy's float64 in ``baseline``) as a number:
    what ``json.dumps`` made of it before the model."""
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    item = getattr(value, "item", None)  # numpy scalars that are not float or int subclasses
    if callable(item):
        return item()
    raise TypeError(f"summary.json cannot hold a {type(value).__name__}")


_HISTOGRAM_KEYS: Final = frozenset({"histograms", "histogram", "duration_histogram"})


def _drop_histograms(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _drop_histograms(v) for k, v in data.items() if k not in _HISTOGRAM_KEYS}
    if isinstance(data, list):
        return [_drop_histograms(item) for item in data]
    return data


def summary_part(data: Any, kind: type[_Part], *, source: str) -> _Part:
    """One part of a summary (``kind``: :class:`Drift`, ``tuple[Fault, ...]``...) from plain
    data, checked as :meth:`Summary.from_builtins` checks a whole one."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise ResultsError(f"{source}: {exc}") from None


def summary_schema() -> dict[str, Any]:
    """The JSON Schema of summary.json, derived from the model (docs/summary.schema.json)."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    # Made once, when the package is imported: msgspec reads the annotations afresh from the
    # module a class names, and the package names itself there afterwards.
    schema: dict[str, Any] = msgspec.json.schema(Summary)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _SCHEMA_ID,
        "title": "lgbench summary.json",
        "description": "The results of one lgbench run, schema_version 1 (docs/summary.md).",
        **schema,
    }
