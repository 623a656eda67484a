"""load_summary's refusals, each naming the file, and parse_percentage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lgbench.errors import UsageError
from lgbench.exitcodes import ExitCode
from lgbench.gate import load_summary, parse_percentage, summary_path
from tests.gate._summaries import operation, summary


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_a_file_or_a_run_folder(tmp_path: Path) -> None:
    content = summary({"runs.wait": operation()})
    file = write(tmp_path / "summary.json", json.dumps(content))
    assert load_summary(file) == content
    assert load_summary(tmp_path) == content
    assert load_summary(str(tmp_path)) == content
    assert summary_path(tmp_path) == file
    assert summary_path(file) == file


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("not-json.json", "{'operations': {}", "not JSON (line 1, column 2"),
        ("empty.json", "", "not JSON"),
        ("list.json", "[1, 2]", "not an lgbench summary"),
        ("check.json", json.dumps({"schema_version": 1, "valid": True}), "not an lgbench summary"),
        ("no-version.json", json.dumps({"operations": {}}), "not an lgbench summary"),
        (
            "future.json",
            json.dumps({"schema_version": 99, "operations": {}}),
            "schema_version 99 is not one this lgbench reads (1)",
        ),
        (
            "bool.json",
            json.dumps({"schema_version": True, "operations": {}}),
            "schema_version True",
        ),
        ("binary.json", "\udcff", "cannot read it"),
    ],
)
def test_refusals_name_the_file(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    if text == "\udcff":
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        write(path, text)
    with pytest.raises(UsageError) as raised:
        load_summary(path)
    assert str(path) in str(raised.value)
    assert says in str(raised.value)
    assert raised.value.exit_code == ExitCode.USAGE


def test_a_missing_file_or_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        load_summary(tmp_path / "no-such.json")
    assert str(raised.value) == f"{tmp_path / 'no-such.json'}: no such summary file"
    with pytest.raises(UsageError) as raised:
        load_summary(tmp_path)
    assert str(raised.value) == f"{tmp_path}: no summary.json in this run folder"


@pytest.mark.parametrize(
    ("text", "fraction"),
    [
        ("10%", 0.10),
        ("2.5%", 0.025),
        ("0%", 0.0),
        (" 15 % ", 0.15),
        ("150%", 1.5),
    ],
)
def test_parse_percentage(text: str, fraction: float) -> None:
    assert parse_percentage(text) == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("10", "write it with a percent sign"),
        ("0.1", "write it with a percent sign"),
        ("", "write it with a percent sign"),
        ("%", "not a percentage, e.g. 10%"),
        ("ten%", "not a percentage, e.g. 10%"),
        ("-5%", "at least 0%"),
        ("nan%", "finite"),
        ("inf%", "finite"),
    ],
)
def test_parse_percentage_refuses(text: str, says: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_percentage(text)
    assert repr(text) in str(raised.value)
    assert says in str(raised.value)
