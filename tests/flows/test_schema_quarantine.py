"""A row failing validation sends its whole article to quarantine; the rest is written."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows import partition
from tests.conftest import SAMPLE_PAGE

DAY = date(2026, 6, 15)


def _curate(tmp_path: Path, nlp) -> tuple[Path, partition.PartitionReport]:  # type: ignore[no-untyped-def]
    raw = tmp_path / "raw"
    (raw / "cbn" / DAY.isoformat()).mkdir(parents=True)
    shutil.copy(SAMPLE_PAGE, raw / "cbn" / DAY.isoformat() / "page.txt")
    curated = tmp_path / "curated"
    report = partition.curate_partition(
        raw,
        curated,
        "cbn",
        DAY,
        ("cbn/2026-06-15/page.txt",),
        run_id="run-1",
        nlp=nlp,
        max_file_bytes=10**7,
    )
    return curated, report


def _assert_quarantined(
    curated: Path, report: partition.PartitionReport, victim: str, table: str
) -> None:
    assert report.reasons == {"schema": 1}
    assert report.files_curated == 1
    for name in ("articles", "paragraphs", "sentences", "tokens", "entities", "keywords"):
        frame = pl.read_parquet(curated / name)
        assert victim not in frame["article_id"].to_list(), name
        assert frame.height > 0, name
    quarantine = pl.read_parquet(curated / "quarantine")
    assert quarantine["reason"].to_list() == ["schema"]
    assert quarantine["raw_path"].to_list() == ["cbn/2026-06-15/page.txt"]
    detail = quarantine["detail"][0]
    assert victim in detail
    assert table in detail


def test_a_failing_token_quarantines_its_article_only(
    tmp_path: Path, nlp, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    """Found where the tokens are made (the file's analysis, in a worker when there are)."""
    real_analyse = partition.analyse_articles
    broken: list[str] = []

    def analyse_with_a_bad_token(articles, **kwargs):  # type: ignore[no-untyped-def]
        tables = real_analyse(articles, **kwargs)
        victim = tables["articles"]["article_id"][0]
        broken.append(victim)
        tokens = tables["tokens"].with_columns(
            pl.when((pl.col("article_id") == victim) & (pl.col("token_idx") == 5))
            .then(pl.lit("错"))
            .otherwise(pl.col("token"))
            .alias("token")
        )
        return {**tables, "tokens": tokens}

    monkeypatch.setattr(partition, "analyse_articles", analyse_with_a_bad_token)
    curated, report = _curate(tmp_path, nlp)
    (victim,) = broken
    _assert_quarantined(curated, report, victim, "tokens")


def test_a_failing_article_row_quarantines_its_article_only(
    tmp_path: Path, nlp, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    """Found where the partition is finished, which makes the articles table whole."""
    real_finish = partition.finish_tables
    broken: list[str] = []

    def finish_with_a_bad_article(analysed, **kwargs):  # type: ignore[no-untyped-def]
        tables = real_finish(analysed, **kwargs)
        victim = tables["articles"]["article_id"][0]
        broken.append(victim)
        articles = tables["articles"].with_columns(
            pl.when(pl.col("article_id") == victim)
            .then(pl.lit(1, dtype=pl.Int64))
            .otherwise(pl.col("n_chars"))
            .alias("n_chars")
        )
        return {**tables, "articles": articles}

    monkeypatch.setattr(partition, "finish_tables", finish_with_a_bad_article)
    curated, report = _curate(tmp_path, nlp)
    (victim,) = broken
    _assert_quarantined(curated, report, victim, "articles")
