"""Operation histories: ``history.jsonl``, Jepsen-style (the format is docs/history.md).

:class:`HistoryWriter` appends and flushes each line as it happens (optionally rotating
into compressed segments, :meth:`HistoryWriter.sync` to fsync); the helpers of
:mod:`lgbench.history._values` decide what an operation's lines carry and whether a
failure is ``fail`` or ``info``; :func:`read_history` reads a file, a run folder or a
rotated set back; :func:`find_history_sets` and :func:`iter_lines` let other readers (the
checker) walk the same files in bounded memory; :class:`ErrorTally` and its helpers keep and
word an operation's most frequent errors for the summary.
"""

from __future__ import annotations

from lgbench.history._error_tally import (
    MAX_DISTINCT,
    MAX_MESSAGE_CHARS,
    ErrorTally,
    describe_error,
    error_message,
    never_succeeded,
    never_succeeded_message,
    run_error_message,
)
from lgbench.history._reader import History, read_history
from lgbench.history._segments import (
    HistoryFile,
    HistorySet,
    LineReader,
    find_history_sets,
    iter_lines,
    segment_path,
)
from lgbench.history._values import (
    READ_OPERATIONS,
    RUN_CREATING_OPERATIONS,
    ErrorKind,
    StreamSummary,
    classify_error,
    error_kind,
    invoke_value,
    ok_value,
    tenancy_invoke,
    tenancy_ok,
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
    "MAX_DISTINCT",
    "MAX_MESSAGE_CHARS",
    "READ_OPERATIONS",
    "RUN_CREATING_OPERATIONS",
    "CompletionType",
    "ErrorKind",
    "ErrorTally",
    "History",
    "HistoryFile",
    "HistorySet",
    "HistoryWriter",
    "Invocation",
    "LineReader",
    "StreamSummary",
    "classify_error",
    "describe_error",
    "error_kind",
    "error_message",
    "find_history_sets",
    "invoke_value",
    "iter_lines",
    "never_succeeded",
    "never_succeeded_message",
    "ok_value",
    "read_history",
    "run_error_message",
    "segment_path",
    "tenancy_invoke",
    "tenancy_ok",
    "tokens_of",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.history._"):
        _obj.__module__ = __name__
del _name, _obj
