"""Every lgbench package's public surface, held to one rule set (httpx's style).

``__all__`` lists exactly the package's public names, sorted as ruff sorts them and each
once; every name comes from one private module's ``__all__``; classes and functions say they
come from the package (``__module__``), so users never see or import ``lgbench.x._y``.

A package may also re-export, for lgbench's other packages only, a name kept out of
``__all__``: written ``from lgbench.x._y import name as name`` in its ``__init__`` (the form
mypy strict accepts as a re-export), it is internal and keeps its private ``__module__``.

The top-level ``lgbench`` is the library's front door (docs/library.md): each of its names
is a public package's, loaded on first use.
"""

from __future__ import annotations
import __future__

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import lgbench

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
    "lgbench.run",
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


def internal_reexports(package: ModuleType) -> set[str]:
    """The names the package's ``__init__`` imports as ``name as name`` (internal use)."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    return {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name
    }


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
    for listed in package.__all__:
        getattr(package, listed)  # a name loaded on first use (PEP 562) is then in vars()
    public = {
        attribute
        for attribute, value in vars(package).items()
        if not attribute.startswith("_")
        and not isinstance(value, __future__._Feature)
        and not inspect.ismodule(value)
    }
    internal = internal_reexports(package)
    assert internal.isdisjoint(package.__all__), "a public name is not an internal re-export"
    assert set(package.__all__) == public - internal


@pytest.mark.parametrize("name", PACKAGES)
def test_internal_reexports_stay_private(name: str) -> None:
    """An internal name is not renamed into the package: it says where it really lives."""
    package = importlib.import_module(name)
    for internal in internal_reexports(package):
        value = getattr(package, internal)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ != name, f"{name}.{internal} claims the package"


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


# -- the top-level package --------------------------------------------------------------

TOP_LEVEL = [pytest.param(name, id=f"lgbench.{name}") for name in lgbench.__all__]


def test_top_level_all_is_sorted_unique_and_every_public_name() -> None:
    names = lgbench.__all__
    assert names == sorted(names, key=isort_key)
    assert len(names) == len(set(names))
    public = {
        attribute
        for attribute in dir(lgbench)
        if not attribute.startswith("_")
        and not isinstance(getattr(lgbench, attribute), __future__._Feature)
        and not inspect.ismodule(getattr(lgbench, attribute))
    }
    assert public == {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_each_top_level_name_is_a_public_package_s(name: str) -> None:
    if name == "__version__":
        return
    value = getattr(lgbench, name)
    home = lgbench._HOMES[name]
    assert not any(part.startswith("_") for part in home.split("."))
    module = importlib.import_module(home)
    if home in PACKAGES:
        assert name in module.__all__
    assert getattr(module, name) is value
    if inspect.isclass(value) or inspect.isfunction(value):
        # It says which public package it comes from, as the packages' own names do.
        assert value.__module__ == home


def test_an_unknown_top_level_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        lgbench.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_importing_lgbench_loads_no_package() -> None:
    """``import lgbench`` stays cheap: the packages load when a name is first used."""
    code = (
        "import sys, lgbench, lgbench.errors; "
        "print(sorted(m for m in sys.modules if m.startswith('lgbench.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['lgbench._lazy', 'lgbench.errors', 'lgbench.exitcodes']"
