"""The semantics checker: did the LangGraph server keep its promises about runs and threads?

:func:`check_history` reads a history (docs/history.md: a history.jsonl, a run folder, or
a rotated set of segments) and judges every thread against a profile: ``observed`` (the
in-memory server's actual behaviour, its known quirks accepted) or ``documented`` (the
LangGraph docs). The result is ``valid`` true, false or
``"unknown"``, per thread, per checker and overall, with every anomaly named (see
:data:`ANOMALY_TYPES`) and witnessed by run ids and history events. Behaviours the
documented profile flags but the observed one accepts are reported as *findings*
(:data:`BEHAVIOURS`), whichever profile was chosen.

An ``info`` operation (outcome unknown) is never proof of a violation; a history too thin
to judge gives ``unknown`` and says what was missing; damaged lines only matter when they
may hide an operation a verdict depends on. Memory stays bounded whatever the history's
length: the operations are spilled to disk by thread and judged a partition at a time.

    result = check_history("reports/run/history.jsonl", profile="observed")
    write_check_json(result, "reports/run/check.json")
    render_check(result, rich.console.Console())
"""

from __future__ import annotations

import contextlib

from lgbench.check._anomalies import (
    ANOMALY_TYPES,
    BEHAVIOURS,
    CHECKERS,
    PROFILES,
    UNKNOWN,
    Anomaly,
    Profile,
    Valid,
    merge_valid,
)
from lgbench.check._check import (
    DEFAULT_SLACK_S,
    DEFAULT_STUCK_AFTER_S,
    check_history,
    judge_history,
)
from lgbench.check._events import EventRef
from lgbench.check._reader import History, read_history
from lgbench.check._render import render_check
from lgbench.check._result import (
    CHECK_SCHEMA_VERSION,
    MAX_EXAMPLES,
    CheckerResult,
    CheckResult,
    StrategySummary,
    ThreadResult,
    write_check_json,
)
from lgbench.check._spill import DEFAULT_PARTITION_BYTES

__all__ = [
    "ANOMALY_TYPES",
    "BEHAVIOURS",
    "CHECKERS",
    "CHECK_SCHEMA_VERSION",
    "DEFAULT_PARTITION_BYTES",
    "DEFAULT_SLACK_S",
    "DEFAULT_STUCK_AFTER_S",
    "MAX_EXAMPLES",
    "PROFILES",
    "UNKNOWN",
    "Anomaly",
    "CheckResult",
    "CheckerResult",
    "EventRef",
    "History",
    "Profile",
    "StrategySummary",
    "ThreadResult",
    "Valid",
    "check_history",
    "judge_history",
    "merge_valid",
    "read_history",
    "render_check",
    "write_check_json",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.check._"):
        with contextlib.suppress(AttributeError, TypeError):  # aliases, constants
            _obj.__module__ = __name__
del _name, _obj, contextlib
