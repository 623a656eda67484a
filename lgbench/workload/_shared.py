"""What this package shares with lgbench.faults and lgbench.thresholds, under its names.

Durations, key paths and source positions, and the workload's errors live in the leaf
:mod:`lgbench._toml`, which all three import without a cycle; this package is their public
home (``lgbench.workload.parse_duration``, ``lgbench.workload.WorkloadError``...).
"""

from __future__ import annotations

from lgbench._toml import (
    DURATION_FORMS,
    MAX_DURATION_S,
    DurationError,
    KeyPath,
    Position,
    SourceMap,
    TemplateError,
    WorkloadError,
    WorkloadIssue,
    format_duration,
    parse_duration,
)

__all__ = [
    "DURATION_FORMS",
    "MAX_DURATION_S",
    "DurationError",
    "KeyPath",
    "Position",
    "SourceMap",
    "TemplateError",
    "WorkloadError",
    "WorkloadIssue",
    "format_duration",
    "parse_duration",
]
