"""junit.xml: valid against tests/data/junit.xsd, and what a CI server shows from it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from lgbench.check import check_history
from lgbench.gate import JUNIT_SUITES, compare_summaries, write_junit
from tests.gate._summaries import latency, operation, summary

ROOT = Path(__file__).parent.parent.parent
SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "data" / "junit.xsd")
HISTORIES = ROOT / "tests" / "data" / "histories"


def check_of(name: str) -> dict[str, Any]:
    """check.json's content for one of the checker's test histories."""
    return check_history(HISTORIES / f"{name}.jsonl", profile="observed").to_dict()


def threshold(
    name: str = "runs.wait.latency.p99",
    condition: str = "< 2s",
    *,
    value: float | None = 123.4,
    limit: float = 2000.0,
    unit: str = "ms",
    status: str = "passed",
    reason: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": name,
        "condition": condition,
        "source": "workloads/x.toml:61:27",
        "window_s": None,
        "abort_on_fail": False,
        "operator": condition.split()[0],
        "limit": limit,
        "unit": unit,
        "value": value,
        "status": status,
        "passed": status == "passed",
        "reason": reason or f"{name} was {value} {unit}, {status}",
        "windows": None,
        "aborted_run": False,
    }
    result.update(more)
    return result


def with_thresholds(*results: dict[str, Any]) -> dict[str, Any]:
    return summary(
        {"runs.wait": operation(100.0)},
        thresholds={"passed": all(r["passed"] for r in results), "results": list(results)},
    )


def written(
    tmp_path: Path,
    run: dict[str, Any],
    check: dict[str, Any] | None = None,
    comparison: dict[str, Any] | None = None,
) -> ET.Element:
    """Write, validate against the schema, check the counts a CI server trusts; the root."""
    path = write_junit(tmp_path / "out" / "junit.xml", run, check, comparison)
    assert path == tmp_path / "out" / "junit.xml"
    SCHEMA.validate(path)
    assert [p.name for p in path.parent.iterdir()] == ["junit.xml"]  # no temporary left
    root = ET.parse(path).getroot()
    total_tests = total_failures = 0
    for node in root.iter("testsuite"):
        cases = node.findall("testcase")
        failures = [f for case in cases for f in case.findall("failure")]
        assert int(node.get("tests", "-1")) == len(cases)
        assert int(node.get("failures", "-1")) == len(failures)
        assert node.get("errors") == node.get("skipped") == "0"
        assert all(case.get("classname") == node.get("name") for case in cases)
        # A CI server shows the failure's message attribute as the reason.
        assert all(f.get("message") for f in failures)
        total_tests += len(cases)
        total_failures += len(failures)
    assert int(root.get("tests", "-1")) == total_tests
    assert int(root.get("failures", "-1")) == total_failures
    return root


def cases_of(root: ET.Element, suite: str) -> dict[str, ET.Element]:
    (node,) = [s for s in root.iter("testsuite") if s.get("name") == suite]
    return {case.get("name", ""): case for case in node.findall("testcase")}


def suite_out(root: ET.Element, suite: str) -> str:
    (node,) = [s for s in root.iter("testsuite") if s.get("name") == suite]
    out = node.find("system-out")
    return "" if out is None or out.text is None else out.text


@pytest.mark.parametrize(
    "thresholds",
    [None, {"passed": True, "results": []}],
    ids=["no thresholds key", "empty results"],
)
def test_no_thresholds_is_an_empty_passing_suite(
    tmp_path: Path, thresholds: dict[str, Any] | None
) -> None:
    run = summary({"runs.wait": operation()})
    if thresholds is not None:
        run["thresholds"] = thresholds
    root = written(tmp_path, run)
    assert [s.get("name") for s in root.iter("testsuite")] == ["lgbench.thresholds"]
    assert cases_of(root, "lgbench.thresholds") == {}
    assert suite_out(root, "lgbench.thresholds") == "no thresholds were set"
    assert root.get("failures") == "0"


def test_suite_attributes_and_properties(tmp_path: Path) -> None:
    root = written(tmp_path, with_thresholds(threshold()), check_of("enqueue_clean"))
    assert root.get("name") == "lgbench unit"
    assert root.get("timestamp") == "2026-01-02T03:04:05"
    assert root.get("time") == "10.000"
    for node in root.iter("testsuite"):
        assert node.get("timestamp") == "2026-01-02T03:04:05"
        assert node.get("hostname")
        properties = {p.get("name"): p.get("value") for p in node.iter("property")}
        assert properties["workload"] == "unit"
        assert properties["target"] == "embedded"
        assert properties["server_version"] == "0.16.7"
        assert properties["lgbench_version"] == "0.1.0"
        assert properties["partial"] == "false"
    checker_properties = {
        p.get("name"): p.get("value")
        for s in root.iter("testsuite")
        if s.get("name") == "lgbench.checker"
        for p in s.iter("property")
    }
    assert checker_properties["profile"] == "observed"


def test_passing_thresholds(tmp_path: Path) -> None:
    root = written(
        tmp_path,
        with_thresholds(
            threshold(),
            threshold("errors.rate", "< 1%", value=0.0, limit=1.0, unit="%"),
        ),
    )
    cases = cases_of(root, "lgbench.thresholds")
    assert list(cases) == ["runs.wait.latency.p99 < 2s", "errors.rate < 1%"]
    assert all(case.find("failure") is None for case in cases.values())
    out = cases["errors.rate < 1%"].findtext("system-out") or ""
    assert "value: 0% (limit < 1%)" in out
    assert "source: workloads/x.toml:61:27" in out


def test_failing_threshold_with_windows(tmp_path: Path) -> None:
    failed = threshold(
        condition="< 1.5s",
        value=1720.0,
        limit=1500.0,
        status="failed",
        reason="runs.wait p99 was 1.72 s in 1 of 10 windows of 60 s, limit < 1.5 s",
        window_s=60.0,
        abort_on_fail=True,
        aborted_run=True,
        windows={
            "evaluated": 10,
            "failed": 1,
            "skipped": 0,
            "worst": {"start_s": 120.0, "value": 1720.0},
            "failures": [{"start_s": 120.0, "value": 1720.0}],
        },
    )
    root = written(tmp_path, with_thresholds(threshold(), failed))
    cases = cases_of(root, "lgbench.thresholds")
    assert cases["runs.wait.latency.p99 < 2s"].find("failure") is None
    failure = cases["runs.wait.latency.p99 < 1.5s"].find("failure")
    assert failure is not None
    assert failure.get("message") == failed["reason"]
    assert failure.get("type") == "threshold_failed"
    text = failure.text or ""
    assert "value: 1720 ms (limit < 1500 ms)" in text
    assert "windows of 60 s: 10 evaluated, 1 failed, 0 skipped" in text
    assert 'worst window: {"start_s": 120.0, "value": 1720.0}' in text
    assert "abort_on_fail: this failure stopped the run" in text
    assert root.get("failures") == "1"


def test_no_data_is_a_failure(tmp_path: Path) -> None:
    no_data = threshold(
        "runs.join.latency.p99",
        value=None,
        status="no_data",
        reason="runs.join.latency.p99: no runs.join call was measured",
    )
    root = written(tmp_path, with_thresholds(no_data))
    failure = cases_of(root, "lgbench.thresholds")["runs.join.latency.p99 < 2s"].find("failure")
    assert failure is not None
    assert failure.get("type") == "no_data"
    assert failure.get("message") == no_data["reason"]
    assert "value: no data (limit < 2000 ms)" in (failure.text or "")


def test_the_same_threshold_twice_keeps_two_cases(tmp_path: Path) -> None:
    twice = [threshold(), threshold(source="--threshold")]
    root = written(tmp_path, with_thresholds(*twice))
    assert list(cases_of(root, "lgbench.thresholds")) == [
        "runs.wait.latency.p99 < 2s",
        "runs.wait.latency.p99 < 2s #2",
    ]


def test_checker_valid(tmp_path: Path) -> None:
    check = check_of("interrupt_clean")
    root = written(tmp_path, summary({}), check)
    (case,) = cases_of(root, "lgbench.checker").values()
    assert case.get("name") == "interrupt"
    assert case.find("failure") is None
    runs = check["strategies"]["interrupt"]["runs"]
    assert case.findtext("system-out") == (
        f"valid: 1 thread, {runs} runs under strategy interrupt (observed profile)"
    )


def test_checker_invalid_names_anomalies_and_witnesses(tmp_path: Path) -> None:
    check = check_of("fifo_violation")
    root = written(tmp_path, summary({}), check)
    failure = cases_of(root, "lgbench.checker")["enqueue"].find("failure")
    assert failure is not None
    assert failure.get("message") == "enqueue: 1 anomaly: fifo_violation x1"
    assert failure.get("type") == "anomalies"
    (example,) = check["anomalies"]["fifo_violation"]["examples"]
    text = failure.text or ""
    assert example["explanation"] in text
    assert "runs: A, B" in text
    for event in example["events"]:
        assert f"event {event['index']} at {event['time_s']:.3f} s: {event['what']}" in text


def test_checker_unknown_passes_and_says_why(tmp_path: Path) -> None:
    check = check_of("no_settle")
    root = written(tmp_path, summary({}), check)
    case = cases_of(root, "lgbench.checker")["enqueue"]
    assert case.find("failure") is None and case.find("skipped") is None
    out = case.findtext("system-out") or ""
    assert out.startswith("verdict unknown (not a failure)")
    for reason in check["threads"]["T1"]["unknown"]:
        assert reason in out


def test_checker_with_no_strategy_reports_the_whole_history(tmp_path: Path) -> None:
    check = check_of("header_only")
    root = written(tmp_path, summary({}), check)
    cases = cases_of(root, "lgbench.checker")
    assert list(cases) == ["history"]
    out = cases["history"].findtext("system-out") or ""
    assert out.startswith("verdict unknown (not a failure)")
    assert check["unknown"][0] in out


def test_baseline_regressions_fail_their_operation(tmp_path: Path) -> None:
    base = summary({"runs.wait": operation(100.0), "threads.create": operation(5.0)})
    new = summary(
        {"runs.wait": operation(100.0, tail=180.0), "threads.create": operation(5.2)},
    )
    comparison = compare_summaries(base, new, base_path="base/summary.json").to_dict()
    root = written(tmp_path, new, check_of("enqueue_clean"), comparison)
    assert [s.get("name") for s in root.iter("testsuite")] == list(JUNIT_SUITES)
    cases = cases_of(root, "lgbench.baseline")
    assert list(cases) == ["runs.wait", "threads.create"]
    failure = cases["runs.wait"].find("failure")
    assert failure is not None
    assert failure.get("type") == "regression"
    assert failure.get("message") == "; ".join(comparison["regressions"])
    assert "p99: 100 ms → 180 ms (+80.0%) REGRESSED" in (failure.text or "")
    assert "throughput: 50/s → 50/s (+0.0%) (not gated)" in (failure.text or "")
    assert cases["threads.create"].find("failure") is None
    assert "p50: 5 ms → 5.2 ms (+4.0%)" in (cases["threads.create"].findtext("system-out") or "")
    properties = {
        p.get("name"): p.get("value")
        for s in root.iter("testsuite")
        if s.get("name") == "lgbench.baseline"
        for p in s.iter("property")
    }
    assert properties["baseline"] == "base/summary.json"
    assert properties["baseline_max_regression"] == "0.1"


def test_baseline_lists_operations_it_could_not_compare(tmp_path: Path) -> None:
    base = summary({"runs.wait": operation(), "runs.get": operation()})
    new = summary({"runs.wait": operation(), "runs.stream": operation(ttfe=latency(5.0))})
    root = written(tmp_path, new, None, compare_summaries(base, new).to_dict())
    assert list(cases_of(root, "lgbench.baseline")) == ["runs.wait"]
    out = suite_out(root, "lgbench.baseline")
    assert "only in the base (not compared): runs.get" in out
    assert "only in new (not compared): runs.stream" in out


def test_text_that_xml_cannot_carry_is_replaced_and_markup_escaped(tmp_path: Path) -> None:
    reason = 'server said <error code="x">&\x00\x1b[31m</error>'
    failed = threshold(status="failed", value=3000.0, reason=reason)
    root = written(tmp_path, with_thresholds(failed))
    failure = cases_of(root, "lgbench.thresholds")["runs.wait.latency.p99 < 2s"].find("failure")
    assert failure is not None
    assert failure.get("message") == 'server said <error code="x">&\ufffd\ufffd[31m</error>'


def test_rewrites_an_existing_file_whole(tmp_path: Path) -> None:
    written(tmp_path, with_thresholds(threshold(status="failed", value=3000.0)))
    root = written(tmp_path, with_thresholds(threshold()))
    assert root.get("failures") == "0"


def test_schema_refuses_what_ci_servers_would_misread(tmp_path: Path) -> None:
    path = write_junit(
        tmp_path / "junit.xml",
        with_thresholds(threshold(status="failed", value=3000.0)),
        None,
        None,
    )
    text = path.read_text(encoding="utf-8")
    assert SCHEMA.is_valid(text)
    assert not SCHEMA.is_valid(text.replace("<failure message=", "<failure reason=", 1))
    assert not SCHEMA.is_valid(text.replace('timestamp="2026-01-02T03:04:05"', 'timestamp="now"'))
    assert not SCHEMA.is_valid(text.replace(' classname="lgbench.thresholds"', "", 1))
