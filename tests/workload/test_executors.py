"""Executor configs: validate() finds every problem, describe() and max_vus() for each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from lgbench.workload import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    ExecutorConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    SharedIterationsConfig,
    StageConfig,
)
from lgbench.workload._executors import EXECUTORS, ConfigProblem, register_executor

STAGES = (StageConfig(10, 30.0), StageConfig(0, 10.0))


def _keys(problems: list[ConfigProblem]) -> list[tuple[str | int, ...]]:
    return [problem.key for problem in problems]


VALIDATE_CASES = [
    # constant-vus
    pytest.param(ConstantVusConfig(vus=5, duration_s=60), [], id="constant-vus-ok"),
    pytest.param(
        ConstantVusConfig(vus=0, duration_s=0), [("vus",), ("duration",)], id="constant-vus-zero"
    ),
    pytest.param(
        ConstantVusConfig(vus=1, duration_s=float("inf")), [("duration",)], id="constant-vus-inf"
    ),
    pytest.param(
        ConstantVusConfig(vus=10**7, duration_s=1), [("vus",)], id="constant-vus-too-many"
    ),
    # base checks come first, then the executor's own
    pytest.param(
        ConstantVusConfig(vus=0, duration_s=1, start_time_s=-1, graceful_stop_s=float("nan")),
        [("start_time",), ("graceful_stop",), ("vus",)],
        id="base-checks-first",
    ),
    # ramping-vus
    pytest.param(RampingVusConfig(stages=STAGES), [], id="ramping-vus-ok"),
    pytest.param(RampingVusConfig(stages=()), [("stages",)], id="ramping-vus-no-stages"),
    pytest.param(
        RampingVusConfig(stages=(StageConfig(-1, 1.0), StageConfig(2, -1.0)), start_vus=-1),
        [("start_vus",), ("stages", 0, "target"), ("stages", 1, "duration")],
        id="ramping-vus-negatives",
    ),
    pytest.param(
        RampingVusConfig(stages=(StageConfig(5, 0.0),)),
        [("stages",)],
        id="ramping-vus-zero-length",
    ),
    pytest.param(
        RampingVusConfig(stages=(StageConfig(0, 5.0),), start_vus=0),
        [("stages",)],
        id="ramping-vus-never-any-vu",
    ),
    pytest.param(
        RampingVusConfig(stages=(StageConfig(2.5, 5.0),)),
        [("stages",)],
        id="ramping-vus-fractional-target",
    ),
    pytest.param(
        RampingVusConfig(stages=(StageConfig(float("inf"), 1.0),)),
        [("stages", 0, "target")],
        id="ramping-vus-infinite-target",
    ),
    pytest.param(
        RampingVusConfig(stages=STAGES, graceful_ramp_down_s=-1),
        [("graceful_ramp_down",)],
        id="ramping-vus-ramp-down",
    ),
    # per-vu-iterations
    pytest.param(PerVuIterationsConfig(vus=2, iterations=1), [], id="per-vu-ok"),
    pytest.param(
        PerVuIterationsConfig(vus=0, iterations=0, max_duration_s=0),
        [("vus",), ("iterations",), ("max_duration",)],
        id="per-vu-zeros",
    ),
    # shared-iterations
    pytest.param(SharedIterationsConfig(vus=2, iterations=2), [], id="shared-ok"),
    pytest.param(
        SharedIterationsConfig(vus=10, iterations=5), [("iterations",)], id="shared-fewer"
    ),
    pytest.param(
        SharedIterationsConfig(vus=0, iterations=0),
        [("vus",), ("iterations",)],
        id="shared-zeros-reported-once",
    ),
    # constant-arrival-rate
    pytest.param(
        ConstantArrivalRateConfig(rate=10, duration_s=60, pre_allocated_vus=5, max_vus_limit=10),
        [],
        id="constant-rate-ok",
    ),
    pytest.param(
        ConstantArrivalRateConfig(
            rate=0, duration_s=0, pre_allocated_vus=5, max_vus_limit=2, time_unit_s=0
        ),
        [("rate",), ("time_unit",), ("duration",), ("max_vus",)],
        id="constant-rate-everything-wrong",
    ),
    pytest.param(
        ConstantArrivalRateConfig(
            rate=1e300, duration_s=1, pre_allocated_vus=1, max_vus_limit=10**9
        ),
        [("rate",), ("max_vus",)],
        id="constant-rate-absurd",
    ),
    pytest.param(
        ConstantArrivalRateConfig(
            rate=float("nan"), duration_s=1, pre_allocated_vus=1, max_vus_limit=1
        ),
        [("rate",)],
        id="constant-rate-nan",
    ),
    pytest.param(
        ConstantArrivalRateConfig(rate=1, duration_s=1, pre_allocated_vus=-1, max_vus_limit=0),
        [("pre_allocated_vus",), ("max_vus",)],
        id="constant-rate-no-vus",
    ),
    # ramping-arrival-rate
    pytest.param(
        RampingArrivalRateConfig(stages=STAGES, pre_allocated_vus=0, max_vus_limit=1),
        [],
        id="ramping-rate-ok",
    ),
    pytest.param(
        RampingArrivalRateConfig(
            stages=(), pre_allocated_vus=3, max_vus_limit=2, start_rate=-1, time_unit_s=0
        ),
        [("start_rate",), ("time_unit",), ("stages",), ("max_vus",)],
        id="ramping-rate-everything-wrong",
    ),
    pytest.param(
        RampingArrivalRateConfig(
            stages=(StageConfig(2.5, 1.0),), pre_allocated_vus=1, max_vus_limit=1
        ),
        [],
        id="ramping-rate-fractional-target-is-fine",
    ),
    # burst
    pytest.param(
        BurstConfig(threads=100, burst=3, strategy="interrupt", assistant_id="sleepy"),
        [],
        id="burst-ok",
    ),
    pytest.param(
        BurstConfig(
            threads=0,
            burst=10**6,
            strategy="queue",
            assistant_id="",
            stagger_s=-1,
            max_duration_s=0,
        ),
        [
            ("threads",),
            ("burst",),
            ("strategy",),
            ("assistant",),
            ("stagger",),
            ("max_duration",),
        ],
        id="burst-everything-wrong",
    ),
]


@pytest.mark.parametrize(("config", "keys"), VALIDATE_CASES)
def test_validate(config: ExecutorConfig, keys: list[tuple[str | int, ...]]) -> None:
    problems = config.validate()
    assert _keys(problems) == keys
    assert all(problem.message and problem.expected for problem in problems)


DESCRIBE_CASES = [
    pytest.param(ConstantVusConfig(vus=50, duration_s=60), "50 VUs for 1m0s", 50, 90.0, id="cv"),
    pytest.param(ConstantVusConfig(vus=1, duration_s=0.5), "1 VU for 500ms", 1, 30.5, id="cv-1"),
    pytest.param(
        RampingVusConfig(stages=STAGES, start_vus=2, graceful_stop_s=0),
        "from 2 up to 10 VUs over 40s in 2 stages",
        10,
        40.0,
        id="rv",
    ),
    pytest.param(
        PerVuIterationsConfig(vus=5, iterations=10),
        "10 iterations for each of 5 VUs (max 10m0s)",
        5,
        630.0,
        id="pvi",
    ),
    pytest.param(
        SharedIterationsConfig(vus=10, iterations=100, max_duration_s=60),
        "100 iterations shared by 10 VUs (max 1m0s)",
        10,
        90.0,
        id="si",
    ),
    pytest.param(
        ConstantArrivalRateConfig(rate=20, duration_s=300, pre_allocated_vus=5, max_vus_limit=50),
        "20 iterations/s for 5m0s (VUs: 5-50)",
        50,
        330.0,
        id="car",
    ),
    pytest.param(
        ConstantArrivalRateConfig(
            rate=2.5, duration_s=60, pre_allocated_vus=1, max_vus_limit=1, time_unit_s=60
        ),
        "2.5 iterations/1m0s for 1m0s (VUs: 1-1)",
        1,
        90.0,
        id="car-per-minute",
    ),
    pytest.param(
        RampingArrivalRateConfig(
            stages=(StageConfig(20, 30), StageConfig(80, 60)),
            pre_allocated_vus=80,
            max_vus_limit=100,
        ),
        "from 0 up to 80 iterations/s over 1m30s in 2 stages (VUs: 80-100)",
        100,
        120.0,
        id="rar",
    ),
    pytest.param(
        BurstConfig(threads=100, burst=3, strategy="rollback", assistant_id="sleepy"),
        "100 threads x bursts of 3 runs (rollback) on sleepy",
        100,
        630.0,
        id="burst",
    ),
    pytest.param(
        BurstConfig(
            threads=1,
            burst=1,
            strategy="reject",
            assistant_id="a",
            stagger_s=0.01,
            max_duration_s=1,
        ),
        "1 thread x bursts of 1 run, 10ms apart (reject) on a",
        1,
        31.0,
        id="burst-stagger",
    ),
]


@pytest.mark.parametrize(("config", "text", "vus", "total_s"), DESCRIBE_CASES)
def test_describe_max_vus_and_duration(
    config: ExecutorConfig, text: str, vus: int, total_s: float
) -> None:
    assert config.describe() == text
    assert config.max_vus() == vus
    assert config.total_duration_s() == total_s


def test_registry_has_every_executor_by_toml_name() -> None:
    assert sorted(EXECUTORS) == [
        "burst",
        "constant-arrival-rate",
        "constant-vus",
        "per-vu-iterations",
        "ramping-arrival-rate",
        "ramping-vus",
        "shared-iterations",
    ]
    for name, cls in EXECUTORS.items():
        assert name == cls.TOML_NAME
        words = name.split("-")
        assert cls.__name__ == "".join(word.capitalize() for word in words) + "Config"


def test_registering_a_name_twice_is_a_programming_error() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Impostor(ExecutorConfig):
        TOML_NAME: ClassVar[str] = "constant-vus"

    with pytest.raises(ValueError, match="already registered"):
        register_executor(Impostor)
    assert EXECUTORS["constant-vus"] is ConstantVusConfig

    @dataclass(frozen=True, kw_only=True)
    class Nameless(ExecutorConfig):
        pass

    with pytest.raises(ValueError, match="no TOML_NAME"):
        register_executor(Nameless)


@pytest.mark.parametrize(
    ("cls", "options", "keys"),
    [
        pytest.param(ConstantVusConfig, {}, [("vus",), ("duration",)], id="cv-missing-all"),
        pytest.param(
            ConstantVusConfig,
            {"vus": "5", "duration": "soon"},
            [("vus",), ("duration",)],
            id="cv-wrong-types",
        ),
        pytest.param(
            SharedIterationsConfig,
            {"vus": 10},
            [("iterations",)],
            id="missing-does-not-add-relational-problems",
        ),
        pytest.param(
            BurstConfig,
            {"threads": 1, "burst": 2, "assistant": "a", "input": [1]},
            [("strategy",), ("input",)],
            id="burst",
        ),
        pytest.param(
            RampingVusConfig,
            {"stages": [{"target": 1}, "x", {"target": 1, "duration": "1s", "extra": 1}]},
            [("stages", 0), ("stages", 1), ("stages", 2, "extra")],
            id="stages",
        ),
    ],
)
def test_from_options_reports_every_problem(
    cls: type[ExecutorConfig], options: dict[str, Any], keys: list[tuple[str | int, ...]]
) -> None:
    _, problems = cls.from_options(options)
    assert _keys(problems) == keys


def test_from_options_fills_arrival_rate_defaults() -> None:
    config, problems = RampingArrivalRateConfig.from_options(
        {"stages": [{"target": 20, "duration": "30s"}, {"target": 80.5, "duration": "1m"}]}
    )
    assert problems == []
    assert isinstance(config, RampingArrivalRateConfig)
    assert (config.pre_allocated_vus, config.max_vus_limit) == (81, 81)
    constant, _ = ConstantArrivalRateConfig.from_options(
        {"rate": 30, "time_unit": "1m", "duration": "1m", "pre_allocated_vus": 4}
    )
    assert (constant.pre_allocated_vus, constant.max_vus_limit) == (4, 4)
    constant, _ = ConstantArrivalRateConfig.from_options(
        {"rate": 30, "time_unit": "1m", "duration": "1m"}
    )
    assert constant.pre_allocated_vus == 1


def test_options_give_back_the_toml() -> None:
    config = RampingVusConfig(stages=STAGES, start_vus=0, graceful_ramp_down_s=5)
    assert config.options() == {
        "start_vus": 0,
        "stages": [{"target": 10, "duration": "30s"}, {"target": 0, "duration": "10s"}],
        "graceful_ramp_down": "5s",
    }
    again, problems = RampingVusConfig.from_options(config.options())
    assert problems == [] and again == config
