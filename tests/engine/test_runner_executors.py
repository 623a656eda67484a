"""Executors at run time, on trio's virtual clock over an in-memory fake LangGraph API.

``MockClock(autojump_threshold=0)`` jumps to the next deadline whenever every task waits, so
each run takes no real time and the asserted times are exact. Times are read back from
``history.jsonl`` (``time_ns`` counts from the run's start, which is virtual time 0 here).
Only trio: these tests need the mock clock.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
import trio.testing

from lgbench.check import check_history
from lgbench.client import ReadTimeout, Request
from lgbench.engine import AuditOptions, RunControl
from lgbench.engine._actor import actor_seed
from lgbench.history import History, read_history
from lgbench.run import RunOptions, RunResult, run_workload
from lgbench.workload import parse_workload
from tests.engine._fake_langgraph import FakeLangGraph
from tests.engine._history_checks import assert_well_formed

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """trio with a fresh virtual clock per test (no virtual time leaks between tests)."""
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


async def run_text(
    text: str,
    tmp_path: Path,
    fake: FakeLangGraph,
    *,
    control: RunControl | None = None,
    **options: Any,
) -> tuple[RunResult, History]:
    workload = parse_workload(text, "test.toml")
    # These tests count the load's own requests: the post-run audit has its own tests.
    options.setdefault("audit", AuditOptions(enabled=False))
    result = await run_workload(
        workload,
        RunOptions(
            target="http://fake.test",
            out_dir=tmp_path / "run",
            loop_lag_interval_s=None,
            **options,
        ),
        transport=fake.transport(),
        control=control,
    )
    return result, read_history(tmp_path / "run" / "history.jsonl")


def invokes(history: History, f: str | None = None) -> list[dict[str, Any]]:
    return [e for e in history.events if e["type"] == "invoke" and (f is None or e["f"] == f)]


def completions(history: History) -> list[dict[str, Any]]:
    return [e for e in history.events if e["type"] in ("ok", "fail", "info")]


def seconds(event: dict[str, Any]) -> float:
    return event["time_ns"] / 1e9


ARRIVALS = """
[[scenario]]
name = "arrivals"
executor = "constant-arrival-rate"
rate = 4
duration = "1s"
pre_allocated_vus = {pre}
max_vus = {max}
graceful_stop = "5s"
steps = [{{ op = "threads.create" }}]
"""


async def test_constant_arrival_rate_starts_iterations_at_the_pacers_times(
    tmp_path: Path,
) -> None:
    fake = FakeLangGraph(delay_s=lambda request: 0.1)
    result, history = await run_text(ARRIVALS.format(pre=1, max=4), tmp_path, fake)
    assert [seconds(e) for e in invokes(history)] == [0.25, 0.5, 0.75, 1.0]
    # Each request takes 0.1 s and is timed from its intended start: exactly 100 ms.
    assert result.summary is not None
    latency = result.summary["operations"]["threads.create"]["latency_ms"]
    assert latency["min"] == pytest.approx(100, rel=1e-3)
    assert latency["max"] == pytest.approx(100, rel=1e-3)
    assert result.summary["dropped_iterations"] == 0
    assert result.summary["scenarios"]["arrivals"]["vus_allocated"] == 1  # one VU was enough
    assert not result.partial
    assert_well_formed(history)


async def test_an_iteration_with_no_free_vu_is_dropped_and_counted_never_queued(
    tmp_path: Path,
) -> None:
    fake = FakeLangGraph(delay_s=lambda request: 1.0)
    result, history = await run_text(ARRIVALS.format(pre=1, max=2), tmp_path, fake)
    # Due at 0.25 (VU 1), 0.5 (VU 2, the pool grows), 0.75 and 1.0 (both busy: dropped).
    assert [seconds(e) for e in invokes(history)] == [0.25, 0.5]
    assert [e["actor"] for e in invokes(history)] == [1, 2]
    assert result.summary is not None
    assert result.summary["dropped_iterations"] == 2
    assert result.summary["scenarios"]["arrivals"]["dropped_iterations"] == 2
    dropped = [w for w in result.summary["warnings"] if "dropped" in w]
    assert len(dropped) == 1  # one warning, however many drops
    assert_well_formed(history)


async def test_constant_vus_let_the_last_iteration_finish_within_graceful_stop(
    tmp_path: Path,
) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "constant-vus"
vus = 1
duration = "1s"
graceful_stop = "{grace}"
steps = [{{ op = "threads.create" }}]
"""
    fake = FakeLangGraph(delay_s=lambda request: 0.4)
    result, history = await run_text(workload.format(grace="0.5s"), tmp_path, fake)
    # Iterations start at 0, 0.4 and 0.8; the last ends at 1.2, inside the grace period.
    assert [seconds(e) for e in invokes(history)] == [0.0, 0.4, 0.8]
    assert [e["type"] for e in completions(history)] == ["ok", "ok", "ok"]
    assert result.summary is not None
    assert result.summary["duration_s"] == pytest.approx(1.2)
    assert not result.partial


async def test_an_iteration_past_graceful_stop_is_cancelled_and_recorded_as_info(
    tmp_path: Path,
) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "constant-vus"
vus = 1
duration = "1s"
graceful_stop = "300ms"
steps = [{ op = "threads.create" }, { op = "threads.get", thread = "$threads_create" }]

[thresholds]
"errors.count" = "== 0"
"threads.create.errors.rate" = "== 0%"
"""
    workload = workload.replace(
        '{ op = "threads.create" }', '{ op = "threads.create", save = "threads_create" }'
    )
    fake = FakeLangGraph(delay_s=lambda request: 0.8 if request.method == "POST" else 0.0)
    result, history = await run_text(workload, tmp_path, fake)
    # Iteration 1: create 0-0.8, get at 0.8. Iteration 2: create from 0.8, in flight when the
    # time is up at 1.0, cancelled when the grace ends at 1.3: unknown outcome of a write.
    last = completions(history)[-1]
    assert last["type"] == "info"
    assert last["f"] == "threads.create"
    assert last["error"]["class"] == "Cancelled"
    assert seconds(last) == pytest.approx(1.3)
    assert result.summary is not None
    create = result.summary["operations"]["threads.create"]
    # Cut by lgbench's own stop: interrupted, neither an error nor counted.
    assert create["interrupted"] == 1
    assert "cancelled" not in create["errors_by_kind"]
    assert (create["count"], create["ok"], create["errors"]) == (1, 1, 0)
    assert create["top_errors"] == []
    lines = (result.run_dir / "timeseries.jsonl").read_text().splitlines()[1:]
    intervals = [json.loads(line)["operations"].get("threads.create", {}) for line in lines]
    assert sum(each.get("interrupted", 0) for each in intervals) == 1
    assert sum(each.get("errors", 0) for each in intervals) == 0
    # So the end of the run fails no error threshold.
    assert result.summary["thresholds"]["passed"] is True, result.summary["thresholds"]
    assert result.summary["scenarios"]["loop"]["iterations"]["interrupted"] == 1
    assert not result.partial  # the scenario ended as planned
    assert_well_formed(history)


async def test_a_stop_request_is_graceful_and_leaves_a_partial_summary(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "constant-vus"
vus = 2
duration = "1h"
graceful_stop = "10s"
steps = [{ op = "threads.create" }]
"""
    fake = FakeLangGraph(delay_s=lambda request: 0.3 if request.method == "POST" else 0.0)
    control = RunControl()

    async def stop_soon() -> None:
        await anyio.sleep(1.0)
        control.request_stop("test")

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(stop_soon)
        result, history = await run_text(workload, tmp_path, fake, control=control)
    # No iteration starts after 1.0; the two in flight (0.9 - 1.2) finish.
    assert max(seconds(e) for e in invokes(history)) <= 1.0
    assert all(e["type"] == "ok" for e in completions(history))
    assert result.partial and result.stop_reason == "test"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["partial"] is True
    assert summary["duration_s"] == pytest.approx(1.2)
    assert history.events[-1]["type"] == "marker"
    assert history.events[-1]["name"] == "run.partial"
    assert_well_formed(history)


async def test_a_second_stop_cancels_at_once_and_still_writes_everything(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "constant-vus"
vus = 1
duration = "1h"
steps = [{ op = "threads.create" }]
"""
    fake = FakeLangGraph(delay_s=lambda request: 5.0 if request.method == "POST" else 0.0)
    control = RunControl()

    async def stop_twice() -> None:
        await anyio.sleep(1.0)
        control.request_stop("SIGINT")
        await anyio.sleep(1.0)
        control.request_stop("SIGINT")

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(stop_twice)
        result, history = await run_text(workload, tmp_path, fake, control=control)
    assert result.partial
    assert result.summary is not None and result.summary["duration_s"] == pytest.approx(2.0)
    assert [e["type"] for e in completions(history)] == ["info"]  # cut at 2.0, not 30 s later
    assert seconds(completions(history)[0]) == pytest.approx(2.0)
    assert history.markers("run.partial")


async def test_ramping_vus_start_and_stop_vus_on_the_plans_change_points(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "ramp"
executor = "ramping-vus"
start_vus = 0
stages = [{ target = 2, duration = "2s" }, { target = 0, duration = "2s" }]
graceful_ramp_down = "0s"
graceful_stop = "0s"
steps = [{ op = "threads.create" }]
"""
    fake = FakeLangGraph(delay_s=lambda request: 0.625 if request.method == "POST" else 0.0)
    result, history = await run_text(workload, tmp_path, fake)
    starts = invokes(history)
    # VU 1 from 1 s, VU 2 from 2 s (0 -> 2 over 2 s); VU 2 ramped down at 3 s and VU 1 at the
    # end (4 s): their iterations in flight then are cancelled at once (no grace).
    first_by_actor: dict[int, float] = {}
    last_by_actor: dict[int, float] = {}
    for event in starts:
        first_by_actor.setdefault(event["actor"], seconds(event))
        last_by_actor[event["actor"]] = seconds(event)
    assert first_by_actor == {1: 1.0, 2: 2.0}
    assert last_by_actor == {1: 3.5, 2: 2.625}  # iterations take 0.625 s
    cancelled = [e for e in completions(history) if e["type"] == "info"]
    assert sorted((e["actor"], seconds(e)) for e in cancelled) == [
        (1, pytest.approx(4.0)),
        (2, pytest.approx(3.0)),
    ]
    assert result.summary is not None
    assert result.summary["scenarios"]["ramp"]["vus_allocated"] == 2
    assert_well_formed(history)


async def test_iteration_executors_run_exactly_their_iterations(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "per-vu"
executor = "per-vu-iterations"
vus = 2
iterations = 3
steps = [{ op = "threads.create" }]

[[scenario]]
name = "shared"
executor = "shared-iterations"
vus = 3
iterations = 7
steps = [{ op = "threads.create" }]
"""
    fake = FakeLangGraph(delay_s=lambda request: 0.1)
    result, history = await run_text(workload, tmp_path, fake)
    per_vu = [e for e in invokes(history) if e["scenario"] == "per-vu"]
    shared = [e for e in invokes(history) if e["scenario"] == "shared"]
    assert sorted(e["actor"] for e in per_vu) == [1, 1, 1, 2, 2, 2]
    assert len(shared) == 7
    assert result.summary is not None
    # Both end when their work is done (0.3 s), not at max_duration (10 minutes).
    assert result.summary["duration_s"] == pytest.approx(0.3)
    assert result.summary["scenarios"]["shared"]["iterations"]["finished"] == 7


async def test_scenarios_start_at_their_start_time(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "early"
executor = "per-vu-iterations"
vus = 1
iterations = 1
steps = [{ op = "threads.create" }]

[[scenario]]
name = "late"
executor = "per-vu-iterations"
start_time = "2.5s"
vus = 1
iterations = 1
steps = [{ op = "threads.create" }]
"""
    _, history = await run_text(workload, tmp_path, FakeLangGraph())
    assert {e["scenario"]: seconds(e) for e in invokes(history)} == {"early": 0.0, "late": 2.5}


async def test_a_timed_out_write_is_info_and_the_actor_moves_to_a_new_process(
    tmp_path: Path,
) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "per-vu-iterations"
vus = 1
iterations = 3
steps = [{ op = "threads.create", save = "thread" }, { op = "threads.get", thread = "$thread" }]
"""
    calls: list[str] = []

    def fail(request: Request) -> int | None:
        if request.target == "/info":
            return None
        calls.append(request.method)
        if len(calls) == 2:  # the first threads.get
            raise ReadTimeout("scripted read timeout")
        if len(calls) == 3:  # the second threads.create
            raise ReadTimeout("scripted read timeout")
        return None

    fake = FakeLangGraph(fail=fail)
    result, history = await run_text(workload, tmp_path, fake)
    outcome = [(e["f"], e["type"]) for e in completions(history)]
    assert outcome == [
        ("threads.create", "ok"),
        ("threads.get", "fail"),  # a read cannot have taken effect
        ("threads.create", "info"),  # a write may have
        ("threads.create", "ok"),
        ("threads.get", "ok"),
    ]
    processes = [e["process"] for e in invokes(history)]
    assert processes[0] == processes[1] == processes[2]  # fail: same process
    assert processes[3] == processes[4] != processes[2]  # info: a new one
    assert result.summary is not None
    assert result.summary["operations"]["threads.get"]["errors_by_kind"]["timeout"] == 1
    assert_well_formed(history)


async def test_http_errors_keep_their_status_and_are_still_timed(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "per-vu-iterations"
vus = 1
iterations = 2
steps = [{ op = "threads.create" }]
"""
    statuses = iter([None, 503])
    fake = FakeLangGraph(
        fail=lambda request: None if request.target == "/info" else next(statuses),
        delay_s=lambda request: 0.05,
    )
    result, history = await run_text(workload, tmp_path, fake)
    last = completions(history)[-1]
    # A server error to a write may have taken effect (the thread may exist): info, not fail.
    assert last["type"] == "info"
    assert last["error"]["status"] == 503
    assert last["error"]["class"] == "InternalServerError"
    assert result.summary is not None
    create = result.summary["operations"]["threads.create"]
    assert create["errors_by_kind"]["http"] == {"503": 1}
    assert create["latency_ms"]["max"] == pytest.approx(50, rel=1e-3)
    assert create["count"] == 2 and create["errors"] == 1


async def test_streams_report_time_to_first_event_gaps_and_queue_wait(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "streams"
executor = "per-vu-iterations"
vus = 1
iterations = 2
steps = [{ op = "runs.stream", assistant = "streamer", input = { n = 4, gap_s = 0.05 },
           save = "stream" }, { op = "threads.create", metadata = { run = "$stream.run_id" } }]
"""
    fake = FakeLangGraph(pickup_s=0.5)
    result, history = await run_text(workload, tmp_path, fake)
    assert result.summary is not None
    stream = result.summary["operations"]["runs.stream"]
    assert stream["count"] == 2
    figures = stream["stream"]
    # metadata at 0.5 s (the pickup), a values event with it, 4 updates 50 ms apart, values.
    assert figures["queue_wait_ms"]["p50"] == pytest.approx(500, rel=1e-3)
    assert figures["ttfe_ms"]["p50"] == pytest.approx(500, rel=1e-3)
    assert figures["events"]["min"] == figures["events"]["max"] == 6
    assert figures["events"]["total"] == 12
    assert stream["latency_ms"]["p50"] == pytest.approx(700, rel=1e-3)
    oks = [e for e in completions(history) if e["f"] == "runs.stream"]
    value = oks[0]["value"]
    assert value["run_id"] == "run-stream"
    assert value["events"] == 6
    assert value["event_counts"] == {"values": 2, "updates": 4}
    assert value["tokens"] == ["start:run-stream", "end:run-stream"]
    assert value["first_event_ns"] == 500_000_000
    assert value["last_event_ns"] == 700_000_000
    assert "stream_events" not in value
    # The saved stream summary feeds later templates.
    created = [body for _, method, path, body in fake.requests if path == "/threads"]
    assert created[0]["metadata"] == {"run": "run-stream"}


async def test_keep_stream_events_keeps_every_event(tmp_path: Path) -> None:
    workload = """
[defaults]
keep_stream_events = true

[[scenario]]
name = "streams"
executor = "per-vu-iterations"
vus = 1
iterations = 1
steps = [{ op = "runs.stream", assistant = "streamer", input = { n = 1, gap_s = 0.05 } }]
"""
    _, history = await run_text(workload, tmp_path, FakeLangGraph())
    value = completions(history)[0]["value"]
    assert [event for event, _ in value["stream_events"]] == [
        "metadata",
        "values",
        "updates",
        "values",
    ]


async def test_closed_model_reports_raw_and_corrected_latency(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "per-vu-iterations"
vus = 1
iterations = 20
steps = [{ op = "threads.create" }]
"""
    calls = [0]

    def delay(request: Request) -> float:
        calls[0] += 1
        return 1.0 if calls[0] == 10 else 0.01  # one stall among 10 ms answers

    result, _ = await run_text(workload, tmp_path, FakeLangGraph(delay_s=delay))
    assert result.summary is not None
    create = result.summary["operations"]["threads.create"]
    assert create["models"] == ["closed"]
    assert create["latency_ms"]["max"] == pytest.approx(1000, rel=1e-3)
    assert create["latency_ms"]["p90"] == pytest.approx(10, rel=1e-2)
    # The stall hid ~100 requests a 10 ms loop would have sent: back-filled 990, 980, ... ms.
    corrected = create["corrected_latency_ms"]
    assert corrected["p50"] > 300
    assert corrected["max"] == pytest.approx(1000, rel=1e-3)


async def test_templates_are_seeded_so_a_run_repeats(tmp_path: Path) -> None:
    workload = """
[defaults]
seed = 7

[[scenario]]
name = "loop"
executor = "per-vu-iterations"
vus = 2
iterations = 3
steps = [{ op = "threads.create", metadata = { n = "${random.int(1,1000000)}",
                                               id = "${uuid}", who = "vu-${vu}-${iteration}" } }]
"""

    async def bodies(where: Path) -> list[Any]:
        fake = FakeLangGraph()
        await run_text(workload, where, fake)
        return sorted(
            (body["metadata"] for _, _, _, body in fake.requests if body),
            key=lambda m: m["who"],
        )

    first = await bodies(tmp_path / "a")
    second = await bodies(tmp_path / "b")
    assert first == second
    assert [m["who"] for m in first] == [f"vu-{v}-{i}" for v in (1, 2) for i in range(3)]
    assert len({m["n"] for m in first}) > 1  # each VU draws its own numbers
    # One generator per VU, made on its first draw, drawn from in document order.
    for vu in (1, 2):
        rng = random.Random(actor_seed(7, "loop", vu))
        expected = [
            (rng.randint(1, 1000000), str(uuid.UUID(int=rng.getrandbits(128), version=4)))
            for _ in range(3)
        ]
        assert [(m["n"], m["id"]) for m in first if m["who"].startswith(f"vu-{vu}-")] == expected


async def test_burst_marks_observes_and_settles(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "enqueue"
executor = "burst"
threads = 2
burst = 3
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 0.5 }
observe_interval = "200ms"
"""
    fake = FakeLangGraph(pickup_s=0.5)
    result, history = await run_text(workload, tmp_path, fake)
    starts = history.markers("burst.start")
    settled = history.markers("burst.settled")
    assert len(starts) == len(settled) == 2
    assert {m["value"]["strategy"] for m in starts} == {"enqueue"}
    for marker in settled:
        value = marker["value"]
        assert not value["timed_out"]
        assert len(value["run_ids"]) == 3
        assert set(value["statuses"].values()) == {"success"}
        # Runs end at 1.0, 1.5, 2.0; the list that sees them all done comes after the last,
        # within the longest pause (16 observe intervals).
        assert 2.0 <= seconds(marker) <= 2.0 + 16 * 0.2 + 0.01
    creates = invokes(history, "runs.create")
    assert all(e["value"]["multitask_strategy"] == "enqueue" for e in creates)
    observers = [e for e in invokes(history) if (e["value"] or {}).get("observer")]
    # One threads.search of the whole burst a tick, and one runs.list per thread once the
    # search shows it idle: never a request per run, nor per thread per tick.
    assert {e["f"] for e in observers} == {"threads.search", "runs.list"}
    lists = [e for e in observers if e["f"] == "runs.list"]
    assert sorted(e["value"]["thread_id"] for e in lists) == sorted(
        m["value"]["thread_id"] for m in starts
    )
    searches = [e for e in observers if e["f"] == "threads.search"]
    assert len(searches) <= 12  # 0.2, 0.4, 0.8, 1.6 s pauses while busy, then every 0.2 s
    # The burst's threads carry its id, which the search asks for.
    (burst,) = {metadata["lgbench_burst"] for metadata in fake.metadata.values()}
    asked = [body for _, _, path, body in fake.requests if path == "/threads/search"]
    assert asked and all(body["metadata"] == {"lgbench_burst": burst} for body in asked)
    actor_processes = {e["process"] for e in creates}
    assert not actor_processes & {e["process"] for e in observers}
    # Each thread's last read comes after its final list, with every run's tokens.
    found = [e for e in completions(history) if e["f"] == "threads.search"]
    for marker in settled:
        thread_id = marker["value"]["thread_id"]
        final_list = max(
            seconds(e)
            for e in completions(history)
            if e["f"] == "runs.list" and e["value"]["thread_id"] == thread_id
        )
        last = max(found, key=seconds)
        assert seconds(last) > final_list
        (entry,) = [t for t in last["value"]["threads"] if t["thread_id"] == thread_id]
        assert entry["status"] == "idle" and len(entry["tokens"]) == 6
    assert result.summary is not None
    assert result.summary["scenarios"]["enqueue"]["iterations"]["finished"] == 2
    # Observers' operations can be told apart by their tag.
    observed = result.summary["tags"]["role=observer"]
    assert set(observed) == {"threads.search", "runs.list"}
    assert observed["runs.list"]["count"] == result.summary["operations"]["runs.list"]["count"]
    assert result.summary["observation"]["requests"] == len(observers)
    assert check_history(tmp_path / "run").valid is True
    assert_well_formed(history)


@pytest.mark.parametrize("search", ["missing", "unfiltered"])
async def test_burst_polls_each_thread_when_the_search_cannot_find_them(
    tmp_path: Path, search: str
) -> None:
    workload = """
[[scenario]]
name = "enqueue"
executor = "burst"
threads = 2
burst = 2
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 0.5 }
observe_interval = "200ms"
"""
    fake = FakeLangGraph(pickup_s=0.5, search=search)
    if search == "unfiltered":
        fake.threads["thread-other"] = []  # a thread the search answers first, not the burst's
        fake.metadata["thread-other"] = {}
    _, history = await run_text(workload, tmp_path, fake)
    settled = history.markers("burst.settled")
    assert len(settled) == 2 and not any(m["value"]["timed_out"] for m in settled)
    assert all(set(m["value"]["statuses"].values()) == {"success"} for m in settled)
    observers = {e["f"] for e in invokes(history) if (e["value"] or {}).get("observer")}
    assert observers == {"threads.search", "runs.list", "threads.get", "threads.get_state"}
    assert len(invokes(history, "threads.search")) == 1  # blind after its first answer
    assert check_history(tmp_path / "run").valid is True


async def test_a_search_that_fails_now_and_then_only_costs_a_tick(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "enqueue"
executor = "burst"
threads = 2
burst = 2
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 0.5 }
observe_interval = "200ms"
"""
    searches = [0]

    def fail(request: Request) -> int | None:
        if request.target.startswith("/threads/search"):
            searches[0] += 1
            return 503 if searches[0] % 2 else None  # every other search
        return None

    fake = FakeLangGraph(pickup_s=0.5, fail=fail)
    _, history = await run_text(workload, tmp_path, fake)
    settled = history.markers("burst.settled")
    assert len(settled) == 2 and not any(m["value"]["timed_out"] for m in settled)
    observers = {e["f"] for e in invokes(history) if (e["value"] or {}).get("observer")}
    assert observers == {"threads.search", "runs.list"}  # never blind: no thread polled
    assert check_history(tmp_path / "run").valid is True


async def test_a_thread_idle_while_its_run_waits_is_listed_again_once_it_changes(
    tmp_path: Path,
) -> None:
    workload = """
[[scenario]]
name = "interrupt"
executor = "burst"
threads = 2
burst = 2
strategy = "interrupt"
assistant = "sleepy"
input = { seconds = 0.5 }
observe_interval = "200ms"
"""
    fake = FakeLangGraph(pickup_s=0.5, idle_while_pending=True)
    _, history = await run_text(workload, tmp_path, fake)
    settled = history.markers("burst.settled")
    assert len(settled) == 2 and not any(m["value"]["timed_out"] for m in settled)
    assert all(
        sorted(m["value"]["statuses"].values()) == ["interrupted", "success"] for m in settled
    )
    # Idle at once (the second run only waits): one list finds it pending, the next one,
    # sent when the thread changed, finds every run final. Not a list every tick.
    lists = [e["value"]["thread_id"] for e in invokes(history, "runs.list")]
    assert sorted(lists) == sorted(m["value"]["thread_id"] for m in settled for _ in range(2))
    assert check_history(tmp_path / "run").valid is True


async def test_burst_reject_refusals_are_fail_409(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "reject"
executor = "burst"
threads = 1
burst = 3
strategy = "reject"
assistant = "sleepy"
input = { seconds = 0.5 }
"""
    result, history = await run_text(workload, tmp_path, FakeLangGraph(pickup_s=0.5))
    outcomes = [(e["type"], (e["error"] or {}).get("status")) for e in completions(history)]
    creates = [
        outcome
        for event, outcome in zip(completions(history), outcomes, strict=True)
        if event["f"] == "runs.create"
    ]
    assert creates == [("ok", None), ("fail", 409), ("fail", 409)]
    settled = history.markers("burst.settled")[0]["value"]
    assert len(settled["run_ids"]) == 1 and not settled["timed_out"]
    assert result.summary is not None
    assert result.summary["operations"]["runs.create"]["errors_by_kind"]["http"] == {"409": 2}


async def test_burst_gives_up_at_max_duration(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "slow"
executor = "burst"
threads = 1
burst = 2
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 10 }
max_duration = "3s"
graceful_stop = "1s"
"""
    result, history = await run_text(workload, tmp_path, FakeLangGraph(pickup_s=0.5))
    settled = history.markers("burst.settled")[0]
    assert settled["value"]["timed_out"] is True
    assert seconds(settled) == pytest.approx(3.0)
    assert [e["f"] for e in invokes(history)][-2:] == ["threads.get_state", "runs.list"]
    assert result.summary is not None and not result.partial


async def test_a_thread_busy_for_long_is_still_listed_every_16_ticks(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "slow"
executor = "burst"
threads = 1
burst = 1
strategy = "enqueue"
assistant = "sleepy"
input = { seconds = 100 }
max_duration = "20s"
observe_interval = "200ms"
graceful_stop = "1s"
"""
    _, history = await run_text(workload, tmp_path, FakeLangGraph(pickup_s=0.5))
    # The search reads it busy throughout, its pause grown to 16 ticks (3.2 s); its runs are
    # listed at the first search 16 ticks after the create, and after each list (so that a
    # stuck run is seen unchanged over time); then once more at the deadline.
    lists = [seconds(e) for e in invokes(history, "runs.list")]
    assert len(lists) >= 4
    assert lists[0] <= 2 * 3.2
    assert all(3.2 <= b - a <= 2 * 3.2 for a, b in itertools.pairwise(lists[:-1]))
    assert lists[-1] == pytest.approx(20.0)
    assert history.markers("burst.settled")[0]["value"]["timed_out"] is True


async def test_the_summary_has_its_schema(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "loop"
executor = "constant-arrival-rate"
rate = 10
duration = "1s"
steps = [{ op = "threads.create" }]
"""
    result, _ = await run_text(workload, tmp_path, FakeLangGraph(delay_s=lambda r: 0.01))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary == result.summary
    assert summary["schema_version"] == 1
    assert set(summary) >= {
        "lgbench_version",
        "workload",
        "target",
        "server",
        "backend",
        "transport",
        "started_at",
        "ended_at",
        "duration_s",
        "partial",
        "stop_reason",
        "operations",
        "scenarios",
        "tags",
        "dropped_iterations",
        "schedule_lag_ms",
        "event_loop_lag_ms",
        "out_of_range",
        "warnings",
        "files",
        "check",
    }
    assert summary["server"]["version"] == "fake-0.1"
    assert summary["backend"] == "trio"
    op = summary["operations"]["threads.create"]
    assert set(op["latency_ms"]) == {"min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max"}
    assert op["models"] == ["open"]
    assert op["count"] == 10
    assert op["rate_per_s"] == pytest.approx(10 / summary["duration_s"])
    assert "service_time_ms" in op
    assert summary["schedule_lag_ms"]["count"] == 10
    assert summary["schedule_lag_ms"]["max"] == 0.0  # virtual time: never late
    assert summary["files"]["hgrm"] == {"threads.create": "threads.create.hgrm"}
    assert (tmp_path / "run" / "threads.create.hgrm").read_text().startswith("       Value")
    hlog = (tmp_path / "run" / "intervals.hlog").read_text().splitlines()
    assert any(line.startswith("Tag=threads.create,0.000,1.000,") for line in hlog)


async def test_ramping_arrival_rate_follows_the_ramps_integral(tmp_path: Path) -> None:
    workload = """
[[scenario]]
name = "ramp"
executor = "ramping-arrival-rate"
start_rate = 0
stages = [{ target = 8, duration = "1s" }]
steps = [{ op = "threads.create" }]
"""
    result, history = await run_text(workload, tmp_path, FakeLangGraph())
    # A(t) = 4 t^2 iterations by t: iteration n is due at sqrt((n + 1) / 4).
    assert [seconds(e) for e in invokes(history)] == pytest.approx([0.5, 0.5**0.5, 0.75**0.5, 1.0])
    assert result.summary is not None
    assert result.summary["scenarios"]["ramp"]["model"] == "open"
