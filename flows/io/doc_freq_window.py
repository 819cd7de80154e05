"""The summed `doc_freq` of a window of earlier dates, carried from partition to partition.

Every partition's keywords weigh words by how many articles of the year before used them:
the `doc_freq` files of up to DOC_FREQ_DAYS dates, of every source. Read afresh for each
partition, a backfill over years read a year of files for every day it curated (some
0.6 s a partition for one source, growing with the sources and the vocabulary), as long
as the analysis of the day itself. A run finishes its partitions date after date, so
the window moves by a day or so each time: the files that left it are subtracted from
the running sums and the new ones added, and only those are read.

The sums are those of `corpus_counts` over the window's files, whatever the order of the
partitions: a file listed with another size or modification time than when it was added,
one gone, or one this run replaced (`replaced`) makes the window read afresh; and one
window serves one run (`for_run`), so what other runs wrote in between is read again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from flows.io import parquet
from flows.io.store import Location
from transforms.keywords import DOC_FREQ_DTYPES, corpus_counts

TABLE = "doc_freq"
Stamp = tuple[int, int]  # size, modification time (ns)


@dataclass
class DocFreqWindow:
    curated: Location
    run_id: str
    df: dict[str, int] = field(default_factory=dict)
    docs: int = 0
    # The files summed in `df`, with the stamp they had when read.
    included: dict[Location, Stamp] = field(default_factory=dict)
    stale: bool = True
    # Files read for the last `counts` (a measure of the work saved).
    last_reads: int = 0

    def counts(self, start: date, end: date) -> tuple[Mapping[str, int], int]:
        """Summed `df` and article count of the `doc_freq` files dated start..end. The
        mapping is this window's own: read it before the next call."""
        wanted = {path: stamp for path, day, stamp in _listed(self.curated) if start <= day <= end}
        leaving = [path for path in self.included if path not in wanted]
        changed = any(wanted.get(path, stamp) != stamp for path, stamp in self.included.items())
        if self.stale or changed or len(leaving) > len(self.included) // 2:
            self._read_all(wanted)
            return self.df, self.docs
        reads = 0
        for path in leaving:
            if not self._apply(path, self.included.pop(path), -1):
                self._read_all(wanted)
                return self.df, self.docs
            reads += 1
        for path, stamp in wanted.items():
            if path not in self.included:
                if not self._apply(path, stamp, 1):
                    self._read_all(wanted)
                    return self.df, self.docs
                self.included[path] = stamp
                reads += 1
        self.last_reads = reads
        return self.df, self.docs

    def replaced(self, path: Location) -> None:
        """This run rewrote or removed `path`: if it is summed, the sums no longer hold."""
        if path in self.included:
            self.stale = True

    def _read_all(self, wanted: Mapping[Location, Stamp]) -> None:
        frames = [_read(path) for path in wanted]
        both = pl.concat(frames) if frames else pl.DataFrame(schema=DOC_FREQ_DTYPES)
        self.df, self.docs = corpus_counts(both.select(list(DOC_FREQ_DTYPES)))
        self.included = dict(wanted)
        self.stale = False
        self.last_reads = len(frames)

    def _apply(self, path: Location, stamp: Stamp, sign: int) -> bool:
        """Add (sign 1) or take away (-1) one file's counts; False when the file is gone or
        is no longer what its stamp says."""
        try:
            if _stamp(path) != stamp:
                return False
            frame = _read(path)
        except FileNotFoundError:
            return False
        df = self.df
        for word, count in zip(frame["word"].to_list(), frame["df"].to_list(), strict=True):
            total = df.get(word, 0) + sign * count
            if total:
                df[word] = total
            else:
                del df[word]
        if frame.height:
            self.docs += sign * int(frame["n_docs"][0])
        return True


def _read(path: Location) -> pl.DataFrame:
    columns = [c for c in DOC_FREQ_DTYPES if c != parquet.PARTITION_COLUMN]
    frame = parquet.read_file(path, columns)
    return frame.with_columns(pl.lit(_day(path)).alias(parquet.PARTITION_COLUMN))


def _day(path: Location) -> date:
    return date.fromisoformat(path.parent.name.split("=", 1)[1])


def _stamp(path: Location) -> Stamp:
    stat = path.stat()
    return int(stat.st_size), int(stat.st_mtime_ns)


def _listed(curated: Location) -> list[tuple[Location, date, Stamp]]:
    """Every dated `doc_freq` file with its stamp: one listing of the table."""
    found = []
    for path, stamp in parquet.table_files(curated, TABLE).items():
        try:
            day = _day(path)
        except ValueError:
            continue
        found.append((path, day, stamp))
    return found


_current: DocFreqWindow | None = None


def for_run(curated: Location, run_id: str) -> DocFreqWindow:
    """The window of this run over this curated root (a new one for another run or root)."""
    global _current
    if _current is None or _current.run_id != run_id or _current.curated != curated:
        _current = DocFreqWindow(curated, run_id)
    return _current


def replaced(curated: Location, paths: list[Location]) -> None:
    """Tell the current window that these files were rewritten or removed."""
    if _current is not None and _current.curated == curated:
        for path in paths:
            _current.replaced(path)
