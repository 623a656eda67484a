"""Workload files: the TOML schema, its validation, templating and durations.

:func:`load_workload` / :func:`parse_workload` turn a file into a :class:`Workload`
or raise a :class:`WorkloadError` that lists every issue with its line and column;
:func:`dump_workload` writes a workload back. The schema is documented in
``docs/workload.md``.
"""

from __future__ import annotations

import inspect

from lgbench.workload._dump import (
    dump_workload,
)
from lgbench.workload._duration import (
    DURATION_FORMS,
    MAX_DURATION_S,
    format_duration,
    parse_duration,
)
from lgbench.workload._errors import (
    DurationError,
    TemplateError,
    WorkloadError,
    WorkloadIssue,
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
from lgbench.workload._locate import (
    KeyPath,
    Position,
    SourceMap,
)
from lgbench.workload._model import (
    ERROR_KINDS,
    ON_ERROR,
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
from lgbench.workload._operations import (
    CANCEL_ACTIONS,
    DISCONNECT_MODES,
    ID_ALIASES,
    IF_EXISTS,
    IF_NOT_EXISTS,
    MULTITASK_STRATEGIES,
    ON_COMPLETION,
    OPERATIONS,
    RUN_STATUSES,
    STREAM_MODES,
    THREAD_STATUSES,
    OperationSpec,
    ParamKind,
    ParamSpec,
    ParamType,
)
from lgbench.workload._parse import (
    load_workload,
    parse_workload,
)
from lgbench.workload._templating import (
    BUILTIN_NAMES,
    Expression,
    Template,
    parse_template,
    render,
    resolve_id,
)

__all__ = [
    "BUILTIN_NAMES",
    "CANCEL_ACTIONS",
    "DISCONNECT_MODES",
    "DURATION_FORMS",
    "ERROR_KINDS",
    "EXECUTORS",
    "ID_ALIASES",
    "IF_EXISTS",
    "IF_NOT_EXISTS",
    "MAX_BURST",
    "MAX_DURATION_S",
    "MAX_ITERATIONS",
    "MAX_RATE",
    "MAX_VUS",
    "MULTITASK_STRATEGIES",
    "ON_COMPLETION",
    "ON_ERROR",
    "OPERATIONS",
    "RUN_STATUSES",
    "STREAM_MODES",
    "THREAD_STATUSES",
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
    "OnError",
    "OperationSpec",
    "OperationStepConfig",
    "OptionSpec",
    "OptionType",
    "ParamKind",
    "ParamSpec",
    "ParamType",
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
    "ThresholdSpec",
    "TimeoutsConfig",
    "Transport",
    "Workload",
    "WorkloadError",
    "WorkloadIssue",
    "dump_workload",
    "format_duration",
    "load_workload",
    "parse_duration",
    "parse_template",
    "parse_workload",
    "register_executor",
    "render",
    "resolve_id",
]

for _name in __all__:
    _obj = globals()[_name]
    claimable = inspect.isclass(_obj) or inspect.isfunction(_obj)
    if claimable and _obj.__module__.startswith("lgbench.workload._"):
        _obj.__module__ = __name__
del _name, _obj, claimable, inspect
