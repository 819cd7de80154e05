"""DuckDB views over a dataset the pipeline built: one per table, typed by the models."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows.io import parquet
from flows.io.catalog import TABLES, scan, table_schema
from flows.io.sql import connect, sql_type, tables_in
from tests.datasets import JUNE_16
from tests.s3 import Bucket

ORGS_BY_SOURCE = """
    SELECT a.source, e.normalized AS org, count(*) AS mentions
    FROM entities e JOIN articles a USING (article_id, pub_date)
    WHERE e.entity_type = 'ORG'
    GROUP BY ALL ORDER BY source, mentions DESC, org
"""


def _orgs_by_source_in_polars(root: Path | str) -> list[tuple[str, str, int]]:
    entities = scan("entities", root).filter(pl.col("entity_type") == "ORG")
    articles = scan("articles", root).select("article_id", "pub_date", "source")
    frame = (
        entities.join(articles, on=["article_id", "pub_date"])
        .group_by("source", pl.col("normalized").alias("org"))
        .agg(pl.len().alias("mentions"))
        .sort(["source", "mentions", "org"], descending=[False, True, False])
        .collect()
    )
    return frame.rows()


def test_every_table_is_a_view_with_the_models_columns(curated_dataset: Path) -> None:
    con = connect(curated_dataset)
    for table in TABLES:
        described = con.sql(f"DESCRIBE {table}").fetchall()
        expected = [(name, sql_type(dtype)) for name, dtype in table_schema(table).items()]
        assert [(row[0], row[1]) for row in described] == expected, table
    assert con.sql("SELECT count(*) FROM articles").fetchall() == [(6,)]


def test_sql_and_polars_agree_on_a_join(curated_dataset: Path) -> None:
    rows = connect(curated_dataset).sql(ORGS_BY_SOURCE).fetchall()
    assert rows == _orgs_by_source_in_polars(curated_dataset)
    assert [r for r in rows if r[0] == "wire"][:2] == [
        ("wire", "招商银行", 3),
        ("wire", "中国人民银行", 2),
    ]


def _view_sql(con: object, table: str) -> str:
    rows = con.sql(f"SELECT sql FROM duckdb_views() WHERE view_name = '{table}'").fetchall()  # type: ignore[attr-defined]
    return str(rows[0][0])


def test_files_of_one_release_are_read_without_matching_columns_by_name(
    curated_dataset: Path,
) -> None:
    """Matching by name opens every footer at every query: only for mixed releases."""
    con = connect(curated_dataset)
    for table in TABLES:
        assert "union_by_name" not in _view_sql(con, table), table


def test_only_the_tables_a_statement_names_get_views(curated_dataset: Path) -> None:
    sql = "SELECT a.headline FROM articles a JOIN entities e USING (article_id) LIMIT 1"
    assert tables_in(sql) == ("articles", "entities")
    assert tables_in("SELECT count(*) FROM quarantine WHERE reason = 'schema'") == ("quarantine",)
    assert tables_in('SELECT * FROM "Tokens" t, Runs') == ("tokens", "runs")
    con = connect(curated_dataset, tables=tables_in(sql))
    views = {
        r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }
    assert views == {"articles", "entities"}


def test_a_filter_on_pub_date_reads_one_partition(curated_dataset: Path) -> None:
    con = connect(curated_dataset)
    plan = con.sql(
        "EXPLAIN ANALYZE SELECT count(*) FROM entities "
        "WHERE pub_date = DATE '2026-06-16' AND entity_type = 'TICKER'"
    ).fetchall()[0][1]
    assert "Total Files Read: 1" in plan
    assert con.sql(
        "SELECT list_sort(list(normalized)) FROM entities "
        "WHERE pub_date = DATE '2026-06-16' AND entity_type = 'TICKER'"
    ).fetchall() == [(["600036.SH", "600519.SH", "601328.SH"],)]


def test_undated_rows_and_empty_tables(curated_dataset: Path, tmp_path: Path) -> None:
    con = connect(curated_dataset)
    assert con.sql("SELECT raw_path, reason FROM quarantine WHERE pub_date IS NULL").fetchall() == [
        ("wire/latest/x.txt", "bad_date")
    ]

    shutil.copytree(curated_dataset / "articles", tmp_path / "articles")
    bare = connect(tmp_path)
    assert bare.sql("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
    assert [r[0] for r in bare.sql("DESCRIBE quarantine").fetchall()] == list(
        table_schema("quarantine")
    )


def test_a_view_sees_partitions_written_after_it_was_made(
    curated_dataset: Path, tmp_path: Path
) -> None:
    root = tmp_path / "curated"
    shutil.copytree(curated_dataset / "articles", root / "articles")
    con = connect(root)
    later = date(2026, 6, 17)
    frame = (
        scan("articles", root, start=JUNE_16)
        .collect()
        .with_columns(pl.col("article_id") + "-17", pl.lit(later).alias("pub_date"))
    )
    parquet.commit(root, {parquet.partition_file(root, "articles", later, "wire"): frame})
    assert con.sql(
        "SELECT count(*) FROM articles WHERE pub_date = DATE '2026-06-17'"
    ).fetchall() == [(2,)]


def test_an_s3_root_gives_the_same_answers(curated_dataset: Path, s3_bucket: Bucket) -> None:
    s3_bucket.upload(curated_dataset, "curated")
    con = connect(s3_bucket.url("curated"))
    assert (
        con.sql(ORGS_BY_SOURCE).fetchall()
        == connect(curated_dataset).sql(ORGS_BY_SOURCE).fetchall()
    )
    assert con.sql("SELECT count(*) FROM quarantine WHERE pub_date IS NULL").fetchall() == [(1,)]
    assert con.sql("SELECT run_date FROM runs").fetchall() == (
        connect(curated_dataset).sql("SELECT run_date FROM runs").fetchall()
    )


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (pl.String(), "VARCHAR"),
        (pl.List(pl.Int64()), "BIGINT[]"),
        (pl.Datetime("us", "UTC"), "TIMESTAMP WITH TIME ZONE"),
        (pl.Date, "DATE"),
    ],
)
def test_sql_types(dtype: pl.DataType, expected: str) -> None:
    assert sql_type(dtype) == expected
