"""The reader API on a dataset the pipeline built: every table, pruned by date and source,
typed by the models, on a local root and an S3 root, and across a schema change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.io import catalog, parquet
from flows.io.catalog import TABLES, UnknownTable, list_files, scan, scan_all, table_schema
from schemas.tables import TABLE_MODELS, Articles
from tests.datasets import JUNE_15, JUNE_16
from tests.s3 import Bucket


def _scalar_columns(frame: pl.DataFrame) -> list[str]:
    return [name for name, dtype in frame.schema.items() if not dtype.is_nested()]


def _plain(curated: Path, table: str) -> pl.DataFrame:
    """The table as a plain hive read sees it, in the model's column order."""
    frame = pl.read_parquet(curated / table, hive_partitioning=True)
    return frame.select(table_schema(table).names())


def test_every_table_reads_with_the_models_columns_and_types(curated_dataset: Path) -> None:
    frames = {t: lf.collect() for t, lf in scan_all(curated_dataset).items()}

    assert list(frames) == list(TABLES)
    for table, frame in frames.items():
        assert frame.schema == table_schema(table), table
    assert frames["articles"].height == 6  # 2 from the page, 4 from the wire
    assert set(frames["articles"]["source"]) == {"cbn", "wire"}
    assert frames["runs"].height == 1
    assert frames["runs"]["run_date"].dtype == pl.Date
    for table in ("articles", "entities", "tokens", "quarantine"):
        key = _scalar_columns(frames[table])
        assert_frame_equal(frames[table].sort(key), _plain(curated_dataset, table).sort(key))


def test_dates_and_sources_select_files_before_anything_is_read(curated_dataset: Path) -> None:
    june_16 = list_files("entities", curated_dataset, start=JUNE_16)
    assert [(f.partition, f.name) for f in june_16] == [(JUNE_16, "wire")]
    assert [f.name for f in list_files("tokens", curated_dataset, sources=["cbn"])] == ["cbn"]

    orgs = scan("entities", curated_dataset, start=JUNE_15, end=JUNE_15, sources=["wire"])
    plan = orgs.explain()
    assert "pub_date=2026-06-15/wire.parquet" in plan and "cbn.parquet" not in plan
    found = orgs.filter(pl.col("entity_type") == "ORG").collect()
    assert {"中国人民银行", "工商银行", "交通银行"} <= set(found["normalized"])
    assert (found["pub_date"] == JUNE_15).all()


def test_a_filter_on_pub_date_prunes_partitions(curated_dataset: Path) -> None:
    entities = scan("entities", curated_dataset)
    plan = entities.filter(pl.col("pub_date") == pl.date(2026, 6, 16)).explain()
    assert "pub_date=2026-06-16/wire.parquet" in plan
    assert "pub_date=2026-06-15" not in plan
    tickers = (
        entities.filter(pl.col("pub_date") == JUNE_16, pl.col("entity_type") == "TICKER")
        .select("normalized")
        .collect()
    )
    assert sorted(tickers["normalized"]) == ["600036.SH", "600519.SH", "601328.SH"]


def test_undated_quarantine_reads_as_a_null_date(curated_dataset: Path) -> None:
    quarantine = scan("quarantine", curated_dataset).collect()
    undated = quarantine.filter(pl.col("pub_date").is_null())
    assert undated["raw_path"].to_list() == ["wire/latest/x.txt"]
    assert undated["reason"].to_list() == ["bad_date"]
    dated = quarantine.filter(pl.col("pub_date") == JUNE_16)
    assert dated.select("raw_path", "record", "reason").rows() == [
        ("wire/2026-06-16/feed.jsonl", 3, "bad_json")
    ]
    # A date range means dated partitions only.
    ranged = scan("quarantine", curated_dataset, start=date(2026, 1, 1)).collect()
    assert ranged["pub_date"].null_count() == 0 and ranged.height == 1


def test_the_folders_beside_the_tables_are_never_read(curated_dataset: Path) -> None:
    assert (curated_dataset / "_state").is_dir()
    for table in TABLES:
        for file in list_files(table, curated_dataset):
            assert file.path.relative_to(curated_dataset).parts[0] == table


def test_a_table_without_files_is_empty_and_typed(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    frame = scan("quarantine", tmp_path).collect()
    assert frame.is_empty()
    assert frame.schema == table_schema("quarantine")
    with pytest.raises(UnknownTable, match="articles, paragraphs"):
        scan("article", tmp_path)


def test_the_root_defaults_to_the_configured_one(
    curated_dataset: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZHNEWS_CURATED", str(curated_dataset))
    assert scan("articles").collect().height == 6


# --------------------------------------------------------------------------- schema evolution


class ArticlesWithSentiment(Articles):
    """Articles, one release later: a nullable column added at the end."""

    sentiment: float = pa.Field(nullable=True, description="how positive the body reads")


def test_a_nullable_column_added_later_reads_as_null_in_older_partitions(
    curated_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from flows.io.sql import connect

    root = tmp_path / "curated"
    shutil.copytree(curated_dataset / "articles", root / "articles")
    # A partition written after the change carries the new column.
    newer = (
        scan("articles", root, start=JUNE_16)
        .collect()
        .with_columns(
            pl.Series("sentiment", [0.8, -0.2], dtype=pl.Float64),
            pl.lit(date(2026, 6, 17)).alias("pub_date"),
            pl.col("article_id") + "-17",
        )
    )
    parquet.commit(
        root, {parquet.partition_file(root, "articles", date(2026, 6, 17), "wire"): newer}
    )
    monkeypatch.setitem(TABLE_MODELS, "articles", ArticlesWithSentiment)

    read = scan("articles", root).collect()
    assert read.columns[-1] == "sentiment"
    assert read.schema["sentiment"] == pl.Float64
    by_day = read.group_by("pub_date").agg(pl.col("sentiment").is_null().all()).sort("pub_date")
    assert by_day.rows() == [(JUNE_15, True), (JUNE_16, True), (date(2026, 6, 17), False)]
    assert sorted(read.filter(pl.col("sentiment").is_not_null())["sentiment"]) == [-0.2, 0.8]

    con = connect(root)
    assert (
        "union_by_name = true"
        in con.sql("SELECT sql FROM duckdb_views() WHERE view_name = 'articles'").fetchall()[0][0]
    )
    rows = con.sql(
        "SELECT pub_date, count(sentiment), count(*) FROM articles GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert rows == [(JUNE_15, 0, 4), (JUNE_16, 0, 2), (date(2026, 6, 17), 2, 2)]

    # Only older partitions: the column is there, and null.
    only_old = tmp_path / "old"
    shutil.copytree(curated_dataset / "articles", only_old / "articles")
    assert scan("articles", only_old).collect()["sentiment"].null_count() == 6
    assert connect(only_old).sql("SELECT count(sentiment) FROM articles").fetchall() == [(0,)]


def test_a_column_the_models_do_not_know_is_left_out(curated_dataset: Path, tmp_path: Path) -> None:
    """Files a newer release wrote still read with this release's columns."""
    import shutil

    root = tmp_path / "curated"
    shutil.copytree(curated_dataset / "articles", root / "articles")
    target = parquet.partition_file(root, "articles", JUNE_16, "wire")
    newer = pl.read_parquet(target).with_columns(pl.lit("positive").alias("tone"))
    parquet.write_frame(newer, target, parquet.layout_of("articles"))

    read = scan("articles", root).collect()
    assert "tone" not in read.columns and read.height == 6


# --------------------------------------------------------------------------- object store


def test_an_s3_root_reads_like_the_same_folder(curated_dataset: Path, s3_bucket: Bucket) -> None:
    s3_bucket.upload(curated_dataset, "curated")
    url = s3_bucket.url("curated")

    for table in ("articles", "entities", "quarantine", "runs"):
        local = scan(table, curated_dataset).collect()
        remote = scan(table, url).collect()
        key = _scalar_columns(local)
        assert_frame_equal(remote.sort(key), local.sort(key))
    june_16 = scan("entities", url, start=JUNE_16).collect()
    assert set(june_16["pub_date"]) == {JUNE_16}
    assert catalog.curated_root(url) == catalog.curated_root(catalog.curated_root(url))
