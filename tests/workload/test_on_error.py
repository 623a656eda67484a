"""``on_error``: a scenario's and a step's, read, checked (file:line:col) and dumped."""

from __future__ import annotations

import pytest

from lgbench.workload import (
    OperationStepConfig,
    WorkloadError,
    dump_workload,
    parse_workload,
)

WORKLOAD = """\
[[scenario]]
name = "chat"
executor = "constant-vus"
vus = 1
duration = "1s"
SCENARIO
steps = [
  { op = "threads.create", save = "thread" },
  { op = "threads.get", thread = "$thread"STEP },
]
"""


def _text(scenario: str = "", step: str = "") -> str:
    return WORKLOAD.replace("SCENARIO\n", scenario + "\n" if scenario else "").replace("STEP", step)


@pytest.mark.parametrize(
    ("scenario", "step", "scenario_value", "step_value"),
    [
        pytest.param("", "", "stop", None, id="defaults"),
        pytest.param('on_error = "continue"', "", "continue", None, id="scenario"),
        pytest.param("", ', on_error = "continue"', "stop", "continue", id="step"),
        pytest.param('on_error = "continue"', ', on_error = "stop"', "continue", "stop", id="both"),
    ],
)
def test_on_error_is_read_from_the_scenario_and_the_step(
    scenario: str, step: str, scenario_value: str, step_value: str | None
) -> None:
    workload = parse_workload(_text(scenario, step), "w.toml")
    (read,) = workload.scenarios
    assert read.on_error == scenario_value
    first, second = read.steps
    assert isinstance(first, OperationStepConfig) and isinstance(second, OperationStepConfig)
    assert (first.on_error, second.on_error) == (None, step_value)
    # What is dumped reads back the same.
    assert parse_workload(dump_workload(workload), "w.toml").scenarios == workload.scenarios


@pytest.mark.parametrize(
    ("scenario", "step", "message"),
    [
        pytest.param(
            'on_error = "contine"',
            "",
            'w.toml:6:12: unknown on_error "contine" (did you mean "continue"?)'
            ' (expected one of "continue", "stop")',
            id="scenario-typo",
        ),
        pytest.param(
            "",
            ", on_error = true",
            "w.toml:8:56: on_error must be a string, not a boolean"
            ' (expected one of "continue", "stop")',
            id="step-type",
        ),
        pytest.param(
            "",
            ', on_error = "ignore"',
            'w.toml:8:56: unknown on_error "ignore" (expected one of "continue", "stop")',
            id="step-value",
        ),
    ],
)
def test_a_bad_on_error_is_named_with_its_place(scenario: str, step: str, message: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        parse_workload(_text(scenario, step), "w.toml")
    assert str(caught.value) == message


def test_a_burst_scenario_takes_no_on_error() -> None:
    text = """\
[[scenario]]
name = "burst"
executor = "burst"
threads = 1
burst = 2
strategy = "enqueue"
assistant = "sleepy"
on_error = "continue"
"""
    with pytest.raises(WorkloadError) as caught:
        parse_workload(text, "w.toml")
    assert str(caught.value) == (
        "w.toml:8:1: a burst scenario has no steps, so on_error has nothing to apply to"
        " (expected no on_error in a burst scenario)"
    )
