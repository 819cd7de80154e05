"""The query benchmark at a tiny size: the generated partitions, the report's shape and its
agreement between layouts; no timing target is asserted."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from benchmarks import queries
from benchmarks.queries import Options, analysed_pool, partition_tables, run_benchmark

TINY = Options(days=4, sources=2, articles=6, pool=8, repeat=1)


@pytest.fixture(scope="module")
def pool(nlp) -> dict[str, pl.DataFrame]:  # type: ignore[no-untyped-def]
    return analysed_pool(TINY.pool, seed=TINY.seed)


def test_a_partition_is_a_sample_of_the_pool_under_new_ids_and_its_date(
    pool: dict[str, pl.DataFrame],
) -> None:
    day = date(2025, 3, 1)
    tables = partition_tables(pool, source="source2", day=day, articles=5, rng=random.Random(1))
    articles = tables["articles"]
    assert articles.height == 5 and articles["article_id"].is_unique().all()
    assert set(articles["article_id"]).isdisjoint(pool["articles"]["article_id"])
    assert (articles["source"] == "source2").all()
    for table, frame in tables.items():
        assert frame.columns == pool[table].columns, table
        assert (frame["pub_date"] == day).all(), table
        assert set(frame["article_id"]) <= set(articles["article_id"]), table
    # Each article keeps all its sentences and entities; tickers take listed codes.
    assert tables["sentences"].height == articles["n_sentences"].sum()
    tickers = tables["entities"].filter(pl.col("entity_type") == "TICKER")
    assert tickers.height > 0
    assert set(tickers["normalized"]) <= set(queries.TICKER_CODES)
    assert (tickers["text"] == tickers["normalized"].str.slice(0, 6)).all()


@pytest.fixture(scope="module")
def report(nlp, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("queries")
    return run_benchmark(Options(**{**TINY.__dict__, "work_dir": work}))


def test_both_layouts_hold_the_same_year(report: dict[str, Any]) -> None:
    data = report["data"]
    assert data["partitions"] == 8 and data["articles"] == 48
    work = Path(report["options"]["work_dir"])
    for table in queries.TABLES:
        base = pl.read_parquet(work / "baseline" / table, hive_partitioning=True)
        reader = pl.read_parquet(work / "reader" / table, hive_partitioning=True)
        assert base.height == reader.height == data["rows"][table], table
        key = [c for c, t in base.schema.items() if not t.is_nested()]
        assert base.sort(key).equals(reader.select(base.columns).sort(key)), table
        assert data["bytes"]["reader"][table] > 0


def test_every_query_is_timed_in_both_engines_and_layouts(report: dict[str, Any]) -> None:
    names = [row["query"] for row in report["queries"]]
    assert names == ["org_day", "ticker_year", "article_sentences", "keyword_year", "org_year"]
    for row in report["queries"]:
        assert row["rows"] >= 1, row["query"]
        for engine in ("polars", "duckdb"):
            timing = row[engine]
            for layout in queries.LAYOUTS:
                assert 0 < timing[layout]["min_s"] <= timing[layout]["median_s"]
            assert timing["speedup_median"] > 0
    by_name = {row["query"]: row for row in report["queries"]}
    # One day: one file per source opened, whatever the layout; a tiny day is one group.
    for layout in queries.LAYOUTS:
        assert by_name["org_day"]["duckdb_row_groups"][layout] == (TINY.sources,) * 2
    assert by_name["org_year"]["duckdb_row_groups"]["baseline"] == (8, 8)
    # Bloom filters: DuckDB skips the days without the ticker only in the reader layout.
    ticker = by_name["ticker_year"]["duckdb_row_groups"]
    assert ticker["reader"][0] <= ticker["baseline"][0] == 8


def test_the_report_is_written_as_json_and_markdown(report: dict[str, Any], tmp_path: Path) -> None:
    md = queries.write_results(report, tmp_path / "queries.json")
    assert json.loads((tmp_path / "queries.json").read_text(encoding="utf-8"))["queries"]
    text = md.read_text(encoding="utf-8")
    assert "| query | engine |" in text and "one day's ORG mentions" in text
    assert "| entities |" in text
