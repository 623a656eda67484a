"""``[[fault]]`` tables: what validate_fault_table accepts and every issue it names."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from lgbench.faults import (
    FAULT_KINDS,
    CutFault,
    FaultIssue,
    FaultSpec,
    LatencyFault,
    StallFault,
    ThrottleFault,
    check_schedule,
    validate_fault_table,
)


def test_the_documented_example() -> None:
    table = tomllib.loads(
        """
        [[fault]]
        name = "slow network"
        kind = "latency"
        at = "30s"
        for = "20s"
        latency = "200ms"
        jitter = "50ms"
        """
    )["fault"][0]
    spec, issues = validate_fault_table(table)
    assert issues == []
    assert spec == FaultSpec(
        name="slow network", kind="latency", at_s=30.0, for_s=20.0, latency_s=0.2, jitter_s=0.05
    )
    assert spec.end_s == 50.0
    assert spec.proxy_fault() == LatencyFault(latency_s=0.2, jitter_s=0.05)
    assert spec.describe() == '"slow network": latency 200ms ± 50ms at 30s for 20s'


VALID = [
    # A bare fault gets a name from its kind and start, and lasts until the end.
    pytest.param(
        {"kind": "stall", "at": 5},
        FaultSpec(name="stall at 5s", kind="stall", at_s=5.0),
        id="defaults",
    ),
    pytest.param(
        {"kind": "throttle", "at": "1m", "bytes_per_s": 5_000, "direction": "to-client"},
        FaultSpec(
            name="throttle at 1m0s",
            kind="throttle",
            at_s=60.0,
            bytes_per_s=5_000,
            direction="to-client",
        ),
        id="throttle",
    ),
    pytest.param(
        {"name": "c", "kind": "cut", "at": "0s", "for": "10s", "after_bytes": 300},
        FaultSpec(name="c", kind="cut", at_s=0.0, for_s=10.0, after_bytes=300),
        id="cut",
    ),
    pytest.param(
        {"name": "k", "kind": "kill", "at": "2s", "for": "500ms"},
        FaultSpec(name="k", kind="kill", at_s=2.0, for_s=0.5),
        id="kill-then-restart",
    ),
    pytest.param(
        {"name": "r", "kind": "restart", "at": "2s"},
        FaultSpec(name="r", kind="restart", at_s=2.0),
        id="restart",
    ),
    pytest.param(
        {"name": "p", "kind": "pause", "at": 1.5, "for": 2},
        FaultSpec(name="p", kind="pause", at_s=1.5, for_s=2.0),
        id="pause",
    ),
    pytest.param(
        {"name": "l", "kind": "latency", "at": "0s", "latency": 0},
        FaultSpec(name="l", kind="latency", at_s=0.0),
        id="zero-latency",
    ),
]


@pytest.mark.parametrize(("table", "expected"), VALID)
def test_valid_tables(table: dict[str, Any], expected: FaultSpec) -> None:
    assert validate_fault_table(table) == (expected, [])


INVALID = [
    # (table, issues as (key, start of message, start of expected, at_key))
    pytest.param(
        {},
        [
            ((), 'missing key "kind"', 'one of "latency"', False),
            ((), 'missing key "at"', 'at = "30s"', False),
        ],
        id="empty",
    ),
    pytest.param(
        {"kind": "flood", "at": "1s"},
        [(("kind",), 'unknown fault kind "flood"', 'one of "latency"', False)],
        id="unknown-kind",
    ),
    pytest.param(
        {"kind": 3, "at": "1s"},
        [(("kind",), "unknown fault kind an integer", "one of", False)],
        id="kind-not-a-string",
    ),
    pytest.param(
        {"kind": "stall", "at": "1s", "latency": "1s", "colour": "red"},
        [
            (
                ("latency",),
                '"latency" does not apply to a stall fault (only to latency)',
                "one of",
                True,
            ),
            (("colour",), 'unknown key "colour" in a fault', 'one of "name"', True),
        ],
        id="misplaced-and-unknown-keys",
    ),
    pytest.param(
        {"kind": "latency", "at": "soon", "for": "0s"},
        [
            (("at",), 'at: invalid duration "soon"', "a duration like", False),
            (("for",), "for must be more than 0s", "a duration like", False),
            ((), 'missing key "latency" for a latency fault', 'latency = "200ms"', False),
        ],
        id="bad-durations-and-missing-latency",
    ),
    pytest.param(
        {"kind": "latency", "at": "1s", "latency": "-5ms", "jitter": True},
        [
            (("latency",), 'latency: invalid duration "-5ms"', "a duration like", False),
            (("jitter",), "jitter must be a duration, not a boolean", "a duration like", False),
        ],
        id="bad-latency-values",
    ),
    pytest.param(
        {"kind": "throttle", "at": "1s", "bytes_per_s": 0, "direction": "up"},
        [
            (("bytes_per_s",), "bytes_per_s must be more than 0", "a number of bytes", False),
            (("direction",), 'unknown direction "up"', 'one of "both"', False),
        ],
        id="bad-throttle",
    ),
    pytest.param(
        {"kind": "throttle", "at": "1s", "bytes_per_s": "fast"},
        [(("bytes_per_s",), "bytes_per_s must be a number, not a string", "a number", False)],
        id="rate-not-a-number",
    ),
    pytest.param(
        {"kind": "cut", "at": "1s", "after_bytes": -1},
        [(("after_bytes",), "after_bytes must be at least 0", "an integer >= 0", False)],
        id="negative-after-bytes",
    ),
    pytest.param(
        {"kind": "cut", "at": "1s", "after_bytes": 1.5},
        [(("after_bytes",), "after_bytes must be an integer, not a float", "an integer", False)],
        id="fractional-after-bytes",
    ),
    pytest.param(
        {"kind": "restart", "at": "1s", "for": "5s"},
        [(("for",), "a restart has no duration", 'no "for"', True)],
        id="restart-with-duration",
    ),
    pytest.param(
        {"name": "", "kind": "reset", "at": "1s"},
        [
            (
                ("name",),
                "a fault's name must be a non-empty string, not an empty string",
                "a name",
                False,
            )
        ],
        id="empty-name",
    ),
    pytest.param(
        {"name": ["x"], "kind": "reset"},
        [
            (("name",), "a fault's name must be a non-empty string, not an array", "a name", False),
            ((), 'missing key "at"', "at =", False),
        ],
        id="name-not-a-string",
    ),
]


@pytest.mark.parametrize(("table", "expected"), INVALID)
def test_invalid_tables_name_every_issue(
    table: dict[str, Any], expected: list[tuple[tuple[str, ...], str, str, bool]]
) -> None:
    spec, issues = validate_fault_table(table)
    assert spec is None
    assert len(issues) == len(expected), issues
    for issue, (key, message, wanted, at_key) in zip(issues, expected, strict=True):
        assert isinstance(issue, FaultIssue)
        assert issue.key == key
        assert issue.message.startswith(message), issue.message
        assert issue.expected.startswith(wanted), issue.expected
        assert issue.at_key is at_key


def test_a_table_that_is_not_a_table() -> None:
    spec, issues = validate_fault_table(["kind", "stall"])  # type: ignore[arg-type]
    assert spec is None
    assert issues == [FaultIssue((), "a fault must be a table, not an array", "a table")]


def test_every_kind_is_accepted_with_its_required_keys() -> None:
    required: dict[str, dict[str, Any]] = {
        "latency": {"latency": "10ms"},
        "throttle": {"bytes_per_s": 1},
    }
    for kind in FAULT_KINDS:
        spec, issues = validate_fault_table({"kind": kind, "at": "1s", **required.get(kind, {})})
        assert issues == [] and spec is not None and spec.kind == kind


def test_proxy_faults_of_each_spec() -> None:
    assert FaultSpec("s", "stall", 0.0).proxy_fault() == StallFault()
    assert FaultSpec("t", "throttle", 0.0, bytes_per_s=9).proxy_fault() == ThrottleFault(9)
    assert FaultSpec("c", "cut", 0.0, after_bytes=7).proxy_fault() == CutFault(7)
    assert FaultSpec("k", "kill", 0.0).proxy_fault() is None


def spec(name: str, kind: Any, at_s: float, for_s: float | None = None) -> FaultSpec:
    return FaultSpec(name=name, kind=kind, at_s=at_s, for_s=for_s, latency_s=0.1, bytes_per_s=1)


CHECKS = [
    pytest.param([spec("a", "latency", 0, 1), spec("b", "kill", 0, 1)], True, True, [], id="ok"),
    pytest.param(
        [spec("a", "latency", 0), spec("b", "cut", 1), spec("c", "pause", 2, 1)],
        False,
        False,
        [
            'fault "a" (latency) needs the fault proxy',
            'fault "b" (cut) needs the fault proxy',
            'fault "c" (pause) acts on the embedded server',
        ],
        id="nothing-available",
    ),
    pytest.param(
        [spec("x", "stall", 0, 1), spec("x", "reset", 5, 1)],
        True,
        True,
        ['two faults are named "x"'],
        id="duplicate-names",
    ),
    pytest.param(
        [spec("k", "kill", 0, 10), spec("p", "pause", 5, 1), spec("r", "restart", 20)],
        True,
        True,
        ['faults "k" (kill) and "p" (pause) overlap'],
        id="server-faults-overlap",
    ),
    pytest.param(
        [spec("k", "kill", 0), spec("r", "restart", 20)],
        True,
        True,
        ['faults "k" (kill) and "r" (restart) overlap'],
        id="kill-until-the-end-overlaps-everything-after",
    ),
    pytest.param(
        [spec("r", "restart", 5), spec("p", "pause", 5, 1)],
        True,
        True,
        ['faults "p" (pause) and "r" (restart) overlap'],
        id="same-instant",
    ),
    pytest.param(
        [spec("p", "pause", 0, 5), spec("r", "restart", 5), spec("q", "pause", 6, 1)],
        True,
        True,
        [],
        id="back-to-back",
    ),
    pytest.param(
        [spec("s1", "stall", 0, 10), spec("s2", "stall", 5, 10), spec("l", "latency", 0)],
        True,
        False,
        [],
        id="proxy-faults-may-overlap",
    ),
]


@pytest.mark.parametrize(("schedule", "has_proxy", "has_server", "expected"), CHECKS)
def test_check_schedule(
    schedule: list[FaultSpec], has_proxy: bool, has_server: bool, expected: list[str]
) -> None:
    problems = check_schedule(schedule, has_proxy=has_proxy, has_server=has_server)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem


@pytest.mark.parametrize(
    ("fault", "text"),
    [
        (
            FaultSpec("t", "throttle", 1.0, bytes_per_s=5000, direction="to-server"),
            '"t": throttle 5000 bytes/s to-server at 1s until the end',
        ),
        (FaultSpec("c", "cut", 0.0, 2.0, after_bytes=10), '"c": cut after 10 bytes at 0s for 2s'),
        (FaultSpec("r", "restart", 90.0), '"r": restart at 1m30s'),
        (FaultSpec("k", "kill", 5.0, 0.5), '"k": kill at 5s for 500ms'),
    ],
)
def test_describe(fault: FaultSpec, text: str) -> None:
    assert fault.describe() == text
