"""``lgbench export``: a real run's tables read back with pandas and pyarrow, with the
documented columns and types, and the summary's counts; rotated, gzip-compressed history
segments read as one history; bad input is exit 2."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lgbench.errors import UsageError
from lgbench.export import TABLES, export_run
from lgbench.run import RunOptions, run_workload
from lgbench.workload import load_workload
from tests.monitor._workload import MIXED

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).parent.parent.parent
ARROW_TYPES = {
    "int": "int64",
    "float": "double",
    "str": "string",
    "bool": "bool",
    "time": "timestamp[us, tz=UTC]",
}


def lgbench(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgbench.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160"},
        check=False,
    )


@pytest.fixture(scope="module")
def real_run(langgraph_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A short real run whose history rotated into gzip segments (a small rotate size)."""
    import anyio

    folder = tmp_path_factory.mktemp("export")
    path = folder / "w.toml"
    path.write_text(MIXED, encoding="utf-8")

    async def run() -> Any:
        return await run_workload(
            load_workload(path),
            RunOptions(
                target=langgraph_url,
                out_dir=folder / "run",
                report=False,
                history_rotate_bytes=16_384,
            ),
        )

    result = anyio.run(run)
    return folder / "run", result.summary


def load_only(summary: dict[str, Any]) -> dict[str, Any]:
    return summary["operations"]


@pytest.mark.server
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_tables_have_the_documented_columns_and_the_summarys_counts(
    real_run: tuple[Path, Any], tmp_path: Path, fmt: str
) -> None:
    run_dir, summary = real_run
    assert list(run_dir.glob("history-*.jsonl.gz")), "the history should have rotated"
    result = export_run(run_dir, fmt, tmp_path / fmt)  # type: ignore[arg-type]
    assert result.issues == []
    assert set(result.files) == {table.name for table in TABLES}
    frames: dict[str, Any] = {}
    for table in TABLES:
        path = result.files[table.name]
        if fmt == "parquet":
            schema = pq.read_schema(path)
            assert [(f.name, str(f.type)) for f in schema] == [
                (c.name, ARROW_TYPES[c.type]) for c in table.columns
            ]
            frames[table.name] = pd.read_parquet(path)
        else:
            frames[table.name] = pd.read_csv(path)
            assert list(frames[table.name].columns) == [c.name for c in table.columns]
        assert len(frames[table.name]) == result.rows[table.name]

    operations = frames["operations"]
    load = operations[operations["scenario"] != "audit"]
    for name, op in summary["operations"].items():
        rows = load[load["operation"] == name]
        assert len(rows) == op["count"], name
        assert int(rows["error_kind"].isna().sum()) == op["ok"], name
        for status, count in op["errors_by_kind"]["http"].items():
            assert int((rows["http_status"] == int(status)).sum()) == count
    # The 404s of the missing thread, with their class and message.
    missing = load[load["scenario"] == "missing"]
    assert set(missing["error_kind"]) == {"http"} and set(missing["outcome"]) == {"fail"}
    assert set(missing["error_class"]) == {"NotFoundError"}
    created = load[load["operation"] == "threads.create"]
    assert created["thread_id"].notna().all()
    streams = load[load["operation"] == "runs.stream"]
    assert streams["run_id"].notna().all() and streams["thread_id"].notna().all()
    assert (load["latency_ms"] > 0).all()
    assert (load["end_s"] >= load["start_s"]).all()
    assert operations["index"].is_unique

    # The timeseries' per-interval counts add up to the summary's.
    timeseries = frames["timeseries"]
    for name, op in summary["operations"].items():
        rows = timeseries[timeseries["operation"] == name]
        assert int(rows["count"].sum()) == op["count"]
        assert int(rows["errors"].sum()) == op["errors"]
    intervals = frames["intervals"]
    waits = intervals[intervals["series"] == "threads.create"]
    assert int(waits["count"].sum()) == summary["operations"]["threads.create"]["count"]
    busy = waits[waits["count"] > 0]
    assert (busy["p50_ms"] <= busy["p99_ms"]).all() and (busy["p99_ms"] <= busy["max_ms"]).all()
    scenarios = frames["scenarios"]
    assert int(scenarios["dropped"].sum()) == summary["dropped_iterations"]


def test_csv_reads_a_gzip_segment_and_an_unfinished_operation(tmp_path: Path) -> None:
    """A killed run: the first segment compressed, the live file's last invoke without its
    completion (outcome unknown: ``info``, no end)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    header = {"type": "header", "schema_version": 1, "workload": "w", "segment": 1}
    first = [
        header,
        {"index": 0, "type": "invoke", "time_ns": 1_000_000, "wall": 1_700_000_000.0,
         "process": 0, "actor": 1, "scenario": "s", "f": "threads.create", "value": {},
         "error": None},
        {"index": 1, "type": "ok", "time_ns": 3_000_000, "wall": 1_700_000_000.002,
         "process": 0, "actor": 1, "scenario": "s", "f": "threads.create", "invoke_index": 0,
         "value": {"thread_id": "t1"}, "error": None},
    ]  # fmt: skip
    live = [
        {**header, "segment": 2, "continues": 1, "first_index": 2},
        {"index": 2, "type": "invoke", "time_ns": 4_000_000, "wall": 1_700_000_000.003,
         "process": 0, "actor": 1, "scenario": "s", "f": "runs.wait",
         "value": {"thread_id": "t1"}, "error": None},
        {"index": 3, "type": "info", "time_ns": 9_000_000, "wall": 1_700_000_000.008,
         "process": 0, "actor": 1, "scenario": "s", "f": "runs.wait", "invoke_index": 2,
         "value": None, "error": {"class": "ReadTimeout", "status": None, "message": "slow"}},
        {"index": 4, "type": "invoke", "time_ns": 10_000_000, "wall": 1_700_000_000.009,
         "process": 1, "actor": 1, "scenario": "s", "f": "threads.get",
         "value": {"thread_id": "t1"}, "error": None},
    ]  # fmt: skip
    with gzip.open(run_dir / "history-0001.jsonl.gz", "wt") as file:
        file.writelines(json.dumps(line) + "\n" for line in first)
    (run_dir / "history.jsonl").write_text("".join(json.dumps(line) + "\n" for line in live))
    done = lgbench("export", run_dir, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert "operations.csv: 3 rows" in done.stdout
    # No intervals or timeseries: said, and the tables are empty.
    assert "intervals.hlog: not in the run folder" in done.stderr
    table = pd.read_csv(run_dir / "export" / "operations.csv")
    assert list(table["operation"]) == ["threads.create", "runs.wait", "threads.get"]
    assert list(table["outcome"]) == ["ok", "info", "info"]
    assert table["error_kind"].iloc[1] == "timeout"
    assert table["latency_ms"].iloc[0] == pytest.approx(2.0)
    assert pd.isna(table["end_s"].iloc[2])
    assert table["start_time"].iloc[0] == "2023-11-14T22:13:20.000000+00:00"
    assert list(table["thread_id"]) == ["t1", "t1", "t1"]
    assert len(pd.read_csv(run_dir / "export" / "intervals.csv")) == 0


def test_bad_input_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    missing = lgbench("export", tmp_path / "nope", "--format", "csv")
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = lgbench("export", tmp_path / "empty", "--format", "parquet")
    assert empty.returncode == 2 and "not an lgbench run folder" in empty.stderr
    assert list((tmp_path / "empty").iterdir()) == []
    fmt = lgbench("export", tmp_path / "empty", "--format", "xlsx")
    assert fmt.returncode == 2 and "invalid choice: 'xlsx'" in fmt.stderr
    with pytest.raises(UsageError, match="expected csv or parquet"):
        export_run(tmp_path, "json")  # type: ignore[arg-type]


def test_docs_list_every_column() -> None:
    """docs/export.md names every table and column, in order, with its type."""
    text = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    for table in TABLES:
        section = text[text.index(f"## `{table.name}`") :]
        found = re.findall(r"^\| `([a-z0-9_]+)` \| (\w+) \|", section, re.MULTILINE)
        assert found[: len(table.columns)] == [(c.name, c.type) for c in table.columns]


def test_the_example_run_folder_exports(tmp_path: Path) -> None:
    example = ROOT / "reports" / "example"
    copy = tmp_path / "example"
    shutil.copytree(example, copy)
    result = export_run(copy, "csv")
    summary = json.loads((copy / "summary.json").read_text())
    table = pd.read_csv(result.files["operations"])
    load = table[table["scenario"] != "audit"]
    assert len(load) == sum(op["count"] for op in summary["operations"].values())


def test_reply_rates_have_their_own_table_and_old_hlogs_none(tmp_path: Path) -> None:
    """Chat reply rates (``<op>.tokens_per_s``, thousandths of a token per second) are not
    latencies: their lines go to ``reply_rates`` in tokens per second, not to ``intervals``;
    an .hlog from before the series has no such rows and nothing to complain about."""
    from lgbench.export._tables import INTERVALS, REPLY_RATES, table_rows
    from tests.report._fixtures import write_hlog

    write_hlog(
        tmp_path / "intervals.hlog",
        {
            "runs.stream": [[500_000] * 10] * 2,
            "runs.stream.tokens_per_s": [[40_000] * 9 + [8_000], []],
        },
    )
    issues: list[str] = []
    rates = list(table_rows(REPLY_RATES, tmp_path, issues))
    assert [row[:4] for row in rates] == [
        (0.0, 1.0, "runs.stream", 10),
        (1.0, 2.0, "runs.stream", 0),
    ]
    # min, p10, p50, mean, max in tokens per second (HDR bucket edges, within 0.1 %)
    assert rates[0][4:] == pytest.approx((8.0, 8.0, 40.0, 36.8, 40.0), rel=0.002)
    assert rates[1][4:] == (None,) * 5
    assert {row[2] for row in table_rows(INTERVALS, tmp_path, issues)} == {"runs.stream"}
    assert issues == []

    write_hlog(tmp_path / "intervals.hlog", {"runs.stream": [[500_000]] * 2})
    assert list(table_rows(REPLY_RATES, tmp_path, issues)) == [] and issues == []
