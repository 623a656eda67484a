"""The 10-second checkpoint summary never reads the live recorder from its worker thread.

A soak died with ``KeyError: 100.0`` in ``LatencyRecorder.stats()`` called from the
checkpoint thread: hdrh's percentile scan read ``total_count`` and the counters while the event
loop recorded into the same histogram, so the scan ended before reaching the 100th
percentile. The fix takes a copy on the event loop and summarises the copy in the thread.

The race itself needs an unlucky thread switch; these tests make it deterministic instead:
every live histogram is wrapped so that any use from another thread is written down, and the
checkpoint's thread must leave no trace.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
import trio.testing

from lgbench.engine._recorder import Recorder, ScenarioStats
from lgbench.history import HistoryWriter
from lgbench.metrics import LatencyRecorder
from lgbench.run import RunOptions, run_workload
from lgbench.workload import parse_workload
from tests.engine._fake_langgraph import FakeLangGraph

WORKLOAD = """
[[scenario]]
name = "chat"
executor = "constant-vus"
vus = 2
duration = "6s"
steps = [{ op = "threads.create", save = "thread" },
         { op = "runs.stream", assistant = "streamer", input = { n = 3, gap_s = 0.05 } }]

[[scenario]]
name = "arrivals"
executor = "constant-arrival-rate"
rate = 5
duration = "6s"
pre_allocated_vus = 2
max_vus = 4
tags = { kind = "open" }
steps = [{ op = "threads.create" }]
"""


class _Guarded:
    """A live histogram's stand-in: forwards everything, and notes any use off the loop."""

    def __init__(self, real: Any, loop_thread: int, touched: list[str]) -> None:
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_loop_thread", loop_thread)
        object.__setattr__(self, "_touched", touched)

    def _note(self, name: str) -> None:
        if threading.get_ident() != object.__getattribute__(self, "_loop_thread"):
            thread = threading.current_thread().name
            object.__getattribute__(self, "_touched").append(f"{name} from {thread}")

    def __getattr__(self, name: str) -> Any:
        self._note(name)
        return getattr(object.__getattribute__(self, "_real"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._note(name)
        setattr(object.__getattribute__(self, "_real"), name, value)


def _live_histograms(recorder: Recorder) -> Iterator[LatencyRecorder]:
    """Every histogram of the recorder that a summary reads."""
    for registry in (recorder.registry, recorder.aux):
        for metrics in registry.totals.values():
            yield metrics.latency
            if metrics.corrected is not None:
                yield metrics.corrected
    for scope in recorder.operation_scopes():
        yield scope.metrics.latency
        if scope.events is not None:
            yield scope.events
    for stats in recorder.scenarios.values():
        yield stats.iteration_time


def _guard(recorder: Recorder, loop_thread: int, touched: list[str]) -> int:
    guarded = 0
    for histogram in _live_histograms(recorder):
        if not isinstance(histogram._histogram, _Guarded):
            histogram._histogram = _Guarded(histogram._histogram, loop_thread, touched)
            guarded += 1
    return guarded


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


@pytest.mark.anyio
async def test_the_checkpoint_thread_touches_no_live_histogram(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorders: list[Recorder] = []
    init = Recorder.__init__

    def capture(self: Recorder, **kwargs: Any) -> None:
        init(self, **kwargs)
        recorders.append(self)

    monkeypatch.setattr(Recorder, "__init__", capture)
    touched: list[str] = []
    guarded: list[int] = []
    real_run_sync = anyio.to_thread.run_sync

    async def run_sync(function: Callable[[], Any], *args: Any, **kwargs: Any) -> Any:
        # On the loop's thread, right before work is handed to a worker thread: from here on
        # the loop goes on recording while the thread works, as in a real run.
        if recorders:
            guarded.append(_guard(recorders[0], threading.get_ident(), touched))
        return await real_run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
    result = await run_workload(
        parse_workload(WORKLOAD, "test.toml"),
        RunOptions(
            target="http://fake.test",
            out_dir=tmp_path / "run",
            loop_lag_interval_s=None,
            checkpoint_s=1.0,
        ),
        transport=FakeLangGraph(pickup_s=0.1, delay_s=lambda request: 0.01).transport(),
    )
    assert sum(guarded) > 0, "no live histogram was guarded: the test proves nothing"
    assert touched == []
    assert result.summary is not None and not result.partial
    assert not [w for w in result.summary["warnings"] if "checkpoint" in w]
    assert result.summary["operations"]["runs.stream"]["stream"]["streams"] > 0


def _recorder() -> Recorder:
    clock = lambda: 0.0  # noqa: E731
    history = HistoryWriter(io.StringIO(), clock=clock, origin_s=0.0)
    recorder = Recorder(clock=clock, origin_s=0.0, history=history)
    recorder.scenario(
        ScenarioStats(
            name="chat",
            executor="constant-vus",
            model="closed",
            description="1 VU",
            tags={},
            start_time_s=0.0,
            planned_s=10.0,
            max_vus=1,
        )
    ).started_s = 0.0
    return recorder


def _record(recorder: Recorder, n: int, at_s: float) -> None:
    scope = recorder.scope("runs.wait", "chat", {"kind": "a"}, "closed")
    stats = recorder.scenarios["chat"]
    for i in range(n):
        start_s = at_s + i * 0.001
        invocation = recorder.invoke(scope, process=0, actor=1, arguments={}, at_s=start_s)
        recorder.ok(
            scope,
            invocation,
            {},
            {},
            start_s=start_s,
            latency_start_s=start_s,
            end_s=start_s + 0.01 + i * 1e-5,
            expected_interval_us=5_000,
        )
        stats.iteration_time.record_us(10_000 + i)
        stats.started += 1
        stats.finished += 1


def _figures(recorder: Recorder) -> str:
    return json.dumps(
        {
            "operations": recorder.operations_summary(10.0),
            "chat": recorder.operations_summary(10.0, "chat"),
            "tags": recorder.tags(),
            "lag": recorder.lag_summary(),
            "scenarios": {
                name: [s.started, s.finished, s.iteration_time.stats().to_ms()]
                for name, s in recorder.scenarios.items()
            },
            "warnings": recorder.warnings,
            "history": recorder.history_figures(),
        },
        sort_keys=True,
    )


def test_a_recorder_copy_holds_what_was_recorded_and_nothing_after() -> None:
    recorder = _recorder()
    _record(recorder, 200, 0.0)
    recorder.snapshot(1.0)
    _record(recorder, 50, 1.0)  # recorded after the last snapshot: not in the totals yet
    copy = recorder.copy()
    before = _figures(copy)
    assert before == _figures(recorder)
    # The loop goes on: more records, a closed interval, a new scope and scenario, a warning.
    _record(recorder, 300, 2.0)
    recorder.snapshot(3.0)
    recorder.scope("threads.create", "chat", {"kind": "b"}, "closed")
    recorder.warn("later", "a later warning")
    assert _figures(copy) == before
    assert _figures(recorder) != before
    assert copy.registry.elapsed_s == 1.0


def test_a_recorder_copy_survives_recording_from_another_thread() -> None:
    """Many rounds of summarising a copy in a thread while this one records: never a crash."""
    recorder = _recorder()
    _record(recorder, 100, 0.0)
    recorder.snapshot(0.5)
    errors: list[BaseException] = []
    for round_ in range(20):
        copy = recorder.copy()

        def summarise(copy: Recorder = copy) -> None:
            try:
                _figures(copy)
            except BaseException as exc:  # pragma: no cover - what the test is about
                errors.append(exc)

        thread = threading.Thread(target=summarise)
        thread.start()
        while thread.is_alive():
            _record(recorder, 20, 1.0 + round_)
            recorder.snapshot(recorder.origin_s + recorder.elapsed_s + 0.001)
        thread.join()
    assert errors == []


@pytest.fixture(autouse=True)
def _fast_switches() -> Iterator[None]:
    """Switch threads often, so an unguarded read of a live histogram would show at once."""
    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)
