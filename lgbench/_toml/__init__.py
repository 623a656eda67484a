"""The pieces of lgbench's TOML files that workload, faults and thresholds share: a leaf.

Durations (``"1m30s"``), key paths and their line and column in a file, the issues and errors
a bad file gives, and the wording of messages about values (``quote``, ``did_you_mean``).
Private to lgbench: the few a program needs are public as ``lgbench.workload``'s
(``parse_duration``, ``WorkloadError``, ``WorkloadIssue``...); key paths and source maps stay
here. Nothing here imports another lgbench package but :mod:`lgbench.errors`, so every
package may import it without a cycle.
"""

from __future__ import annotations

from lgbench._toml._duration import (
    DURATION_FORMS,
    MAX_DURATION_S,
    format_duration,
    parse_duration,
)
from lgbench._toml._errors import (
    DurationError,
    TemplateError,
    WorkloadError,
    WorkloadIssue,
)
from lgbench._toml._locate import (
    KeyPath,
    Position,
    SourceMap,
)
from lgbench._toml._text import (
    did_you_mean,
    one_of,
    quote,
    toml_type,
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
    "did_you_mean",
    "format_duration",
    "one_of",
    "parse_duration",
    "quote",
    "toml_type",
]
