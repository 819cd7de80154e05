"""Exact and near-duplicate flags, pointing at the earliest earlier article."""

from __future__ import annotations

import hashlib
import random
import re
import tracemalloc
from datetime import date

import numpy as np
import polars as pl
import pytest
from datasketch import MinHash, MinHashLSH

from tests.conftest import SAMPLE_PAGE
from transforms import dedupe
from transforms.dedupe import NUM_PERM, assign_duplicates, signature

STORY = (
    "中国人民银行今日开展1000亿元7天期逆回购操作，中标利率为1.4%，与此前持平。"
    "业内人士认为，央行此举旨在维护银行体系流动性合理充裕，稳定市场预期。"
    "鉴于今日有800亿元逆回购到期，央行实现净投放200亿元。"
)
EDITED = STORY.replace("业内人士认为", "市场人士指出")  # a light edit on republication
OTHER = (
    "国家统计局发布数据显示，5月份全国规模以上工业增加值同比增长5.6%，"
    "增速比上月加快0.3个百分点；社会消费品零售总额同比增长6.4%。"
)


def _row(article_id: str, text: str, day: date, source: str = "cbn", idx: int = 0) -> dict:
    return {
        "article_id": article_id,
        "pub_date": day,
        "source": source,
        "raw_path": f"{source}/{day}/page.txt",
        "raw_article_idx": idx,
        "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "minhash": signature(text),
    }


def _flags(new: list[dict], prior: list[dict] | None = None) -> dict[str, str | None]:
    new_frame = pl.DataFrame(new)
    prior_frame = pl.DataFrame(prior) if prior else new_frame.clear()
    out = assign_duplicates(new_frame, prior_frame)
    return dict(out.select("article_id", "duplicate_of").iter_rows())


def test_signature_is_deterministic_and_ignores_layout_and_punctuation():
    assert len(signature(STORY)) == NUM_PERM
    assert signature(STORY) == signature(STORY)
    spaced = STORY.replace("，", ", ").replace("。", ".\n")
    assert signature(spaced) == signature(STORY)
    assert signature(OTHER) != signature(STORY)


def test_exact_and_near_copies_point_at_the_earlier_article():
    day = date(2026, 6, 15)
    flags = _flags(
        [_row("b", STORY, day, "wire"), _row("c", EDITED, day, "xh"), _row("d", OTHER, day)],
        prior=[_row("a", STORY, date(2026, 6, 14))],
    )
    assert flags == {"b": "a", "c": "a", "d": None}


def test_within_a_batch_the_first_in_order_is_the_original():
    day = date(2026, 6, 15)
    flags = _flags([_row("late", STORY, day, idx=1), _row("early", EDITED, day, idx=0)])
    assert flags == {"early": None, "late": "early"}


def test_a_later_prior_article_is_never_the_original():
    # Already curated, but published after the new article: the new one is the original.
    flags = _flags(
        [_row("new", STORY, date(2026, 6, 15))],
        prior=[_row("later", STORY, date(2026, 6, 16))],
    )
    assert flags == {"new": None}


def test_unrelated_articles_on_one_topic_are_not_duplicates():
    day = date(2026, 6, 15)
    similar_topic = (
        "中国人民银行今日开展500亿元14天期逆回购操作，中标利率为1.55%。"
        "分析人士表示，跨月资金需求上升，央行适度加大投放力度。"
    )
    assert _flags([_row("a", STORY, day), _row("b", similar_topic, day, idx=1)]) == {
        "a": None,
        "b": None,
    }


_MASK64 = (1 << 64) - 1


def _shingle_hash(shingle: str) -> int:
    """The documented shingle hash, one shingle at a time in Python ints: a polynomial of
    the code points seeded with the length, MurmurHash3's fmix64, the high 32 bits."""
    value = len(shingle)
    for char in shingle:
        value = (value * 0x100000001B3 + ord(char)) & _MASK64
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _MASK64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _MASK64
    value ^= value >> 33
    return value >> 32


def _shingles(text: str) -> list[str]:
    squashed = re.sub(r"[\s\W_]+", "", text)
    if len(squashed) <= 5:
        return [squashed] if squashed else []
    return [squashed[i : i + 5] for i in range(len(squashed) - 4)]


def _datasketch(shingles: list[str]) -> list[int]:
    theirs = MinHash(num_perm=NUM_PERM, seed=20260615, scheme="affine32", hashfunc=_shingle_hash)
    if shingles:
        theirs.update_batch(shingles)
    return [int(v) for v in theirs.hashvalues]


def _long_text(chars: int) -> str:
    rng = random.Random(20260615)
    pieces = [STORY, EDITED, OTHER]
    text = ""
    while len(text) < chars:
        text += rng.choice(pieces) + str(rng.randrange(10**6))
    return text[:chars]


def test_a_long_body_has_the_signature_of_one_batch_in_bounded_memory():
    """Shingles are hashed in batches: the same minimum as one batch, in a fraction of the
    memory (one batch holds NUM_PERM 8-byte values per shingle: 200 MB here)."""
    text = _long_text(200_000)
    whole = _datasketch(_shingles(text))

    tracemalloc.start()
    try:
        batched = signature(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert batched == whole
    assert peak < 40 * 1024 * 1024


def test_minhashes_share_one_read_only_set_of_permutations():
    """Drawn once from the seed, as datasketch draws them for each MinHash it makes."""
    fresh = MinHash(num_perm=NUM_PERM, seed=20260615, scheme="affine32").permutations
    stored = dedupe._minhash(signature(STORY))
    assert np.array_equal(stored.permutations, fresh)
    assert stored.permutations is dedupe._new_minhash().permutations
    with pytest.raises(ValueError, match="read-only"):
        stored.permutations[0, 0] = 1
    assert stored.jaccard(dedupe._minhash(signature(STORY))) == 1.0


def test_shingle_hashes_are_the_documented_hash_of_each_shingle():
    """One array pass over the text gives each shingle's hash, in text order: Latin letters
    and digits, full-width forms, astral characters (four UTF-16 bytes, one code point)."""
    texts = [STORY + "ＡＢ股601328.SH、€5，😀𠀀", "一", "一二三四五", "一二三四五六", "", "，。 "]
    for text in texts:
        shingles = _shingles(text)
        assert dedupe.shingle_hashes(text).tolist() == [_shingle_hash(s) for s in shingles]
    # Distinct shingles, distinct hashes (no collision among a long text's 1,600).
    text = _long_text(20_000)
    assert len(set(dedupe.shingle_hashes(text).tolist())) == len(set(_shingles(text))) > 1_500


@pytest.mark.parametrize(
    "text",
    [
        "",
        "一",
        "一二三四五",
        "一二三四五六",
        STORY,
        OTHER + "ＡＢ股601328.SH、€5，😀𠀀",
        _long_text(5000),
    ],
)
def test_signature_is_datasketchs_minhash_of_the_shingles(text: str) -> None:
    """The arrays give what datasketch's own MinHash gives for the same shingles, with the
    documented shingle hash as its hash function, whatever their number (none, one,
    several batches)."""
    assert signature(text) == _datasketch(_shingles(text))


def _reference(articles: pl.DataFrame, prior: pl.DataFrame, threshold: float) -> dict:
    """The flags of datasketch's own index: each article queried, then inserted, in order."""
    columns = ["article_id", *dedupe.ORDER_COLUMNS, "content_sha256", "minhash"]
    pool = pl.concat([prior.select(columns), articles.select(columns)])
    pool = pool.unique("article_id", keep="last", maintain_order=True)
    pool = pool.sort(list(dedupe.ORDER_COLUMNS))
    new_ids = set(articles["article_id"].to_list())
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    minhashes: dict[str, MinHash] = {}
    first_by_content: dict[str, str] = {}
    rank: dict[str, int] = {}
    found: dict[str, str | None] = {}
    for position, row in enumerate(pool.iter_rows(named=True)):
        article_id = row["article_id"]
        rank[article_id] = position
        mh = dedupe._minhash(row["minhash"])
        if article_id in new_ids:
            exact = first_by_content.get(row["content_sha256"])
            near = [o for o in lsh.query(mh) if mh.jaccard(minhashes[o]) >= threshold]
            found[article_id] = exact or (min(near, key=rank.__getitem__) if near else None)
        first_by_content.setdefault(row["content_sha256"], article_id)
        lsh.insert(article_id, mh)
        minhashes[article_id] = mh
    return found


@pytest.mark.parametrize("threshold", [0.5, dedupe.DEFAULT_THRESHOLD, 0.9])
def test_the_flags_are_those_of_datasketchs_lsh_index(threshold: float) -> None:
    """Copies edited more or less (around every threshold), republished on later days and by
    other sources, exact copies, ids seen again: the same flags as datasketch's index."""
    rng = random.Random(int(threshold * 100))
    paragraphs = [
        p for p in SAMPLE_PAGE.read_text(encoding="utf-8").split("\n") if len(p.strip()) > 60
    ] + [STORY, OTHER]
    rows = []
    for n in range(160):
        text = rng.choice(paragraphs)
        chars = list(text)
        for _ in range(rng.choice([0, 0, 1, 2, 4, 8, 16, 40])):
            chars[rng.randrange(len(chars))] = rng.choice("的一是在不了有和人这中大为上个国")
        day = date(2026, 6, rng.randint(10, 16))
        rows.append(_row(f"id{n}", "".join(chars), day, rng.choice(["cbn", "wire"]), n))
    prior = pl.DataFrame([r for r in rows if r["pub_date"] < date(2026, 6, 15)] + rows[:3])
    new = pl.DataFrame([r for r in rows if r["pub_date"] >= date(2026, 6, 15)])
    expected = _reference(new, prior, threshold)
    flags = dict(
        assign_duplicates(new, prior, threshold=threshold)
        .select("article_id", "duplicate_of")
        .iter_rows()
    )
    assert flags == expected
    assert sum(v is not None for v in flags.values()) > len(flags) / 3  # copies were found
    assert sum(v is None for v in flags.values()) > 3  # and originals kept
