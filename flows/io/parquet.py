"""The curated layout, and the only code that writes it.

`<curated>/<table>/pub_date=YYYY-MM-DD/<source>.parquet`: one file per table per
partition (source x date). A partition is replaced by staging all its files, recording
the swap in a journal, then moving each staged file over its final name; a journal left
by a crash is rolled forward on the next start, so readers see the old partition or the
new one, never a mix for long and never a half-written file.

The curated root may be a local folder or an object-store prefix (`flows.io.store`). On
disk, files and the journal are fsynced and moved by rename. An object store has neither
fsync nor rename, and guarantees this much instead:

- each object is atomic: a staged file is written by one PUT, and a move is a server-side
  copy over the final key followed by deleting the staged object, so a reader of any one
  file sees its old or its new content, never part of either;
- the set is journaled: the journal object is written (one PUT) after every staged object
  and before any final object changes, and deleted once all moves and deletes are done. A
  crash in between leaves the journal, and the next run's `recover` finishes the moves
  (copying again is harmless) before it reads or writes anything else. A crash before the
  journal exists leaves every final object as it was; its staging is dropped.

A reader that lists a partition while a swap is under way may, on disk and on an object
store alike, see some tables already new and others still old, until the swap (or the
roll-forward) ends.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Final

import polars as pl

from flows.io import store
from flows.io.store import Location, ObjectPath

if TYPE_CHECKING:
    from polars._typing import ParquetCompression

PARTITION_COLUMN = "pub_date"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
UNDATED_FILE = "_undated"
STAGING_DIR = "_staging"
JOURNAL_DIR = "_journal"
RUNS_TABLE = "runs"
COMPRESSION: Final[ParquetCompression] = "zstd"


def partition_dir(curated: Location, table: str, pub_date: date | None) -> Location:
    value = pub_date.isoformat() if pub_date else NULL_PARTITION
    return curated / table / f"{PARTITION_COLUMN}={value}"


def partition_file(curated: Location, table: str, pub_date: date | None, name: str) -> Location:
    return partition_dir(curated, table, pub_date) / f"{name}.parquet"


def _parts(path: Location) -> tuple[str, ...]:
    """pathlib's order, for local paths and object keys alike."""
    return path.parts


def _write_parquet(
    frame: pl.DataFrame,
    path: Location,
    *,
    compression: ParquetCompression,
    statistics: bool,
    durable: bool,
) -> None:
    """One Parquet file: a single PUT on an object store, else a local file (fsynced when
    `durable`)."""
    if isinstance(path, ObjectPath):
        data = io.BytesIO()
        frame.write_parquet(data, compression=compression, statistics=statistics)
        path.write_bytes(data.getvalue())
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path, compression=compression, statistics=statistics)
    if durable:
        with path.open("rb+") as fh:
            os.fsync(fh.fileno())


def write_frame(frame: pl.DataFrame, path: Location) -> None:
    """Write one Parquet file durably; the partition column lives in the path only."""
    frame = frame.drop(PARTITION_COLUMN, strict=False)
    _write_parquet(frame, path, compression=COMPRESSION, statistics=True, durable=True)


def write_bytes(data: bytes, path: Location) -> None:
    store.write_durably(path, data)


def read_file(path: Location, columns: list[str] | None = None) -> pl.DataFrame:
    """One curated file, wherever the root is."""
    source = io.BytesIO(path.read_bytes()) if isinstance(path, ObjectPath) else path
    return pl.read_parquet(source, columns=columns)


def write_atomic(curated: Location, path: Location, data: bytes) -> None:
    """Replace one small file (a state record) by staging it, then renaming; on an object
    store its single PUT is atomic already."""
    if isinstance(path, ObjectPath):
        path.write_bytes(data)
        return
    staged = curated / STAGING_DIR / f"{uuid.uuid4().hex}{path.suffix}"
    write_bytes(data, staged)
    path.parent.mkdir(parents=True, exist_ok=True)
    store.replace(staged, path)
    store.sync_dir(path.parent)


def _apply(curated: Location, journal: Mapping[str, list]) -> None:
    """Idempotent: safe to repeat after a crash at any point of a previous attempt."""
    touched: set[Location] = set()
    for staged_rel, final_rel in journal["moves"]:
        staged, final = curated / staged_rel, curated / final_rel
        if staged.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            store.replace(staged, final)
            touched.add(final.parent)
    for final_rel in journal["deletes"]:
        final = curated / final_rel
        final.unlink(missing_ok=True)
        touched.add(final.parent)
    for folder in touched:
        if folder.exists():
            store.sync_dir(folder)
            if not any(folder.iterdir()):
                folder.rmdir()


def recover(curated: Location) -> int:
    """Finish the swaps a crashed run journaled, and drop staging no journal refers to."""
    journal_dir = curated / JOURNAL_DIR
    journals = sorted(journal_dir.glob("*.json"), key=_parts)
    for path in journals:
        _apply(curated, json.loads(path.read_text(encoding="utf-8")))
        path.unlink()
    # A journal never renamed into place was never committed: its staging goes below.
    for pending in journal_dir.glob("*.json.tmp"):
        pending.unlink()
    staging = curated / STAGING_DIR
    if staging.exists():
        store.remove_tree(staging)
    return len(journals)


def _write_journal(journal_dir: Location, token: str, journal: Mapping[str, list]) -> Location:
    """The commit point: once this returns, the swap will be finished, now or by recover."""
    done = journal_dir / f"{token}.json"
    text = json.dumps(journal)
    if isinstance(done, ObjectPath):
        done.write_text(text, encoding="utf-8")  # one PUT: there or not, never partial
        return done
    journal_dir.mkdir(parents=True, exist_ok=True)
    pending = journal_dir / f"{token}.json.tmp"
    pending.write_text(text, encoding="utf-8")
    with pending.open("rb+") as fh:
        os.fsync(fh.fileno())
    store.replace(pending, done)
    store.sync_dir(journal_dir)
    return done


def commit(curated: Location, files: Mapping[Location, pl.DataFrame | bytes | None]) -> None:
    """Replace each final file with its frame (or bytes: a state record), or delete it where
    the content is None or empty; all files change together or not at all."""
    token = uuid.uuid4().hex
    stage = curated / STAGING_DIR / token
    moves: list[list[str]] = []
    deletes: list[str] = []
    for final, frame in sorted(files.items()):
        final_rel = store.relative(final, curated)
        if frame is None or len(frame) == 0:
            deletes.append(final_rel)
            continue
        staged = stage / final_rel
        if isinstance(frame, bytes):
            write_bytes(frame, staged)
        else:
            write_frame(frame, staged)
        moves.append([store.relative(staged, curated), final_rel])
    journal: dict[str, list] = {"moves": moves, "deletes": deletes}
    done = _write_journal(curated / JOURNAL_DIR, token, journal)
    _apply(curated, journal)
    done.unlink()
    if moves:  # nothing was staged for a commit of deletions only
        store.remove_tree(stage, ignore_errors=True)  # what is left, recover drops


def partition_files(
    curated: Location, tables: Iterable[str], source: str, pub_date: date | None
) -> dict[str, Location]:
    return {t: partition_file(curated, t, pub_date, source) for t in tables}


def existing_partitions(curated: Location, tables: Iterable[str]) -> set[tuple[str, date]]:
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
    curated: Location,
    table: str,
    columns: list[str],
    *,
    start: date,
    end: date,
    exclude: tuple[str, date] | None = None,
) -> pl.DataFrame | None:
    """Rows of `table` with pub_date in [start, end], except one partition's file."""
    paths = []
    # One listing of the whole table: on an object store, one request per thousand files.
    for path in sorted((curated / table).glob(f"{PARTITION_COLUMN}=*/*.parquet"), key=_parts):
        try:
            day = date.fromisoformat(path.parent.name.split("=", 1)[1])
        except ValueError:
            continue
        if start <= day <= end and (exclude is None or (path.stem, day) != exclude):
            paths.append((path, day))
    if not paths:
        return None
    frames = [
        read_file(path, [c for c in columns if c != PARTITION_COLUMN]).with_columns(
            pl.lit(day).alias(PARTITION_COLUMN)
        )
        for path, day in paths
    ]
    return pl.concat(frames, how="vertical_relaxed").select(columns)


def scratch_dir(
    curated: Location, run_id: str, source: str, pub_date: date, index: int
) -> Location:
    """Where a worker leaves one raw file's analysed frames for the run to finish; inside
    the staging folder, so a crashed run's leftovers go with the next run's recovery."""
    return curated / STAGING_DIR / f"analysis-{run_id}" / source / pub_date.isoformat() / str(index)


def write_scratch(frames: Mapping[str, pl.DataFrame], folder: Location) -> None:
    """Intermediate frames, kept with their columns exactly (pub_date included)."""
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        _write_parquet(frame, path, compression="lz4", statistics=False, durable=False)


def read_scratch(folder: Location) -> dict[str, pl.DataFrame]:
    paths: list[Location] = sorted(folder.glob("*.parquet"), key=str)
    return {path.stem: read_file(path) for path in paths}


def remove_scratch(curated: Location, run_id: str) -> None:
    store.remove_tree(curated / STAGING_DIR / f"analysis-{run_id}", ignore_errors=True)


def run_file(curated: Location, run_id: str, run_date: date) -> Location:
    return curated / RUNS_TABLE / f"run_date={run_date.isoformat()}" / f"{run_id}.parquet"


def write_run(curated: Location, frame: pl.DataFrame, run_id: str, run_date: date) -> Location:
    """Runs are append-only: one file per run, written to a temporary name then renamed (on
    an object store, put once under its final name)."""
    final = run_file(curated, run_id, run_date)
    if isinstance(final, ObjectPath):
        write_frame(frame, final)
        return final
    staged = curated / STAGING_DIR / f"run-{run_id}.parquet"
    write_frame(frame, staged)
    final.parent.mkdir(parents=True, exist_ok=True)
    store.replace(staged, final)
    store.sync_dir(final.parent)
    return final
