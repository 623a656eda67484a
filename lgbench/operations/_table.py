"""Every operation a workload step may call, with its parameters: one declarative table.

An operation is named exactly as the LangGraph SDK method it mirrors,
``<resource>.<method>`` (``runs.wait``, ``store.put_item``, ``http.post``), and its
parameters carry the SDK's names, kinds (positional-only, positional-or-keyword,
keyword-only) and order, taken from the async client's signatures in the SDK
reference. Tests compare this table with the reference, and can compare it with
``inspect.signature`` of a real client.

Each parameter has a TOML type (:class:`ParamType`), optional enumerated choices
and an optional minimum. ``OperationSpec.required`` lists the parameters a step must
give. It is the Python signature's parameters without a default, except those typed
``Optional[...]`` that mean something when absent: ``thread_id`` of ``runs.stream`` /
``runs.create`` / ``runs.wait`` (a stateless run), ``values`` of
``threads.update_state`` and ``json`` of ``http.post``. A step may leave those out, and
the caller then passes ``None`` (``ParamSpec.python_required`` marks every parameter
the call cannot omit). ``graph_id`` of ``assistants.create`` is required, although
typed ``Optional``, since the server needs it.

A few parameters are lgbench's own step options (``ParamSpec.option``), not parameters of
the SDK method: ``reconnect`` of ``runs.stream`` and ``runs.join_stream`` (how many times to
reconnect an interrupted resumable stream). :meth:`OperationSpec.arguments` leaves them out
of the call; :meth:`OperationSpec.options` gives them to the engine.

Four aliases make steps shorter: ``thread`` for ``thread_id``, ``assistant`` for
``assistant_id``, ``run`` for ``run_id`` and ``cron`` for ``cron_id``, wherever the
operation takes the long name. Id parameters (:attr:`ParamType.ID`) also accept a
whole saved object (``"$thread"``); it is reduced to its id at run time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, get_args

from lgbench.client import (
    CancelAction,
    DisconnectMode,
    IfNotExists,
    MultitaskStrategy,
    OnCompletionBehavior,
    OnConflictBehavior,
    RunStatus,
    StreamMode,
    ThreadStatus,
)
from lgbench.operations._ids import resolve_id

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
]

# The choices a step may give are the client's own types: one definition for both.
#: ``stream_mode`` values (a single string or an array of them).
STREAM_MODES: frozenset[str] = frozenset(get_args(StreamMode))
#: ``multitask_strategy`` values: what a new run does to a thread's in-flight runs.
MULTITASK_STRATEGIES: frozenset[str] = frozenset(get_args(MultitaskStrategy))
#: ``on_disconnect`` values.
DISCONNECT_MODES: frozenset[str] = frozenset(get_args(DisconnectMode))
#: ``on_completion`` values.
ON_COMPLETION: frozenset[str] = frozenset(get_args(OnCompletionBehavior))
#: ``if_not_exists`` values (runs on a thread id that may not exist yet).
IF_NOT_EXISTS: frozenset[str] = frozenset(get_args(IfNotExists))
#: ``if_exists`` values (creating an assistant or thread whose id exists).
IF_EXISTS: frozenset[str] = frozenset(get_args(OnConflictBehavior))
#: ``action`` values of ``runs.cancel``.
CANCEL_ACTIONS: frozenset[str] = frozenset(get_args(CancelAction))
#: ``status`` values of ``threads.search``.
THREAD_STATUSES: frozenset[str] = frozenset(get_args(ThreadStatus))
#: ``status`` values of ``runs.list`` (the SDK's RunStatus, plus ``running``).
RUN_STATUSES: frozenset[str] = frozenset(get_args(RunStatus))
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

#: Short names a step may use for id parameters.
ID_ALIASES: Mapping[str, str] = MappingProxyType(
    {"thread": "thread_id", "assistant": "assistant_id", "run": "run_id", "cron": "cron_id"}
)


class ParamType(enum.Enum):
    """The TOML shape a parameter accepts; the value is how error messages name it."""

    STRING = "a string"
    PATH = 'a path starting with "/"'
    ID = 'an id string or a saved object such as "$thread"'
    INTEGER = "an integer"
    BOOLEAN = "true or false"
    TABLE = "a table"
    STRINGS = "an array of strings"
    STRING_OR_STRINGS = "a string or an array of strings"
    NODES = '"*" or an array of node names'
    TABLE_OR_TABLES = "a table or an array of tables"
    TABLES = "an array of tables"
    STRING_OR_TABLE = "a string or a table"
    INTEGER_OR_BOOLEAN = "an integer or a boolean"
    INDEX = "false or an array of field paths"
    JSON = "any value but a date or time"


#: How the parameter is passed in the SDK's Python signature.
ParamKind: TypeAlias = Literal["positional_only", "positional_or_keyword", "keyword_only"]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an operation.

    ``kind`` and ``python_required`` (no default in the Python signature) describe
    the SDK call; ``type``, ``choices`` and ``minimum`` what the TOML may hold. ``option``
    marks lgbench's own step options, which the engine reads and the client never sees.
    """

    name: str
    type: ParamType
    kind: ParamKind = "keyword_only"
    python_required: bool = False
    choices: frozenset[str] = frozenset()
    minimum: int | None = None
    option: bool = False

    @property
    def id_kind(self) -> str | None:
        """``"thread"`` for ``thread_id`` and so on, for id parameters; else None."""
        if self.type is ParamType.ID:
            return self.name.removesuffix("_id")
        return None

    def expected(self) -> str:
        """What the parameter accepts, for error messages."""
        if self.choices:
            listed = ", ".join(f'"{choice}"' for choice in sorted(self.choices))
            if self.type is ParamType.STRING_OR_STRINGS:
                return f"one of {listed}, or an array of them"
            return f"one of {listed}"
        if self.minimum is not None:
            return f"{self.type.value} >= {self.minimum}"
        return self.type.value


@dataclass(frozen=True)
class OperationSpec:
    """One operation: ``client.<resource>.<method>(...)`` and what it returns.

    ``params`` keeps the SDK's order; ``required`` are the parameters a step must
    give; ``returns`` is the SDK's return annotation (``"None"`` when nothing comes
    back, so ``save`` makes no sense).
    """

    name: str
    resource: str
    method: str
    params: Mapping[str, ParamSpec]
    required: frozenset[str]
    returns: str
    #: Changes nothing on the server: an unknown outcome of it is a failure (it cannot have
    #: taken effect), as Jepsen treats idempotent reads.
    reads_only: bool = False
    #: Creates one run from its own arguments (its invoke line carries the run options).
    #: ``runs.create_batch`` creates several from its payloads and is not flagged.
    creates_run: bool = False
    #: Creates a cron: runs created later, on the server's schedule.
    schedules_runs: bool = False
    #: Answers once one run ended, with its result: a wait, a join or a run's stream (an
    #: answer with no result is an empty one).
    follows_run: bool = False
    #: May create, cancel or delete a run (every run creator and cron creator; a cancel; a
    #: run's, thread's or assistant's delete; a raw request that writes): a lost line of it
    #: may explain a run that appeared or went. The checker deems every other one harmless.
    changes_runs: bool = False
    aliases: Mapping[str, str] = field(init=False, compare=False)
    #: Yields a stream of server-sent events (it returns an ``AsyncIterator``). Set once
    #: from ``returns``: the engine asks it at every call.
    streams: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        aliases = {alias: long for alias, long in ID_ALIASES.items() if long in self.params}
        object.__setattr__(self, "aliases", MappingProxyType(aliases))
        object.__setattr__(self, "streams", self.returns.startswith("AsyncIterator"))

    @property
    def can_resume(self) -> bool:
        """True when an interrupted stream of it may be joined again (its ``reconnect``
        option): a resumable run's stream."""
        return "reconnect" in self.params

    @property
    def carries_run_options(self) -> bool:
        """True when its invoke line carries run options (``multitask_strategy``…): it
        creates a run now or schedules runs."""
        return self.creates_run or self.schedules_runs

    @property
    def returns_nothing(self) -> bool:
        """True when the SDK method returns None."""
        return self.returns == "None"

    def canonical(self, key: str) -> str | None:
        """The parameter name a step key stands for (aliases resolved), or None."""
        if key in self.params:
            return key
        return self.aliases.get(key)

    def arguments(self, values: Mapping[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional and keyword arguments for ``client.<resource>.<method>``.

        ``values`` are a step's rendered parameters (SDK names, templates already
        replaced). Positional-only parameters go first, in order; every other one is
        passed by keyword; a parameter the call cannot omit but the step left out
        (``thread_id`` of a stateless run) is passed as None. Id parameters given a
        saved object are reduced to its id (:func:`~lgbench.workload.resolve_id`).
        Raises :class:`KeyError` for a name the operation does not take, and
        :class:`~lgbench.workload.TemplateError` for an object without the wanted id.
        """
        unknown = set(values) - set(self.params)
        if unknown:
            raise KeyError(f"{self.name} takes no parameter {sorted(unknown)[0]!r}")
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for name, param in self.params.items():
            if param.option:
                continue
            if name in values:
                value = values[name]
                if param.id_kind is not None and value is not None:
                    value = resolve_id(value, param.id_kind)
            elif param.python_required:
                value = None
            else:
                continue
            if param.kind == "positional_only":
                args.append(value)
            else:
                kwargs[name] = value
        return tuple(args), kwargs

    @property
    def sdk_params(self) -> Mapping[str, ParamSpec]:
        """The parameters of the SDK method, in its order (step options left out)."""
        return MappingProxyType({n: p for n, p in self.params.items() if not p.option})

    def options(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The step options (``ParamSpec.option``) among ``values``: for the engine, not
        the client."""
        return {
            name: values[name]
            for name, param in self.params.items()
            if param.option and name in values
        }


# -- the table -------------------------------------------------------------------------

_POS: ParamKind = "positional_only"
_ARG: ParamKind = "positional_or_keyword"


def _p(
    name: str,
    type_: ParamType,
    kind: ParamKind = "keyword_only",
    *,
    needed: bool = False,
    choices: Iterable[str] = (),
    minimum: int | None = None,
    option: bool = False,
) -> ParamSpec:
    return ParamSpec(name, type_, kind, needed, frozenset(choices), minimum, option)


def _arg(name: str, type_: ParamType = ParamType.ID) -> ParamSpec:
    """A positional-or-keyword parameter without a default (usually an id)."""
    return _p(name, type_, _ARG, needed=True)


_S, _T, _I, _B = ParamType.STRING, ParamType.TABLE, ParamType.INTEGER, ParamType.BOOLEAN

_LIMIT = _p("limit", _I, minimum=0)
_OFFSET = _p("offset", _I, minimum=0)
_METADATA = _p("metadata", _T)
_CONFIG = _p("config", _T)
_INPUT = _p("input", _T)
_COMMAND = _p("command", _T)
_CHECKPOINT = _p("checkpoint", _T)
_CHECKPOINT_ID = _p("checkpoint_id", _S)
_INTERRUPT_BEFORE = _p("interrupt_before", ParamType.NODES)
_INTERRUPT_AFTER = _p("interrupt_after", ParamType.NODES)
_WEBHOOK = _p("webhook", _S)
_MULTITASK = _p("multitask_strategy", _S, choices=MULTITASK_STRATEGIES)
_IF_NOT_EXISTS = _p("if_not_exists", _S, choices=IF_NOT_EXISTS)
_ON_COMPLETION = _p("on_completion", _S, choices=ON_COMPLETION)
_ON_DISCONNECT = _p("on_disconnect", _S, choices=DISCONNECT_MODES)
_AFTER_SECONDS = _p("after_seconds", _I, minimum=0)
_STREAM_MODE = _p("stream_mode", ParamType.STRING_OR_STRINGS, choices=STREAM_MODES)
_STREAM_SUBGRAPHS = _p("stream_subgraphs", _B)
_STREAM_RESUMABLE = _p("stream_resumable", _B)
# lgbench's own: how many reconnections an interrupted resumable stream may try in a row.
_RECONNECT = _p("reconnect", _I, minimum=0, option=True)
_SCHEDULE = _p("schedule", _S, needed=True)
_RUN_IDS = (_arg("thread_id"), _arg("assistant_id"))
_THREAD_RUN = (_arg("thread_id"), _arg("run_id"))


def _op(
    name: str,
    returns: str,
    params: Iterable[ParamSpec],
    required: Iterable[str] = (),
    *,
    reads_only: bool = False,
    creates_run: bool = False,
    schedules_runs: bool = False,
    follows_run: bool = False,
    changes_runs: bool = False,
) -> OperationSpec:
    resource, _, method = name.partition(".")
    by_name = {param.name: param for param in params}
    return OperationSpec(
        name,
        resource,
        method,
        MappingProxyType(by_name),
        frozenset(required),
        returns,
        reads_only,
        creates_run,
        schedules_runs,
        follows_run,
        changes_runs or creates_run or schedules_runs,
    )


_TABLE = [
    # assistants
    _op("assistants.get", "Assistant", [_arg("assistant_id")], ["assistant_id"], reads_only=True),
    _op(
        "assistants.get_graph",
        "dict[str, list[dict[str, Any]]]",
        [_arg("assistant_id"), _p("xray", ParamType.INTEGER_OR_BOOLEAN)],
        ["assistant_id"],
        reads_only=True,
    ),
    _op(
        "assistants.get_schemas",
        "GraphSchema",
        [_arg("assistant_id")],
        ["assistant_id"],
        reads_only=True,
    ),
    _op(
        "assistants.get_subgraphs",
        "Subgraphs",
        [_arg("assistant_id"), _p("namespace", _S, _ARG), _p("recurse", _B, _ARG)],
        ["assistant_id"],
        reads_only=True,
    ),
    _op(
        "assistants.create",
        "Assistant",
        [
            _arg("graph_id", _S),
            _p("config", _T, _ARG),
            _METADATA,
            _p("assistant_id", ParamType.ID),
            _p("if_exists", _S, choices=IF_EXISTS),
            _p("name", _S),
        ],
        ["graph_id"],
    ),
    _op(
        "assistants.update",
        "Assistant",
        [_arg("assistant_id"), _p("graph_id", _S), _CONFIG, _METADATA, _p("name", _S)],
        ["assistant_id"],
    ),
    _op("assistants.delete", "None", [_arg("assistant_id")], ["assistant_id"], changes_runs=True),
    _op(
        "assistants.search",
        "list[Assistant]",
        [_METADATA, _p("graph_id", _S), _LIMIT, _OFFSET],
        reads_only=True,
    ),
    _op(
        "assistants.get_versions",
        "list[AssistantVersion]",
        [
            _arg("assistant_id"),
            _p("metadata", _T, _ARG),
            _p("limit", _I, _ARG, minimum=0),
            _p("offset", _I, _ARG, minimum=0),
        ],
        ["assistant_id"],
        reads_only=True,
    ),
    _op(
        "assistants.set_latest",
        "Assistant",
        [_arg("assistant_id"), _arg("version", _I)],
        ["assistant_id", "version"],
    ),
    # threads
    _op("threads.get", "Thread", [_arg("thread_id")], ["thread_id"], reads_only=True),
    _op(
        "threads.create",
        "Thread",
        [_METADATA, _p("thread_id", ParamType.ID), _p("if_exists", _S, choices=IF_EXISTS)],
    ),
    _op(
        "threads.update",
        "Thread",
        [_arg("thread_id"), _p("metadata", _T, needed=True)],
        ["thread_id", "metadata"],
    ),
    _op("threads.delete", "None", [_arg("thread_id")], ["thread_id"], changes_runs=True),
    _op(
        "threads.search",
        "list[Thread]",
        [_METADATA, _p("values", _T), _p("status", _S, choices=THREAD_STATUSES), _LIMIT, _OFFSET],
        reads_only=True,
    ),
    _op("threads.copy", "None", [_arg("thread_id")], ["thread_id"]),
    _op(
        "threads.get_state",
        "ThreadState",
        [
            _arg("thread_id"),
            _p("checkpoint", _T, _ARG),
            _p("checkpoint_id", _S, _ARG),
            _p("subgraphs", _B),
        ],
        ["thread_id"],
        reads_only=True,
    ),
    _op(
        "threads.update_state",
        "ThreadUpdateStateResponse",
        [
            _arg("thread_id"),
            _arg("values", ParamType.TABLE_OR_TABLES),
            _p("as_node", _S),
            _CHECKPOINT,
            _CHECKPOINT_ID,
        ],
        ["thread_id"],
    ),
    _op(
        "threads.get_history",
        "list[ThreadState]",
        [
            _arg("thread_id"),
            _LIMIT,
            _p("before", ParamType.STRING_OR_TABLE),
            _p("metadata", _T),
            _CHECKPOINT,
        ],
        ["thread_id"],
        reads_only=True,
    ),
    # runs
    _op(
        "runs.stream",
        "AsyncIterator[StreamPart]",
        [
            *_RUN_IDS,
            _INPUT,
            _COMMAND,
            _STREAM_MODE,
            _STREAM_SUBGRAPHS,
            _STREAM_RESUMABLE,
            _METADATA,
            _CONFIG,
            _CHECKPOINT,
            _CHECKPOINT_ID,
            _INTERRUPT_BEFORE,
            _INTERRUPT_AFTER,
            _p("feedback_keys", ParamType.STRINGS),
            _ON_DISCONNECT,
            _ON_COMPLETION,
            _WEBHOOK,
            _MULTITASK,
            _IF_NOT_EXISTS,
            _AFTER_SECONDS,
            _RECONNECT,
        ],
        ["assistant_id"],
        creates_run=True,
        follows_run=True,
    ),
    _op(
        "runs.create",
        "Run",
        [
            *_RUN_IDS,
            _INPUT,
            _COMMAND,
            _STREAM_MODE,
            _STREAM_SUBGRAPHS,
            _STREAM_RESUMABLE,
            _METADATA,
            _CONFIG,
            _CHECKPOINT,
            _CHECKPOINT_ID,
            _INTERRUPT_BEFORE,
            _INTERRUPT_AFTER,
            _WEBHOOK,
            _MULTITASK,
            _IF_NOT_EXISTS,
            _ON_COMPLETION,
            _AFTER_SECONDS,
        ],
        ["assistant_id"],
        creates_run=True,
    ),
    _op(
        "runs.create_batch",
        "list[Run]",
        [_arg("payloads", ParamType.TABLES)],
        ["payloads"],
        changes_runs=True,
    ),
    _op(
        "runs.wait",
        "Union[list[dict], dict[str, Any]]",
        [
            *_RUN_IDS,
            _INPUT,
            _COMMAND,
            _METADATA,
            _CONFIG,
            _CHECKPOINT,
            _CHECKPOINT_ID,
            _INTERRUPT_BEFORE,
            _INTERRUPT_AFTER,
            _WEBHOOK,
            _ON_DISCONNECT,
            _ON_COMPLETION,
            _MULTITASK,
            _IF_NOT_EXISTS,
            _AFTER_SECONDS,
            _p("raise_error", _B),
        ],
        ["assistant_id"],
        creates_run=True,
        follows_run=True,
    ),
    _op(
        "runs.list",
        "List[Run]",
        [_arg("thread_id"), _LIMIT, _OFFSET, _p("status", _S, choices=RUN_STATUSES)],
        ["thread_id"],
        reads_only=True,
    ),
    _op("runs.get", "Run", _THREAD_RUN, ["thread_id", "run_id"], reads_only=True),
    _op(
        "runs.cancel",
        "None",
        [*_THREAD_RUN, _p("wait", _B), _p("action", _S, choices=CANCEL_ACTIONS)],
        ["thread_id", "run_id"],
        changes_runs=True,
    ),
    _op(
        "runs.join", "dict", _THREAD_RUN, ["thread_id", "run_id"], reads_only=True, follows_run=True
    ),
    _op(
        "runs.join_stream",
        "AsyncIterator[StreamPart]",
        [*_THREAD_RUN, _p("cancel_on_disconnect", _B), _RECONNECT],
        ["thread_id", "run_id"],
        follows_run=True,
    ),
    _op("runs.delete", "None", _THREAD_RUN, ["thread_id", "run_id"], changes_runs=True),
    # crons
    _op(
        "crons.create_for_thread",
        "Run",
        [
            *_RUN_IDS,
            _SCHEDULE,
            _INPUT,
            _METADATA,
            _CONFIG,
            _INTERRUPT_BEFORE,
            _INTERRUPT_AFTER,
            _WEBHOOK,
            _MULTITASK,
        ],
        ["thread_id", "assistant_id", "schedule"],
        schedules_runs=True,
    ),
    _op(
        "crons.create",
        "Run",
        [
            _arg("assistant_id"),
            _SCHEDULE,
            _INPUT,
            _METADATA,
            _CONFIG,
            _INTERRUPT_BEFORE,
            _INTERRUPT_AFTER,
            _WEBHOOK,
            _MULTITASK,
        ],
        ["assistant_id", "schedule"],
        schedules_runs=True,
    ),
    _op("crons.delete", "None", [_arg("cron_id")], ["cron_id"]),
    _op(
        "crons.search",
        "list[Cron]",
        [_p("assistant_id", ParamType.ID), _p("thread_id", ParamType.ID), _LIMIT, _OFFSET],
        reads_only=True,
    ),
    # store
    _op(
        "store.put_item",
        "None",
        [
            _p("namespace", ParamType.STRINGS, _POS, needed=True),
            _p("key", _S, _ARG, needed=True),
            _p("value", _T, _ARG, needed=True),
            _p("index", ParamType.INDEX, _ARG),
        ],
        ["namespace", "key", "value"],
    ),
    _op(
        "store.get_item",
        "Item",
        [
            _p("namespace", ParamType.STRINGS, _POS, needed=True),
            _p("key", _S, _ARG, needed=True),
        ],
        ["namespace", "key"],
        reads_only=True,
    ),
    _op(
        "store.delete_item",
        "None",
        [
            _p("namespace", ParamType.STRINGS, _POS, needed=True),
            _p("key", _S, _ARG, needed=True),
        ],
        ["namespace", "key"],
    ),
    _op(
        "store.search_items",
        "SearchItemsResponse",
        [
            _p("namespace_prefix", ParamType.STRINGS, _POS, needed=True),
            _p("filter", _T, _ARG),
            _p("limit", _I, _ARG, minimum=0),
            _p("offset", _I, _ARG, minimum=0),
            _p("query", _S, _ARG),
        ],
        ["namespace_prefix"],
        reads_only=True,
    ),
    _op(
        "store.list_namespaces",
        "ListNamespaceResponse",
        [
            _p("prefix", ParamType.STRINGS, _ARG),
            _p("suffix", ParamType.STRINGS, _ARG),
            _p("max_depth", _I, _ARG, minimum=0),
            _p("limit", _I, _ARG, minimum=0),
            _p("offset", _I, _ARG, minimum=0),
        ],
        reads_only=True,
    ),
    # raw HTTP
    _op(
        "http.get",
        "Any",
        [_arg("path", ParamType.PATH), _p("params", _T)],
        ["path"],
        reads_only=True,
    ),
    _op(
        "http.post",
        "Any",
        [_arg("path", ParamType.PATH), _p("json", _T, needed=True)],
        ["path"],
        changes_runs=True,
    ),
    _op(
        "http.put",
        "Any",
        [_arg("path", ParamType.PATH), _p("json", _T, needed=True)],
        ["path", "json"],
        changes_runs=True,
    ),
    _op(
        "http.patch",
        "Any",
        [_arg("path", ParamType.PATH), _p("json", _T, needed=True)],
        ["path", "json"],
        changes_runs=True,
    ),
    _op(
        "http.delete",
        "None",
        [_arg("path", ParamType.PATH), _p("json", ParamType.JSON)],
        ["path"],
        changes_runs=True,
    ),
    _op(
        "http.stream",
        "AsyncIterator[StreamPart]",
        [
            _arg("path", ParamType.PATH),
            _p("method", _S, _ARG, needed=True, choices=_HTTP_METHODS),
            _p("json", _T),
            _p("params", _T),
        ],
        ["path", "method"],
        changes_runs=True,
    ),
]

#: Every operation by its name, in the SDK reference's order.
OPERATIONS: Mapping[str, OperationSpec] = MappingProxyType({op.name: op for op in _TABLE})


def operation_names(where: Callable[[OperationSpec], bool]) -> frozenset[str]:
    """The names of the operations ``where`` holds for (``lambda op: op.reads_only``): for
    code that meets operations by name, in a history, and wants a set to look them up in."""
    return frozenset(name for name, spec in OPERATIONS.items() if where(spec))
