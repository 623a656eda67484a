"""lgbench.metrics exports every public name once, sorted, from its private modules."""

from __future__ import annotations

from pathlib import Path

import lgbench.metrics
from lgbench.metrics import _hdr, _hgrm, _hlog, _operation, _registry


def test_all_is_sorted_and_complete() -> None:
    exported = lgbench.metrics.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    private = {
        *_hdr.__all__,
        *_hgrm.__all__,
        *_hlog.__all__,
        *_operation.__all__,
        *_registry.__all__,
    }
    assert set(exported) == private
    assert len(exported) == len(private)


def test_exported_objects_belong_to_the_package() -> None:
    for name in lgbench.metrics.__all__:
        obj = getattr(lgbench.metrics, name)
        if hasattr(obj, "__qualname__"):
            assert obj.__module__ == "lgbench.metrics", name


def test_only_one_module_imports_hdrh() -> None:
    for module in (_hgrm, _hlog, _operation, _registry):
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        assert "import hdrh" not in source and "from hdrh" not in source, module.__name__
    assert "from hdrh" in Path(str(_hdr.__file__)).read_text(encoding="utf-8")
