"""What an operation is, in one place: every SDK method a workload step may call, its
parameters, and what it does (reads only, creates a run, follows a run to its end, streams,
can resume).

The table is below the history, the workload and the checker, which all ask it: a new
operation, or a changed flag, is one edit here. The choices a step may give (stream modes,
multitask strategies…) are the client's own literal types.
"""

from __future__ import annotations

import inspect

from lgbench.operations._ids import resolve_id
from lgbench.operations._table import (
    CANCEL_ACTIONS,
    DISCONNECT_MODES,
    ID_ALIASES,
    IF_EXISTS,
    IF_NOT_EXISTS,
    MULTITASK_STRATEGIES,
    ON_COMPLETION,
    OPERATIONS,
    RUN_STATUSES,
    STREAM_MODES,
    THREAD_STATUSES,
    OperationSpec,
    ParamKind,
    ParamSpec,
    ParamType,
    operation_names,
)

__all__ = [
    "CANCEL_ACTIONS",
    "DISCONNECT_MODES",
    "ID_ALIASES",
    "IF_EXISTS",
    "IF_NOT_EXISTS",
    "MULTITASK_STRATEGIES",
    "ON_COMPLETION",
    "OPERATIONS",
    "RUN_STATUSES",
    "STREAM_MODES",
    "THREAD_STATUSES",
    "OperationSpec",
    "ParamKind",
    "ParamSpec",
    "ParamType",
    "operation_names",
    "resolve_id",
]

for _name in __all__:
    _obj = globals()[_name]
    if inspect.isclass(_obj) or inspect.isfunction(_obj):
        _obj.__module__ = __name__
del _name, _obj
