"""Which partitions a run must curate, and why; the others are up to date and left alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flows.io.raw import Partition
from flows.io.state import FileStamp, PartitionState, Versions

# Why a partition is curated; in the order a report lists them.
REASONS = ("new", "changed", "unreadable", "pipeline", "dictionaries", "forced")


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
