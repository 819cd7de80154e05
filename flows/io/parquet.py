"""The curated layout on disk, and the only code that writes it.

`<curated>/<table>/pub_date=YYYY-MM-DD/<source>.parquet`: one file per table per
partition (source x date). A partition is replaced by staging all its files, recording
the swap in a journal, then renaming; a journal left by a crash is rolled forward on the
next start, so readers see the old partition or the new one, never a mix for long and
never a half-written file.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

PARTITION_COLUMN = "pub_date"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
UNDATED_FILE = "_undated"
STAGING_DIR = "_staging"
JOURNAL_DIR = "_journal"
RUNS_TABLE = "runs"
COMPRESSION: Final = "zstd"


def partition_dir(curated: Path, table: str, pub_date: date | None) -> Path:
    value = pub_date.isoformat() if pub_date else NULL_PARTITION
    return curated / table / f"{PARTITION_COLUMN}={value}"


def partition_file(curated: Path, table: str, pub_date: date | None, name: str) -> Path:
    return partition_dir(curated, table, pub_date) / f"{name}.parquet"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """Write one Parquet file durably; the partition column lives in the path only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.drop(PARTITION_COLUMN, strict=False).write_parquet(
        path, compression=COMPRESSION, statistics=True
    )
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def write_bytes(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_atomic(curated: Path, path: Path, data: bytes) -> None:
    """Replace one small file (a state record) by staging it, then renaming."""
    staged = curated / STAGING_DIR / f"{uuid.uuid4().hex}{path.suffix}"
    write_bytes(data, staged)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, path)
    _fsync_dir(path.parent)


def _apply(curated: Path, journal: Mapping[str, list]) -> None:
    """Idempotent: safe to repeat after a crash at any point of a previous attempt."""
    touched: set[Path] = set()
    for staged_rel, final_rel in journal["moves"]:
        staged, final = curated / staged_rel, curated / final_rel
        if staged.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
            touched.add(final.parent)
    for final_rel in journal["deletes"]:
        final = curated / final_rel
        final.unlink(missing_ok=True)
        touched.add(final.parent)
    for folder in touched:
        if folder.exists():
            _fsync_dir(folder)
            if not any(folder.iterdir()):
                folder.rmdir()


def recover(curated: Path) -> int:
    """Finish the swaps a crashed run journaled, and drop staging no journal refers to."""
    journal_dir = curated / JOURNAL_DIR
    journals = sorted(journal_dir.glob("*.json"))
    for path in journals:
        _apply(curated, json.loads(path.read_text(encoding="utf-8")))
        path.unlink()
    # A journal never renamed into place was never committed: its staging goes below.
    for pending in journal_dir.glob("*.json.tmp"):
        pending.unlink()
    staging = curated / STAGING_DIR
    if staging.exists():
        shutil.rmtree(staging)
    return len(journals)


def commit(curated: Path, files: Mapping[Path, pl.DataFrame | bytes | None]) -> None:
    """Replace each final file with its frame (or bytes: a state record), or delete it where
    the content is None or empty; all files change together or not at all."""
    token = uuid.uuid4().hex
    stage = curated / STAGING_DIR / token
    moves: list[list[str]] = []
    deletes: list[str] = []
    for final, frame in sorted(files.items()):
        final_rel = final.relative_to(curated).as_posix()
        if frame is None or len(frame) == 0:
            deletes.append(final_rel)
            continue
        staged = stage / final_rel
        if isinstance(frame, bytes):
            write_bytes(frame, staged)
        else:
            write_frame(frame, staged)
        moves.append([staged.relative_to(curated).as_posix(), final_rel])
    journal: dict[str, list] = {"moves": moves, "deletes": deletes}
    journal_dir = curated / JOURNAL_DIR
    journal_dir.mkdir(parents=True, exist_ok=True)
    pending = journal_dir / f"{token}.json.tmp"
    pending.write_text(json.dumps(journal), encoding="utf-8")
    with pending.open("rb+") as fh:
        os.fsync(fh.fileno())
    done = journal_dir / f"{token}.json"
    os.replace(pending, done)
    _fsync_dir(journal_dir)
    _apply(curated, journal)
    done.unlink()
    shutil.rmtree(stage, ignore_errors=True)


def partition_files(
    curated: Path, tables: Iterable[str], source: str, pub_date: date | None
) -> dict[str, Path]:
    return {t: partition_file(curated, t, pub_date, source) for t in tables}


def existing_partitions(curated: Path, tables: Iterable[str]) -> set[tuple[str, date]]:
    """(source, date) pairs that have a file in any of the tables."""
    found: set[tuple[str, date]] = set()
    for table in tables:
        for path in (curated / table).glob(f"{PARTITION_COLUMN}=*/*.parquet"):
            value = path.parent.name.split("=", 1)[1]
            if value == NULL_PARTITION or path.stem.startswith("_"):
                continue
            try:
                found.add((path.stem, date.fromisoformat(value)))
            except ValueError:
                continue
    return found


def read_window(
    curated: Path,
    table: str,
    columns: list[str],
    *,
    start: date,
    end: date,
    exclude: tuple[str, date] | None = None,
) -> pl.DataFrame | None:
    """Rows of `table` with pub_date in [start, end], except one partition's file."""
    paths = []
    for folder in sorted((curated / table).glob(f"{PARTITION_COLUMN}=*")):
        try:
            day = date.fromisoformat(folder.name.split("=", 1)[1])
        except ValueError:
            continue
        if start <= day <= end:
            for path in sorted(folder.glob("*.parquet")):
                if exclude is None or (path.stem, day) != exclude:
                    paths.append((path, day))
    if not paths:
        return None
    frames = [
        pl.read_parquet(path, columns=[c for c in columns if c != PARTITION_COLUMN]).with_columns(
            pl.lit(day).alias(PARTITION_COLUMN)
        )
        for path, day in paths
    ]
    return pl.concat(frames, how="vertical_relaxed").select(columns)


def scratch_dir(curated: Path, run_id: str, source: str, pub_date: date, index: int) -> Path:
    """Where a worker leaves one raw file's analysed frames for the run to finish; inside
    the staging folder, so a crashed run's leftovers go with the next run's recovery."""
    return curated / STAGING_DIR / f"analysis-{run_id}" / source / pub_date.isoformat() / str(index)


def write_scratch(frames: Mapping[str, pl.DataFrame], folder: Path) -> None:
    """Intermediate frames, kept with their columns exactly (pub_date included)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_parquet(folder / f"{name}.parquet", compression="lz4", statistics=False)


def read_scratch(folder: Path) -> dict[str, pl.DataFrame]:
    return {path.stem: pl.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}


def remove_scratch(curated: Path, run_id: str) -> None:
    shutil.rmtree(curated / STAGING_DIR / f"analysis-{run_id}", ignore_errors=True)


def run_file(curated: Path, run_id: str, run_date: date) -> Path:
    return curated / RUNS_TABLE / f"run_date={run_date.isoformat()}" / f"{run_id}.parquet"


def write_run(curated: Path, frame: pl.DataFrame, run_id: str, run_date: date) -> Path:
    """Runs are append-only: one file per run, written to a temporary name then renamed."""
    final = run_file(curated, run_id, run_date)
    staged = curated / STAGING_DIR / f"run-{run_id}.parquet"
    write_frame(frame, staged)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, final)
    _fsync_dir(final.parent)
    return final
