"""Only lgbench.metrics._hdr touches hdrhistogram (tests/test_public_api.py checks the rest)."""

from __future__ import annotations

from pathlib import Path

from lgbench.metrics import _hdr, _hgrm, _hlog, _operation, _registry


def test_only_one_module_imports_hdrh() -> None:
    for module in (_hgrm, _hlog, _operation, _registry):
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        assert "import hdrh" not in source and "from hdrh" not in source, module.__name__
    assert "from hdrh" in Path(str(_hdr.__file__)).read_text(encoding="utf-8")
