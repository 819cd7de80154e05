"""Roots on an object store: URLs, object operations, and the journaled commit on S3,
against a real S3-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path, PurePosixPath

import polars as pl
import pytest

from flows.io import parquet, store
from flows.io.parquet import (
    JOURNAL_DIR,
    STAGING_DIR,
    commit,
    existing_partitions,
    partition_file,
    read_window,
    recover,
    write_run,
)
from flows.io.store import ObjectPath, location
from tests.s3 import Bucket

JUNE_15 = date(2026, 6, 15)
JUNE_16 = date(2026, 6, 16)


def articles(pub_date: date, headlines: list[str], source: str = "cbn") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "article_id": [f"{source}-{pub_date}-{i}" for i in range(len(headlines))],
            "source": [source] * len(headlines),
            "pub_date": [pub_date] * len(headlines),
            "headline": headlines,
        },
        schema={
            "article_id": pl.String,
            "source": pl.String,
            "pub_date": pl.Date,
            "headline": pl.String,
        },
    )


def headlines(path: store.Location) -> list[str]:
    return parquet.read_file(path)["headline"].to_list()


# --------------------------------------------------------------------------- URLs


def test_urls_become_object_paths_and_everything_else_stays_a_path() -> None:
    root = location("s3://bucket/curated/zh/")
    assert root == ObjectPath("s3", "bucket/curated/zh")
    assert str(root) == "s3://bucket/curated/zh"
    assert location("S3://bucket") == ObjectPath("s3", "bucket")
    assert location("data/curated") == Path("data/curated")
    assert location(Path("/srv/raw")) == Path("/srv/raw")
    assert location("s3:/not-a-url") == Path("s3:/not-a-url")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs://bucket/prefix", "not supported"),
        ("s3://KEY:SECRET@bucket/prefix", "credentials do not belong in the URL"),
        ("s3://bucket/prefix?endpoint_override=localhost", "no query"),
        ("s3:///prefix", "no bucket"),
        ("s3://bucket/a/../b", r"no \. or \.\."),
    ],
)
def test_urls_the_pipeline_cannot_use_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        location(url)


def test_object_paths_take_pathlib_apart_the_same_way() -> None:
    root = ObjectPath("s3", "bucket/curated")
    path = root / "articles/pub_date=2026-06-15" / "cbn.parquet"
    local = Path("/curated/articles/pub_date=2026-06-15/cbn.parquet")
    assert (path.name, path.stem, path.suffix) == (local.name, local.stem, local.suffix)
    assert path.parent.name == local.parent.name
    assert path.relative_to(root) == PurePosixPath("articles/pub_date=2026-06-15/cbn.parquet")
    assert store.relative(path, root) == "articles/pub_date=2026-06-15/cbn.parquet"
    assert ObjectPath("s3", "bucket").parent == ObjectPath("s3", "bucket")
    with pytest.raises(ValueError, match="not below"):
        root.relative_to(path)
    assert sorted([root / "b", root / "a/z", root / "a"]) == [root / "a", root / "a/z", root / "b"]


def test_absolute_roots_keep_urls_and_resolve_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/tmp")
    assert store.absolute("s3://bucket/raw") == "s3://bucket/raw"
    assert store.absolute("raw") == str(Path("/tmp/raw").resolve())


def test_the_lock_of_an_object_store_root_is_a_local_file_per_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    one = store.lock_file(location("s3://bucket/curated"), ".zhnews.lock")
    other = store.lock_file(location("s3://bucket/other"), ".zhnews.lock")
    assert one.parent == tmp_path / "cache" / "zhnews" / "locks"
    assert one.parent.is_dir()
    assert one != other
    assert one == store.lock_file(location("s3://bucket/curated/"), ".zhnews.lock")
    assert store.lock_file(tmp_path / "c", ".zhnews.lock") == tmp_path / "c" / ".zhnews.lock"


# --------------------------------------------------------------------------- objects


def test_object_operations_on_a_real_server(s3_bucket: Bucket) -> None:
    root = location(s3_bucket.url("tree"))
    assert isinstance(root, ObjectPath)
    assert not root.exists()
    (root / "a/b/one.txt").write_bytes(b"one")
    (root / "a/two.json").write_text("{}")
    s3_bucket.put("tree/.hidden", b"h")

    assert s3_bucket.get("tree/a/b/one.txt") == b"one"
    assert (root / "a/b/one.txt").read_bytes() == b"one"
    assert (root / "a/two.json").read_text() == "{}"
    assert root.is_dir() and (root / "a").is_dir() and (root / "a/b").is_dir()
    assert (root / "a/two.json").is_file() and not (root / "a").is_file()
    assert not (root / "a/missing.txt").exists()
    stat = (root / "a/b/one.txt").stat()
    assert stat.st_size == 3 and stat.st_mtime_ns > 0
    with pytest.raises(FileNotFoundError):
        (root / "a/missing.txt").stat()
    with pytest.raises(FileNotFoundError):
        (root / "a/missing.txt").read_bytes()
    assert [p.name for p in root.iterdir()] == [".hidden", "a"]
    assert [str(p) for p in root.glob("*/*.json")] == [s3_bucket.url("tree/a/two.json")]
    assert [p.name for p in root.glob("a/*")] == ["b", "two.json"]
    assert list(root.glob("nothing/*")) == []
    assert set(root.files()) == {".hidden", "a/b/one.txt", "a/two.json"}

    (root / "a/b/one.txt").unlink()
    (root / "a/b/one.txt").unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError):
        (root / "a/b/one.txt").unlink()
    assert "tree/a/b/one.txt" not in s3_bucket.names()
    store.remove_tree(root / "a")
    assert s3_bucket.names("tree/a") == []


def test_make_root_needs_the_bucket_to_exist(s3_bucket: Bucket) -> None:
    store.make_root(location(s3_bucket.url("new/prefix")))  # a prefix needs no creating
    with pytest.raises(FileNotFoundError, match="does not exist"):
        store.make_root(location("s3://no-such-bucket-here/curated"))


# --------------------------------------------------------------------------- commits


@pytest.fixture
def curated(s3_bucket: Bucket) -> ObjectPath:
    root = location(s3_bucket.url("curated"))
    assert isinstance(root, ObjectPath)
    return root


def leftovers(bucket: Bucket) -> list[str]:
    """Objects left in staging or the journal (not the folders themselves, which stay on
    disk too)."""
    return [k for k in bucket.names("curated/") if k.startswith((STAGING_DIR, JOURNAL_DIR))]


def test_commit_writes_hive_files_that_readers_see_on_s3(
    curated: ObjectPath, s3_bucket: Bucket
) -> None:
    commit(
        curated,
        {
            partition_file(curated, "articles", JUNE_15, "cbn"): articles(
                JUNE_15, ["央行", "长江"]
            ),
            partition_file(curated, "articles", JUNE_16, "xinhua"): articles(
                JUNE_16, ["国务院"], "xinhua"
            ),
            curated / "_state/partitions/cbn/2026-06-15.json": b'{"ok": 1}',
        },
    )

    assert s3_bucket.names("curated/") == [
        "_state/partitions/cbn/2026-06-15.json",
        "articles/pub_date=2026-06-15/cbn.parquet",
        "articles/pub_date=2026-06-16/xinhua.parquet",
    ]
    for table in (
        s3_bucket.read_table("curated/articles"),
        s3_bucket.scan_polars("curated/articles"),
    ):
        table = table.sort("article_id")
        assert table["headline"].to_list() == ["央行", "长江", "国务院"]
        assert table["pub_date"].to_list() == [JUNE_15, JUNE_15, JUNE_16]
    inside = pl.read_parquet(s3_bucket.get("curated/articles/pub_date=2026-06-15/cbn.parquet"))
    assert "pub_date" not in inside.columns
    assert s3_bucket.get("curated/_state/partitions/cbn/2026-06-15.json") == b'{"ok": 1}'
    assert existing_partitions(curated, ["articles"]) == {("cbn", JUNE_15), ("xinhua", JUNE_16)}


def test_replacing_and_deleting_leave_no_folders_behind(
    curated: ObjectPath, s3_bucket: Bucket
) -> None:
    cbn_15 = partition_file(curated, "articles", JUNE_15, "cbn")
    cbn_16 = partition_file(curated, "articles", JUNE_16, "cbn")
    commit(curated, {cbn_15: articles(JUNE_15, ["旧"]), cbn_16: articles(JUNE_16, ["副刊"])})
    commit(curated, {cbn_15: articles(JUNE_15, ["新", "又"])})
    assert headlines(cbn_15) == ["新", "又"]

    commit(curated, {cbn_16: None})

    assert [k for k in s3_bucket.names("curated/", markers=True) if "2026-06-16" in k] == []
    assert existing_partitions(curated, ["articles"]) == {("cbn", JUNE_15)}
    assert leftovers(s3_bucket) == []


def test_read_window_and_runs_on_s3_match_a_local_root(curated: ObjectPath, tmp_path: Path) -> None:
    local = tmp_path / "curated"
    for root in (curated, local):
        commit(
            root,
            {
                partition_file(root, "articles", JUNE_15, "cbn"): articles(JUNE_15, ["一"]),
                partition_file(root, "articles", JUNE_15, "xh"): articles(JUNE_15, ["二"], "xh"),
                partition_file(root, "articles", JUNE_16, "cbn"): articles(JUNE_16, ["三"]),
            },
        )
        write_run(root, pl.DataFrame({"run_id": ["r-1"], "n": [1]}), "r-1", JUNE_16)
    for window in [
        {"start": JUNE_15, "end": JUNE_16},
        {"start": JUNE_15, "end": JUNE_15, "exclude": ("cbn", JUNE_15)},
        {"start": date(2026, 7, 1), "end": date(2026, 7, 2)},
    ]:
        on_s3 = read_window(curated, "articles", ["headline", "pub_date"], **window)  # type: ignore[arg-type]
        on_disk = read_window(local, "articles", ["headline", "pub_date"], **window)  # type: ignore[arg-type]
        assert (on_s3 is None and on_disk is None) or on_s3.equals(on_disk), window  # type: ignore[union-attr]
    run = parquet.run_file(curated, "r-1", JUNE_16)
    assert parquet.read_file(run).rows() == [("r-1", 1)]


# --------------------------------------------------------------------------- crashes


@pytest.fixture
def three_tables(curated: ObjectPath) -> dict[str, store.Location]:
    """An old version of one partition in three tables, and a fourth file to delete."""
    paths = {t: partition_file(curated, t, JUNE_15, "cbn") for t in ("a", "b", "c", "d")}
    commit(curated, {p: articles(JUNE_15, [f"旧版{t}"]) for t, p in paths.items()})
    return paths


def crash_after_moves(monkeypatch: pytest.MonkeyPatch, allowed: int) -> list[str]:
    """Let `allowed` object moves through, then fail the way a killed worker would."""
    real = store.replace
    moved: list[str] = []

    def replace(src: store.Location, dst: store.Location) -> None:
        if len(moved) >= allowed:
            raise OSError("simulated crash")
        real(src, dst)
        moved.append(str(dst))

    monkeypatch.setattr(store, "replace", replace)
    return moved


def test_a_crash_after_the_journal_is_rolled_forward_by_recover(
    curated: ObjectPath,
    three_tables: dict[str, store.Location],
    s3_bucket: Bucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new: dict[store.Location, pl.DataFrame | bytes | None] = {
        three_tables[t]: articles(JUNE_15, [f"新版{t}", "追加"]) for t in ("a", "b", "c")
    }
    new[three_tables["d"]] = None
    with monkeypatch.context() as m:
        moved = crash_after_moves(m, allowed=1)
        with pytest.raises(OSError, match="simulated crash"):
            commit(curated, new)

    # A reader now sees one table new and the rest old, each file whole.
    assert moved == [str(three_tables["a"])]
    table = s3_bucket.read_table("curated/a")
    assert table["headline"].to_list() == ["新版a", "追加"]
    for t in ("b", "c", "d"):
        assert s3_bucket.read_table(f"curated/{t}")["headline"].to_list() == [f"旧版{t}"]
    (journal,) = [k for k in s3_bucket.names("curated/") if k.startswith(JOURNAL_DIR)]
    spec = json.loads(s3_bucket.get(f"curated/{journal}"))
    assert [final for _, final in spec["moves"]] == [
        "a/pub_date=2026-06-15/cbn.parquet",
        "b/pub_date=2026-06-15/cbn.parquet",
        "c/pub_date=2026-06-15/cbn.parquet",
    ]
    assert spec["deletes"] == ["d/pub_date=2026-06-15/cbn.parquet"]

    assert recover(curated) == 1

    for t in ("a", "b", "c"):
        assert s3_bucket.read_table(f"curated/{t}")["headline"].to_list() == [f"新版{t}", "追加"]
    assert s3_bucket.names("curated/d/") == []
    assert leftovers(s3_bucket) == []
    assert recover(curated) == 0


def test_a_crash_between_copy_and_delete_copies_again_harmlessly(
    curated: ObjectPath,
    three_tables: dict[str, store.Location],
    s3_bucket: Bucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_unlink = ObjectPath.unlink
    seen: list[str] = []

    def unlink(self: ObjectPath, missing_ok: bool = False) -> None:
        if f"/{STAGING_DIR}/" in self.key and "/b/" in self.key:
            seen.append(self.key)
            raise OSError("simulated crash after the copy")
        real_unlink(self, missing_ok)

    new = {p: articles(JUNE_15, [f"新版{t}"]) for t, p in three_tables.items()}
    with monkeypatch.context() as m:
        m.setattr(ObjectPath, "unlink", unlink)
        with pytest.raises(OSError, match="after the copy"):
            commit(curated, dict(new))
    assert len(seen) == 1
    # b was copied over its final key; its staged copy and the journal are still there.
    assert s3_bucket.read_table("curated/b")["headline"].to_list() == ["新版b"]
    assert s3_bucket.read_table("curated/c")["headline"].to_list() == ["旧版c"]
    assert any(k.endswith("b/pub_date=2026-06-15/cbn.parquet") for k in leftovers(s3_bucket))

    assert recover(curated) == 1

    for t in three_tables:
        assert s3_bucket.read_table(f"curated/{t}")["headline"].to_list() == [f"新版{t}"]
    assert leftovers(s3_bucket) == []


def test_a_crash_before_the_journal_leaves_the_old_files(
    curated: ObjectPath,
    three_tables: dict[str, store.Location],
    s3_bucket: Bucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = s3_bucket.etags("curated/")

    def no_journal(*args: object) -> None:
        raise OSError("simulated crash before the journal")

    with monkeypatch.context() as m:
        m.setattr(parquet, "_write_journal", no_journal)
        with pytest.raises(OSError, match="before the journal"):
            commit(curated, {p: articles(JUNE_15, ["不应出现"]) for p in three_tables.values()})
    staged = leftovers(s3_bucket)
    assert staged and all(k.startswith(STAGING_DIR) for k in staged)
    assert {k: v for k, v in s3_bucket.etags("curated/").items() if k not in staged} == before

    assert recover(curated) == 0

    assert s3_bucket.etags("curated/") == before
    for t in ("a", "b", "c", "d"):
        assert s3_bucket.read_table(f"curated/{t}")["headline"].to_list() == [f"旧版{t}"]


def test_a_handwritten_journal_on_s3_is_rolled_forward(
    curated: ObjectPath, three_tables: dict[str, store.Location], s3_bucket: Bucket
) -> None:
    """The object-store format is the on-disk one: `_journal/<token>.json` naming
    `_staging/<token>/...` moves, relative to the root."""
    token = "0123456789abcdef0123456789abcdef"
    moves = []
    for t in ("b", "c"):
        final_rel = f"{t}/pub_date=2026-06-15/cbn.parquet"
        parquet.write_frame(
            articles(JUNE_15, [f"手写{t}"]), curated / STAGING_DIR / token / final_rel
        )
        moves.append([f"{STAGING_DIR}/{token}/{final_rel}", final_rel])
    s3_bucket.put(
        f"curated/{JOURNAL_DIR}/{token}.json", json.dumps({"moves": moves, "deletes": []})
    )

    assert recover(curated) == 1

    assert headlines(three_tables["b"]) == ["手写b"]
    assert headlines(three_tables["c"]) == ["手写c"]
    assert headlines(three_tables["a"]) == ["旧版a"]
    assert leftovers(s3_bucket) == []
