"""`zhnews query` and `zhnews tables`: SQL over the curated tables, and what they hold,
printed for a terminal (a table) or for other programs (CSV, JSON, JSON lines)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

import polars as pl
from rich.console import Console
from rich.table import Table

from flows.io import catalog
from flows.io.catalog import Root
from flows.io.parquet import RUNS_TABLE, UNDATED_FILE
from flows.io.sql import connect, tables_in

Format = Literal["table", "csv", "json", "jsonl"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json", "jsonl")
CELL_CHARS = 60


def run_query(sql: str, root: Root = None) -> pl.DataFrame | None:
    """The result of one SQL statement over every table's view (None when DuckDB gives no
    relation back)."""
    con = connect(root, tables=tables_in(sql))
    try:
        relation = con.sql(sql)
        return None if relation is None else relation.pl()
    finally:
        con.close()


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = text.replace("\n", "⏎")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def print_table(frame: pl.DataFrame, console: Console, *, max_rows: int = 0) -> None:
    """A boxed table, cells cut at CELL_CHARS characters (Chinese text counts double on a
    terminal), the first `max_rows` rows (all with 0), then how many rows there are."""
    table = Table(show_lines=False, header_style="bold")
    for name, dtype in frame.schema.items():
        numeric = dtype.is_numeric()
        table.add_column(name, justify="right" if numeric else "left", overflow="ellipsis")
    shown = frame if max_rows <= 0 else frame.head(max_rows)
    for row in shown.iter_rows():
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    more = frame.height - shown.height
    rows = f"{frame.height} row{'' if frame.height == 1 else 's'}"
    console.print(f"({rows}, {more} not shown: --max-rows 0 shows all)" if more else f"({rows})")


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV holds no lists or structs: they become JSON text."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.Series(
            name,
            [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in frame[name].to_list()
            ],
            dtype=pl.String,
        )
        for name in nested
    )


def as_text(frame: pl.DataFrame, fmt: str) -> str:
    """The whole result as CSV (header first), a JSON array of objects, or one JSON object
    per line."""
    if fmt == "csv":
        return _flat(frame).write_csv()
    if fmt == "json":
        return json.dumps(frame.to_dicts(), ensure_ascii=False, default=_json_default) + "\n"
    if fmt == "jsonl":
        return "".join(
            json.dumps(row, ensure_ascii=False, default=_json_default) + "\n"
            for row in frame.iter_rows(named=True)
        )
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def _json_default(value: object) -> str:
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return str(value)


def table_summary(root: Root = None, tables: Sequence[str] = catalog.TABLES) -> pl.DataFrame:
    """Per table: files, partitions, first and last date, rows (from the files' footers)."""
    where = catalog.curated_root(root)
    rows = []
    for table in tables:
        files = catalog.list_files(table, where)
        days = sorted({f.partition for f in files if f.partition is not None})
        count = catalog.scan(table, where).select(pl.len()).collect().item() if files else 0
        rows.append(
            {
                "table": table,
                "partition": catalog.partition_column(table),
                "files": len(files),
                "dates": len(days),
                "first": days[0] if days else None,
                "last": days[-1] if days else None,
                "sources": None
                if table == RUNS_TABLE
                else len({f.name for f in files if f.name != UNDATED_FILE}),
                "rows": count,
                "columns": len(catalog.table_schema(table)),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "table": pl.String,
            "partition": pl.String,
            "files": pl.Int64,
            "dates": pl.Int64,
            "first": pl.Date,
            "last": pl.Date,
            "sources": pl.Int64,
            "rows": pl.Int64,
            "columns": pl.Int64,
        },
    )
