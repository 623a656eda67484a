"""A workload's ``[[fault]]`` tables: :class:`FaultSpec`, their validation and checks.

One table per fault (see ``docs/faults.md``)::

    [[fault]]
    name = "slow network"
    kind = "latency"
    at = "30s"          # after the run's start
    for = "20s"         # left out: until the end of the run
    latency = "200ms"
    jitter = "50ms"

:func:`validate_fault_table` reads one table and returns the spec or every issue, each
naming its key path inside the table (so the workload parser can add file:line:col);
:func:`check_schedule` says, before a run, what a schedule asks for that the run does
not have (the proxy, the embedded server) and which faults contradict each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, get_args

# The submodules, not the package: the workload parser will read [[fault]] tables with
# this module, and importing lgbench.workload from here would then be circular.
from lgbench._toml import DURATION_FORMS, DurationError, KeyPath, format_duration, parse_duration
from lgbench._toml import quote as _quote
from lgbench._toml import toml_type as _toml_type
from lgbench.faults._proxy import (
    DIRECTIONS,
    CutFault,
    Direction,
    LatencyFault,
    ProxyFault,
    RefuseFault,
    ResetFault,
    StallFault,
    ThrottleFault,
)

__all__ = [
    "FAULT_KINDS",
    "PROXY_KINDS",
    "SERVER_KINDS",
    "FaultIssue",
    "FaultKind",
    "FaultSpec",
    "check_schedule",
    "faults_after",
    "validate_fault_table",
]

#: What a fault does. Proxy kinds act on the network between lgbench and the target;
#: server kinds act on the embedded server's processes.
FaultKind: TypeAlias = Literal[
    "latency", "throttle", "stall", "reset", "refuse", "cut", "kill", "restart", "pause"
]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)
#: Kinds that need a :class:`~lgbench.faults.FaultProxy` in front of the target.
PROXY_KINDS: Final[frozenset[FaultKind]] = frozenset(
    {"latency", "throttle", "stall", "reset", "refuse", "cut"}
)
#: Kinds that need the embedded server (lgbench's own subprocess).
SERVER_KINDS: Final[frozenset[FaultKind]] = frozenset({"kill", "restart", "pause"})

_COMMON_KEYS: Final = ("name", "kind", "at", "for")
# The keys each kind takes besides the common ones.
_KIND_KEYS: Final[Mapping[FaultKind, tuple[str, ...]]] = {
    "latency": ("latency", "jitter", "direction"),
    "throttle": ("bytes_per_s", "direction"),
    "stall": (),
    "reset": (),
    "refuse": (),
    "cut": ("after_bytes",),
    "kill": (),
    "restart": (),
    "pause": (),
}
_REQUIRED: Final[Mapping[FaultKind, tuple[str, ...]]] = {
    "latency": ("latency",),
    "throttle": ("bytes_per_s",),
}
_ALL_KEYS: Final = tuple(dict.fromkeys(_COMMON_KEYS + sum(_KIND_KEYS.values(), ())))


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One scheduled fault.

    ``at_s`` is seconds after the run's start; ``for_s`` how long it lasts (None: until
    the end of the run). ``kill`` with a ``for_s`` restarts the server after it;
    ``restart`` has no duration (it lasts until the server is back). Parameters that
    do not apply to the kind keep their defaults.
    """

    name: str
    kind: FaultKind
    at_s: float
    for_s: float | None = None
    #: latency: added one-way delay per chunk, and its jitter (uniform ±).
    latency_s: float = 0.0
    jitter_s: float = 0.0
    #: throttle: bandwidth limit.
    bytes_per_s: float | None = None
    #: cut: bytes to let through on each connection before cutting mid-event.
    after_bytes: int = 0
    #: latency, throttle: which way the fault acts.
    direction: Direction = "both"

    @property
    def end_s(self) -> float | None:
        """When the fault is lifted (seconds after the start), None if it lasts to the end."""
        return None if self.for_s is None else self.at_s + self.for_s

    def proxy_fault(self) -> ProxyFault | None:
        """The proxy fault this spec applies, None for server kinds."""
        kind = self.kind
        if kind == "latency":
            return LatencyFault(self.latency_s, self.jitter_s, self.direction)
        if kind == "throttle":
            assert self.bytes_per_s is not None
            return ThrottleFault(self.bytes_per_s, self.direction)
        if kind == "stall":
            return StallFault()
        if kind == "reset":
            return ResetFault()
        if kind == "refuse":
            return RefuseFault()
        if kind == "cut":
            return CutFault(self.after_bytes)
        return None

    def describe(self) -> str:
        """One line: ``"slow network": latency 200ms ± 50ms at 30s for 20s``."""
        details = ""
        if self.kind == "latency":
            details = f" {format_duration(self.latency_s)} ± {format_duration(self.jitter_s)}"
        elif self.kind == "throttle":
            details = f" {self.bytes_per_s:g} bytes/s"
        elif self.kind == "cut":
            details = f" after {self.after_bytes} bytes"
        if self.kind in ("latency", "throttle") and self.direction != "both":
            details += f" {self.direction}"
        span = "until the end" if self.for_s is None else f"for {format_duration(self.for_s)}"
        if self.kind == "restart":
            span = ""
        text = f"{_quote(self.name)}: {self.kind}{details} at {format_duration(self.at_s)}"
        return f"{text} {span}".rstrip()


def faults_after(specs: Iterable[FaultSpec], end_s: float) -> tuple[FaultSpec, ...]:
    """The faults that start at or after ``end_s`` (when the load ends): a run shortened with
    ``--duration`` never reaches them, so they are skipped and said to be."""
    return tuple(spec for spec in specs if spec.at_s >= end_s - 1e-9)


@dataclass(frozen=True, slots=True)
class FaultIssue:
    """One problem in a ``[[fault]]`` table.

    ``key`` is the path inside the table (``("latency",)``; ``()`` for the table as a
    whole); ``at_key`` says the problem is the key itself (an unknown key), not its value.
    ``expected`` says what would have been accepted (may be empty).
    """

    key: KeyPath
    message: str
    expected: str = ""
    at_key: bool = False


def _one_of(options: Sequence[str]) -> str:
    return "one of " + ", ".join(_quote(option) for option in options)


class _Reader:
    def __init__(self, table: Mapping[str, Any]) -> None:
        self.table = table
        self.issues: list[FaultIssue] = []

    def issue(
        self, key: str | None, message: str, expected: str = "", at_key: bool = False
    ) -> None:
        self.issues.append(FaultIssue(() if key is None else (key,), message, expected, at_key))

    def duration(self, key: str, *, positive: bool) -> float | None:
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.issue(key, f"{key} must be a duration, not {_toml_type(value)}", DURATION_FORMS)
            return None
        try:
            seconds = parse_duration(value)
        except DurationError as error:
            self.issue(key, f"{key}: {error.problem}", error.expected)
            return None
        if positive and seconds <= 0:
            self.issue(key, f"{key} must be more than 0s", DURATION_FORMS)
            return None
        return seconds


def validate_fault_table(table: Mapping[str, Any]) -> tuple[FaultSpec | None, list[FaultIssue]]:
    """Read one ``[[fault]]`` table: the spec, or None and every issue found.

    Never raises for a user's mistake: wrong types, unknown or misplaced keys, bad
    durations and out-of-range numbers all become :class:`FaultIssue` values.
    """
    if not isinstance(table, Mapping):
        issue = FaultIssue((), f"a fault must be a table, not {_toml_type(table)}", "a table")
        return None, [issue]
    reader = _Reader(table)
    kind = _read_kind(reader)
    allowed = _COMMON_KEYS + (
        _KIND_KEYS[kind] if kind is not None else sum(_KIND_KEYS.values(), ())
    )
    for key in table:
        if key in allowed:
            continue
        if key in _ALL_KEYS and kind is not None:
            users = [k for k, keys in _KIND_KEYS.items() if key in keys]
            reader.issue(
                key,
                f"{_quote(key)} does not apply to a {kind} fault (only to {', '.join(users)})",
                _one_of(allowed),
                at_key=True,
            )
        else:
            reader.issue(key, f"unknown key {_quote(key)} in a fault", _one_of(allowed), True)

    name: str | None = None
    if "name" in table:
        raw_name = table["name"]
        if not isinstance(raw_name, str) or not raw_name.strip():
            what = "an empty string" if isinstance(raw_name, str) else _toml_type(raw_name)
            reader.issue("name", f"a fault's name must be a non-empty string, not {what}", "a name")
        else:
            name = raw_name
    at_s = None
    if "at" in table:
        at_s = reader.duration("at", positive=False)
    else:
        reader.issue(None, 'missing key "at": when the fault starts', 'at = "30s"')
    for_s = None
    if "for" in table:
        if kind == "restart":
            reader.issue(
                "for",
                "a restart has no duration: it lasts until the server is back",
                'no "for", or kind = "kill" with "for" (kill, then restart after it)',
                at_key=True,
            )
        else:
            for_s = reader.duration("for", positive=True)

    params: dict[str, Any] = {}
    if kind is not None:
        for key in _REQUIRED.get(kind, ()):
            if key not in table:
                reader.issue(None, f"missing key {_quote(key)} for a {kind} fault", _EXAMPLES[key])
        _read_params(reader, kind, params)

    if reader.issues or kind is None or at_s is None:
        return None, reader.issues
    spec = FaultSpec(
        name=name if name is not None else f"{kind} at {format_duration(at_s)}",
        kind=kind,
        at_s=at_s,
        for_s=for_s,
        **params,
    )
    return spec, []


_EXAMPLES: Final[Mapping[str, str]] = {
    "latency": 'latency = "200ms"',
    "bytes_per_s": "bytes_per_s = 100000",
}


def _read_kind(reader: _Reader) -> FaultKind | None:
    if "kind" not in reader.table:
        reader.issue(None, 'missing key "kind": what the fault does', _one_of(FAULT_KINDS))
        return None
    value = reader.table["kind"]
    for kind in FAULT_KINDS:
        if value == kind:
            return kind
    what = _quote(value) if isinstance(value, str) else _toml_type(value)
    reader.issue("kind", f"unknown fault kind {what}", _one_of(FAULT_KINDS))
    return None


def _read_params(reader: _Reader, kind: FaultKind, params: dict[str, Any]) -> None:
    table = reader.table
    if kind == "latency":
        if "latency" in table:
            latency_s = reader.duration("latency", positive=False)
            if latency_s is not None:
                params["latency_s"] = latency_s
        if "jitter" in table:
            jitter_s = reader.duration("jitter", positive=False)
            if jitter_s is not None:
                params["jitter_s"] = jitter_s
    if kind == "throttle" and "bytes_per_s" in table:
        rate = table["bytes_per_s"]
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            reader.issue(
                "bytes_per_s",
                f"bytes_per_s must be a number, not {_toml_type(rate)}",
                "a number of bytes per second > 0",
            )
        elif not math.isfinite(rate) or rate <= 0:
            reader.issue(
                "bytes_per_s",
                f"bytes_per_s must be more than 0, not {rate}",
                "a number of bytes per second > 0",
            )
        else:
            params["bytes_per_s"] = rate
    if kind == "cut" and "after_bytes" in table:
        after = table["after_bytes"]
        if isinstance(after, bool) or not isinstance(after, int):
            reader.issue(
                "after_bytes",
                f"after_bytes must be an integer, not {_toml_type(after)}",
                "an integer >= 0",
            )
        elif after < 0:
            reader.issue(
                "after_bytes", f"after_bytes must be at least 0, not {after}", "an integer >= 0"
            )
        else:
            params["after_bytes"] = after
    if kind in ("latency", "throttle") and "direction" in table:
        direction = table["direction"]
        for option in DIRECTIONS:
            if direction == option:
                params["direction"] = option
                break
        else:
            what = _quote(direction) if isinstance(direction, str) else _toml_type(direction)
            reader.issue("direction", f"unknown direction {what}", _one_of(DIRECTIONS))


def check_schedule(schedule: Sequence[FaultSpec], has_proxy: bool, has_server: bool) -> list[str]:
    """Every reason ``schedule`` cannot run as given (empty: it can), one sentence each.

    ``has_proxy``: a :class:`~lgbench.faults.FaultProxy` stands between lgbench and the
    target. ``has_server``: the target is the embedded server lgbench started. Also
    refused: two faults with one name (their history markers would be ambiguous) and
    server faults whose times overlap (a pause during a kill has no meaning).
    """
    problems: list[str] = []
    seen: set[str] = set()
    for spec in schedule:
        if spec.name in seen:
            problems.append(f"two faults are named {_quote(spec.name)}: give each its own name")
        seen.add(spec.name)
    for spec in schedule:
        if spec.kind in PROXY_KINDS and not has_proxy:
            problems.append(
                f"fault {_quote(spec.name)} ({spec.kind}) needs the fault proxy between lgbench"
                " and the target, and this run has none"
            )
        if spec.kind in SERVER_KINDS and not has_server:
            problems.append(
                f"fault {_quote(spec.name)} ({spec.kind}) acts on the embedded server's process:"
                ' it needs target url = "embedded", not an outside server'
            )
    server_faults = sorted(
        (spec for spec in schedule if spec.kind in SERVER_KINDS), key=lambda s: (s.at_s, s.name)
    )
    for index, first in enumerate(server_faults):
        first_end = math.inf if first.end_s is None else first.end_s
        if first.kind == "restart":
            first_end = first.at_s
        for second in server_faults[index + 1 :]:
            if second.at_s < first_end or second.at_s == first.at_s:
                problems.append(
                    f"faults {_quote(first.name)} ({first.kind}) and {_quote(second.name)}"
                    f" ({second.kind}) overlap: faults on the embedded server must not"
                )
    return problems
