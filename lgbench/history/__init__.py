"""Operation histories: ``history.jsonl``, Jepsen-style (the format is docs/history.md).

:class:`HistoryWriter` appends and flushes each line as it happens; the helpers of
:mod:`lgbench.history._values` decide what an operation's lines carry and whether a
failure is ``fail`` or ``info``; :func:`read_history` reads a file back.
"""

from __future__ import annotations

from lgbench.history._reader import History, read_history
from lgbench.history._values import (
    READ_OPERATIONS,
    RUN_CREATING_OPERATIONS,
    ErrorKind,
    StreamSummary,
    classify_error,
    error_kind,
    invoke_value,
    ok_value,
    tokens_of,
)
from lgbench.history._writer import (
    HISTORY_SCHEMA_VERSION,
    CompletionType,
    HistoryWriter,
    Invocation,
)

__all__ = [
    "HISTORY_SCHEMA_VERSION",
    "READ_OPERATIONS",
    "RUN_CREATING_OPERATIONS",
    "CompletionType",
    "ErrorKind",
    "History",
    "HistoryWriter",
    "Invocation",
    "StreamSummary",
    "classify_error",
    "error_kind",
    "invoke_value",
    "ok_value",
    "read_history",
    "tokens_of",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.history._"):
        _obj.__module__ = __name__
del _name, _obj
