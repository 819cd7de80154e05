"""The raw tree: `<raw>/<source>/<YYYY-MM-DD>/<file>`, listed and read defensively.

Nothing here raises for a bad file: each one comes back as a `Rejected` with a stable
reason code, so a run always accounts for every file it saw.

The root may be an object-store prefix (`flows.io.store`): the same rules apply to its
keys, split at `/`, except those about symlinks, which an object store does not have, and
empty folders, which it cannot hold.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import filetype
import pyarrow.fs as pafs
from charset_normalizer import from_bytes

from flows.io.nlp import common_chars
from flows.io.store import Location, ObjectPath
from transforms.repair import realign_gb18030
from transforms.textclean import control_ratio, normalize_newlines, strip_controls

SOURCE_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUPPORTED_SUFFIXES = (".txt", ".jsonl")
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024

# Encodings Chinese publishers use besides UTF-8 (tried first) and the BOM-marked ones.
_LEGACY_ENCODINGS = ["gb18030", "big5", "big5hkscs", "utf_16_le", "utf_16_be"]
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAX_CONTROL_RATIO = 0.05
_MAX_LOSSY_RATIO = 0.01
_GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312", "cp936"})


@dataclass(frozen=True)
class Rejected:
    """A raw file, or one record of it, that cannot be curated, and why."""

    raw_path: str
    reason: str
    detail: str
    source: str | None = None
    pub_date: date | None = None
    record: int | None = None


@dataclass(frozen=True)
class Partition:
    """The unit of work and of replacement: one source on one publication date."""

    source: str
    pub_date: date
    files: tuple[str, ...]


@dataclass
class RawListing:
    partitions: list[Partition] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RawText:
    """A raw file decoded to clean text, with what lineage needs to know about its bytes."""

    raw_path: str
    text: str
    encoding: str
    sha256: str


class DecodeRejection(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve(strict=False).relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _files_below(folder: Path, root: Path) -> Iterator[Path]:
    """Every non-hidden file under a folder we will not curate, for the quarantine log."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name
        for name in dirnames:
            if Path(dirpath, name).is_symlink():
                yield Path(dirpath) / name


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def list_raw(
    raw_root: Location, *, since: date | None = None, until: date | None = None
) -> RawListing:
    """Partitions within [since, until], plus every file the layout itself rules out."""
    if isinstance(raw_root, ObjectPath):
        return _list_objects(raw_root, since, until)
    root = raw_root.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"raw root {raw_root} is not a directory")
    listing = RawListing()

    def reject_tree(entry: Path, reason: str, detail: str, source: str | None = None) -> None:
        if entry.is_symlink() or not entry.is_dir():
            listing.rejected.append(Rejected(_rel(entry, root), reason, detail, source))
            return
        for path in _files_below(entry, root):
            listing.rejected.append(Rejected(_rel(path, root), reason, detail, source))

    for source_dir in sorted(root.iterdir()):
        if _is_hidden(source_dir):
            listing.ignored.append(_rel(source_dir, root))
            continue
        if source_dir.is_symlink() and not _inside(source_dir, root):
            reject_tree(source_dir, "symlink_outside_root", "link leaves the raw root")
            continue
        if not source_dir.is_dir():
            reject_tree(source_dir, "bad_layout", "files belong in <source>/<YYYY-MM-DD>/")
            continue
        source = source_dir.name
        if not SOURCE_SLUG.match(source):
            reject_tree(source_dir, "bad_source", f"source {source!r} is not a lowercase slug")
            continue
        for date_dir in sorted(source_dir.iterdir()):
            if _is_hidden(date_dir):
                listing.ignored.append(_rel(date_dir, root))
                continue
            if date_dir.is_symlink() and not _inside(date_dir, root):
                reject_tree(date_dir, "symlink_outside_root", "link leaves the raw root", source)
                continue
            if not date_dir.is_dir():
                reject_tree(
                    date_dir, "bad_layout", "files belong in <source>/<YYYY-MM-DD>/", source
                )
                continue
            pub_date = _folder_date(date_dir.name)
            if pub_date is None:
                reject_tree(
                    date_dir, "bad_date", f"folder {date_dir.name!r} is not YYYY-MM-DD", source
                )
                continue
            if (since and pub_date < since) or (until and pub_date > until):
                continue
            files, ignored = _partition_files(date_dir, root)
            listing.ignored.extend(ignored)
            if files:
                listing.partitions.append(Partition(source, pub_date, tuple(files)))
    # Date-major order: a backfill runs oldest first, and near-duplicates point backwards.
    listing.partitions.sort(key=lambda p: (p.pub_date, p.source))
    return listing


def _hidden_at(parts: tuple[str, ...]) -> int | None:
    return next((i for i, part in enumerate(parts) if part.startswith(".")), None)


def _list_objects(root: ObjectPath, since: date | None, until: date | None) -> RawListing:
    """`list_raw` over one listing of every key below the root, folder by folder."""
    if not root.is_dir():
        raise FileNotFoundError(f"raw root {root} is not a directory (no key below it)")
    listing = RawListing()
    keys = sorted(tuple(name.split("/")) for name in root.files())

    def reject_below(
        prefix: tuple[str, ...], reason: str, detail: str, source: str | None = None
    ) -> None:
        for key in keys:
            if key[: len(prefix)] == prefix and _hidden_at(key[len(prefix) :]) is None:
                listing.rejected.append(Rejected("/".join(key), reason, detail, source))

    for source in sorted({key[0] for key in keys}):
        if source.startswith("."):
            listing.ignored.append(source)
            continue
        below = [key for key in keys if key[0] == source]
        if (source,) in below:  # an object beside the source folders
            listing.rejected.append(
                Rejected(source, "bad_layout", "files belong in <source>/<YYYY-MM-DD>/")
            )
        if not SOURCE_SLUG.match(source):
            detail = f"source {source!r} is not a lowercase slug"
            for key in below:
                if len(key) > 1 and _hidden_at(key[1:]) is None:
                    listing.rejected.append(Rejected("/".join(key), "bad_source", detail))
            continue
        for folder in sorted({key[1] for key in below if len(key) > 1}):
            prefix = (source, folder)
            if folder.startswith("."):
                listing.ignored.append("/".join(prefix))
                continue
            if prefix in below:
                listing.rejected.append(
                    Rejected(
                        "/".join(prefix),
                        "bad_layout",
                        "files belong in <source>/<YYYY-MM-DD>/",
                        source,
                    )
                )
            pub_date = _folder_date(folder)
            if pub_date is None:
                if any(len(key) > 2 and key[:2] == prefix for key in below):
                    reject_below(prefix, "bad_date", f"folder {folder!r} is not YYYY-MM-DD", source)
                continue
            if (since and pub_date < since) or (until and pub_date > until):
                continue
            files: list[str] = []
            ignored: set[str] = set()
            for key in below:
                if len(key) < 3 or key[:2] != prefix:
                    continue
                hidden = _hidden_at(key[2:])
                if hidden is None:
                    files.append("/".join(key))
                else:  # a hidden folder is noted once, as on disk; a hidden file by itself
                    ignored.add("/".join(key[: 2 + hidden + 1]))
            listing.ignored.extend(sorted(ignored))
            if files:
                listing.partitions.append(Partition(source, pub_date, tuple(sorted(files))))
    listing.partitions.sort(key=lambda p: (p.pub_date, p.source))
    return listing


def _folder_date(name: str) -> date | None:
    if not DATE_FOLDER.match(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def _partition_files(date_dir: Path, root: Path) -> tuple[list[str], list[str]]:
    """Files of one partition, nested ones included so that reading can reject them."""
    files, ignored = [], []
    for dirpath, dirnames, filenames in os.walk(date_dir, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if name.startswith("."):
                ignored.append(_rel(here / name, root))
            elif (here / name).is_symlink():
                files.append(_rel(here / name, root))
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink()
        )
        for name in sorted(filenames):
            (ignored if name.startswith(".") else files).append(_rel(here / name, root))
    return sorted(files), sorted(ignored)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Clean text and the encoding it was read with; `DecodeRejection` when it is not text."""
    if not data:
        raise DecodeRejection("empty", "file has no bytes")
    text: str | None = None
    encoding = ""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data.decode(codec), codec
            except UnicodeDecodeError as err:
                raise DecodeRejection("decode_error", f"{codec} BOM but {err}") from err
            break
    if text is None:
        kind = filetype.guess(data[:8192])
        if kind is not None:
            raise DecodeRejection("not_text", f"content is {kind.mime}")
        text, encoding = _decode_without_bom(data)
    text = normalize_newlines(text)
    ratio = control_ratio(text)
    if ratio > _MAX_CONTROL_RATIO:
        raise DecodeRejection("not_text", f"{ratio:.0%} control characters")
    cleaned = strip_controls(text)
    if not cleaned.strip():
        raise DecodeRejection("empty", "only whitespace")
    return cleaned, encoding


def _decode_without_bom(data: bytes) -> tuple[str, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # UTF-16 without a BOM is valid UTF-8 when it is mostly ASCII: NULs give it away.
        if b"\x00" not in data or control_ratio(normalize_newlines(text)) <= _MAX_CONTROL_RATIO:
            return text, "utf-8"
    best = from_bytes(data, cp_isolation=_LEGACY_ENCODINGS).best()
    if best is not None:
        return str(best), best.encoding
    if b"\x00" in data:
        raise DecodeRejection("not_text", "binary content")
    # GB18030 that lost a byte here and there is still GB18030: read it with the damage
    # marked, and let realignment repair what it can.
    lossy = data.decode("gb18030", errors="replace")
    if lossy.count("\ufffd") <= _MAX_LOSSY_RATIO * len(lossy):
        return lossy, "gb18030"
    raise DecodeRejection("decode_error", "not UTF-8, GB18030, Big5 or UTF-16")


def _local_size(root: Path, path: Path) -> int | tuple[str, str]:
    """The size of a regular file inside the root, or why it is not one."""
    try:
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError) as err:
                return "unreadable", f"broken or looping symlink: {err}"
            if not target.is_relative_to(root):
                return "symlink_outside_root", "link leaves the raw root"
        info = path.stat()
    except OSError as err:
        return "unreadable", f"{type(err).__name__}: {err.strerror or err}"
    if not stat.S_ISREG(info.st_mode):
        return "not_regular_file", "not a regular file"
    return info.st_size


def _object_size(path: ObjectPath) -> int | tuple[str, str]:
    try:
        info = path.info()
    except OSError as err:
        return "unreadable", f"{type(err).__name__}: {err}"
    if info.type == pafs.FileType.NotFound:
        return "unreadable", "FileNotFoundError: no such object"
    if info.type != pafs.FileType.File:
        return "not_regular_file", "not a regular file"
    return int(info.size)


def read_raw_file(
    raw_root: Location, rel_path: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> RawText | Rejected:
    """Read and decode one file of a partition, or say precisely why it cannot be."""
    parts = Path(rel_path).parts
    source = parts[0]
    pub_date = _folder_date(parts[1]) if len(parts) > 1 else None

    def reject(reason: str, detail: str) -> Rejected:
        return Rejected(rel_path, reason, detail, source, pub_date)

    if len(parts) != 3 or ".." in parts or Path(rel_path).is_absolute():
        return reject("bad_layout", "files belong directly in <source>/<YYYY-MM-DD>/")
    path: Location
    if isinstance(raw_root, ObjectPath):
        path = raw_root / rel_path
        size = _object_size(path)
    else:
        root = raw_root.resolve()
        path = root / rel_path
        size = _local_size(root, path)
    if isinstance(size, tuple):
        return reject(*size)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return reject(
            "unsupported_type", f"suffix {path.suffix or '(none)'!r} is not .txt or .jsonl"
        )
    if size > max_bytes:
        return reject("too_large", f"{size} bytes exceeds the {max_bytes}-byte limit")
    try:
        data = path.read_bytes()
    except OSError as err:
        return reject(
            "unreadable", f"{type(err).__name__}: {getattr(err, 'strerror', None) or err}"
        )
    try:
        text, encoding = decode_bytes(data)
    except DecodeRejection as err:
        return reject(err.reason, err.detail)
    if encoding in _GB_FAMILY and b"?" in data:
        realigned, repairs = realign_gb18030(data, common_chars())
        if repairs:
            text = strip_controls(normalize_newlines(realigned))
            encoding = f"{encoding}+realigned"
    return RawText(rel_path, text, encoding, hashlib.sha256(data).hexdigest())
