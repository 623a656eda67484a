"""lgbench.history exports every public name once, sorted, from its private modules."""

from __future__ import annotations

import inspect

import lgbench.history
from lgbench.history import _reader, _segments, _values, _writer


def test_all_is_sorted_and_complete() -> None:
    exported = lgbench.history.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    private = [*_reader.__all__, *_segments.__all__, *_values.__all__, *_writer.__all__]
    assert set(exported) == set(private)
    assert len(exported) == len(private)


def test_exported_objects_belong_to_the_package() -> None:
    for name in lgbench.history.__all__:
        obj = getattr(lgbench.history, name)
        if isinstance(obj, type) or inspect.isfunction(obj):
            assert obj.__module__ == "lgbench.history", name
