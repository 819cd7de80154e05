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


# A row made bad in one step of the first article: (the step of `flows.partition` that
# makes the table, the table, the column, its bad value, which of the article's rows).
BAD_ROWS = {
    # Found where the tokens are made (the file's analysis, in a worker when there are).
    "token": ("analyse_articles", "tokens", "token", pl.lit("错"), pl.col("token_idx") == 5),
    # Found where the partition is finished, which makes the articles table whole.
    "article": ("finish_tables", "articles", "n_chars", pl.lit(1, dtype=pl.Int64), pl.lit(True)),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_failing_row_quarantines_its_article_only(
    tmp_path: Path, nlp, monkeypatch: pytest.MonkeyPatch, case: str
):  # type: ignore[no-untyped-def]
    step, table, column, value, which = BAD_ROWS[case]
    real_step = getattr(partition, step)
    broken: list[str] = []

    def step_with_a_bad_row(first, **kwargs):  # type: ignore[no-untyped-def]
        tables = real_step(first, **kwargs)
        victim = tables["articles"]["article_id"][0]
        broken.append(victim)
        bad = tables[table].with_columns(
            pl.when((pl.col("article_id") == victim) & which)
            .then(value)
            .otherwise(pl.col(column))
            .alias(column)
        )
        return {**tables, table: bad}

    monkeypatch.setattr(partition, step, step_with_a_bad_row)
    curated, report = _curate(tmp_path, nlp)
    (victim,) = broken
    _assert_quarantined(curated, report, victim, table)
