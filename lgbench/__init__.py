"""lgbench: load, soak and correctness runner for LangGraph API deployments.

The library in one import (docs/library.md)::

    import anyio
    import lgbench

    workload = lgbench.load_workload("workloads/quickstart.toml")
    result = anyio.run(lgbench.run_workload, workload, lgbench.RunOptions(target="embedded"))
    summary = result.results  # an lgbench.Summary: summary.json, typed

Every name here is one of a public package's (``lgbench.workload``, ``lgbench.run``,
``lgbench.engine``, ``lgbench.check``, ``lgbench.results``, ``lgbench.client``,
``lgbench.errors``...), loaded when first used: ``import lgbench.errors`` or
``lgbench --version`` does not pay for the engine.
"""

from __future__ import annotations

import typing as _typing

from lgbench._lazy import lazy_module_functions as _lazy_module_functions

__version__ = "0.1.0"

#: Each public name and the package it comes from.
_HOMES: dict[str, str] = {
    "ApiError": "lgbench.client",
    "CheckResult": "lgbench.check",
    "ClientError": "lgbench.client",
    "DurationError": "lgbench.workload",
    "ExitCode": "lgbench.exitcodes",
    "LgbenchError": "lgbench.errors",
    "Overrides": "lgbench.engine",
    "ResultsError": "lgbench.results",
    "RunControl": "lgbench.engine",
    "RunError": "lgbench.client",
    "RunOptions": "lgbench.run",
    "RunResult": "lgbench.run",
    "ScheduleError": "lgbench.engine",
    "ServerConfigError": "lgbench.server",
    "ServerError": "lgbench.errors",
    "Summary": "lgbench.results",
    "TargetError": "lgbench.errors",
    "TemplateError": "lgbench.workload",
    "TransportError": "lgbench.client",
    "UsageError": "lgbench.errors",
    "Workload": "lgbench.workload",
    "WorkloadError": "lgbench.workload",
    "WorkloadIssue": "lgbench.workload",
    "check_history": "lgbench.check",
    "get_client": "lgbench.client",
    "get_sync_client": "lgbench.client",
    "load_workload": "lgbench.workload",
    "parse_workload": "lgbench.workload",
    "run_workload": "lgbench.run",
    "validate_workload": "lgbench.workload",
}

__all__ = [
    "ApiError",
    "CheckResult",
    "ClientError",
    "DurationError",
    "ExitCode",
    "LgbenchError",
    "Overrides",
    "ResultsError",
    "RunControl",
    "RunError",
    "RunOptions",
    "RunResult",
    "ScheduleError",
    "ServerConfigError",
    "ServerError",
    "Summary",
    "TargetError",
    "TemplateError",
    "TransportError",
    "UsageError",
    "Workload",
    "WorkloadError",
    "WorkloadIssue",
    "__version__",
    "check_history",
    "get_client",
    "get_sync_client",
    "load_workload",
    "parse_workload",
    "run_workload",
    "validate_workload",
]

if _typing.TYPE_CHECKING:
    from lgbench.check import CheckResult as CheckResult
    from lgbench.check import check_history as check_history
    from lgbench.client import ApiError as ApiError
    from lgbench.client import ClientError as ClientError
    from lgbench.client import RunError as RunError
    from lgbench.client import TransportError as TransportError
    from lgbench.client import get_client as get_client
    from lgbench.client import get_sync_client as get_sync_client
    from lgbench.engine import Overrides as Overrides
    from lgbench.engine import RunControl as RunControl
    from lgbench.engine import ScheduleError as ScheduleError
    from lgbench.errors import LgbenchError as LgbenchError
    from lgbench.errors import ServerError as ServerError
    from lgbench.errors import TargetError as TargetError
    from lgbench.errors import UsageError as UsageError
    from lgbench.exitcodes import ExitCode as ExitCode
    from lgbench.results import ResultsError as ResultsError
    from lgbench.results import Summary as Summary
    from lgbench.run import RunOptions as RunOptions
    from lgbench.run import RunResult as RunResult
    from lgbench.run import run_workload as run_workload
    from lgbench.server import ServerConfigError as ServerConfigError
    from lgbench.workload import DurationError as DurationError
    from lgbench.workload import TemplateError as TemplateError
    from lgbench.workload import Workload as Workload
    from lgbench.workload import WorkloadError as WorkloadError
    from lgbench.workload import WorkloadIssue as WorkloadIssue
    from lgbench.workload import load_workload as load_workload
    from lgbench.workload import parse_workload as parse_workload
    from lgbench.workload import validate_workload as validate_workload
else:
    # Loaded on first use (PEP 562): the packages below take about a second to import,
    # which every ``import lgbench.x`` would pay if this module imported them itself.
    __getattr__, __dir__ = _lazy_module_functions(__name__, globals(), _HOMES, __all__)
