"""Raw and curated roots on S3: listing, reading and stamping raw objects like files, and
the pipeline end to end (flows and the `zhnews` command) against a real S3-compatible
server on 127.0.0.1, compared with a run on local folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from filelock import FileLock
from typer.testing import CliRunner

from flows import pipeline
from flows.cli import app
from flows.io import state, store
from flows.io.raw import RawText, Rejected, list_raw, read_raw_file
from flows.io.state import FileStamp, read_state, stamp_files
from flows.io.store import location
from tests.conftest import SAMPLE_PAGE, jsonl_text
from tests.s3 import Bucket

ZHNEWS = Path(sys.executable).with_name("zhnews")
TABLES = (
    "articles",
    "paragraphs",
    "sentences",
    "tokens",
    "entities",
    "keywords",
    "quarantine",
    "doc_freq",
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
WIRE = "wire/2026-06-16/feed.jsonl"
BRIEF = "新华社北京6月15日电 国家统计局今天发布数据，5月份全国规模以上工业增加值同比增长5.6%。\n"


def put(root: Path, rel: str, data: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


@pytest.fixture
def raw_tree(tmp_path: Path) -> Path:
    """What the pipeline tests curate: good files, bad files, a bad folder, a dotfile."""
    raw = tmp_path / "raw"
    put(raw, "cbn/2026-06-15/page-1.txt", SAMPLE_PAGE.read_bytes())
    put(raw, "cbn/2026-06-15/photo.txt", PNG)
    put(raw, "cbn/2026-06-15/.DS_Store", b"\x00\x01")
    put(
        raw,
        WIRE,
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
        ),
    )
    put(raw, "wire/latest/x.txt", "没有日期的目录。")
    return raw


@pytest.fixture
def s3_raw(raw_tree: Path, s3_bucket: Bucket) -> str:
    s3_bucket.upload(raw_tree, "raw")
    return s3_bucket.url("raw")


# --------------------------------------------------------------------------- raw objects


@pytest.fixture
def awkward_tree(tmp_path: Path) -> Path:
    """Every layout rule an object store can break, as local files (no symlinks: S3 has
    none)."""
    raw = tmp_path / "awkward"
    put(raw, "cbn/2026-06-15/page-1.txt", SAMPLE_PAGE.read_bytes())
    put(raw, "cbn/2026-06-15/brief.txt", BRIEF.encode("gb18030"))
    put(raw, "cbn/2026-06-15/photo.txt", PNG)
    put(raw, "cbn/2026-06-15/notes.docx", b"PK\x03\x04 not really a document")
    put(raw, "cbn/2026-06-15/empty.txt", b"")
    put(raw, "cbn/2026-06-15/big.txt", BRIEF * 40)
    put(raw, "cbn/2026-06-15/extra/deeper/page-3.txt", BRIEF)
    put(raw, "cbn/2026-06-15/.~lock.page-1.txt#", "锁文件")
    put(raw, "cbn/2026-06-15/.thumbs/a.txt", BRIEF)
    put(raw, "cbn/2026-06-15/.thumbs/b.txt", BRIEF)
    put(raw, "cbn/2026-06-16/page-1.txt", BRIEF)
    put(raw, "cbn/.cache/2026-06-15/page-1.txt", BRIEF)
    put(raw, "cbn/notes.txt", "编辑备注")
    put(raw, "cbn/2026-02-30/page-1.txt", BRIEF)
    put(raw, "cbn/latest/scans/page-1.pdf", b"%PDF-1.7\n")
    put(raw, "cbn/latest/.hidden/x.txt", BRIEF)
    put(raw, "Xinhua/2026-06-15/feed.jsonl", '{"id": "x"}\n')
    put(raw, "wire/2026-06-17/feed.jsonl", '{"id": "w", "text": "快讯。"}\n')
    put(raw, "README.txt", "原始数据说明")
    put(raw, ".git/HEAD", "ref: refs/heads/main\n")
    return raw


def same(result: RawText | Rejected, other: RawText | Rejected) -> bool:
    if isinstance(result, Rejected) and isinstance(other, Rejected):
        return (result.raw_path, result.reason, result.source, result.pub_date) == (
            other.raw_path,
            other.reason,
            other.source,
            other.pub_date,
        )
    if isinstance(result, RawText) and isinstance(other, RawText):
        # An object's modification time is its Last-Modified, not the file's.
        return replace(result, mtime_ns=0) == replace(other, mtime_ns=0)
    return False


def test_an_s3_raw_root_lists_and_reads_like_the_same_folder(
    awkward_tree: Path, s3_bucket: Bucket
) -> None:
    s3_bucket.upload(awkward_tree, "raw")
    s3_root = location(s3_bucket.url("raw"))

    for window in [{}, {"since": date(2026, 6, 16)}, {"until": date(2026, 6, 15)}]:
        on_s3 = list_raw(s3_root, **window)  # type: ignore[arg-type]
        on_disk = list_raw(awkward_tree, **window)  # type: ignore[arg-type]
        assert on_s3 == on_disk, window
    listing = list_raw(s3_root)
    assert len(listing.partitions) == 3
    assert {r.reason for r in listing.rejected} == {"bad_layout", "bad_date", "bad_source"}
    assert ".git" in listing.ignored and "cbn/2026-06-15/.thumbs" in listing.ignored

    reasons = {}
    for partition in listing.partitions:
        for rel in [*partition.files, f"{partition.source}/{partition.pub_date}/gone.txt"]:
            from_s3 = read_raw_file(s3_root, rel, max_bytes=2000)
            assert same(from_s3, read_raw_file(awkward_tree, rel, max_bytes=2000)), rel
            reasons[rel] = from_s3.reason if isinstance(from_s3, Rejected) else from_s3.encoding
    assert reasons["cbn/2026-06-15/brief.txt"] == "gb18030"
    assert reasons["cbn/2026-06-15/big.txt"] == "too_large"
    assert reasons["cbn/2026-06-15/extra/deeper/page-3.txt"] == "bad_layout"
    assert reasons["cbn/2026-06-15/gone.txt"] == "unreadable"
    assert {reasons[f"cbn/2026-06-15/{n}"] for n in ("photo.txt", "empty.txt", "notes.docx")} == {
        "not_text",
        "empty",
        "unsupported_type",
    }


def test_a_missing_s3_raw_root_is_refused(s3_bucket: Bucket) -> None:
    with pytest.raises(FileNotFoundError, match="not a directory"):
        list_raw(location(s3_bucket.url("nothing-here")))


def test_raw_objects_are_hashed_once_until_their_size_or_time_changes(
    raw_tree: Path, s3_raw: str, s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = location(s3_raw)
    files = ["cbn/2026-06-15/page-1.txt", WIRE, "cbn/2026-06-15/gone.txt"]
    stamps = stamp_files(root, files)
    local = stamp_files(raw_tree, files)
    for name in files[:2]:
        assert stamps[name].sha256 == local[name].sha256
        assert stamps[name].size == local[name].size
        assert stamps[name].mtime_ns > 0
    assert stamps["cbn/2026-06-15/gone.txt"] == FileStamp(None, -1, -1)

    hashed: list[str] = []
    real = state._sha256
    monkeypatch.setattr(state, "_sha256", lambda path: hashed.append(str(path)) or real(path))
    assert stamp_files(root, files, stamps) == stamps
    assert hashed == []

    s3_bucket.put(f"raw/{WIRE}", (raw_tree / WIRE).read_text(encoding="utf-8") + "\n{}")
    again = stamp_files(root, files, stamps)
    assert hashed == [f"{s3_raw}/{WIRE}"]
    assert again[WIRE].sha256 != stamps[WIRE].sha256


# --------------------------------------------------------------------------- the pipeline


def _run(raw: str | Path, curated: str | Path, **kwargs: object) -> dict[str, object]:
    return pipeline.call(
        pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated), **kwargs
    )


def _local_tables(curated: Path, tables: tuple[str, ...] = TABLES) -> dict[str, pl.DataFrame]:
    return {t: pl.read_parquet(curated / t, hive_partitioning=True) for t in tables}


def _s3_tables(
    bucket: Bucket, prefix: str, tables: tuple[str, ...] = TABLES
) -> dict[str, pl.DataFrame]:
    return {t: bucket.scan_polars(f"{prefix}/{t}") for t in tables}


def _comparable(frame: pl.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """Without the run id (new in every run by design), columns and rows in one order."""
    frame = frame.select(like.columns).drop("run_id", strict=False)
    return frame.sort(frame.columns[:4], nulls_last=True)


def assert_same_tables(on_s3: dict[str, pl.DataFrame], on_disk: dict[str, pl.DataFrame]) -> None:
    for table, local in on_disk.items():
        assert local.height > 0, table
        remote = _comparable(on_s3[table], local)
        assert remote.equals(_comparable(local, local)), table


SUMMARY_KEYS = (
    "status",
    "partitions",
    "partitions_skipped",
    "partitions_removed",
    "files_seen",
    "files_curated",
    "files_quarantined",
    "files_ignored",
    "records_curated",
    "records_quarantined",
    "rows",
    "reasons",
    "planned",
)


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_on_s3_writes_what_a_local_run_writes_and_a_rerun_changes_nothing(
    raw_tree: Path, s3_raw: str, s3_bucket: Bucket, tmp_path: Path
) -> None:
    local = _run(raw_tree, tmp_path / "curated")
    remote = _run(s3_raw, s3_bucket.url("curated"))

    assert remote["status"] == "completed"
    assert {k: remote[k] for k in SUMMARY_KEYS} == {k: local[k] for k in SUMMARY_KEYS}
    assert_same_tables(_s3_tables(s3_bucket, "curated"), _local_tables(tmp_path / "curated"))
    # pyarrow, as well as polars, reads the tables back from the bucket.
    assert s3_bucket.read_table("curated/articles").height == remote["rows"]["articles"]  # type: ignore[index]
    curated = location(s3_bucket.url("curated"))
    recorded = read_state(curated, "wire", date(2026, 6, 16))
    assert recorded is not None and recorded.run_id == remote["run_id"]
    assert recorded.files[WIRE].sha256 == state._sha256(raw_tree / WIRE)
    runs = s3_bucket.read_table("curated/runs")
    assert runs["run_id"].to_list() == [remote["run_id"]]
    assert json.loads(runs["parameters"][0])["curated_root"] == s3_bucket.url("curated")
    before = s3_bucket.etags("curated/")

    again = _run(s3_raw, s3_bucket.url("curated"))

    assert (again["partitions"], again["partitions_skipped"]) == (0, 2)
    assert again["files_unchanged"] == 3
    after = s3_bucket.etags("curated/")
    # Nothing rewritten, nothing added but the run's own record.
    assert {k: v for k, v in after.items() if k in before} == before
    assert [k.split("/")[0] for k in after if k not in before] == ["runs"]
    assert [k for k in after if k.startswith(("_staging", "_journal"))] == []


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("runner", ["process", "dask"])
def test_worker_processes_read_and_write_the_same_s3_dataset(
    raw_tree: Path, s3_raw: str, s3_bucket: Bucket, tmp_path: Path, runner: str
) -> None:
    """Local worker processes, and the workers of a Dask LocalCluster (processes of their
    own that reach the bucket with the same AWS_* settings), share one S3 dataset."""
    local = _run(raw_tree, tmp_path / "curated")
    remote = _run(s3_raw, s3_bucket.url("parallel"), workers=2, task_runner=runner)

    assert remote["status"] == "completed"
    assert {k: remote[k] for k in SUMMARY_KEYS} == {k: local[k] for k in SUMMARY_KEYS}
    assert_same_tables(_s3_tables(s3_bucket, "parallel"), _local_tables(tmp_path / "curated"))
    # The workers' scratch frames went through the bucket and are gone with the run.
    assert [k for k in s3_bucket.etags("parallel/") if "analysis-" in k] == []


@pytest.mark.usefixtures("prefect_harness")
def test_a_changed_object_rewrites_its_partition_and_a_removed_one_drops_it(
    raw_tree: Path, s3_raw: str, s3_bucket: Bucket
) -> None:
    curated = s3_bucket.url("curated")
    _run(s3_raw, curated)
    before = s3_bucket.etags("curated/")

    extra = {"id": "w-3", "text": "招商银行发布年报，净利润增长8%。"}
    feed = (raw_tree / WIRE).read_text(encoding="utf-8")
    s3_bucket.put(f"raw/{WIRE}", feed + "\n" + json.dumps(extra, ensure_ascii=False))
    changed = _run(s3_raw, curated)

    assert changed["planned"] == {"changed": 1}
    after = s3_bucket.etags("curated/")
    rewritten = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert rewritten and all("2026-06-16" in k or k.startswith("runs/") for k in rewritten)
    wire = s3_bucket.scan_polars("curated/articles").filter(pl.col("source") == "wire")
    assert sorted(wire["external_id"].to_list()) == ["w-1", "w-2", "w-3"]

    s3_bucket.delete(f"raw/{WIRE}")
    removed = _run(s3_raw, curated)

    assert removed["partitions_removed"] == 1
    left = s3_bucket.names("curated/", markers=True)
    assert [k for k in left if "2026-06-16" in k] == []
    assert s3_bucket.scan_polars("curated/articles")["source"].unique().to_list() == ["cbn"]


@pytest.mark.usefixtures("prefect_harness")
def test_a_swap_interrupted_on_s3_is_finished_by_the_next_run(
    raw_tree: Path,
    s3_raw: str,
    s3_bucket: Bucket,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    curated = s3_bucket.url("curated")
    _run(s3_raw, curated)
    _run(raw_tree, tmp_path / "curated")  # the same history on disk, to compare with
    page_2 = "cbn/2026-06-15/page-2.txt"
    s3_bucket.put(f"raw/{page_2}", "央行今日开展逆回购操作。")
    put(raw_tree, page_2, "央行今日开展逆回购操作。")

    real = store.replace
    moves: list[str] = []

    def dies_after_two_moves(src: store.Location, dst: store.Location) -> None:
        if len(moves) == 2:
            raise OSError("worker lost mid-swap")
        real(src, dst)
        moves.append(str(dst))

    with monkeypatch.context() as m:
        m.setattr(store, "replace", dies_after_two_moves)
        interrupted = pipeline.run_pipeline(
            raw_root=s3_raw, curated_root=curated, retries=0, return_state=True
        )
    assert interrupted.name == "Partial"
    assert len(moves) == 2
    assert [k for k in s3_bucket.names("curated/_journal/") if k.endswith(".json")]
    articles = s3_bucket.scan_polars("curated/articles")
    assert page_2 in articles["raw_path"].to_list()  # the articles table is new already
    tokens = s3_bucket.scan_polars("curated/tokens")
    assert page_2 not in tokens["article_id"].to_list()  # the rest is still old

    finished = _run(s3_raw, curated)

    # The next run rolled the swap forward first, so the partition was up to date.
    assert (finished["partitions"], finished["partitions_skipped"]) == (0, 2)
    assert s3_bucket.names("curated/_journal/") == []
    assert s3_bucket.names("curated/_staging/") == []
    assert _run(raw_tree, tmp_path / "curated")["planned"] == {"changed": 1}
    assert_same_tables(_s3_tables(s3_bucket, "curated"), _local_tables(tmp_path / "curated"))


@pytest.mark.usefixtures("prefect_harness")
def test_a_forced_backfill_on_s3_resumes_where_it_stopped(
    s3_raw: str, s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    curated = s3_bucket.url("curated")
    days = {"start": date(2026, 6, 15), "end": date(2026, 6, 16)}
    real = pipeline.curate_partition

    def dies_on_the_wire(raw_root, curated_root, source, *args, **kwargs):  # type: ignore[no-untyped-def]
        if source == "wire":
            raise OSError("worker lost")
        return real(raw_root, curated_root, source, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(pipeline, "curate_partition", dies_on_the_wire)
        stopped = pipeline.backfill(
            **days, force=True, raw_root=s3_raw, curated_root=curated, retries=0, return_state=True
        )
    assert stopped.name == "Partial"
    mark = f"curated/_state/backfills/{pipeline.backfill_key(**days, source=None)}.json"
    assert mark in [f"curated/{k}" for k in s3_bucket.names("curated/")]

    resumed = pipeline.call(
        pipeline.backfill, **days, force=True, raw_root=s3_raw, curated_root=curated
    )

    # cbn was rewritten before the stop and is skipped; wire never got written.
    assert resumed["planned"] == {"new": 1}
    assert resumed["partitions_skipped"] == 1
    assert s3_bucket.names("curated/_state/backfills/") == []


@pytest.mark.usefixtures("prefect_harness")
def test_runs_on_one_s3_root_take_turns_through_a_local_lock(
    s3_raw: str, s3_bucket: Bucket
) -> None:
    curated = s3_bucket.url("curated")
    lock = store.lock_file(location(curated), pipeline.LOCK_FILE)
    with (
        FileLock(str(lock)),
        pytest.raises(pipeline.CuratedRootLocked, match="locked by another run"),
    ):
        _run(s3_raw, curated, lock_timeout=0.5)
    assert s3_bucket.names("curated/") == []


# --------------------------------------------------------------------------- the command


def _zhnews(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The installed command in a new process, which finds the bucket from AWS_* alone."""
    env = {**os.environ, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run(
        [str(ZHNEWS), *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.usefixtures("prefect_harness")
def test_zhnews_run_takes_s3_urls_and_reruns_incrementally(
    tmp_path: Path, s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_PAGE.parent.parent.parent, raw)  # the bundled sample
    s3_bucket.upload(raw, "raw")
    args = ["run", "--raw", s3_bucket.url("raw"), "--curated", s3_bucket.url("curated")]

    first = _zhnews(*args, home=tmp_path / "prefect-home")

    assert first.returncode == 0, first.stderr[-3000:]
    assert "completed" in first.stdout
    assert "1 seen: 1 curated, 0 quarantined" in first.stdout
    _run(raw, tmp_path / "curated")
    curated = tuple(t for t in TABLES if t != "quarantine")  # the sample has nothing to quarantine
    assert_same_tables(
        _s3_tables(s3_bucket, "curated", curated), _local_tables(tmp_path / "curated", curated)
    )
    assert s3_bucket.names("curated/quarantine/") == []

    # Once more, in this process (Prefect's start-up costs a new process most of a minute).
    cli = CliRunner()
    again = cli.invoke(app, args)

    assert again.exit_code == 0, again.output
    assert "0 processed, 1 up to date" in again.output
    assert "1 unchanged" in again.output

    monkeypatch.setenv("ZHNEWS_RAW", s3_bucket.url("raw/"))
    monkeypatch.chdir(tmp_path)  # no zhnews.toml
    shown = cli.invoke(app, ["config", "--curated", s3_bucket.url("curated")])
    assert shown.exit_code == 0, shown.output
    lines = {line.split()[0]: line.split()[1:] for line in shown.output.splitlines()}
    assert lines["raw"] == [s3_bucket.url("raw"), "(env", "ZHNEWS_RAW)"]
    assert lines["curated"] == [s3_bucket.url("curated"), "(flag)"]

    missing = cli.invoke(app, ["run", "--raw", s3_bucket.url("no-such-prefix")])
    assert missing.exit_code == 2
    assert "is not a directory" in missing.output
    wrong = cli.invoke(app, ["run", "--raw", "s3://user:secret@bucket/raw"])
    assert wrong.exit_code == 2
    assert "credentials do not belong in the URL" in wrong.output
