"""DuckDB over the curated tables: every table a view, named as the table.

    con = connect("data/curated")
    con.sql("SELECT normalized, count(*) FROM entities WHERE entity_type = 'ORG' GROUP BY 1")

On a local root a view reads `<table>/*/*.parquet` with DuckDB's own Parquet reader, so
it sees partitions added after it was made, prunes partitions on `pub_date` and row groups
on statistics and Bloom filters. On an S3 root a view reads a pyarrow dataset over the
files listed when the connection was made, through the same connection the pipeline uses
(`flows.io.store`), so no DuckDB extension has to be downloaded.

Every view has the model's columns and types, in the model's order, whatever the files
hold: a column added later reads as NULL in older partitions (or everywhere, before any
file has it), and a table without files is an empty view rather than a missing one.

Files written by different releases can hold different columns, and DuckDB reads those
right only by matching every file's columns by name (`union_by_name`), which opens every
file's footer at every query, even one that reads a single day. So the columns of each
file are looked at once, when the view is made: when they are the same in all files (the
usual case: a new release rewrites every partition), the view reads them plainly and a
one-day query opens one day's files. A view made before files with other columns appear
keeps the columns it was made with; connect again to see them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from flows.io.catalog import (
    TABLES,
    Root,
    curated_root,
    list_files,
    partition_column,
    table_schema,
)
from flows.io.store import Location, ObjectPath

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

_SCALAR_TYPES: Mapping[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Date: "DATE",
    pl.Boolean: "BOOLEAN",
}


def sql_type(dtype: PolarsDataType) -> str:
    """The DuckDB type a curated column reads as."""
    if isinstance(dtype, type):
        dtype = dtype()
    if isinstance(dtype, pl.List):
        return f"{sql_type(dtype.inner)}[]"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP WITH TIME ZONE" if dtype.time_zone else "TIMESTAMP"
    for base, name in _SCALAR_TYPES.items():
        if isinstance(dtype, base):
            return name
    raise TypeError(f"no DuckDB type for {dtype}")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(
    root: Root = None, *, tables: Iterable[str] = TABLES, database: str = ":memory:"
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view for each of `tables` (every curated table)."""
    where = curated_root(root)
    con = duckdb.connect(database)
    for table in tables:
        register_view(con, table, where)
    return con


def tables_in(sql: str) -> tuple[str, ...]:
    """The curated tables whose names appear in a statement as words (SQL names are not
    case-sensitive), so that a one-off query makes only the views it may read; a word that
    only looks like a table costs one view more, never a missing one."""
    words = {word.lower() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
    return tuple(t for t in TABLES if t in words)


def register_view(con: duckdb.DuckDBPyConnection, table: str, root: Location) -> None:
    found = _source(con, table, root)
    # A table without files yet is an empty view of NULL columns.
    source, present = found if found is not None else (None, set[str]())
    columns = [
        quote(c) if c in present else f"CAST(NULL AS {sql_type(t)}) AS {quote(c)}"
        for c, t in table_schema(table).items()
    ]
    rows = "WHERE false" if source is None else f"FROM {source}"
    con.execute(f"CREATE OR REPLACE VIEW {quote(table)} AS SELECT {', '.join(columns)} {rows}")


def _source(
    con: duckdb.DuckDBPyConnection, table: str, root: Location
) -> tuple[str, set[str]] | None:
    """What a view selects from and the columns it finds there, or None when the table
    has no file yet."""
    files = list_files(table, root)
    if not files:
        return None
    column = partition_column(table)
    if isinstance(root, Path):
        layouts = {tuple(pq.read_schema(f.path).names) for f in files}
        pattern = str(root.resolve() / table / f"{column}=*" / "*.parquet")
        by_name = "union_by_name = true, " if len(layouts) > 1 else ""
        source = (
            f"read_parquet({literal(pattern)}, hive_partitioning = true, {by_name}"
            f"hive_types = {{{literal(column)}: DATE}})"
        )
        return source, {name for names in layouts for name in names} | {column}
    name = f"_{table}_files"
    con.register(name, _dataset(table, root, [f.path for f in files]))
    return quote(name), set(table_schema(table))


def _dataset(table: str, root: ObjectPath, paths: list[Location]) -> ds.Dataset:
    """A pyarrow dataset over a table's objects, with the model's schema: objects without
    a column give nulls for it."""
    column = partition_column(table)
    arrow = (
        pl.DataFrame(schema=table_schema(table))
        .to_arrow(compat_level=pl.CompatLevel.oldest())
        .schema
    )
    base = root / table
    return ds.dataset(
        [p.key for p in paths if isinstance(p, ObjectPath)],
        schema=arrow,
        format="parquet",
        filesystem=root.fs,
        partitioning=ds.partitioning(pa.schema([(column, pa.date32())]), flavor="hive"),
        partition_base_dir=base.key,
    )
