"""Every lgbench package's public surface, held to one rule set (httpx's style).

``__all__`` lists exactly the package's public names, sorted as ruff sorts them and each
once; every name comes from one private module's ``__all__``; classes and functions say they
come from the package (``__module__``), so users never see or import ``lgbench.x._y``.
"""

from __future__ import annotations
import __future__

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

PACKAGES = (
    "lgbench.check",
    "lgbench.client",
    "lgbench.engine",
    "lgbench.export",
    "lgbench.faults",
    "lgbench.gate",
    "lgbench.history",
    "lgbench.metrics",
    "lgbench.monitor",
    "lgbench.observe",
    "lgbench.operations",
    "lgbench.report",
    "lgbench.results",
    "lgbench.server",
    "lgbench.thresholds",
    "lgbench.workload",
)

EXPORTS = [
    pytest.param(package, name, id=f"{package}.{name}")
    for package in PACKAGES
    for name in importlib.import_module(package).__all__
]


def private_modules(package: ModuleType) -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("_")
    ]


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's order for ``__all__``: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_unique(name: str) -> None:
    names = importlib.import_module(name).__all__
    assert names == sorted(names, key=isort_key)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_every_public_name(name: str) -> None:
    package = importlib.import_module(name)
    public = {
        attribute
        for attribute, value in vars(package).items()
        if not attribute.startswith("_")
        and not isinstance(value, __future__._Feature)
        and not inspect.ismodule(value)
    }
    assert set(package.__all__) == public


@pytest.mark.parametrize(("package_name", "name"), EXPORTS)
def test_each_name_comes_from_one_private_module(package_name: str, name: str) -> None:
    package = importlib.import_module(package_name)
    exported = getattr(package, name)
    owners = [
        module.__name__
        for module in private_modules(package)
        if name in vars(module).get("__all__", ())
    ]
    assert len(owners) == 1, f"{name} is listed in the __all__ of {owners}"
    assert getattr(importlib.import_module(owners[0]), name) is exported


@pytest.mark.parametrize(("package_name", "name"), EXPORTS)
def test_classes_and_functions_claim_the_package(package_name: str, name: str) -> None:
    value = getattr(importlib.import_module(package_name), name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__ == package_name


@pytest.mark.parametrize("name", PACKAGES)
def test_private_modules_define_what_they_list(name: str) -> None:
    for module in private_modules(importlib.import_module(name)):
        for listed in getattr(module, "__all__", ()):
            assert hasattr(module, listed), f"{module.__name__}.__all__ lists missing {listed}"
