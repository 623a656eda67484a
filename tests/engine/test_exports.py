"""lgbench.engine exports every public name once, sorted, from its private modules."""

from __future__ import annotations

import lgbench.engine
from lgbench.engine import _pacer, _plan, _schedule


def test_all_is_sorted_and_complete() -> None:
    exported = lgbench.engine.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    private = {*_pacer.__all__, *_plan.__all__, *_schedule.__all__}
    assert set(exported) == private
    assert len(exported) == len(private)


def test_exported_objects_belong_to_the_package() -> None:
    for name in lgbench.engine.__all__:
        obj = getattr(lgbench.engine, name)
        if hasattr(obj, "__qualname__"):
            assert obj.__module__ == "lgbench.engine", name
