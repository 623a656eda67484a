"""Writing a :class:`Workload` back as TOML, so that parse → dump → parse is the identity.

The output is plain TOML 1.0: ``[target]``, ``[defaults]``, one ``[[scenario]]`` per
scenario with its steps as an array of inline tables, and ``[thresholds]`` (a threshold
that aborts the run is written as an inline table, a windowed one as ``"< 2s in every 1m0s"``).
Durations are written in their canonical form (``"1m30s"``); defaults are applied
already, so steps carry their ``assistant_id`` and SDK parameter names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lgbench._toml import format_duration
from lgbench.faults import FaultSpec
from lgbench.workload._model import (
    AuthConfig,
    DefaultsConfig,
    EmbeddedConfig,
    OperationStepConfig,
    ScenarioConfig,
    SleepStepConfig,
    StepConfig,
    TargetConfig,
    ThresholdSpec,
    TimeoutsConfig,
    Workload,
)

__all__ = ["dump_workload"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _value(value: Any) -> str:
    """One TOML value on one line (tables become inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if text in ("inf", "-inf", "nan"):
            raise ValueError(f"{value!r} cannot be written to a workload")
        return text
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a workload")


def _lines(table: Mapping[str, Any]) -> list[str]:
    return [f"{_key(name)} = {_value(value)}" for name, value in table.items()]


def _target(target: TargetConfig) -> list[str]:
    fields: dict[str, Any] = {"url": target.url}
    if target.api_key_env is not None:
        fields["api_key_env"] = target.api_key_env
    if target.transport != "fast":
        fields["transport"] = target.transport
    if target.headers:
        fields["headers"] = dict(target.headers)
    if target.secret_headers:
        fields["secret_headers"] = list(target.secret_headers)
    lines = ["[target]", *_lines(fields)]
    if target.timeouts != TimeoutsConfig():
        timeouts = {"connect": target.timeouts.connect_s, "read": target.timeouts.read_s}
        if target.timeouts.total_s is not None:
            timeouts["total"] = target.timeouts.total_s
        lines += ["", "[target.timeouts]"]
        lines += [f"{name} = {_string(format_duration(s))}" for name, s in timeouts.items()]
    if target.embedded != EmbeddedConfig():
        embedded: dict[str, Any] = {"port": target.embedded.port}
        if target.embedded.n_jobs_per_worker is not None:
            embedded["n_jobs_per_worker"] = target.embedded.n_jobs_per_worker
        if target.embedded.log is not None:
            embedded["log"] = target.embedded.log
        if target.embedded.auth:
            embedded["auth"] = True
        lines += ["", "[target.embedded]", *_lines(embedded)]
    if target.auth is not None:
        auth = target.auth
        fields = {auth.source: getattr(auth, auth.source)}
        default = AuthConfig()
        for name in ("vus_per_user", "header", "scheme", "policy", "owner_key"):
            value = getattr(auth, name)
            if value != getattr(default, name):
                fields[name] = value
        lines += ["", "[target.auth]", *_lines(fields)]
    return lines


def _defaults(defaults: DefaultsConfig) -> list[str]:
    fields: dict[str, Any] = {}
    if defaults.seed is not None:
        fields["seed"] = defaults.seed
    fields["think_time"] = format_duration(defaults.think_time_s)
    fields["graceful_stop"] = format_duration(defaults.graceful_stop_s)
    if defaults.assistant is not None:
        fields["assistant"] = defaults.assistant
    if defaults.tags:
        fields["tags"] = dict(defaults.tags)
    if defaults.keep_stream_events:
        fields["keep_stream_events"] = True
    return ["[defaults]", *_lines(fields)]


def _step(step: StepConfig, defaults: DefaultsConfig) -> str:
    if isinstance(step, SleepStepConfig):
        return _value({"sleep": format_duration(step.duration_s)})
    assert isinstance(step, OperationStepConfig)
    fields: dict[str, Any] = {"op": step.op, **step.params}
    if step.save is not None:
        fields["save"] = step.save
    if step.repeat != 1:
        fields["repeat"] = step.repeat
    if step.think_time_s != defaults.think_time_s:
        fields["think_time"] = format_duration(step.think_time_s)
    if step.on_error is not None:
        fields["on_error"] = step.on_error
    if step.turns:
        fields["turns"] = True
    if step.as_user != "self":
        fields["as_user"] = step.as_user
    return _value(fields)


def _scenario(scenario: ScenarioConfig, defaults: DefaultsConfig) -> list[str]:
    executor = scenario.executor
    fields: dict[str, Any] = {"name": scenario.name, "executor": scenario.executor_name}
    if executor.start_time_s:
        fields["start_time"] = format_duration(executor.start_time_s)
    if executor.graceful_stop_s != defaults.graceful_stop_s:
        fields["graceful_stop"] = format_duration(executor.graceful_stop_s)
    tags = {k: v for k, v in scenario.tags.items() if defaults.tags.get(k) != v}
    if tags:
        fields["tags"] = tags
    if scenario.on_error != "stop":
        fields["on_error"] = scenario.on_error
    fields.update(executor.options())
    lines = ["[[scenario]]", *_lines(fields)]
    if scenario.steps:
        lines.append("steps = [")
        lines += [f"  {_step(step, defaults)}," for step in scenario.steps]
        lines.append("]")
    return lines


def _threshold(spec: ThresholdSpec) -> Any:
    """The condition string, or a table when the threshold has options."""
    if not spec.abort_on_fail:
        if spec.window_s is None:
            return spec.condition_text
        return f"{spec.condition_text} in every {format_duration(spec.window_s)}"
    fields: dict[str, Any] = {"condition": spec.condition_text}
    if spec.window_s is not None:
        fields["window"] = format_duration(spec.window_s)
    fields["abort_on_fail"] = True
    if spec.abort_delay_s:
        fields["abort_delay"] = format_duration(spec.abort_delay_s)
    return fields


def dump_workload(workload: Workload) -> str:
    """The TOML text of ``workload``; parsing it again gives an equal :class:`Workload`."""
    sections = [
        [f"name = {_string(workload.name)}"] + ([] if workload.audit else ["audit = false"]),
        _target(workload.target),
        _defaults(workload.defaults),
    ]
    sections += [_scenario(scenario, workload.defaults) for scenario in workload.scenarios]
    if workload.thresholds:
        grouped: dict[str, list[Any]] = {}
        for spec in workload.thresholds:
            grouped.setdefault(spec.expression_key, []).append(_threshold(spec))
        lines = ["[thresholds]"]
        lines += [
            f"{_string(key)} = {_value(texts[0] if len(texts) == 1 else texts)}"
            for key, texts in grouped.items()
        ]
        sections.append(lines)
    sections += [_fault(spec) for spec in workload.faults]
    if workload.expected_errors:
        sections.append(
            [
                "[expected_errors]",
                *(
                    f"{_string(e.operation)} = {_value([*sorted(e.statuses), *sorted(e.kinds)])}"
                    for e in workload.expected_errors
                ),
            ]
        )
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def _fault(spec: FaultSpec) -> list[str]:
    fields: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "at": format_duration(spec.at_s),
    }
    if spec.for_s is not None:
        fields["for"] = format_duration(spec.for_s)
    if spec.kind == "latency":
        fields["latency"] = format_duration(spec.latency_s)
        if spec.jitter_s:
            fields["jitter"] = format_duration(spec.jitter_s)
    elif spec.kind == "throttle":
        fields["bytes_per_s"] = spec.bytes_per_s
    elif spec.kind == "cut":
        fields["after_bytes"] = spec.after_bytes
    if spec.kind in ("latency", "throttle") and spec.direction != "both":
        fields["direction"] = spec.direction
    return ["[[fault]]", *_lines(fields)]
