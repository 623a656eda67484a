"""lgbench.faults exports every public name once, sorted, from its private modules."""

from __future__ import annotations

import inspect

import lgbench.faults
from lgbench.faults import _proxy, _runner, _schedule


def test_all_is_sorted_and_complete() -> None:
    exported = lgbench.faults.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    private = [*_proxy.__all__, *_runner.__all__, *_schedule.__all__]
    assert set(exported) == set(private)
    assert len(exported) == len(private)


def test_exported_objects_belong_to_the_package() -> None:
    for name in lgbench.faults.__all__:
        obj = getattr(lgbench.faults, name)
        if isinstance(obj, type) or inspect.isfunction(obj):
            assert obj.__module__ == "lgbench.faults", name
