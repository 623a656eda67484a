"""Reading a run folder: every file optional, damaged lines noted, empty folders refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgbench.errors import UsageError
from lgbench.report._inputs import read_inputs, read_json_lines
from tests.report._fixtures import timeseries_line, write_history, write_timeseries


def test_a_cut_last_line_is_noted_and_the_rest_kept(tmp_path: Path) -> None:
    lines = [timeseries_line(float(s), float(s + 1)) for s in range(3)]
    write_timeseries(tmp_path / "timeseries.jsonl", lines, cut_last=True)
    objects, notes = read_json_lines(tmp_path / "timeseries.jsonl")
    assert len(objects) == 3  # the header and two whole intervals
    assert notes == ["timeseries.jsonl: the last line was cut short (ignored)"]


def test_a_bad_line_in_the_middle_is_skipped_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "timeseries.jsonl"
    path.write_text('{"a": 1}\nnot json\n[1, 2]\n{"b": 2}\n')
    objects, notes = read_json_lines(path)
    assert objects == [{"a": 1}, {"b": 2}]
    assert notes == [
        "timeseries.jsonl: line 2 is not JSON (skipped)",
        "timeseries.jsonl: line 3 is not a JSON object (skipped)",
    ]


def test_a_killed_run_folder_reads_from_the_history_header_and_timeseries(tmp_path: Path) -> None:
    write_history(tmp_path / "history.jsonl", cut_last=True)
    lines = [timeseries_line(float(s), float(s + 1)) for s in range(3)]
    write_timeseries(tmp_path / "timeseries.jsonl", lines, cut_last=True)
    inputs = read_inputs(tmp_path)
    assert inputs.summary is None and inputs.check is None and inputs.hlog is None
    assert inputs.history_header is not None
    assert inputs.history_header["workload"] == "synthetic"
    assert inputs.timeseries_header is not None
    assert inputs.timeseries_header["interval_s"] == 1.0
    assert [line["start_s"] for line in inputs.timeseries] == [0.0, 1.0]


def test_an_unreadable_summary_is_noted_not_fatal(tmp_path: Path) -> None:
    write_history(tmp_path / "history.jsonl")
    (tmp_path / "summary.json").write_text('{"schema_version": 1, "operat')
    inputs = read_inputs(tmp_path)
    assert inputs.summary is None
    assert inputs.notes and inputs.notes[0].startswith("summary.json: unreadable")


def test_a_folder_without_run_files_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UsageError, match=f"^{tmp_path}: not an lgbench run folder"):
        read_inputs(tmp_path)
    with pytest.raises(UsageError, match="no such directory"):
        read_inputs(tmp_path / "missing")
    (tmp_path / "history.jsonl").write_text("garbage\n")
    with pytest.raises(UsageError, match="not an lgbench run folder"):
        read_inputs(tmp_path)
