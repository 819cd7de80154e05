"""Incremental runs and backfills: only stale partitions are rewritten, and why is recorded."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from prefect.artifacts import Artifact

from flows import pipeline
from flows.io.state import Versions, backfill_file, current_versions, read_state, state_file
from tests.conftest import SAMPLE_PAGE

pytestmark = pytest.mark.usefixtures("prefect_harness")

DAYS = (date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17))
WIRE = "wire/2026-06-16/feed.jsonl"


def _record(i: int, text: str) -> str:
    return json.dumps({"id": f"w-{i}", "title": f"快讯{i}", "text": text}, ensure_ascii=False)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    for day in (DAYS[0], DAYS[2]):
        folder = root / "cbn" / day.isoformat()
        folder.mkdir(parents=True)
        shutil.copy(SAMPLE_PAGE, folder / "page-1.txt")
    (root / "cbn" / DAYS[0].isoformat() / "brief.txt").write_text(
        "央行开展逆回购操作\n\n中国人民银行今日开展1000亿元逆回购操作。", encoding="utf-8"
    )
    wire = root / "wire" / DAYS[1].isoformat()
    wire.mkdir(parents=True)
    (wire / "feed.jsonl").write_text(
        _record(1, "工商银行(601398.SH)股价上涨2.3%。") + "\n", encoding="utf-8"
    )
    return root


def _run(raw: Path, curated: Path, **kwargs: object) -> dict[str, object]:
    return pipeline.call(
        pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated), **kwargs
    )


def _backfill(raw: Path, curated: Path, **kwargs: object) -> dict[str, object]:
    return pipeline.call(
        pipeline.backfill, raw_root=str(raw), curated_root=str(curated), retry_delay=0, **kwargs
    )


def _stamps(curated: Path) -> dict[str, int]:
    """Modification time of every data file: what a rewrite would change."""
    return {
        str(path.relative_to(curated)): path.stat().st_mtime_ns
        for path in curated.rglob("*")
        if path.is_file() and "runs" not in path.parts and path.name != pipeline.LOCK_FILE
    }


def _articles(curated: Path) -> pl.DataFrame:
    return pl.read_parquet(curated / "articles", hive_partitioning=True)


def _changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def test_an_unchanged_rerun_rewrites_nothing(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    first = _run(raw, curated)
    assert first["planned"] == {"new": 3}
    before = _stamps(curated)

    again = _run(raw, curated)

    assert (again["partitions"], again["partitions_skipped"]) == (0, 3)
    assert again["files_unchanged"] == again["files_seen"] == 4
    assert _changed(before, _stamps(curated)) == set()
    # Touching a file without changing its bytes is not a change either.
    os.utime(raw / WIRE, ns=(1, 1))
    assert _run(raw, curated)["partitions"] == 0
    runs = pl.read_parquet(curated / "runs", hive_partitioning=True).sort("started_at")
    assert runs["partitions_skipped"].to_list() == [0, 3, 3]


def test_a_changed_file_rewrites_only_its_partition(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    _run(raw, curated)
    before = _stamps(curated)
    old_state = read_state(curated, "wire", DAYS[1])
    assert old_state is not None

    with (raw / WIRE).open("a", encoding="utf-8") as fh:
        fh.write(_record(2, "招商银行发布年报，净利润增长8%。") + "\n")
    result = _run(raw, curated)

    assert result["planned"] == {"changed": 1}
    changed = _changed(before, _stamps(curated))
    assert changed, "the changed partition must be rewritten"
    assert all("2026-06-16" in name for name in changed), changed
    wire = _articles(curated).filter(pl.col("source") == "wire")
    assert sorted(wire["external_id"].to_list()) == ["w-1", "w-2"]
    new_state = read_state(curated, "wire", DAYS[1])
    assert new_state is not None
    assert new_state.files[WIRE].sha256 != old_state.files[WIRE].sha256
    assert new_state.run_id == result["run_id"]


def test_a_deleted_file_takes_its_articles_with_it(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    _run(raw, curated)
    brief = "cbn/2026-06-15/brief.txt"
    assert brief in _articles(curated)["raw_path"].to_list()

    (raw / brief).unlink()
    result = _run(raw, curated)

    assert result["planned"] == {"changed": 1}
    paths = _articles(curated)["raw_path"].to_list()
    assert brief not in paths
    assert "cbn/2026-06-15/page-1.txt" in paths
    state = read_state(curated, "cbn", DAYS[0])
    assert state is not None and brief not in state.files

    shutil.rmtree(raw / "wire")
    result = _run(raw, curated)
    assert result["partitions_removed"] == 1
    assert not state_file(curated, "wire", DAYS[1]).exists()
    assert "wire" not in _articles(curated)["source"].to_list()


def test_new_code_or_dictionaries_make_every_partition_stale(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    curated = tmp_path / "curated"
    _run(raw, curated)
    now = current_versions()

    monkeypatch.setattr(
        pipeline, "current_versions", lambda: Versions("9.9.9+new", now.dictionaries)
    )
    assert _run(raw, curated)["planned"] == {"pipeline": 3}
    assert _run(raw, curated)["partitions"] == 0

    monkeypatch.setattr(pipeline, "current_versions", lambda: Versions("9.9.9+new", "other"))
    assert _run(raw, curated)["planned"] == {"dictionaries": 3}


def test_an_unreadable_state_record_means_curating_again(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    _run(raw, curated)
    state_file(curated, "cbn", DAYS[2]).write_text("{not json", encoding="utf-8")

    result = _run(raw, curated)

    assert result["planned"] == {"new": 1}
    assert read_state(curated, "cbn", DAYS[2]) is not None


def test_backfill_takes_a_date_range_and_a_source_in_date_order(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    result = _backfill(raw, curated, start=DAYS[0], end=DAYS[1])

    assert result["flow_name"] == "backfill"
    assert [(line["source"], line["pub_date"]) for line in result["lines"]] == [  # type: ignore[union-attr]
        ("cbn", "2026-06-15"),
        ("wire", "2026-06-16"),
    ]
    assert sorted(_articles(curated)["pub_date"].unique().to_list()) == list(DAYS[:2])

    only_cbn = _backfill(raw, curated, start=DAYS[0], end=DAYS[2], source="cbn")
    assert only_cbn["planned"] == {"new": 1}
    assert only_cbn["partitions_skipped"] == 1
    forced = _backfill(raw, curated, start=DAYS[0], end=DAYS[2], source="cbn", force=True)
    assert forced["planned"] == {"forced": 2}
    assert {line["source"] for line in forced["lines"]} == {"cbn"}  # type: ignore[union-attr]


def test_a_forced_backfill_resumes_where_it_stopped(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    curated = tmp_path / "curated"
    _run(raw, curated)
    real = pipeline.curate_partition

    def dies_on_the_last_day(raw_root, curated_root, source, day, *args, **kwargs):  # type: ignore[no-untyped-def]
        if day == DAYS[2]:
            raise OSError("worker lost")
        return real(raw_root, curated_root, source, day, *args, **kwargs)

    monkeypatch.setattr(pipeline, "curate_partition", dies_on_the_last_day)
    state = pipeline.backfill(
        start=DAYS[0],
        end=DAYS[2],
        force=True,
        raw_root=str(raw),
        curated_root=str(curated),
        retries=0,
        return_state=True,
    )
    assert state.name == "Partial"
    mark = backfill_file(curated, pipeline.backfill_key(DAYS[0], DAYS[2], None))
    assert mark.exists()

    monkeypatch.undo()
    resumed = _backfill(raw, curated, start=DAYS[0], end=DAYS[2], force=True)
    assert resumed["planned"] == {"forced": 1}
    assert resumed["partitions_skipped"] == 2
    assert not mark.exists()
    # Done: the same forced backfill now starts afresh.
    assert _backfill(raw, curated, start=DAYS[0], end=DAYS[2], force=True)["partitions"] == 3


def test_every_run_publishes_its_report(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    result = _run(raw, curated)

    report = Artifact.get(pipeline.REPORT_KEY)
    assert report is not None
    text = str(report.data)
    assert str(result["run_id"]) in text
    assert "## Rows written" in text
    assert "| articles | 6 |" in text
    assert "2 articles repeat an earlier article" in text
    assert "## Slowest partitions" in text
    partitions = Artifact.get(pipeline.PARTITIONS_KEY)
    assert partitions is not None and "2026-06-17" in str(partitions.data)
    progress = Artifact.get(pipeline.PROGRESS_KEY)
    assert progress is not None and float(str(progress.data)) == 100.0
    runs = pl.read_parquet(curated / "runs", hive_partitioning=True)
    assert runs["report"][0] == text


def test_an_empty_raw_root_removes_nothing_unless_forced(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    _run(raw, curated)
    for folder in raw.iterdir():
        shutil.rmtree(folder)  # what an unmounted archive volume looks like

    state = pipeline.run_pipeline(raw_root=str(raw), curated_root=str(curated), return_state=True)

    assert state.name == "Partial"
    assert "lists no partitions" in (state.message or "")
    assert _articles(curated).height == 6
    forced = _run(raw, curated, force=True)
    assert forced["partitions_removed"] == 3
    assert not (curated / "articles").exists() or not list(
        (curated / "articles").rglob("*.parquet")
    )
