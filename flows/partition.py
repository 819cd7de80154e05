"""Curate one partition (source x date): read, rebuild, tag, validate, replace on disk.

Two steps, so that the heavy one can run anywhere: `analyse_file` reads, rebuilds and
tags one raw file on its own (in any process, on any machine, in any order;
`analyse_files` several, their tables checked together), and `finish_partition` adds
what depends on other partitions (keyword IDF from earlier dates, duplicates of earlier
articles), validates and swaps the partition in. The flow runs the finishing steps in
one order, so the tables do not depend on how many workers analysed the files. Plain
functions, no Prefect: the flow wraps them in tasks, and tests call them directly.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from flows.io import doc_freq_window, parquet
from flows.io.raw import Rejected, read_failed, read_raw_file
from flows.io.state import (
    UNKNOWN,
    FileStamp,
    PartitionState,
    Versions,
    current_versions,
    listed_stamps,
    now,
    stamp_files,
    state_file,
)
from flows.io.store import Location, location
from flows.runners import collection_paused
from schemas.tables import DocFreq, Quarantine
from schemas.validation import analysed_failures, checked, validate_tables
from transforms.dedupe import ORDER_COLUMNS, assign_duplicates
from transforms.documents import WHOLE, RawDocument, Share, document_articles
from transforms.keywords import document_frequencies
from transforms.tables import (
    ARTICLE_TABLES,
    QUARANTINE_DTYPES,
    TERMS,
    TERMS_DTYPES,
    NlpModels,
    analyse_articles,
    finish_tables,
)

QUARANTINE_TABLE = "quarantine"
DOC_FREQ_TABLE = doc_freq_window.TABLE
# How far back a near-duplicate's original is looked for.
DEDUPE_DAYS = 30
# How far back keyword document frequencies are counted; only earlier dates count, so a
# partition's keywords do not depend on the order sources of one day are curated in.
DOC_FREQ_DAYS = 365
CURATED_TABLES = (*ARTICLE_TABLES, QUARANTINE_TABLE, DOC_FREQ_TABLE)


@dataclass
class PartitionReport:
    """What one partition contributed to a run; small, so it travels between tasks."""

    source: str
    pub_date: date
    files_seen: int = 0
    files_curated: int = 0
    files_quarantined: int = 0
    records_seen: int = 0
    records_curated: int = 0
    records_quarantined: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    # Articles by text_quality, and how many repeat an earlier article.
    quality: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    seconds: float = 0.0


def quarantine_frame(rejections: list[Rejected], run_id: str) -> pl.DataFrame:
    rows = {
        "run_id": [run_id] * len(rejections),
        "source": [r.source for r in rejections],
        "pub_date": [r.pub_date for r in rejections],
        "raw_path": [r.raw_path for r in rejections],
        "record": [r.record for r in rejections],
        "reason": [r.reason for r in rejections],
        "detail": [r.detail for r in rejections],
    }
    frame = pl.DataFrame(rows, schema=QUARANTINE_DTYPES).sort("raw_path", "record", "reason")
    return checked(Quarantine, frame)


@dataclass
class FileAnalysis:
    """One raw file (or a part of one) read, rebuilt and analysed. Small, so it travels
    back from a worker; the frames stay in memory (`frames`) or wait in scratch Parquet
    (`scratch`: one folder per part, in record order)."""

    rel_path: str
    sha256: str | None
    rejections: list[Rejected]
    articles: int = 0
    frames: dict[str, pl.DataFrame] | None = None
    scratch: tuple[str, ...] = ()
    # `analysed_failures` of the frames, by article: checked where they were made (None:
    # not checked yet).
    failures: dict[str, list[str]] | None = field(default_factory=dict)
    # JSONL records (non-blank lines) found in the file, and the stat of the bytes read.
    records: int = 0
    size: int = -1
    mtime_ns: int = -1

    def stamp(self, planned: FileStamp) -> FileStamp:
        """What the partition's record says this file was built from: the bytes actually
        read win over the plan's hash, since the file may have changed in between; a file
        whose read failed, or that changed while it was read, is recorded as unknown, so
        the next run reads it again."""
        if any(read_failed(r.reason, r.detail) for r in self.rejections if r.record is None):
            return UNKNOWN
        if self.sha256 is not None:
            return FileStamp(self.sha256, self.size, self.mtime_ns)
        return planned

    def tables(self) -> dict[str, pl.DataFrame] | None:
        if not self.scratch:
            return self.frames
        parts = [parquet.read_scratch(location(folder)) for folder in self.scratch]
        return _concat(parts)


def _concat(parts: Sequence[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    if len(parts) == 1:
        return parts[0]
    return {name: pl.concat([part[name] for part in parts]) for name in parts[0]}


def merge_parts(parts: Sequence[FileAnalysis], source: str, pub_date: date) -> FileAnalysis:
    """One file's analysis from those of its parts (`analyse_file` with a `share`), as if
    it had been analysed whole. Parts read from different versions of the file would mix
    them: the file is then rejected as changed during the read, and read again next run."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if any(part.rel_path != first.rel_path for part in parts):
        raise ValueError(f"parts of different files: {sorted({p.rel_path for p in parts})}")
    failed = next((part for part in parts if part.sha256 is None), None)
    if failed is not None:
        return failed
    hashes = list(dict.fromkeys(part.sha256 for part in parts))
    if len(hashes) > 1:
        detail = f"its {len(parts)} parts read {len(hashes)} versions of it"
        return FileAnalysis(
            first.rel_path,
            None,
            [Rejected(first.rel_path, "changed_during_read", detail, source, pub_date)],
        )
    frames = [part.frames for part in parts if part.frames is not None]
    return FileAnalysis(
        first.rel_path,
        first.sha256,
        [rejected for part in parts for rejected in part.rejections],
        sum(part.articles for part in parts),
        frames=_concat(frames) if frames else None,
        scratch=tuple(folder for part in parts for folder in part.scratch),
        failures=None
        if any(part.failures is None for part in parts)
        else {k: v for part in parts for k, v in (part.failures or {}).items()},
        records=sum(part.records for part in parts),
        size=parts[-1].size,
        mtime_ns=parts[-1].mtime_ns,
    )


def analyse_file(
    raw_root: Location,
    source: str,
    pub_date: date,
    rel_path: str,
    *,
    run_id: str,
    nlp: NlpModels,
    max_file_bytes: int,
    scratch: Location | None = None,
    share: Share = WHOLE,
    check: bool = True,
) -> FileAnalysis:
    """Everything about one raw file that needs no other file: decode, rebuild articles,
    tag, find entities. With `scratch`, the frames are written there instead of returned;
    with `share`, only that part of a JSONL file's records is analysed (`merge_parts`
    puts the parts together); with `check` false, its tables are left for the caller to
    check (`check_together`)."""
    raw = read_raw_file(raw_root, rel_path, max_bytes=max_file_bytes)
    if isinstance(raw, Rejected):
        return FileAnalysis(rel_path, None, [raw])
    doc = RawDocument(rel_path, source, pub_date, raw.text, raw.encoding, raw.sha256)
    articles, doc_rejections = document_articles(doc, lexicon=nlp.tagger, share=share)
    rejections = [
        Rejected(rel_path, r.reason, r.detail, source, pub_date, r.record) for r in doc_rejections
    ]
    frames = analyse_articles(articles, run_id=run_id, nlp=nlp)
    # Counted on the text itself, apart from parsing, so the run can check that every
    # record was curated or quarantined.
    records = sum(1 for line in raw.text.split("\n") if line.strip()) if doc.is_jsonl else 0
    start, stop = share.bounds(records)
    result = FileAnalysis(
        rel_path,
        raw.sha256,
        rejections,
        len(articles),
        records=stop - start,
        size=raw.size,
        mtime_ns=raw.mtime_ns,
        failures=analysed_failures(frames) if check else None,
    )
    if scratch is None:
        result.frames = frames
    else:
        parquet.write_scratch(frames, scratch)
        result.scratch = (str(scratch),)
    return result


# Raw bytes whose analysed tables are checked in one go: pandera's cost is mostly per
# call (some 10 ms a table), which a day of many small files paid for every file; the
# tables of a group are held in memory until it is checked.
CHECK_BYTES = 4 * 1024 * 1024


def check_together(analyses: Sequence[FileAnalysis]) -> None:
    """`analysed_failures` of several files' tables, found in one pass over all of them
    and given to each file for its own articles: the checks are row by row, the unique
    keys start with the article id, and an article id names one file's article, so each
    file gets what checking it alone would give."""
    tables = [a.frames for a in analyses if a.frames is not None]
    found = analysed_failures(_concat(tables)) if tables else {}
    for analysis in analyses:
        if analysis.frames is None:
            analysis.failures = {}
            continue
        ids = analysis.frames["articles"]["article_id"].to_list()
        analysis.failures = {i: found[i] for i in ids if i in found}


@collection_paused()
def analyse_files(
    raw_root: Location,
    source: str,
    pub_date: date,
    items: Sequence[tuple[str, Share, Location | None]],
    *,
    run_id: str,
    nlp: NlpModels,
    max_file_bytes: int,
    check_bytes: int = CHECK_BYTES,
) -> list[FileAnalysis]:
    """`analyse_file` of each (path, share, scratch folder or None) of one partition, in
    order, their tables checked a group of about `check_bytes` of raw text at a time
    (`check_together`); a group's frames then go to their scratch folders, or stay in
    memory where there is none."""
    done: list[FileAnalysis] = []
    group: list[tuple[FileAnalysis, Location | None]] = []
    size = 0

    def flush() -> None:
        check_together([analysis for analysis, _ in group])
        for analysis, scratch in group:
            if scratch is not None and analysis.frames is not None:
                parquet.write_scratch(analysis.frames, scratch)
                analysis.scratch, analysis.frames = (str(scratch),), None
        group.clear()

    for rel_path, share, scratch in items:
        analysis = analyse_file(
            raw_root,
            source,
            pub_date,
            rel_path,
            run_id=run_id,
            nlp=nlp,
            max_file_bytes=max_file_bytes,
            share=share,
            check=False,
        )
        done.append(analysis)
        group.append((analysis, scratch))
        size += max(analysis.size, 0) // max(share.parts, 1)
        if size >= check_bytes:
            flush()
            size = 0
    if group:
        flush()
    return done


def curate_partition(
    raw_root: Location,
    curated_root: Location,
    source: str,
    pub_date: date,
    files: tuple[str, ...],
    *,
    run_id: str,
    nlp: NlpModels,
    max_file_bytes: int,
    listed: Sequence[Rejected] = (),
    stamps: Mapping[str, FileStamp] | None = None,
    versions: Versions | None = None,
    dedupe_days: int = DEDUPE_DAYS,
) -> PartitionReport:
    """Analyse every file of one partition in this process, then finish it."""
    started = time.perf_counter()
    if stamps is None:
        stamps = {**stamp_files(raw_root, files), **listed_stamps(listed)}
    analyses = analyse_files(
        raw_root,
        source,
        pub_date,
        [(name, WHOLE, None) for name in files],
        run_id=run_id,
        nlp=nlp,
        max_file_bytes=max_file_bytes,
    )
    return finish_partition(
        curated_root,
        source,
        pub_date,
        files,
        analyses,
        run_id=run_id,
        nlp=nlp,
        listed=listed,
        stamps=stamps,
        versions=versions,
        dedupe_days=dedupe_days,
        started=started,
    )


def _earlier_doc_freq(curated_root: Location, pub_date: date, run_id: str) -> dict[str, Any]:
    """`corpus_df` and `corpus_docs` for `finish_tables`: the document frequencies of the
    DOC_FREQ_DAYS before `pub_date`, from the run's running window."""
    window = doc_freq_window.for_run(curated_root, run_id)
    corpus_df, corpus_docs = window.counts(
        pub_date - timedelta(days=DOC_FREQ_DAYS), pub_date - timedelta(days=1)
    )
    return {"corpus_df": corpus_df, "corpus_docs": corpus_docs}


def _earlier_articles(
    curated_root: Location, source: str, pub_date: date, dedupe_days: int, new: pl.DataFrame
) -> pl.DataFrame:
    """The curated articles that `new`, a partition's, may duplicate: those of the
    `dedupe_days` before it, and of its own day from other sources."""
    prior = parquet.read_window(
        curated_root,
        "articles",
        ["article_id", *ORDER_COLUMNS, "content_sha256", "minhash"],
        start=pub_date - timedelta(days=dedupe_days),
        end=pub_date,
        exclude=(source, pub_date),
    )
    return prior if prior is not None else new.clear()


def finish_partition(
    curated_root: Location,
    source: str,
    pub_date: date,
    files: tuple[str, ...],
    analyses: list[FileAnalysis],
    *,
    run_id: str,
    nlp: NlpModels,
    stamps: Mapping[str, FileStamp],
    listed: Sequence[Rejected] = (),
    versions: Versions | None = None,
    dedupe_days: int = DEDUPE_DAYS,
    started: float | None = None,
) -> PartitionReport:
    """Put a partition's analysed files together with what earlier partitions say, and swap
    it in atomically, together with the record of what it was built from (`stamps`,
    `versions`; taken now when not given). `listed`: entries of the partition's folder
    that the listing rejected; they are quarantined here."""
    started = started if started is not None else time.perf_counter()
    versions = versions or current_versions()
    report = PartitionReport(source, pub_date, files_seen=len(files) + len(listed))
    by_path = {a.rel_path: a for a in analyses}
    rejections: list[Rejected] = list(listed)
    analysed: list[dict[str, pl.DataFrame]] = []
    prechecked: dict[str, list[str]] | None = {}
    for rel_path in files:
        analysis = by_path[rel_path]
        rejections.extend(analysis.rejections)
        report.records_seen += analysis.records
        file_frames = analysis.tables()
        if file_frames is not None:
            analysed.append(file_frames)
            # A file whose tables were not checked where they were made: all are checked here.
            if analysis.failures is None or prechecked is None:
                prechecked = None
            else:
                prechecked.update(analysis.failures)

    # The earlier articles are read only for the step that needs them, and let go right
    # after it; the keyword window's sums run on from partition to partition of the run.
    built = finish_tables(analysed, nlp=nlp, **_earlier_doc_freq(curated_root, pub_date, run_id))
    terms = (
        pl.concat([frames[TERMS] for frames in analysed])
        if analysed
        else pl.DataFrame(schema=TERMS_DTYPES)
    )
    analysed.clear()  # the curated tables share its columns
    articles = built["articles"]
    built["articles"] = assign_duplicates(
        articles, _earlier_articles(curated_root, source, pub_date, dedupe_days, articles)
    )
    lineage = articles.select("article_id", "raw_path", "raw_record")
    tables, rejected_ids = validate_tables(built, prechecked=prechecked)
    for article_id, raw_path, raw_record in lineage.iter_rows():
        if article_id in rejected_ids:
            rejections.append(
                Rejected(
                    raw_path,
                    "schema",
                    f"article {article_id}: {rejected_ids[article_id]}",
                    source,
                    pub_date,
                    raw_record,
                )
            )
    quarantine = quarantine_frame(rejections, run_id)
    # A file counts as curated when an article of it was written, as quarantined when it
    # was not but the quarantine names it; one that is neither breaks the run's accounting.
    curated_paths = set(tables["articles"]["raw_path"].to_list())
    quarantined_paths = {r.raw_path for r in rejections}
    for rel_path in [*files, *(r.raw_path for r in listed)]:
        if rel_path in curated_paths:
            report.files_curated += 1
        elif rel_path in quarantined_paths:
            report.files_quarantined += 1
    jsonl_curated = tables["articles"].filter(pl.col("raw_record").is_not_null()).height
    report.records_curated = jsonl_curated
    report.records_quarantined = len(
        {(r.raw_path, r.record) for r in rejections if r.record is not None}
    )
    report.reasons = dict(Counter(r.reason for r in rejections))

    curated_ids = tables["articles"]["article_id"]
    doc_freq = checked(
        DocFreq,
        document_frequencies(
            terms.filter(pl.col("article_id").is_in(curated_ids.implode())),
            n_docs=tables["tokens"]["article_id"].n_unique(),
            source=source,
            pub_date=pub_date,
        ),
    )
    frames: dict[str, pl.DataFrame] = {
        **tables,
        QUARANTINE_TABLE: quarantine,
        DOC_FREQ_TABLE: doc_freq,
    }
    report.rows = {table: frame.height for table, frame in frames.items()}
    report.quality = dict(Counter(tables["articles"]["text_quality"].to_list()))
    report.duplicates = tables["articles"]["duplicate_of"].drop_nulls().len()
    state = PartitionState(
        source=source,
        pub_date=pub_date,
        files={
            **{name: by_path[name].stamp(stamps.get(name, UNKNOWN)) for name in files},
            **{name: stamps.get(name, stamp) for name, stamp in listed_stamps(listed).items()},
        },
        versions=versions,
        run_id=run_id,
        curated_at=now(),
        rows=report.rows,
    )
    targets = parquet.partition_files(curated_root, CURATED_TABLES, source, pub_date)
    contents: dict[Location, pl.DataFrame | bytes | None] = {
        targets[t]: frames[t] for t in CURATED_TABLES
    }
    contents[state_file(curated_root, source, pub_date)] = state.to_json()
    doc_freq_window.replaced(curated_root, [targets[DOC_FREQ_TABLE]])
    parquet.commit(curated_root, contents)
    report.seconds = time.perf_counter() - started
    return report


def remove_partition(curated_root: Location, source: str, pub_date: date) -> None:
    """Drop a partition whose raw folder is gone, atomically like any other replacement."""
    targets = parquet.partition_files(curated_root, CURATED_TABLES, source, pub_date)
    contents: dict[Location, pl.DataFrame | bytes | None] = dict.fromkeys(targets.values())
    contents[state_file(curated_root, source, pub_date)] = None
    doc_freq_window.replaced(curated_root, [targets[DOC_FREQ_TABLE]])
    parquet.commit(curated_root, contents)


def write_undated_quarantine(
    curated_root: Location, rejections: list[Rejected], run_id: str
) -> int:
    """Files the layout rules out have no partition: they share one file, rewritten when the
    set of such files or their reasons change."""
    target = parquet.partition_file(curated_root, QUARANTINE_TABLE, None, parquet.UNDATED_FILE)
    frame = quarantine_frame(rejections, run_id) if rejections else None
    key = ["raw_path", "record", "reason", "detail"]
    if target.is_file():
        old = parquet.read_file(target, key)
        if frame is not None and old.equals(frame.select(key)):
            return len(rejections)
    elif frame is None:
        return 0
    parquet.commit(curated_root, {target: frame})
    return len(rejections)
