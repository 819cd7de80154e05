"""The Prefect flows: `zhnews-run` (the CLI's run), `nightly` and `backfill`.

All three list the raw tree, plan which partitions are stale, curate those in date order
and record the run. Tasks pass paths, partition keys and small reports, never frames; each
partition is one task, so a failing partition is retried and then recorded while the
others finish, and the run ends in a `Partial` (failed) state.
"""

from __future__ import annotations

import hashlib
import json
import platform
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from typing import Any, ParamSpec, TypeVar, cast

import polars as pl
from filelock import FileLock, Timeout
from prefect import Flow, Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Failed, State
from prefect.task_runners import TaskRunner
from prefect.utilities.annotations import quote

from flows import report
from flows.io import parquet, store
from flows.io.nlp import load_models
from flows.io.raw import DEFAULT_MAX_FILE_BYTES, Partition, RawListing, Rejected, list_raw
from flows.io.state import (
    BackfillMark,
    FileStamp,
    Versions,
    backfill_file,
    current_versions,
    listed_stamps,
    read_backfill,
    read_state,
    recorded_partitions,
    stamp_files,
)
from flows.partition import (
    CURATED_TABLES,
    FileAnalysis,
    PartitionReport,
    analyse_files,
    curate_partition,
    finish_partition,
    merge_parts,
    remove_partition,
    write_undated_quarantine,
)
from flows.plan import Batch, Plan, Planned, analysis_batches, part_bytes, stale_reason
from flows.progress import RunProgress
from flows.runners import Scale, shared_api, task_runner
from flows.settings import backoff
from flows.submit_context import one_serialized_context
from schemas.tables import Runs
from schemas.validation import checked
from transforms.documents import Share

FLOW_NAME = "zhnews-run"
NIGHTLY_FLOW = "nightly"
BACKFILL_FLOW = "backfill"
LOCK_FILE = ".zhnews.lock"
PARTIAL = "Partial"
REPORT_KEY = "zhnews-run-report"
PARTITIONS_KEY = "zhnews-run-partitions"
PROGRESS_KEY = "zhnews-run-progress"
VERSIONED_PACKAGES = (
    "zhnews",
    "prefect",
    "polars",
    "pyarrow",
    "pandera",
    "jieba",
    "charset-normalizer",
)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class CuratedRootLocked(RuntimeError):
    """Another run kept the curated root for longer than this run would wait."""


class AccountingError(RuntimeError):
    """Some file or record the run saw was neither curated, quarantined nor ignored."""


@dataclass(frozen=True)
class Job:
    """What one run is asked to do; the flows differ only in how they fill it in."""

    raw_root: str
    curated_root: str
    since: date | None = None
    until: date | None = None
    source: str | None = None
    force: bool = False
    backfill_key: str | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    lock_timeout: float = 3600.0
    retries: int = 2
    retry_delay: float = 2.0
    scale: Scale = field(default_factory=Scale)

    def retry_delays(self) -> list[float]:
        return backoff(self.retries, self.retry_delay)

    def retrying(self, work: Task[P, R]) -> Task[P, R]:
        """`work` with this job's retries and backoff."""
        return work.with_options(retries=self.retries, retry_delay_seconds=self.retry_delays())


@dataclass
class RunSummary:
    """What the CLI prints, the report shows and the runs table stores."""

    run_id: str
    flow_name: str = FLOW_NAME
    status: str = "completed"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    partitions: int = 0
    partitions_skipped: int = 0
    partitions_failed: int = 0
    partitions_removed: int = 0
    files_seen: int = 0
    files_curated: int = 0
    files_quarantined: int = 0
    files_ignored: int = 0
    files_failed: int = 0
    files_unchanged: int = 0
    records_seen: int = 0
    records_curated: int = 0
    records_quarantined: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CURATED_TABLES, 0))
    reasons: dict[str, int] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)
    quality: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    failures: list[str] = field(default_factory=list)
    lines: list[report.PartitionLine] = field(default_factory=list)
    error: str | None = None

    @property
    def seconds(self) -> float:
        end = self.ended_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()

    def add(self, part: PartitionReport, reason: str) -> None:
        """A curated partition's outcome (its files were counted as seen by the listing)."""
        self.files_curated += part.files_curated
        self.files_quarantined += part.files_quarantined
        self.records_seen += part.records_seen
        self.records_curated += part.records_curated
        self.records_quarantined += part.records_quarantined
        self.duplicates += part.duplicates
        for table, count in part.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count
        for key, count in part.reasons.items():
            self.reasons[key] = self.reasons.get(key, 0) + count
        for flag, count in part.quality.items():
            self.quality[flag] = self.quality.get(flag, 0) + count
        self.lines.append(
            report.PartitionLine(
                part.source,
                part.pub_date,
                "curated",
                reason,
                part.seconds,
                part.rows.get("articles", 0),
                part.files_quarantined,
            )
        )

    def accounting_errors(self) -> list[str]:
        """Where the counts do not add up: every file seen must be curated, quarantined,
        ignored, in a failed partition or in an unchanged one, and every JSONL record seen
        (in the files read) curated or quarantined."""
        errors = []
        files = (
            self.files_curated
            + self.files_quarantined
            + self.files_ignored
            + self.files_failed
            + self.files_unchanged
        )
        if files != self.files_seen:
            errors.append(
                f"{self.files_seen} files seen but {files} accounted for ({self.files_curated} "
                f"curated, {self.files_quarantined} quarantined, {self.files_ignored} ignored, "
                f"{self.files_failed} failed, {self.files_unchanged} unchanged)"
            )
        records = self.records_curated + self.records_quarantined
        if records != self.records_seen:
            errors.append(
                f"{self.records_seen} JSONL records seen but {records} accounted for "
                f"({self.records_curated} curated, {self.records_quarantined} quarantined)"
            )
        return errors

    def check_accounting(self) -> None:
        errors = self.accounting_errors()
        if errors:
            raise AccountingError("counts do not add up: " + "; ".join(errors))

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        data["seconds"] = round(self.seconds, 3)
        data["lines"] = [line.as_row() for line in self.lines]
        return data


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def _as_is(value: T) -> T:
    """A task argument Prefect hands over without walking into it. Prefect looks for
    futures and states in every element of every argument, twice per task run (some
    7 µs an element): a partition of 2,000 files cost its finish task 0.2 s that way,
    against 3 ms. Only plain values are passed so, never futures, and only to tasks the
    flow calls itself: a Dask runner's submission hands the task the wrapper as it is."""
    return cast(T, quote(value))


def _task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A pipeline task, retried twice by default (a run's settings may say otherwise).

    Results stay in memory: nothing a task returns is ever written (Prefect would pickle
    it), whatever the Prefect settings say. The run's record is Parquet and JSON in the
    curated root.
    """
    return task(name=name, retries=2, retry_delay_seconds=[1, 5], persist_result=False)


@_task("list-raw")
def list_raw_task(
    raw_root: str, since: date | None, until: date | None, source: str | None
) -> RawListing:
    listing = list_raw(store.location(raw_root), since=since, until=until)
    if source is None:
        return listing
    # Files the listing rejected outside any partition go to one undated file that only a
    # run over every source rewrites, so a run over one source leaves them out.
    return RawListing(
        partitions=[p for p in listing.partitions if p.source == source],
        ignored=[path for path in listing.ignored if path.split("/", 1)[0] == source],
        unlisted=listing.unlisted,
    )


@_task("plan")
def plan_task(
    raw_root: str,
    curated_root: str,
    partitions: list[Partition],
    versions: Versions,
    force: bool,
    done_since: datetime | None,
) -> Plan:
    """Hash the inputs of every partition and keep those whose tables are stale."""
    plan = Plan()
    for part in partitions:
        state = read_state(store.location(curated_root), part.source, part.pub_date)
        stamps = stamp_files(store.location(raw_root), part.files, state.files if state else None)
        stamps.update(listed_stamps(part.rejected))
        reason = stale_reason(stamps, state, versions, force=force, done_since=done_since)
        if reason is None:
            plan.skipped.append(part)
        else:
            plan.todo.append(Planned(part, reason, stamps))
    return plan


@_task("curate-partition")
def curate_partition_task(
    raw_root: str,
    curated_root: str,
    source: str,
    pub_date: date,
    files: tuple[str, ...],
    listed: tuple[Rejected, ...],
    run_id: str,
    max_file_bytes: int,
    stamps: dict[str, FileStamp],
    versions: Versions,
) -> PartitionReport:
    return curate_partition(
        store.location(raw_root),
        store.location(curated_root),
        source,
        pub_date,
        files,
        run_id=run_id,
        nlp=load_models(),
        max_file_bytes=max_file_bytes,
        listed=listed,
        stamps=stamps,
        versions=versions,
    )


@_task("analyse-files")
def analyse_files_task(
    raw_root: str,
    curated_root: str,
    source: str,
    pub_date: date,
    files: list[tuple[str, int, int, int]],
    run_id: str,
    max_file_bytes: int,
) -> list[FileAnalysis]:
    """Some raw files of one partition, or parts of one (`files`: path, index in the
    partition, part, parts), in a worker, one after the other: their frames go to scratch
    Parquet, a summary of each comes back."""
    raw, curated, nlp = store.location(raw_root), store.location(curated_root), load_models()
    return analyse_files(
        raw,
        source,
        pub_date,
        [
            (
                rel_path,
                Share(part, parts),
                parquet.scratch_dir(curated, run_id, source, pub_date, index, part),
            )
            for rel_path, index, part, parts in files
        ],
        run_id=run_id,
        nlp=nlp,
        max_file_bytes=max_file_bytes,
    )


@_task("finish-partition")
def finish_partition_task(
    curated_root: str,
    source: str,
    pub_date: date,
    files: tuple[str, ...],
    listed: tuple[Rejected, ...],
    analyses: list[FileAnalysis],
    run_id: str,
    stamps: dict[str, FileStamp],
    versions: Versions,
) -> PartitionReport:
    return finish_partition(
        store.location(curated_root),
        source,
        pub_date,
        files,
        analyses,
        run_id=run_id,
        nlp=load_models(),
        listed=listed,
        stamps=stamps,
        versions=versions,
    )


@_task("remove-partition")
def remove_partition_task(curated_root: str, source: str, pub_date: date) -> None:
    remove_partition(store.location(curated_root), source, pub_date)


@_task("write-undated-quarantine")
def write_undated_quarantine_task(curated_root: str, listing: RawListing, run_id: str) -> int:
    return write_undated_quarantine(store.location(curated_root), listing.rejected, run_id)


def _acquire(lock: FileLock, timeout: float) -> bool:
    """Take the curated root's lock, saying so in the log when another run holds it."""
    try:
        lock.acquire(timeout=0)
        return True
    except Timeout:
        get_run_logger().warning(
            "another run holds %s; waiting up to %gs for it to finish", lock.lock_file, timeout
        )
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return False
    return True


def _in_scope(source: str, day: date, job: Job) -> bool:
    return (
        (job.since is None or day >= job.since)
        and (job.until is None or day <= job.until)
        and (job.source is None or source == job.source)
    )


def _json(value: object) -> str:
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)


def _runs_frame(summary: RunSummary, job: Job, markdown: str) -> pl.DataFrame:
    parameters = {
        k: v for k, v in asdict(job).items() if k not in ("lock_timeout", "retries", "retry_delay")
    }
    row = {
        "run_id": summary.run_id,
        "flow_name": summary.flow_name,
        "parameters": _json(parameters),
        "started_at": summary.started_at,
        "ended_at": summary.ended_at,
        "status": summary.status,
        "partitions": summary.partitions,
        "partitions_skipped": summary.partitions_skipped,
        "partitions_failed": summary.partitions_failed,
        "partitions_removed": summary.partitions_removed,
        "files_seen": summary.files_seen,
        "files_curated": summary.files_curated,
        "files_quarantined": summary.files_quarantined,
        "files_ignored": summary.files_ignored,
        "files_failed": summary.files_failed,
        "files_unchanged": summary.files_unchanged,
        "records_seen": summary.records_seen,
        "records_curated": summary.records_curated,
        "records_quarantined": summary.records_quarantined,
        "articles": summary.rows.get("articles", 0),
        **{f"rows_{table}": summary.rows.get(table, 0) for table in CURATED_TABLES},
        "quarantine_reasons": _json(summary.reasons),
        "partition_report": _json([line.as_row() for line in summary.lines]),
        "report": markdown,
        "error": summary.error,
        "versions": _json(package_versions()),
    }
    frame = pl.DataFrame([row]).with_columns(
        pl.col("started_at", "ended_at").cast(pl.Datetime("us", "UTC")),
        pl.col("error").cast(pl.String),
    )
    return checked(Runs, frame)


def _fail_partition(summary: RunSummary, item: Planned, message: str) -> None:
    part = item.partition
    summary.partitions_failed += 1
    summary.files_failed += part.entries
    message = f"{part.source}/{part.pub_date}: {message}"
    summary.failures.append(message)
    summary.lines.append(
        report.PartitionLine(part.source, part.pub_date, "failed", item.reason, 0.0, 0, 0, message)
    )
    get_run_logger().error("partition failed after retries, old data kept: %s", message)


def _record(
    summary: RunSummary,
    item: Planned,
    state: State[PartitionReport],
    since: datetime | None = None,
) -> None:
    """A partition's outcome in the summary; `since`: its seconds count from then."""
    if not state.is_completed():
        _fail_partition(summary, item, str(state.message))
        return
    result = state.result()
    if since is not None:
        result.seconds = (datetime.now(UTC) - since).total_seconds()
    summary.add(result, item.reason)


def _curate_planned(plan: Plan, summary: RunSummary, job: Job, versions: Versions) -> None:
    if job.scale.parallel and plan.todo:
        _curate_in_workers(plan, summary, job, versions)
        return
    curate = job.retrying(curate_partition_task)
    todo = plan.todo
    with RunProgress(len(todo), PROGRESS_KEY, f"{summary.flow_name}: partitions curated") as bar:
        for item in todo:
            part = item.partition
            state = curate(
                job.raw_root,
                job.curated_root,
                part.source,
                part.pub_date,
                _as_is(part.files),
                _as_is(part.rejected),
                summary.run_id,
                job.max_file_bytes,
                _as_is(item.stamps),
                _as_is(versions),
                return_state=True,
            )
            bar.advance(f"{part.source}/{part.pub_date}")
            _record(summary, item, state)


def _await_analyses(futures: Sequence[PrefectFuture[list[FileAnalysis]]]) -> list[State]:
    """Wait for one partition's tasks; the states of those that failed."""
    for future in futures:
        future.wait()
    return [future.state for future in futures if not future.state.is_completed()]


# One partition's analysis tasks, each with the (index of the file, share) pairs it holds.
Submitted = list[tuple[PrefectFuture[list[FileAnalysis]], Batch]]


def _submit_analyses(
    runner: TaskRunner[Any],
    analyse: Task[..., list[FileAnalysis]],
    item: Planned,
    job: Job,
    run_id: str,
    max_part_bytes: int,
) -> Submitted:
    """One partition's files to the workers: large ones in parts, small ones together."""
    partition = item.partition
    return [
        (
            runner.submit(
                analyse,
                parameters={
                    "raw_root": job.raw_root,
                    "curated_root": job.curated_root,
                    "source": partition.source,
                    "pub_date": partition.pub_date,
                    "files": [
                        (partition.files[index], index, share.part, share.parts)
                        for index, share in batch
                    ],
                    "run_id": run_id,
                    "max_file_bytes": job.max_file_bytes,
                },
            ),
            batch,
        )
        for batch in analysis_batches(partition.files, item.stamps, max_part_bytes)
    ]


def _file_analyses(submitted: Submitted, partition: Partition) -> list[FileAnalysis]:
    """Each file's analysis, its parts merged: batches come in file order and a file's
    parts in part order, so each file's results are gathered in order."""
    shares: list[list[FileAnalysis]] = [[] for _ in partition.files]
    for future, batch in submitted:
        for (index, _), analysis in zip(batch, future.result(), strict=True):
            shares[index].append(analysis)
    return [merge_parts(parts, partition.source, partition.pub_date) for parts in shares]


def _curate_in_workers(plan: Plan, summary: RunSummary, job: Job, versions: Versions) -> None:
    """Every file of every stale partition is analysed by the workers at once, a large
    JSONL file in parts; partitions are then finished here one by one, in plan order, as
    their files come back."""
    logger = get_run_logger()
    analyse = job.retrying(analyse_files_task)
    finish = job.retrying(finish_partition_task)
    todo = plan.todo
    logger.info("analysing %d partitions on %s", len(todo), job.scale.describe())
    with (
        shared_api(),
        task_runner(job.scale) as runner,
        RunProgress(len(todo), PROGRESS_KEY, f"{summary.flow_name}: partitions curated") as bar,
    ):
        total = sum(max(stamp.size, 0) for item in todo for stamp in item.stamps.values())
        max_part = part_bytes(total, job.scale.workers)
        with one_serialized_context():
            submitted = [
                _submit_analyses(runner, analyse, item, job, summary.run_id, max_part)
                for item in todo
            ]
        try:
            for item, tasks in zip(todo, submitted, strict=True):
                part = item.partition
                started = datetime.now(UTC)
                bad = _await_analyses([future for future, _ in tasks])
                if bad:
                    _fail_partition(summary, item, str(bad[0].message))
                    bar.advance(f"{part.source}/{part.pub_date}")
                    continue
                analyses = _file_analyses(tasks, part)
                state = finish(
                    job.curated_root,
                    part.source,
                    part.pub_date,
                    _as_is(part.files),
                    _as_is(part.rejected),
                    _as_is(analyses),
                    summary.run_id,
                    _as_is(item.stamps),
                    _as_is(versions),
                    return_state=True,
                )
                bar.advance(f"{part.source}/{part.pub_date}")
                # The report's seconds: analysis overlapped; count from when it was awaited.
                _record(summary, item, state, since=started)
                # Gone now, while the workers are busy, rather than all after the last one.
                parquet.remove_scratch(
                    store.location(job.curated_root), summary.run_id, (part.source, part.pub_date)
                )
        finally:
            parquet.remove_scratch(store.location(job.curated_root), summary.run_id)


def _remove_vanished(listing: RawListing, summary: RunSummary, job: Job) -> None:
    """Partitions whose raw folder has gone lose their tables (within the run's scope)."""
    curated = store.location(job.curated_root)
    present = {(p.source, p.pub_date) for p in listing.partitions}
    existing = parquet.existing_partitions(curated, CURATED_TABLES)
    existing |= recorded_partitions(curated)
    vanished = sorted(
        (source, day)
        for source, day in existing
        if (source, day) not in present
        and not listing.keeps(source, day)
        and _in_scope(source, day, job)
    )
    listed = any(_in_scope(p.source, p.pub_date, job) for p in listing.partitions)
    if vanished and not listed and not job.force:
        # An empty raw tree is far likelier an unmounted volume than a deleted archive.
        message = (
            f"raw root {job.raw_root} lists no partitions in this run's scope; "
            f"{len(vanished)} curated partitions kept (rerun with --force to remove them)"
        )
        get_run_logger().error(message)
        summary.failures.append(message)
        return
    for source, day in vanished:
        remove_partition_task(job.curated_root, source, day)
        summary.partitions_removed += 1
        summary.lines.append(report.PartitionLine(source, day, "removed", "vanished", 0, 0, 0))
        get_run_logger().info("removed %s/%s: its raw folder is gone", source, day)


def _publish(summary: RunSummary, markdown: str) -> None:
    create_markdown_artifact(markdown, key=REPORT_KEY, description="zhnews run report")
    if summary.lines:
        create_table_artifact(
            [line.as_row() for line in summary.lines],
            key=PARTITIONS_KEY,
            description="partitions of the run",
        )


def _execute(flow_name: str, job: Job) -> State | dict[str, object]:
    """The body every flow shares: lock, recover, list, plan, curate, remove, report."""
    logger = get_run_logger()
    run_id = str(flow_run.get_id() or uuid.uuid4())
    summary = RunSummary(run_id, flow_name=flow_name)
    curated = store.location(job.curated_root)
    store.make_root(curated)
    store.check_writable(curated)
    # Beside a local root; for an object-store root, in this machine's cache folder only.
    lock = FileLock(str(store.lock_file(curated, LOCK_FILE)))
    if not _acquire(lock, job.lock_timeout):
        # Raised outside the `except`: Prefect would take a chained TimeoutError for a
        # flow timeout and hide this message.
        raise CuratedRootLocked(
            f"curated root {curated} is locked by another run (waited {job.lock_timeout:g}s)"
        )
    markdown = ""
    try:
        if not store.location(job.raw_root).is_dir():
            raise NotADirectoryError(f"raw root {job.raw_root} is not a directory")
        recovered = parquet.recover(curated)
        if recovered:
            logger.warning("completed %d partition swaps left by an interrupted run", recovered)
        mark = _backfill_mark(curated, job)
        versions = current_versions()
        listing = list_raw_task(job.raw_root, job.since, job.until, job.source)
        plan = plan_task(
            job.raw_root,
            job.curated_root,
            _as_is(listing.partitions),
            _as_is(versions),
            job.force,
            mark.started_at if mark else None,
        )
        summary.partitions = len(plan.todo)
        summary.partitions_skipped = len(plan.skipped)
        summary.planned = plan.reasons()
        summary.files_seen = listing.files_seen
        summary.files_unchanged = sum(p.entries for p in plan.skipped)
        summary.lines.extend(
            report.PartitionLine(p.source, p.pub_date, "skipped", "up to date", 0, 0, 0)
            for p in plan.skipped
        )
        summary.files_ignored = len(listing.ignored)
        summary.files_quarantined += len(listing.rejected)
        for rejected in listing.rejected:
            summary.reasons[rejected.reason] = summary.reasons.get(rejected.reason, 0) + 1
        if job.source is None:
            summary.rows["quarantine"] += write_undated_quarantine_task(
                job.curated_root, _as_is(listing), run_id
            )
        logger.info(
            "%d partitions to curate (%s), %d up to date",
            len(plan.todo),
            ", ".join(f"{k} {v}" for k, v in summary.planned.items()) or "none",
            len(plan.skipped),
        )
        _curate_planned(plan, summary, job, versions)
        _remove_vanished(listing, summary, job)
        summary.check_accounting()
        if summary.failures:
            summary.status = "partial"
        elif mark is not None:
            backfill_file(curated, mark.key).unlink(missing_ok=True)
    except Exception as err:
        summary.status = "failed"
        summary.error = f"{type(err).__name__}: {err}"
        raise
    finally:
        summary.ended_at = datetime.now(UTC)
        try:
            markdown = report.markdown(summary.to_dict(), summary.lines)
            parquet.write_run(
                curated, _runs_frame(summary, job, markdown), run_id, summary.started_at.date()
            )
        finally:
            lock.release()
    _publish(summary, markdown)
    logger.info(
        "run %s %s in %.1fs: %d partitions curated, %d skipped, %d failed; %d articles",
        run_id,
        summary.status,
        summary.seconds,
        summary.partitions,
        summary.partitions_skipped,
        summary.partitions_failed,
        summary.rows.get("articles", 0),
    )
    result = summary.to_dict()
    if summary.failures:
        message = (
            f"{summary.partitions_failed} of {summary.partitions} partitions failed; "
            "the others were written"
            if summary.partitions_failed
            else summary.failures[0]
        )
        return Failed(name=PARTIAL, message=message, data=result)
    return result


def _backfill_mark(curated: store.Location, job: Job) -> BackfillMark | None:
    """A forced backfill remembers when it started, so that a rerun resumes it."""
    if job.backfill_key is None or not job.force:
        return None
    mark = read_backfill(curated, job.backfill_key)
    if mark is None:
        mark = BackfillMark(job.backfill_key, datetime.now(UTC))
        parquet.write_atomic(curated, backfill_file(curated, mark.key), mark.to_json())
    else:
        get_run_logger().info(
            "resuming the forced backfill started at %s", mark.started_at.isoformat()
        )
    return mark


def backfill_key(start: date, end: date, source: str | None) -> str:
    text = f"{start.isoformat()}|{end.isoformat()}|{source or '*'}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@flow(name=FLOW_NAME, persist_result=False)
def run_pipeline(
    raw_root: str = "data/raw",
    curated_root: str = "data/curated",
    since: date | None = None,
    until: date | None = None,
    source: str | None = None,
    force: bool = False,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    lock_timeout: float = 3600.0,
    retries: int = 2,
    retry_delay: float = 2.0,
    workers: int | None = None,
    task_runner: str | None = None,
    dask_address: str | None = None,
) -> State | dict[str, object]:
    """Curate the stale partitions in [since, until] (all of them with `force`)."""
    job = Job(
        raw_root,
        curated_root,
        since,
        until,
        source,
        force,
        None,
        max_file_bytes,
        lock_timeout,
        retries,
        retry_delay,
        Scale.resolve(workers, task_runner, dask_address),
    )
    return _execute(FLOW_NAME, job)


@flow(name=NIGHTLY_FLOW, persist_result=False)
def nightly(
    raw_root: str = "data/raw",
    curated_root: str = "data/curated",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    lock_timeout: float = 3600.0,
    retries: int = 2,
    retry_delay: float = 2.0,
    workers: int | None = None,
    task_runner: str | None = None,
    dask_address: str | None = None,
) -> State | dict[str, object]:
    """The scheduled run: every partition whose inputs, code or dictionaries changed."""
    job = Job(
        raw_root,
        curated_root,
        max_file_bytes=max_file_bytes,
        lock_timeout=lock_timeout,
        retries=retries,
        retry_delay=retry_delay,
        scale=Scale.resolve(workers, task_runner, dask_address),
    )
    return _execute(NIGHTLY_FLOW, job)


@flow(name=BACKFILL_FLOW, flow_run_name="backfill {start}..{end}", persist_result=False)
def backfill(
    start: date,
    end: date,
    force: bool = False,
    source: str | None = None,
    raw_root: str = "data/raw",
    curated_root: str = "data/curated",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    lock_timeout: float = 3600.0,
    retries: int = 2,
    retry_delay: float = 2.0,
    workers: int | None = None,
    task_runner: str | None = None,
    dask_address: str | None = None,
) -> State | dict[str, object]:
    """Bring every partition in [start, end] up to date, in date order (`force`: rebuild
    them all); a rerun of an interrupted backfill skips what it already did."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    job = Job(
        raw_root,
        curated_root,
        start,
        end,
        source,
        force,
        backfill_key(start, end, source),
        max_file_bytes,
        lock_timeout,
        retries,
        retry_delay,
        Scale.resolve(workers, task_runner, dask_address),
    )
    return _execute(BACKFILL_FLOW, job)


def call(run: Flow[..., Any] | Callable[..., Any], **parameters: Any) -> dict[str, object]:
    """Run a flow in this process and return its summary, also when the run was partial."""
    state = run(**parameters, return_state=True)
    if state is None:
        raise RuntimeError("the flow returned no state")
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    if not isinstance(result, dict):
        raise RuntimeError(f"{state.name}: {state.message}")
    return result
