"""The catalogue of bad workload files: every issue, at its line and column, all at once.

Each file in ``tests/data/workloads/bad/`` shows one kind of mistake (sometimes a few
of a kind); the table lists every issue the file must produce, as (line, column,
a fragment of the message). A file must produce exactly these issues, no more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lgbench.errors import UsageError
from lgbench.exitcodes import ExitCode
from lgbench.workload import WorkloadError, load_workload

BAD = Path(__file__).parent.parent / "data" / "workloads" / "bad"

CASES = [
    pytest.param(
        "alias-and-long-name",
        [
            (8, 43, "thread_id and thread are the same parameter"),
            (8, 88, "assistant_id and assistant are the same parameter"),
        ],
        id="alias-and-long-name",
    ),
    pytest.param(
        "api-key-env-holds-key",
        [
            (
                3,
                15,
                "api_key_env is not the name of an environment variable",
            ),
        ],
        id="api-key-env-holds-key",
    ),
    pytest.param(
        "bad-durations",
        [
            (2, 14, 'think_time: invalid duration "-1s"'),
            (3, 17, 'graceful_stop: invalid duration ""'),
            (9, 12, 'scenario "chat": duration: invalid duration "10x"'),
            (10, 14, "start_time must be a duration"),
            (11, 67, 'sleep: invalid duration "1 s"'),
        ],
        id="bad-durations",
    ),
    pytest.param(
        "bad-enum-values",
        [
            (7, 57, 'threads.create parameter if_exists: unknown value "ignore"'),
            (8, 94, 'runs.stream parameter stream_mode: unknown value "upd"'),
            (9, 86, 'runs.wait parameter multitask_strategy: unknown value "interupt"'),
            (10, 21, 'runs.wait parameter on_disconnect: unknown value "stop"'),
            (10, 45, 'runs.wait parameter if_not_exists: unknown value "make"'),
            (10, 69, 'runs.wait parameter on_completion: unknown value "drop"'),
            (12, 68, 'runs.cancel parameter action: unknown value "delete"'),
            (13, 37, 'threads.search parameter status: unknown value "running"'),
            (14, 57, 'http.stream parameter method: unknown value "FETCH"'),
        ],
        id="bad-enum-values",
    ),
    pytest.param(
        "bad-saves",
        [
            (7, 35, "vu is a built-in name and cannot be saved to"),
            (8, 35, 'save "my-thread" is not a variable name'),
            (9, 54, "repeat must be at least 1"),
            (10, 48, "threads.delete returns nothing, so there is nothing to save"),
        ],
        id="bad-saves",
    ),
    pytest.param(
        "bad-scenario-names",
        [
            (2, 8, 'scenario name "Chat Scenario" is not kebab-case or snake_case'),
            (8, 1, "the scenario has no name"),
        ],
        id="bad-scenario-names",
    ),
    pytest.param(
        "bad-templates",
        [
            (7, 65, 'random.float bounds are reversed in "${random.float(0.5,0.1)}" (0.5 > 0.1)'),
            (8, 59, 'unknown function random.pick in "${random.pick(1,2)}"'),
            (9, 48, 'unclosed ${ in "${vu"'),
            (10, 48, 'vu has no fields in "${vu.name}"'),
            (10, 66, 'random needs a function in "$random"'),
        ],
        id="bad-templates",
    ),
    pytest.param(
        "bad-thresholds",
        [
            (9, 27, 'threshold "runs.wait.latency.p99" must be a string'),
            (10, 24, 'threshold "errors.rate" must be a string'),
            (11, 15, 'threshold "anomalies" is empty'),
        ],
        id="bad-thresholds",
    ),
    pytest.param(
        "bad-threshold-expressions",
        [
            (9, 1, 'unknown operation "runs.wiat" (did you mean "runs.wait"?)'),
            (10, 1, 'unknown statistic "p98" (did you mean "p99"?)'),
            (11, 29, 'runs.stream.latency.p99 is a duration, and "1%" is not one'),
            (12, 26, 'a bare ratio is a fraction from 0 to 1 (write "5%" for percent)'),
            (13, 1, 'no scenario is called "caht" (did you mean "chat"?)'),
            (14, 15, "anomalies cannot be windowed"),
            (15, 75, "the window is given twice"),
            (16, 62, "dropped_iterations cannot abort the run"),
            (17, 55, 'window: invalid duration "1x"'),
            (17, 61, 'unknown key "abort" in threshold "runs.stream.rate"'),
            (18, 23, 'threshold "runs.stream.count" has no condition'),
        ],
        id="bad-threshold-expressions",
    ),
    pytest.param(
        "bad-timeouts",
        [
            (2, 11, "timeouts.connect must be more than 0s"),
            (3, 8, 'timeouts.read: invalid duration "10x"'),
            (4, 1, 'unknown key "totl" in [target.timeouts]'),
        ],
        id="bad-timeouts",
    ),
    pytest.param(
        "bad-url",
        [
            (2, 7, 'url "localhost:8123" is not a usable target'),
        ],
        id="bad-url",
    ),
    pytest.param(
        "burst-bad-values",
        [
            (1, 1, 'scenario "double-texting": executor burst needs assistant'),
            (4, 11, 'scenario "double-texting": threads must be at least 1'),
            (6, 12, 'scenario "double-texting": unknown strategy "queue"'),
            (7, 21, "undefined variable $seconds"),
            (
                8,
                1,
                "a burst scenario takes no steps: it creates threads and starts the runs itself",
            ),
        ],
        id="burst-bad-values",
    ),
    pytest.param(
        "burst-input-not-json",
        [
            (8, 21, "inf cannot be sent as JSON"),
            (8, 31, "dates and times cannot be sent as JSON"),
            (8, 54, "nan cannot be sent as JSON"),
        ],
        id="burst-input-not-json",
    ),
    pytest.param(
        "burst-without-strategy",
        [
            (1, 1, 'scenario "double-texting": executor burst needs strategy'),
        ],
        id="burst-without-strategy",
    ),
    pytest.param(
        "duplicate-scenario-names",
        [
            (9, 8, 'duplicate scenario name "chat"'),
        ],
        id="duplicate-scenario-names",
    ),
    pytest.param(
        "embedded-options-remote-url",
        [
            (3, 13, 'unknown transport "curl"'),
            (5, 1, "[target.embedded] applies only to the embedded server"),
            (6, 8, "port 70000 is above 65535"),
            (7, 21, "n_jobs_per_worker must be at least 1"),
        ],
        id="embedded-options-remote-url",
    ),
    pytest.param(
        "header-x-api-key",
        [
            (3, 13, "the X-Api-Key header would put the API key in the file"),
        ],
        id="header-x-api-key",
    ),
    pytest.param(
        "literal-api-key",
        [
            (3, 1, "a literal api_key is not allowed in a workload file"),
        ],
        id="literal-api-key",
    ),
    pytest.param(
        "many-issues",
        [
            (1, 8, 'workload name "many issues" cannot name a report folder'),
            (5, 13, 'unknown transport "fastest"'),
            (8, 8, "seed must be an integer"),
            (10, 1, 'unknown key "tag" in [defaults]'),
            (15, 7, 'scenario "chat": vus must be at least 1'),
            (19, 59, 'runs.stream parameter stream_mode: unknown value "value"'),
            (26, 11, 'scenario "arrivals": max_vus (2) is less than pre_allocated_vus (10)'),
            (28, 67, "undefined variable $thread"),
        ],
        id="many-issues",
    ),
    pytest.param(
        "max-vus-below-preallocated",
        [
            (7, 11, 'scenario "arrivals": max_vus (5) is less than pre_allocated_vus (20)'),
        ],
        id="max-vus-below-preallocated",
    ),
    pytest.param(
        "missing-executor",
        [
            (1, 1, 'scenario "chat" has no executor'),
        ],
        id="missing-executor",
    ),
    pytest.param(
        "missing-required-params",
        [
            (7, 3, "runs.wait needs assistant"),
            (8, 3, "threads.get needs thread"),
            (9, 3, "store.put_item needs namespace"),
            (9, 3, "store.put_item needs value"),
            (10, 3, "crons.create needs schedule"),
            (11, 3, "http.put needs json"),
        ],
        id="missing-required-params",
    ),
    pytest.param(
        "no-scenario",
        [
            (1, 1, "the workload has no [[scenario]]"),
        ],
        id="no-scenario",
    ),
    pytest.param(
        "not-utf8",
        [
            (2, 6, "the file is not valid UTF-8 (byte 0xe9)"),
        ],
        id="not-utf8",
    ),
    pytest.param(
        "option-of-other-executor",
        [
            (6, 1, "stages is not an option of executor constant-vus"),
            (7, 1, "rate is not an option of executor constant-vus"),
        ],
        id="option-of-other-executor",
    ),
    pytest.param(
        "param-wrong-types",
        [
            (7, 36, "threads.search parameter limit must be an integer"),
            (7, 51, "threads.search parameter offset must be at least 0"),
            (8, 53, "runs.wait parameter input must be a table"),
            (8, 80, "runs.wait parameter raise_error must be true or false"),
            (9, 40, "store.put_item parameter namespace must be an array of strings"),
            (9, 77, "dates and times cannot be sent as JSON"),
            (10, 29, 'http.get parameter path "ok" does not start with /'),
            (
                11,
                66,
                'runs.stream parameter interrupt_before must be "*" or an array of node names',
            ),
            (11, 90, "nan cannot be sent as JSON"),
        ],
        id="param-wrong-types",
    ),
    pytest.param(
        "ramping-stages-bad",
        [
            (6, 3, 'scenario "ramp": stage 2 is missing duration'),
            (7, 17, 'scenario "ramp": unknown key "duraton" in a stage'),
            (8, 14, 'scenario "ramp": target must be an integer'),
            (15, 10, 'scenario "arrivals": stages is empty'),
        ],
        id="ramping-stages-bad",
    ),
    pytest.param(
        "scenario-not-array",
        [
            (1, 1, "scenario must be an array of tables: write [[scenario]]"),
        ],
        id="scenario-not-array",
    ),
    pytest.param(
        "shared-iterations-fewer-than-vus",
        [
            (5, 14, 'scenario "shared": iterations (5) is less than vus (10)'),
        ],
        id="shared-iterations-fewer-than-vus",
    ),
    pytest.param(
        "steps-as-array-of-tables",
        [
            (11, 1, "runs.wait needs assistant"),
            (14, 1, 'runs.wait has no parameter "asistant"'),
            (24, 10, "undefined variable $thread"),
        ],
        id="steps-as-array-of-tables",
    ),
    pytest.param(
        "syntax-duplicate-key",
        [
            (5, 8, "Cannot overwrite a value"),
        ],
        id="syntax-duplicate-key",
    ),
    pytest.param(
        "syntax-unclosed-array",
        [
            (8, 3, "Unclosed array"),
        ],
        id="syntax-unclosed-array",
    ),
    pytest.param(
        "tricky-syntax-positions",
        [
            (13, 30, 'runs.wait has no parameter "webhok"'),
            (14, 73, "undefined variable $nope"),
        ],
        id="tricky-syntax-positions",
    ),
    pytest.param(
        "undefined-variables",
        [
            (7, 32, "undefined variable $thread"),
            (9, 32, "undefined variable $thred"),
            (10, 54, "undefined variable $guest"),
            (11, 48, "undefined variable $run"),
            (19, 41, "undefined variable $thread"),
        ],
        id="undefined-variables",
    ),
    pytest.param(
        "unknown-executor",
        [
            (3, 12, 'unknown executor "constant-vu"'),
        ],
        id="unknown-executor",
    ),
    pytest.param(
        "unknown-operation",
        [
            (7, 10, 'unknown operation "runs.wiat"'),
            (8, 10, 'unknown operation "thread.create"'),
            (9, 10, "op must be a string"),
            (10, 3, "a step needs op (or sleep)"),
        ],
        id="unknown-operation",
    ),
    pytest.param(
        "unknown-parameter",
        [
            (7, 45, 'runs.wait has no parameter "stream_mode"'),
            (7, 69, 'runs.wait has no parameter "inputs"'),
            (8, 19, 'unknown key "repeat" in a sleep step'),
        ],
        id="unknown-parameter",
    ),
    pytest.param(
        "unknown-top-level-key",
        [
            (1, 1, "the workload has no [[scenario]]"),
            (3, 1, 'unknown key "scenarios" in the workload'),
        ],
        id="unknown-top-level-key",
    ),
    pytest.param(
        "url-with-credentials",
        [
            (1, 14, "url must not carry credentials"),
        ],
        id="url-with-credentials",
    ),
    pytest.param(
        "vus-missing",
        [
            (1, 1, 'scenario "chat": executor constant-vus needs vus'),
            (7, 1, 'scenario "iterations": executor per-vu-iterations needs vus'),
        ],
        id="vus-missing",
    ),
    pytest.param(
        "vus-wrong-type",
        [
            (4, 7, 'scenario "chat": vus must be an integer'),
        ],
        id="vus-wrong-type",
    ),
    pytest.param(
        "vus-zero",
        [
            (4, 7, 'scenario "chat": vus must be at least 1'),
            (5, 12, 'scenario "chat": duration must be more than 0s'),
        ],
        id="vus-zero",
    ),
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_bad_workload(name: str, expected: list[tuple[int, int, str]]) -> None:
    path = BAD / f"{name}.toml"
    with pytest.raises(WorkloadError) as caught:
        load_workload(path)
    issues = caught.value.issues
    found = [(issue.line, issue.column) for issue in issues]
    assert found == [(line, column) for line, column, _ in expected], str(caught.value)
    for issue, (_, _, fragment) in zip(issues, expected, strict=True):
        assert fragment in issue.message
        assert issue.path == str(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(expected)
    for line, issue in zip(lines, issues, strict=True):
        assert line.startswith(f"{path}:{issue.line}:{issue.column}: {issue.message}")


def test_every_bad_file_is_in_the_table() -> None:
    assert sorted(path.stem for path in BAD.glob("*.toml")) == sorted(
        str(case.values[0]) for case in CASES
    )


def test_catalogue_covers_at_least_25_cases() -> None:
    assert len(CASES) >= 25


def test_workload_error_is_a_usage_error_with_exit_code_2() -> None:
    with pytest.raises(UsageError) as caught:
        load_workload(BAD / "vus-zero.toml")
    assert caught.value.exit_code is ExitCode.USAGE
    assert int(ExitCode.USAGE) == 2
