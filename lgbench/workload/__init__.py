"""Workload files: the TOML schema, its validation, templating, durations and thresholds.

:func:`load_workload` / :func:`parse_workload` turn a file into a :class:`Workload`
or raise a :class:`WorkloadError` that lists every issue with its line and column;
:func:`dump_workload` writes a workload back. Threshold expressions are read here too
(:func:`build_threshold`, :func:`parse_threshold_option` for ``--threshold``,
:func:`workload_thresholds`); :mod:`lgbench.thresholds` judges them. The schema is
documented in ``docs/workload.md``.
"""

from __future__ import annotations

import inspect

from lgbench.workload._dump import (
    dump_workload,
)
from lgbench.workload._executors import (
    EXECUTORS,
    MAX_BURST,
    MAX_ITERATIONS,
    MAX_RATE,
    MAX_VUS,
    BurstConfig,
    ConfigProblem,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    ExecutorConfig,
    OptionSpec,
    OptionType,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    SharedIterationsConfig,
    StageConfig,
    register_executor,
)
from lgbench.workload._judgeable import (
    BURST_OBSERVER_OPERATIONS,
    BURST_OPERATIONS,
    unjudgeable_reason,
)
from lgbench.workload._model import (
    AUTH_POLICIES,
    ERROR_KINDS,
    ON_ERROR,
    AsUser,
    AuthConfig,
    AuthPolicy,
    DefaultsConfig,
    EmbeddedConfig,
    ExpectedErrors,
    OnError,
    OperationStepConfig,
    ScenarioConfig,
    SleepStepConfig,
    StepConfig,
    TargetConfig,
    ThresholdSpec,
    TimeoutsConfig,
    Transport,
    Workload,
)
from lgbench.workload._parse import (
    load_workload,
    parse_workload,
)
from lgbench.workload._shared import (
    DURATION_FORMS,
    MAX_DURATION_S,
    DurationError,
    KeyPath,
    Position,
    SourceMap,
    TemplateError,
    WorkloadError,
    WorkloadIssue,
    format_duration,
    parse_duration,
)
from lgbench.workload._templating import (
    BUILTIN_NAMES,
    Expression,
    Template,
    parse_template,
    render,
)
from lgbench.workload._thresholds import (
    OPERATORS,
    STATS,
    Metric,
    MetricKind,
    Operator,
    Threshold,
    ThresholdProblem,
    build_threshold,
    parse_threshold_option,
    workload_thresholds,
)

__all__ = [
    "AUTH_POLICIES",
    "BUILTIN_NAMES",
    "BURST_OBSERVER_OPERATIONS",
    "BURST_OPERATIONS",
    "DURATION_FORMS",
    "ERROR_KINDS",
    "EXECUTORS",
    "MAX_BURST",
    "MAX_DURATION_S",
    "MAX_ITERATIONS",
    "MAX_RATE",
    "MAX_VUS",
    "ON_ERROR",
    "OPERATORS",
    "STATS",
    "AsUser",
    "AuthConfig",
    "AuthPolicy",
    "BurstConfig",
    "ConfigProblem",
    "ConstantArrivalRateConfig",
    "ConstantVusConfig",
    "DefaultsConfig",
    "DurationError",
    "EmbeddedConfig",
    "ExecutorConfig",
    "ExpectedErrors",
    "Expression",
    "KeyPath",
    "Metric",
    "MetricKind",
    "OnError",
    "OperationStepConfig",
    "Operator",
    "OptionSpec",
    "OptionType",
    "PerVuIterationsConfig",
    "Position",
    "RampingArrivalRateConfig",
    "RampingVusConfig",
    "ScenarioConfig",
    "SharedIterationsConfig",
    "SleepStepConfig",
    "SourceMap",
    "StageConfig",
    "StepConfig",
    "TargetConfig",
    "Template",
    "TemplateError",
    "Threshold",
    "ThresholdProblem",
    "ThresholdSpec",
    "TimeoutsConfig",
    "Transport",
    "Workload",
    "WorkloadError",
    "WorkloadIssue",
    "build_threshold",
    "dump_workload",
    "format_duration",
    "load_workload",
    "parse_duration",
    "parse_template",
    "parse_threshold_option",
    "parse_workload",
    "register_executor",
    "render",
    "unjudgeable_reason",
    "workload_thresholds",
]

for _name in __all__:
    _obj = globals()[_name]
    claimable = inspect.isclass(_obj) or inspect.isfunction(_obj)
    # The shared TOML pieces too: lgbench._toml is private, this package is their home.
    if claimable and _obj.__module__.startswith(("lgbench.workload._", "lgbench._toml.")):
        _obj.__module__ = __name__
del _name, _obj, claimable, inspect
