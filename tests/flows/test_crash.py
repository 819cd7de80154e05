"""Runs killed at bad moments, full disks and read-only roots: old data or new, never half.

Each crash test runs the real `zhnews run` in a child process that SIGKILLs itself at one
point of the run (`tests.crashpoint`), checks what a reader of the curated root sees right
after, then lets the next run finish and compares its tables with an uninterrupted run's.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flows import pipeline
from flows.io import parquet, store
from tests.conftest import REPO, SAMPLE_PAGE, harness_child_env, jsonl_text

pytestmark = pytest.mark.usefixtures("prefect_harness")

TABLES = ("articles", "paragraphs", "sentences", "tokens", "entities", "keywords", "doc_freq")
# Partitions in the order a run curates them: (source, date).
PARTITIONS = (("cbn", "2026-06-15"), ("wire", "2026-06-15"), ("wire", "2026-06-16"))
# The wire's JSONL records by date folder.
WIRE = {
    "2026-06-15": (
        {
            "id": "w-1",
            "title": "央行开展逆回购操作",
            "text": "新华社北京6月15日电 中国人民银行今日开展1000亿元逆回购操作。\n"
            "中标利率为1.4%，与此前持平。",
        },
        {"id": "w-2", "text": "工商银行(601398.SH)股价上涨2.3%，成交额达12.5亿元。"},
    ),
    "2026-06-16": (
        {
            "id": "w-3",
            "title": "沪指收涨",
            "text": "上证指数收涨0.8%，报3350.12点。贵州茅台(600519.SH)领涨白酒板块。",
        },
        {
            "id": "w-4",
            "text": "国家统计局6月16日发布数据，5月份社会消费品零售总额同比增长6.4%。",
        },
    ),
}


def _write_raw(root: Path) -> Path:
    page = root / "cbn" / "2026-06-15"
    page.mkdir(parents=True)
    shutil.copy(SAMPLE_PAGE, page / "page-1.txt")
    for day, records in WIRE.items():
        folder = root / "wire" / day
        folder.mkdir(parents=True)
        (folder / "feed.jsonl").write_text(jsonl_text(*records) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_raw(tmp_path_factory.mktemp("crash") / "raw")


def _run(raw: Path, curated: Path, **kwargs: Any) -> dict[str, object]:
    return pipeline.call(
        pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated), **kwargs
    )


def _file_frame(path: Path) -> pl.DataFrame:
    frame = pl.read_parquet(path).drop("run_id", strict=False)
    return frame.sort(frame.columns)


def _partition_files(curated: Path) -> dict[tuple[str, str, str], Path]:
    """Every curated table file a reader would find: (table, date, source) -> path."""
    found = {}
    for table in TABLES:
        for path in sorted((curated / table).glob("*/*")):
            day = path.parent.name.removeprefix(f"{parquet.PARTITION_COLUMN}=")
            found[(table, day, path.name)] = path
    return found


@pytest.fixture(scope="module")
def reference(raw: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, pl.DataFrame]:
    """The tables of one uninterrupted run, file by file, without run ids."""
    curated = tmp_path_factory.mktemp("reference") / "curated"
    assert _run(raw, curated)["status"] == "completed"
    files = _partition_files(curated)
    assert {(t, d, f"{s}.parquet") for t in TABLES for s, d in PARTITIONS} == set(files)
    return {key: _file_frame(path) for key, path in files.items()}


def _assert_readers_see_whole_files(curated: Path, reference: dict[tuple, pl.DataFrame]) -> None:
    """What a reader of the curated root sees right after a kill: every table file whole
    and exactly one partition's worth, each either absent or equal to the finished one; the
    tables disagree about a partition only while a journaled swap awaits its roll-forward."""
    files = _partition_files(curated)
    for key, path in files.items():
        assert key in reference, f"unexpected file {path}"
        assert _file_frame(path).equals(reference[key]), f"{path} differs from a finished run"
    for table in TABLES:
        assert not [
            p for p in (curated / table).rglob("*") if p.is_file() and p.suffix != ".parquet"
        ]
        if any((curated / table).rglob("*.parquet")):
            frame = pl.read_parquet(curated / table, hive_partitioning=True)
            keys = {"articles": ["article_id"], "tokens": ["article_id", "token_idx"]}
            if table in keys:
                assert frame.select(keys[table]).is_unique().all(), f"duplicate rows in {table}"
    pending = list((curated / parquet.JOURNAL_DIR).glob("*.json"))
    for source, day in PARTITIONS:
        present = {t for t in TABLES if (t, day, f"{source}.parquet") in files}
        assert present in (set(), set(TABLES)) or pending, (source, day, sorted(present))


# (what the run is doing, the function whose call kills it, which call, before or after it)
KILL_POINTS = [
    ("reading the second raw file", "flows.partition:read_raw_file", 2, "before"),
    ("tagging", "flows.io.nlp:JiebaTagger.tag", 150, "before"),
    ("staging the second partition", "flows.io.parquet:write_frame", 10, "before"),
    ("journal written, nothing moved", "flows.io.parquet:_write_journal", 2, "after"),
    ("swapping the first partition", "flows.io.store:replace", 5, "before"),
    ("swapping the last partition", "flows.io.store:replace", 24, "after"),
    ("writing the runs row", "flows.io.parquet:write_run", 1, "before"),
]


@pytest.mark.parametrize(
    ("target", "nth", "when"), [p[1:] for p in KILL_POINTS], ids=[p[0] for p in KILL_POINTS]
)
def test_a_run_killed_anywhere_leaves_old_or_new_and_the_next_run_finishes_it(
    raw: Path,
    reference: dict[tuple, pl.DataFrame],
    tmp_path: Path,
    target: str,
    nth: int,
    when: str,
) -> None:
    curated = tmp_path / "curated"
    killed = subprocess.run(
        [
            *(sys.executable, "-m", "tests.crashpoint", target, str(nth), when, "--"),
            *("run", "--raw", str(raw), "--curated", str(curated)),
        ],
        cwd=REPO,
        env=harness_child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    _assert_readers_see_whole_files(curated, reference)

    summary = _run(raw, curated)
    assert summary["status"] == "completed"
    files = _partition_files(curated)
    assert set(files) == set(reference)
    for key, path in files.items():
        assert _file_frame(path).equals(reference[key]), path
    assert not list((curated / parquet.JOURNAL_DIR).glob("*"))
    assert not (curated / parquet.STAGING_DIR).exists() or not any(
        (curated / parquet.STAGING_DIR).iterdir()
    )
    runs = pl.read_parquet(curated / parquet.RUNS_TABLE, hive_partitioning=True)
    assert runs["status"].to_list()[-1] == "completed"
    # Rerunning after the recovery has nothing left to do.
    again = _run(raw, curated)
    assert again["partitions"] == 0, again


@pytest.fixture
def curated_once(raw: Path, tmp_path: Path) -> Iterator[Path]:
    curated = tmp_path / "curated"
    assert _run(raw, curated)["status"] == "completed"
    yield curated


def _snapshot(curated: Path) -> dict[tuple, pl.DataFrame]:
    return {k: _file_frame(p) for k, p in _partition_files(curated).items()}


def test_a_full_disk_fails_the_run_clearly_and_keeps_the_old_data(
    raw: Path, curated_once: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(curated_once)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(store, "write_durably", disk_full)
        # Every partition fails, then so does the runs row: the run cannot record itself.
        with pytest.raises(OSError, match="No space left on device"):
            _run(raw, curated_once, force=True, retries=0)

    after = _snapshot(curated_once)
    assert set(after) == set(before)
    assert all(after[k].equals(before[k]) for k in before)
    assert not list((curated_once / parquet.JOURNAL_DIR).glob("*.json"))
    # Space again: the next run curates what failed.
    assert _run(raw, curated_once, force=True)["status"] == "completed"


def _read_only(path: Path) -> list[str] | None:
    """A command prefix that runs a child with `path` mounted read-only, when this machine
    can (an unprivileged user: plain permissions; root: a private read-only bind mount)."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    probe = subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "true"], capture_output=True
    )
    if probe.returncode != 0:
        return None
    script = f'mount --bind {path} {path} && mount -o remount,bind,ro {path} && exec "$@"'
    return [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"]


def test_a_read_only_curated_root_is_refused_before_any_work(
    raw: Path, curated_once: Path, tmp_path: Path
) -> None:
    before = _snapshot(curated_once)
    prefix = _read_only(curated_once)
    if prefix is None:
        pytest.skip("cannot make a read-only folder on this machine")
    zhnews = Path(sys.executable).with_name("zhnews")
    try:
        done = subprocess.run(
            [
                *prefix,
                str(zhnews),
                "run",
                "--raw",
                str(raw),
                "--curated",
                str(curated_once),
                "--force",
            ],
            env=harness_child_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        curated_once.chmod(0o755)

    assert done.returncode == 2, done.stdout + done.stderr
    assert f"curated root {curated_once} is not writable" in done.stderr
    assert "Traceback" not in done.stderr
    after = _snapshot(curated_once)
    assert set(after) == set(before)
    assert all(after[k].equals(before[k]) for k in before)


# --------------------------------------------------------------------------- two runs at once


def _start(raw: Path, curated: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    zhnews = Path(sys.executable).with_name("zhnews")
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(zhnews), "run", "--raw", str(raw), "--curated", str(curated)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize("second_starts", ["together", "after the first commit"])
def test_two_runs_at_once_end_with_the_tables_of_one(
    raw: Path,
    reference: dict[tuple, pl.DataFrame],
    tmp_path: Path,
    second_starts: str,
) -> None:
    curated = tmp_path / "curated"
    env = harness_child_env(tmp_path)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first = _start(raw, curated, env, logs[0])
    if second_starts != "together":
        state = curated / "_state" / "partitions" / "cbn" / "2026-06-15.json"
        deadline = time.monotonic() + 600
        while not state.exists() and first.poll() is None:
            assert time.monotonic() < deadline, logs[0].read_text()
            time.sleep(0.05)
    second = _start(raw, curated, env, logs[1])
    codes = [first.wait(timeout=600), second.wait(timeout=600)]
    outputs = [log.read_text() for log in logs]

    assert codes == [0, 0], outputs
    files = _partition_files(curated)
    assert set(files) == set(reference)
    for key, path in files.items():
        assert _file_frame(path).equals(reference[key]), path
    runs = pl.read_parquet(curated / parquet.RUNS_TABLE, hive_partitioning=True)
    assert runs["status"].to_list() == ["completed", "completed"]
    # One run curated everything; the other, holding the lock after it, found it done.
    assert sorted(runs["partitions"].to_list()) == [0, len(PARTITIONS)]
    assert not list((curated / parquet.JOURNAL_DIR).glob("*"))
