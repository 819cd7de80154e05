"""Curating one partition end to end on a temporary tree, without Prefect."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows import partition as partition_module
from flows.io.parquet import NULL_PARTITION, existing_partitions, partition_file
from flows.io.raw import Rejected, list_raw
from flows.io.state import UNKNOWN, read_state, stamp_files
from flows.partition import (
    CURATED_TABLES,
    DOC_FREQ_TABLE,
    QUARANTINE_TABLE,
    FileAnalysis,
    PartitionReport,
    analyse_file,
    curate_partition,
    finish_partition,
    merge_parts,
    remove_partition,
    write_undated_quarantine,
)
from transforms.documents import WHOLE, Share
from transforms.keywords import CONTENT_POS, is_candidate_word
from transforms.tables import NlpModels

JUNE_15 = date(2026, 6, 15)
PAGE = "cbn/2026-06-15/page-1.txt"
FEED = "cbn/2026-06-15/feed.jsonl"
SCAN = "cbn/2026-06-15/scan.txt"
MAX_BYTES = 1_000_000

GOOD_1 = {
    "id": "cbn-20260615-001",
    "title": "央行开展2000亿元逆回购操作",
    "authors": ["王晓", "李明"],
    "url": "https://www.cb.com.cn/index/show/jr/cv/cv1234567",
    "pub_date": "2026-06-15",
    "text": (
        "中国人民银行6月15日以利率招标方式开展了2000亿元7天期逆回购操作,中标利率为1.4%。\n"
        "业内人士表示,此举旨在对冲税期高峰等因素的影响,维护银行体系流动性合理充裕。"
    ),
}
GOOD_2 = {
    "id": "cbn-20260615-005",
    "title": "长江流域全面进入主汛期",
    "text": (
        "水利部6月15日发布消息,长江流域已全面进入主汛期,中下游部分河段水位持续上涨。\n"
        "各地防汛部门加强值守,细化落实防御措施,确保人民群众生命财产安全。"
    ),
}
FEED_LINES = [
    json.dumps(GOOD_1, ensure_ascii=False),  # 1: curated
    '{"id": "cbn-20260615-002", "title": "稿件被截断", "text": "上海证券交易所',  # 2: bad_json
    json.dumps({"id": "cbn-20260615-003", "title": "只有标题没有正文"}, ensure_ascii=False),
    json.dumps(  # 4: date_mismatch
        {
            "id": "cbn-20260615-004",
            "pub_date": "2026-06-14",
            "text": "上海证券交易所今日发布公告,科创板新增三家上市公司,募资总额逾五十亿元。",
        },
        ensure_ascii=False,
    ),
    "",  # 5: blank, holds no record
    json.dumps(  # 6: duplicate_id
        {"id": "cbn-20260615-001", "text": "同一编号的第二条稿件应当被拒绝,即使正文内容不同。"},
        ensure_ascii=False,
    ),
    json.dumps(GOOD_2, ensure_ascii=False),  # 7: curated
]
EXPECTED_QUARANTINE = [
    (FEED, 2, "bad_json"),
    (FEED, 3, "no_text"),
    (FEED, 4, "date_mismatch"),
    (FEED, 6, "duplicate_id"),
    (SCAN, None, "not_text"),
]
BINARY = random.Random(20260615).randbytes(2048)

Curated = tuple[Path, Path, tuple[str, ...], PartitionReport]


def build_tree(raw: Path, sample_page_text: str) -> tuple[str, ...]:
    folder = raw / "cbn" / "2026-06-15"
    folder.mkdir(parents=True)
    (folder / "page-1.txt").write_text(sample_page_text, encoding="utf-8")
    (folder / "feed.jsonl").write_text("\n".join(FEED_LINES) + "\n", encoding="utf-8")
    (folder / "scan.txt").write_bytes(BINARY)
    (partition,) = list_raw(raw).partitions
    assert partition.files == (FEED, PAGE, SCAN)
    return partition.files


def curate(
    raw: Path, curated: Path, files: tuple[str, ...], run_id: str, nlp: NlpModels
) -> PartitionReport:
    return curate_partition(
        raw, curated, "cbn", JUNE_15, files, run_id=run_id, nlp=nlp, max_file_bytes=MAX_BYTES
    )


def read_table(curated: Path, table: str) -> pl.DataFrame:
    return pl.scan_parquet(curated / table, hive_partitioning=True).collect()


def all_tables(curated: Path) -> dict[str, pl.DataFrame]:
    return {t: read_table(curated, t) for t in CURATED_TABLES if (curated / t).exists()}


@pytest.fixture(scope="module")
def curated_once(
    tmp_path_factory: pytest.TempPathFactory, sample_page_text: str, nlp: NlpModels
) -> Curated:
    base = tmp_path_factory.mktemp("partition")
    raw, curated = base / "raw", base / "curated"
    files = build_tree(raw, sample_page_text)
    report = curate(raw, curated, files, "run-1", nlp)
    return raw, curated, files, report


def test_report_counts_files_and_records(curated_once: Curated) -> None:
    _, curated, _, report = curated_once
    articles = read_table(curated, "articles")
    page_articles = articles.filter(pl.col("raw_path") == PAGE).height

    assert (report.source, report.pub_date) == ("cbn", JUNE_15)
    assert report.files_seen == 3
    assert report.files_curated == 2
    assert report.files_quarantined == 1
    assert report.records_curated == 2
    assert report.records_quarantined == 4
    assert page_articles >= 1
    assert report.rows["articles"] == articles.height == page_articles + 2
    assert report.rows["quarantine"] == 5
    assert report.reasons == {
        "bad_json": 1,
        "no_text": 1,
        "date_mismatch": 1,
        "duplicate_id": 1,
        "not_text": 1,
    }
    for table, rows in report.rows.items():
        on_disk = read_table(curated, table).height if (curated / table).exists() else 0
        assert rows == on_disk, table


def test_quarantine_rows_carry_reason_and_record_line(curated_once: Curated) -> None:
    _, curated, _, _ = curated_once
    quarantine = read_table(curated, QUARANTINE_TABLE)

    rows = quarantine.select("raw_path", "record", "reason").rows()
    assert sorted(rows, key=str) == sorted(EXPECTED_QUARANTINE, key=str)
    assert quarantine["source"].unique().to_list() == ["cbn"]
    assert quarantine["pub_date"].unique().to_list() == [JUNE_15]
    assert quarantine["run_id"].unique().to_list() == ["run-1"]
    details = dict(zip(quarantine["record"], quarantine["detail"], strict=True))
    assert "2026-06-14" in details[4]
    assert "cbn-20260615-001" in details[6]
    assert "line 1" in details[6]


def test_articles_keep_lineage_to_raw_files(curated_once: Curated) -> None:
    raw, curated, _, _ = curated_once
    articles = read_table(curated, "articles")
    feed_sha = hashlib.sha256((raw / FEED).read_bytes()).hexdigest()
    page_sha = hashlib.sha256((raw / PAGE).read_bytes()).hexdigest()

    records = articles.filter(pl.col("raw_path") == FEED).sort("raw_record")
    assert records["raw_record"].to_list() == [1, 7]
    assert records["external_id"].to_list() == [GOOD_1["id"], GOOD_2["id"]]
    assert records["headline"].to_list() == [GOOD_1["title"], GOOD_2["title"]]
    assert records["authors"].to_list() == [["王晓", "李明"], []]
    assert records["url"].to_list() == [GOOD_1["url"], None]
    assert records["raw_sha256"].unique().to_list() == [feed_sha]
    assert "2000亿元7天期逆回购" in records["text"][0]
    assert "长江流域已全面进入主汛期" in records["text"][1]

    page = articles.filter(pl.col("raw_path") == PAGE)
    assert page["raw_record"].null_count() == page.height
    assert page["raw_sha256"].unique().to_list() == [page_sha]
    assert page["external_id"].null_count() == page.height
    assert any("微短剧" in text for text in page["text"])

    assert articles["raw_encoding"].unique().to_list() == ["utf-8"]
    assert articles["source"].unique().to_list() == ["cbn"]
    assert articles["pub_date"].unique().to_list() == [JUNE_15]
    assert articles["run_id"].unique().to_list() == ["run-1"]
    assert articles["article_id"].is_unique().all()
    assert SCAN not in articles["raw_path"].to_list()


def test_every_table_is_one_file_for_the_partition(curated_once: Curated) -> None:
    _, curated, _, _ = curated_once
    ids = set(read_table(curated, "articles")["article_id"])
    for table in CURATED_TABLES:
        path = partition_file(curated, table, JUNE_15, "cbn")
        assert path.is_file(), table
        assert list(path.parent.iterdir()) == [path]
        assert "pub_date" not in pl.read_parquet_schema(path)
        if table not in (QUARANTINE_TABLE, DOC_FREQ_TABLE):
            assert set(read_table(curated, table)["article_id"]) == ids, table
    assert existing_partitions(curated, CURATED_TABLES) == {("cbn", JUNE_15)}


def test_recuration_gives_identical_tables(
    tmp_path: Path, sample_page_text: str, nlp: NlpModels
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    files = build_tree(raw, sample_page_text)

    first_report = curate(raw, curated, files, "run-1", nlp)
    first = all_tables(curated)
    second_report = curate(raw, curated, files, "run-2", nlp)
    second = all_tables(curated)

    assert set(first) == set(second) == set(CURATED_TABLES)
    assert first_report.rows == second_report.rows
    assert first_report.reasons == second_report.reasons
    assert first["articles"]["article_id"].to_list() == second["articles"]["article_id"].to_list()
    for table in CURATED_TABLES:
        before, after = first[table], second[table]
        if "run_id" in before.columns:
            assert before["run_id"].unique().to_list() == ["run-1"]
            assert after["run_id"].unique().to_list() == ["run-2"]
            before, after = before.drop("run_id"), after.drop("run_id")
        assert_frame_equal(before, after, check_row_order=True)


def test_recuration_drops_rows_of_files_that_left(
    tmp_path: Path, sample_page_text: str, nlp: NlpModels
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    files = build_tree(raw, sample_page_text)
    curate(raw, curated, files, "run-1", nlp)

    (raw / SCAN).unlink()
    (raw / FEED).unlink()
    (partition,) = list_raw(raw).partitions
    report = curate(raw, curated, partition.files, "run-2", nlp)

    assert report.files_seen == 1
    assert report.records_curated == report.records_quarantined == 0
    assert read_table(curated, "articles")["raw_path"].unique().to_list() == [PAGE]
    assert not partition_file(curated, QUARANTINE_TABLE, JUNE_15, "cbn").exists()


def _analyse(
    raw: Path, rel_path: str, nlp: NlpModels, share: Share = WHOLE, scratch: Path | None = None
) -> FileAnalysis:
    return analyse_file(
        raw,
        "cbn",
        JUNE_15,
        rel_path,
        run_id="run-1",
        nlp=nlp,
        max_file_bytes=MAX_BYTES,
        share=share,
        scratch=scratch,
    )


@pytest.mark.parametrize(("parts", "in_scratch"), [(2, True), (3, True), (9, True), (3, False)])
def test_a_file_analysed_in_parts_is_curated_as_if_whole(
    curated_once: Curated, tmp_path: Path, nlp: NlpModels, parts: int, in_scratch: bool
) -> None:
    raw, reference, files, report = curated_once
    curated = tmp_path / "curated"
    # The parts leave their frames in scratch folders, as on workers, or keep them.
    pieces = [
        _analyse(
            raw,
            FEED,
            nlp,
            Share(i, parts),
            scratch=tmp_path / "scratch" / str(i) if in_scratch else None,
        )
        for i in range(parts)
    ]
    assert sum(piece.articles for piece in pieces) == 2
    feed = merge_parts(pieces, "cbn", JUNE_15)
    assert len(feed.scratch) == (parts if in_scratch else 0)
    assert (feed.frames is None) is in_scratch
    analyses = [feed, _analyse(raw, PAGE, nlp), _analyse(raw, SCAN, nlp)]
    again = finish_partition(
        curated,
        "cbn",
        JUNE_15,
        files,
        analyses,
        run_id="run-1",
        nlp=nlp,
        stamps=stamp_files(raw, files),
    )
    assert again.rows == report.rows
    assert (again.records_curated, again.records_quarantined) == (2, 4)
    mine, theirs = all_tables(curated), all_tables(reference)
    for table in CURATED_TABLES:
        assert_frame_equal(mine[table], theirs[table], check_row_order=True)
    state = read_state(curated, "cbn", JUNE_15)
    assert state is not None and state.files == read_state(reference, "cbn", JUNE_15).files


def test_parts_that_read_two_versions_of_a_file_reject_it(tmp_path: Path, nlp: NlpModels) -> None:
    raw = tmp_path / "raw"
    folder = raw / "cbn" / "2026-06-15"
    folder.mkdir(parents=True)
    feed = folder / "feed.jsonl"
    feed.write_text("\n".join(FEED_LINES), encoding="utf-8")
    first = _analyse(raw, FEED, nlp, Share(0, 2))
    feed.write_text("\n".join(reversed(FEED_LINES)), encoding="utf-8")
    second = _analyse(raw, FEED, nlp, Share(1, 2))
    merged = merge_parts([first, second], "cbn", JUNE_15)
    assert [(r.reason, r.record) for r in merged.rejections] == [("changed_during_read", None)]
    assert merged.tables() is None
    # Recorded as unknown, so the next run reads the file again.
    assert merged.stamp(stamp_files(raw, (FEED,))[FEED]) == UNKNOWN


def test_a_part_that_could_not_read_its_file_fails_the_file(tmp_path: Path, nlp: NlpModels) -> None:
    raw = tmp_path / "raw"
    folder = raw / "cbn" / "2026-06-15"
    folder.mkdir(parents=True)
    (folder / "feed.jsonl").write_text("\n".join(FEED_LINES), encoding="utf-8")
    first = _analyse(raw, FEED, nlp, Share(0, 2))
    (folder / "feed.jsonl").unlink()
    second = _analyse(raw, FEED, nlp, Share(1, 2))
    merged = merge_parts([first, second], "cbn", JUNE_15)
    assert merged.rejections == second.rejections and len(merged.rejections) == 1
    assert merged.tables() is None
    assert merged.stamp(stamp_files(raw, (FEED,))[FEED]) == UNKNOWN


def test_partition_with_nothing_curable_has_only_quarantine(tmp_path: Path, nlp: NlpModels) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    folder = raw / "cbn" / "2026-06-15"
    folder.mkdir(parents=True)
    (folder / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7\n")
    (folder / "empty.txt").write_bytes(b"")

    report = curate(raw, curated, list_raw(raw).partitions[0].files, "run-1", nlp)

    assert report.files_curated == 0
    assert report.files_quarantined == 3
    assert report.reasons == {"not_text": 1, "unsupported_type": 1, "empty": 1}
    for table in CURATED_TABLES:
        exists = partition_file(curated, table, JUNE_15, "cbn").exists()
        assert exists == (table == QUARANTINE_TABLE), table
    assert read_table(curated, QUARANTINE_TABLE)["reason"].sort().to_list() == [
        "empty",
        "not_text",
        "unsupported_type",
    ]


def test_remove_partition_deletes_every_table_file(
    tmp_path: Path, sample_page_text: str, nlp: NlpModels
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    files = build_tree(raw, sample_page_text)
    curate(raw, curated, files, "run-1", nlp)
    wire = raw / "xinhua" / "2026-06-15"
    wire.mkdir(parents=True)
    (wire / "feed.jsonl").write_text(json.dumps(GOOD_2, ensure_ascii=False) + "\n", "utf-8")
    curate_partition(
        raw,
        curated,
        "xinhua",
        JUNE_15,
        ("xinhua/2026-06-15/feed.jsonl",),
        run_id="run-1",
        nlp=nlp,
        max_file_bytes=MAX_BYTES,
    )
    assert existing_partitions(curated, CURATED_TABLES) == {("cbn", JUNE_15), ("xinhua", JUNE_15)}

    remove_partition(curated, "cbn", JUNE_15)

    for table in CURATED_TABLES:
        assert not partition_file(curated, table, JUNE_15, "cbn").exists(), table
    assert existing_partitions(curated, CURATED_TABLES) == {("xinhua", JUNE_15)}
    articles = read_table(curated, "articles")
    assert articles["source"].unique().to_list() == ["xinhua"]
    assert articles["headline"].to_list() == [GOOD_2["title"]]
    assert not (curated / "_staging").exists() or not any((curated / "_staging").rglob("*.*"))

    remove_partition(curated, "xinhua", JUNE_15)
    assert existing_partitions(curated, CURATED_TABLES) == set()
    assert not (curated / "articles" / "pub_date=2026-06-15").exists()


def test_undated_quarantine_lands_in_the_hive_default_partition(
    tmp_path: Path, sample_page_text: str
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    for rel in ("README.txt", "cbn/latest/page-1.txt", "CBN News/2026-06-15/page-1.txt"):
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_text(sample_page_text, encoding="utf-8")
    rejected = list_raw(raw).rejected
    assert len(rejected) == 3

    assert write_undated_quarantine(curated, rejected, "run-1") == 3

    target = curated / QUARANTINE_TABLE / f"pub_date={NULL_PARTITION}" / "_undated.parquet"
    assert target.is_file()
    quarantine = read_table(curated, QUARANTINE_TABLE)
    assert quarantine.height == 3
    assert quarantine["pub_date"].null_count() == 3
    assert dict(zip(quarantine["raw_path"], quarantine["reason"], strict=True)) == {
        "README.txt": "bad_layout",
        "cbn/latest/page-1.txt": "bad_date",
        "CBN News/2026-06-15/page-1.txt": "bad_source",
    }
    assert existing_partitions(curated, [QUARANTINE_TABLE]) == set()


def test_undated_quarantine_sits_beside_dated_partitions(tmp_path: Path, nlp: NlpModels) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    folder = raw / "cbn" / "2026-06-15"
    folder.mkdir(parents=True)
    (folder / "scan.txt").write_bytes(BINARY)
    curate(raw, curated, ("cbn/2026-06-15/scan.txt",), "run-1", nlp)
    undated = [Rejected("notes.txt", "bad_layout", "files belong in <source>/<YYYY-MM-DD>/")]
    write_undated_quarantine(curated, undated, "run-1")

    quarantine = read_table(curated, QUARANTINE_TABLE).sort("raw_path")

    assert quarantine.schema["pub_date"] == pl.Date
    assert quarantine.select("raw_path", "pub_date", "reason").rows() == [
        ("cbn/2026-06-15/scan.txt", JUNE_15, "not_text"),
        ("notes.txt", None, "bad_layout"),
    ]


def test_undated_quarantine_is_rewritten_each_run(tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    first = [
        Rejected("README.txt", "bad_layout", "files belong in <source>/<YYYY-MM-DD>/"),
        Rejected("cbn/latest/page-1.txt", "bad_date", "folder 'latest'", "cbn"),
    ]
    write_undated_quarantine(curated, first, "run-1")
    write_undated_quarantine(curated, first[1:], "run-2")

    quarantine = read_table(curated, QUARANTINE_TABLE)
    assert quarantine.select("raw_path", "run_id").rows() == [("cbn/latest/page-1.txt", "run-2")]

    assert write_undated_quarantine(curated, [], "run-3") == 0
    target = curated / QUARANTINE_TABLE / f"pub_date={NULL_PARTITION}" / "_undated.parquet"
    assert not target.exists()
    assert not target.parent.exists()


def test_keyword_idf_learns_from_earlier_partitions(
    tmp_path: Path, sample_page_text: str, nlp: NlpModels
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    days = (date(2026, 6, 15), date(2026, 6, 16))
    for day in days:
        folder = raw / "cbn" / day.isoformat()
        folder.mkdir(parents=True)
        (folder / "page-1.txt").write_text(sample_page_text, encoding="utf-8")
    for partition in list_raw(raw).partitions:
        curate_partition(
            raw,
            curated,
            partition.source,
            partition.pub_date,
            partition.files,
            run_id="run-1",
            nlp=nlp,
            max_file_bytes=MAX_BYTES,
        )

    doc_freq = read_table(curated, DOC_FREQ_TABLE)
    first = doc_freq.filter(pl.col("pub_date") == days[0])
    assert first["n_docs"].unique().to_list() == [2]
    assert first.filter(pl.col("word") == "微短剧")["df"].to_list() == [1]
    assert first["df"].max() == 2
    # The same page a day later: words both articles of the first day used are less
    # telling now, so their TF-IDF weight drops; TextRank does not use IDF.
    keywords = read_table(curated, "keywords").filter(pl.col("method") == "tfidf")
    place = read_table(curated, "articles").select("article_id", "raw_article_idx")
    ranked = keywords.join(place, on="article_id")
    weight = {
        (r["pub_date"], r["raw_article_idx"], r["keyword"]): r["weight"]
        for r in ranked.iter_rows(named=True)
    }
    compared = [
        (key, weight[(days[1], *key[1:])])
        for key in weight
        if key[0] == days[0] and (days[1], *key[1:]) in weight
    ]
    assert len(compared) >= 10
    for (day, idx, word), later in compared:
        assert later < weight[(day, idx, word)], word


def test_doc_freq_counts_the_candidate_words_of_the_curated_tokens(
    tmp_path: Path, sample_page_text: str, nlp: NlpModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each word's document frequency is the number of curated articles whose tokens hold
    it as a candidate word; a quarantined article counts for nothing."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    files = build_tree(raw, sample_page_text)
    victims: list[str] = []
    _with_bad_tokens(monkeypatch, victims)
    curate(raw, curated, files, "run-1", nlp)
    tokens = read_table(curated, "tokens")
    assert victims and not tokens.filter(pl.col("article_id").is_in(victims)).height
    expected: dict[str, set[str]] = {}
    for article_id, token, pos in tokens.select("article_id", "token", "pos").iter_rows():
        if is_candidate_word(token, pos, CONTENT_POS, nlp.stopwords):
            expected.setdefault(token, set()).add(article_id)
    doc_freq = read_table(curated, DOC_FREQ_TABLE)
    assert dict(doc_freq.select("word", "df").iter_rows()) == {
        word: len(ids) for word, ids in expected.items()
    }
    assert doc_freq["n_docs"].unique().to_list() == [tokens["article_id"].n_unique()]


def _with_bad_tokens(monkeypatch: pytest.MonkeyPatch, victims: list[str]) -> None:
    """Each analysed file's first article gets one token that is not its text."""
    real = partition_module.analyse_articles

    def analyse(articles, **kwargs):  # type: ignore[no-untyped-def]
        tables = real(articles, **kwargs)
        if tables["articles"].height:
            victim = tables["articles"]["article_id"][0]
            victims.append(victim)
            tables["tokens"] = tables["tokens"].with_columns(
                pl.when((pl.col("article_id") == victim) & (pl.col("token_idx") == 3))
                .then(pl.lit("错"))
                .otherwise(pl.col("token"))
                .alias("token")
            )
        return tables

    monkeypatch.setattr(partition_module, "analyse_articles", analyse)


@pytest.mark.parametrize("check_bytes", [1, 10**9])
def test_files_checked_together_get_what_each_gets_checked_alone(
    curated_once: Curated,
    tmp_path: Path,
    nlp: NlpModels,
    monkeypatch: pytest.MonkeyPatch,
    check_bytes: int,
) -> None:
    """A failure found in a group of files goes to the file that holds the article, and
    to no other; in scratch or in memory, one check for the group or one per file."""
    raw, _, files, _ = curated_once
    victims: list[str] = []
    _with_bad_tokens(monkeypatch, victims)
    checks: list[int] = []
    real_check = partition_module.analysed_failures

    def counted(tables):  # type: ignore[no-untyped-def]
        checks.append(tables["articles"].height)
        return real_check(tables)

    alone = [_analyse(raw, name, nlp) for name in files]
    assert [sorted(a.failures or {}) for a in alone] == [[victims[0]], [victims[1]], []]
    monkeypatch.setattr(partition_module, "analysed_failures", counted)
    items = [(name, WHOLE, tmp_path / f"scratch-{i}") for i, name in enumerate(files)]
    together = partition_module.analyse_files(
        raw,
        "cbn",
        JUNE_15,
        items,
        run_id="run-1",
        nlp=nlp,
        max_file_bytes=MAX_BYTES,
        check_bytes=check_bytes,
    )
    assert [a.failures for a in together] == [a.failures for a in alone]
    # The binary scan has no tables: a group of one file checks it alone, else one check.
    assert len(checks) == (2 if check_bytes == 1 else 1)
    for analysis, (_, _, scratch) in zip(together, items, strict=True):
        assert analysis.frames is None
        assert analysis.scratch == ((str(scratch),) if analysis.articles else ())


def test_files_are_analysed_without_cyclic_collection(
    tmp_path: Path, sample_page_text: str, nlp: NlpModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector is off while a task's files are analysed, and on again after."""
    import gc

    raw = tmp_path / "raw"
    files = build_tree(raw, sample_page_text)
    real = partition_module.analyse_file
    collecting: list[bool] = []

    def spied(*args, **kwargs):  # type: ignore[no-untyped-def]
        collecting.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(partition_module, "analyse_file", spied)
    items = [(name, WHOLE, None) for name in files]
    done = partition_module.analyse_files(
        raw, "cbn", JUNE_15, items, run_id="r", nlp=nlp, max_file_bytes=MAX_BYTES
    )
    assert collecting == [False] * len(files) and len(done) == len(files)
    assert gc.isenabled()


def test_a_partition_analysed_unchecked_is_checked_whole_at_its_finish(
    tmp_path: Path, sample_page_text: str, nlp: NlpModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables left unchecked where they were made (`check=False`) are checked by the
    finish, which quarantines the same articles as checks made in the analysis."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    files = build_tree(raw, sample_page_text)
    victims: list[str] = []
    _with_bad_tokens(monkeypatch, victims)
    analyses = [
        analyse_file(
            raw, "cbn", JUNE_15, name, run_id="r", nlp=nlp, max_file_bytes=MAX_BYTES, check=False
        )
        for name in files
    ]
    # The binary scan is rejected as it is read: it has no tables to check.
    assert [a.failures for a in analyses] == [None, None, {}]
    stamps = stamp_files(raw, files)
    report = finish_partition(
        curated, "cbn", JUNE_15, files, analyses, run_id="r", nlp=nlp, stamps=stamps
    )
    assert report.reasons["schema"] == 2
    assert not set(victims) & set(read_table(curated, "tokens")["article_id"].to_list())
