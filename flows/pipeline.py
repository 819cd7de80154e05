"""The Prefect flow of a run: list the raw tree, curate each partition, record the run.

Tasks pass paths, partition keys and small reports, never frames; each partition is one
task, so a failing partition is retried and then recorded while the others finish.
"""

from __future__ import annotations

import json
import platform
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

import polars as pl
from filelock import FileLock, Timeout
from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from flows.io import parquet
from flows.io.nlp import load_models
from flows.io.raw import DEFAULT_MAX_FILE_BYTES, RawListing, list_raw
from flows.partition import (
    CURATED_TABLES,
    PartitionReport,
    curate_partition,
    remove_partition,
    write_undated_quarantine,
)
from schemas.tables import Runs

FLOW_NAME = "zhnews-run"
LOCK_FILE = ".zhnews.lock"
VERSIONED_PACKAGES = (
    "zhnews",
    "prefect",
    "polars",
    "pyarrow",
    "pandera",
    "jieba",
    "charset-normalizer",
)


class CuratedRootLocked(RuntimeError):
    """Another run kept the curated root for longer than this run would wait."""


@dataclass
class RunSummary:
    """What the CLI prints and the runs table stores."""

    run_id: str
    status: str = "completed"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    partitions: int = 0
    partitions_failed: int = 0
    partitions_removed: int = 0
    files_seen: int = 0
    files_curated: int = 0
    files_quarantined: int = 0
    files_ignored: int = 0
    files_failed: int = 0
    records_curated: int = 0
    records_quarantined: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CURATED_TABLES, 0))
    reasons: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def seconds(self) -> float:
        end = self.ended_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()

    def add(self, report: PartitionReport) -> None:
        self.files_seen += report.files_seen
        self.files_curated += report.files_curated
        self.files_quarantined += report.files_quarantined
        self.records_curated += report.records_curated
        self.records_quarantined += report.records_quarantined
        for table, count in report.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count
        for reason, count in report.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + count

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        data["seconds"] = round(self.seconds, 3)
        return data


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


@task(name="list-raw", retries=2, retry_delay_seconds=[1, 5])
def list_raw_task(raw_root: str, since: date | None, until: date | None) -> RawListing:
    return list_raw(Path(raw_root), since=since, until=until)


@task(name="curate-partition", retries=2, retry_delay_seconds=[1, 5])
def curate_partition_task(
    raw_root: str,
    curated_root: str,
    source: str,
    pub_date: date,
    files: tuple[str, ...],
    run_id: str,
    max_file_bytes: int,
) -> PartitionReport:
    return curate_partition(
        Path(raw_root),
        Path(curated_root),
        source,
        pub_date,
        files,
        run_id=run_id,
        nlp=load_models(),
        max_file_bytes=max_file_bytes,
    )


@task(name="remove-partition", retries=2, retry_delay_seconds=[1, 5])
def remove_partition_task(curated_root: str, source: str, pub_date: date) -> None:
    remove_partition(Path(curated_root), source, pub_date)


@task(name="write-undated-quarantine", retries=2, retry_delay_seconds=[1, 5])
def write_undated_quarantine_task(curated_root: str, listing: RawListing, run_id: str) -> int:
    return write_undated_quarantine(Path(curated_root), listing.rejected, run_id)


def _acquire(lock: FileLock, timeout: float) -> bool:
    """Take the curated root's lock, saying so in the log when another run holds it."""
    try:
        lock.acquire(timeout=0)
        return True
    except Timeout:
        get_run_logger().warning("another run holds %s; waiting up to %gs", lock.lock_file, timeout)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return False
    return True


def _in_range(day: date, since: date | None, until: date | None) -> bool:
    return (since is None or day >= since) and (until is None or day <= until)


def _runs_frame(summary: RunSummary, parameters: Mapping[str, object]) -> pl.DataFrame:
    row = {
        "run_id": summary.run_id,
        "flow_name": FLOW_NAME,
        "parameters": json.dumps(parameters, default=str, sort_keys=True),
        "started_at": summary.started_at,
        "ended_at": summary.ended_at,
        "status": summary.status,
        "partitions": summary.partitions,
        "partitions_failed": summary.partitions_failed,
        "files_seen": summary.files_seen,
        "files_curated": summary.files_curated,
        "files_quarantined": summary.files_quarantined,
        "files_ignored": summary.files_ignored,
        "files_failed": summary.files_failed,
        "records_curated": summary.records_curated,
        "records_quarantined": summary.records_quarantined,
        "articles": summary.rows.get("articles", 0),
        **{f"rows_{table}": summary.rows.get(table, 0) for table in CURATED_TABLES},
        "error": summary.error,
        "versions": json.dumps(package_versions(), sort_keys=True),
    }
    frame = pl.DataFrame([row]).with_columns(
        pl.col("started_at", "ended_at").cast(pl.Datetime("us", "UTC")),
        pl.col("error").cast(pl.String),
    )
    return Runs.validate(frame)


def _curate_all(
    listing: RawListing,
    summary: RunSummary,
    *,
    raw_root: str,
    curated_root: str,
    max_file_bytes: int,
) -> None:
    logger = get_run_logger()
    for part in listing.partitions:
        state = curate_partition_task(
            raw_root,
            curated_root,
            part.source,
            part.pub_date,
            part.files,
            summary.run_id,
            max_file_bytes,
            return_state=True,
        )
        if state.is_completed():
            summary.add(state.result())
            continue
        summary.partitions_failed += 1
        summary.files_seen += len(part.files)
        summary.files_failed += len(part.files)
        message = f"{part.source}/{part.pub_date}: {state.message}"
        summary.failures.append(message)
        logger.error("partition failed after retries, old data kept: %s", message)


@flow(name=FLOW_NAME)
def run_pipeline(
    raw_root: str = "data/raw",
    curated_root: str = "data/curated",
    since: date | None = None,
    until: date | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    lock_timeout: float = 3600.0,
) -> dict[str, object]:
    """Curate every raw partition in [since, until] and record the run in `runs`."""
    logger = get_run_logger()
    run_id = str(flow_run.get_id() or uuid.uuid4())
    parameters = {
        "raw_root": raw_root,
        "curated_root": curated_root,
        "since": since,
        "until": until,
        "max_file_bytes": max_file_bytes,
    }
    summary = RunSummary(run_id)
    curated = Path(curated_root)
    curated.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(curated / LOCK_FILE))
    if not _acquire(lock, lock_timeout):
        # Raised outside the `except`: Prefect would take a chained TimeoutError for a
        # flow timeout and hide this message.
        raise CuratedRootLocked(
            f"curated root {curated} is locked by another run (waited {lock_timeout:g}s)"
        )
    try:
        recovered = parquet.recover(curated)
        if recovered:
            logger.warning("completed %d partition swaps left by an interrupted run", recovered)
        listing = list_raw_task(raw_root, since, until)
        summary.partitions = len(listing.partitions)
        summary.files_ignored = len(listing.ignored)
        summary.files_seen += len(listing.ignored) + len(listing.rejected)
        summary.files_quarantined += len(listing.rejected)
        for rejected in listing.rejected:
            summary.reasons[rejected.reason] = summary.reasons.get(rejected.reason, 0) + 1
        summary.rows["quarantine"] += write_undated_quarantine_task(curated_root, listing, run_id)

        _curate_all(
            listing,
            summary,
            raw_root=raw_root,
            curated_root=curated_root,
            max_file_bytes=max_file_bytes,
        )

        present = {(p.source, p.pub_date) for p in listing.partitions}
        for source, day in sorted(parquet.existing_partitions(curated, CURATED_TABLES)):
            if (source, day) not in present and _in_range(day, since, until):
                remove_partition_task(curated_root, source, day)
                summary.partitions_removed += 1
                logger.info("removed %s/%s: its raw folder is gone", source, day)
        if summary.partitions_failed:
            summary.status = "partial"
    except Exception as err:
        summary.status = "failed"
        summary.error = f"{type(err).__name__}: {err}"
        raise
    finally:
        summary.ended_at = datetime.now(UTC)
        try:
            parquet.write_run(
                curated, _runs_frame(summary, parameters), run_id, summary.started_at.date()
            )
        finally:
            lock.release()
    logger.info(
        "run %s %s in %.1fs: %d files, %d curated, %d quarantined, %d articles",
        run_id,
        summary.status,
        summary.seconds,
        summary.files_seen,
        summary.files_curated,
        summary.files_quarantined,
        summary.rows.get("articles", 0),
    )
    return summary.to_dict()
