"""Workload files: read, validate and write the TOML that describes a run.

:func:`load_workload` / :func:`parse_workload` turn a file into a :class:`Workload` or raise
a :class:`WorkloadError` that lists every issue with its line and column;
:func:`validate_workload` returns those issues instead; :func:`dump_workload` writes a
workload back. The other classes are the parts of a :class:`Workload`. The schema is
documented in ``docs/workload.md``, the library in ``docs/library.md``.
"""

from __future__ import annotations

import inspect

from lgbench.workload._dump import dump_workload
from lgbench.workload._executors import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    ExecutorConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    SharedIterationsConfig,
    StageConfig,
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
from lgbench.workload._parse import load_workload, parse_workload, validate_workload
from lgbench.workload._shared import (
    DurationError,
    TemplateError,
    WorkloadError,
    WorkloadIssue,
    format_duration,
    parse_duration,
)
from lgbench.workload._thresholds import Threshold, parse_threshold_option

# isort: split
# Internal, not part of the public API: what lgbench's engine, thresholds, history and
# command line need from the workload layer (other packages may not import its private
# modules). They may change in any release; a name becomes public only in ``__all__``.
from lgbench.workload._judgeable import unjudgeable_reason as unjudgeable_reason
from lgbench.workload._templating import parse_template as parse_template
from lgbench.workload._templating import render as render
from lgbench.workload._thresholds import Metric as Metric
from lgbench.workload._thresholds import workload_thresholds as workload_thresholds

__all__ = [
    "AUTH_POLICIES",
    "ERROR_KINDS",
    "ON_ERROR",
    "AsUser",
    "AuthConfig",
    "AuthPolicy",
    "BurstConfig",
    "ConstantArrivalRateConfig",
    "ConstantVusConfig",
    "DefaultsConfig",
    "DurationError",
    "EmbeddedConfig",
    "ExecutorConfig",
    "ExpectedErrors",
    "OnError",
    "OperationStepConfig",
    "PerVuIterationsConfig",
    "RampingArrivalRateConfig",
    "RampingVusConfig",
    "ScenarioConfig",
    "SharedIterationsConfig",
    "SleepStepConfig",
    "StageConfig",
    "StepConfig",
    "TargetConfig",
    "TemplateError",
    "Threshold",
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
    "parse_threshold_option",
    "parse_workload",
    "validate_workload",
]

for _name in __all__:
    _obj = globals()[_name]
    claimable = inspect.isclass(_obj) or inspect.isfunction(_obj)
    # The shared TOML pieces too: lgbench._toml is private, this package is their home.
    if claimable and _obj.__module__.startswith(("lgbench.workload._", "lgbench._toml.")):
        _obj.__module__ = __name__
del _name, _obj, claimable, inspect
