"""Which partitions a run must curate, and why; the others are up to date and left alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flows.io.raw import Partition
from flows.io.state import FileStamp, PartitionState, Versions
from transforms.documents import Share, is_jsonl

# Why a partition is curated; in the order a report lists them.
REASONS = ("new", "changed", "unreadable", "pipeline", "dictionaries", "forced")
# With workers, a large JSONL file is analysed in parts, so that one large file keeps
# every worker busy and the run does not end waiting on one worker; but each task costs
# a worker about 0.05 s of Prefect's bookkeeping, so files are split only as far as it
# takes to give every worker TASKS_PER_WORKER tasks' worth of bytes, into parts of at
# least PART_BYTES.
PART_BYTES = 256 * 1024
TASKS_PER_WORKER = 2


@dataclass(frozen=True)
class Planned:
    partition: Partition
    reason: str
    stamps: dict[str, FileStamp]


@dataclass
class Plan:
    todo: list[Planned] = field(default_factory=list)
    skipped: list[Partition] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        counts = Counter(item.reason for item in self.todo)
        return {reason: counts[reason] for reason in REASONS if counts[reason]}


def _hashes(stamps: Mapping[str, FileStamp]) -> dict[str, str | None]:
    return {name: stamp.sha256 for name, stamp in stamps.items()}


def stale_reason(
    stamps: Mapping[str, FileStamp],
    state: PartitionState | None,
    versions: Versions,
    *,
    force: bool = False,
    done_since: datetime | None = None,
) -> str | None:
    """Why the partition must be curated again, or None when its tables are current.

    `done_since` is the start of a forced backfill being resumed: what it already rewrote
    from the same inputs is not done twice.
    """
    if state is None:
        return "new"
    unreadable = any(stamp.sha256 is None for stamp in stamps.values())
    same_inputs = not unreadable and _hashes(stamps) == _hashes(state.files)
    current = same_inputs and state.versions == versions
    if force:
        resumed = done_since is not None and state.curated_at >= done_since
        return None if resumed and current else "forced"
    if unreadable:
        return "unreadable"
    if not same_inputs:
        return "changed"
    if state.versions.pipeline != versions.pipeline:
        return "pipeline"
    if state.versions.dictionaries != versions.dictionaries:
        return "dictionaries"
    return None


def part_bytes(total_bytes: int, workers: int) -> int:
    """How large a part of a file may be when `workers` analyse `total_bytes` in all."""
    wanted = -(-max(total_bytes, 0) // (max(workers, 1) * TASKS_PER_WORKER))
    return max(PART_BYTES, wanted)


def file_shares(rel_path: str, stamp: FileStamp | None, max_bytes: int) -> list[Share]:
    """The parts of at most about `max_bytes` workers analyse one raw file in, sized by
    the listing's stat; a page, or a file of unknown size, goes whole."""
    size = stamp.size if stamp is not None else -1
    if not is_jsonl(rel_path) or size <= max_bytes:
        return [Share()]
    count = -(-size // max_bytes)
    return [Share(part, count) for part in range(count)]


Batch = list[tuple[int, Share]]


def analysis_batches(
    files: Sequence[str], stamps: Mapping[str, FileStamp], max_bytes: int
) -> list[Batch]:
    """What each worker task of one partition analyses: (index of the file, share) pairs.

    A JSONL file larger than `max_bytes` goes in parts, a task each; the others are packed,
    in order, into tasks of at most `max_bytes` (a file of unknown size alone): each task
    costs a worker and the flow's process some 0.05 s each, so many small files as
    many tasks took a sixth of a run's time."""
    batches: list[Batch] = []
    current: Batch = []
    size = 0
    for index, rel_path in enumerate(files):
        stamp = stamps.get(rel_path)
        shares = file_shares(rel_path, stamp, max_bytes)
        weight = stamp.size if stamp is not None and stamp.size >= 0 else max_bytes
        split = len(shares) > 1
        if current and (split or size + weight > max_bytes):
            batches.append(current)
            current, size = [], 0
        if split:
            batches.extend([(index, share)] for share in shares)
        else:
            current.append((index, shares[0]))
            size += weight
    if current:
        batches.append(current)
    return batches
