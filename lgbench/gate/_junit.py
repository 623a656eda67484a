"""junit.xml: a run's gates as JUnit test cases, for CI servers that show and track tests.

The shape is the one Ant's JUnit task made common and that Jenkins, GitLab, GitHub Actions
reporters and most CI servers read (tests/data/junit.xsd describes it)::

    <testsuites name tests failures errors skipped time timestamp>
      <testsuite name="lgbench.thresholds" ...>   one testcase per threshold
      <testsuite name="lgbench.checker" ...>      one testcase per multitask strategy
      <testsuite name="lgbench.baseline" ...>     one testcase per operation compared

Each suite carries ``tests``, ``failures``, ``errors`` (always 0: a broken lgbench exits
1 and writes no junit.xml), ``skipped`` (0), ``time`` (the run's duration: each suite
judges the whole run), ``timestamp`` (the run's start, UTC, no zone, as the format
wants), ``hostname`` and ``<properties>`` (workload, target, server and lgbench
versions). Test cases take no time of their own (``time="0"``). A failed case has a
``<failure message=... type=...>`` whose text gives the detail; a passing case may say
more in ``<system-out>``. Case names are stable from run to run, so a CI server can
track each gate's history.
"""

from __future__ import annotations

import json
import os
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
from msgspec import UnsetType

from lgbench._atomic import write_atomically
from lgbench.results import Summary, ThresholdResult, ThresholdWindow

__all__ = ["JUNIT_SUITES", "write_junit"]

#: The suite names, in the order they are written.
JUNIT_SUITES: Final = ("lgbench.thresholds", "lgbench.checker", "lgbench.baseline")
#: Examples and reasons listed per failure text (check.json and summary.json keep more).
_SHOWN: Final = 8

#: Characters XML 1.0 cannot carry at all, even escaped (most C0 controls, lone surrogates).
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: object) -> str:
    """Server bodies and error texts can hold control characters; XML cannot."""
    return _NOT_XML.sub("\ufffd", str(text))


@dataclass(slots=True)
class _Case:
    name: str
    failure: tuple[str, str, str] | None = None  # (message, type, text)
    out: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Suite:
    name: str
    cases: list[_Case] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    out: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(case.failure is not None for case in self.cases)


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _plural(count: object, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _with_unit(value: object, unit: object) -> str:
    if value is None:
        return "no data"
    text = _number(value)
    if unit in ("%", "/s", "%/h"):
        return f"{text}{unit}"
    return f"{text} {unit}" if unit else text


def _run_properties(summary: Summary) -> dict[str, str]:
    properties: dict[str, str] = {}
    for name, value in (
        ("workload", summary.workload.name),
        ("workload_path", summary.workload.path),
        ("seed", summary.workload.seed),
        ("target", summary.target.url),
        ("server_version", summary.server.version),
        ("langgraph_version", summary.server.langgraph_py_version),
        ("lgbench_version", summary.lgbench_version),
        ("backend", summary.backend),
        ("transport", summary.transport),
        ("started_at", summary.started_at),
        ("stop_reason", summary.stop_reason),
        ("partial", summary.partial),
    ):
        if value is not None and value != "":
            properties[name] = json.dumps(value) if isinstance(value, bool) else str(value)
    return properties


def _window_text(window: ThresholdWindow) -> str:
    return json.dumps(msgspec.to_builtins(window), sort_keys=True)


def _threshold_details(result: ThresholdResult) -> list[str]:
    unit = result.unit
    lines = [f"threshold: {result.name} {result.condition}"]
    if result.source:
        lines.append(f"source: {result.source}")
    limit = f"{result.operator} {_with_unit(result.limit, unit)}".strip()
    lines.append(f"value: {_with_unit(result.value, unit)} (limit {limit})")
    lines.append(f"status: {result.status}: {result.reason}")
    windows = result.windows
    if windows is not None:
        lines.append(
            f"windows of {_number(result.window_s)} s: "
            f"{windows.evaluated} evaluated, {windows.failed} failed, "
            f"{windows.skipped} skipped"
        )
        if windows.worst is not None:
            lines.append(f"worst window: {_window_text(windows.worst)}")
        for failure in windows.failures[:_SHOWN]:
            lines.append(f"failed window: {_window_text(failure)}")
        if len(windows.failures) > _SHOWN:
            lines.append(f"... and {len(windows.failures) - _SHOWN} more failed windows")
    if result.abort_on_fail:
        lines.append(
            "abort_on_fail: this failure stopped the run"
            if result.aborted_run
            else "abort_on_fail: set"
        )
    return lines


def _thresholds_suite(summary: Summary) -> _Suite:
    suite = _Suite(JUNIT_SUITES[0])
    thresholds = summary.thresholds
    results = () if isinstance(thresholds, UnsetType) else thresholds.results
    if not results:
        suite.out.append("no thresholds were set")
        return suite
    seen: dict[str, int] = {}
    for result in results:
        name = f"{result.name} {result.condition}"
        # Two identical thresholds (file and --threshold) would otherwise merge in a CI view.
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} #{seen[name]}"
        case = _Case(name)
        details = _threshold_details(result)
        status = result.status
        if status in ("passed", "too_short") and result.passed is True:
            # too_short: not judged because the run was shorter than the threshold needs.
            case.out = details if status == "passed" else [*details, str(result.reason)]
        else:
            kind = "no_data" if status == "no_data" else "threshold_failed"
            message = str(result.reason or f"{name}: {status}")
            case.failure = (message, kind, "\n".join(details))
        suite.cases.append(case)
    return suite


def _anomaly_lines(example: Mapping[str, Any]) -> list[str]:
    lines = [f"- {example.get('explanation')}"]
    if example.get("run_ids"):
        lines.append(f"  runs: {', '.join(map(str, example['run_ids']))}")
    for event in example.get("events") or ():
        where = f"file {event['file']} " if "file" in event else ""
        time_s = event.get("time_s")
        at = f" at {time_s:.3f} s" if isinstance(time_s, int | float) else ""
        lines.append(f"  {where}event {event.get('index')}{at}: {event.get('what')}")
    return lines


def _strategy_case(
    name: str,
    valid: object,
    counts: Mapping[str, int],
    thread_ids: Iterable[str],
    check: Mapping[str, Any],
    header: str,
) -> _Case:
    case = _Case(name)
    thread_set = set(thread_ids)
    if valid is False:
        total = sum(counts.values())
        kinds = ", ".join(f"{kind} x{n}" for kind, n in sorted(counts.items()))
        message = f"{name}: {total} anomal{'y' if total == 1 else 'ies'}: {kinds}"
        lines = [header]
        anomalies: Mapping[str, Any] = check.get("anomalies") or {}
        for kind in sorted(counts):
            entry = anomalies.get(kind) or {}
            lines.append(f"{kind} x{counts[kind]}: {entry.get('description', '')}")
            examples = [e for e in entry.get("examples") or () if e.get("thread_id") in thread_set]
            for example in examples[:_SHOWN]:
                lines.extend(_anomaly_lines(example))
        case.failure = (message, "anomalies", "\n".join(lines))
    elif valid is True:
        case.out = [f"valid: {header}"]
    else:
        # The checker could not decide: not proof of a fault, so not a failure; say why.
        reasons: list[str] = []
        threads: Mapping[str, Any] = check.get("threads") or {}
        for thread_id in sorted(thread_set):
            for reason in threads[thread_id].get("unknown") or ():
                if reason not in reasons:
                    reasons.append(reason)
        for reason in check.get("unknown") or ():
            if reason not in reasons:
                reasons.append(reason)
        case.out = [f"verdict unknown (not a failure): {header}"]
        case.out += [f"- {reason}" for reason in reasons[:_SHOWN]]
        if len(reasons) > _SHOWN:
            case.out.append(f"... and {len(reasons) - _SHOWN} more reasons")
    return case


def _checker_suite(check: Mapping[str, Any]) -> _Suite:
    suite = _Suite(JUNIT_SUITES[1])
    profile = check.get("profile")
    if profile is not None:
        suite.properties["profile"] = str(profile)
    threads: Mapping[str, Any] = check.get("threads") or {}
    strategies: Mapping[str, Any] = check.get("strategies") or {}
    for name, strategy in sorted(strategies.items()):
        members = [t for t, thread in threads.items() if thread.get("strategy") == name]
        header = (
            f"{_plural(strategy.get('threads'), 'thread')}, "
            f"{_plural(strategy.get('runs'), 'run')} under strategy {name} ({profile} profile)"
        )
        suite.cases.append(
            _strategy_case(
                name,
                strategy.get("valid"),
                strategy.get("anomalies") or {},
                members,
                check,
                header,
            )
        )
    valid = check.get("valid")
    if not strategies or (valid is False and not suite.failures):
        # Nothing per strategy to show (an empty or damaged history), or a verdict no
        # strategy carries: the whole history's verdict is one case.
        counts = {
            kind: int(entry.get("count", 0))
            for kind, entry in (check.get("anomalies") or {}).items()
        }
        history_counts = check.get("counts") or {}
        header = (
            f"the whole history: {history_counts.get('threads_checked', 0)} of "
            f"{history_counts.get('threads', 0)} threads checked ({profile} profile)"
        )
        suite.cases.append(_strategy_case("history", valid, counts, threads, check, header))
    counts = check.get("counts") or {}
    if counts:
        suite.out.append(
            f"{counts.get('threads_checked')} of {counts.get('threads')} threads checked, "
            f"{counts.get('runs_checked')} runs, {counts.get('operations')} operations, "
            f"{counts.get('anomalies')} anomalies, {counts.get('findings')} findings"
        )
    for name, checker in (check.get("checkers") or {}).items():
        if checker.get("error"):
            suite.out.append(f"checker {name} failed: {checker['error']}")
    for behaviour, finding in sorted((check.get("findings") or {}).items()):
        suite.out.append(
            f"finding {behaviour} x{finding.get('count')}: {finding.get('description')} "
            "(flagged by the documented profile only)"
        )
    return suite


def _metric_line(row: Mapping[str, Any]) -> str:
    explanation = row.get("explanation")
    if isinstance(explanation, str) and row.get("verdict") != "not gated":
        # The whole reasoning: change, interval, noise floor, verdict and why.
        return f"{row.get('label')}: {explanation}"
    unit = row.get("unit") or ""
    change = row.get("change")
    base, new = row.get("base"), row.get("new")
    if unit == "%" and base is not None and new is not None:
        moved = f"{new - base:+.2f} points"
    elif isinstance(change, int | float):
        moved = f"{change:+.1%}"
    else:
        moved = "-"
    verdict = row.get("verdict")
    if row.get("regressed"):
        mark = "REGRESSED"
    elif not row.get("gated"):
        mark = "(not gated)"
    elif isinstance(verdict, str) and verdict != "within limits":
        mark = verdict
    else:
        mark = ""
    low, high = row.get("ci_low"), row.get("ci_high")
    if isinstance(low, int | float) and isinstance(high, int | float):
        interval = (
            f"; CI {low:+.2f} … {high:+.2f} points"
            if unit == "%"
            else f"; CI {low:+.1%} … {high:+.1%}"
        )
        moved += interval
    return (
        f"{row.get('label')}: {_with_unit(base, unit)} → {_with_unit(new, unit)} "
        f"({moved}) {mark}".rstrip()
    )


def _operation_verdict(operation: Mapping[str, Any]) -> str:
    """An operation's verdict: regression, else what its gated figures said."""
    if operation.get("regressions"):
        return "regression"
    found = {
        row.get("verdict")
        for row in operation.get("metrics") or ()
        if row.get("gated") and isinstance(row.get("verdict"), str)
    }
    for verdict in ("no significant change", "improvement", "within limits"):
        if verdict in found:
            return "no significant change" if verdict == "improvement" else verdict
    return found.pop() if len(found) == 1 else "not gated"


def _baseline_suite(comparison: Mapping[str, Any]) -> _Suite:
    suite = _Suite(JUNIT_SUITES[2])
    for key in (
        "base",
        "max_regression",
        "min_difference_ms",
        "min_error_rate_increase",
        "confidence",
        "verdict",
        "method",
    ):
        if comparison.get(key) is not None:
            suite.properties[f"baseline_{key}" if key != "base" else "baseline"] = _number(
                comparison[key]
            )
    limit = comparison.get("max_regression")
    for name, operation in sorted((comparison.get("operations") or {}).items()):
        case = _Case(name)
        count = operation.get("count") or {}
        lines = [
            f"verdict: {_operation_verdict(operation)}",
            f"calls: {count.get('base')} → {count.get('new')}",
        ]
        lines += [_metric_line(row) for row in operation.get("metrics") or ()]
        regressions = operation.get("regressions") or []
        if regressions:
            case.failure = ("; ".join(regressions), "regression", "\n".join(lines))
        else:
            case.out = lines
        suite.cases.append(case)
    if comparison.get("verdict"):
        suite.out.append(f"verdict: {comparison['verdict']}")
    if comparison.get("method"):
        suite.out.append(f"method: {comparison['method']}")
    if isinstance(limit, int | float):
        suite.out.append(
            f"limit +{limit * 100:g}% per figure, noise floor "
            f"{_number(comparison.get('min_difference_ms'))} ms"
        )
    for key, label in (("only_in_base", "only in the base"), ("only_in_new", "only in new")):
        if comparison.get(key):
            suite.out.append(f"{label} (not compared): {', '.join(comparison[key])}")
    suite.out += [f"warning: {w}" for w in comparison.get("warnings") or ()]
    return suite


def _timestamp(summary: Summary) -> str:
    """The run's start in UTC without a zone: the JUnit format's timestamps carry none."""
    started = summary.started_at
    moment = datetime.now(UTC)
    if isinstance(started, str):
        try:
            parsed = datetime.fromisoformat(started)
        except ValueError:
            pass
        else:
            moment = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _element(suites: list[_Suite], summary: Summary) -> ET.Element:
    duration = summary.duration_s
    time_text = f"{duration:.3f}" if duration is not None else "0"
    timestamp = _timestamp(summary)
    hostname = socket.gethostname()
    workload = summary.workload.name
    root = ET.Element(
        "testsuites",
        {
            "name": _xml_text(f"lgbench {workload}" if workload else "lgbench"),
            "tests": str(sum(len(s.cases) for s in suites)),
            "failures": str(sum(s.failures for s in suites)),
            "errors": "0",
            "skipped": "0",
            "time": time_text,
            "timestamp": timestamp,
        },
    )
    run_properties = _run_properties(summary)
    for index, suite in enumerate(suites):
        node = ET.SubElement(
            root,
            "testsuite",
            {
                "name": suite.name,
                "tests": str(len(suite.cases)),
                "failures": str(suite.failures),
                "errors": "0",
                "skipped": "0",
                "time": time_text,
                "timestamp": timestamp,
                "hostname": _xml_text(hostname),
                "id": str(index),
                "package": "lgbench",
            },
        )
        properties = ET.SubElement(node, "properties")
        for name, value in {**run_properties, **suite.properties}.items():
            ET.SubElement(properties, "property", {"name": name, "value": _xml_text(value)})
        for case in suite.cases:
            case_node = ET.SubElement(
                node,
                "testcase",
                {"name": _xml_text(case.name), "classname": suite.name, "time": "0"},
            )
            if case.failure is not None:
                message, kind, text = case.failure
                failure = ET.SubElement(
                    case_node, "failure", {"message": _xml_text(message), "type": kind}
                )
                failure.text = _xml_text(text)
            if case.out:
                ET.SubElement(case_node, "system-out").text = _xml_text("\n".join(case.out))
        if suite.out:
            ET.SubElement(node, "system-out").text = _xml_text("\n".join(suite.out))
    return root


def write_junit(
    path: str | os.PathLike[str],
    summary: Summary | Mapping[str, Any],
    check: Mapping[str, Any] | None,
    comparison: Mapping[str, Any] | None,
) -> Path:
    """Write junit.xml for a run; returns its path.

    ``summary``: the run's summary, or summary.json's content (its ``thresholds`` make the
    thresholds suite, empty when there are none). ``check``: check.json's content, or None
    when the checker did not run (then no checker suite). ``comparison``:
    :meth:`Comparison.to_dict`, or None when no baseline was given (then no baseline suite).
    A ``no_data`` threshold is a failure; a strategy whose verdict is unknown is a passing
    case that says why in ``system-out``.

    Written to a temporary name beside ``path`` and renamed, so a CI server never reads half
    a file. Raises OSError when the directory is not writable.
    """
    run = Summary.of(summary)
    suites = [_thresholds_suite(run)]
    if check is not None:
        suites.append(_checker_suite(check))
    if comparison is not None:
        suites.append(_baseline_suite(comparison))
    root = _element(suites, run)
    ET.indent(root)
    document = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return write_atomically(path, document + b"\n")
