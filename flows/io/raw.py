"""The raw tree: `<raw>/<source>/<YYYY-MM-DD>/<file>`, listed and read defensively.

Nothing here raises for a bad file or folder: each one comes back as a `Rejected` with a
stable reason code, so a run always accounts for every file it saw. Nothing outside the
root is opened (symlinks are resolved and checked first), nothing but a regular file is
opened at all (a FIFO would block), and no more than the size limit is ever read.

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
from transforms.documents import is_jsonl
from transforms.repair import realign_gb18030
from transforms.textclean import control_ratio, normalize_newlines, strip_controls

SOURCE_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUPPORTED_SUFFIXES = (".txt", ".jsonl")
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
# Read only, never waiting on a FIFO, never through a link swapped in after the check
# (flags a platform lacks are left out).
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# The detail of an `unreadable` symlink: a fact about the tree, unlike a failed read.
BROKEN_LINK = "broken or looping symlink"
# Rejections that say nothing lasting about a file: the next run tries it again.
READ_FAILURES = frozenset({"unreadable", "changed_during_read"})

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
    """The unit of work and of replacement: one source on one publication date.

    `rejected`: entries of its folder the listing already rules out (a file name that is
    not UTF-8, a subfolder that cannot be listed); they are quarantined with the partition.
    """

    source: str
    pub_date: date
    files: tuple[str, ...]
    rejected: tuple[Rejected, ...] = ()

    @property
    def entries(self) -> int:
        return len(self.files) + len(self.rejected)


@dataclass
class RawListing:
    partitions: list[Partition] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    # Folders that could not be listed, as (source, date; None for a whole source): their
    # curated partitions are kept, since their files are unknown, not gone.
    unlisted: list[tuple[str, date | None]] = field(default_factory=list)

    @property
    def files_seen(self) -> int:
        """Every entry the listing reported: partition files, ignored and rejected ones."""
        return sum(p.entries for p in self.partitions) + len(self.ignored) + len(self.rejected)

    def keeps(self, source: str, pub_date: date) -> bool:
        """Whether the partition's folder was listed, or could not be (and so is kept)."""
        return (source, None) in self.unlisted or (source, pub_date) in self.unlisted


@dataclass(frozen=True)
class RawText:
    """A raw file decoded to clean text, with what lineage needs to know about its bytes:
    their hash, and the size and modification time of the file they were read from."""

    raw_path: str
    text: str
    encoding: str
    sha256: str
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True)
class _Bytes:
    """What was read of a file, with its size and modification time then."""

    data: bytes
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class OpenedFile:
    """A descriptor of a regular file inside the raw root, with its stat when opened."""

    fd: int
    size: int
    mtime_ns: int


class DecodeRejection(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def read_failed(reason: str, detail: str) -> bool:
    """Whether a rejection is an attempt that failed (a read, a listing), not a fact about
    the tree such as a broken link: a file so rejected is read again by the next run."""
    return reason in READ_FAILURES and not detail.startswith(BROKEN_LINK)


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _error(err: OSError | RuntimeError) -> str:
    return f"{type(err).__name__}: {getattr(err, 'strerror', None) or err}"


def _resolve_inside(path: Path, root: Path) -> Path | tuple[str, str]:
    """What a path leads to, or why it cannot be followed: it is missing, a link that loops
    or dangles, or it leads out of the raw root."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as err:
        if path.is_symlink():
            return "unreadable", f"{BROKEN_LINK}: {_error(err)}"
        return "unreadable", _error(err)
    if not target.is_relative_to(root):
        return "symlink_outside_root", "link leaves the raw root"
    return target


def _link_problem(path: Path, root: Path) -> tuple[str, str] | None:
    """Why a symlink in the listing cannot be followed."""
    target = _resolve_inside(path, root)
    return target if isinstance(target, tuple) else None


def _entries(folder: Path) -> list[Path] | OSError:
    try:
        return sorted(folder.iterdir())
    except OSError as err:
        return err


def _files_below(folder: Path) -> Iterator[Path]:
    """Every non-hidden file under a folder we will not curate, for the quarantine log (a
    folder that cannot be listed stands for its unknown files)."""
    unlisted: list[Path] = []

    def note(err: OSError) -> None:
        unlisted.append(Path(err.filename))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=note, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name
        for name in dirnames:
            if Path(dirpath, name).is_symlink():
                yield Path(dirpath) / name
    yield from unlisted


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def printable_path(rel_path: str) -> str:
    """A path as text any table can hold: bytes of a name that is not UTF-8 (an archive
    unpacked from another system) appear as `\\xNN` escapes."""
    return os.fsencode(rel_path).decode("utf-8", "backslashreplace")


def _valid_name(rel_path: str) -> bool:
    try:
        rel_path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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

    def reject(entry: Path, reason: str, detail: str, source: str | None = None) -> None:
        listing.rejected.append(Rejected(printable_path(_rel(entry, root)), reason, detail, source))

    def reject_tree(entry: Path, reason: str, detail: str, source: str | None = None) -> None:
        if entry.is_symlink() or not entry.is_dir():
            reject(entry, reason, detail, source)
            return
        for path in _files_below(entry):
            reject(path, reason, detail, source)

    sources = _entries(root)
    if isinstance(sources, OSError):
        raise sources
    for source_dir in sources:
        if _is_hidden(source_dir):
            listing.ignored.append(printable_path(_rel(source_dir, root)))
            continue
        problem = _link_problem(source_dir, root) if source_dir.is_symlink() else None
        if problem is not None:
            reject(source_dir, *problem)
            continue
        if not source_dir.is_dir():
            reject_tree(source_dir, "bad_layout", "files belong in <source>/<YYYY-MM-DD>/")
            continue
        source = source_dir.name
        if not SOURCE_SLUG.match(source):
            detail = f"source {printable_path(source)!r} is not a lowercase slug"
            reject_tree(source_dir, "bad_source", detail)
            continue
        date_dirs = _entries(source_dir)
        if isinstance(date_dirs, OSError):
            reject(source_dir, "unreadable", f"folder cannot be listed: {_error(date_dirs)}")
            listing.unlisted.append((source, None))
            continue
        for date_dir in date_dirs:
            if _is_hidden(date_dir):
                listing.ignored.append(printable_path(_rel(date_dir, root)))
                continue
            problem = _link_problem(date_dir, root) if date_dir.is_symlink() else None
            if problem is not None:
                reject(date_dir, *problem, source)
                continue
            if not date_dir.is_dir():
                reject_tree(
                    date_dir, "bad_layout", "files belong in <source>/<YYYY-MM-DD>/", source
                )
                continue
            pub_date = _folder_date(date_dir.name)
            if pub_date is None:
                detail = f"folder {printable_path(date_dir.name)!r} is not YYYY-MM-DD"
                reject_tree(date_dir, "bad_date", detail, source)
                continue
            if (since and pub_date < since) or (until and pub_date > until):
                continue
            found = _partition_files(date_dir, root)
            listing.ignored.extend(found.ignored)
            rejected = tuple(
                Rejected(path, reason, detail, source, pub_date)
                for path, reason, detail in found.rejected
            )
            if found.unlisted:  # its files are unknown: the curated partition stays as is
                listing.unlisted.append((source, pub_date))
                listing.rejected.extend(rejected)
            elif found.files or rejected:
                listing.partitions.append(Partition(source, pub_date, tuple(found.files), rejected))
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


@dataclass
class _Found:
    files: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    unlisted: bool = False


def _partition_files(date_dir: Path, root: Path) -> _Found:
    """Files of one partition, nested ones included so that reading can reject them.

    A name that is not UTF-8 cannot be stored in any table, so its file is rejected here
    (`bad_name`); a folder that cannot be listed is rejected as `unreadable`.
    """
    found = _Found()

    def unreadable(err: OSError) -> None:
        folder = Path(err.filename)
        found.unlisted = found.unlisted or folder == date_dir
        rel = printable_path(_rel(folder, root))
        found.rejected.append((rel, "unreadable", f"folder cannot be listed: {_error(err)}"))

    def add(rel: str) -> None:
        if _valid_name(rel):
            found.files.append(rel)
        else:
            found.rejected.append(
                (printable_path(rel), "bad_name", "file name is not UTF-8; rename the file")
            )

    for dirpath, dirnames, filenames in os.walk(date_dir, onerror=unreadable, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if name.startswith("."):
                found.ignored.append(printable_path(_rel(here / name, root)))
            elif (here / name).is_symlink():
                add(_rel(here / name, root))
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink()
        )
        for name in sorted(filenames):
            if name.startswith("."):
                found.ignored.append(printable_path(_rel(here / name, root)))
            else:
                add(_rel(here / name, root))
    found.files.sort()
    found.ignored.sort()
    return found


def _jsonl_newlines(text: str) -> str:
    """JSON Lines end at LF (or CRLF) only: U+2028, U+2029 and a lone CR may sit inside a
    record's strings, so they must not split it. NEL, a control that stripping would drop,
    becomes U+2028, which a record's text turns into a line break like any other."""
    return text.replace("\r\n", "\n").replace("\x85", "\u2028")


def decode_bytes(data: bytes, *, jsonl: bool = False) -> tuple[str, str]:
    """Clean text and the encoding it was read with; `DecodeRejection` when it is not text.

    `jsonl`: keep the line breaks JSON strings may hold (see `_jsonl_newlines`).
    """
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
    text = _jsonl_newlines(text) if jsonl else normalize_newlines(text)
    ratio = control_ratio(text)
    if ratio > _MAX_CONTROL_RATIO:
        raise DecodeRejection("not_text", f"{ratio:.0%} control characters")
    cleaned = strip_controls(text)
    if not cleaned.strip():
        raise DecodeRejection("empty", "only whitespace")
    return cleaned, encoding


def _legacy(data: bytes) -> tuple[str, str] | None:
    best = from_bytes(data, cp_isolation=_LEGACY_ENCODINGS).best()
    return None if best is None else (str(best), best.encoding)


def _decode_mixed(data: bytes) -> tuple[str, str] | None:
    """Text whose lines are partly UTF-8 and partly one legacy encoding (files concatenated
    from two systems), decoded line by line; None when the file is not such a mixture.

    UTF-8 lines count as evidence only when they hold non-ASCII text: an ASCII line reads
    the same in every encoding tried.
    """
    if b"\x00" in data:
        return None
    lines = data.split(b"\n")
    legacy: list[int] = []
    utf8_text = False
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            legacy.append(i)
        else:
            utf8_text = utf8_text or not line.isascii()
    if not legacy or not utf8_text:
        return None
    found = _legacy(b"\n".join(lines[i] for i in legacy))
    if found is None:
        return None
    codec, legacy_lines = found[1], set(legacy)
    try:
        decoded = [
            line.decode(codec if i in legacy_lines else "utf-8") for i, line in enumerate(lines)
        ]
    except UnicodeDecodeError:
        return None
    return "\n".join(decoded), f"utf-8+{codec}"


def _decode_without_bom(data: bytes) -> tuple[str, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # UTF-16 without a BOM is valid UTF-8 when it is mostly ASCII: NULs give it away.
        if b"\x00" not in data or control_ratio(normalize_newlines(text)) <= _MAX_CONTROL_RATIO:
            return text, "utf-8"
    found = _decode_mixed(data) or _legacy(data)
    if found is not None:
        return found
    if b"\x00" in data:
        raise DecodeRejection("not_text", "binary content")
    # GB18030 that lost a byte here and there is still GB18030: read it with the damage
    # marked, and let realignment repair what it can.
    lossy = data.decode("gb18030", errors="replace")
    if lossy.count("\ufffd") <= _MAX_LOSSY_RATIO * len(lossy):
        return lossy, "gb18030"
    raise DecodeRejection("decode_error", "not UTF-8, GB18030, Big5 or UTF-16")


def _layout_problem(rel_path: str) -> tuple[str, str] | None:
    """Why a path is not a file directly in `<source>/<YYYY-MM-DD>/`, if it is not."""
    parts = Path(rel_path).parts
    if len(parts) != 3 or ".." in parts or Path(rel_path).is_absolute():
        return "bad_layout", "files belong directly in <source>/<YYYY-MM-DD>/"
    return None


def _refusal(suffix: str, size: int, max_bytes: int) -> tuple[str, str] | None:
    """Why a file of this suffix and size is not read at all, if it is not."""
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        return "unsupported_type", f"suffix {suffix or '(none)'!r} is not .txt or .jsonl"
    if size > max_bytes:
        return "too_large", f"{size} bytes exceeds the {max_bytes}-byte limit"
    return None


def open_raw_file(raw_root: Path, rel_path: str) -> OpenedFile | tuple[str, str]:
    """Open a file of a partition for reading, or say why it is not opened.

    The path is resolved first (a symlink may point anywhere) and must stay inside the
    root; only a regular file is opened, without blocking and without following a link
    swapped in meanwhile, so a FIFO or device is never waited on or read.
    """
    bad_layout = _layout_problem(rel_path)
    if bad_layout is not None:
        return bad_layout
    root = raw_root.resolve()
    target = _resolve_inside(root / rel_path, root)
    if isinstance(target, tuple):
        return target
    try:
        if not stat.S_ISREG(target.stat().st_mode):
            return "not_regular_file", "not a regular file"
        fd = os.open(target, _OPEN_FLAGS)
    except OSError as err:
        return "unreadable", _error(err)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return "not_regular_file", "not a regular file"
    return OpenedFile(fd, info.st_size, info.st_mtime_ns)


def read_fd(fd: int, limit: int) -> bytes:
    """At most `limit` bytes from the current position, however much the file holds."""
    chunks = []
    left = limit
    while left > 0:
        chunk = os.read(fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_local(raw_root: Path, rel_path: str, max_bytes: int) -> _Bytes | tuple[str, str]:
    """The bytes of a file with the size and time they were read at, or why not.

    The size is checked before anything is read, and no more than it (plus one byte, to
    see growth) is read. A file whose size or modification time moved while it was read
    is `changed_during_read`: its bytes may mix two versions.
    """
    opened = open_raw_file(raw_root, rel_path)
    if isinstance(opened, tuple):
        return opened
    try:
        refused = _refusal(Path(rel_path).suffix, opened.size, max_bytes)
        if refused is not None:
            return refused
        try:
            data = read_fd(opened.fd, opened.size + 1)
            after = os.fstat(opened.fd)
        except OSError as err:
            return "unreadable", _error(err)
    finally:
        os.close(opened.fd)
    if len(data) != opened.size or (after.st_size, after.st_mtime_ns) != (
        opened.size,
        opened.mtime_ns,
    ):
        return "changed_during_read", (
            f"{opened.size} bytes when opened, {len(data)} read, {after.st_size} after"
        )
    return _Bytes(data, opened.size, opened.mtime_ns)


def _read_object(path: ObjectPath, max_bytes: int) -> _Bytes | tuple[str, str]:
    try:
        info = path.info()
    except OSError as err:
        return "unreadable", _error(err)
    if info.type == pafs.FileType.NotFound:
        return "unreadable", "FileNotFoundError: no such object"
    if info.type != pafs.FileType.File:
        return "not_regular_file", "not a regular file"
    size = int(info.size)
    refused = _refusal(path.suffix, size, max_bytes)
    if refused is not None:
        return refused
    try:
        with path.open("rb") as fh:
            data = fh.read(size + 1)
    except OSError as err:
        return "unreadable", _error(err)
    if len(data) != size:
        return "changed_during_read", f"{size} bytes listed, {len(data)} read"
    return _Bytes(data, size, int(info.mtime_ns or 0))


def read_raw_file(
    raw_root: Location, rel_path: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> RawText | Rejected:
    """Read and decode one file of a partition, or say precisely why it cannot be."""
    parts = Path(rel_path).parts
    source = parts[0]
    pub_date = _folder_date(parts[1]) if len(parts) > 1 else None

    def reject(reason: str, detail: str) -> Rejected:
        return Rejected(printable_path(rel_path), reason, detail, source, pub_date)

    bad_layout = _layout_problem(rel_path)
    if bad_layout is not None:
        return reject(*bad_layout)
    if not _valid_name(rel_path):
        return reject("bad_name", "file name is not UTF-8; rename the file")
    if isinstance(raw_root, ObjectPath):
        read = _read_object(raw_root / rel_path, max_bytes)
    else:
        read = _read_local(raw_root, rel_path, max_bytes)
    if isinstance(read, tuple):
        return reject(*read)
    data = read.data
    try:
        text, encoding = decode_bytes(data, jsonl=is_jsonl(rel_path))
    except DecodeRejection as err:
        return reject(err.reason, err.detail)
    if encoding in _GB_FAMILY and b"?" in data:
        realigned, repairs = realign_gb18030(data, common_chars())
        if repairs:
            text = strip_controls(normalize_newlines(realigned))
            encoding = f"{encoding}+realigned"
    sha256 = hashlib.sha256(data).hexdigest()
    return RawText(rel_path, text, encoding, sha256, read.size, read.mtime_ns)
