"""``lgbench.gate``'s public surface: ``__all__`` is exactly it, each name defined once."""

from __future__ import annotations
import __future__

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import lgbench.gate


def private_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"lgbench.gate.{info.name}")
        for info in pkgutil.iter_modules(lgbench.gate.__path__)
        if info.name.startswith("_")
    ]


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's order for ``__all__``: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def test_all_is_sorted_and_unique() -> None:
    names = lgbench.gate.__all__
    assert names == sorted(names, key=isort_key)
    assert len(names) == len(set(names))


def test_all_is_every_public_name() -> None:
    public = {
        name
        for name, value in vars(lgbench.gate).items()
        if not name.startswith("_")
        and not isinstance(value, __future__._Feature)
        and not inspect.ismodule(value)
    }
    assert set(lgbench.gate.__all__) == public


@pytest.mark.parametrize("name", lgbench.gate.__all__)
def test_each_name_is_defined_once(name: str) -> None:
    exported = getattr(lgbench.gate, name)
    owners = [
        module.__name__ for module in private_modules() if name in vars(module).get("__all__", ())
    ]
    assert len(owners) == 1, f"{name} is listed in the __all__ of {owners}"
    assert getattr(importlib.import_module(owners[0]), name) is exported


def test_classes_and_functions_claim_the_package() -> None:
    for name in lgbench.gate.__all__:
        value = getattr(lgbench.gate, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == "lgbench.gate", name
