"""Duplicates across files, sources and dates are flagged, never removed."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl

from flows.partition import curate_partition
from tests.conftest import SAMPLE_PAGE

DAY = date(2026, 6, 15)


def _curate(raw: Path, curated: Path, source: str, day: date, nlp) -> None:  # type: ignore[no-untyped-def]
    folder = raw / source / day.isoformat()
    files = tuple(sorted(p.relative_to(raw).as_posix() for p in folder.iterdir()))
    curate_partition(raw, curated, source, day, files, run_id="r", nlp=nlp, max_file_bytes=10**7)


def test_the_same_page_from_two_sources_and_a_day_later(tmp_path: Path, nlp):  # type: ignore[no-untyped-def]
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    for source, day, name in (
        ("cbn", DAY, "page-1.txt"),
        ("cbn", DAY, "page-2.txt"),  # the same page delivered twice
        ("reprint", DAY, "p.txt"),
        ("reprint", date(2026, 6, 16), "p.txt"),
    ):
        (raw / source / day.isoformat()).mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE_PAGE, raw / source / day.isoformat() / name)

    _curate(raw, curated, "cbn", DAY, nlp)
    _curate(raw, curated, "reprint", DAY, nlp)
    _curate(raw, curated, "reprint", date(2026, 6, 16), nlp)

    articles = pl.read_parquet(curated / "articles", hive_partitioning=True).sort(
        "pub_date", "source", "raw_path", "raw_article_idx"
    )
    assert articles.height == 8  # nothing removed
    second = articles.filter(pl.col("raw_path") == "cbn/2026-06-15/page-2.txt")
    assert second["duplicate_of"].null_count() == 0
    first = articles.filter(pl.col("raw_path") == "cbn/2026-06-15/page-1.txt")
    assert first["duplicate_of"].is_null().all()
    original_ids = set(first["article_id"])
    copies = articles.filter(pl.col("raw_path") != "cbn/2026-06-15/page-1.txt")
    assert set(copies["duplicate_of"]) == original_ids
    # Each copy points at the article with the same headline.
    by_id = dict(first.select("article_id", "headline").iter_rows())
    for headline, duplicate_of in copies.select("headline", "duplicate_of").iter_rows():
        assert by_id[duplicate_of] == headline


def test_rerunning_the_original_partition_keeps_it_original(tmp_path: Path, nlp):  # type: ignore[no-untyped-def]
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    for source in ("cbn", "reprint"):
        (raw / source / DAY.isoformat()).mkdir(parents=True)
        shutil.copy(SAMPLE_PAGE, raw / source / DAY.isoformat() / "page.txt")
    _curate(raw, curated, "reprint", DAY, nlp)  # processed first, but ordered after cbn
    _curate(raw, curated, "cbn", DAY, nlp)
    _curate(raw, curated, "reprint", DAY, nlp)

    articles = pl.read_parquet(curated / "articles", hive_partitioning=True)
    cbn = articles.filter(pl.col("source") == "cbn")
    reprint = articles.filter(pl.col("source") == "reprint")
    assert cbn["duplicate_of"].is_null().all()
    assert set(reprint["duplicate_of"]) == set(cbn["article_id"])
