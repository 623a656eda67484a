"""[thresholds] in a workload file: the string, array and table forms, windows, positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgbench.workload import (
    ThresholdSpec,
    WorkloadError,
    dump_workload,
    load_workload,
    parse_workload,
)

ROOT = Path(__file__).parent.parent.parent

HEAD = """
[[scenario]]
name = "chat"
executor = "constant-vus"
vus = 1
duration = "1s"
tags = { tier = "gold" }
steps = [{ op = "runs.stream", assistant = "streamer" }]

[thresholds]
"""


def thresholds(body: str) -> tuple[ThresholdSpec, ...]:
    return parse_workload(HEAD + body, "w.toml").thresholds


def issues(body: str) -> list[tuple[int, int, str]]:
    with pytest.raises(WorkloadError) as caught:
        parse_workload(HEAD + body, "w.toml")
    first = HEAD.count("\n")
    return [(i.line - first, i.column, i.message) for i in caught.value.issues]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            '"runs.stream.latency.p99" = "<2s"\n',
            [ThresholdSpec("runs.stream.latency.p99", "< 2s")],
            id="canonical-condition",
        ),
        pytest.param(
            'runs.stream.ttfe.p95 = "< 1s in every 1m"\n',
            [ThresholdSpec("runs.stream.ttfe.p95", "< 1s", window_s=60.0)],
            id="bare-dotted-key-with-window",
        ),
        pytest.param(
            '"errors.rate" = ["< 1%", { condition = "< 5%", window = "30s" }]\n',
            [
                ThresholdSpec("errors.rate", "< 1%"),
                ThresholdSpec("errors.rate", "< 5%", window_s=30.0),
            ],
            id="array-of-string-and-table",
        ),
        pytest.param(
            '"runs.stream.latency.p99" = { condition = "< 1.5s", window = "1m",'
            ' abort_on_fail = true, abort_delay = "30s" }\n',
            [
                ThresholdSpec(
                    "runs.stream.latency.p99",
                    "< 1.5s",
                    window_s=60.0,
                    abort_on_fail=True,
                    abort_delay_s=30.0,
                )
            ],
            id="table-form",
        ),
        pytest.param(
            "[thresholds.runs.stream.latency]\n"
            "p99 = { condition = '< 2s', abort_on_fail = true }\n",
            [ThresholdSpec("runs.stream.latency.p99", "< 2s", abort_on_fail=True)],
            id="nested-tables-end-at-a-threshold-table",
        ),
        pytest.param(
            '"runs.stream{tier=gold}.errors.rate" = "< 1%"\n'
            '"errors.count{scenario=chat}" = "== 0"\n',
            [
                ThresholdSpec("runs.stream{tier=gold}.errors.rate", "< 1%"),
                ThresholdSpec("errors.count{scenario=chat}", "== 0"),
            ],
            id="selectors-from-the-file",
        ),
    ],
)
def test_valid_forms(body: str, expected: list[ThresholdSpec]) -> None:
    assert list(thresholds(body)) == expected


def test_positions_point_at_the_condition() -> None:
    found = thresholds(
        '"runs.stream.latency.p99" = "< 2s"\n'
        '"errors.rate" = ["< 1%", { condition = "< 5%", window = "30s" }]\n'
    )
    first = HEAD.count("\n")
    assert [(s.location.line - first, s.location.column) for s in found] == [
        (1, 29),
        (2, 18),
        (2, 40),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            '"runs.stream.latency.p99" = { condition = "< 2s", abort_delay = "10s" }\n',
            [(1, 65, "abort_delay needs abort_on_fail = true")],
            id="delay-without-abort",
        ),
        pytest.param(
            '"runs.stream.latency.p99" = { condition = "< 2s", abort_on_fail = "yes" }\n',
            [(1, 67, "abort_on_fail must be a boolean, not a string")],
            id="abort-not-boolean",
        ),
        pytest.param(
            '"runs.stream.latency.p99" = { condition = 2 }\n',
            [(1, 43, 'threshold "runs.stream.latency.p99" must be a string or a table')],
            id="condition-not-string",
        ),
        pytest.param(
            # A window shorter than an interval is refused where it is written.
            '"runs.stream.tokens_per_s.p10" = { condition = "> 20/s", window = "500ms" }\n',
            [(1, 67, 'window "500ms" is shorter than 1s')],
            id="reply-rate-window-too-short",
        ),
        pytest.param(
            '"runs.stream{tier=silver}.latency.p99" = "< 2s"\n',
            [(1, 1, "no scenario is tagged tier=silver")],
            id="unknown-tag",
        ),
        pytest.param(
            # One key, two conditions: the key's problem once, each condition's own.
            '"runs.wiat.latency.p99" = ["< 2s", "2s"]\n',
            [
                (1, 1, 'unknown operation "runs.wiat"'),
                (1, 36, 'condition "2s" does not start with an operator'),
            ],
            id="key-once-conditions-each",
        ),
    ],
)
def test_invalid_forms(body: str, expected: list[tuple[int, int, str]]) -> None:
    found = issues(body)
    assert len(found) == len(expected), found
    for (line, column, fragment), (got_line, got_column, message) in zip(
        expected, found, strict=True
    ):
        assert (got_line, got_column) == (line, column), message
        assert fragment in message


@pytest.mark.parametrize(
    "name", ["quickstart", "chat", "arrivals", "double-texting", "mixed", "soak"]
)
def test_sample_workloads_thresholds_are_valid(name: str) -> None:
    workload = load_workload(ROOT / "workloads" / f"{name}.toml")
    assert workload.thresholds
    again = parse_workload(dump_workload(workload), "again.toml")
    assert again.thresholds == workload.thresholds
