"""Command-line overrides, executor by executor, and the workload options the runner reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgbench.engine import Overrides, planned_duration_s
from lgbench.engine._overrides import apply_overrides
from lgbench.errors import UsageError
from lgbench.workload import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    SharedIterationsConfig,
    StageConfig,
    WorkloadError,
    load_workload,
    parse_workload,
)

WORKLOADS = Path(__file__).parents[2] / "workloads"

ALL_EXECUTORS = """
[[scenario]]
name = "cv"
executor = "constant-vus"
vus = 10
duration = "1m"
steps = [{ op = "threads.create" }]

[[scenario]]
name = "rv"
executor = "ramping-vus"
start_vus = 0
stages = [{ target = 20, duration = "10s" }, { target = 20, duration = "1m" }]
graceful_ramp_down = "30s"
steps = [{ op = "threads.create" }]

[[scenario]]
name = "pv"
executor = "per-vu-iterations"
vus = 5
iterations = 100
steps = [{ op = "threads.create" }]

[[scenario]]
name = "si"
executor = "shared-iterations"
vus = 5
iterations = 100
steps = [{ op = "threads.create" }]

[[scenario]]
name = "car"
executor = "constant-arrival-rate"
rate = 120
time_unit = "1m"
duration = "5m"
pre_allocated_vus = 10
max_vus = 50
steps = [{ op = "threads.create" }]

[[scenario]]
name = "rar"
executor = "ramping-arrival-rate"
start_rate = 10
stages = [{ target = 30, duration = "20s" }, { target = 30, duration = "1m" }]
pre_allocated_vus = 10
max_vus = 50
steps = [{ op = "threads.create" }]

[[scenario]]
name = "b"
executor = "burst"
start_time = "1m"
threads = 100
burst = 3
strategy = "enqueue"
assistant = "sleepy"
max_duration = "2m"
"""


def test_nothing_overridden_is_the_same_workload() -> None:
    workload = parse_workload(ALL_EXECUTORS, "w.toml")
    assert apply_overrides(workload, Overrides()) is workload


def test_every_executor_under_duration_vus_rate_iterations_and_graceful_stop() -> None:
    workload = apply_overrides(
        parse_workload(ALL_EXECUTORS, "w.toml"),
        Overrides(duration_s=5.0, vus=4, rate_per_s=2.0, iterations=3, graceful_stop_s=1.0),
    )
    by_name = {scenario.name: scenario.executor for scenario in workload.scenarios}
    assert by_name["cv"] == ConstantVusConfig(vus=4, duration_s=5.0, graceful_stop_s=1.0)
    # 0 -> 20 over 10 s, cut at 5 s: the stage ends at 10 VUs; then scaled to a peak of 4.
    assert by_name["rv"] == RampingVusConfig(
        stages=(StageConfig(4, 5.0),),
        start_vus=0,
        graceful_ramp_down_s=1.0,
        graceful_stop_s=1.0,
    )
    assert by_name["pv"] == PerVuIterationsConfig(
        vus=4, iterations=3, max_duration_s=5.0, graceful_stop_s=1.0
    )
    # Shared iterations never drop below the VUs.
    assert by_name["si"] == SharedIterationsConfig(
        vus=4, iterations=4, max_duration_s=5.0, graceful_stop_s=1.0
    )
    assert by_name["car"] == ConstantArrivalRateConfig(
        rate=2.0,
        time_unit_s=1.0,
        duration_s=5.0,
        pre_allocated_vus=4,
        max_vus_limit=4,
        graceful_stop_s=1.0,
    )
    rar = by_name["rar"]
    assert isinstance(rar, RampingArrivalRateConfig)
    # 10 -> 30/s over 20 s, cut at 5 s (15/s), then scaled so the peak is 2/s.
    assert rar.stages == (StageConfig(pytest.approx(2.0), 5.0),)
    assert rar.start_rate == pytest.approx(2.0 * 10 / 15)
    assert (rar.pre_allocated_vus, rar.max_vus_limit) == (4, 4)
    burst = by_name["b"]
    assert isinstance(burst, BurstConfig)
    # A burst keeps its settle deadline; its start time is capped at the duration.
    assert (burst.threads, burst.max_duration_s, burst.start_time_s) == (4, 120.0, 5.0)
    # The load ends when the last runs are sent: the settle deadline is drain, not load.
    assert planned_duration_s(workload) == 5.0


def test_scenarios_stay_sorted_by_start_time_after_capping() -> None:
    workload = apply_overrides(load_workload(WORKLOADS / "double-texting.toml"), Overrides(3.0))
    assert [(s.start_time_s, s.name) for s in workload.scenarios] == [
        (0.0, "enqueue"),
        (3.0, "interrupt"),
        (3.0, "reject"),
        (3.0, "rollback"),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(duration_s=0.0), "--duration must be more than 0s"),
        (dict(vus=0), "--vus must be at least 1"),
        (dict(rate_per_s=-1.0), "--rate must be above 0"),
        (dict(iterations=0), "--iterations must be at least 1"),
        (dict(graceful_stop_s=-1.0), "--graceful-stop cannot be negative"),
    ],
)
def test_bad_overrides_are_usage_errors(overrides: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Overrides(**overrides)  # type: ignore[arg-type]


def test_an_override_the_executor_refuses_names_the_flag() -> None:
    text = ALL_EXECUTORS.replace('max_duration = "2m"', 'max_duration = "2m"\n')
    with pytest.raises(UsageError, match=r"--vus: vus must be at most"):
        apply_overrides(parse_workload(text, "w.toml"), Overrides(vus=2_000_000))


def test_describe_and_to_dict() -> None:
    overrides = Overrides(duration_s=90.0, vus=2, graceful_stop_s=0.5)
    assert overrides.describe() == "--duration 1m30s --vus 2 --graceful-stop 500ms"
    assert overrides.to_dict() == {"duration_s": 90.0, "vus": 2, "graceful_stop_s": 0.5}


def test_the_burst_observe_interval_and_keep_stream_events_options() -> None:
    workload = parse_workload(
        """
[defaults]
keep_stream_events = true

[[scenario]]
name = "b"
executor = "burst"
threads = 1
burst = 2
strategy = "reject"
assistant = "sleepy"
observe_interval = "50ms"
""",
        "w.toml",
    )
    executor = workload.scenarios[0].executor
    assert isinstance(executor, BurstConfig) and executor.observe_interval_s == 0.05
    assert workload.defaults.keep_stream_events is True
    with pytest.raises(WorkloadError) as caught:
        parse_workload(
            """
[defaults]
keep_stream_events = "yes"

[[scenario]]
name = "b"
executor = "burst"
threads = 1
burst = 2
strategy = "reject"
assistant = "sleepy"
observe_interval = "0s"
""",
            "w.toml",
        )
    text = str(caught.value)
    assert "w.toml:3:22: keep_stream_events must be true or false" in text
    assert 'w.toml:12:20: scenario "b": observe_interval must be more than 0s' in text
