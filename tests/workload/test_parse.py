"""Good workloads parse to the expected model; load errors and messages are exact."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from lgbench.workload import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    DefaultsConfig,
    EmbeddedConfig,
    OperationStepConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    ScenarioConfig,
    SharedIterationsConfig,
    SleepStepConfig,
    StageConfig,
    TargetConfig,
    ThresholdSpec,
    TimeoutsConfig,
    Workload,
    WorkloadError,
    WorkloadIssue,
    dump_workload,
    load_workload,
    parse_workload,
)
from lgbench.workload._shared import Position

ROOT = Path(__file__).parent.parent.parent
GOOD = ROOT / "tests" / "data" / "workloads" / "good"
SAMPLES = sorted((ROOT / "workloads").glob("*.toml"))

MINIMAL = """\
[[scenario]]
name = "chat"
executor = "constant-vus"
vus = 1
duration = "1s"
steps = [{ op = "threads.create" }]
"""


def test_minimal() -> None:
    path = GOOD / "minimal.toml"
    assert load_workload(path) == Workload(
        name="minimal",
        path=str(path),
        scenarios=(
            ScenarioConfig(
                name="chat",
                executor=ConstantVusConfig(vus=1, duration_s=1.0),
                steps=(OperationStepConfig("threads.create"),),
            ),
        ),
    )


def test_full() -> None:
    path = GOOD / "full.toml"
    workload = load_workload(path)
    tags = {"team": "perf", "env": "ci"}
    think = 0.1

    def step(op: str, **params: object) -> OperationStepConfig:
        save = params.pop("save", None)
        repeat = params.pop("repeat", 1)
        think_time_s = params.pop("think_time_s", think)
        return OperationStepConfig(op, MappingProxyType(params), save, repeat, think_time_s)  # type: ignore[arg-type]

    expected = Workload(
        name="full-example",
        path=str(path),
        target=TargetConfig(
            url="http://127.0.0.1:8123",
            api_key_env="LANGGRAPH_API_KEY",
            headers=MappingProxyType({"x-request-source": "lgbench"}),
            timeouts=TimeoutsConfig(connect_s=5.0, read_s=120.0, total_s=600.0),
            transport="httpx",
            embedded=EmbeddedConfig(),
        ),
        defaults=DefaultsConfig(
            seed=7,
            think_time_s=think,
            graceful_stop_s=15.0,
            assistant="sleepy",
            tags=MappingProxyType(tags),
        ),
        scenarios=(
            ScenarioConfig(
                "arrivals",
                RampingArrivalRateConfig(
                    graceful_stop_s=15.0,
                    stages=(StageConfig(20.5, 30.0), StageConfig(80, 60.0)),
                    pre_allocated_vus=80,
                    max_vus_limit=80,
                    start_rate=1,
                ),
                MappingProxyType(tags),
                (
                    step(
                        "runs.create",
                        assistant_id="sleepy",
                        input={"seconds": 0.05},
                        save="run",
                        after_seconds=0,
                    ),
                    step("runs.join", thread_id="$run.thread_id", run_id="$run"),
                ),
            ),
            ScenarioConfig(
                "closed",
                ConstantVusConfig(graceful_stop_s=15.0, vus=5, duration_s=90.0),
                MappingProxyType({"team": "perf", "env": "local", "kind": "closed"}),
                (
                    step("threads.create", save="thread", metadata={"user": "vu-${vu}"}),
                    step(
                        "runs.wait",
                        thread_id="$thread",
                        assistant_id="sleepy",
                        input={"seconds": "${random.float(0.01,0.05)}"},
                        multitask_strategy="enqueue",
                        if_not_exists="create",
                        on_disconnect="cancel",
                    ),
                    step(
                        "runs.stream",
                        thread_id="$thread.thread_id",
                        assistant_id="streamer",
                        input={"n": 3, "gap_s": 0.01},
                        stream_mode=["values", "messages-tuple"],
                        repeat=2,
                        think_time_s=0.0,
                    ),
                    SleepStepConfig(0.25),
                    SleepStepConfig(1.0),
                    step("threads.get_state", thread_id="${thread.thread_id}", subgraphs=True),
                ),
            ),
            ScenarioConfig(
                "per-vu",
                PerVuIterationsConfig(graceful_stop_s=15.0, vus=2, iterations=10),
                MappingProxyType(tags),
                (
                    step(
                        "store.put_item",
                        namespace=["users", "${vu}"],
                        key="k-${iteration}",
                        value={"v": 1},
                        index=False,
                    ),
                ),
            ),
            ScenarioConfig(
                "shared",
                SharedIterationsConfig(
                    graceful_stop_s=1.0, vus=3, iterations=30, max_duration_s=120.0
                ),
                MappingProxyType(tags),
                (step("crons.search", assistant_id="sleepy", limit=1),),
            ),
            ScenarioConfig(
                "steady",
                ConstantArrivalRateConfig(
                    graceful_stop_s=15.0,
                    rate=30,
                    duration_s=300.0,
                    pre_allocated_vus=2,
                    max_vus_limit=8,
                    time_unit_s=60.0,
                ),
                MappingProxyType(tags),
                (
                    step(
                        "runs.wait",
                        assistant_id="sleepy",
                        input={"seconds": 0.01},
                        raise_error=False,
                    ),
                ),
            ),
            ScenarioConfig(
                "double-texting",
                BurstConfig(
                    start_time_s=10.0,
                    graceful_stop_s=15.0,
                    threads=100,
                    burst=3,
                    strategy="interrupt",
                    assistant_id="sleepy",
                    input=MappingProxyType({"seconds": 0.5}),
                    stagger_s=0.01,
                ),
                MappingProxyType(tags),
                (),
            ),
            ScenarioConfig(
                "ramp",
                RampingVusConfig(
                    start_time_s=10.0,
                    graceful_stop_s=15.0,
                    stages=(StageConfig(10, 30.0), StageConfig(0, 10.0)),
                    start_vus=0,
                    graceful_ramp_down_s=5.0,
                ),
                MappingProxyType(tags),
                (
                    step("assistants.search", graph_id="sleepy", limit=5),
                    step("http.get", path="/ok"),
                ),
            ),
        ),
        thresholds=(
            ThresholdSpec("runs.wait.latency.p99", "< 2s"),
            ThresholdSpec("errors.rate", "< 1%"),
            ThresholdSpec("errors.rate", "< 0.05"),
            ThresholdSpec("anomalies", "== 0"),
        ),
    )
    assert workload == expected
    assert [spec.location for spec in workload.thresholds] == [
        Position(99, 27),
        Position(100, 16),
        Position(100, 24),
        Position(101, 13),
    ]
    assert [s.name for s in workload.scenarios] == [
        "arrivals",
        "closed",
        "per-vu",
        "shared",
        "steady",
        "double-texting",
        "ramp",
    ]
    assert workload.scenario("ramp").start_time_s == 10.0
    assert workload.max_vus() == 80 + 5 + 2 + 3 + 8 + 100 + 10


@pytest.mark.parametrize("path", SAMPLES, ids=[path.name for path in SAMPLES])
def test_sample_workloads_parse(path: Path) -> None:
    workload = load_workload(path)
    assert workload.name == path.stem
    assert workload.scenarios
    for scenario in workload.scenarios:
        assert scenario.executor.validate() == []
        assert scenario.describe()


def test_expected_samples_exist() -> None:
    assert {path.stem for path in SAMPLES} >= {
        "quickstart",
        "chat",
        "double-texting",
        "arrivals",
        "soak",
        "mixed",
    }


def test_mixed_sample_uses_every_operation_family() -> None:
    workload = load_workload(ROOT / "workloads" / "mixed.toml")
    families = {
        step.op.split(".")[0]
        for scenario in workload.scenarios
        for step in scenario.steps
        if isinstance(step, OperationStepConfig)
    }
    assert families == {"assistants", "threads", "runs", "crons", "store", "http"}


def test_double_texting_sample_has_one_burst_per_strategy() -> None:
    workload = load_workload(ROOT / "workloads" / "double-texting.toml")
    strategies = sorted(
        s.executor.strategy for s in workload.scenarios if isinstance(s.executor, BurstConfig)
    )
    assert strategies == ["enqueue", "interrupt", "reject", "rollback"]


def test_defaults_apply() -> None:
    text = """\
[defaults]
think_time = "1s"
graceful_stop = "5s"
assistant = "sleepy"
tags = { team = "perf" }

[[scenario]]
name = "a"
executor = "constant-vus"
vus = 1
duration = "1s"
tags = { kind = "x" }
steps = [
  { op = "runs.wait" },
  { op = "runs.wait", assistant = "streamer", think_time = "0s" },
  { op = "threads.create" },
]

[[scenario]]
name = "b"
executor = "burst"
threads = 1
burst = 2
strategy = "reject"
graceful_stop = "1s"
"""
    workload = parse_workload(text, "defaults.toml")
    a, b = workload.scenarios
    assert a.graceful_stop_s == 5.0 and b.graceful_stop_s == 1.0
    assert dict(a.tags) == {"team": "perf", "kind": "x"}
    assert dict(b.tags) == {"team": "perf"}
    steps = [step for step in a.steps if isinstance(step, OperationStepConfig)]
    assert [step.params.get("assistant_id") for step in steps] == ["sleepy", "streamer", None]
    assert [step.think_time_s for step in steps] == [1.0, 0.0, 1.0]
    assert isinstance(b.executor, BurstConfig) and b.executor.assistant_id == "sleepy"


def test_name_defaults_to_a_safe_file_stem() -> None:
    assert parse_workload(MINIMAL, "dir/my workload.v2.toml").name == "my-workload.v2"
    assert parse_workload(MINIMAL).name == "workload"
    assert parse_workload(MINIMAL, "!!!.toml").name == "workload"


def test_bytes_and_byte_order_mark() -> None:
    assert parse_workload(("\ufeff" + MINIMAL).encode(), "a.toml").name == "a"


def test_trailing_slash_of_url_is_dropped() -> None:
    text = '[target]\nurl = "https://example.invalid/base/"\n' + MINIMAL
    assert parse_workload(text).target.url == "https://example.invalid/base"


def test_error_text_is_exact() -> None:
    text = MINIMAL.replace("vus = 1", "vus = 0").replace('"1s"', '"1x"')
    with pytest.raises(WorkloadError) as caught:
        parse_workload(text, "w.toml")
    assert str(caught.value) == (
        'w.toml:4:7: scenario "chat": vus must be at least 1, not 0'
        " (expected an integer from 1 to 1000000)\n"
        'w.toml:5:12: scenario "chat": duration: invalid duration "1x": cannot read "1x"'
        ' (expected a duration like "250ms", "30s", "1m30s", "2h", "1h2m3.5s"'
        " or a number of seconds)"
    )


def test_issue_without_position_prints_the_path_alone() -> None:
    issue = WorkloadIssue("w.toml", 0, 0, "cannot read the workload file: gone")
    assert str(issue) == "w.toml: cannot read the workload file: gone"
    with pytest.raises(ValueError, match="at least one issue"):
        WorkloadError([])


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(WorkloadError) as caught:
        load_workload(missing)
    assert (
        str(caught.value) == f"{missing}: cannot read the workload file: No such file or directory"
    )


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="cannot read the workload file"):
        load_workload(tmp_path)


def test_issues_are_sorted_and_unique() -> None:
    text = """\
[[scenario]]
name = "b"
executor = "constant-vus"
vus = 0
duration = "1s"
steps = [{ op = "threads.create" }]

[[scenario]]
name = "a"
executor = "nope"
"""
    with pytest.raises(WorkloadError) as caught:
        parse_workload(text, "w.toml")
    positions = [(issue.line, issue.column) for issue in caught.value.issues]
    assert positions == sorted(set(positions))


@pytest.mark.parametrize(
    "value", ['"x-sig"', '["bad header"]', "[1]"], ids=["not-a-list", "bad-name", "not-a-string"]
)
def test_secret_headers_must_be_a_list_of_header_names(value: str) -> None:
    text = f"[target]\nsecret_headers = {value}\n{MINIMAL}"
    with pytest.raises(WorkloadError, match="secret_headers must be a list of header names"):
        parse_workload(text, "secret.toml")


def test_secret_headers_are_read_in_lower_case_and_dumped_back() -> None:
    text = f'[target]\nsecret_headers = ["X-Tenant-Signature"]\n{MINIMAL}'
    workload = parse_workload(text, "secret.toml")
    assert workload.target.secret_headers == ("x-tenant-signature",)
    assert parse_workload(dump_workload(workload), "again.toml").target == workload.target
