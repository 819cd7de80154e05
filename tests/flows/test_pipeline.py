"""The Prefect flow end to end on a temporary raw tree, under Prefect's test harness."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from filelock import FileLock

from flows import pipeline
from tests.conftest import SAMPLE_PAGE, jsonl_text

pytestmark = pytest.mark.usefixtures("prefect_harness")

TABLES = ("articles", "paragraphs", "sentences", "tokens", "entities", "keywords")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


@pytest.fixture
def raw_tree(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    page_dir = raw / "cbn" / "2026-06-15"
    page_dir.mkdir(parents=True)
    shutil.copy(SAMPLE_PAGE, page_dir / "page-1.txt")
    (page_dir / "photo.txt").write_bytes(PNG)
    (page_dir / ".DS_Store").write_bytes(b"\x00\x01")
    wire_dir = raw / "wire" / "2026-06-16"
    wire_dir.mkdir(parents=True)
    (wire_dir / "feed.jsonl").write_text(
        jsonl_text(
            {
                "id": "w-1",
                "title": "央行开展逆回购操作",
                "text": "新华社北京6月16日电 中国人民银行今日开展1000亿元逆回购操作。\n"
                "中标利率为1.4%，与此前持平。",
                "authors": ["王希"],
                "pub_date": "2026-06-16",
            },
            {"id": "w-2", "text": "工商银行(601398.SH)股价上涨2.3%。"},
            "{not json",
            {"id": "w-3", "text": "日期不符的稿件。", "pub_date": "2026-06-01"},
        ),
        encoding="utf-8",
    )
    bad = raw / "wire" / "latest"
    bad.mkdir()
    (bad / "x.txt").write_text("没有日期的目录。", encoding="utf-8")
    return raw


def _run(raw: Path, curated: Path, **kwargs: object) -> dict[str, object]:
    return pipeline.call(
        pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated), **kwargs
    )


def _read(curated: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(curated / table, hive_partitioning=True)


def _snapshot(curated: Path) -> dict[str, pl.DataFrame]:
    """Every curated table without the run id, in a stable order, for comparing runs."""
    out = {}
    for table in (*TABLES, "quarantine"):
        frame = _read(curated, table).drop("run_id", strict=False)
        out[table] = frame.sort(frame.columns[:4])
    return out


def test_run_curates_quarantines_and_accounts_for_every_file(raw_tree: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    result = _run(raw_tree, curated)

    assert result["status"] == "completed"
    assert result["files_seen"] == 5
    assert result["files_curated"] == 2
    assert result["files_quarantined"] == 2  # photo.txt and wire/latest/x.txt
    assert result["files_ignored"] == 1
    assert result["records_curated"] == 2
    assert result["records_quarantined"] == 2

    articles = _read(curated, "articles")
    assert articles.schema["pub_date"] == pl.Date
    assert sorted(articles["source"].unique().to_list()) == ["cbn", "wire"]
    wire = articles.filter(pl.col("source") == "wire").sort("raw_record")
    assert wire["external_id"].to_list() == ["w-1", "w-2"]
    assert wire["headline"].to_list() == ["央行开展逆回购操作", None]
    assert wire["authors"].to_list()[0] == ["王希"]
    assert (wire["pub_date"] == date(2026, 6, 16)).all()

    quarantine = _read(curated, "quarantine")
    reasons = dict(zip(quarantine["raw_path"], quarantine["reason"], strict=False))
    assert reasons["cbn/2026-06-15/photo.txt"] == "not_text"
    assert reasons["wire/latest/x.txt"] == "bad_date"
    by_record = quarantine.filter(pl.col("raw_path") == "wire/2026-06-16/feed.jsonl")
    assert dict(zip(by_record["record"], by_record["reason"], strict=True)) == {
        3: "bad_json",
        4: "date_mismatch",
    }
    assert quarantine.filter(pl.col("raw_path") == "wire/latest/x.txt")["pub_date"].is_null().all()

    runs = _read(curated, "runs")
    assert runs.height == 1
    row = runs.row(0, named=True)
    assert row["run_id"] == result["run_id"]
    assert row["status"] == "completed"
    assert (
        row["files_seen"] == row["files_curated"] + row["files_quarantined"] + row["files_ignored"]
    )
    assert row["rows_tokens"] == _read(curated, "tokens").height
    assert json.loads(row["versions"])["prefect"].startswith("3.9")
    assert json.loads(row["parameters"])["raw_root"] == str(raw_tree)


def test_rerun_is_idempotent(raw_tree: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    first = _run(raw_tree, curated)
    before = _snapshot(curated)
    files_before = sorted(p.relative_to(curated) for p in curated.rglob("*.parquet"))
    second = _run(raw_tree, curated)
    after = _snapshot(curated)
    files_after = sorted(p.relative_to(curated) for p in curated.rglob("*.parquet"))

    assert first["run_id"] != second["run_id"]
    for table in before:
        assert before[table].equals(after[table]), table
    assert after["articles"]["article_id"].is_unique().all()
    # Same files, plus one more run record: nothing appended, nothing duplicated.
    new_files = sorted(set(files_after) - set(files_before))
    assert [p.parts[0] for p in new_files] == ["runs"]
    assert _read(curated, "runs").height == 2
    assert not list((curated / "_journal").glob("*.json"))

    # Rebuilding everything gives the same rows and ids again.
    forced = _run(raw_tree, curated, force=True)
    assert forced["partitions"] == 2
    assert forced["planned"] == {"forced": 2}
    rebuilt = _snapshot(curated)
    for table in before:
        assert before[table].equals(rebuilt[table]), table


def test_deleted_inputs_disappear_on_the_next_run(raw_tree: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    _run(raw_tree, curated)
    (raw_tree / "wire" / "2026-06-16" / "feed.jsonl").unlink()
    shutil.rmtree(raw_tree / "wire" / "2026-06-16")
    result = _run(raw_tree, curated)

    assert result["partitions_removed"] == 1
    for table in TABLES:
        assert not (curated / table / "pub_date=2026-06-16").exists(), table
    assert _read(curated, "articles")["source"].unique().to_list() == ["cbn"]


def test_date_range_leaves_other_partitions_untouched(raw_tree: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    _run(raw_tree, curated)
    wire_file = curated / "articles" / "pub_date=2026-06-16" / "wire.parquet"
    stamp = wire_file.stat().st_mtime_ns

    result = _run(raw_tree, curated, since=date(2026, 6, 15), until=date(2026, 6, 15), force=True)

    assert result["partitions"] == 1
    assert wire_file.stat().st_mtime_ns == stamp
    assert result["partitions_removed"] == 0


def test_failing_partition_is_recorded_and_others_finish(
    raw_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    curated = tmp_path / "curated"
    _run(raw_tree, curated)
    old_wire = _read(curated, "articles").filter(pl.col("source") == "wire")
    # Both partitions change; curating the wire one fails on every attempt.
    (raw_tree / "cbn" / "2026-06-15" / "page-2.txt").write_text(
        "央行今日开展逆回购操作。", encoding="utf-8"
    )
    feed = raw_tree / "wire" / "2026-06-16" / "feed.jsonl"
    feed.write_text(feed.read_text(encoding="utf-8") + "\n{not json either", encoding="utf-8")

    real = pipeline.curate_partition
    attempts = []

    def flaky(raw_root, curated_root, source, *args, **kwargs):  # type: ignore[no-untyped-def]
        if source == "wire":
            attempts.append(source)
            raise OSError("disk went away")
        return real(raw_root, curated_root, source, *args, **kwargs)

    monkeypatch.setattr(pipeline, "curate_partition", flaky)
    state = pipeline.run_pipeline(
        raw_root=str(raw_tree),
        curated_root=str(curated),
        retries=2,
        retry_delay=0,
        return_state=True,
    )

    # Prefect marks the run failed, by the name Partial; the summary travels with it.
    assert state.is_failed()
    assert state.name == "Partial"
    assert "1 of 2 partitions failed" in (state.message or "")
    result = state.result(raise_on_failure=False)
    assert isinstance(result, dict)
    assert result["status"] == "partial"
    assert len(attempts) == 3  # the first try and two retries
    assert result["partitions_failed"] == 1
    assert result["files_failed"] == 1
    assert "disk went away" in " ".join(result["failures"])  # type: ignore[arg-type]
    kept = _read(curated, "articles").filter(pl.col("source") == "wire")
    assert kept.equals(old_wire)
    cbn_files = _read(curated, "articles").filter(pl.col("source") == "cbn")["raw_path"]
    assert "cbn/2026-06-15/page-2.txt" in cbn_files.to_list()
    runs = _read(curated, "runs").sort("started_at")
    assert runs["status"].to_list() == ["completed", "partial"]
    assert "disk went away" in runs["partition_report"][-1]
    assert "failed" in runs["report"][-1]

    # The failed partition is still stale, so the next run takes it up again, alone.
    monkeypatch.undo()
    retry = _run(raw_tree, curated)
    assert retry["status"] == "completed"
    assert (retry["partitions"], retry["partitions_skipped"]) == (1, 1)
    assert retry["planned"] == {"changed": 1}
    assert retry["reasons"] == {"bad_date": 1, "bad_json": 2, "date_mismatch": 1}


def test_a_second_run_waits_for_the_lock_then_gives_up(raw_tree: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    curated.mkdir()
    with (
        FileLock(str(curated / pipeline.LOCK_FILE)),
        pytest.raises(pipeline.CuratedRootLocked, match="locked by another run"),
    ):
        _run(raw_tree, curated, lock_timeout=0.5)
    assert not (curated / "articles").exists()
