"""``lgbench export``: a run folder's tables written as CSV (stdlib) or Parquet (pyarrow).

Rows stream from :func:`table_rows` into the file in batches, so a soak's history never has
to fit in memory. A table's file is written beside its final name and renamed into place when
complete: an interrupted export leaves no half table under a table's name.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, final

from lgbench.errors import UsageError
from lgbench.export._tables import TABLES, Column, Row, Table, table_rows

__all__ = ["ExportFormat", "ExportResult", "export_run"]

ExportFormat: TypeAlias = Literal["csv", "parquet"]

_BATCH_ROWS: Final = 50_000


@final
@dataclass(slots=True)
class ExportResult:
    """What was written: per table its file and row count; what was skipped (``issues``)."""

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)


def export_run(run_dir: Path, fmt: ExportFormat, out_dir: Path | None = None) -> ExportResult:
    """Write every table of ``run_dir`` (:data:`TABLES`) into ``out_dir`` (default
    ``RUN_DIR/export``) as ``<table>.csv`` or ``<table>.parquet``.

    Raises :class:`UsageError` for a folder that is no run folder, a format lgbench does not
    write, Parquet without pyarrow, or an output folder that cannot be written.
    """
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"--format {fmt!r}: expected csv or parquet")
    if not run_dir.is_dir():
        what = "not a folder" if run_dir.exists() else "no such folder"
        raise UsageError(f"{run_dir}: {what} (give a run folder)")
    if not any(run_dir.glob("history*.jsonl*")):
        raise UsageError(f"{run_dir}: not an lgbench run folder (no history.jsonl in it)")
    writer = _write_parquet if fmt == "parquet" else _write_csv
    if fmt == "parquet":
        _pyarrow()
    target = out_dir if out_dir is not None else run_dir / "export"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {target}: cannot create it: {exc.strerror or exc}") from None
    result = ExportResult(target)
    for table in TABLES:
        path = target / f"{table.name}.{fmt}"
        partial = path.with_name(f".{path.name}.partial")
        try:
            count = writer(table, table_rows(table, run_dir, result.issues), partial)
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        result.files[table.name] = path
        result.rows[table.name] = count
    return result


def _batches(rows: Iterable[Row]) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


# -- csv ----------------------------------------------------------------------------------------


def _csv_cell(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.type == "time":
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="microseconds")
    if column.type == "bool":
        return "true" if value else "false"
    return value


def _write_csv(table: Table, rows: Iterable[Row], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        out = csv.writer(file)
        out.writerow([column.name for column in table.columns])
        for batch in _batches(rows):
            out.writerows(
                [_csv_cell(column, value) for column, value in zip(table.columns, row, strict=True)]
                for row in batch
            )
            count += len(batch)
    return count


# -- parquet ------------------------------------------------------------------------------------


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(
            "--format parquet needs pyarrow: pip install 'lgbench[export]' (or use --format csv)"
        ) from None
    return pyarrow


def _arrow_type(pa: Any, column: Column) -> Any:
    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "str": pa.string(),
        "bool": pa.bool_(),
        "time": pa.timestamp("us", tz="UTC"),
    }[column.type]


def _arrow_values(column: Column, values: Sequence[Any]) -> list[Any]:
    if column.type == "time":
        return [None if v is None else round(v * 1_000_000) for v in values]
    if column.type == "float":
        return [None if v is None else float(v) for v in values]
    return list(values)


def _write_parquet(table: Table, rows: Iterable[Row], path: Path) -> int:
    pa = _pyarrow()
    schema = pa.schema(
        [pa.field(column.name, _arrow_type(pa, column), nullable=True) for column in table.columns],
        metadata={"lgbench.table": table.name, "lgbench.row": table.row},
    )
    count = 0
    with pa.parquet.ParquetWriter(str(path), schema) as writer:
        for batch in _batches(rows):
            columns = list(zip(*batch, strict=True))
            arrays = [
                pa.array(_arrow_values(column, values), type=_arrow_type(pa, column))
                for column, values in zip(table.columns, columns, strict=True)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(batch)
        if not count:
            writer.write_table(schema.empty_table())
    return count
