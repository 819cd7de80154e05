"""The curated layout: hive partitions, journaled commits, crash recovery, run files."""

from __future__ import annotations

import itertools
import json
import os
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from flows.io import parquet
from flows.io.parquet import (
    JOURNAL_DIR,
    NULL_PARTITION,
    STAGING_DIR,
    commit,
    existing_partitions,
    partition_dir,
    partition_file,
    recover,
    write_run,
)

JUNE_15 = date(2026, 6, 15)
JUNE_16 = date(2026, 6, 16)

HEADLINES = [
    "央行开展2000亿元逆回购操作",
    "长江流域全面进入主汛期",
    "国务院常务会议部署稳就业工作",
    "5月份规模以上工业增加值同比增长5.6%",
]


def articles(pub_date: date | None, headlines: list[str], source: str = "cbn") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "article_id": [f"{source}-{pub_date}-{i}" for i in range(len(headlines))],
            "source": [source] * len(headlines),
            "pub_date": [pub_date] * len(headlines),
            "headline": headlines,
            "n_chars": [len(h) for h in headlines],
        },
        schema={
            "article_id": pl.String,
            "source": pl.String,
            "pub_date": pl.Date,
            "headline": pl.String,
            "n_chars": pl.Int64,
        },
    )


def tokens(pub_date: date, words: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "article_id": ["cbn-1"] * len(words),
            "pub_date": [pub_date] * len(words),
            "token_idx": list(range(len(words))),
            "token": words,
        },
        schema={
            "article_id": pl.String,
            "pub_date": pl.Date,
            "token_idx": pl.Int64,
            "token": pl.String,
        },
    )


def read_file(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path, hive_partitioning=False)


def leftovers(curated: Path) -> list[str]:
    """Files (not folders) left in staging or the journal."""
    found = []
    for folder in (STAGING_DIR, JOURNAL_DIR):
        base = curated / folder
        if base.exists():
            found += [p.relative_to(curated).as_posix() for p in base.rglob("*") if p.is_file()]
    return found


@pytest.fixture
def curated(tmp_path: Path) -> Path:
    return tmp_path / "curated"


# --------------------------------------------------------------------------- layout


def test_partition_paths() -> None:
    root = Path("/data/curated")
    assert partition_dir(root, "articles", JUNE_15) == root / "articles/pub_date=2026-06-15"
    assert partition_file(root, "tokens", JUNE_15, "cbn") == (
        root / "tokens/pub_date=2026-06-15/cbn.parquet"
    )
    assert partition_file(root, "quarantine", None, "_undated") == (
        root / f"quarantine/pub_date={NULL_PARTITION}/_undated.parquet"
    )


def test_commit_writes_hive_file_without_pub_date_inside(curated: Path) -> None:
    frame = articles(JUNE_15, HEADLINES[:2])
    target = partition_file(curated, "articles", JUNE_15, "cbn")

    commit(curated, {target: frame})

    assert target == curated / "articles" / "pub_date=2026-06-15" / "cbn.parquet"
    assert target.is_file()
    assert pq.read_schema(target).names == ["article_id", "source", "headline", "n_chars"]
    assert_frame_equal(read_file(target), frame.drop("pub_date"))
    assert leftovers(curated) == []


def test_commit_compresses_with_zstd(curated: Path) -> None:
    target = partition_file(curated, "articles", JUNE_15, "cbn")
    commit(curated, {target: articles(JUNE_15, HEADLINES)})
    meta = pq.ParquetFile(target).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_polars_reads_pub_date_back_as_date(curated: Path) -> None:
    commit(
        curated,
        {
            partition_file(curated, "articles", JUNE_15, "cbn"): articles(JUNE_15, HEADLINES[:2]),
            partition_file(curated, "articles", JUNE_15, "xinhua"): articles(
                JUNE_15, HEADLINES[2:3], "xinhua"
            ),
            partition_file(curated, "articles", JUNE_16, "cbn"): articles(JUNE_16, HEADLINES[3:]),
        },
    )

    table = (
        pl.scan_parquet(curated / "articles", hive_partitioning=True).collect().sort("article_id")
    )

    assert table.schema["pub_date"] == pl.Date
    assert table.columns.count("pub_date") == 1
    assert table.select("source", "pub_date", "headline").rows() == [
        ("cbn", JUNE_15, HEADLINES[0]),
        ("cbn", JUNE_15, HEADLINES[1]),
        ("cbn", JUNE_16, HEADLINES[3]),
        ("xinhua", JUNE_15, HEADLINES[2]),
    ]
    only_16 = pl.scan_parquet(curated / "articles", hive_partitioning=True).filter(
        pl.col("pub_date") == JUNE_16
    )
    assert only_16.collect()["headline"].to_list() == [HEADLINES[3]]


def test_pyarrow_reads_a_table_directory(curated: Path) -> None:
    commit(
        curated,
        {
            partition_file(curated, "articles", JUNE_15, "cbn"): articles(JUNE_15, HEADLINES[:2]),
            partition_file(curated, "articles", JUNE_16, "cbn"): articles(JUNE_16, HEADLINES[2:]),
        },
    )

    table = pq.read_table(curated / "articles")

    assert table.num_rows == 4
    assert table.column_names.count("pub_date") == 1
    pairs = sorted(
        zip(
            table.column("headline").to_pylist(),
            [str(v) for v in table.column("pub_date").to_pylist()],
            strict=True,
        )
    )
    assert pairs == sorted(
        [(h, "2026-06-15") for h in HEADLINES[:2]] + [(h, "2026-06-16") for h in HEADLINES[2:]]
    )


def test_pandas_reads_a_table_directory(curated: Path) -> None:
    import pandas as pd

    commit(
        curated,
        {
            partition_file(curated, "articles", JUNE_15, "cbn"): articles(JUNE_15, HEADLINES[:2]),
            partition_file(curated, "articles", JUNE_16, "cbn"): articles(JUNE_16, HEADLINES[2:]),
        },
    )
    frame = pd.read_parquet(curated / "articles")
    assert len(frame) == 4
    assert sorted(frame["headline"]) == sorted(HEADLINES)
    assert sorted(frame["pub_date"].astype(str).unique()) == ["2026-06-15", "2026-06-16"]


def test_duckdb_reads_a_table_with_hive_dates(curated: Path) -> None:
    import duckdb

    commit(
        curated,
        {
            partition_file(curated, "articles", JUNE_15, "cbn"): articles(JUNE_15, HEADLINES[:2]),
            partition_file(curated, "articles", JUNE_16, "xh"): articles(JUNE_16, HEADLINES[2:]),
        },
    )
    pattern = (curated / "articles" / "**" / "*.parquet").as_posix()
    rows = duckdb.sql(
        f"SELECT pub_date, count(*) FROM read_parquet('{pattern}', hive_partitioning = true) "
        "GROUP BY pub_date ORDER BY pub_date"
    ).fetchall()
    assert rows == [(JUNE_15, 2), (JUNE_16, 2)]


# --------------------------------------------------------------------------- replace / delete


def test_second_commit_replaces_the_file(curated: Path) -> None:
    target = partition_file(curated, "articles", JUNE_15, "cbn")
    commit(curated, {target: articles(JUNE_15, HEADLINES)})
    commit(curated, {target: articles(JUNE_15, HEADLINES[:2])})
    commit(curated, {target: articles(JUNE_15, HEADLINES[:2])})

    table = pl.read_parquet(curated / "articles", hive_partitioning=True)
    assert table.height == 2
    assert sorted(table["headline"].to_list()) == sorted(HEADLINES[:2])
    assert list(target.parent.iterdir()) == [target]
    assert leftovers(curated) == []


@pytest.mark.parametrize("gone", [None, articles(JUNE_15, []).clear()], ids=["none", "empty"])
def test_committing_nothing_deletes_file_and_empty_partition_dir(
    curated: Path, gone: pl.DataFrame | None
) -> None:
    cbn_15 = partition_file(curated, "articles", JUNE_15, "cbn")
    cbn_16 = partition_file(curated, "articles", JUNE_16, "cbn")
    commit(curated, {cbn_15: articles(JUNE_15, HEADLINES[:2]), cbn_16: articles(JUNE_16, ["副刊"])})

    commit(curated, {cbn_15: gone})

    assert not cbn_15.exists()
    assert not cbn_15.parent.exists()
    assert cbn_16.is_file()
    table = pl.read_parquet(curated / "articles", hive_partitioning=True)
    assert table["pub_date"].unique().to_list() == [JUNE_16]
    assert leftovers(curated) == []


def test_deleting_one_source_keeps_the_shared_partition_dir(curated: Path) -> None:
    cbn = partition_file(curated, "articles", JUNE_15, "cbn")
    xinhua = partition_file(curated, "articles", JUNE_15, "xinhua")
    commit(
        curated,
        {cbn: articles(JUNE_15, HEADLINES[:1]), xinhua: articles(JUNE_15, HEADLINES[1:2])},
    )

    commit(curated, {cbn: None})

    assert not cbn.exists()
    assert xinhua.is_file()
    assert read_file(xinhua)["headline"].to_list() == [HEADLINES[1]]


def test_deleting_a_file_that_never_existed_is_harmless(curated: Path) -> None:
    target = partition_file(curated, "entities", JUNE_15, "cbn")
    commit(curated, {target: None})
    assert not target.exists()
    assert not (curated / "entities").exists() or not any((curated / "entities").iterdir())
    assert leftovers(curated) == []


def test_one_commit_spans_several_tables(curated: Path) -> None:
    art = partition_file(curated, "articles", JUNE_15, "cbn")
    tok = partition_file(curated, "tokens", JUNE_15, "cbn")
    ent = partition_file(curated, "entities", JUNE_15, "cbn")
    commit(curated, {art: articles(JUNE_15, HEADLINES[:1]), ent: articles(JUNE_15, ["央行"])})

    commit(
        curated,
        {art: articles(JUNE_15, HEADLINES[1:2]), tok: tokens(JUNE_15, ["长江", "流域"]), ent: None},
    )

    assert read_file(art)["headline"].to_list() == [HEADLINES[1]]
    assert read_file(tok)["token"].to_list() == ["长江", "流域"]
    assert not ent.exists()


# --------------------------------------------------------------------------- crash recovery


def crash_on_replace(monkeypatch: pytest.MonkeyPatch, allowed: int) -> list[tuple[str, str]]:
    """Let `allowed` calls of os.replace through, then fail like a killed process would."""
    real = os.replace
    calls: list[tuple[str, str]] = []

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if len(calls) >= allowed:
            raise OSError("simulated crash")
        calls.append((str(src), str(dst)))
        real(src, dst)

    monkeypatch.setattr(parquet.os, "replace", replace)
    return calls


@pytest.fixture
def three_tables(curated: Path) -> dict[str, Path]:
    """An old version of one partition in three tables."""
    paths = {t: partition_file(curated, t, JUNE_15, "cbn") for t in ("a", "b", "c")}
    commit(curated, {p: articles(JUNE_15, [f"旧版{t}"]) for t, p in paths.items()})
    return paths


def test_journal_left_by_a_crash_mid_swap_is_rolled_forward(
    curated: Path, three_tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    new = {p: articles(JUNE_15, [f"新版{t}", "追加"]) for t, p in three_tables.items()}
    gone = partition_file(curated, "d", JUNE_15, "cbn")
    commit(curated, {gone: articles(JUNE_15, ["将被删除"])})
    new[gone] = None

    with monkeypatch.context() as m:
        calls = crash_on_replace(m, allowed=2)  # the journal rename, then one file move
        with pytest.raises(OSError, match="simulated crash"):
            commit(curated, new)

    # The crash left a mixed partition, a journal and staged files behind.
    assert len(calls) == 2
    assert calls[0][1].endswith(".json")
    headlines = {t: read_file(p)["headline"].to_list() for t, p in three_tables.items()}
    assert headlines == {"a": ["新版a", "追加"], "b": ["旧版b"], "c": ["旧版c"]}
    assert gone.exists()
    (journal,) = (curated / JOURNAL_DIR).glob("*.json")
    spec = json.loads(journal.read_text(encoding="utf-8"))
    assert [final for _, final in spec["moves"]] == [
        "a/pub_date=2026-06-15/cbn.parquet",
        "b/pub_date=2026-06-15/cbn.parquet",
        "c/pub_date=2026-06-15/cbn.parquet",
    ]
    assert spec["deletes"] == ["d/pub_date=2026-06-15/cbn.parquet"]
    assert any(p.startswith(STAGING_DIR) for p in leftovers(curated))

    assert recover(curated) == 1

    for t, path in three_tables.items():
        assert read_file(path)["headline"].to_list() == [f"新版{t}", "追加"]
    assert not gone.exists()
    assert not gone.parent.exists()
    assert leftovers(curated) == []
    assert not (curated / STAGING_DIR).exists()
    assert recover(curated) == 0


def test_handwritten_journal_is_rolled_forward(
    curated: Path, three_tables: dict[str, Path]
) -> None:
    """The on-disk format: `_journal/<token>.json` naming `_staging/<token>/...` moves."""
    token = "0123456789abcdef0123456789abcdef"
    moves = []
    for t, final in three_tables.items():
        final_rel = final.relative_to(curated).as_posix()
        staged_rel = f"{STAGING_DIR}/{token}/{final_rel}"
        if t != "a":  # "a" was already moved before the crash: its staged file is gone
            parquet.write_frame(articles(JUNE_15, [f"新版{t}"]), curated / staged_rel)
        moves.append([staged_rel, final_rel])
    parquet.write_frame(articles(JUNE_15, ["新版a"]), three_tables["a"])
    (curated / JOURNAL_DIR).mkdir(exist_ok=True)
    (curated / JOURNAL_DIR / f"{token}.json").write_text(
        json.dumps({"moves": moves, "deletes": []}), encoding="utf-8"
    )

    assert recover(curated) == 1

    for t, path in three_tables.items():
        assert read_file(path)["headline"].to_list() == [f"新版{t}"]
    assert leftovers(curated) == []
    assert not (curated / STAGING_DIR).exists()


def test_crash_before_the_journal_leaves_old_data_and_orphan_staging(
    curated: Path, three_tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    new = {p: articles(JUNE_15, ["不应出现的新版"]) for p in three_tables.values()}
    with monkeypatch.context() as m:
        crash_on_replace(m, allowed=0)
        with pytest.raises(OSError, match="simulated crash"):
            commit(curated, new)
    assert list((curated / STAGING_DIR).rglob("*.parquet"))
    assert not list((curated / JOURNAL_DIR).glob("*.json"))

    assert list((curated / JOURNAL_DIR).glob("*.json.tmp"))

    assert recover(curated) == 0

    assert not (curated / STAGING_DIR).exists()
    assert not list((curated / JOURNAL_DIR).iterdir())
    for t, path in three_tables.items():
        assert read_file(path)["headline"].to_list() == [f"旧版{t}"]


def test_a_file_that_fails_to_stage_stops_the_commit_before_the_journal(
    curated: Path, three_tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files are staged side by side: one that cannot be written fails the commit with
    its own error, after the others have been written, and nothing is swapped."""
    real = parquet.write_frame

    def write(frame: pl.DataFrame, path: Path, *args: object) -> None:
        if path.parent.parent.name == "b":  # <table>/pub_date=<day>/<source>.parquet
            raise OSError("disk full")
        real(frame, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parquet, "write_frame", write)
    with pytest.raises(OSError, match="disk full"):
        commit(curated, {p: articles(JUNE_15, ["不应出现的新版"]) for p in three_tables.values()})
    assert not list((curated / JOURNAL_DIR).glob("*.json"))
    assert len(list((curated / STAGING_DIR).rglob("*.parquet"))) == 2
    recover(curated)
    for t, path in three_tables.items():
        assert read_file(path)["headline"].to_list() == [f"旧版{t}"]


def test_orphan_staging_without_journal_is_removed(
    curated: Path, three_tables: dict[str, Path]
) -> None:
    orphan = curated / STAGING_DIR / "deadbeef" / "a" / "pub_date=2026-06-15" / "cbn.parquet"
    parquet.write_frame(articles(JUNE_15, ["孤儿文件"]), orphan)
    (curated / STAGING_DIR / "run-r0.parquet").write_bytes(b"PAR1")

    assert recover(curated) == 0

    assert not (curated / STAGING_DIR).exists()
    for t, path in three_tables.items():
        assert read_file(path)["headline"].to_list() == [f"旧版{t}"]


def test_recover_on_a_fresh_root_does_nothing(curated: Path) -> None:
    curated.mkdir()
    assert recover(curated) == 0
    assert list(curated.iterdir()) == []


# --------------------------------------------------------------------------- discovery


def test_existing_partitions(curated: Path) -> None:
    commit(
        curated,
        {
            partition_file(curated, "articles", JUNE_15, "cbn"): articles(JUNE_15, HEADLINES[:1]),
            partition_file(curated, "articles", JUNE_16, "xinhua"): articles(
                JUNE_16, HEADLINES[1:2], "xinhua"
            ),
            partition_file(curated, "quarantine", date(2026, 6, 17), "cbn"): articles(
                date(2026, 6, 17), ["乱码文件"]
            ),
            partition_file(curated, "quarantine", None, "_undated"): articles(None, ["无日期"]),
            partition_file(curated, "tokens", date(2026, 6, 18), "people-daily"): tokens(
                date(2026, 6, 18), ["人民"]
            ),
        },
    )
    garbage = curated / "articles" / "pub_date=latest" / "cbn.parquet"
    parquet.write_frame(articles(JUNE_15, ["错放"]), garbage)

    assert existing_partitions(curated, ["articles", "quarantine"]) == {
        ("cbn", JUNE_15),
        ("xinhua", JUNE_16),
        ("cbn", date(2026, 6, 17)),
    }
    assert existing_partitions(curated, ["tokens"]) == {("people-daily", date(2026, 6, 18))}
    assert existing_partitions(curated, ["keywords"]) == set()


def test_existing_partitions_forgets_deleted_ones(curated: Path) -> None:
    target = partition_file(curated, "articles", JUNE_15, "cbn")
    commit(curated, {target: articles(JUNE_15, HEADLINES[:1])})
    assert existing_partitions(curated, ["articles"]) == {("cbn", JUNE_15)}
    commit(curated, {target: None})
    assert existing_partitions(curated, ["articles"]) == set()


# --------------------------------------------------------------------------- runs


def run_row(run_id: str, status: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"run_id": [run_id], "status": [status], "partitions": [3], "note": ["日常批处理"]}
    )


def test_write_run_places_one_file_per_run(curated: Path) -> None:
    first = write_run(curated, run_row("r-001", "completed"), "r-001", JUNE_15)
    second = write_run(curated, run_row("r-002", "partial"), "r-002", JUNE_15)
    third = write_run(curated, run_row("r-003", "failed"), "r-003", JUNE_16)

    assert first == curated / "runs" / "run_date=2026-06-15" / "r-001.parquet"
    assert second == curated / "runs" / "run_date=2026-06-15" / "r-002.parquet"
    assert third == curated / "runs" / "run_date=2026-06-16" / "r-003.parquet"
    assert sorted(p.name for p in (curated / "runs" / "run_date=2026-06-15").iterdir()) == [
        "r-001.parquet",
        "r-002.parquet",
    ]
    assert read_file(first).rows() == [("r-001", "completed", 3, "日常批处理")]

    runs = pl.read_parquet(curated / "runs", hive_partitioning=True).sort("run_id")
    assert runs["run_id"].to_list() == ["r-001", "r-002", "r-003"]
    assert runs["run_date"].to_list() == [JUNE_15, JUNE_15, JUNE_16]
    assert leftovers(curated) == []


def test_write_run_does_not_touch_partitions(curated: Path) -> None:
    target = partition_file(curated, "articles", JUNE_15, "cbn")
    commit(curated, {target: articles(JUNE_15, HEADLINES[:1])})
    write_run(curated, run_row("r-001", "completed"), "r-001", JUNE_15)
    assert existing_partitions(curated, ["articles"]) == {("cbn", JUNE_15)}
    assert read_file(target)["headline"].to_list() == HEADLINES[:1]


# --------------------------------------------------------------------------- reader layout


@pytest.fixture(scope="module")
def news_tables(nlp) -> dict[str, pl.DataFrame]:  # type: ignore[no-untyped-def]
    """The article tables of 40 short finance articles (the builders' three, over and over
    from other files): more than one row group's worth of articles."""
    from tests.schemas.builders import ARTICLES, PUB, record_articles
    from transforms.tables import build_tables

    batch = [
        art
        for n in range(14)
        for art in record_articles(
            ARTICLES, raw_path=f"cbn/2026-06-15/feed-{n}.jsonl", pub_date=PUB
        )
    ][:40]
    return build_tables(batch, run_id="layout", nlp=nlp)


def _groups(path: Path) -> list[pq.RowGroupMetaData]:
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i) for i in range(meta.num_row_groups)]


def _column(group: pq.RowGroupMetaData, name: str) -> pq.ColumnChunkMetaData:
    return next(
        group.column(i) for i in range(group.num_columns) if group.column(i).path_in_schema == name
    )


def test_every_layout_names_columns_of_its_table_and_sorts_on_its_key() -> None:
    from schemas.tables import TABLE_MODELS, table_key

    assert set(parquet.LAYOUTS) == set(TABLE_MODELS)
    for table, layout in parquet.LAYOUTS.items():
        model = TABLE_MODELS[table]
        columns = set(model.to_schema().columns) - {"pub_date"}
        assert layout.columns() <= columns, table
        # Constant within a file (the path holds them): the rest of the key sorts the rows,
        # so they have one order whatever order they were built in.
        assert set(table_key(model)) - {"pub_date", "source"} <= set(layout.sort_by), table


def test_layouts_leave_the_rows_unchanged_and_in_key_order(
    curated: Path, news_tables: dict[str, pl.DataFrame]
) -> None:
    targets = parquet.partition_files(curated, news_tables, "cbn", JUNE_15)
    commit(curated, {targets[t]: frame for t, frame in news_tables.items()})
    for table, frame in news_tables.items():
        back = read_file(targets[table])
        order = list(parquet.LAYOUTS[table].sort_by)
        assert back.columns == [c for c in frame.columns if c != "pub_date"]
        assert_frame_equal(back, frame.drop("pub_date").sort(order))
        meta = pq.ParquetFile(targets[table]).metadata
        recorded = meta.row_group(0).sorting_columns
        assert [back.columns[c.column_index] for c in recorded] == order

    # The same rows in another order give the same bytes.
    shuffled = {t: f.sample(fraction=1.0, shuffle=True, seed=7) for t, f in news_tables.items()}
    again = curated.parent / "again"
    commit(
        again, {parquet.partition_file(again, t, JUNE_15, "cbn"): f for t, f in shuffled.items()}
    )
    for table in news_tables:
        assert parquet.partition_file(again, table, JUNE_15, "cbn").read_bytes() == (
            targets[table].read_bytes()
        ), table


def _busy_day(curated: Path, table: str, frame: pl.DataFrame, min_rows: int) -> Path:
    """The table's file as a day with many more rows would have it: the layout's groups,
    with the group size the test's few articles can fill."""
    from dataclasses import replace

    layout = replace(parquet.LAYOUTS[table], min_group_rows=min_rows)
    target = partition_file(curated, table, JUNE_15, "cbn")
    assert isinstance(target, Path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(parquet.encode_parquet(frame.drop("pub_date"), layout))
    return target


def test_an_ordinary_day_is_one_row_group_per_file(
    curated: Path, news_tables: dict[str, pl.DataFrame]
) -> None:
    targets = parquet.partition_files(curated, news_tables, "cbn", JUNE_15)
    commit(curated, {targets[t]: frame for t, frame in news_tables.items()})
    for table in news_tables:
        assert len(_groups(targets[table])) == 1, table


def test_article_tables_keep_whole_articles_in_each_row_group(
    curated: Path, news_tables: dict[str, pl.DataFrame]
) -> None:
    target = _busy_day(curated, "tokens", news_tables["tokens"], min_rows=300)
    groups = _groups(target)
    tokens = read_file(target)

    assert len(groups) > 2
    ranges = []
    offset = 0
    for group in groups:
        ids = tokens["article_id"].slice(offset, group.num_rows)
        offset += group.num_rows
        stats = _column(group, "article_id").statistics
        assert (stats.min, stats.max) == (ids.min(), ids.max())
        ranges.append((stats.min, stats.max))
        assert _column(group, "article_id").bloom_filter_offset is not None
        assert _column(group, "start").encodings.count("DELTA_BINARY_PACKED") == 1
    assert all(g.num_rows >= 300 for g in groups[:-1])
    # An article's rows never straddle two groups: the ranges follow each other.
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))


def test_entity_types_are_never_split_between_row_groups(
    curated: Path, news_tables: dict[str, pl.DataFrame]
) -> None:
    entities = news_tables["entities"]
    one_each = _groups(_busy_day(curated, "entities", entities, min_rows=1))
    types = []
    for group in one_each:
        stats = _column(group, "entity_type").statistics
        assert stats.min == stats.max
        types.append(stats.min)
        assert _column(group, "normalized").bloom_filter_offset is not None
    assert types == sorted(set(entities["entity_type"]))
    assert "TICKER" in types and "MONEY" in types

    several = _groups(_busy_day(curated, "entities", entities, min_rows=40))
    assert 1 < len(several) < len(one_each)
    bounds = [
        (_column(g, "entity_type").statistics.min, _column(g, "entity_type").statistics.max)
        for g in several
    ]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bounds))


def test_row_group_statistics_let_readers_skip_what_a_filter_rules_out(
    curated: Path, news_tables: dict[str, pl.DataFrame]
) -> None:
    import duckdb
    import pyarrow.dataset as ds

    entities = _busy_day(curated, "entities", news_tables["entities"], min_rows=1)
    fragment = next(ds.dataset(entities, format="parquet").get_fragments())
    tickers = fragment.split_by_row_group(ds.field("entity_type") == "TICKER")
    assert len(tickers) == 1 < fragment.num_row_groups
    assert set(tickers[0].to_table()["entity_type"].to_pylist()) == {"TICKER"}

    # DuckDB also reads the Bloom filters: a ticker that is not there reads no row group.
    plan = duckdb.sql(
        f"EXPLAIN ANALYZE SELECT * FROM read_parquet('{entities}') WHERE normalized = '000001.SZ'"
    ).fetchall()[0][1]
    assert f"Row Groups Scanned: 0 / {fragment.num_row_groups}" in plan

    tokens = _busy_day(curated, "tokens", news_tables["tokens"], min_rows=300)
    wanted = news_tables["tokens"]["article_id"].max()
    fragment = next(ds.dataset(tokens, format="parquet").get_fragments())
    assert len(fragment.split_by_row_group(ds.field("article_id") == wanted)) == 1


def test_unindexed_columns_carry_no_statistics(
    curated: Path, news_tables: dict[str, pl.DataFrame]
) -> None:
    target = partition_file(curated, "articles", JUNE_15, "cbn")
    commit(curated, {target: news_tables["articles"]})
    group = _groups(target)[0]
    assert not _column(group, "text").is_stats_set
    assert _column(group, "headline").is_stats_set
    assert _column(group, "n_chars").statistics.has_min_max


def test_a_frame_without_its_layouts_columns_is_written_as_it_comes(curated: Path) -> None:
    target = partition_file(curated, "entities", JUNE_15, "cbn")
    frame = articles(JUNE_15, list(reversed(HEADLINES)))
    commit(curated, {target: frame})
    assert_frame_equal(read_file(target), frame.drop("pub_date"))
    assert len(_groups(target)) == 1


def test_a_new_layout_makes_every_partition_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from flows.io import state

    before = state.current_versions()
    changed = dict(parquet.LAYOUTS)
    changed["tokens"] = replace(changed["tokens"], min_group_rows=4_096)
    monkeypatch.setattr(state, "LAYOUTS", changed)
    state.current_versions.cache_clear()
    try:
        after = state.current_versions()
    finally:
        state.current_versions.cache_clear()
    assert after.pipeline != before.pipeline
    assert after.dictionaries == before.dictionaries


def test_one_partitions_scratch_goes_and_the_rest_of_the_run_stays(tmp_path: Path) -> None:
    frames = {"articles": articles(JUNE_15, HEADLINES[:2])}
    kept = parquet.scratch_dir(tmp_path, "run-1", "cbn", JUNE_15, 0)
    gone = parquet.scratch_dir(tmp_path, "run-1", "cbn", JUNE_16, 0)
    other_source = parquet.scratch_dir(tmp_path, "run-1", "wire", JUNE_16, 0)
    for folder in (kept, gone, other_source):
        parquet.write_scratch(frames, folder)
    parquet.remove_scratch(tmp_path, "run-1", ("cbn", JUNE_16))
    assert not gone.exists()
    assert parquet.read_scratch(kept)["articles"].equals(frames["articles"])
    assert (other_source / "articles.parquet").is_file()
    parquet.remove_scratch(tmp_path, "run-1")
    assert not kept.parent.parent.parent.exists()
