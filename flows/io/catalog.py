"""Read the curated tables: one lazy frame per table, for a local root or an S3 root.

    from flows.io.catalog import scan
    orgs = scan("entities", start=date(2026, 6, 1)).filter(pl.col("entity_type") == "ORG")

A table is every `<table>/<partition>=<value>/*.parquet` below the root, listed once; the
staging, journal and state folders beside the tables are never read. Date and source
arguments drop whole files before polars opens any, and a filter on `pub_date` later in
the query drops them too (the date is in the path). Filters on other columns skip row
groups by their statistics (see the layouts in `flows.io.parquet`).

Columns and types come from the pandera models, not from the files: a file written before
a nullable column was added reads with that column null, and a column the models do not
know (a file from a newer version) is left out, so every partition reads alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl

from flows.io import store
from flows.io.parquet import NULL_PARTITION, PARTITION_COLUMN, RUNS_TABLE
from flows.io.store import Location, ObjectPath
from schemas.tables import TABLE_MODELS

TABLES = tuple(TABLE_MODELS)
# A curated root as a folder, an s3://bucket/prefix URL, or None for the configured one.
Root = str | Path | ObjectPath | None
RUN_PARTITION_COLUMN = "run_date"


class UnknownTable(ValueError):
    """A table name that is not one of the curated tables."""


@dataclass(frozen=True, order=True)
class TableFile:
    """One Parquet file of a table: its partition's date (None for the undated quarantine
    partition) and its name (the source, `_undated`, or a run id for `runs`)."""

    partition: date | None
    name: str
    path: Location


def partition_column(table: str) -> str:
    """`pub_date` for every table but `runs`, which is filed by the date a run started."""
    return RUN_PARTITION_COLUMN if table == RUNS_TABLE else PARTITION_COLUMN


def table_schema(table: str) -> pl.Schema:
    """The table as readers see it: the model's columns in the model's order, and the
    partition date."""
    model = _model(table)
    columns = {name: column.dtype.type for name, column in model.to_schema().columns.items()}
    if table == RUNS_TABLE:
        columns[RUN_PARTITION_COLUMN] = pl.Date()
    return pl.Schema(columns)


def curated_root(root: Root = None) -> Location:
    """The root given (a folder or an s3:// URL), else the one `zhnews` itself would use
    (`--curated`'s setting: ZHNEWS_CURATED, zhnews.toml, or data/curated)."""
    if root is None:
        from flows.settings import load_settings

        return store.location(str(load_settings().curated))
    return root if isinstance(root, ObjectPath) else store.location(root)


def list_files(
    table: str,
    root: Root = None,
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Iterable[str] | None = None,
) -> list[TableFile]:
    """A table's files in date order, from one listing; with `start` or `end`, only the
    dated partitions in that range; with `sources`, only those sources' files."""
    _model(table)
    where = curated_root(root) / table
    column = partition_column(table)
    wanted = None if sources is None else set(sources)
    found = []
    for path in where.glob(f"{column}=*/*.parquet"):
        value = path.parent.name.split("=", 1)[1]
        if value == NULL_PARTITION:
            day = None
        else:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                continue  # not a partition folder the pipeline writes
        if (start or end) and (day is None or (start and day < start) or (end and day > end)):
            continue
        if wanted is not None and path.stem not in wanted:
            continue
        found.append(TableFile(day, path.stem, path))
    return sorted(found, key=lambda f: (f.partition or date.min, f.name))


def scan(
    table: str,
    root: Root = None,
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Iterable[str] | None = None,
) -> pl.LazyFrame:
    """One curated table as a LazyFrame (see the module's docstring for what is read)."""
    schema = table_schema(table)
    files = list_files(table, root, start=start, end=end, sources=sources)
    if not files:
        return pl.LazyFrame(schema=schema)
    column = partition_column(table)
    paths = [str(f.path) for f in files]
    frame = pl.scan_parquet(
        paths,
        hive_partitioning=True,
        schema={name: dtype for name, dtype in schema.items() if name != column},
        hive_schema={column: pl.Date()},
        missing_columns="insert",
        extra_columns="ignore",
        storage_options=_storage_options(files[0].path),
    )
    return frame.select(schema.names())


def scan_all(
    root: Root = None,
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Iterable[str] | None = None,
) -> dict[str, pl.LazyFrame]:
    """Every table by name (`runs` whatever the dates and sources: it has neither)."""
    where = curated_root(root)
    return {
        table: scan(table, where)
        if table == RUNS_TABLE
        else scan(table, where, start=start, end=end, sources=sources)
        for table in TABLES
    }


def _model(table: str) -> type[pa.DataFrameModel]:
    try:
        return TABLE_MODELS[table]
    except KeyError:
        raise UnknownTable(
            f"no table {table!r}; the curated tables are {', '.join(TABLES)}"
        ) from None


def _storage_options(path: Location) -> dict[str, str] | None:
    return store.polars_storage_options(path) if isinstance(path, ObjectPath) else None
