"""lgbench.engine exports every public name once, sorted, from its private modules."""

from __future__ import annotations

import inspect

import lgbench.engine
from lgbench.engine import (
    _actor,
    _control,
    _executors,
    _live,
    _overrides,
    _pacer,
    _plan,
    _recorder,
    _runner,
    _schedule,
)

MODULES = (
    _actor,
    _control,
    _executors,
    _live,
    _overrides,
    _pacer,
    _plan,
    _recorder,
    _runner,
    _schedule,
)


def test_all_is_sorted_and_complete() -> None:
    exported = lgbench.engine.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    private = [name for module in MODULES for name in module.__all__]
    assert set(exported) == set(private)
    assert len(exported) == len(private)  # each name defined and exported once


def test_exported_objects_belong_to_the_package() -> None:
    for name in lgbench.engine.__all__:
        obj = getattr(lgbench.engine, name)
        # Classes and functions; type aliases (LoadModel, Checker) belong to typing.
        if isinstance(obj, type) or inspect.isfunction(obj):
            assert obj.__module__ == "lgbench.engine", name
