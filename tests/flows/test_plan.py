"""Which partitions are stale: new, changed, unreadable, new code or dictionaries, forced."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from flows.io.state import UNKNOWN, FileStamp, PartitionState, Versions, stamp_files
from flows.plan import (
    PART_BYTES,
    TASKS_PER_WORKER,
    analysis_batches,
    file_shares,
    part_bytes,
    stale_reason,
)
from transforms.documents import Share

NOW = Versions("0.1.0+abc", "dict1")
CURATED_AT = datetime(2026, 6, 16, 2, 0, tzinfo=UTC)


def _stamps(**hashes: str | None) -> dict[str, FileStamp]:
    return {f"cbn/2026-06-15/{name}.txt": FileStamp(sha, 10, 1) for name, sha in hashes.items()}


def _state(stamps: dict[str, FileStamp], versions: Versions = NOW) -> PartitionState:
    return PartitionState("cbn", date(2026, 6, 15), stamps, versions, "run-1", CURATED_AT)


def test_up_to_date_when_inputs_and_versions_match():
    assert stale_reason(_stamps(a="1", b="2"), _state(_stamps(a="1", b="2")), NOW) is None


@pytest.mark.parametrize(
    ("now", "recorded", "versions", "reason"),
    [
        (_stamps(a="1"), None, NOW, "new"),
        (_stamps(a="1", b="3"), _stamps(a="1", b="2"), NOW, "changed"),
        (_stamps(a="1", b="2"), _stamps(a="1"), NOW, "changed"),
        (_stamps(a="1"), _stamps(a="1", b="2"), NOW, "changed"),
        (_stamps(a="1", b=None), _stamps(a="1", b=None), NOW, "unreadable"),
        (_stamps(a="1"), _stamps(a="1"), Versions("0.1.0+def", "dict1"), "pipeline"),
        (_stamps(a="1"), _stamps(a="1"), Versions("0.1.0+abc", "dict2"), "dictionaries"),
    ],
)
def test_stale_reasons(now, recorded, versions, reason):  # type: ignore[no-untyped-def]
    state = None if recorded is None else _state(recorded, versions)
    assert stale_reason(now, state, NOW) == reason


def test_force_rebuilds_unless_a_resumed_backfill_already_did():
    stamps = _stamps(a="1")
    state = _state(stamps)
    assert stale_reason(stamps, state, NOW, force=True) == "forced"
    before = CURATED_AT - timedelta(hours=1)
    assert stale_reason(stamps, state, NOW, force=True, done_since=before) is None
    after = CURATED_AT + timedelta(hours=1)
    assert stale_reason(stamps, state, NOW, force=True, done_since=after) == "forced"
    changed = _stamps(a="2")
    assert stale_reason(changed, state, NOW, force=True, done_since=before) == "forced"


def test_stamps_hash_content_and_reuse_a_hash_only_for_the_same_stat(tmp_path: Path):
    page = tmp_path / "cbn" / "2026-06-15" / "page.txt"
    page.parent.mkdir(parents=True)
    page.write_text("央行开展逆回购操作。", encoding="utf-8")
    rel = "cbn/2026-06-15/page.txt"
    first = stamp_files(tmp_path, [rel])[rel]
    assert first.sha256 and len(first.sha256) == 64

    # A recorded hash for the same size and mtime is trusted without reading the file.
    trusted = FileStamp("f" * 64, first.size, first.mtime_ns)
    assert stamp_files(tmp_path, [rel], {rel: trusted})[rel] == trusted
    # Any other stat means reading the bytes again.
    os.utime(page, ns=(first.mtime_ns + 10**9, first.mtime_ns + 10**9))
    again = stamp_files(tmp_path, [rel], {rel: trusted})[rel]
    assert again.sha256 == first.sha256
    assert (
        stamp_files(tmp_path, ["cbn/2026-06-15/gone.txt"])["cbn/2026-06-15/gone.txt"].sha256 is None
    )


def test_state_survives_a_round_trip_through_json():
    state = _state(_stamps(a="1", b=None))
    state.rows = {"articles": 2}
    assert PartitionState.from_json(state.to_json()) == state


@pytest.mark.parametrize(
    ("rel_path", "size", "parts"),
    [
        ("wire/2026-06-15/feed.jsonl", 100, 1),
        ("wire/2026-06-15/feed.jsonl", 1000, 1),
        ("wire/2026-06-15/feed.jsonl", 1001, 2),
        ("wire/2026-06-15/FEED.JSONL", 3500, 4),
        # A page is rebuilt whole, however large.
        ("cbn/2026-06-15/page-1.txt", 3500, 1),
    ],
)
def test_workers_take_a_large_jsonl_file_in_parts(rel_path: str, size: int, parts: int) -> None:
    shares = file_shares(rel_path, FileStamp("ab" * 32, size, 1), 1000)
    assert shares == [Share(i, parts) for i in range(parts)]


def test_a_file_of_unknown_size_goes_whole() -> None:
    assert file_shares("wire/2026-06-15/feed.jsonl", UNKNOWN, 1) == [Share()]
    assert file_shares("wire/2026-06-15/feed.jsonl", None, 1) == [Share()]


def test_files_are_split_only_as_far_as_the_workers_need() -> None:
    mib = 1024 * 1024
    # One day's feed of 5 MiB on 4 workers: parts of 640 KiB, two for each worker.
    assert part_bytes(5 * mib, 4) == 5 * mib // (4 * TASKS_PER_WORKER) == 640 * 1024
    feed = file_shares("wire/2026-06-15/feed.jsonl", FileStamp("ab" * 32, 5 * mib, 1), 640 * 1024)
    assert len(feed) == 8
    # A year of backfill: enough files to go round, none is split.
    assert part_bytes(365 * 5 * mib, 2) > 64 * mib
    # Small runs: parts never below PART_BYTES, each costs a task of its own.
    assert part_bytes(100 * 1024, 8) == part_bytes(0, 0) == PART_BYTES


def _sized(sizes: dict[str, int]) -> dict[str, FileStamp]:
    return {name: FileStamp("ab" * 32, size, 1) for name, size in sizes.items()}


def test_small_files_of_a_partition_share_a_task_and_large_ones_go_in_parts() -> None:
    sizes = {"a.jsonl": 300, "b.jsonl": 500, "c.txt": 400, "d.jsonl": 2500, "e.jsonl": 100}
    files = [f"wire/2026-06-15/{name}" for name in sizes]
    stamps = _sized({f"wire/2026-06-15/{name}": size for name, size in sizes.items()})
    batches = analysis_batches(files, stamps, 1000)
    assert batches == [
        [(0, Share()), (1, Share())],  # 800 bytes
        [(2, Share())],  # 1200 would be too many
        [(3, Share(0, 3))],
        [(3, Share(1, 3))],
        [(3, Share(2, 3))],
        [(4, Share())],
    ]
    # Every share of every file goes to exactly one task, in order.
    flat = [pair for batch in batches for pair in batch]
    assert [index for index, _ in flat] == [0, 1, 2, 3, 3, 3, 4]


def test_a_file_of_unknown_size_gets_a_task_of_its_own() -> None:
    files = ["wire/2026-06-15/a.jsonl", "wire/2026-06-15/b.jsonl", "wire/2026-06-15/c.jsonl"]
    stamps = {files[0]: FileStamp("ab" * 32, 10, 1), files[1]: UNKNOWN}
    assert analysis_batches(files, stamps, 1000) == [
        [(0, Share())],
        [(1, Share())],
        [(2, Share())],
    ]
    assert analysis_batches([], {}, 1000) == []
