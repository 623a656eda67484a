"""A run folder's results as tables for notebooks: ``lgbench export`` (docs/export.md).

:func:`export_run` writes the history (one row per operation), the intervals' latency
percentiles and chat reply rates, and the timeseries' counts as CSV (standard library) or
Parquet (pyarrow, the ``export`` extra), readable by pandas, polars and DuckDB.
:data:`TABLES` holds every table's columns, their types and meaning.
"""

from __future__ import annotations

from lgbench.export._tables import TABLES, Column, ColumnType, Row, Table, table_rows
from lgbench.export._write import ExportFormat, ExportResult, export_run

__all__ = [
    "TABLES",
    "Column",
    "ColumnType",
    "ExportFormat",
    "ExportResult",
    "Row",
    "Table",
    "export_run",
    "table_rows",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("lgbench.export._"):
        _obj.__module__ = __name__
del _name, _obj
