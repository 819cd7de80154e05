"""The running doc_freq window sums what reading the window afresh sums, reading less."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from flows.io import doc_freq_window, parquet
from flows.io.doc_freq_window import DocFreqWindow
from transforms.keywords import DOC_FREQ_DTYPES, corpus_counts

WORDS = ["央行", "逆回购", "利率", "银行", "股市", "基金", "债券", "汇率", "通胀", "就业", "楼市"]
FIRST = date(2026, 1, 1)


def _write(curated: Path, source: str, day: date, rng: random.Random) -> None:
    words = rng.sample(WORDS, rng.randint(0, len(WORDS)))
    n_docs = rng.randint(1, 30)
    frame = pl.DataFrame(
        {
            "word": sorted(words),
            "df": [rng.randint(1, n_docs) for _ in words],
            "source": [source] * len(words),
            "pub_date": [day] * len(words),
            "n_docs": [n_docs] * len(words),
        },
        schema=DOC_FREQ_DTYPES,
    )
    parquet.commit(curated, {parquet.partition_file(curated, "doc_freq", day, source): frame})


def _fresh(curated: Path, start: date, end: date) -> tuple[dict[str, int], int]:
    earlier = parquet.read_window(curated, "doc_freq", list(DOC_FREQ_DTYPES), start=start, end=end)
    return corpus_counts(earlier if earlier is not None else pl.DataFrame(schema=DOC_FREQ_DTYPES))


def test_a_moving_window_sums_what_a_fresh_read_sums(tmp_path: Path) -> None:
    """Two sources, days missing, a window of 30 days moved a day at a time over 120 days:
    the same sums and counts as reading each window whole, reading only the files that
    enter or leave."""
    rng = random.Random(6)
    for offset in range(120):
        for source in ("cbn", "wire"):
            if rng.random() < 0.8:
                _write(tmp_path, source, FIRST + timedelta(days=offset), rng)
    window = DocFreqWindow(tmp_path, "run")
    reads = []
    for offset in range(31, 121):
        day = FIRST + timedelta(days=offset)
        start, end = day - timedelta(days=30), day - timedelta(days=1)
        df, docs = window.counts(start, end)
        assert (dict(df), docs) == _fresh(tmp_path, start, end), day
        reads.append(window.last_reads)
    assert reads[0] > 30  # the first window is read whole
    assert max(reads[1:]) <= 4  # then two days at most leave and two enter


def test_a_file_rewritten_or_removed_inside_the_window_is_read_again(tmp_path: Path) -> None:
    rng = random.Random(7)
    for offset in range(10):
        _write(tmp_path, "cbn", FIRST + timedelta(days=offset), rng)
    window = doc_freq_window.for_run(tmp_path, "run")
    start, end = FIRST, FIRST + timedelta(days=9)
    window.counts(start, end)

    _write(tmp_path, "cbn", FIRST + timedelta(days=3), random.Random(99))
    assert (dict(window.counts(start, end)[0]), window.docs) == _fresh(tmp_path, start, end)

    gone = parquet.partition_file(tmp_path, "doc_freq", FIRST + timedelta(days=5), "cbn")
    doc_freq_window.replaced(tmp_path, [gone])
    parquet.commit(tmp_path, {gone: None})
    assert window.stale
    assert (dict(window.counts(start, end)[0]), window.docs) == _fresh(tmp_path, start, end)
    assert window.last_reads == len(parquet.table_files(tmp_path, "doc_freq"))  # all, afresh


def test_a_file_that_changed_before_it_left_the_window_makes_it_read_afresh(
    tmp_path: Path,
) -> None:
    rng = random.Random(8)
    for offset in range(6):
        _write(tmp_path, "cbn", FIRST + timedelta(days=offset), rng)
    window = DocFreqWindow(tmp_path, "run")
    window.counts(FIRST, FIRST + timedelta(days=4))
    # Changed behind the window's back, then out of the window: its old counts are gone.
    _write(tmp_path, "cbn", FIRST, random.Random(5))
    start, end = FIRST + timedelta(days=1), FIRST + timedelta(days=5)
    assert (dict(window.counts(start, end)[0]), window.docs) == _fresh(tmp_path, start, end)


@pytest.mark.parametrize("other", ["another-run", "another-root"])
def test_each_run_and_root_has_its_own_window(tmp_path: Path, other: str) -> None:
    first = doc_freq_window.for_run(tmp_path, "run")
    assert doc_freq_window.for_run(tmp_path, "run") is first
    root, run = (tmp_path, other) if other == "another-run" else (tmp_path / "b", "run")
    assert doc_freq_window.for_run(root, run) is not first
