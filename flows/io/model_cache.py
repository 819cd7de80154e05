"""Tables built from jieba's dictionary files, kept between runs as one marshal file each.

A run needs jieba's prefix dictionary, its IDF table and the commonest characters before
it can analyse anything. jieba reads its own prefix-dictionary cache with `marshal.load`
on the open file, which reads it a few bytes at a time: 1.1–1.7 s here for its 9 MB, where
`marshal.loads` of the whole file takes 0.3 s. The IDF table and the common characters are
parsed from text on every start (0.3 s each). Each table is cached under a key made of the
bytes of the files it is built from, jieba's version and Python's, so a changed dictionary
or an upgrade builds it afresh, and the new file replaces the old one. A cache that cannot
be read is rebuilt and one that cannot be written is skipped: the cache only ever costs a
rebuild, never a run.

marshal builds plain values and runs nothing; the files are this project's own, written
by the user's runs to the user's cache folder, never read from a run's input.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jieba

logger = logging.getLogger(__name__)

# Bump when a cached table's shape changes.
FORMAT = 1
_KEYED = re.compile(r"[0-9a-f]{32}\.marshal")


def cache_dir() -> Path:
    """`$ZHNEWS_MODEL_CACHE`, else `$XDG_CACHE_HOME/zhnews/models` (else ~/.cache/…)."""
    explicit = os.environ.get("ZHNEWS_MODEL_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zhnews" / "models"


def cache_key(name: str, sources: Sequence[Path]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in (name, str(FORMAT), jieba.__version__, sys.version):
        digest.update(part.encode("utf-8") + b"\0")
    for source in sources:
        data = source.read_bytes()
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def cached(name: str, sources: Sequence[Path], build: Callable[[], Any]) -> Any:
    """`build()`, or what it returned last time for the same `sources`.

    One file per `name`: give fixed files only (jieba's own), not ones that come and go,
    which would each replace the other's table.

    What `build` returns must be made of marshal's types (dicts, lists, tuples, sets,
    str, int, float); each call returns a new copy, so callers may change it.
    """
    path = cache_dir() / f"{name}-{cache_key(name, sources)}.marshal"
    try:
        return marshal.loads(path.read_bytes())
    except FileNotFoundError:
        pass
    except (OSError, EOFError, ValueError, TypeError) as err:
        logger.warning("model cache %s unreadable (%s): building it again", path, err)
    value = build()
    try:
        _write_atomically(path, marshal.dumps(value))
    except (OSError, ValueError) as err:
        logger.warning("model cache %s not written: %s", path, err)
        return value
    for old in path.parent.glob(f"{name}-*.marshal"):
        if old != path and _KEYED.fullmatch(old.name.removeprefix(f"{name}-")):
            old.unlink(missing_ok=True)
    return value


def _write_atomically(path: Path, data: bytes) -> None:
    """Concurrent runs each write their own file; the rename makes one of them the cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
