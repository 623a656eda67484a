"""Files written whole or not at all (summary.json, check.json, junit.xml, report.html)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgbench._atomic import write_atomically


def test_writes_text_and_bytes_and_makes_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "summary.json"
    assert write_atomically(target, "{}\n") == target
    assert target.read_text() == "{}\n"
    write_atomically(target, b"\xc3\xa9")
    assert target.read_text(encoding="utf-8") == "é"
    assert sorted(p.name for p in target.parent.iterdir()) == ["summary.json"]


def test_a_failed_rename_leaves_the_target_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.mkdir()  # the rename over a folder fails after the temporary file is written
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        write_atomically(target, "new")
    assert (target / "inside").read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
