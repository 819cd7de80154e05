"""What each partition was last curated from, kept in the curated root beside the data.

`<curated>/_state/partitions/<source>/<YYYY-MM-DD>.json` is written in the same journaled
commit as the partition's Parquet files, so the record and the data never disagree. It
lives with the data, not in Prefect's database, so a new server or machine sees it too.
Plain JSON, never pickled: nothing read back is executed.

On an object store a raw file's modification time is its Last-Modified, in whole seconds:
an object overwritten by one of the same size within the same second as the version last
curated is taken as unchanged (`--force` rebuilds regardless).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import metadata
from pathlib import Path

import jieba

import flows
import schemas
import transforms
from flows.io.nlp import DICTIONARY_DIR
from flows.io.parquet import LAYOUTS
from flows.io.raw import Rejected, open_raw_file, read_failed
from flows.io.store import Location, ObjectPath, ObjectStat

STATE_DIR = "_state"
PARTITIONS_DIR = "partitions"
BACKFILLS_DIR = "backfills"
FORMAT = 1
_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileStamp:
    """A raw file's content hash, with the stat that lets the next run skip rehashing it."""

    sha256: str | None
    size: int
    mtime_ns: int


# No stamp: the file could not be read or stat'ed, so its partition stays stale and the next
# run tries it again.
UNKNOWN = FileStamp(None, -1, -1)


@dataclass(frozen=True)
class Versions:
    """What besides the raw files decides a partition's output."""

    pipeline: str
    dictionaries: str


@dataclass
class PartitionState:
    source: str
    pub_date: date
    files: dict[str, FileStamp]
    versions: Versions
    run_id: str
    curated_at: datetime
    rows: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = asdict(self)
        data["format"] = FORMAT
        data["pub_date"] = self.pub_date.isoformat()
        data["curated_at"] = self.curated_at.isoformat()
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> PartitionState:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError(f"state format {data.get('format')!r}")
        return cls(
            source=str(data["source"]),
            pub_date=date.fromisoformat(data["pub_date"]),
            files={name: FileStamp(**stamp) for name, stamp in data["files"].items()},
            versions=Versions(**data["versions"]),
            run_id=str(data["run_id"]),
            curated_at=datetime.fromisoformat(data["curated_at"]),
            rows={str(k): int(v) for k, v in data.get("rows", {}).items()},
        )


def _digest(paths: Iterable[Path], *extra: str) -> str:
    digest = hashlib.sha256()
    for item in extra:
        digest.update(item.encode("utf-8") + b"\0")
    for path in sorted(paths):
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@cache
def current_versions() -> Versions:
    """The project version plus a digest of the code that shapes the tables and of their
    file layout, and a digest of every dictionary: any change to them makes every
    partition stale, so the next run rewrites it."""
    code = [
        *Path(transforms.__file__).parent.glob("*.py"),
        *Path(schemas.__file__).parent.glob("*.py"),
        Path(flows.__file__).parent / "partition.py",
        Path(flows.__file__).parent / "io" / "nlp.py",
        Path(flows.__file__).parent / "io" / "raw.py",
    ]
    try:
        version = metadata.version("zhnews")
    except metadata.PackageNotFoundError:
        version = "0"
    jieba_dict = Path(jieba.__file__).with_name("dict.txt")
    return Versions(
        pipeline=f"{version}+{_digest(code, repr(sorted(LAYOUTS.items())))[:16]}",
        dictionaries=_digest([*DICTIONARY_DIR.glob("*.txt"), jieba_dict], jieba.__version__)[:16],
    )


def state_file(curated: Location, source: str, pub_date: date) -> Location:
    return curated / STATE_DIR / PARTITIONS_DIR / source / f"{pub_date.isoformat()}.json"


def recorded_partitions(curated: Location) -> set[tuple[str, date]]:
    """(source, date) of every partition with a state record."""
    found = set()
    for path in (curated / STATE_DIR / PARTITIONS_DIR).glob("*/*.json"):
        try:
            found.add((path.parent.name, date.fromisoformat(path.stem)))
        except ValueError:
            continue
    return found


def read_state(curated: Location, source: str, pub_date: date) -> PartitionState | None:
    """The partition's record, or None when there is none or it cannot be trusted."""
    try:
        return PartitionState.from_json(state_file(curated, source, pub_date).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _sha256_of(read: Callable[[int], bytes]) -> str:
    """The hash of what `read(n)` returns, block after block, until it returns nothing."""
    digest = hashlib.sha256()
    for block in iter(lambda: read(_HASH_BLOCK), b""):
        digest.update(block)
    return digest.hexdigest()


def _sha256(path: Location) -> str:
    with path.open("rb") as fh:
        return _sha256_of(fh.read)


def unread_stamp(reason: str) -> FileStamp:
    """The stamp of a file that is not read, for a reason that stays until the tree changes
    (a symlink out of the root or looping, a FIFO): stable, so its partition can be
    current, and unlike any content hash, so the day it becomes a readable file its
    partition is stale. Every run stamps every file again, so that day is noticed."""
    marker = hashlib.sha256(f"zhnews: not read: {reason}".encode()).hexdigest()
    return FileStamp(marker, -1, -1)


def listed_stamps(rejected: Iterable[Rejected]) -> dict[str, FileStamp]:
    """Stamps of the entries a listing rejected (`Partition.rejected`): a folder that could
    not be listed has no hash, so its partition stays stale until it can be."""
    return {
        r.raw_path: UNKNOWN if read_failed(r.reason, r.detail) else unread_stamp(r.reason)
        for r in rejected
    }


def _object_stats(raw_root: ObjectPath, files: list[str]) -> dict[str, ObjectStat]:
    """Size and time of each object from one listing per date folder, not a request each."""
    found: dict[str, ObjectStat] = {}
    for folder in sorted({"/".join(name.split("/")[:2]) for name in files}):
        try:
            below = (raw_root / folder).files()
        except OSError:
            continue  # those files get no stamp, so their partition stays stale
        found.update({f"{folder}/{name}": stat for name, stat in below.items()})
    return found


def _stamp_local(raw_root: Path, rel_path: str, old: FileStamp | None) -> FileStamp:
    """Opened like a read opens it (`open_raw_file`): nothing outside the root, nothing but
    a regular file, is ever read to be hashed."""
    opened = open_raw_file(raw_root, rel_path)
    if isinstance(opened, tuple):
        reason, detail = opened
        return UNKNOWN if read_failed(reason, detail) else unread_stamp(reason)
    try:
        if old and old.sha256 and (old.size, old.mtime_ns) == (opened.size, opened.mtime_ns):
            return old
        try:
            sha: str | None = _sha256_of(lambda n: os.read(opened.fd, n))
        except OSError:
            sha = None
        return FileStamp(sha, opened.size, opened.mtime_ns)
    finally:
        os.close(opened.fd)


def stamp_files(
    raw_root: Location, files: Iterable[str], previous: Mapping[str, FileStamp] | None = None
) -> dict[str, FileStamp]:
    """Hash each file, reusing the last hash when size and modification time are unchanged.

    A file that cannot be read gets no hash, so its partition is never taken as up to date.
    """
    stamps: dict[str, FileStamp] = {}
    previous = previous or {}
    files = list(files)
    if not isinstance(raw_root, ObjectPath):
        return {name: _stamp_local(raw_root, name, previous.get(name)) for name in files}
    listed = _object_stats(raw_root, files)
    for rel_path in files:
        path = raw_root / rel_path
        info = listed.get(rel_path)
        if info is None:
            stamps[rel_path] = UNKNOWN
            continue
        old = previous.get(rel_path)
        if old and old.sha256 and (old.size, old.mtime_ns) == (info.st_size, info.st_mtime_ns):
            stamps[rel_path] = old
            continue
        try:
            sha = _sha256(path)
        except OSError:
            sha = None
        stamps[rel_path] = FileStamp(sha, info.st_size, info.st_mtime_ns)
    return stamps


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BackfillMark:
    """A forced backfill in progress: partitions it already rewrote are skipped on rerun."""

    key: str
    started_at: datetime

    def to_json(self) -> bytes:
        return json.dumps(
            {"key": self.key, "started_at": self.started_at.isoformat()}, sort_keys=True
        ).encode("utf-8")


def backfill_file(curated: Location, key: str) -> Location:
    return curated / STATE_DIR / BACKFILLS_DIR / f"{key}.json"


def read_backfill(curated: Location, key: str) -> BackfillMark | None:
    try:
        data = json.loads(backfill_file(curated, key).read_bytes())
        return BackfillMark(str(data["key"]), datetime.fromisoformat(data["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
