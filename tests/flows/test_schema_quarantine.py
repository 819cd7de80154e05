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


def test_failing_rows_quarantine_their_article_only(
    tmp_path: Path, nlp, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    raw = tmp_path / "raw"
    (raw / "cbn" / DAY.isoformat()).mkdir(parents=True)
    shutil.copy(SAMPLE_PAGE, raw / "cbn" / DAY.isoformat() / "page.txt")
    curated = tmp_path / "curated"
    real_finish = partition.finish_tables
    broken: list[str] = []

    def finish_with_a_bad_token(analysed, **kwargs):  # type: ignore[no-untyped-def]
        tables = real_finish(analysed, **kwargs)
        victim = tables["articles"]["article_id"][0]
        broken.append(victim)
        tokens = tables["tokens"].with_columns(
            pl.when((pl.col("article_id") == victim) & (pl.col("token_idx") == 5))
            .then(pl.lit("错"))
            .otherwise(pl.col("token"))
            .alias("token")
        )
        return {**tables, "tokens": tokens}

    monkeypatch.setattr(partition, "finish_tables", finish_with_a_bad_token)
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

    (victim,) = broken
    assert report.reasons == {"schema": 1}
    assert report.files_curated == 1
    for table in ("articles", "paragraphs", "sentences", "tokens", "entities", "keywords"):
        frame = pl.read_parquet(curated / table)
        assert victim not in frame["article_id"].to_list(), table
        assert frame.height > 0, table
    quarantine = pl.read_parquet(curated / "quarantine")
    assert quarantine["reason"].to_list() == ["schema"]
    assert quarantine["raw_path"].to_list() == ["cbn/2026-06-15/page.txt"]
    detail = quarantine["detail"][0]
    assert victim in detail
    assert "tokens" in detail
