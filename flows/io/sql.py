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
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds

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


def connect(root: Root = None, *, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per curated table."""
    where = curated_root(root)
    con = duckdb.connect(database)
    for table in TABLES:
        register_view(con, table, where)
    return con


def register_view(con: duckdb.DuckDBPyConnection, table: str, root: Location) -> None:
    schema = table_schema(table)
    source = _source(con, table, root)
    if source is None:
        columns = [f"CAST(NULL AS {sql_type(t)}) AS {quote(c)}" for c, t in schema.items()]
        body = f"SELECT {', '.join(columns)} WHERE false"
    else:
        present = {row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        columns = [
            quote(c) if c in present else f"CAST(NULL AS {sql_type(t)}) AS {quote(c)}"
            for c, t in schema.items()
        ]
        body = f"SELECT {', '.join(columns)} FROM {source}"
    con.execute(f"CREATE OR REPLACE VIEW {quote(table)} AS {body}")


def _source(con: duckdb.DuckDBPyConnection, table: str, root: Location) -> str | None:
    """What a view selects from, or None when the table has no file yet."""
    files = list_files(table, root)
    if not files:
        return None
    column = partition_column(table)
    if isinstance(root, Path):
        pattern = str(root.resolve() / table / f"{column}=*" / "*.parquet")
        return (
            f"read_parquet({literal(pattern)}, hive_partitioning = true, "
            f"union_by_name = true, hive_types = {{{literal(column)}: DATE}})"
        )
    name = f"_{table}_files"
    con.register(name, _dataset(table, root, [f.path for f in files]))
    return quote(name)


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
