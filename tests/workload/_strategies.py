"""Hypothesis strategies for valid workload models and for TOML documents."""

from __future__ import annotations

import datetime
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import strategies as st

from lgbench.operations import MULTITASK_STRATEGIES, OPERATIONS, ParamSpec, ParamType
from lgbench.workload import (
    ERROR_KINDS,
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    DefaultsConfig,
    EmbeddedConfig,
    ExecutorConfig,
    ExpectedErrors,
    OperationStepConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    ScenarioConfig,
    SharedIterationsConfig,
    SleepStepConfig,
    StageConfig,
    StepConfig,
    TargetConfig,
    Threshold,
    ThresholdSpec,
    TimeoutsConfig,
    Workload,
)
from lgbench.workload._executors import EXECUTORS
from lgbench.workload._judgeable import unjudgeable_reason
from lgbench.workload._thresholds import build_threshold

#: Every Unicode category but surrogates (which no text file can hold).
NOT_SURROGATES: list[Any] = [
    "L",
    "M",
    "N",
    "P",
    "S",
    "Z",
    "Cc",
    "Cf",
    "Co",
    "Cn",
]

#: Text without "$", so that it is never a template (templates are tested on their own).
texts = st.text(
    alphabet=st.characters(categories=NOT_SURROGATES, blacklist_characters="$"), max_size=12
)
names = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)
variables = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: name not in {"vu", "iteration", "uuid", "random"}
)
toml_ints = st.integers(-(2**63), 2**63 - 1)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)


def durations_s(min_ns: int = 0, max_ns: int = 10**14) -> st.SearchStrategy[float]:
    """Durations exact to the nanosecond, as parse_duration returns them."""
    return st.integers(min_ns, max_ns).map(lambda ns: ns / 10**9)


positive_durations_s = durations_s(min_ns=1)

json_scalars = st.one_of(st.booleans(), toml_ints, finite_floats, texts)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)
json_tables = st.dictionaries(texts, json_values, max_size=3)


def _with_choices(param: ParamSpec) -> st.SearchStrategy[Any]:
    choices = sorted(param.choices)
    if param.type is ParamType.STRING_OR_STRINGS:
        return st.one_of(
            st.sampled_from(choices), st.lists(st.sampled_from(choices), min_size=1, max_size=3)
        )
    return st.sampled_from(choices)


def param_values(param: ParamSpec) -> st.SearchStrategy[Any]:
    """Valid TOML values for one operation parameter."""
    if param.choices:
        return _with_choices(param)
    kind = param.type
    strategies: dict[ParamType, st.SearchStrategy[Any]] = {
        ParamType.STRING: texts,
        ParamType.PATH: texts.map(lambda text: "/" + text),
        ParamType.ID: texts.filter(bool),
        ParamType.INTEGER: st.integers(param.minimum or 0, 2**31),
        ParamType.BOOLEAN: st.booleans(),
        ParamType.TABLE: json_tables,
        ParamType.STRINGS: st.lists(texts, max_size=3),
        ParamType.STRING_OR_STRINGS: st.one_of(texts, st.lists(texts, max_size=3)),
        ParamType.NODES: st.one_of(st.just("*"), st.lists(texts, max_size=3)),
        ParamType.TABLE_OR_TABLES: st.one_of(json_tables, st.lists(json_tables, max_size=2)),
        ParamType.TABLES: st.lists(json_tables, max_size=2),
        ParamType.STRING_OR_TABLE: st.one_of(texts, json_tables),
        ParamType.INTEGER_OR_BOOLEAN: st.one_of(st.booleans(), st.integers(0, 5)),
        ParamType.INDEX: st.one_of(st.just(False), st.lists(texts, max_size=2)),
        ParamType.JSON: json_values,
    }
    return strategies[kind]


@st.composite
def operation_steps(draw: st.DrawFn, defaults: DefaultsConfig) -> OperationStepConfig:
    spec = OPERATIONS[draw(st.sampled_from(sorted(OPERATIONS)))]
    params: dict[str, Any] = {}
    for name, param in spec.params.items():
        if name in spec.required or draw(st.booleans()):
            params[name] = draw(param_values(param))
    save = None if spec.returns_nothing else draw(st.none() | variables)
    return OperationStepConfig(
        op=spec.name,
        params=MappingProxyType(params),
        save=save,
        repeat=draw(st.integers(1, 5)),
        think_time_s=draw(st.just(defaults.think_time_s) | durations_s(max_ns=10**10)),
        on_error=draw(st.sampled_from([None, "stop", "continue"])),
    )


def steps(defaults: DefaultsConfig) -> st.SearchStrategy[tuple[StepConfig, ...]]:
    sleep = durations_s(max_ns=10**11).map(SleepStepConfig)
    return st.lists(st.one_of(operation_steps(defaults), sleep), min_size=1, max_size=4).map(tuple)


def _stages(rates: bool) -> st.SearchStrategy[tuple[StageConfig, ...]]:
    target = (
        st.one_of(st.integers(0, 1000), st.floats(0, 1000, allow_nan=False))
        if rates
        else st.integers(1, 1000)
    )
    stage = st.builds(StageConfig, target=target, duration_s=positive_durations_s)
    return st.lists(stage, min_size=1, max_size=3).map(tuple)


@st.composite
def executors(draw: st.DrawFn, graceful_stop_s: float) -> ExecutorConfig:
    base: dict[str, Any] = {
        "start_time_s": draw(st.just(0.0) | durations_s(max_ns=10**12)),
        "graceful_stop_s": draw(st.just(graceful_stop_s) | durations_s(max_ns=10**12)),
    }
    name = draw(st.sampled_from(sorted(EXECUTORS)))
    vus = draw(st.integers(1, 500))
    if name == "constant-vus":
        return ConstantVusConfig(vus=vus, duration_s=draw(positive_durations_s), **base)
    if name == "ramping-vus":
        return RampingVusConfig(
            stages=draw(_stages(rates=False)),
            start_vus=draw(st.integers(0, 10)),
            graceful_ramp_down_s=draw(durations_s()),
            **base,
        )
    if name in ("per-vu-iterations", "shared-iterations"):
        cls = PerVuIterationsConfig if name == "per-vu-iterations" else SharedIterationsConfig
        return cls(
            vus=vus,
            iterations=draw(st.integers(vus, vus + 1000)),
            max_duration_s=draw(positive_durations_s),
            **base,
        )
    pre = draw(st.integers(0, 100))
    limit = draw(st.integers(max(pre, 1), 200))
    time_unit_s = draw(positive_durations_s)
    if name == "constant-arrival-rate":
        return ConstantArrivalRateConfig(
            rate=draw(st.one_of(st.integers(1, 1000), st.floats(0.001, 1000))),
            duration_s=draw(positive_durations_s),
            pre_allocated_vus=pre,
            max_vus_limit=limit,
            time_unit_s=time_unit_s,
            **base,
        )
    if name == "ramping-arrival-rate":
        return RampingArrivalRateConfig(
            stages=draw(_stages(rates=True)),
            pre_allocated_vus=pre,
            max_vus_limit=limit,
            start_rate=draw(st.one_of(st.integers(0, 10), st.floats(0, 10))),
            time_unit_s=time_unit_s,
            **base,
        )
    assert name == "burst"
    return BurstConfig(
        threads=vus,
        burst=draw(st.integers(1, 10)),
        strategy=draw(st.sampled_from(sorted(MULTITASK_STRATEGIES))),
        assistant_id=draw(texts.filter(bool)),
        input=MappingProxyType(draw(json_tables)),
        stagger_s=draw(durations_s(max_ns=10**10)),
        max_duration_s=draw(positive_durations_s),
        **base,
    )


string_tables = st.dictionaries(texts, texts, max_size=3)


@st.composite
def scenarios(draw: st.DrawFn, name: str, defaults: DefaultsConfig) -> ScenarioConfig:
    executor = draw(executors(defaults.graceful_stop_s))
    tags = {**defaults.tags, **draw(string_tables)}
    return ScenarioConfig(
        name=name,
        executor=executor,
        tags=MappingProxyType(tags),
        steps=() if isinstance(executor, BurstConfig) else draw(steps(defaults)),
        on_error="stop"
        if isinstance(executor, BurstConfig)
        else draw(st.sampled_from(["stop", "continue"])),
    )


header_names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}", fullmatch=True).filter(
    lambda name: name.lower() != "x-api-key"
)
header_values = st.text(
    alphabet=st.characters(categories=NOT_SURROGATES, blacklist_characters="\r\n"),
    max_size=10,
)


@st.composite
def targets(draw: st.DrawFn) -> TargetConfig:
    embedded = draw(st.booleans())
    url = "embedded" if embedded else f"http://127.0.0.1:{draw(st.integers(1, 65535))}"
    timeouts = draw(
        st.just(TimeoutsConfig())
        | st.builds(
            TimeoutsConfig,
            connect_s=positive_durations_s,
            read_s=positive_durations_s,
            total_s=st.none() | positive_durations_s,
        )
    )
    embedded_config = EmbeddedConfig()
    if embedded and draw(st.booleans()):
        embedded_config = EmbeddedConfig(
            port=draw(st.integers(0, 65535)),
            n_jobs_per_worker=draw(st.none() | st.integers(1, 64)),
            log=draw(st.none() | texts.filter(bool)),
        )
    return TargetConfig(
        url=url,
        api_key_env=draw(st.none() | st.just("LANGGRAPH_API_KEY")),
        headers=MappingProxyType(draw(st.dictionaries(header_names, header_values, max_size=2))),
        timeouts=timeouts,
        transport=draw(st.sampled_from(["fast", "httpx"])),
        embedded=embedded_config,
    )


defaults_configs = st.builds(
    DefaultsConfig,
    seed=st.none() | toml_ints,
    think_time_s=durations_s(max_ns=10**10),
    graceful_stop_s=durations_s(max_ns=10**12),
    assistant=st.none() | texts.filter(bool),
    tags=string_tables.map(MappingProxyType),
)

# Valid thresholds, with conditions in the canonical form parsing gives back.
_WINDOWABLE_THRESHOLDS = [
    ("runs.wait", "latency.p99", "< 2s"),
    ("runs.stream", "ttfe.p99.9", "<= 1m30s"),
    ("runs.stream", "queue_wait.mean", "> 0.5ms"),
    ("threads.create", "errors.rate", "< 0.01"),
    ("http.get", "rate", ">= 50/s"),
    ("", "errors.rate", "< 1%"),
    ("", "errors.count", "== 0"),
    ("", "count", "!= 3"),
]
_END_ONLY_THRESHOLDS = [
    ("anomalies", "== 0"),
    ("dropped_iterations", "<= 10"),
    ("runs.wait.latency.p99.drift", "< 20%/h"),
    ("runs.wait.errors.rate.drift", "< -1.5%/h"),
    ("schedule_lag.p99", "< 10ms"),
]


@st.composite
def threshold_specs(draw: st.DrawFn, scenario_names: list[str]) -> ThresholdSpec:
    if draw(st.booleans()):
        key, condition = draw(st.sampled_from(_END_ONLY_THRESHOLDS))
        return ThresholdSpec(key, condition)
    operation, metric, condition = draw(st.sampled_from(_WINDOWABLE_THRESHOLDS))
    selector = ""
    if draw(st.booleans()):
        selector = f"{{scenario={draw(st.sampled_from(scenario_names))}}}"
    key = f"{operation}{selector}.{metric}" if operation else f"{metric}{selector}"
    window_s = draw(st.none() | durations_s(min_ns=10**9, max_ns=10**13))
    abort_on_fail = draw(st.booleans())
    abort_delay_s = draw(durations_s(max_ns=10**12)) if abort_on_fail else 0.0
    return ThresholdSpec(
        key,
        condition,
        window_s=window_s,
        abort_on_fail=abort_on_fail,
        abort_delay_s=abort_delay_s,
    )


def _grouped(specs: list[ThresholdSpec]) -> tuple[ThresholdSpec, ...]:
    """Conditions of one key together, as a TOML table (one entry per key) keeps them."""
    order: dict[str, int] = {}
    for spec in specs:
        order.setdefault(spec.expression_key, len(order))
    return tuple(sorted(specs, key=lambda spec: order[spec.expression_key]))


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    defaults = draw(defaults_configs)
    scenario_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    drawn = [draw(scenarios(name, defaults)) for name in scenario_names]
    return Workload(
        name=draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)),
        path="generated.toml",
        target=draw(targets()),
        defaults=defaults,
        scenarios=tuple(sorted(drawn, key=lambda s: (s.start_time_s, s.name))),
        thresholds=_grouped(
            [
                spec
                for spec in draw(st.lists(threshold_specs(scenario_names), max_size=3))
                if _judgeable(spec, drawn)
            ]
        ),
        expected_errors=tuple(
            sorted(
                draw(st.lists(expected_errors, max_size=2, unique_by=lambda e: e.operation)),
                key=lambda e: e.operation,
            )
        ),
    )


def _judgeable(spec: ThresholdSpec, drawn: list[ScenarioConfig]) -> bool:
    """Whether some drawn scenario feeds the threshold (the parser refuses the others)."""
    built = build_threshold(spec.expression_key, spec.condition_text)
    assert isinstance(built, Threshold)
    return unjudgeable_reason(built.metric, drawn) is None


expected_errors = st.builds(
    ExpectedErrors,
    st.sampled_from(sorted(OPERATIONS)),
    st.frozensets(st.integers(100, 599), max_size=3),
    st.frozensets(st.sampled_from(ERROR_KINDS), max_size=2),
).filter(lambda entry: bool(entry.statuses or entry.kinds))


# -- raw TOML documents ---------------------------------------------------------------------

_BARE = set(string.ascii_letters + string.digits + "-_")


def toml_key(name: str) -> str:
    if name and set(name) <= _BARE:
        return name
    return toml_string(name)


def toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_value(value: Any) -> str:
    """Any TOML value on one line (tables inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(text, text)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(type(value))


def toml_document(document: Mapping[str, Any]) -> str:
    """A TOML document: top-level tables as headers, arrays of tables as [[...]]."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in document.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, table in tables:
        lines.append(f"[{toml_key(key)}]")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    for key, items in arrays:
        for item in items:
            lines.append(f"[[{toml_key(key)}]]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


any_toml_scalars = st.one_of(
    st.booleans(),
    toml_ints,
    st.floats(),
    st.text(alphabet=st.characters(categories=NOT_SURROGATES), max_size=10),
    st.dates(),
)
any_toml_values = st.recursive(
    any_toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=6), inner, max_size=3),
    ),
    max_leaves=8,
)
