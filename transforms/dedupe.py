"""Exact and near-duplicate articles: the same story republished, or a page delivered twice.

Each article gets a MinHash signature over character 5-grams of its body (whitespace and
punctuation removed, so layout and punctuation style do not matter). An article whose
body equals, or whose estimated Jaccard similarity reaches the threshold with, an
earlier article is flagged with that article's id in `duplicate_of`; nothing is deleted.
"Earlier" is the order (pub_date, source, raw_path, raw_article_idx), so the flag does
not depend on which partition happened to be processed first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np
import polars as pl
from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 5
DEFAULT_THRESHOLD = 0.7
_SEED = 20260615
# Fixed so that signatures stored in Parquet stay comparable across library upgrades.
_SCHEME = "affine32"
_NOISE = re.compile(r"[\s\W_]+")
ORDER_COLUMNS = ("pub_date", "source", "raw_path", "raw_article_idx")


# A shingle's hash: its code points read as a polynomial (wrapping in 64 bits), mixed by
# MurmurHash3's 64-bit finalizer, the high 32 bits kept. All of a text's shingles are
# hashed as one array, where SHA-1 took one call per shingle (four fifths of the time).
_POLY = np.uint64(0x100000001B3)
_FMIX64 = tuple(np.uint64(v) for v in (33, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 32))


def shingle_hashes(text: str) -> np.ndarray:
    """The 32-bit hash of each character SHINGLE-gram of the body, whitespace and
    punctuation removed; a body shorter than that is one shingle. Seeded with the
    shingle's length, so that a short body does not hash like a prefix of a long one."""
    squashed = _NOISE.sub("", text)
    points = np.frombuffer(squashed.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    width = min(SHINGLE, len(points))
    count = len(points) - width + 1 if width else 0
    hashes = np.full(count, width, dtype=np.uint64)
    for offset in range(width):
        hashes *= _POLY
        hashes += points[offset : offset + count]
    shift, m1, m2, keep = _FMIX64
    hashes ^= hashes >> shift
    hashes *= m1
    hashes ^= hashes >> shift
    hashes *= m2
    hashes ^= hashes >> shift
    return (hashes >> keep).astype(np.uint32)


@functools.cache
def _permutations() -> np.ndarray:
    """The permutation parameters every MinHash here uses. datasketch draws them from a new
    random generator for each MinHash it makes, which took longer than hashing a short
    article; made once and shared (read-only), as datasketch's own copies share them."""
    permutations = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations
    permutations.setflags(write=False)
    return permutations


def _new_minhash(hashvalues: np.ndarray | None = None) -> MinHash:
    return MinHash(
        num_perm=NUM_PERM,
        seed=_SEED,
        scheme=_SCHEME,
        hashvalues=hashvalues,
        permutations=_permutations(),
    )


# MurmurHash3's 32-bit finalizer, with which datasketch's "affine32" scheme mixes each hash
# before permuting it.
_FMIX32 = tuple(np.uint32(v) for v in (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16))


def _fmix32(hashes: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    mixed = hashes ^ (hashes >> s1)
    mixed *= m1
    mixed ^= mixed >> s2
    mixed *= m2
    mixed ^= mixed >> s3
    return mixed


def signature(text: str) -> list[int]:
    """MinHash of the body's character shingles, as plain ints for a Parquet list column.

    datasketch's `MinHash.update_batch` (scheme "affine32", with `shingle_hashes` as its
    hash function), without the list of Python ints datasketch takes: each shingle's hash
    mixed, then permuted by every `a * h + b` (wrapping in uint32) and the minimum kept,
    in one compiled loop (`transforms.minhash_kernel`) instead of a (NUM_PERM x shingles)
    array. A test holds the values to datasketch's own.
    """
    # Imported here: only a process that signs articles loads numba (0.4 s, 120 MB).
    from transforms.minhash_kernel import lower_minima

    a, b = _permutations()
    minima = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    lower_minima(minima, _fmix32(shingle_hashes(text)), a, b)
    return minima.tolist()


def _minhash(values: Sequence[int]) -> MinHash:
    return _new_minhash(np.asarray(values, dtype=np.uint32))


@functools.cache
def bands(threshold: float) -> tuple[int, int]:
    """The (bands, rows per band) datasketch's `MinHashLSH` picks for `threshold`, found by
    numerical integration (some 10 ms): once per threshold."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def _candidates(hashes: np.ndarray, is_new: np.ndarray, threshold: float) -> pl.DataFrame:
    """(later, earlier) positions whose signatures agree on every row of some LSH band, the
    later one new: what `MinHashLSH.query` gives for each article against those inserted
    before it, all bands at once."""
    b, r = bands(threshold)
    keys = []
    for band in range(b):
        rows = np.ascontiguousarray(hashes[:, band * r : (band + 1) * r])
        # Equal rows, equal keys: the band's values read as one opaque value each.
        _, key = np.unique(rows.view(np.dtype((np.void, rows.itemsize * r))), return_inverse=True)
        keys.append(key.reshape(-1))
    n = len(hashes)
    slots = pl.DataFrame(
        {
            "band": np.repeat(np.arange(b), n),
            "key": np.concatenate(keys) if keys else np.array([], dtype=np.int64),
            "position": np.tile(np.arange(n), b),
        }
    )
    new_slots = slots.filter(pl.Series(np.tile(is_new, b)))
    return (
        new_slots.join(slots, on=["band", "key"], suffix="_earlier")
        .filter(pl.col("position_earlier") < pl.col("position"))
        .select(later="position", earlier="position_earlier")
        .unique()
    )


def assign_duplicates(
    articles: pl.DataFrame,
    prior: pl.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> pl.DataFrame:
    """`articles` with `duplicate_of` set to the earliest earlier article it duplicates.

    `prior` holds already curated articles (same columns as ORDER_COLUMNS plus
    article_id, content_sha256, minhash) that the new ones may duplicate.

    What inserting the articles one by one in order into datasketch's `MinHashLSH`, each
    queried first, gives (a test holds the two together): an exact copy of the body
    points at the first article with it; otherwise, of the earlier articles sharing an
    LSH band whose estimated Jaccard similarity reaches `threshold`, the first. Done as
    array operations over the whole window, not one MinHash object and one index insert
    per article: a partition's window holds `DEDUPE_DAYS` of earlier articles.
    """
    columns = ["article_id", *ORDER_COLUMNS, "content_sha256", "minhash"]
    pool = pl.concat([prior.select(columns), articles.select(columns)], how="vertical_relaxed")
    pool = pool.unique("article_id", keep="last", maintain_order=True).sort(list(ORDER_COLUMNS))
    ids = pool["article_id"].to_list()
    is_new = pool["article_id"].is_in(articles["article_id"].implode()).to_numpy()
    found: dict[str, str] = {}
    if pool.height:
        hashes = np.asarray(pool["minhash"].to_list(), dtype=np.uint32).reshape(pool.height, -1)
        if hashes.shape[1] != NUM_PERM:
            raise ValueError(f"minhash signatures of {hashes.shape[1]} values, not {NUM_PERM}")
        pairs = _candidates(hashes, is_new, threshold)
        later = pairs["later"].to_numpy()
        earlier = pairs["earlier"].to_numpy()
        # `MinHash.jaccard`: equal values over all of them, as float64.
        agree = np.count_nonzero(hashes[later] == hashes[earlier], axis=1)
        near = pairs.filter(pl.Series(agree.astype(np.float64) / np.float64(NUM_PERM) >= threshold))
        first_near = dict(near.group_by("later").agg(pl.col("earlier").min()).iter_rows())
        first_copy = pool.with_row_index("position").select(
            pl.col("position").min().over("content_sha256")
        )
        for position, copy_of in enumerate(first_copy.to_series().to_list()):
            if not is_new[position]:
                continue
            if copy_of < position:
                found[ids[position]] = ids[copy_of]
            elif position in first_near:
                found[ids[position]] = ids[first_near[position]]
    return articles.with_columns(
        pl.col("article_id")
        .replace_strict(found, default=None, return_dtype=pl.String)
        .alias("duplicate_of")
    )
