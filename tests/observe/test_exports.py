"""``lgbench.observe``'s public surface: ``__all__`` is exactly it, shown as the package's."""

from __future__ import annotations
import __future__

import inspect

import lgbench.observe


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_unique() -> None:
    names = lgbench.observe.__all__
    assert names == sorted(names, key=_isort_key)
    assert len(names) == len(set(names))


def test_all_is_every_public_name() -> None:
    public = {
        name
        for name, value in vars(lgbench.observe).items()
        if not name.startswith("_")
        and not isinstance(value, __future__._Feature)
        and not inspect.ismodule(value)
    }
    assert set(lgbench.observe.__all__) == public


def test_public_objects_say_they_come_from_the_package() -> None:
    for name in lgbench.observe.__all__:
        value = getattr(lgbench.observe, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == "lgbench.observe", name
