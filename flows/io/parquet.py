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

Inside a file, rows are laid out for the readers' filters (`LAYOUTS`): sorted, cut into
row groups at the values people filter on, with min/max statistics on the columns they
filter on and Bloom filters on the lookup columns, so that polars, DuckDB and pyarrow skip
the row groups a filter rules out.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final

import polars as pl
import pyarrow.parquet as pq

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
COMPRESSION_LEVEL: Final = 3
# A Bloom filter answers "is this value in the row group?" wrongly this often.
BLOOM_FPP = 0.01
# Files of one commit staged at once: sorting, encoding and compressing, fsync and object
# store PUTs all run outside Python's lock, so a partition's tables are written side by
# side instead of one after another.
STAGING_WRITERS = 4


@dataclass(frozen=True)
class TableLayout:
    """How one table's rows sit in a file: the order, where row groups end, and which
    columns carry Bloom filters.

    A row group ends at the first change of `group_by` (another article, another entity
    type) once it holds `min_group_rows` rows, and at `max_group_rows` in any case; so an
    article's rows are never split between groups, a small file is one group, and a big
    one is cut where filters on `group_by` can skip whole groups. Readers skip a row group
    when its min/max statistics, or a Bloom filter (DuckDB reads them), rule out their
    filter. `delta` columns are integers that climb along the order (offsets, indexes):
    stored as differences, they take a fraction of the space a dictionary would.
    `unindexed` columns (bodies, signatures, reports) get no min/max statistics and no
    dictionary: nobody filters on a range of them, each row group's footer would carry two
    whole texts, and a dictionary of unique texts is only the texts again.
    """

    sort_by: tuple[str, ...] = ()
    group_by: str | None = None
    min_group_rows: int = 1
    max_group_rows: int = 131_072
    bloom: tuple[str, ...] = ()
    delta: tuple[str, ...] = ()
    unindexed: tuple[str, ...] = ()

    def columns(self) -> set[str]:
        named = {*self.sort_by, *self.bloom, *self.delta, *self.unindexed}
        return named | ({self.group_by} if self.group_by else set())


def _by_article(
    *sort_by: str,
    rows: int,
    bloom: tuple[str, ...] = ("article_id",),
    delta: tuple[str, ...] = (),
    unindexed: tuple[str, ...] = (),
) -> TableLayout:
    """Rows in article_id order, in row groups of whole articles, `rows` rows or more."""
    return TableLayout(
        ("article_id", *sort_by),
        "article_id",
        rows,
        bloom=bloom,
        delta=delta,
        unindexed=unindexed,
    )


# Every curated table's layout; the date is the partition folder. Sorting on a unique key
# keeps every file the same bytes for the same rows, whatever order they were built in.
# Row groups of a few hundred KB to a few MB: a busy day's file has several, so a lookup
# by article_id or entity type reads a part of it, while an ordinary day's file, a few
# thousand rows, stays one group (each group costs readers footer entries, and DuckDB a
# task, whether it is read or skipped).
LAYOUTS: Final[Mapping[str, TableLayout]] = {
    "articles": _by_article(rows=64, unindexed=("text", "minhash")),
    "paragraphs": _by_article(
        "paragraph_idx", rows=8_192, delta=("paragraph_idx",), unindexed=("text", "raw_lines")
    ),
    "sentences": _by_article(
        "sentence_idx", rows=8_192, delta=("sentence_idx", "start", "end"), unindexed=("text",)
    ),
    "tokens": _by_article("token_idx", rows=32_768, delta=("token_idx", "start", "end")),
    # Entity types in their own groups once a day has enough of them: "one day's ORG"
    # reads the group holding ORG; "one ticker" the one holding TICKER, and its Bloom
    # filter says whether the ticker is there at all.
    "entities": TableLayout(
        ("entity_type", "article_id", "entity_idx"),
        "entity_type",
        2_048,
        bloom=("normalized", "article_id"),
        delta=("entity_idx", "start", "end"),
    ),
    "keywords": _by_article("method", "rank", rows=8_192, bloom=("article_id", "keyword")),
    "doc_freq": TableLayout(("word",), max_group_rows=8_192, bloom=("word",)),
    "quarantine": TableLayout(("raw_path", "record", "reason", "detail"), unindexed=("detail",)),
    "runs": TableLayout(
        ("run_id",),
        unindexed=("parameters", "quarantine_reasons", "partition_report", "report", "versions"),
    ),
}
PLAIN_LAYOUT: Final = TableLayout()


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


def layout_of(table: str) -> TableLayout:
    return LAYOUTS.get(table, PLAIN_LAYOUT)


def row_groups(frame: pl.DataFrame, layout: TableLayout) -> list[tuple[int, int]]:
    """(offset, length) of each row group of a frame already in the layout's order."""
    if frame.is_empty():
        return []
    if layout.group_by is None:
        ends = [frame.height]
    else:
        ends, size = [], 0
        for run in frame[layout.group_by].rle().struct.field("len").to_list():
            size += run
            if size >= layout.min_group_rows:
                ends.append((ends[-1] if ends else 0) + size)
                size = 0
        if size:
            ends.append(frame.height)
    groups = []
    for start, end in itertools.pairwise([0, *ends]):
        for offset in range(start, end, layout.max_group_rows):
            groups.append((offset, min(layout.max_group_rows, end - offset)))
    return groups


def encode_parquet(frame: pl.DataFrame, layout: TableLayout) -> bytes:
    """A curated file's bytes: rows in the layout's order, one row group per `row_groups`
    slice, statistics on the columns readers filter on, Bloom filters sized for the fullest
    row group. A frame without every column its layout names (it was never validated as
    that table) is written in its own order, as one row group."""
    if not layout.columns() <= set(frame.columns):
        layout = PLAIN_LAYOUT
    if layout.sort_by:
        frame = frame.sort(list(layout.sort_by), nulls_last=True, maintain_order=True)
    groups = row_groups(frame, layout)
    # polars' own string and list types, so a file reads back exactly as polars wrote it.
    table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    bloom = {
        column: {
            "ndv": max((frame[column].slice(o, n).n_unique() for o, n in groups), default=1),
            "fpp": BLOOM_FPP,
        }
        for column in layout.bloom
    }
    sink = io.BytesIO()
    with pq.ParquetWriter(
        sink,
        table.schema,
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        # Texts are unique: a dictionary of them is the texts again, and slower to read.
        use_dictionary=[
            c for c in table.column_names if c not in layout.delta and c not in layout.unindexed
        ],
        column_encoding=dict.fromkeys(layout.delta, "DELTA_BINARY_PACKED") or None,
        write_statistics=[c for c in table.column_names if c not in layout.unindexed],
        sorting_columns=pq.SortingColumn.from_ordering(
            table.schema, [(c, "ascending") for c in layout.sort_by], null_placement="at_end"
        )
        if layout.sort_by
        else None,
        bloom_filter_options=bloom or None,
    ) as writer:
        for offset, length in groups:
            writer.write_table(table.slice(offset, length), row_group_size=length)
    return sink.getvalue()


def write_frame(frame: pl.DataFrame, path: Location, layout: TableLayout = PLAIN_LAYOUT) -> None:
    """Write one Parquet file durably in a table's layout; the partition column lives in
    the path only."""
    frame = frame.drop(PARTITION_COLUMN, strict=False)
    store.write_durably(path, encode_parquet(frame, layout))


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


def _stage(item: tuple[Location, pl.DataFrame | bytes, str]) -> None:
    staged, frame, table = item
    if isinstance(frame, bytes):
        write_bytes(frame, staged)
    else:
        write_frame(frame, staged, layout_of(table))


def commit(curated: Location, files: Mapping[Location, pl.DataFrame | bytes | None]) -> None:
    """Replace each final file with its frame (or bytes: a state record), or delete it where
    the content is None or empty; all files change together or not at all."""
    token = uuid.uuid4().hex
    stage = curated / STAGING_DIR / token
    moves: list[list[str]] = []
    deletes: list[str] = []
    staging: list[tuple[Location, pl.DataFrame | bytes, str]] = []
    for final, frame in sorted(files.items()):
        final_rel = store.relative(final, curated)
        if frame is None or len(frame) == 0:
            deletes.append(final_rel)
            continue
        staged = stage / final_rel
        staging.append((staged, frame, final_rel.split("/", 1)[0]))
        moves.append([store.relative(staged, curated), final_rel])
    if staging:
        with ThreadPoolExecutor(min(STAGING_WRITERS, len(staging))) as writers:
            # Every file staged, or tried: `map` would cancel those not started when one
            # fails, leaving which were written to chance.
            staged_all = [writers.submit(_stage, item) for item in staging]
        # The first error raised, in file order; the swap never starts.
        for future in staged_all:
            future.result()
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


def table_files(curated: Location, table: str) -> dict[Location, tuple[int, int]]:
    """Every partition file of `table` with its size and modification time (ns): one
    listing, which on an object store carries both."""
    folder = curated / table
    if isinstance(folder, ObjectPath):
        return {
            folder / rel: (stat.st_size, stat.st_mtime_ns)
            for rel, stat in folder.files().items()
            if rel.startswith(f"{PARTITION_COLUMN}=")
            and rel.count("/") == 1
            and rel.endswith(".parquet")
        }
    found: dict[Location, tuple[int, int]] = {}
    for path in folder.glob(f"{PARTITION_COLUMN}=*/*.parquet"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        found[path] = (stat.st_size, stat.st_mtime_ns)
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
    curated: Location, run_id: str, source: str, pub_date: date, index: int, part: int = 0
) -> Location:
    """Where a worker leaves one raw file's (or file part's) analysed frames for the run to
    finish; inside the staging folder, so a crashed run's leftovers go with the next run's
    recovery."""
    folder = curated / STAGING_DIR / f"analysis-{run_id}" / source / pub_date.isoformat()
    return folder / f"{index}.{part}"


def write_scratch(frames: Mapping[str, pl.DataFrame], folder: Location) -> None:
    """Intermediate frames, kept with their columns exactly (pub_date included)."""
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        _write_parquet(frame, path, compression="lz4", statistics=False, durable=False)


def read_scratch(folder: Location) -> dict[str, pl.DataFrame]:
    paths: list[Location] = sorted(folder.glob("*.parquet"), key=str)
    return {path.stem: read_file(path) for path in paths}


def remove_scratch(
    curated: Location, run_id: str, partition: tuple[str, date] | None = None
) -> None:
    """A run's scratch frames, or only one partition's (`partition`: source, date)."""
    folder = curated / STAGING_DIR / f"analysis-{run_id}"
    if partition is not None:
        folder = folder / partition[0] / partition[1].isoformat()
    store.remove_tree(folder, ignore_errors=True)


def run_file(curated: Location, run_id: str, run_date: date) -> Location:
    return curated / RUNS_TABLE / f"run_date={run_date.isoformat()}" / f"{run_id}.parquet"


def write_run(curated: Location, frame: pl.DataFrame, run_id: str, run_date: date) -> Location:
    """Runs are append-only: one file per run, written to a temporary name then renamed (on
    an object store, put once under its final name)."""
    final = run_file(curated, run_id, run_date)
    if isinstance(final, ObjectPath):
        write_frame(frame, final, layout_of(RUNS_TABLE))
        return final
    staged = curated / STAGING_DIR / f"run-{run_id}.parquet"
    write_frame(frame, staged, layout_of(RUNS_TABLE))
    final.parent.mkdir(parents=True, exist_ok=True)
    store.replace(staged, final)
    store.sync_dir(final.parent)
    return final
