"""The threshold grammar: keys, conditions, units and windows, valid and not, as tables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgbench.errors import UsageError
from lgbench.exitcodes import ExitCode
from lgbench.workload import Threshold, parse_threshold_option, parse_workload
from lgbench.workload._thresholds import Metric, MetricKind, build_threshold, workload_thresholds

SCENARIOS = ["chat", "arrivals"]
TAGS = [("role", "observer"), ("tier", "gold")]


def build(key: str, condition: str, **options: object) -> Threshold:
    found = build_threshold(key, condition, scenarios=SCENARIOS, tags=TAGS, **options)  # type: ignore[arg-type]
    assert isinstance(found, Threshold), found
    return found


def problems(key: str, condition: str, **options: object) -> list[tuple[str, str]]:
    found = build_threshold(key, condition, scenarios=SCENARIOS, tags=TAGS, **options)  # type: ignore[arg-type]
    assert not isinstance(found, Threshold), found
    return [(problem.part, str(problem)) for problem in found]


# (key, condition) -> (canonical name, metric, operator, limit in the report unit, unit, window)
VALID = [
    # durations: every unit, compound ones, limits in ms
    pytest.param(
        "runs.wait.latency.p99", "< 2s",
        "runs.wait.latency.p99", Metric("latency", "runs.wait", "p99"), "<", 2000.0, "ms", None,
        id="latency-seconds",
    ),
    pytest.param(
        "runs.wait.latency.p95", "<=200ms",
        "runs.wait.latency.p95", Metric("latency", "runs.wait", "p95"), "<=", 200.0, "ms", None,
        id="milliseconds-no-space",
    ),
    pytest.param(
        "threads.create.latency.max", "< 1m30s",
        "threads.create.latency.max", Metric("latency", "threads.create", "max"), "<", 90_000.0,
        "ms", None, id="compound-duration",
    ),
    pytest.param(
        "runs.wait.latency.min", "> 250us",
        "runs.wait.latency.min", Metric("latency", "runs.wait", "min"), ">", 0.25, "ms", None,
        id="microseconds",
    ),
    pytest.param(
        "runs.wait.latency.mean", "< 1h",
        "runs.wait.latency.mean", Metric("latency", "runs.wait", "mean"), "<", 3_600_000.0, "ms",
        None, id="hours",
    ),
    pytest.param(
        "runs.wait.latency.p99.9", "< 3s",
        "runs.wait.latency.p99.9", Metric("latency", "runs.wait", "p99_9"), "<", 3000.0, "ms",
        None, id="p99.9",
    ),
    pytest.param(
        "runs.wait.latency.p99_9", "< 3s",
        "runs.wait.latency.p99.9", Metric("latency", "runs.wait", "p99_9"), "<", 3000.0, "ms",
        None, id="p99_9-spelling",
    ),
    pytest.param(
        "runs.stream.ttfe.p50", "< 500ms",
        "runs.stream.ttfe.p50", Metric("ttfe", "runs.stream", "p50"), "<", 500.0, "ms", None,
        id="ttfe",
    ),
    pytest.param(
        "runs.join_stream.queue_wait.p90", "< 1s",
        "runs.join_stream.queue_wait.p90", Metric("queue_wait", "runs.join_stream", "p90"), "<",
        1000.0, "ms", None, id="queue-wait",
    ),
    # ratios: percent or a bare fraction, reported in percent
    pytest.param(
        "errors.rate", "< 1%",
        "errors.rate", Metric("errors.rate"), "<", 1.0, "%", None, id="ratio-percent",
    ),
    pytest.param(
        "errors.rate", "< 0.01",
        "errors.rate", Metric("errors.rate"), "<", 1.0, "%", None, id="ratio-fraction",
    ),
    pytest.param(
        "runs.wait.errors.rate", "<= 0.5%",
        "runs.wait.errors.rate", Metric("errors.rate", "runs.wait"), "<=", 0.5, "%", None,
        id="operation-ratio",
    ),
    # rates, per second
    pytest.param(
        "runs.wait.rate", ">= 50/s",
        "runs.wait.rate", Metric("rate", "runs.wait"), ">=", 50.0, "/s", None, id="rate-per-s",
    ),
    pytest.param(
        "rate", "≥ 120/m",
        "rate", Metric("rate"), ">=", 2.0, "/s", None, id="rate-per-minute-unicode-operator",
    ),
    pytest.param(
        "threads.create.rate", "> 7200/h",
        "threads.create.rate", Metric("rate", "threads.create"), ">", 2.0, "/s", None,
        id="rate-per-hour",
    ),
    # counts
    pytest.param(
        "anomalies", "== 0", "anomalies", Metric("anomalies"), "==", 0.0, "", None, id="anomalies"
    ),
    pytest.param(
        "dropped_iterations", "<= 10",
        "dropped_iterations", Metric("dropped_iterations"), "<=", 10.0, "", None, id="dropped",
    ),
    pytest.param(
        "runs.wait.errors.count", "≠ 3",
        "runs.wait.errors.count", Metric("errors.count", "runs.wait"), "!=", 3.0, "", None,
        id="error-count",
    ),
    pytest.param(
        "count", "> 100", "count", Metric("count"), ">", 100.0, "", None, id="run-wide-count"
    ),
    # run-wide lag
    pytest.param(
        "schedule_lag.p99", "< 10ms",
        "schedule_lag.p99", Metric("schedule_lag", None, "p99"), "<", 10.0, "ms", None,
        id="schedule-lag",
    ),
    pytest.param(
        "event_loop_lag.max", "< 50ms",
        "event_loop_lag.max", Metric("event_loop_lag", None, "max"), "<", 50.0, "ms", None,
        id="event-loop-lag",
    ),
    # selectors: after the operation, or at the end (same key), run-wide at the end
    pytest.param(
        "runs.wait{scenario=chat}.latency.p99", "< 2s",
        "runs.wait{scenario=chat}.latency.p99", Metric("latency", "runs.wait", "p99",
        scenario="chat"), "<", 2000.0, "ms", None, id="scenario-selector",
    ),
    pytest.param(
        "runs.wait.latency.p99{scenario=chat}", "< 2s",
        "runs.wait{scenario=chat}.latency.p99", Metric("latency", "runs.wait", "p99",
        scenario="chat"), "<", 2000.0, "ms", None, id="selector-at-the-end",
    ),
    pytest.param(
        "runs.wait{role=observer}.errors.rate", "< 1%",
        "runs.wait{role=observer}.errors.rate", Metric("errors.rate", "runs.wait",
        tag=("role", "observer")), "<", 1.0, "%", None, id="tag-selector",
    ),
    pytest.param(
        "errors.rate{scenario=arrivals}", "< 5%",
        "errors.rate{scenario=arrivals}", Metric("errors.rate", scenario="arrivals"), "<", 5.0,
        "%", None, id="run-wide-scenario",
    ),
    pytest.param(
        "dropped_iterations{scenario=arrivals}", "== 0",
        "dropped_iterations{scenario=arrivals}", Metric("dropped_iterations",
        scenario="arrivals"), "==", 0.0, "", None, id="dropped-per-scenario",
    ),
    # drift (soak)
    pytest.param(
        "runs.wait.latency.p99.drift", "< 20%/h",
        "runs.wait.latency.p99.drift", Metric("latency", "runs.wait", "p99", drift=True), "<",
        20.0, "%/h", None, id="latency-drift",
    ),
    pytest.param(
        "runs.wait.errors.rate.drift", "> -5%/h",
        "runs.wait.errors.rate.drift", Metric("errors.rate", "runs.wait", drift=True), ">", -5.0,
        "%/h", None, id="error-rate-drift-negative",
    ),
    # windows
    pytest.param(
        "runs.wait.latency.p99", "< 1.5s in every 1m",
        "runs.wait.latency.p99", Metric("latency", "runs.wait", "p99"), "<", 1500.0, "ms", 60.0,
        id="window",
    ),
    pytest.param(
        "errors.rate", "  <  1%   in  every   30s ",
        "errors.rate", Metric("errors.rate"), "<", 1.0, "%", 30.0, id="window-spaces",
    ),
    pytest.param(
        "http.get.count", ">= 10 in every 1s",
        "http.get.count", Metric("count", "http.get"), ">=", 10.0, "", 1.0, id="count-window",
    ),
    # each chat reply stream's tokens per second: a rate, low statistics too, windows too
    pytest.param(
        "runs.stream.tokens_per_s.p10", "> 20/s",
        "runs.stream.tokens_per_s.p10", Metric("tokens_per_s", "runs.stream", "p10"), ">", 20.0,
        "/s", None, id="reply-rate",
    ),
    pytest.param(
        "runs.join_stream{scenario=chat}.tokens_per_s.p1", ">= 600/m",
        "runs.join_stream{scenario=chat}.tokens_per_s.p1",
        Metric("tokens_per_s", "runs.join_stream", "p1", scenario="chat"), ">=", 10.0, "/s",
        None, id="reply-rate-per-minute-of-a-scenario",
    ),
    pytest.param(
        "runs.stream.tokens_per_s.p10", "> 20/s in every 30s",
        "runs.stream.tokens_per_s.p10", Metric("tokens_per_s", "runs.stream", "p10"), ">", 20.0,
        "/s", 30.0, id="reply-rate-window",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "condition", "name", "metric", "operator", "limit", "unit", "window_s"), VALID
)
def test_valid_thresholds(
    key: str,
    condition: str,
    name: str,
    metric: Metric,
    operator: str,
    limit: float,
    unit: str,
    window_s: float | None,
) -> None:
    threshold = build(key, condition)
    assert threshold.name == name
    assert threshold.metric == metric
    assert (threshold.operator, threshold.unit, threshold.window_s) == (operator, unit, window_s)
    assert threshold.limit == pytest.approx(limit)
    # The canonical form reads back to the same threshold.
    again = build(threshold.name, threshold.condition, window_s=threshold.window_s)
    assert again == threshold


# (key, condition) -> [(part, fragment of the message)]
INVALID = [
    # keys
    pytest.param("runs.wiat.latency.p99", "< 2s",
                 [("key", 'unknown operation "runs.wiat" (did you mean "runs.wait"?)')],
                 id="unknown-operation"),
    pytest.param("runs.wait.latency.p98", "< 2s",
                 [("key", 'unknown statistic "p98"'), ("key", "one of min, mean, p50")],
                 id="unknown-stat"),
    pytest.param("runs.wait.latency", "< 2s", [("key", "latency needs a statistic")],
                 id="missing-stat"),
    pytest.param("runs.wait.latncy.p99", "< 2s",
                 [("key", 'runs.wait has no metric "latncy.p99" (did you mean "latency.p99"?)')],
                 id="unknown-operation-metric"),
    pytest.param("runs.wait", "< 2s", [("key", "names no metric")], id="operation-alone"),
    pytest.param("runs.wait.ttfe.p99", "< 2s",
                 [("key", "runs.wait does not stream, so it has no ttfe")], id="ttfe-not-stream"),
    pytest.param("latency.p99", "< 2s", [("key", "latency is measured per operation")],
                 id="latency-without-operation"),
    pytest.param("error.rate", "< 1%",
                 [("key", 'unknown metric "error.rate" (did you mean "errors.rate"?)')],
                 id="unknown-run-metric"),
    pytest.param("runs.wait{scenario=chta}.latency.p99", "< 2s",
                 [("key", 'no scenario is called "chta" (did you mean "chat"?)')],
                 id="unknown-scenario"),
    pytest.param("runs.wait{tier=silver}.latency.p99", "< 2s",
                 [("key", "no scenario is tagged tier=silver")], id="unknown-tag"),
    pytest.param("runs.wait{scenario=chat,tier=gold}.latency.p99", "< 2s",
                 [("key", "one selector at a time")], id="two-selectors"),
    pytest.param("runs.wait{scenario=chat.latency.p99", "< 2s",
                 [("key", "unbalanced or repeated braces")], id="unclosed-selector"),
    pytest.param("runs.wait.latency{scenario=chat}.p99", "< 2s",
                 [("key", "the selector goes right after the operation")],
                 id="selector-in-the-middle"),
    pytest.param("anomalies{scenario=chat}", "== 0",
                 [("key", "anomalies is measured for the whole run only")],
                 id="anomalies-selector"),
    pytest.param("dropped_iterations{tier=gold}", "== 0",
                 [("key", "counted per scenario, not per tag")], id="dropped-per-tag"),
    pytest.param("runs.wait.latency.p95.drift", "< 10%/h",
                 [("key", "drift is kept for latency.p50, latency.p99 and errors.rate")],
                 id="drift-of-p95"),
    pytest.param("runs.wait{scenario=chat}.latency.p99.drift", "< 10%/h",
                 [("key", "it takes no selector")], id="drift-selector"),
    # conditions
    pytest.param("runs.wait.latency.p99", "2s",
                 [("condition", "does not start with an operator")], id="no-operator"),
    pytest.param("anomalies", "= 0", [("condition", "(== compares for equality)")],
                 id="single-equals"),
    pytest.param("runs.wait.latency.p99", "<", [("condition", "has no number after <")],
                 id="no-number"),
    pytest.param("runs.wait.latency.p99", "< 2", [("condition", "needs a duration unit")],
                 id="duration-without-unit"),
    pytest.param("runs.wait.latency.p99", "< 1%",
                 [("condition", 'runs.wait.latency.p99 is a duration, and "1%" is not one'),
                  ("condition", 'a duration with its unit')], id="ratio-unit-on-duration"),
    pytest.param("errors.rate", "< 2s",
                 [("condition", 'errors.rate is a ratio, and "2s" is not one')],
                 id="duration-unit-on-ratio"),
    pytest.param("errors.rate", "< 5", [("condition", '(write "5%" for percent)')],
                 id="bare-ratio-above-one"),
    pytest.param("errors.rate", "< 150%", [("condition", "is not between 0% and 100%")],
                 id="percent-above-100"),
    pytest.param("runs.wait.rate", ">= 50", [("condition", "needs a rate unit")],
                 id="rate-without-unit"),
    pytest.param("runs.wait.rate", ">= 50%", [("condition", "is a rate")], id="rate-percent"),
    pytest.param("anomalies", "< 0.5", [("condition", "is not a whole number")],
                 id="fractional-count"),
    pytest.param("anomalies", "< 1s", [("condition", "anomalies is a count")],
                 id="duration-on-count"),
    pytest.param("runs.wait.latency.p99.drift", "< 20%",
                 [("condition", "is a drift"), ("condition", "%/h")], id="drift-without-per-hour"),
    pytest.param("runs.wait.latency.p99", "< 2s 3s",
                 [("condition", 'unexpected "3s" after the limit')], id="two-limits"),
    pytest.param("runs.wait.latency.p99", "< 1e999s",
                 [("condition", "is not a finite number")], id="infinite"),
    # windows
    pytest.param("runs.wait.latency.p99", "< 2s in 1m",
                 [("condition", 'a window written "in every 1m"')], id="in-without-every"),
    pytest.param("runs.wait.latency.p99", "< 2s in every",
                 [("condition", "has no window after 'in every'")], id="every-without-window"),
    pytest.param("runs.wait.latency.p99", "< 2s in every 1x",
                 [("condition", 'window: invalid duration "1x"')], id="bad-window"),
    pytest.param("runs.wait.latency.p99", "< 2s in every 500ms",
                 [("window", "shorter than 1s")], id="window-too-short"),
    pytest.param("anomalies", "== 0 in every 1m",
                 [("window", "anomalies cannot be windowed"),
                  ("window", "a metric lgbench sees interval by")], id="window-on-anomalies"),
    pytest.param("dropped_iterations", "== 0 in every 1m",
                 [("window", "dropped_iterations cannot be windowed")], id="window-on-dropped"),
    pytest.param("runs.wait.latency.p99.drift", "< 5%/h in every 1h",
                 [("window", "cannot be windowed")], id="window-on-drift"),
    pytest.param("runs.stream.tokens_per_s.p10", "> 20/s in every 500ms",
                 [("window", "shorter than 1s")], id="reply-rate-window-too-short"),
    # tokens per second per reply stream: a rate of a streaming operation, with a rate's stats
    pytest.param("runs.stream.tokens_per_s.p99", "> 20/s",
                 [("key", 'tokens_per_s has no statistic "p99" (did you mean "p90"?)')],
                 id="reply-rate-high-percentile"),
    pytest.param("runs.stream.tokens_per_s", "> 20/s",
                 [("key", "tokens_per_s needs a statistic")], id="reply-rate-without-stat"),
    pytest.param("runs.wait.tokens_per_s.p10", "> 20/s",
                 [("key", "runs.wait does not stream, so it has no tokens_per_s")],
                 id="reply-rate-of-a-wait"),
    pytest.param("tokens_per_s.p10", "> 20/s",
                 [("key", "tokens_per_s is measured per operation (expected "
                   "<operation>.tokens_per_s.p10, e.g. runs.stream.tokens_per_s.p10")],
                 id="reply-rate-run-wide"),
    pytest.param("runs.stream.tokens_per_s.p10", "> 20ms",
                 [("condition", 'is a rate, and "20ms" is not one')], id="reply-rate-in-ms"),
    # several problems at once: the key and the condition are both read
    pytest.param("runs.wiat.latency.p99", "2s",
                 [("key", 'unknown operation "runs.wiat"'),
                  ("condition", "does not start with an operator")], id="key-and-condition"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "condition", "expected"), INVALID)
def test_invalid_thresholds(key: str, condition: str, expected: list[tuple[str, str]]) -> None:
    found = problems(key, condition)
    for part, fragment in expected:
        assert any(p == part and fragment in text for p, text in found), (fragment, found)
    # No other problem: each one found is the one some fragment describes.
    for part, text in found:
        assert any(p == part and fragment in text for p, fragment in expected), (text, expected)


@pytest.mark.parametrize(
    ("key", "condition", "options", "expected"),
    [
        pytest.param(
            "runs.wait.latency.p99", "< 2s in every 1m", {"window_s": 60.0},
            ("window", "the window is given twice"), id="window-twice",
        ),
        pytest.param(
            "anomalies", "== 0", {"abort_on_fail": True},
            ("abort_on_fail", "anomalies cannot abort the run"), id="abort-on-anomalies",
        ),
        pytest.param(
            "runs.wait.latency.p99", "< 2s", {"abort_delay_s": 30.0},
            ("abort_delay", "abort_delay needs abort_on_fail = true"), id="delay-without-abort",
        ),
    ],
)  # fmt: skip
def test_invalid_options(
    key: str, condition: str, options: dict[str, object], expected: tuple[str, str]
) -> None:
    found = problems(key, condition, **options)
    assert any(part == expected[0] and expected[1] in text for part, text in found), found


def test_abort_options_are_kept() -> None:
    threshold = build(
        "runs.wait.latency.p99", "< 2s", window_s=60.0, abort_on_fail=True, abort_delay_s=30.0
    )
    assert (threshold.window_s, threshold.abort_on_fail, threshold.abort_delay_s) == (
        60.0,
        True,
        30.0,
    )
    # Each reply stream's tokens/s is logged per interval: it may abort, windowed or not.
    rate = build("runs.stream.tokens_per_s.p10", "> 5/s", abort_on_fail=True)
    assert rate.abort_on_fail and rate.metric.windowable


def test_selectors_are_not_checked_without_names() -> None:
    found = build_threshold("runs.wait{scenario=anything}.latency.p99", "< 2s")
    assert isinstance(found, Threshold)
    assert found.metric.scenario == "anything"


@pytest.mark.parametrize(
    ("value", "operator", "limit", "holds"),
    [
        (1.0, "<", 2.0, True),
        (2.0, "<", 2.0, False),
        (2.0, "<=", 2.0, True),
        (2.0, ">", 2.0, False),
        (2.0, ">=", 2.0, True),
        (0.0, "==", 0.0, True),
        (1.0, "==", 0.0, False),
        (1.0, "!=", 0.0, True),
        (0.0, "!=", 0.0, False),
    ],
)
def test_operators(value: float, operator: str, limit: float, holds: bool) -> None:
    threshold = build("count", f"{operator} {int(limit)}")
    assert threshold.holds(value) is holds


# -- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "condition", "window_s"),
    [
        ("runs.wait.latency.p99<2s", "runs.wait.latency.p99", "< 2s", None),
        ("runs.wait.latency.p99 <= 2s", "runs.wait.latency.p99", "<= 2s", None),
        ("errors.rate<1% in every 1m", "errors.rate", "< 1%", 60.0),
        ("runs.wait{scenario=chat}.rate>=5/s", "runs.wait{scenario=chat}.rate", ">= 5/s", None),
        ("anomalies==0", "anomalies", "== 0", None),
    ],
)
def test_threshold_option(text: str, name: str, condition: str, window_s: float | None) -> None:
    threshold = parse_threshold_option(text, scenarios=SCENARIOS)
    assert (threshold.name, threshold.condition, threshold.window_s) == (name, condition, window_s)
    assert threshold.source == "--threshold"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("runs.wait.latency.p99", "no condition"),
        ("runs.wiat.latency.p99<2s", 'unknown operation "runs.wiat"'),
        ("runs.wait.latency.p99<2", "needs a duration unit"),
        ("runs.wait{scenario=nope}.latency.p99<2s", 'no scenario is called "nope"'),
    ],
)
def test_bad_threshold_option_is_a_usage_error_naming_the_flag(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_threshold_option(text, scenarios=SCENARIOS)
    assert str(caught.value).startswith("--threshold ")
    assert fragment in str(caught.value)
    assert caught.value.exit_code == ExitCode.USAGE


# -- from a workload -----------------------------------------------------------------------


def test_workload_thresholds_carry_their_file_position() -> None:
    text = """
[[scenario]]
name = "chat"
executor = "constant-vus"
vus = 1
duration = "1s"
steps = [{ op = "runs.wait", assistant = "sleepy" }]

[thresholds]
"runs.wait.latency.p99" = "< 2s"
"errors.rate" = { condition = "< 1%", window = "10s", abort_on_fail = true }
"""
    workload = parse_workload(text, "w.toml")
    extra = parse_threshold_option("anomalies==0")
    found = workload_thresholds(workload, [extra])
    assert [(t.name, t.source) for t in found] == [
        ("runs.wait.latency.p99", "w.toml:10:27"),
        ("errors.rate", "w.toml:11:31"),
        ("anomalies", "--threshold"),
    ]
    assert found[1].window_s == 10.0 and found[1].abort_on_fail


# -- round trip ------------------------------------------------------------------------------

_STAT_SPELLINGS = ["min", "mean", "p50", "p90", "p95", "p99", "p99.9", "p99_9", "max"]
_LIMITS = {
    MetricKind.DURATION: st.sampled_from(["250us", "1.5ms", "200ms", "2s", "1m30s", "1h"]),
    MetricKind.RATIO: st.sampled_from(["0", "0.5", "1", "0.5%", "1%", "100%"]),
    MetricKind.RATE: st.sampled_from(["1/s", "0.5/s", "60/m", "3600/h"]),
    MetricKind.COUNT: st.sampled_from(["0", "1", "10", "123456"]),
    MetricKind.DRIFT: st.sampled_from(["0%/h", "20%/h", "-5%/h", "1.5%/h"]),
}


@st.composite
def keys(draw: st.DrawFn) -> tuple[str, MetricKind]:
    """A key as a user may write it, and its metric's kind."""
    selector = draw(st.sampled_from(["", "{scenario=chat}", "{tier=gold}"]))
    counters = {
        "errors.rate": MetricKind.RATIO,
        "errors.count": MetricKind.COUNT,
        "rate": MetricKind.RATE,
        "count": MetricKind.COUNT,
    }
    if draw(st.booleans()):
        metric = draw(st.sampled_from(sorted(counters)))
        return f"{metric}{selector}", counters[metric]
    operation = draw(st.sampled_from(["runs.wait", "runs.stream", "threads.create"]))
    if draw(st.booleans()):
        metric = draw(st.sampled_from(sorted(counters)))
        return f"{operation}{selector}.{metric}", counters[metric]
    series = ["latency", "ttfe", "queue_wait"] if operation == "runs.stream" else ["latency"]
    stat = draw(st.sampled_from(_STAT_SPELLINGS))
    at_end = draw(st.booleans())
    path = f"{draw(st.sampled_from(series))}.{stat}"
    key = f"{operation}.{path}{selector}" if at_end else f"{operation}{selector}.{path}"
    return key, MetricKind.DURATION


@given(keys(), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), st.data())
def test_canonical_forms_read_back_to_the_same_threshold(
    key_kind: tuple[str, MetricKind], operator: str, data: st.DataObject
) -> None:
    key, kind = key_kind
    limit = data.draw(_LIMITS[kind])
    window = data.draw(st.sampled_from(["", " in every 1m", " in every 1h30m"]))
    threshold = build(key, f"{operator}{limit}{window}")
    assert threshold.metric.kind is kind
    again = build(threshold.name, threshold.condition, window_s=threshold.window_s)
    assert again == threshold
    assert build(key, f" {operator}  {limit} {window} ") == threshold
    assert parse_threshold_option(threshold.describe(), scenarios=SCENARIOS, tags=TAGS) == (
        Threshold(**{**_fields(threshold), "source": "--threshold"})
    )


def _fields(threshold: Threshold) -> dict[str, object]:
    return {name: getattr(threshold, name) for name in Threshold.__dataclass_fields__}
