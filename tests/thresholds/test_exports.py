"""lgbench.thresholds' public surface: one sorted __all__, every name defined once."""

from __future__ import annotations

import lgbench.thresholds as thresholds


def _isort_key(name: str) -> tuple[int, str]:
    if name.isupper():
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(thresholds) if not name.startswith("_")} - {"annotations"}
    assert set(thresholds.__all__) == public
    assert len(thresholds.__all__) == len(set(thresholds.__all__))


def test_all_is_sorted() -> None:
    assert thresholds.__all__ == sorted(thresholds.__all__, key=_isort_key)


def test_classes_belong_to_the_package() -> None:
    for name in thresholds.__all__:
        obj = getattr(thresholds, name)
        if isinstance(obj, type):
            assert obj.__module__ == "lgbench.thresholds", name


def test_each_private_module_exports_what_the_package_does() -> None:
    from lgbench.thresholds import _evaluate, _format, _grammar, _render

    modules = [_evaluate, _format, _grammar, _render]
    names = [name for module in modules for name in module.__all__]
    assert sorted(names) == sorted(thresholds.__all__)
