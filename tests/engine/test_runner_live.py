"""The live view and the end-of-run table, fed by a recorder (no event loop needed)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from lgbench.engine import LiveMode
from lgbench.engine._live import LiveView, print_summary
from lgbench.engine._recorder import Recorder, ScenarioStats, Snapshot
from lgbench.history import HistoryWriter
from lgbench.metrics import LatencyRecorder
from lgbench.observe import DriftTracker
from lgbench.results import REPLY_RATE_SERIES


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def busy_recorder(clock: Clock) -> Recorder:
    history = HistoryWriter(io.StringIO(), clock=clock, origin_s=0.0)
    recorder = Recorder(clock=clock, origin_s=0.0, history=history)
    stats = recorder.scenario(
        ScenarioStats(
            name="chat",
            executor="constant-vus",
            model="closed",
            description="2 VUs for 10s",
            tags={},
            start_time_s=0.0,
            planned_s=10.0,
            max_vus=2,
        )
    )
    stats.started_s = 0.0
    stats.allocated_vus = stats.active_vus = 2
    scope = recorder.scope("runs.wait", "chat", {}, "closed")
    for n in range(100):
        invocation = recorder.invoke(scope, process=0, actor=1, arguments={}, at_s=n * 0.01)
        recorder.ok(
            scope,
            invocation,
            {},
            {"tokens": []},
            start_s=n * 0.01,
            latency_start_s=n * 0.01,
            end_s=n * 0.01 + 0.005 + n * 0.0001,
        )
    return recorder


def test_rich_mode_draws_scenarios_and_operations_once_per_interval() -> None:
    clock = Clock()
    recorder = busy_recorder(clock)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140, color_system=None)
    view = LiveView("rich", console, title="lgbench run chat", planned_s=10.0)
    view.start()
    clock.now_s = 1.0
    view.update(recorder.snapshot(1.0), recorder, 1.0)
    view.stop()
    text = out.getvalue()
    assert "lgbench run chat" in text
    assert "constant-vus" in text and "2/2" in text  # active / allocated VUs
    assert "runs.wait" in text and "100.0" in text  # 100 operations in a 1 s interval
    assert "load 1s/10s" in text


def test_plain_mode_prints_one_line_every_few_seconds() -> None:
    clock = Clock()
    recorder = busy_recorder(clock)
    out = io.StringIO()
    view = LiveView(
        "plain", Console(file=out, width=200), title="run", planned_s=10.0, plain_every_s=2.0
    )
    for second in (1.0, 2.0, 3.0, 4.0):
        view.update(recorder.snapshot(second), recorder, second)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # at 2 s and 4 s
    assert lines[0].startswith("run load 2s/10s  ops 100")
    assert "active VUs 2" in lines[0]


def test_quiet_mode_prints_warnings_and_nothing_else() -> None:
    clock = Clock()
    recorder = busy_recorder(clock)
    out = io.StringIO()
    view = LiveView("quiet", Console(file=out), title="run", planned_s=10.0)
    view.start()
    view.update(recorder.snapshot(1.0), recorder, 1.0)
    view.note("fault 'x' on")
    view.warn("something")
    view.stop()
    assert out.getvalue() == "warning: something\n"


def test_the_summary_table_never_squeezes_its_numbers() -> None:
    out = io.StringIO()
    summary = {
        "workload": {"name": "chat"},
        "server": {"name": "langgraph-api", "version": "0.16.7", "label": "langgraph-api 0.16.7"},
        "partial": True,
        "duration_s": 12.5,
        "dropped_iterations": 3,
        "operations": {
            "threads.get_state": {
                "count": 12345,
                "errors": 2,
                "rate_per_s": 987.6,
                "latency_ms": {"p50": 1.25, "p90": 10.5, "p99": 1234.5, "max": 2345.0},
                "stream": None,
            },
            "runs.stream": {
                "count": 3,
                "errors": 0,
                "rate_per_s": 0.3,
                "latency_ms": {"p50": 900.0, "p90": 950.0, "p99": 990.0, "max": 999.0},
                "stream": {"ttfe_ms": {"p95": 812.0}},
            },
        },
        "schedule_lag_ms": {"p99": 0.5},
        "event_loop_lag_ms": {"p99": 1.5},
        "warnings": ["scenario 'x': iterations were dropped"],
    }
    print_summary(Console(file=out, width=60), summary)
    text = out.getvalue()
    assert "lgbench run — chat — langgraph-api 0.16.7 (partial)" in text
    assert "threads.get_state" in text and "12345" in text and "1234" in text
    assert "812" in text  # time to first event of the stream
    assert "dropped iterations 3" in text
    # Warnings were printed as they came: the summary does not repeat them.
    assert "warning" not in text


def test_a_soaks_last_window_shows_beside_the_interval() -> None:
    modes: tuple[LiveMode, ...] = ("rich", "plain")
    for mode in modes:
        clock = Clock()
        recorder = busy_recorder(clock)
        drift = DriftTracker(window_s=1.0)
        out = io.StringIO()
        console = Console(file=out, force_terminal=True, width=200, color_system=None)
        view = LiveView(mode, console, title="soak", planned_s=10.0, plain_every_s=1.0)
        view.window_s = 1.0
        view.start()
        snapshot = recorder.snapshot(1.0)
        drift.observe(snapshot.operations)
        drift.finish()
        view.window = drift.current()
        view.update(snapshot, recorder, snapshot.end_s)
        view.stop()
        text = out.getvalue()
        assert "last 1s" in text, (mode, text)
        if mode == "rich":
            assert "last 1s window" in text and "runs.wait" in text
        else:
            assert "worst p99" in text and "errors 0.00 %" in text


def test_progress_shows_the_drain_after_the_load_never_more_than_planned() -> None:
    clock = Clock()
    recorder = busy_recorder(clock)
    out = io.StringIO()
    view = LiveView(
        "plain", Console(file=out, width=200), title="run", planned_s=1.0, plain_every_s=1.0
    )
    recorder.snapshot(1.0)
    clock.now_s = 2.5
    view.update(recorder.snapshot(2.5), recorder, 2.5)
    line = out.getvalue()
    assert line.startswith("run load 1s done, draining +1.5s  ops 100"), line
    assert "2.5s/1s" not in line

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140, color_system=None)
    view = LiveView("rich", console, title="run", planned_s=1.0)
    view.start()
    view.update(recorder.snapshot(3.0), recorder, 3.0)
    view.stop()
    text = out.getvalue()
    assert "load 1s done; draining +2s: iterations in flight finishing (graceful stop)" in text
    assert "3s/10s" in text  # the scenario's own time: within its planned 10 s


def test_the_live_tables_fit_60_columns_by_leaving_columns_out() -> None:
    clock = Clock()
    recorder = busy_recorder(clock)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=60, color_system=None)
    view = LiveView("rich", console, title="lgbench run chat", planned_s=10.0)
    view.start()
    clock.now_s = 1.0
    view.update(recorder.snapshot(1.0), recorder, 1.0)
    view.stop()
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).splitlines()
    assert all(len(line) <= 60 for line in lines), max(lines, key=len)
    text = "\n".join(lines)
    assert "…" not in text
    assert "runs.wait" in text and "p99 ms" in text and "errors" in text
    assert "p50 ms" not in text  # left out first
    assert "load 1s/10s" in text


def chat_recorder(clock: Clock) -> Recorder:
    """A recorder whose streams carried chat replies: first token 200 + n ms after the send,
    then 5 tokens (inter-token latencies of 40 ms)."""
    from lgbench.history import StreamSummary

    recorder = busy_recorder(clock)
    scope = recorder.scope("runs.stream", "chat", {}, "closed")
    for n in range(20):
        start_s = n * 0.01
        invocation = recorder.invoke(scope, process=0, actor=1, arguments={}, at_s=start_s)
        first_token_s = start_s + 0.2 + n * 0.001
        for token in range(1, 5):
            previous_s = first_token_s + (token - 1) * 0.04
            scope.aux("itl").record(previous_s, previous_s + 0.04)
        summary = StreamSummary()
        summary.events = 6
        summary.reply_chunks = 5
        recorder.stream_ok(
            scope,
            invocation,
            {},
            summary,
            start_s=start_s,
            latency_start_s=start_s,
            end_s=first_token_s + 0.16,
            metadata_s=start_s + 0.05,
            first_event_s=start_s + 0.1,
            first_token_s=first_token_s,
        )
    return recorder


def test_chat_replies_show_time_to_first_token_and_inter_token_latency_while_running() -> None:
    clock = Clock()
    recorder = chat_recorder(clock)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    view = LiveView("rich", console, title="lgbench run chat", planned_s=10.0)
    view.start()
    clock.now_s = 1.0
    view.update(recorder.snapshot(1.0), recorder, 1.0)
    view.stop()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "ttft p95" in text and "itl p99" in text and "to first token" in text
    stream_row = next(line for line in text.splitlines() if "runs.stream" in line)
    # ttft p95 of 200..219 ms is 218 ms (HDR rounds within 0.1 %); every gap is 40 ms.
    assert re.search(r"\b21[89]\b", stream_row) and re.search(r"\b40\.0\b", stream_row)
    # Each stream's own rate: 5 tokens in 0.36 + n/1000 s (13.19 to 13.89 tokens/s); p10 is
    # the slow tail, the second slowest of 20 (5 / 0.378 s).
    assert "tok/s p10" in text and "tokens per second" in text
    assert re.search(r"\b13\.2\b", stream_row)
    wait_row = next(line for line in text.splitlines() if "runs.wait" in line)
    assert "218" not in wait_row  # a wait carries no tokens: its cells stay empty
    assert "13.2" not in wait_row

    plain = io.StringIO()
    line_view = LiveView(
        "plain", Console(file=plain, width=300), title="run", planned_s=10.0, plain_every_s=1.0
    )
    line_view.update(recorder.snapshot(2.0), recorder, 2.0)
    assert "ops 120" in plain.getvalue()
    assert "worst ttft p95" not in plain.getvalue()  # nothing streamed in that interval
    assert "tokens/s" not in plain.getvalue()  # nor did a reply stream end in it
    fresh = chat_recorder(Clock())
    line_view.update(fresh.snapshot(3.0), fresh, 3.0)
    assert re.search(
        r"worst ttft p95 21[89] ms {2}worst itl p99 40\.0 ms {2}slowest tokens/s p10 13\.2/s",
        plain.getvalue(),
    )


def reply_rates(snapshot: Snapshot) -> dict[tuple[str, str], LatencyRecorder]:
    """The interval's chat reply rates, per (scenario, operation), from its derived series."""
    suffix = f".{REPLY_RATE_SERIES}"
    return {
        (key.scenario, key.operation.removesuffix(suffix)): metrics.latency
        for key, metrics in snapshot.derived.metrics.items()
        if key.operation.endswith(suffix) and metrics.latency.count
    }


def test_reply_rates_are_handed_over_once_per_interval_and_never_for_the_audit() -> None:
    clock = Clock()
    recorder = chat_recorder(clock)
    first = reply_rates(recorder.snapshot(1.0))
    rates = first[("chat", "runs.stream")]
    assert rates.count == 20 and ("chat", "runs.wait") not in first
    # The next interval starts empty: the live view shows the streams that ended in it.
    assert reply_rates(recorder.snapshot(2.0)) == {}
    # The post-run audit's streams stay out of the load's figures, live ones too.
    from lgbench.history import StreamSummary

    audit = recorder.scope("runs.stream", "chat", {}, "closed", audit=True)
    invocation = recorder.invoke(audit, process=0, actor=1, arguments={}, at_s=2.0)
    summary = StreamSummary()
    summary.events, summary.reply_chunks = 6, 5
    recorder.stream_ok(
        audit, invocation, {}, summary, start_s=2.0, latency_start_s=2.0, end_s=2.5,
        metadata_s=2.05, first_event_s=2.1, first_token_s=2.2,
    )  # fmt: skip
    assert reply_rates(recorder.snapshot(3.0)) == {}
    # The whole run's figures keep every stream.
    whole = recorder.operations_summary(2.0)["runs.stream"]["stream"]["stream_tokens_per_s"]
    assert whole["p10"] == pytest.approx(rates.stats((10.0,)).percentiles_us[10.0] / 1000)


def test_a_chat_stream_rate_is_its_tokens_over_its_own_time() -> None:
    clock = Clock()
    recorder = chat_recorder(clock)
    recorder.snapshot(1.0)
    stream = recorder.operations_summary(1.0)["runs.stream"]["stream"]
    rates = stream["stream_tokens_per_s"]
    # Stream n took 0.36 + n/1000 s for 5 tokens: 13.89 (n=0) down to 13.21 (n=19) tokens/s.
    assert rates["max"] == pytest.approx(5 / 0.36, rel=1e-3)
    assert rates["min"] == pytest.approx(5 / 0.379, rel=1e-3)
    assert rates["min"] <= rates["p10"] <= rates["p50"] <= rates["p90"] <= rates["max"]
    assert stream["reply_tokens"] == 100
    waits = recorder.operations_summary(1.0)["runs.wait"]
    assert "stream" not in waits
