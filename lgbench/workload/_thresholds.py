"""Threshold expressions: a metric key and a condition, read into a :class:`Threshold`.

The grammar (``docs/thresholds.md`` explains each metric)::

    threshold   := key condition                       "--threshold" text: key then condition
    key         := operation [selector] "." op-metric
                 | operation "." op-metric selector    the same key, selector at the end
                 | run-metric [selector]
    selector    := "{" name "=" value "}"              scenario=NAME or TAG=VALUE, one only
    op-metric   := series "." stat | "errors.rate" | "errors.count" | "rate" | "count"
                 | "latency.p50.drift" | "latency.p99.drift" | "errors.rate.drift"
                 | "empty" | "empty.rate"          empty: waits, joins and streams
                 | "tokens_per_s." rate-stat           each chat reply stream's tokens/s
    series      := "latency" | "ttfe" | "queue_wait"   ttfe, queue_wait: streaming operations
                 | "ttft" | "itl"                      chat replies' tokens, streams too
    run-metric  := "errors.rate" | "errors.count" | "rate" | "count"
                 | "dropped_iterations" | "anomalies"
                 | "schedule_lag." stat | "event_loop_lag." stat
    stat        := "min" | "mean" | "p50" | "p90" | "p95" | "p99" | "p99.9" | "p99_9" | "max"
    rate-stat   := "min" | "p1" | "p10" | "p50" | "p90" | "mean" | "max"
    condition   := operator number [unit] [ "in every" duration ]
    operator    := "<" | "<=" | ">" | ">=" | "==" | "!="       (also ≤ ≥ ≠)
    unit        := duration unit: "ns" | "us" | "µs" | "ms" | "s" | "m" | "h" ("1m30s" too)
                 | "%" | "/s" | "/m" | "/h" | "%/h" | nothing

Each metric has a kind, and the kind decides which units fit: durations need a duration
unit; ratios take ``%`` or a bare fraction from 0 to 1; rates need ``/s``, ``/m`` or ``/h``;
counts are bare whole numbers; drifts need ``%/h``. Limits are kept in the unit results
are reported in: milliseconds, percent, per second, percent per hour, or a plain number.

Nothing here raises for a user's mistake: :func:`build_threshold` returns every problem
it found (the workload parser places each at its line and column), and
:func:`parse_threshold_option` turns them into one :class:`~lgbench.errors.UsageError`.

The grammar is part of the workload files' language, as the executors' options are, so it
lives here; :mod:`lgbench.thresholds` judges the thresholds it reads against a run.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, final

from lgbench._toml import (
    DURATION_FORMS,
    DurationError,
    did_you_mean,
    format_duration,
    parse_duration,
    quote,
)
from lgbench.errors import UsageError
from lgbench.operations import OPERATIONS, operation_names
from lgbench.workload._model import (
    OperationStepConfig,
    ThresholdSpec,
    Workload,
    turn_tags,
    user_tags,
)

__all__ = [
    "OPERATORS",
    "STATS",
    "Metric",
    "MetricKind",
    "Operator",
    "Threshold",
    "ThresholdProblem",
    "build_threshold",
    "parse_threshold_option",
    "workload_thresholds",
]

#: A comparison operator, as results report it.
Operator: TypeAlias = Literal["<", "<=", ">", ">=", "==", "!="]

#: The operators, longest first (so "<=" is read before "<").
OPERATORS: Final[tuple[Operator, ...]] = ("<=", ">=", "==", "!=", "<", ">")
_OPERATOR_TEXTS: Final[dict[str, Operator]] = {
    **{operator: operator for operator in OPERATORS},
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
}

#: Statistics of a latency-like series: how a key writes them -> the summary's key.
STATS: Final[dict[str, str]] = {
    "min": "min",
    "mean": "mean",
    "p50": "p50",
    "p90": "p90",
    "p95": "p95",
    "p99": "p99",
    "p99.9": "p99_9",
    "p99_9": "p99_9",
    "max": "max",
}
_STAT_NAMES: Final = ("min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max")

#: Series of an operation that have statistics.
_SERIES: Final = ("latency", "ttfe", "queue_wait", "ttft", "itl")
_STREAM_SERIES: Final = frozenset({"ttfe", "queue_wait", "ttft", "itl"})
#: Run-wide series with statistics (lgbench's own lag).
_LAG_SERIES: Final = ("schedule_lag", "event_loop_lag")
_COUNTERS: Final = ("errors.rate", "errors.count", "rate", "count")
_DRIFTS: Final = ("latency.p50.drift", "latency.p99.drift", "errors.rate.drift")
#: Ok answers without a result (summary ``empty``), of the operations that return one.
_EMPTY_METRICS: Final = ("empty", "empty.rate")
_EMPTY_OPERATIONS: Final = tuple(sorted(operation_names(lambda op: op.follows_run)))
#: Each chat reply stream's tokens per second (summary ``stream.stream_tokens_per_s``): a rate,
#: whose harmful tail is the low one, so its statistics are those of the summary, low ones too.
#: Logged per interval (the streams that ended in it), so it takes a window and may abort.
_TOKEN_RATE: Final = "tokens_per_s"
_TOKEN_RATE_STATS: Final = ("min", "p1", "p10", "p50", "p90", "mean", "max")
_TOKEN_RATE_HELP: Final = ", ".join(_TOKEN_RATE_STATS)

_OP_METRICS_HELP: Final = (
    "latency.<stat>, ttfe.<stat>, queue_wait.<stat>, ttft.<stat>, itl.<stat>, "
    "tokens_per_s.<p10|p50|...>, errors.rate, errors.count, rate, count, "
    "latency.p50.drift, latency.p99.drift, errors.rate.drift, empty or empty.rate"
)
_RUN_METRICS_HELP: Final = (
    "errors.rate, errors.count, rate, count, dropped_iterations, anomalies, "
    "schedule_lag.<stat> or event_loop_lag.<stat>"
)
_STATS_HELP: Final = ", ".join(_STAT_NAMES)
_WINDOWABLE_HELP: Final = (
    "a metric lgbench sees interval by interval: a latency, ttfe, queue_wait, ttft, itl, "
    "tokens_per_s, schedule_lag or event_loop_lag statistic, errors.rate, errors.count, rate "
    "or count"
)
_RUN_WIDE_NAMES: Final = (
    *_COUNTERS,
    "dropped_iterations",
    "anomalies",
    *(f"{series}.{stat}" for series in _LAG_SERIES for stat in _STAT_NAMES),
)
_RESOURCES: Final = frozenset(name.split(".", 1)[0] for name in OPERATIONS)
_STREAMING: Final = tuple(name for name, spec in OPERATIONS.items() if spec.streams)

_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DURATION_UNIT: Final = re.compile(r"(?:ns|us|µs|μs|ms|s|m|h)(?:[\d.]+(?:ns|us|µs|μs|ms|s|m|h))*")
_WINDOW: Final = re.compile(r"(?P<comparison>.*?)(?:\s+in\s+every(?:\s+(?P<window>.*)|\s*))?")
_RATE_UNITS: Final[dict[str, float]] = {"/s": 1.0, "/m": 1 / 60, "/h": 1 / 3600}
_MIN_WINDOW_S: Final = 1.0


class MetricKind(enum.Enum):
    """What a metric measures, which decides the units its limit may use."""

    DURATION = "duration"
    RATIO = "ratio"
    RATE = "rate"
    COUNT = "count"
    DRIFT = "drift"

    @property
    def unit(self) -> str:
        """The unit values and limits are reported in: ``ms``, ``%``, ``/s``, ``%/h`` or ``""``."""
        return _REPORT_UNITS[self]

    @property
    def expected(self) -> str:
        """What a limit of this kind looks like, for error messages."""
        return _EXPECTED[self]


_REPORT_UNITS: Final = {
    MetricKind.DURATION: "ms",
    MetricKind.RATIO: "%",
    MetricKind.RATE: "/s",
    MetricKind.COUNT: "",
    MetricKind.DRIFT: "%/h",
}
_EXPECTED: Final = {
    MetricKind.DURATION: 'a duration with its unit, e.g. "< 2s", "<= 200ms", "< 1m30s"',
    MetricKind.RATIO: 'a percentage or a fraction from 0 to 1, e.g. "< 1%" or "< 0.01"',
    MetricKind.RATE: 'a rate per second, minute or hour, e.g. ">= 50/s", ">= 100/m"',
    MetricKind.COUNT: 'a whole number without a unit, e.g. "== 0", "< 10"',
    MetricKind.DRIFT: 'a change in percent per hour, e.g. "< 20%/h"',
}


@final
@dataclass(frozen=True, slots=True)
class Metric:
    """What a threshold measures.

    ``name`` is one of ``latency``, ``ttfe``, ``queue_wait`` (with an operation),
    ``schedule_lag``, ``event_loop_lag`` (run-wide; these five have a ``stat``, the summary's
    key such as ``p99_9``), ``errors.rate``, ``errors.count``, ``rate``, ``count`` (of one
    operation, or of all when ``operation`` is None), ``dropped_iterations`` or ``anomalies``.
    ``drift`` marks the soak drift of ``latency`` (p50/p99) or ``errors.rate``. At most one of
    ``scenario`` and ``tag`` narrows it.
    """

    name: str
    operation: str | None = None
    stat: str | None = None
    drift: bool = False
    scenario: str | None = None
    tag: tuple[str, str] | None = None

    @property
    def kind(self) -> MetricKind:
        if self.drift:
            return MetricKind.DRIFT
        if self.name == _TOKEN_RATE:
            return MetricKind.RATE
        if self.stat is not None:
            return MetricKind.DURATION
        if self.name in ("errors.rate", "empty.rate"):
            return MetricKind.RATIO
        if self.name == "rate":
            return MetricKind.RATE
        return MetricKind.COUNT

    @property
    def windowable(self) -> bool:
        """Whether lgbench sees it interval by interval (so it can be windowed or abort)."""
        return not self.drift and self.name not in (
            "dropped_iterations",
            "anomalies",
            *_EMPTY_METRICS,
        )

    @property
    def stat_label(self) -> str:
        """``p99.9`` for the summary's ``p99_9``; empty without a statistic."""
        return "" if self.stat is None else self.stat.replace("_", ".")

    def selector(self) -> str:
        """``{scenario=chat}``, ``{role=observer}`` or an empty string."""
        if self.scenario is not None:
            return f"{{scenario={self.scenario}}}"
        if self.tag is not None:
            return f"{{{self.tag[0]}={self.tag[1]}}}"
        return ""

    @property
    def key(self) -> str:
        """The canonical key: ``runs.wait{scenario=chat}.latency.p99``, ``errors.rate``..."""
        path = self.name + (f".{self.stat_label}" if self.stat else "")
        if self.drift:
            path += ".drift"
        if self.operation is None:
            return path + self.selector()
        return f"{self.operation}{self.selector()}.{path}"

    def subject(self) -> str:
        """Whose metric it is, in words: ``runs.wait in scenario chat``."""
        who = self.operation or "all operations"
        if self.scenario is not None:
            return f"{who} in scenario {self.scenario}"
        if self.tag is not None:
            return f"{who} tagged {self.tag[0]}={self.tag[1]}"
        return who

    def describe(self) -> str:
        """The metric in words: ``p99 latency of runs.wait``."""
        stat = self.stat_label
        if self.drift:
            inner = Metric(self.name, self.operation, self.stat)
            return f"drift of the {inner.describe()}"
        if self.name in _SERIES:
            label = {
                "latency": "latency",
                "ttfe": "time to first event",
                "queue_wait": "queue wait",
                "ttft": "time to first token",
                "itl": "inter-token latency",
            }
            return f"{stat} {label[self.name]} of {self.subject()}"
        if self.name == _TOKEN_RATE:
            return f"{stat} tokens per second of a chat reply stream of {self.subject()}"
        if self.name == "schedule_lag":
            return f"{stat} schedule lag"
        if self.name == "event_loop_lag":
            return f"{stat} event-loop lag"
        if self.name == "dropped_iterations":
            where = f" of scenario {self.scenario}" if self.scenario is not None else ""
            return f"dropped iterations{where}"
        if self.name == "anomalies":
            return "anomalies found by the checker"
        label = {
            "errors.rate": "error rate",
            "errors.count": "errors",
            "rate": "rate",
            "count": "operations",
            "empty": "empty answers",
            "empty.rate": "share of empty answers",
        }
        return f"{label[self.name]} of {self.subject()}"


@final
@dataclass(frozen=True, slots=True)
class Threshold:
    """One parsed, valid threshold.

    ``limit`` is in ``metric.kind.unit`` (ms, %, /s, %/h or a plain number); ``condition``
    is the comparison in canonical form (``"< 2s"``), without the window; ``window_s`` is
    None for a whole-run threshold; ``source`` says where it was written
    (``"workloads/x.toml:61:27"`` or ``"--threshold"``).
    """

    metric: Metric
    operator: Operator
    limit: float
    condition: str
    window_s: float | None = None
    abort_on_fail: bool = False
    abort_delay_s: float = 0.0
    source: str = ""

    @property
    def name(self) -> str:
        """The canonical key, e.g. ``runs.wait.latency.p99``."""
        return self.metric.key

    @property
    def unit(self) -> str:
        return self.metric.kind.unit

    def holds(self, value: float) -> bool:
        """Whether ``value`` (in :attr:`unit`) meets the condition."""
        match self.operator:
            case "<":
                return value < self.limit
            case "<=":
                return value <= self.limit
            case ">":
                return value > self.limit
            case ">=":
                return value >= self.limit
            case "==":
                return value == self.limit
            case "!=":
                return value != self.limit
        raise AssertionError(self.operator)  # pragma: no cover - exhaustive

    def describe(self) -> str:
        """``runs.wait.latency.p99 < 2s in every 1m0s``."""
        window = "" if self.window_s is None else f" in every {format_duration(self.window_s)}"
        return f"{self.name} {self.condition}{window}"


#: Which part of a threshold a problem is about (the parser places it there).
ProblemPart: TypeAlias = Literal["key", "condition", "window", "abort_on_fail", "abort_delay"]


@final
@dataclass(frozen=True, slots=True)
class ThresholdProblem:
    """One mistake in a threshold: which ``part`` it is in, what is wrong, what would do."""

    part: ProblemPart
    message: str
    expected: str = ""

    def __str__(self) -> str:
        return f"{self.message} (expected {self.expected})" if self.expected else self.message


class _Problems:
    def __init__(self) -> None:
        self.found: list[ThresholdProblem] = []

    def add(self, part: ProblemPart, message: str, expected: str = "") -> None:
        self.found.append(ThresholdProblem(part, message, expected))


# -- keys ------------------------------------------------------------------------------------


def _split_selector(key: str, problems: _Problems) -> tuple[str, str | None, int] | None:
    """``(path, selector text, where the selector was in the path)``; None after a problem."""
    opens, closes = key.count("{"), key.count("}")
    if opens == 0 and closes == 0:
        return key, None, -1
    expected = "one {scenario=NAME} or {TAG=VALUE} after the operation or at the end"
    if opens != 1 or closes != 1 or key.index("{") > key.index("}"):
        problems.add(
            "key", f"threshold key {quote(key)} has unbalanced or repeated braces", expected
        )
        return None
    start, end = key.index("{"), key.index("}")
    before, inner, after = key[:start], key[start + 1 : end], key[end + 1 :]
    if not before or before.endswith(".") or (after and not after.startswith(".")):
        problems.add(
            "key",
            f"threshold key {quote(key)}: a selector follows a name, then a dot or the end",
            expected,
        )
        return None
    return before + after, inner, len(before)


def _read_selector(
    text: str,
    key: str,
    problems: _Problems,
    scenarios: Collection[str] | None,
    tags: Collection[tuple[str, str]] | None,
) -> tuple[str | None, tuple[str, str] | None] | None:
    expected = "{scenario=NAME} or one {TAG=VALUE}"
    if "," in text:
        problems.add(
            "key",
            f"threshold key {quote(key)}: one selector at a time (the summary keeps figures per "
            "scenario and per tag, not per combination)",
            expected,
        )
        return None
    name, equals, value = (part.strip() for part in text.partition("="))
    if not equals or not name or not value:
        problems.add(
            "key", f"threshold key {quote(key)}: selector {quote(text)} is not NAME=VALUE", expected
        )
        return None
    if name == "scenario":
        if scenarios is not None and value not in scenarios:
            problems.add(
                "key",
                f"threshold key {quote(key)}: no scenario is called {quote(value)}"
                + did_you_mean(value, scenarios),
                "one of the workload's scenarios: " + ", ".join(sorted(scenarios)),
            )
            return None
        return value, None
    if tags is not None and (name, value) not in tags:
        known = sorted(f"{n}={v}" for n, v in tags)
        problems.add(
            "key",
            f"threshold key {quote(key)}: no scenario is tagged {name}={value}"
            + did_you_mean(f"{name}={value}", known),
            "scenario=NAME or a tag of the workload: "
            + ", ".join(known[:_LISTED_TAGS])
            + (f", … ({len(known) - _LISTED_TAGS} more)" if len(known) > _LISTED_TAGS else ""),
        )
        return None
    return None, (name, value)


#: Tags named in a message before "… (N more)": users and turns may bring hundreds.
_LISTED_TAGS: Final = 20


def _read_stat(text: str, key: str, problems: _Problems) -> str | None:
    stat = STATS.get(text)
    if stat is None:
        problems.add(
            "key",
            f"threshold key {quote(key)}: unknown statistic {quote(text)}"
            + did_you_mean(text, _STAT_NAMES),
            "one of " + _STATS_HELP,
        )
    return stat


def _operation_metric(
    operation: str, rest: str, key: str, problems: _Problems
) -> tuple[str, str | None, bool] | None:
    """``(name, stat, drift)`` of what follows the operation in ``key``."""
    if rest in _COUNTERS:
        return rest, None, False
    if rest == "errors.rate.drift":
        return "errors.rate", None, True
    if rest in _EMPTY_METRICS:
        if operation not in _EMPTY_OPERATIONS:
            problems.add(
                "key",
                f"threshold key {quote(key)}: {operation} returns no result, so it has no {rest}",
                f"{rest} of {', '.join(_EMPTY_OPERATIONS)}",
            )
            return None
        return rest, None, False
    series, _, stat_text = rest.partition(".")
    if series == _TOKEN_RATE:
        return _token_rate_metric(operation, stat_text, key, problems)
    if series in _SERIES:
        if series in _STREAM_SERIES and not OPERATIONS[operation].streams:
            problems.add(
                "key",
                f"threshold key {quote(key)}: {operation} does not stream, so it has no {series}",
                f"{series} of a streaming operation ({', '.join(_STREAMING)})",
            )
            return None
        if not stat_text:
            problems.add(
                "key",
                f"threshold key {quote(key)}: {series} needs a statistic",
                f"{operation}.{series}.<stat> with <stat> one of {_STATS_HELP}",
            )
            return None
        drift = stat_text.endswith(".drift")
        stat = _read_stat(stat_text.removesuffix(".drift"), key, problems)
        if stat is None:
            return None
        if drift and (series != "latency" or stat not in ("p50", "p99")):
            problems.add(
                "key",
                f"threshold key {quote(key)}: drift is kept for latency.p50, latency.p99 and "
                "errors.rate only",
                ", ".join(f"{operation}.{name}" for name in _DRIFTS),
            )
            return None
        return series, stat, drift
    problems.add(
        "key",
        f"threshold key {quote(key)}: {operation} has no metric {quote(rest)}"
        + did_you_mean(
            rest, (*_COUNTERS, *_DRIFTS, *(f"{s}.p99" for s in _SERIES), f"{_TOKEN_RATE}.p10")
        ),
        "one of " + _OP_METRICS_HELP,
    )
    return None


def _token_rate_metric(
    operation: str, stat_text: str, key: str, problems: _Problems
) -> tuple[str, str | None, bool] | None:
    """``tokens_per_s.<stat>`` of a streaming operation: its statistics are a rate's."""
    if not OPERATIONS[operation].streams:
        problems.add(
            "key",
            f"threshold key {quote(key)}: {operation} does not stream, so it has no {_TOKEN_RATE}",
            f"{_TOKEN_RATE} of a streaming operation ({', '.join(_STREAMING)})",
        )
        return None
    if stat_text not in _TOKEN_RATE_STATS:
        what = "needs a statistic" if not stat_text else f"has no statistic {quote(stat_text)}"
        problems.add(
            "key",
            f"threshold key {quote(key)}: {_TOKEN_RATE} {what}"
            + (did_you_mean(stat_text, _TOKEN_RATE_STATS) if stat_text else ""),
            f"{operation}.{_TOKEN_RATE}.<stat> with <stat> one of {_TOKEN_RATE_HELP} "
            "(a rate's harmful tail is the low one: p1, p10)",
        )
        return None
    return _TOKEN_RATE, stat_text, False


def _run_metric(path: str, key: str, problems: _Problems) -> tuple[str, str | None] | None:
    """``(name, stat)`` of a run-wide metric."""
    if path in _COUNTERS or path in ("dropped_iterations", "anomalies"):
        return path, None
    series, _, stat_text = path.partition(".")
    if series in _LAG_SERIES:
        if not stat_text:
            problems.add(
                "key",
                f"threshold key {quote(key)}: {series} needs a statistic",
                f"{series}.<stat> with <stat> one of {_STATS_HELP}",
            )
            return None
        stat = _read_stat(stat_text, key, problems)
        return None if stat is None else (series, stat)
    if series in _SERIES or series == _TOKEN_RATE:
        problems.add(
            "key",
            f"threshold key {quote(key)}: {series} is measured per operation",
            f"<operation>.{path}, e.g. "
            f"{'runs.stream' if series in (*_STREAM_SERIES, _TOKEN_RATE) else 'runs.wait'}.{path}",
        )
        return None
    first_two = ".".join(path.split(".")[:2])
    if series in _RESOURCES or (
        not did_you_mean(path, _RUN_WIDE_NAMES) and did_you_mean(first_two, OPERATIONS)
    ):
        problems.add(
            "key",
            f"threshold key {quote(key)}: unknown operation {quote(first_two)}"
            + did_you_mean(first_two, OPERATIONS),
            "an operation such as runs.wait, runs.stream, threads.create (docs/workload.md)",
        )
        return None
    problems.add(
        "key",
        f"threshold key {quote(key)}: unknown metric {quote(path)}"
        + did_you_mean(path, _RUN_WIDE_NAMES),
        f"<operation>.<metric> with <metric> one of {_OP_METRICS_HELP}; or a run-wide "
        f"metric: {_RUN_METRICS_HELP}",
    )
    return None


def _find_operation(path: str) -> str | None:
    found = [name for name in OPERATIONS if path == name or path.startswith(name + ".")]
    return max(found, key=len) if found else None


def _read_key(
    key: str,
    problems: _Problems,
    scenarios: Collection[str] | None,
    tags: Collection[tuple[str, str]] | None,
) -> Metric | None:
    text = key.strip()
    if not text:
        problems.add("key", "a threshold key is empty", "a metric such as runs.wait.latency.p99")
        return None
    split = _split_selector(text, problems)
    if split is None:
        return None
    path, selector_text, selector_at = split
    selector: tuple[str | None, tuple[str, str] | None] = (None, None)
    if selector_text is not None:
        read = _read_selector(selector_text, key, problems, scenarios, tags)
        if read is None:
            return None
        selector = read
    scenario, tag = selector
    operation = _find_operation(path)
    if operation is not None:
        if path == operation:
            problems.add(
                "key", f"threshold key {quote(key)} names no metric", "one of " + _OP_METRICS_HELP
            )
            return None
        if selector_text is not None and selector_at not in (len(operation), len(path)):
            problems.add(
                "key",
                f"threshold key {quote(key)}: the selector goes right after the operation",
                f"{operation}{{{selector_text}}}.{path[len(operation) + 1 :]}",
            )
            return None
        read_op = _operation_metric(operation, path[len(operation) + 1 :], key, problems)
        if read_op is None:
            return None
        name, stat, drift = read_op
        if drift and selector_text is not None:
            problems.add(
                "key",
                f"threshold key {quote(key)}: drift is per operation over the whole run; "
                "it takes no selector",
                f"{operation}.{path[len(operation) + 1 :]}",
            )
            return None
        return Metric(name, operation, stat, drift, scenario, tag)
    read_run = _run_metric(path, key, problems)
    if read_run is None:
        return None
    name, stat = read_run
    if selector_text is not None:
        if selector_at != len(path):
            problems.add(
                "key",
                f"threshold key {quote(key)}: the selector of a run-wide metric goes at the end",
                f"{path}{{{selector_text}}}",
            )
            return None
        if name in ("anomalies", *_LAG_SERIES):
            problems.add(
                "key",
                f"threshold key {quote(key)}: {name} is measured for the whole run only",
                f"{path} without a selector",
            )
            return None
        if name == "dropped_iterations" and tag is not None:
            problems.add(
                "key",
                f"threshold key {quote(key)}: dropped iterations are counted per scenario, "
                "not per tag",
                "dropped_iterations{scenario=NAME}",
            )
            return None
    return Metric(name, None, stat, False, scenario, tag)


# -- conditions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Condition:
    operator: Operator
    limit: float
    text: str
    window_s: float | None


def _limit(number: str, unit: str, kind: MetricKind, key: str, problems: _Problems) -> float | None:
    """The limit ``number unit`` in ``kind``'s report unit, or None after a problem."""
    written = quote(number + unit)
    value = float(number)
    if not math.isfinite(value):
        problems.add("condition", f"limit {written} is not a finite number", kind.expected)
        return None
    is_duration = bool(_DURATION_UNIT.fullmatch(unit))
    mismatch = f"{key} is a {kind.value}, and {written} is not one"
    if kind is MetricKind.DURATION:
        if not unit:
            problems.add(
                "condition", f"limit {written} of {key} needs a duration unit", kind.expected
            )
            return None
        if not is_duration:
            problems.add("condition", mismatch, kind.expected)
            return None
        try:
            return parse_duration(number + unit) * 1000.0
        except DurationError as error:
            problems.add("condition", f"limit {error.problem}", kind.expected)
            return None
    if is_duration:
        problems.add("condition", mismatch, kind.expected)
        return None
    if kind is MetricKind.RATIO:
        if unit == "%":
            if not 0.0 <= value <= 100.0:
                problems.add(
                    "condition", f"limit {written} is not between 0% and 100%", kind.expected
                )
                return None
            return value
        if not unit:
            if not 0.0 <= value <= 1.0:
                problems.add(
                    "condition",
                    f"limit {written} of {key}: a bare ratio is a fraction from 0 to 1"
                    f" (write {quote(number + '%')} for percent)",
                    kind.expected,
                )
                return None
            return value * 100.0
    elif kind is MetricKind.RATE:
        if unit in _RATE_UNITS:
            if value < 0:
                problems.add("condition", f"limit {written} is a negative rate", kind.expected)
                return None
            return value * _RATE_UNITS[unit]
        if not unit:
            problems.add("condition", f"limit {written} of {key} needs a rate unit", kind.expected)
            return None
    elif kind is MetricKind.COUNT:
        if not unit:
            if not re.fullmatch(r"\+?\d+", number):
                problems.add(
                    "condition", f"limit {written} of {key} is not a whole number", kind.expected
                )
                return None
            return float(int(number))
    elif kind is MetricKind.DRIFT and unit == "%/h":
        return value
    problems.add("condition", mismatch, kind.expected)
    return None


def _read_condition(
    text: str, kind: MetricKind | None, key: str, problems: _Problems
) -> _Condition | None:
    """The comparison, its limit (checked against ``kind`` when the key was valid), the window."""
    expected = 'an operator and a limit, e.g. "< 2s", "<= 1%", ">= 50/s", "== 0"'
    stripped = " ".join(text.split())
    match = _WINDOW.fullmatch(stripped)
    assert match is not None  # the pattern matches every string
    comparison = match["comparison"].strip()
    window_text = match["window"]
    window_s: float | None = None
    if match["comparison"] != stripped and window_text is None:
        problems.add(
            "condition",
            f"condition {quote(text)} has no window after 'in every'",
            '"< 2s in every 1m"',
        )
        return None
    if window_text is not None:
        try:
            window_s = parse_duration(window_text.strip())
        except DurationError as error:
            problems.add("condition", f"window: {error.problem}", DURATION_FORMS)
            return None
    operator: Operator | None = None
    for written, meaning in _OPERATOR_TEXTS.items():
        if comparison.startswith(written):
            operator = meaning
            comparison = comparison[len(written) :].strip()
            break
    if operator is None:
        hint = " (== compares for equality)" if comparison.startswith(("=", "=>", "=<")) else ""
        problems.add(
            "condition",
            f"condition {quote(text)} does not start with an operator{hint}",
            "one of <, <=, >, >=, ==, != then a limit",
        )
        return None
    number = _NUMBER.match(comparison)
    if number is None:
        problems.add(
            "condition", f"condition {quote(text)} has no number after {operator}", expected
        )
        return None
    unit, _, extra = comparison[number.end() :].strip().partition(" ")
    if extra:
        problems.add(
            "condition",
            f"condition {quote(text)}: unexpected {quote(extra.strip())} after the limit",
            'one limit with its unit, and a window written "in every 1m"',
        )
        return None
    if kind is None:
        return None
    limit = _limit(number.group(), unit, kind, key, problems)
    if limit is None:
        return None
    return _Condition(operator, limit, f"{operator} {number.group()}{unit}", window_s)


# -- thresholds ------------------------------------------------------------------------------


def build_threshold(
    key: str,
    condition: str,
    *,
    window_s: float | None = None,
    abort_on_fail: bool = False,
    abort_delay_s: float | None = None,
    source: str = "",
    scenarios: Collection[str] | None = None,
    tags: Collection[tuple[str, str]] | None = None,
) -> Threshold | list[ThresholdProblem]:
    """A :class:`Threshold` from a key and a condition, or every problem found in them.

    ``window_s`` is a window given apart from the condition (the table form; the condition
    may also say ``in every 1m``, but not both). ``scenarios`` and ``tags`` are the names a
    selector may use (None: any). Pure; never raises for a bad input.
    """
    problems = _Problems()
    metric = _read_key(key, problems, scenarios, tags)
    read = _read_condition(
        condition, None if metric is None else metric.kind, key.strip(), problems
    )
    if metric is None or read is None:
        return problems.found
    if read.window_s is not None and window_s is not None:
        problems.add(
            "window", "the window is given twice: in the condition and as window", "one of them"
        )
    window = window_s if read.window_s is None else read.window_s
    if window is not None:
        if not metric.windowable:
            problems.add(
                "window",
                f"{metric.key} cannot be windowed: {_whole_run(metric)}",
                _WINDOWABLE_HELP,
            )
        elif window < _MIN_WINDOW_S:
            problems.add(
                "window",
                f"window {quote(format_duration(window))} is shorter than 1s, the length of the "
                "intervals lgbench closes",
                "a window of at least 1s, e.g. 1m",
            )
    if abort_on_fail and not metric.windowable:
        problems.add(
            "abort_on_fail",
            f"{metric.key} cannot abort the run: {_whole_run(metric)}",
            _WINDOWABLE_HELP,
        )
    if abort_delay_s is not None and not abort_on_fail:
        problems.add(
            "abort_delay", "abort_delay needs abort_on_fail = true", "abort_on_fail = true"
        )
    if problems.found:
        return problems.found
    return Threshold(
        metric=metric,
        operator=read.operator,
        limit=read.limit,
        condition=read.text,
        window_s=window,
        abort_on_fail=abort_on_fail,
        abort_delay_s=abort_delay_s or 0.0,
        source=source,
    )


def _whole_run(metric: Metric) -> str:
    """Why ``metric`` (not windowable) is judged on the whole run only."""
    return "it is known only at the end of the run"


def _split_option(text: str) -> tuple[str, str] | None:
    depth = 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and char in "<>=!≤≥≠":
            return text[:index], text[index:]
    return None


def parse_threshold_option(
    text: str,
    *,
    scenarios: Collection[str] | None = None,
    tags: Collection[tuple[str, str]] | None = None,
) -> Threshold:
    """A threshold from the command line: ``--threshold 'runs.wait.latency.p99<2s'``.

    The key comes first, then the condition (a window too: ``'errors.rate<1% in every 1m'``);
    spaces between them are optional. ``scenarios`` / ``tags`` check selectors against the
    workload. Raises :class:`~lgbench.errors.UsageError` naming ``--threshold``.
    """
    split = _split_option(text)
    if split is None:
        raise UsageError(
            f"--threshold {quote(text)}: no condition; expected a key then a condition, "
            "e.g. --threshold 'runs.wait.latency.p99<2s'"
        )
    found = build_threshold(
        split[0], split[1], source="--threshold", scenarios=scenarios, tags=tags
    )
    if isinstance(found, Threshold):
        return found
    raise UsageError("\n".join(f"--threshold {quote(text)}: {problem}" for problem in found))


def _known_names(workload: Workload) -> tuple[list[str], list[tuple[str, str]]]:
    tags = {(name, value) for s in workload.scenarios for name, value in s.tags.items()}
    tags |= set(workload.defaults.tags.items())
    tags.add(("role", "observer"))
    # A step with turns records each repeat under turn=1 ... turn=<repeat>.
    for scenario in workload.scenarios:
        for step in scenario.steps:
            if isinstance(step, OperationStepConfig) and step.turns:
                tags |= turn_tags(step.repeat)
    if workload.target.auth is not None:
        tags |= user_tags(workload.target.auth.users)
    return [s.name for s in workload.scenarios], sorted(tags)


def workload_thresholds(
    workload: Workload, extra: Iterable[Threshold] = ()
) -> tuple[Threshold, ...]:
    """Every threshold of ``workload`` (already valid when it was loaded), then ``extra``.

    Each carries its ``path:line:col`` as ``source``. Raises
    :class:`~lgbench.errors.UsageError` for a hand-built workload with an invalid threshold.
    """
    scenarios, tags = _known_names(workload)
    found: list[Threshold] = []
    for spec in workload.thresholds:
        where = spec.location
        source = (
            workload.path if where.line <= 0 else f"{workload.path}:{where.line}:{where.column}"
        )
        built = _from_spec(spec, source, scenarios, tags)
        if not isinstance(built, Threshold):
            raise UsageError(
                "\n".join(f"{source}: threshold {spec.expression_key}: {p}" for p in built)
            )
        found.append(built)
    return (*found, *extra)


def _from_spec(
    spec: ThresholdSpec, source: str, scenarios: list[str], tags: list[tuple[str, str]]
) -> Threshold | list[ThresholdProblem]:
    return build_threshold(
        spec.expression_key,
        spec.condition_text,
        window_s=spec.window_s,
        abort_on_fail=spec.abort_on_fail,
        abort_delay_s=spec.abort_delay_s if spec.abort_on_fail else None,
        source=source,
        scenarios=scenarios,
        tags=tags,
    )
