"""The error tree: every error class is drawn in lgbench/errors.py and carries an exit code."""

from __future__ import annotations

import importlib

import pytest

import lgbench.errors
from lgbench.errors import LgbenchError
from lgbench.exitcodes import ExitCode

# Import every part that defines errors, so their subclasses are registered.
for _module in ("lgbench.client", "lgbench.engine", "lgbench.server", "lgbench.workload"):
    importlib.import_module(_module)


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_subclasses(sub)
    return found


PUBLIC_ERRORS = sorted(
    (c for c in _all_subclasses(LgbenchError) if not c.__name__.startswith("_")),
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("error_class", PUBLIC_ERRORS, ids=lambda c: c.__name__)
def test_every_error_has_an_exit_code(error_class: type[LgbenchError]) -> None:
    assert isinstance(error_class.exit_code, ExitCode)


def test_the_tree_drawing_names_every_family() -> None:
    """lgbench/errors.py draws the families; the client's leaves are drawn in client/_errors.py."""
    from lgbench.client import _errors as client_errors

    drawing = (lgbench.errors.__doc__ or "") + (client_errors.__doc__ or "")
    missing = [c.__name__ for c in PUBLIC_ERRORS if c.__name__ not in drawing]
    assert missing == []


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UsageError", ExitCode.USAGE),
        ("TargetError", ExitCode.TARGET),
        ("ServerError", ExitCode.TARGET),
        ("LgbenchError", ExitCode.INTERNAL_ERROR),
    ],
)
def test_exit_codes_of_the_top_families(name: str, code: ExitCode) -> None:
    assert getattr(lgbench.errors, name).exit_code == code


def test_exit_code_values_never_change() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "INTERNAL_ERROR": 1,
        "USAGE": 2,
        "TARGET": 3,
        "THRESHOLDS": 4,
        "ANOMALIES": 5,
    }
