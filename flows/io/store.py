"""Where the raw and curated trees live: a local folder or an object-store prefix.

A root is given as a local path or as an `s3://bucket/prefix` URL. A local root stays a
`pathlib.Path`, so everything local keeps its fsync and rename semantics untouched. A URL
becomes an `ObjectPath`: a key in a pyarrow S3 filesystem with the slice of pathlib's API
that the layout code uses (`/`, `name`, `glob`, `read_bytes`, `stat`, ...), so that code is
written once for both. What differs in kind (durable writes, renames, locks) is spelled out
by the functions below rather than hidden behind the same method names.

Object stores have no folders: a "folder" exists while some key starts with its prefix.
They have no rename either, and no locks; see `replace` and `lock_file`.

The connection comes from the standard AWS variables, read by every process that touches
the root (Dask workers included): AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
AWS_SESSION_TOKEN or AWS_PROFILE for credentials, AWS_REGION or AWS_DEFAULT_REGION, and
AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible server (MinIO, Ceph, ...).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import IO, Final, NamedTuple
from urllib.parse import urlsplit

import pyarrow.fs as pafs

SCHEMES: Final = ("s3",)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ENDPOINT_ENV = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
_REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Endpoints other than AWS rarely care about the region, but the SDK needs one.
_DEFAULT_REGION = "us-east-1"


class ObjectStat(NamedTuple):
    """The part of `os.stat_result` an object has (modification time: whole seconds on S3)."""

    st_size: int
    st_mtime_ns: int


@dataclass(frozen=True, order=True)
class ObjectPath:
    """A key in an object store, written `bucket/prefix/...`: a value, cheap to pass around
    and to pickle; the connection is made on first use, from this process's environment."""

    scheme: str
    key: str

    def __str__(self) -> str:
        return f"{self.scheme}://{self.key}"

    def __truediv__(self, other: str | PurePosixPath) -> ObjectPath:
        parts = [p for p in str(other).split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"{other!r}: no . or .. in object keys")
        return ObjectPath(self.scheme, "/".join([self.key, *parts]))

    # ------------------------------------------------------------------ pure path parts

    @property
    def bucket(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.key.split("/"))

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem

    @property
    def parent(self) -> ObjectPath:
        """The enclosing prefix; a bucket is its own parent, as `/` is."""
        head, _, _ = self.key.rpartition("/")
        return ObjectPath(self.scheme, head) if head else self

    def relative_to(self, other: ObjectPath) -> PurePosixPath:
        if other.scheme != self.scheme or not self.key.startswith(other.key + "/"):
            raise ValueError(f"{self} is not below {other}")
        return PurePosixPath(self.key[len(other.key) + 1 :])

    # ------------------------------------------------------------------ reading

    @property
    def fs(self) -> pafs.FileSystem:
        return filesystem(self.scheme, self.bucket)

    def info(self) -> pafs.FileInfo:
        return self.fs.get_file_info(self.key)

    def exists(self) -> bool:
        return bool(self.info().type != pafs.FileType.NotFound)

    def is_file(self) -> bool:
        return bool(self.info().type == pafs.FileType.File)

    def is_dir(self) -> bool:
        """True for a bucket, and for a prefix that some key lies below."""
        return bool(self.info().type == pafs.FileType.Directory)

    def stat(self) -> ObjectStat:
        info = self.info()
        if info.type != pafs.FileType.File:
            raise FileNotFoundError(f"{self}: no such object")
        return ObjectStat(int(info.size), int(info.mtime_ns or 0))

    def open(self, mode: str = "rb") -> IO[bytes]:
        if mode != "rb":
            raise ValueError("objects are opened for reading only; writes go through write_bytes")
        stream: IO[bytes] = self.fs.open_input_stream(self.key)
        return stream

    def read_bytes(self) -> bytes:
        with self.open() as fh:
            return bytes(fh.read())

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def entries(self, *, recursive: bool = True) -> list[pafs.FileInfo]:
        """Everything below this prefix (implied folders too), or nothing if there is none."""
        selector = pafs.FileSelector(self.key, allow_not_found=True, recursive=recursive)
        infos: list[pafs.FileInfo] = self.fs.get_file_info(selector)
        return infos

    def files(self) -> dict[str, ObjectStat]:
        """Every object below this prefix by its key relative to it: one listing, however
        many objects (S3 lists a thousand keys per request)."""
        start = len(self.key) + 1
        return {
            info.path[start:]: ObjectStat(int(info.size), int(info.mtime_ns or 0))
            for info in self.entries()
            if info.type == pafs.FileType.File
        }

    def iterdir(self) -> Iterator[ObjectPath]:
        for info in sorted(self.entries(recursive=False), key=lambda i: i.path):
            yield ObjectPath(self.scheme, info.path)

    def glob(self, pattern: str) -> Iterator[ObjectPath]:
        """pathlib's glob for patterns of plain segments (`*`, `?`, `[...]`, no `**`), over
        one recursive listing; implied folders match as pathlib's folders do."""
        wanted = pattern.split("/")
        start = len(self.key) + 1
        for info in sorted(self.entries(), key=lambda i: i.path):
            rel = info.path[start:].split("/")
            if len(rel) == len(wanted) and all(
                fnmatch.fnmatchcase(part, pat) for part, pat in zip(rel, wanted, strict=True)
            ):
                yield ObjectPath(self.scheme, info.path)

    # ------------------------------------------------------------------ writing

    def write_bytes(self, data: bytes) -> int:
        """One PUT: readers see the old object or the new one, never part of it."""
        with self.fs.open_output_stream(self.key) as fh:
            fh.write(data)
        return len(data)

    def write_text(self, text: str, encoding: str = "utf-8") -> int:
        return self.write_bytes(text.encode(encoding))

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.fs.delete_file(self.key)
        except FileNotFoundError:
            if not missing_ok:
                raise

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to do: a prefix exists as soon as a key below it does."""

    def rmdir(self) -> None:
        """Drop the empty-folder marker pyarrow leaves when a folder's last object goes."""
        self.fs.delete_dir(self.key)


Location = Path | ObjectPath


def is_url(text: str | Path) -> bool:
    return isinstance(text, str) and bool(_URL.match(text))


def parse_url(url: str) -> ObjectPath:
    """`s3://bucket/prefix` as an ObjectPath; anything the pipeline cannot use is refused
    here, with the reason, rather than on the first request."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(
            f"{url!r}: scheme {scheme!r} is not supported; use a local path or s3://bucket/prefix"
        )
    if "@" in parts.netloc:
        raise ValueError(
            f"{url!r}: credentials do not belong in the URL (it is logged and stored with "
            "each run); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r}: no query or fragment; the endpoint comes from AWS_ENDPOINT_URL")
    if not parts.netloc:
        raise ValueError(f"{url!r}: no bucket; write s3://bucket/prefix")
    return ObjectPath(scheme, parts.netloc) / parts.path


def location(root: str | Path) -> Location:
    """A root (or any path in it) as given on the command line, in settings or in a job."""
    if isinstance(root, Path):
        return root
    return parse_url(root) if is_url(root) else Path(root)


def root_setting(value: object) -> object:
    """A setting's value: URLs checked and kept as text, anything else a local Path."""
    if isinstance(value, str):
        return str(parse_url(value)) if is_url(value) else Path(value)
    return value


def absolute(root: str | Path) -> str:
    """A root that means the same from any working directory."""
    where = location(root)
    return str(where.resolve() if isinstance(where, Path) else where)


# ---------------------------------------------------------------------- connections


def _first_env(names: Iterable[str]) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def filesystem(scheme: str, bucket: str) -> pafs.FileSystem:
    """The connection for a bucket, made once per process and configuration."""
    if scheme != "s3":
        raise ValueError(f"scheme {scheme!r} is not supported")
    return _s3(
        bucket,
        _first_env(_ENDPOINT_ENV),
        _first_env(_REGION_ENV),
        # Part of the key so that a process whose credentials change gets a new client.
        os.environ.get("AWS_ACCESS_KEY_ID"),
        os.environ.get("AWS_PROFILE"),
    )


@lru_cache(maxsize=32)
def _region(bucket: str, endpoint: str | None, region: str | None) -> str:
    """The bucket's region: the configured one, the default for a custom endpoint, or what
    S3 says of the bucket (asked once per process)."""
    if region is not None:
        return region
    return _DEFAULT_REGION if endpoint else pafs.resolve_s3_region(bucket)


@lru_cache(maxsize=32)
def _s3(
    bucket: str, endpoint: str | None, region: str | None, _key_id: str | None, _profile: str | None
) -> pafs.S3FileSystem:
    # Delayed open: a small object goes up in one PUT instead of a multipart upload.
    return pafs.S3FileSystem(
        region=_region(bucket, endpoint, region),
        endpoint_override=endpoint,
        allow_delayed_open=True,
    )


def polars_storage_options(path: ObjectPath) -> dict[str, str]:
    """The connection `filesystem` makes, in the terms of polars' cloud readers (which take
    the credentials from the same AWS_* variables)."""
    endpoint = _first_env(_ENDPOINT_ENV)
    options = {"aws_region": _region(path.bucket, endpoint, _first_env(_REGION_ENV))}
    if endpoint:
        options["aws_endpoint_url"] = endpoint
        if endpoint.startswith("http://"):
            options["aws_allow_http"] = "true"
    return options


# ---------------------------------------------------------------------- what differs in kind


def make_root(root: Location) -> None:
    """Create a local root; an object-store root needs only its bucket to exist."""
    if isinstance(root, Path):
        root.mkdir(parents=True, exist_ok=True)
        return
    bucket = ObjectPath(root.scheme, root.bucket)
    if not bucket.is_dir():
        raise FileNotFoundError(
            f"bucket {bucket} does not exist (or these credentials cannot see it)"
        )


class RootNotWritable(OSError):
    """The curated root refuses writes: a read-only mount, missing permissions, a full disk."""


def check_writable(root: Location) -> None:
    """Fail before any work when a local root cannot take a new file, with the reason; an
    object store answers only when written to, so its roots are not probed."""
    if not isinstance(root, Path):
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".zhnews-probe-", dir=root)
        os.close(handle)
        os.unlink(probe)
    except OSError as err:
        raise RootNotWritable(
            err.errno, f"curated root {root} is not writable: {err.strerror or err}"
        ) from err


def write_durably(path: Location, data: bytes) -> None:
    """Write a whole file: fsynced on disk; on an object store one PUT, atomic by itself."""
    if isinstance(path, ObjectPath):
        path.write_bytes(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def replace(src: Location, dst: Location) -> None:
    """Move a staged file over its final name.

    On disk a rename, atomic for the file. An object store has no rename: the object is
    copied (one server-side request, so `dst` is old or new, never part of either), then
    the staged object deleted. A crash between the two leaves both; moving again is
    harmless, which is what lets a journal be rolled forward more than once.
    """
    if isinstance(src, Path) and isinstance(dst, Path):
        os.replace(src, dst)
        return
    if not (isinstance(src, ObjectPath) and isinstance(dst, ObjectPath)):
        raise TypeError(f"cannot move {src} to {dst}: not on one store")
    src.fs.copy_file(src.key, dst.key)
    src.unlink()


def sync_dir(path: Location) -> None:
    """Make renames in a folder durable; an object store has nothing to sync."""
    if isinstance(path, ObjectPath):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_tree(path: Location, *, ignore_errors: bool = False) -> None:
    if isinstance(path, Path):
        shutil.rmtree(path, ignore_errors=ignore_errors)
        return
    try:
        path.fs.delete_dir(path.key)
    except OSError:
        if not ignore_errors:
            raise


def relative(path: Location, root: Location) -> str:
    """`path` below `root`, as the POSIX text journals and listings record."""
    if isinstance(path, ObjectPath) and isinstance(root, ObjectPath):
        return path.relative_to(root).as_posix()
    if isinstance(path, Path) and isinstance(root, Path):
        return path.relative_to(root).as_posix()
    raise ValueError(f"{path} is not below {root}")


def lock_file(root: Location, name: str) -> Path:
    """Where the lock that keeps runs on one root apart lives.

    A local root holds its own lock file. An object store cannot hold a lock, so the lock
    of an object-store root is a local file in this machine's cache folder
    ($XDG_CACHE_HOME, else ~/.cache), named after the root's URL: runs on one machine take
    turns, but runs on the same root from different machines are not kept apart.
    """
    if isinstance(root, Path):
        return root / name
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "zhnews" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:16]
    return folder / f"{root.bucket}-{digest}{name}"
