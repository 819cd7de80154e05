"""Assembling the curated tables: dtypes, counts, offsets and lineage."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import polars as pl
import pytest

import transforms.tables
from transforms.documents import RawDocument, document_articles
from transforms.pages import ArticleDraft, Paragraph
from transforms.tables import (
    ARTICLE_TABLES,
    TABLE_DTYPES,
    SourceArticle,
    build_tables,
    make_article_id,
    sha256_text,
)
from transforms.textclean import clean_text

PUB = date(2026, 6, 15)
PAGE_PATH = "cbn/2026-06-15/cbn-page-2026-06-15.txt"
JSONL_PATH = "cbn/2026-06-15/feed.jsonl"
RUN_ID = "run-0001"


@pytest.fixture(scope="module")
def articles(sample_page_text: str) -> list[SourceArticle]:
    page = RawDocument(PAGE_PATH, "cbn", PUB, clean_text(sample_page_text), "utf-8", "ab" * 32)
    feed = "\n".join(
        json.dumps(r, ensure_ascii=False)
        for r in [
            {
                "id": "cbn-001",
                "title": "工商银行首推“短剧贷”",
                "url": "https://www.cb.com.cn/a/1",
                "text": "新华社北京6月16日电（记者 王希）\n工商银行(601398.SH)郑州分行于2026年2月"
                "在省内首推“短剧贷”，最高额度300万元。\n视觉中国/图",
            },
            {"text": "一季度，乡村消费品零售额增长3.1%，比上年同期提高0.3个百分点。"},
        ]
    )
    jsonl = RawDocument(JSONL_PATH, "cbn", PUB, feed, "utf-8", "cd" * 32)
    page_articles, _ = document_articles(page)
    feed_articles, _ = document_articles(jsonl)
    return page_articles + feed_articles


@pytest.fixture(scope="module")
def tables(articles: list[SourceArticle], nlp) -> dict[str, pl.DataFrame]:  # type: ignore[no-untyped-def]
    return build_tables(articles, run_id=RUN_ID, nlp=nlp)


def _texts(tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    return dict(tables["articles"].select("article_id", "text").iter_rows())


# --- ids and hashes ----------------------------------------------------------------------


def test_make_article_id_is_deterministic() -> None:
    a = make_article_id(PAGE_PATH, "article:0")
    assert a == make_article_id(PAGE_PATH, "article:0")
    assert len(a) == 20
    assert all(c in "0123456789abcdef" for c in a)
    assert a == hashlib.sha256(f"{PAGE_PATH}\x00article:0".encode()).hexdigest()[:20]


@pytest.mark.parametrize(
    ("other_path", "other_locator"),
    [
        (PAGE_PATH, "article:1"),
        ("cbn/2026-06-16/cbn-page-2026-06-15.txt", "article:0"),
        (JSONL_PATH, "line:1"),
        # The separator keeps path and locator apart: no ambiguity from concatenation.
        (PAGE_PATH + "article:", "0"),
    ],
)
def test_make_article_id_differs_by_location(other_path: str, other_locator: str) -> None:
    assert make_article_id(PAGE_PATH, "article:0") != make_article_id(other_path, other_locator)


def test_sha256_text_hashes_utf8() -> None:
    assert sha256_text("微短剧") == hashlib.sha256("微短剧".encode()).hexdigest()


# --- schema of the frames ----------------------------------------------------------------


def test_every_table_has_the_fixed_schema(tables: dict[str, pl.DataFrame]) -> None:
    assert tuple(tables) == ARTICLE_TABLES
    for name, frame in tables.items():
        assert dict(frame.schema) == TABLE_DTYPES[name], name
        assert frame.height > 0, name


def test_empty_batch_has_the_same_schema(nlp) -> None:  # type: ignore[no-untyped-def]
    empty = build_tables([], run_id=RUN_ID, nlp=nlp)
    for name, frame in empty.items():
        assert frame.is_empty()
        assert dict(frame.schema) == TABLE_DTYPES[name]


def test_build_tables_is_deterministic(
    articles: list[SourceArticle],
    tables: dict[str, pl.DataFrame],
    nlp,  # type: ignore[no-untyped-def]
) -> None:
    again = build_tables(articles, run_id=RUN_ID, nlp=nlp)
    for name in ARTICLE_TABLES:
        assert again[name].equals(tables[name]), name


def test_textrank_batches_change_no_keyword(
    articles: list[SourceArticle],
    tables: dict[str, pl.DataFrame],
    nlp,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TextRank ranks many articles' graphs at once; ranking each article alone (a batch
    limit of one edge) gives the same keywords and weights."""
    monkeypatch.setattr(transforms.tables, "TEXTRANK_BATCH_EDGES", 1)
    alone = build_tables(articles, run_id=RUN_ID, nlp=nlp)["keywords"]
    assert alone.filter(pl.col("method") == "textrank").height >= 10 * (len(articles) - 1)
    assert alone.equals(tables["keywords"])


# --- articles ----------------------------------------------------------------------------


def test_articles_rows_and_lineage(
    articles: list[SourceArticle], tables: dict[str, pl.DataFrame]
) -> None:
    rows = tables["articles"].to_dicts()
    assert [r["article_id"] for r in rows] == [a.article_id for a in articles]
    for row, art in zip(rows, articles, strict=True):
        assert row["text"] == art.draft.body
        assert row["headline"] == art.draft.headline
        assert row["authors"] == list(art.draft.authors)
        assert row["dateline"] == art.draft.dateline
        assert (row["raw_path"], row["raw_record"], row["raw_sha256"]) == (
            art.raw_path,
            art.raw_record,
            art.raw_sha256,
        )
        assert (row["external_id"], row["url"]) == (art.external_id, art.url)
        assert row["n_chars"] == len(row["text"])
        assert row["n_paragraphs"] == len(art.draft.paragraphs)
        assert row["content_sha256"] == sha256_text(row["text"])
        assert row["run_id"] == RUN_ID
        assert row["pub_date"] == PUB
    assert [r["raw_record"] for r in rows] == [None, None, 1, 2]
    assert rows[2]["external_id"] == "cbn-001"
    assert rows[2]["authors"] == ["王希"]


@pytest.mark.parametrize(
    ("table", "column"), [("sentences", "n_sentences"), ("tokens", "n_tokens")]
)
def test_article_counts_match_child_tables(
    tables: dict[str, pl.DataFrame], table: str, column: str
) -> None:
    counts = dict(tables[table].group_by("article_id").len().iter_rows())
    for article_id, n in tables["articles"].select("article_id", column).iter_rows():
        assert counts[article_id] == n


# --- paragraphs --------------------------------------------------------------------------


def test_paragraphs_index_every_paragraph_in_order(
    articles: list[SourceArticle], tables: dict[str, pl.DataFrame]
) -> None:
    for art in articles:
        rows = tables["paragraphs"].filter(pl.col("article_id") == art.article_id).to_dicts()
        assert [r["paragraph_idx"] for r in rows] == list(range(len(art.draft.paragraphs)))
        for row, para in zip(rows, art.draft.paragraphs, strict=True):
            assert (row["kind"], row["text"]) == (para.kind, para.text)
            assert row["raw_lines"] == list(para.raw_lines)
            assert row["raw_line_start"] == min(para.raw_lines)
            assert row["raw_line_end"] == max(para.raw_lines)


def test_paragraph_without_raw_lines_has_null_range(nlp) -> None:  # type: ignore[no-untyped-def]
    draft = ArticleDraft(
        "央行宣布降准",
        (),
        None,
        (
            Paragraph("headline", "央行宣布降准", ()),
            Paragraph("body", "释放长期资金约1万亿元。", (2,)),
        ),
    )
    art = SourceArticle(draft, "a" * 20, "cbn", PUB, JSONL_PATH, "ab" * 32, "utf-8", raw_record=2)
    paragraphs = build_tables([art], run_id=RUN_ID, nlp=nlp)["paragraphs"]
    assert paragraphs.select("raw_line_start", "raw_line_end", "raw_lines").rows() == [
        (None, None, []),
        (2, 2, [2]),
    ]


# --- sentences, tokens, entities ---------------------------------------------------------


def _sentence_spans(tables: dict[str, pl.DataFrame]) -> dict[tuple[str, int], tuple[int, int]]:
    """(article_id, sentence_idx) -> the sentence's (start, end) in its article text."""
    return {
        (a, i): (s, e)
        for a, i, s, e in tables["sentences"]
        .select("article_id", "sentence_idx", "start", "end")
        .iter_rows()
    }


def test_sentences_index_text_and_stay_in_a_body_paragraph(tables: dict[str, pl.DataFrame]) -> None:
    texts = _texts(tables)
    kinds = {
        (a, i): (k, t)
        for a, i, k, t in tables["paragraphs"]
        .select("article_id", "paragraph_idx", "kind", "text")
        .iter_rows()
    }
    for row in tables["sentences"].iter_rows(named=True):
        text = texts[row["article_id"]]
        assert text[row["start"] : row["end"]] == row["text"]
        assert "\n" not in row["text"]
        kind, paragraph_text = kinds[(row["article_id"], row["paragraph_idx"])]
        assert kind == "body"
        assert row["text"] in paragraph_text


def test_sentence_idx_is_dense_per_article(tables: dict[str, pl.DataFrame]) -> None:
    for (_,), group in tables["sentences"].group_by("article_id"):
        assert group["sentence_idx"].to_list() == list(range(group.height))
    for (_,), group in tables["tokens"].group_by("article_id"):
        assert group["token_idx"].to_list() == list(range(group.height))
    for (_,), group in tables["entities"].group_by("article_id"):
        assert group["entity_idx"].to_list() == list(range(group.height))


def test_tokens_index_text_and_cover_every_non_blank_char(tables: dict[str, pl.DataFrame]) -> None:
    texts = _texts(tables)
    spans = _sentence_spans(tables)
    covered: dict[str, set[int]] = {a: set() for a in texts}
    for row in tables["tokens"].iter_rows(named=True):
        article_id = row["article_id"]
        assert texts[article_id][row["start"] : row["end"]] == row["token"]
        s, e = spans[(article_id, row["sentence_idx"])]
        assert s <= row["start"] < row["end"] <= e
        chars = set(range(row["start"], row["end"]))
        assert not covered[article_id] & chars
        covered[article_id] |= chars
    for article_id, text in texts.items():
        assert {i for i, ch in enumerate(text) if not ch.isspace()} == covered[article_id]


def test_entities_index_text_within_their_sentence(tables: dict[str, pl.DataFrame]) -> None:
    texts = _texts(tables)
    spans = _sentence_spans(tables)
    for row in tables["entities"].iter_rows(named=True):
        assert texts[row["article_id"]][row["start"] : row["end"]] == row["text"]
        s, e = spans[(row["article_id"], row["sentence_idx"])]
        assert s <= row["start"] < row["end"] <= e


def test_entities_of_the_jsonl_article(
    articles: list[SourceArticle], tables: dict[str, pl.DataFrame]
) -> None:
    rows = (
        tables["entities"]
        .filter(pl.col("article_id") == articles[2].article_id)
        .filter(pl.col("entity_type").is_in(["TICKER", "MONEY", "DATE"]))
        .select("entity_type", "text", "normalized")
        .rows()
    )
    assert rows == [
        ("TICKER", "601398.SH", "601398.SH"),
        ("DATE", "2026年2月", "2026-02"),
        ("MONEY", "300万元", "3000000 CNY"),
    ]


def test_page_pullquotes_and_captions_are_not_in_article_text(
    tables: dict[str, pl.DataFrame],
) -> None:
    texts = _texts(tables)
    repeats = tables["paragraphs"].filter(pl.col("kind").is_in(["pullquote", "caption", "deck"]))
    assert repeats.height >= 3
    for article_id, text in repeats.select("article_id", "text").iter_rows():
        assert texts[article_id].count(text) <= 1
        assert text not in texts[article_id].split("\n")


def test_keywords_ranked_per_article_and_method(tables: dict[str, pl.DataFrame]) -> None:
    keywords = tables["keywords"]
    assert set(keywords["method"].unique()) == {"tfidf", "textrank"}
    for (_, _), group in keywords.group_by("article_id", "method", maintain_order=True):
        assert group["rank"].to_list() == list(range(1, group.height + 1))
        assert group.height <= 10


def test_keyword_rows_are_each_articles_tfidf_then_its_textrank() -> None:
    """The columnar TF-IDF ranks as `tfidf_from_counts` does, article by article, float for
    float, ties to the word; each article's TextRank rows follow its TF-IDF rows."""
    import random

    from transforms.keywords import Keyword, tfidf_from_counts

    rng = random.Random(20260615)
    words = [f"词{i}" for i in range(40)]
    day = date(2026, 6, 15)
    ids = [f"a{i}" for i in range(30)]
    counts = {
        a: {w: rng.choice([1, 1, 2, 3, 7]) for w in rng.sample(words, rng.randrange(0, 25))}
        for a in ids
    }
    # A few IDF values only, and whole counts: many exact ties.
    idf = {w: rng.choice([1.5, 2.0, 2.0, 3.25]) for w in words[:-5]}
    terms = pl.DataFrame(
        [(a, w, n) for a, found in counts.items() for w, n in found.items()],
        schema=transforms.tables.TERMS_DTYPES,
        orient="row",
    )
    ranked = {
        a: [Keyword(w, "textrank", r, 1.0 / r) for r, w in enumerate(rng.sample(words, 3), 1)]
        for a in ids[::2]
    }
    textrank = pl.DataFrame(
        [(a, day, k.keyword, k.method, k.rank, k.weight) for a, ks in ranked.items() for k in ks],
        schema=TABLE_DTYPES["keywords"],
        orient="row",
    )
    articles = pl.DataFrame({"article_id": ids[::-1], "pub_date": [day] * len(ids)})

    got = transforms.tables._keyword_rows(articles, terms, textrank, idf, 9.0)

    expected = [
        (a, day, k.keyword, k.method, k.rank, k.weight)
        for a in ids[::-1]
        for k in tfidf_from_counts(counts[a], idf=idf, default_idf=9.0) + ranked.get(a, [])
    ]
    assert got.schema == pl.Schema(TABLE_DTYPES["keywords"])
    assert got.rows() == expected
    weights: dict[str, list[float]] = {}
    for a, _, _, method, _, weight in expected:
        if method == "tfidf":
            weights.setdefault(a, []).append(weight)
    assert sum(len(set(w)) < len(w) for w in weights.values()) > 10  # ties within articles
