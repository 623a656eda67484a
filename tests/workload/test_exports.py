"""lgbench.workload's public surface: one sorted __all__, every name defined once."""

from __future__ import annotations

import lgbench.workload as workload


def _isort_key(name: str) -> tuple[int, str]:
    if name.isupper():
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(workload) if not name.startswith("_")} - {"annotations"}
    assert set(workload.__all__) == public
    assert len(workload.__all__) == len(set(workload.__all__))


def test_all_is_sorted() -> None:
    assert workload.__all__ == sorted(workload.__all__, key=_isort_key)


def test_classes_belong_to_the_package() -> None:
    for name in workload.__all__:
        obj = getattr(workload, name)
        if isinstance(obj, type):
            assert obj.__module__ == "lgbench.workload", name


def test_each_private_module_exports_what_the_package_does() -> None:
    from lgbench.workload import (
        _dump,
        _duration,
        _errors,
        _executors,
        _locate,
        _model,
        _operations,
        _parse,
        _templating,
    )

    modules = [_dump, _duration, _errors, _executors, _locate, _model, _operations, _parse]
    modules.append(_templating)
    names = [name for module in modules for name in module.__all__]
    assert sorted(names) == sorted(workload.__all__)
