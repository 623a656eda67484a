"""compare_summaries: the regression rules, table-driven, and how a comparison reads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from rich.console import Console

from lgbench.errors import UsageError
from lgbench.gate import (
    COMPARISON_SCHEMA_VERSION,
    DEFAULT_PERCENTILES,
    compare_summaries,
    render_comparison,
)
from lgbench.gate._compare import min_samples
from tests.gate._summaries import latency, operation, summary


@dataclass(frozen=True)
class Case:
    id: str
    base: dict[str, Any]
    new: dict[str, Any]
    regressed: set[str]
    options: dict[str, Any] = field(default_factory=dict)


LATENCY_CASES = [
    # happy path: the figures that move past the limit and the floor
    Case(
        "tail +23% regresses, the median does not",
        operation(100.0, tail=120.4),
        operation(101.0, tail=148.2),
        {"latency_ms.p90", "latency_ms.p95", "latency_ms.p99", "latency_ms.p99_9"},
    ),
    Case(
        "+50% everywhere",
        operation(10.0),
        operation(15.0),
        {f"latency_ms.{p}" for p in DEFAULT_PERCENTILES},
    ),
    Case("unchanged", operation(10.0), operation(10.0), set()),
    Case("faster is never a regression", operation(100.0), operation(40.0), set()),
    Case("exactly at the limit (+10%) passes", operation(100.0), operation(110.0), set()),
    Case(
        "just past the limit fails",
        operation(100.0),
        operation(110.5),
        {f"latency_ms.{p}" for p in DEFAULT_PERCENTILES},
    ),
    # the noise floor
    Case("0.4 -> 0.5 ms is +25% but under the 1 ms floor", operation(0.4), operation(0.5), set()),
    Case("5.0 -> 5.9 ms is +18% but under the floor", operation(5.0), operation(5.9), set()),
    Case(
        "5.0 -> 6.0 ms reaches the floor",
        operation(5.0),
        operation(6.0),
        {f"latency_ms.{p}" for p in DEFAULT_PERCENTILES},
    ),
    Case(
        "a 10 ms floor spares +5 ms",
        operation(20.0),
        operation(25.0),
        set(),
        {"min_difference_ms": 10.0},
    ),
    Case(
        "no floor: +0.1 ms past the limit fails",
        operation(0.4),
        operation(0.5),
        {f"latency_ms.{p}" for p in DEFAULT_PERCENTILES},
        {"min_difference_ms": 0.0},
    ),
    # the limit itself
    Case(
        "a 50% limit allows +40%",
        operation(100.0),
        operation(140.0),
        set(),
        {"max_regression": 0.5},
    ),
    Case(
        "a 0% limit fails any growth above the floor",
        operation(100.0),
        operation(101.5),
        {f"latency_ms.{p}" for p in DEFAULT_PERCENTILES},
        {"max_regression": 0.0},
    ),
    Case(
        "only the chosen percentiles are compared",
        operation(10.0, tail=10.0),
        operation(10.0, tail=30.0),
        {"latency_ms.p99"},
        {"percentiles": ("p50", "p99")},
    ),
    # sad path: nothing measured, or too little to tell
    Case(
        "from zero past the floor",
        operation(0.0),
        operation(2.0),
        {f"latency_ms.{p}" for p in DEFAULT_PERCENTILES},
    ),
    Case("no latency in the base", operation(None), operation(50.0), set()),
    Case("no latency in the new run", operation(50.0), operation(None), set()),
    Case(
        "50 calls: p99 and p99.9 are the max, not gated; p50..p95 are",
        operation(10.0, count=50),
        operation(30.0, count=50),
        {"latency_ms.p50", "latency_ms.p90", "latency_ms.p95"},
    ),
    Case(
        "the smaller run decides how many calls there were",
        operation(10.0, count=5000),
        operation(30.0, count=500),
        {"latency_ms.p50", "latency_ms.p90", "latency_ms.p95", "latency_ms.p99"},
    ),
    Case(
        "one call gates no percentile (p50 needs 2)",
        operation(10.0, count=1),
        operation(30.0, count=1),
        set(),
    ),
    # streams: time to first event too
    Case(
        "ttfe regresses while latency holds",
        operation(100.0, ttfe=latency(20.0)),
        operation(100.0, ttfe=latency(40.0)),
        {f"stream.ttfe_ms.{p}" for p in DEFAULT_PERCENTILES},
    ),
    Case(
        "ttfe gated by the number of streams",
        operation(100.0, ttfe=latency(20.0), streams=50),
        operation(100.0, ttfe=latency(40.0), streams=50),
        {"stream.ttfe_ms.p50", "stream.ttfe_ms.p90", "stream.ttfe_ms.p95"},
    ),
    Case(
        "ttfe on one side only is not compared",
        operation(100.0),
        operation(100.0, ttfe=latency(40.0)),
        set(),
    ),
    # throughput is shown, never gated
    Case(
        "throughput halved",
        operation(10.0, rate_per_s=100.0),
        operation(10.0, rate_per_s=50.0),
        set(),
    ),
]

ERROR_CASES = [
    Case("clean both times", operation(count=1000), operation(count=1000), set()),
    Case(
        "1 error in 10,000 from clean: under the 0.1-point floor",
        operation(count=10000),
        operation(count=10000, errors=1),
        set(),
    ),
    Case(
        "1 error in 1,000 from clean: at the floor",
        operation(count=1000),
        operation(count=1000, errors=1),
        {"error_rate"},
    ),
    Case(
        "5% -> 5.4% is +8% relative: within the limit",
        operation(count=1000, errors=50),
        operation(count=1000, errors=54),
        set(),
    ),
    Case(
        "5% -> 6% is +20% relative and +1 point",
        operation(count=1000, errors=50),
        operation(count=1000, errors=60),
        {"error_rate"},
    ),
    Case("fewer errors", operation(count=1000, errors=60), operation(count=1000, errors=6), set()),
    Case(
        "a 1-point floor spares +0.5 point",
        operation(count=1000),
        operation(count=1000, errors=5),
        set(),
        {"min_error_rate_increase": 0.01},
    ),
    Case("no calls in the new run", operation(count=1000), operation(None, count=0), set()),
]


@pytest.mark.parametrize("case", LATENCY_CASES + ERROR_CASES, ids=lambda c: c.id)
def test_regressions(case: Case) -> None:
    comparison = compare_summaries(
        summary({"runs.wait": case.base}), summary({"runs.wait": case.new}), **case.options
    )
    (compared,) = comparison.operations
    regressed = {row.metric for row in compared.metrics if row.regressed}
    assert regressed == case.regressed
    assert comparison.passed is (not case.regressed)
    assert len(comparison.regressions) == len(case.regressed)
    assert all(line.startswith("runs.wait ") for line in comparison.regressions)
    assert all(row.gated for row in compared.metrics if row.regressed)


def test_the_regression_line_reads_as_documented() -> None:
    comparison = compare_summaries(
        summary({"runs.wait": operation(100.0, tail=120.4)}),
        summary({"runs.wait": operation(100.0, tail=148.2)}),
        percentiles=("p99",),
    )
    assert comparison.regressions == ["runs.wait p99 +23.1% (120.4 → 148.2 ms), limit +10%"]


def test_error_rate_line_gives_points_and_counts() -> None:
    comparison = compare_summaries(
        summary({"runs.wait": operation(count=1000, errors=50)}),
        summary({"runs.wait": operation(count=500, errors=30)}),
    )
    assert comparison.regressions == [
        "runs.wait error rate 5.00% → 6.00% (+1.00 points; 50 of 1000 → 30 of 500), "
        "limit +10% and +0.1 points"
    ]


def test_rows_carry_change_difference_and_notes() -> None:
    comparison = compare_summaries(
        summary({"runs.wait": operation(10.0, count=50, errors=1, rate_per_s=5.0)}),
        summary({"runs.wait": operation(12.0, count=50, errors=2, rate_per_s=4.0)}),
    )
    rows = {row.metric: row for row in comparison.operations[0].metrics}
    assert list(rows) == [
        *(f"latency_ms.{p}" for p in DEFAULT_PERCENTILES),
        "error_rate",
        "rate_per_s",
    ]
    p50 = rows["latency_ms.p50"]
    assert p50.change == pytest.approx(0.2)
    assert p50.difference == pytest.approx(2.0)
    assert p50.note is None
    assert rows["latency_ms.p99"].note == "not gated: 50 calls < 100"
    assert rows["latency_ms.p99_9"].note == "not gated: 50 calls < 1000"
    errors = rows["error_rate"]
    assert errors.unit == "%"
    assert errors.base == pytest.approx(2.0)
    assert errors.new == pytest.approx(4.0)
    assert errors.difference == pytest.approx(2.0)
    throughput = rows["rate_per_s"]
    assert throughput.gated is False
    assert throughput.change == pytest.approx(-0.2)


@pytest.mark.parametrize(
    ("percentile", "calls"),
    [
        ("p50", 2),
        ("p90", 10),
        ("p95", 20),
        ("p99", 100),
        ("p99_9", 1000),
        ("p99_99", 10000),
        # not pNN percentiles: always gated
        ("min", 1),
        ("mean", 1),
        ("max", 1),
    ],
)
def test_min_samples(percentile: str, calls: int) -> None:
    assert min_samples(percentile) == calls


def test_operations_in_one_summary_only_are_listed_not_gated() -> None:
    comparison = compare_summaries(
        summary({"threads.create": operation(1.0), "runs.wait": operation(10.0)}),
        summary({"runs.wait": operation(10.0), "runs.stream": operation(500.0)}),
    )
    assert [op.name for op in comparison.operations] == ["runs.wait"]
    assert comparison.only_in_base == ("threads.create",)
    assert comparison.only_in_new == ("runs.stream",)
    assert comparison.passed


def test_operations_are_compared_in_name_order() -> None:
    names = ["threads.create", "runs.wait", "assistants.search"]
    ops = {name: operation(5.0) for name in names}
    comparison = compare_summaries(summary(ops), summary(ops))
    assert [op.name for op in comparison.operations] == sorted(names)


def test_warnings_say_why_two_runs_may_not_compare() -> None:
    base = summary({"runs.wait": operation()})
    new = summary(
        {"runs.wait": operation()},
        workload={"name": "other", "path": "w.toml", "seed": 1, "overrides": {"vus": 2}},
        server={"version": "0.17.0"},
        partial=True,
        stop_reason="SIGTERM",
    )
    warnings = compare_summaries(base, new).warnings
    assert warnings == (
        "not the same workload: base 'unit', new 'other'",
        "not the same command-line overrides: base {}, new {'vus': 2}",
        "not the same server version: base '0.16.7', new '0.17.0'",
        "the new run is partial (stopped: SIGTERM)",
    )
    assert compare_summaries(base, base).warnings == ()


@pytest.mark.parametrize(
    "options",
    [
        {"max_regression": -0.1},
        {"max_regression": float("nan")},
        {"min_difference_ms": -1.0},
        {"min_error_rate_increase": float("inf")},
    ],
    ids=str,
)
def test_bad_limits_are_usage_errors(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        compare_summaries(summary({}), summary({}), **options)


def test_to_dict_is_json_and_complete() -> None:
    comparison = compare_summaries(
        summary({"runs.wait": operation(10.0), "runs.get": operation(1.0)}),
        summary({"runs.wait": operation(20.0), "threads.get": operation(1.0)}),
        base_path="base/summary.json",
        new_path="new/summary.json",
    )
    data = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert data["schema_version"] == COMPARISON_SCHEMA_VERSION
    assert (data["base"], data["new"]) == ("base/summary.json", "new/summary.json")
    assert (data["max_regression"], data["min_difference_ms"]) == (0.1, 1.0)
    assert data["passed"] is False
    assert data["regressions"] == comparison.regressions
    assert (data["only_in_base"], data["only_in_new"]) == (["runs.get"], ["threads.get"])
    wait = data["operations"]["runs.wait"]
    assert wait["passed"] is False
    assert wait["count"] == {"base": 2000, "new": 2000}
    assert wait["regressions"] == comparison.operations[0].regressions
    p50 = wait["metrics"][0]
    assert p50["metric"] == "latency_ms.p50"
    assert (p50["base"], p50["new"], p50["change"], p50["regressed"]) == (10.0, 20.0, 1.0, True)


def test_render_shows_every_figure_and_the_verdict() -> None:
    comparison = compare_summaries(
        summary({"runs.wait": operation(100.0, tail=120.4), "runs.get": operation(1.0)}),
        summary({"runs.wait": operation(100.0, tail=148.2), "runs.stream": operation(1.0)}),
    )
    console = Console(record=True, width=200, color_system=None)
    render_comparison(comparison, console)
    text = console.export_text()
    for label in ("p50", "p90", "p95", "p99", "p99.9", "error rate", "throughput"):
        assert f" {label} " in text
    assert "+23.1%" in text
    assert "only in the base (not compared): runs.get" in text
    assert "only in the new run (not compared): runs.stream" in text
    assert "baseline: FAILED — 4 regression(s) above +10%" in text
    for line in comparison.regressions:
        assert line in text


def test_render_colours_regressions_red_and_improvements_green() -> None:
    comparison = compare_summaries(
        summary({"runs.wait": operation(100.0), "runs.get": operation(100.0)}),
        summary({"runs.wait": operation(200.0), "runs.get": operation(50.0)}),
    )
    console = Console(record=True, width=200, force_terminal=True, color_system="truecolor")
    render_comparison(comparison, console)
    html = console.export_html(inline_styles=True)
    assert "+100.0%" in html and "-50.0%" in html
    red = html.index("+100.0%")
    green = html.index("-50.0%")
    assert "#800000" in html[red - 120 : red] or "#ff0000" in html[red - 120 : red]
    assert "#008000" in html[green - 120 : green] or "#00ff00" in html[green - 120 : green]


def test_render_passed_says_so() -> None:
    ops = {"runs.wait": operation(10.0)}
    console = Console(record=True, width=200, color_system=None)
    render_comparison(compare_summaries(summary(ops), summary(ops)), console)
    assert "baseline: passed — no regression above +10% (1 operations" in console.export_text()


def test_chat_replies_compare_time_to_first_token_and_inter_token_latency() -> None:
    def chat(ttft: float, itl: float, tokens: int = 4000) -> dict[str, Any]:
        op = operation(900.0, count=200, ttfe={"p50": 500.0, "p99": 600.0})
        op["stream"].update(ttft_ms=latency(ttft), itl_ms=latency(itl), reply_tokens=tokens)
        return op

    base = summary({"runs.stream": chat(ttft=800.0, itl=20.0)})
    new = summary({"runs.stream": chat(ttft=800.0, itl=60.0)})
    comparison = compare_summaries(base, new)
    (stream,) = comparison.operations
    labels = {row.label for row in stream.metrics}
    assert {"ttft p50", "itl p50", "itl p99"} <= labels
    assert not comparison.passed
    assert any("itl p50" in line for line in comparison.regressions)
    # Without replies on one side, no token figure is compared.
    plain = summary({"runs.stream": operation(900.0, count=200, ttfe={"p50": 500.0})})
    (stream,) = compare_summaries(plain, new).operations
    assert not any(row.label.startswith(("ttft", "itl")) for row in stream.metrics)


def reply_streams(p10: float, p50: float, *, streams: int = 200) -> dict[str, Any]:
    op = operation(900.0, count=200, ttfe={"p50": 500.0}, streams=streams)
    op["stream"].update(
        reply_tokens=4000,
        ttft_ms=latency(800.0),
        itl_ms=latency(20.0),
        stream_tokens_per_s={"min": p10 / 2, "p10": p10, "p50": p50, "max": p50 * 2},
    )
    return op


@pytest.mark.parametrize(
    ("base", "new", "regressed"),
    [
        pytest.param((30.0, 40.0), (30.0, 40.0), set(), id="unchanged"),
        pytest.param((30.0, 40.0), (36.0, 60.0), set(), id="faster-is-never-a-regression"),
        pytest.param((30.0, 40.0), (27.0, 40.0), set(), id="exactly-at-the-limit-passes"),
        pytest.param((30.0, 40.0), (26.9, 40.0), {"p10"}, id="slow-tail-falls-past-the-limit"),
        pytest.param((30.0, 40.0), (20.0, 30.0), {"p10", "p50"}, id="everything-slower"),
    ],
)
def test_a_lower_reply_rate_is_the_regression(
    base: tuple[float, float], new: tuple[float, float], regressed: set[str]
) -> None:
    comparison = compare_summaries(
        summary({"runs.stream": reply_streams(*base)}),
        summary({"runs.stream": reply_streams(*new)}),
    )
    (stream,) = comparison.operations
    rows = {row.label: row for row in stream.metrics if row.label.startswith("tok/s")}
    assert set(rows) == {"tok/s p10", "tok/s p50"}
    assert all(row.unit == "/s" and row.gated for row in rows.values())
    assert {label.split()[1] for label, row in rows.items() if row.regressed} == regressed
    assert comparison.passed is not regressed
    for stat in regressed:
        line = next(line for line in comparison.regressions if f" {stat} " in line)
        old, now = base[0] if stat == "p10" else base[1], new[0] if stat == "p10" else new[1]
        change = f"{(now - old) / old:+.1%}"
        assert line == (
            f"runs.stream tokens/s per reply stream {stat} {change} ({old:.1f} → {now:.1f}/s), "
            "limit -10%"
        )


def test_reply_rates_need_streams_and_replies_on_both_sides() -> None:
    few = summary({"runs.stream": reply_streams(30.0, 40.0, streams=9)})
    slower = summary({"runs.stream": reply_streams(10.0, 20.0, streams=9)})
    (stream,) = compare_summaries(few, slower).operations
    rows = {row.label: row for row in stream.metrics if row.label.startswith("tok/s")}
    # With 9 streams p10 is the slowest stream: shown, not gated; p50 is judged.
    assert not rows["tok/s p10"].gated and rows["tok/s p10"].note == "not gated: 9 streams < 10"
    assert rows["tok/s p50"].regressed
    plain = summary({"runs.stream": operation(900.0, count=200, ttfe={"p50": 500.0})})
    (stream,) = compare_summaries(plain, slower).operations
    assert not any(row.label.startswith("tok/s") for row in stream.metrics)


def test_render_colours_a_falling_reply_rate_red_and_a_rising_one_green() -> None:
    base = summary({"runs.stream": reply_streams(30.0, 40.0)})
    console = Console(record=True, width=120, color_system="truecolor", force_terminal=True)
    render_comparison(
        compare_summaries(base, summary({"runs.stream": reply_streams(20.0, 44.0)})), console
    )
    html = console.export_html(inline_styles=True)
    text = re.sub(r"<[^>]+>", "", html)
    assert re.search(r"tok/s p10\s+30\.0/s\s+20\.0/s\s+-33\.3%", text)
    assert re.search(r"tok/s p50\s+40\.0/s\s+44\.0/s\s+\+10\.0%", text)
    red, green = html.index("-33.3%"), html.index("+10.0%")
    assert "#800000" in html[red - 120 : red] or "#ff0000" in html[red - 120 : red]
    assert "#008000" in html[green - 120 : green] or "#00ff00" in html[green - 120 : green]
