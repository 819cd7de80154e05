"""Hostile inputs end to end: every case of `tests/flows/hostile.py` curated with the right
text or quarantined with its reason, every count adding up, and nothing outside the raw
root read, nothing outside the curated root written.

One run of the flow over the whole tree (under Prefect's test harness) serves most tests;
the installed `zhnews` command runs once over the same kind of tree in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows import pipeline
from flows.io import raw as raw_io
from flows.io.state import read_state
from tests.flows import hostile
from tests.flows.hostile import DAY, PAGES, PWNED, RECORDS, SECRET, WIRE, Expected

LIMIT = 1024 * 1024  # the run's file size limit: `one-line.txt` is exactly this long
CLI_LIMIT_MB = 1
ZHNEWS = Path(sys.executable).with_name("zhnews")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Audit events that touch the file system, with the index of their path arguments.
PATH_EVENTS = {
    "open": (0,),
    "os.listdir": (0,),
    "os.scandir": (0,),
    "os.rename": (0, 1),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.truncate": (0,),
    "os.symlink": (0, 1),
    "os.link": (0, 1),
    "os.chmod": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (0, 1),
}
WRITING_EVENTS = frozenset(PATH_EVENTS) - {"open", "os.listdir", "os.scandir"}


class _Audit:
    """Every file-system event of this process, while on: (event, real path, writes)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, bool]] = []
        self.on = False
        self.lock = threading.Lock()

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if not self.on or event not in PATH_EVENTS:
            return
        for index in PATH_EVENTS[event]:
            path = args[index] if index < len(args) else None
            if not isinstance(path, str | bytes | os.PathLike):
                continue  # a file descriptor
            writes = event in WRITING_EVENTS
            if event == "open":
                mode, flags = args[1], args[2]
                writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and bool(flags & WRITE_FLAGS)
                )
            real = os.path.realpath(os.fsdecode(path))
            with self.lock:
                self.events.append((event, real, writes))


AUDIT = _Audit()
sys.addaudithook(AUDIT)  # hooks stay for the life of the process: this one is off by default


@dataclass
class HostileRun:
    base: Path
    raw: Path
    outside: Path
    curated: Path
    expect: Expected
    result: dict[str, object]
    events: list[tuple[str, str, bool]]


def _read(curated: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(curated / table, hive_partitioning=True)


def _quarantine(curated: Path) -> pl.DataFrame:
    return _read(curated, "quarantine")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> HostileRun:
    base = tmp_path_factory.mktemp("hostile")
    raw, outside, expect = hostile.build(base, limit=LIMIT)
    curated = base / "curated"
    AUDIT.events.clear()
    AUDIT.on = True
    try:
        result = pipeline.call(
            pipeline.run_pipeline,
            raw_root=str(raw),
            curated_root=str(curated),
            max_file_bytes=LIMIT,
            retry_delay=0,
        )
    finally:
        AUDIT.on = False
    return HostileRun(base, raw, outside, curated, expect, result, list(AUDIT.events))


def _outcomes(curated: Path) -> dict[str, tuple[str, str | None]]:
    """What the curated tables say became of each raw file."""
    curated_paths = set(_read(curated, "articles")["raw_path"].to_list())
    quarantine = _quarantine(curated)
    outcomes: dict[str, tuple[str, str | None]] = {p: ("curated", None) for p in curated_paths}
    for path, rows in quarantine.group_by("raw_path"):
        path = str(path[0])
        if path in curated_paths:
            continue
        file_level = rows.filter(pl.col("record").is_null())["reason"].to_list()
        outcomes[path] = ("quarantined", file_level[0] if file_level else RECORDS)
    return outcomes


def test_the_run_finishes_and_every_count_adds_up(hostile_run: HostileRun) -> None:
    result, expect = hostile_run.result, hostile_run.expect

    assert result["status"] == "completed"
    assert result["files_seen"] == len(expect.files)
    assert result["files_curated"] == expect.count("curated")
    assert result["files_quarantined"] == expect.count("quarantined")
    assert result["files_ignored"] == expect.count("ignored")
    assert result["files_failed"] == result["files_unchanged"] == 0
    assert result["records_seen"] == len(expect.records)
    curated_records = sum(1 for kind, _ in expect.records.values() if kind == "curated")
    assert result["records_curated"] == curated_records
    assert result["records_quarantined"] == len(expect.records) - curated_records

    (row,) = _read(hostile_run.curated, "runs").iter_rows(named=True)
    for key in ("status", "files_seen", "files_curated", "files_quarantined", "records_seen"):
        assert row[key] == result[key], key
    assert json.loads(row["quarantine_reasons"]) == result["reasons"]


def test_every_file_is_curated_or_quarantined_with_its_reason(hostile_run: HostileRun) -> None:
    expect = hostile_run.expect
    outcomes = _outcomes(hostile_run.curated)
    wanted = {
        path: (kind, reason if kind == "quarantined" else None)
        for path, (kind, reason) in expect.files.items()
        if kind != "ignored"
    }
    assert outcomes == wanted
    quarantine = _quarantine(hostile_run.curated)
    for path, reason in expect.partly.items():
        rows = quarantine.filter(pl.col("raw_path") == path)
        assert rows["reason"].to_list() == [reason], path


def test_ignored_entries_are_nowhere_in_the_tables(hostile_run: HostileRun) -> None:
    ignored = [p for p, (kind, _) in hostile_run.expect.files.items() if kind == "ignored"]
    assert ignored
    written = set(_read(hostile_run.curated, "articles")["raw_path"].to_list())
    written |= set(_quarantine(hostile_run.curated)["raw_path"].to_list())
    assert not any(path.startswith(tuple(ignored)) for path in written)


def test_curated_text_and_encoding_are_exact(hostile_run: HostileRun) -> None:
    articles = _read(hostile_run.curated, "articles")
    for path, (kind, text) in hostile_run.expect.files.items():
        if kind != "curated" or path.endswith(".jsonl"):
            continue
        (row,) = articles.filter(pl.col("raw_path") == path).iter_rows(named=True)
        if text is not None:
            assert row["text"] == text, path
        assert row["raw_encoding"] == hostile_run.expect.encodings[path], path
        if row["script"] != "Hant":  # the common characters judged against are Simplified
            assert row["text_quality"] == "clean", path
        data = (hostile_run.raw / path).read_bytes()
        assert row["raw_sha256"] == hashlib.sha256(data).hexdigest(), path


def test_every_jsonl_record_has_its_outcome(hostile_run: HostileRun) -> None:
    articles = _read(hostile_run.curated, "articles")
    paragraphs = _read(hostile_run.curated, "paragraphs")
    quarantine = _quarantine(hostile_run.curated)
    for (path, line), (kind, value) in hostile_run.expect.records.items():
        rows = articles.filter((pl.col("raw_path") == path) & (pl.col("raw_record") == line))
        found = quarantine.filter((pl.col("raw_path") == path) & (pl.col("record") == line))
        if kind == "quarantined":
            assert rows.height == 0, (path, line)
            assert found["reason"].to_list() == [value], (path, line)
            continue
        assert found.height == 0, (path, line, found["detail"].to_list())
        (article_id,) = rows["article_id"].to_list()
        stored = "\n".join(paragraphs.filter(pl.col("article_id") == article_id)["text"])
        missing = [part for part in value.split("\n") if part not in stored]
        assert not missing, (path, line, missing)
    ids = dict(zip(articles["raw_record"], articles["external_id"], strict=True))
    for (_, line), external_id in hostile_run.expect.external_ids.items():
        assert ids[line] == external_id
    assert articles.filter(pl.col("raw_path") == f"{WIRE}/feed-gbk.jsonl")[
        "raw_encoding"
    ].to_list() == ["gb18030", "gb18030"]


def test_sizes_are_checked_before_reading_and_a_line_at_the_limit_is_curated(
    hostile_run: HostileRun,
) -> None:
    quarantine = _quarantine(hostile_run.curated)
    details = dict(zip(quarantine["raw_path"], quarantine["detail"], strict=True))
    assert details[f"{PAGES}/archive-dump.txt"] == (
        f"{hostile.HUGE_BYTES} bytes exceeds the {LIMIT}-byte limit"
    )
    assert details[f"{PAGES}/over-limit.txt"] == f"{LIMIT + 1} bytes exceeds the {LIMIT}-byte limit"
    articles = _read(hostile_run.curated, "articles")
    (row,) = articles.filter(pl.col("raw_path") == f"{PAGES}/one-line.txt").iter_rows(named=True)
    assert len(row["text"].encode("utf-8")) == LIMIT
    assert "\n" not in row["text"]
    sentences = _read(hostile_run.curated, "sentences").filter(
        pl.col("article_id") == row["article_id"]
    )
    assert sentences.height == row["n_sentences"] > 5_000


def test_nothing_outside_the_raw_root_is_read_nor_outside_the_curated_root_written(
    hostile_run: HostileRun,
) -> None:
    def below(path: str, folder: Path) -> bool:
        return path == str(folder) or path.startswith(str(folder) + os.sep)

    touched = [(e, p, w) for e, p, w in hostile_run.events if below(p, hostile_run.base)]
    assert any(below(p, hostile_run.raw / PAGES) for _, p, _ in touched)  # the audit saw it
    strays = [
        (event, path, writes)
        for event, path, writes in touched
        if not below(path, hostile_run.curated) and (writes or not below(path, hostile_run.raw))
    ]
    assert strays == []
    # Nor did anything find its way into the tables, or a payload run.
    for parquet in hostile_run.curated.rglob("*.parquet"):
        frame = pl.read_parquet(parquet)
        for column in frame.select(pl.col(pl.String)).columns:
            assert not frame[column].str.contains(SECRET.strip(), literal=True).any(), parquet
    assert not list(hostile_run.base.rglob(PWNED))
    assert not Path(PWNED).exists()


def test_ids_and_fields_that_look_like_paths_stay_data(hostile_run: HostileRun) -> None:
    articles = _read(hostile_run.curated, "articles")
    (row,) = articles.filter(pl.col("external_id") == "../../etc/passwd").iter_rows(named=True)
    assert row["url"] == "file:///etc/passwd"
    assert row["headline"] == "../../../root/.ssh/id_rsa"
    assert row["authors"] == ["../../tmp/x"]
    # The curated root holds tables, partition records and the lock; no name comes from
    # the data but a source and a date the layout checked.
    tables = (*pipeline.CURATED_TABLES, "runs")
    for path in hostile_run.curated.rglob("*"):
        if path.is_dir():
            continue
        parts = path.relative_to(hostile_run.curated).parts
        if parts[0] in tables:
            assert len(parts) == 3 and parts[1].split("=")[0] in ("pub_date", "run_date"), parts
            assert path.suffix == ".parquet", parts
        elif parts[0] == "_state":
            assert parts[:2] == ("_state", "partitions") and parts[2] in ("cbn", "wire"), parts
            assert parts[3] == f"{DAY}.json", parts
        else:
            assert parts == (pipeline.LOCK_FILE,)


def test_partition_records_hash_exactly_what_was_read(hostile_run: HostileRun) -> None:
    state = read_state(hostile_run.curated, "cbn", date.fromisoformat(DAY))
    assert state is not None
    for name in ("utf-8.txt", "big5.txt", "one-line.txt"):
        data = (hostile_run.raw / PAGES / name).read_bytes()
        stamp = state.files[f"{PAGES}/{name}"]
        assert stamp.sha256 == hashlib.sha256(data).hexdigest()
        assert stamp.size == len(data)
    # Files that are not read have a stable stamp, so the partition can be up to date.
    assert state.files[f"{PAGES}/pipe.txt"].sha256 is not None
    assert state.files[f"{PAGES}/loop-a.txt"].sha256 is not None


def test_a_rerun_finds_everything_up_to_date(hostile_run: HostileRun) -> None:
    """Files that are not read (links out or looping, a FIFO) have stable stamps; only a
    file whose read failed (no permission) keeps its partition stale, to be tried again."""
    before = _quarantine(hostile_run.curated).drop("run_id").sort("raw_path", "record")
    again = pipeline.call(
        pipeline.run_pipeline,
        raw_root=str(hostile_run.raw),
        curated_root=str(hostile_run.curated),
        max_file_bytes=LIMIT,
    )
    locked = (hostile_run.raw / PAGES / "locked.txt").exists()
    current = (WIRE,) if locked else (PAGES, WIRE)
    in_partitions = [
        path
        for path, (kind, _) in hostile_run.expect.files.items()
        if kind != "ignored" and path.startswith((f"{PAGES}/", f"{WIRE}/"))
    ]
    assert again["status"] == "completed"
    assert again["planned"] == ({"unreadable": 1} if locked else {})
    assert again["partitions_skipped"] == len(current)
    assert again["files_unchanged"] == sum(
        1 for path in in_partitions if path.startswith(tuple(f"{f}/" for f in current))
    )
    after = _quarantine(hostile_run.curated).drop("run_id").sort("raw_path", "record")
    assert after.equals(before)


# --------------------------------------------------------------------- the command


def _zhnews(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run(
        [str(ZHNEWS), *args], capture_output=True, text=True, env=env, timeout=900
    )


def _tree_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def test_the_command_curates_the_hostile_tree_and_exits_0(tmp_path: Path) -> None:
    raw, outside, expect = hostile.build(tmp_path, limit=CLI_LIMIT_MB * 1024 * 1024, at_limit=False)
    curated = tmp_path / "curated"
    outside_before = _tree_snapshot(outside)

    done = _zhnews(
        "run",
        "--raw",
        str(raw),
        "--curated",
        str(curated),
        "--max-file-mb",
        str(CLI_LIMIT_MB),
        home=tmp_path / "prefect-home",
    )

    assert done.returncode == 0, done.stderr[-3000:]
    seen = len(expect.files)
    line = (
        f"{seen} seen: {expect.count('curated')} curated, {expect.count('quarantined')} "
        f"quarantined, {expect.count('ignored')} ignored, 0 failed, 0 unchanged"
    )
    assert line in done.stdout
    assert f"records     {len(expect.records)} seen:" in done.stdout
    wanted = {
        path: (kind, reason if kind == "quarantined" else None)
        for path, (kind, reason) in expect.files.items()
        if kind != "ignored"
    }
    assert _outcomes(curated) == wanted
    assert _tree_snapshot(outside) == outside_before
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*")}
    assert written == {"raw", "outside", "curated", "prefect-home"}
    assert not list(tmp_path.rglob(PWNED))


# --------------------------------------------------------------------- files that change


@pytest.fixture
def small_tree(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    folder = raw / PAGES
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text(hostile.TEXTS["utf-8"], encoding="utf-8")
    (folder / "b.txt").write_text(hostile.TEXTS["utf-8-bom"], encoding="utf-8")
    return raw


def _run(raw: Path, curated: Path) -> dict[str, object]:
    return pipeline.call(
        pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated), retry_delay=0
    )


def _state_sha(curated: Path, name: str) -> str | None:
    state = read_state(curated, "cbn", date.fromisoformat(DAY))
    assert state is not None
    return state.files[f"{PAGES}/{name}"].sha256


def test_a_file_changed_between_listing_and_reading_is_recorded_as_read(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan hashes the old bytes, the analysis reads the new ones: the tables and the
    partition's record both say what was read, so the next run has nothing to redo."""
    curated = tmp_path / "curated"
    page = small_tree / PAGES / "a.txt"
    new_text = hostile.TEXTS["gbk"]
    real = pipeline.stamp_files

    def stamp_then_edit(*args, **kwargs):  # type: ignore[no-untyped-def]
        stamps = real(*args, **kwargs)
        page.write_text(new_text, encoding="utf-8")
        return stamps

    monkeypatch.setattr(pipeline, "stamp_files", stamp_then_edit)
    first = _run(small_tree, curated)
    monkeypatch.undo()

    assert first["status"] == "completed"
    new_sha = hashlib.sha256(page.read_bytes()).hexdigest()
    articles = _read(curated, "articles").filter(pl.col("raw_path") == f"{PAGES}/a.txt")
    assert articles["text"].to_list() == [new_text]
    assert articles["raw_sha256"].to_list() == [new_sha]
    assert _state_sha(curated, "a.txt") == new_sha

    second = _run(small_tree, curated)
    assert (second["partitions"], second["partitions_skipped"]) == (0, 1)

    page.write_text(hostile.TEXTS["gb2312"], encoding="utf-8")
    third = _run(small_tree, curated)
    assert third["planned"] == {"changed": 1}


def test_a_file_changed_while_it_is_read_is_quarantined_then_read_again(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes read while a writer appends may mix two versions: they are not curated, and
    the partition's record leaves the file unknown, so the next run reads it again."""
    curated = tmp_path / "curated"
    page = small_tree / PAGES / "a.txt"
    real = raw_io.read_fd

    def read_while_appending(fd: int, limit: int) -> bytes:
        data = real(fd, limit)
        if os.path.samefile(f"/proc/self/fd/{fd}", page):
            with page.open("a", encoding="utf-8") as fh:
                fh.write("\n记者补充报道：会议还研究了其他事项。")
        return data

    monkeypatch.setattr(raw_io, "read_fd", read_while_appending)
    first = _run(small_tree, curated)
    monkeypatch.undo()

    assert first["status"] == "completed"
    assert first["reasons"] == {"changed_during_read": 1}
    quarantine = _quarantine(curated)
    assert quarantine["raw_path"].to_list() == [f"{PAGES}/a.txt"]
    assert "bytes when opened" in quarantine["detail"][0]
    assert _state_sha(curated, "a.txt") is None

    second = _run(small_tree, curated)
    assert second["planned"] == {"changed": 1}
    assert second["reasons"] == {}
    articles = _read(curated, "articles").filter(pl.col("raw_path") == f"{PAGES}/a.txt")
    assert articles["text"][0].endswith("会议还研究了其他事项。")
    assert _state_sha(curated, "a.txt") == hashlib.sha256(page.read_bytes()).hexdigest()


# --------------------------------------------------------------------- folders that cannot be read


def test_a_date_folder_that_cannot_be_listed_keeps_its_curated_partition(
    small_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that cannot be listed are unknown, not deleted: the partition stays."""
    curated = tmp_path / "curated"
    first = _run(small_tree, curated)
    assert first["files_curated"] == 2
    folder = small_tree / PAGES
    real = os.scandir

    def refuse(path: object = ".") -> object:
        if isinstance(path, str | os.PathLike) and os.fspath(path) == str(folder):
            raise PermissionError(13, "Permission denied", str(folder))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", refuse)
    second = _run(small_tree, curated)
    monkeypatch.undo()

    assert second["status"] == "completed"
    assert second["partitions_removed"] == 0
    assert second["reasons"] == {"unreadable": 1}
    assert (second["files_seen"], second["files_quarantined"]) == (1, 1)
    assert _read(curated, "articles").height == 2
    undated = _quarantine(curated).filter(pl.col("raw_path") == PAGES)
    assert undated["reason"].to_list() == ["unreadable"]
    assert "Permission denied" in undated["detail"][0]


@pytest.mark.skipif(
    not hostile.permissions_bind(), reason="this user reads files whatever their permissions"
)
def test_folders_and_files_without_permission_are_unreadable(
    small_tree: Path, tmp_path: Path
) -> None:
    curated = tmp_path / "curated"
    locked_file = small_tree / PAGES / "b.txt"
    locked_dir = small_tree / "xinhua" / DAY
    locked_dir.mkdir(parents=True)
    (locked_dir / "c.txt").write_text(hostile.TEXTS["gbk"], encoding="utf-8")
    locked_file.chmod(0)
    locked_dir.chmod(0)
    try:
        result = _run(small_tree, curated)
    finally:
        locked_file.chmod(0o644)
        locked_dir.chmod(0o755)
    assert result["status"] == "completed"
    assert result["reasons"] == {"unreadable": 2}
    outcomes = _outcomes(curated)
    assert outcomes[f"{PAGES}/b.txt"] == ("quarantined", "unreadable")
    assert outcomes[f"xinhua/{DAY}"] == ("quarantined", "unreadable")
