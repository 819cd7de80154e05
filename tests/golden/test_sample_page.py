"""Golden facts about the bundled newspaper page, checked by reading the page by eye.

The page (中国经营报, 2026-06-15) holds two articles, section headings, a deck, a
pull-quote split over two lines, a photo caption and credit, a byline printed after the
body, and paragraphs broken mid-sentence by the column layout.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from transforms.documents import RawDocument, document_articles
from transforms.pages import ArticleDraft, rebuild_page, split_lines
from transforms.tables import build_tables

RAW_PATH = "cbn/2026-06-15/cbn-page-2026-06-15.txt"
# Written from reading the page: every paragraph's kind and raw lines in reading order,
# and the exact body of both articles (joins at 25+39, 29+31, 43+45, ...; article 2's
# byline and lead, printed at the bottom of the page, read right after its headline).
GOLDEN = json.loads((Path(__file__).with_name("cbn-page-2026-06-15.json")).read_text("utf-8"))


@pytest.fixture(scope="module")
def drafts(sample_page_text: str, nlp) -> list[ArticleDraft]:  # type: ignore[no-untyped-def]
    return rebuild_page(split_lines(sample_page_text), lexicon=nlp.tagger)


@pytest.fixture(scope="module")
def tables(sample_page_text: str, nlp) -> dict[str, pl.DataFrame]:  # type: ignore[no-untyped-def]
    doc = RawDocument(RAW_PATH, "cbn", date(2026, 6, 15), sample_page_text, "utf-8", "0" * 64)
    articles, rejections = document_articles(doc, lexicon=nlp.tagger)
    assert rejections == []
    return build_tables(articles, run_id="golden", nlp=nlp)


def test_articles_headlines_bylines_and_datelines(drafts: list[ArticleDraft]):
    assert len(drafts) == len(GOLDEN) == 2
    for draft, gold in zip(drafts, GOLDEN, strict=True):
        assert draft.headline == gold["headline"]
        assert list(draft.authors) == gold["authors"]
        assert draft.dateline == gold["dateline"]


def test_every_paragraph_kind_and_join_in_reading_order(drafts: list[ArticleDraft]):
    for draft, gold in zip(drafts, GOLDEN, strict=True):
        got = [[p.kind, list(p.raw_lines)] for p in draft.paragraphs]
        assert got == gold["paragraphs"]


def test_exact_body_text(drafts: list[ArticleDraft]):
    for draft, gold in zip(drafts, GOLDEN, strict=True):
        assert draft.body.split("\n") == gold["body"]


def test_every_nonempty_raw_line_lands_in_exactly_one_paragraph(tables, sample_page_text):
    expected = [n for n, line in enumerate(sample_page_text.split("\n"), 1) if line.strip()]
    seen = [n for lines in tables["paragraphs"]["raw_lines"].to_list() for n in lines]
    assert sorted(seen) == expected


def test_body_keeps_each_sentence_once_and_no_credits(tables):
    first = tables["articles"].filter(pl.col("headline").str.starts_with("微短剧"))["text"][0]
    assert first.count("面对微短剧产业发展的“黄金时代”") == 1
    assert first.count("微短剧正迅速崛起成为与美国电影、韩剧、日漫并驾齐驱的文化新宠。") == 1
    assert first.count("微短剧产业能够有效带动地方经济") == 1
    assert first.count("银行创新授信评审逻辑") == 1
    assert "视觉中国" not in first
    assert "目前国内微短剧产业直逼千亿元规模" not in first  # the stat box is a sidebar
    assert "其中提到了打造新时代“辽派”精品微短剧。" in first


def test_articles_table_records_the_script(tables):
    assert tables["articles"]["script"].to_list() == ["Hans", "Hans"]


def test_entities_with_normalised_values(tables):
    entities = tables["entities"]

    def normalized(kind: str) -> set[str]:
        return set(entities.filter(pl.col("entity_type") == kind)["normalized"].to_list())

    assert normalized("TICKER") == {"601328.SH", "601398.SH", "600926.SH"}
    money = dict(entities.filter(pl.col("entity_type") == "MONEY").select("text", "number").rows())
    assert money["1亿元"] == 1e8
    assert money["50万元"] == 5e5
    assert money["300万元"] == 3e6
    assert money["千亿元"] == 1e11
    percent = dict(
        entities.filter(pl.col("entity_type") == "PERCENT").select("text", "number").rows()
    )
    assert percent["5.8%"] == pytest.approx(0.058)
    assert percent["0.08%"] == pytest.approx(0.0008)
    points = entities.filter(pl.col("entity_type") == "PERCENT_POINT")["text"].to_list()
    assert "0.3个百分点" in points
    dates = dict(
        entities.filter(pl.col("entity_type") == "DATE").select("text", "normalized").rows()
    )
    assert dates["6月9日"] == "2026-06-09"
    assert dates["3月31日"] == "2026-03-31"
    assert dates["2026年6月4日"] == "2026-06-04"
    assert dates["2026年2月"] == "2026-02"
    assert dates["2026年一季度"] == "2026-Q1"
    assert {"张世华", "黄芳", "饶荣诚", "薛洪言"} <= normalized("PERSON")
    assert {"交通银行", "工商银行", "杭州银行", "商务部消费促进司"} <= normalized("ORG")
    assert {"辽宁省", "郑州", "横店"} <= normalized("LOC")


def test_offsets_index_the_article_text(tables):
    texts = dict(tables["articles"].select("article_id", "text").rows())
    for table, column in (("sentences", "text"), ("tokens", "token"), ("entities", "text")):
        for article_id, value, start, end in (
            tables[table].select("article_id", column, "start", "end").rows()
        ):
            assert texts[article_id][start:end] == value, (table, value)


def test_keywords_name_the_topics(tables):
    keywords = tables["keywords"].join(
        tables["articles"].select("article_id", "headline"), on="article_id"
    )

    def top(prefix: str, method: str) -> list[str]:
        rows = keywords.filter(
            pl.col("headline").str.starts_with(prefix) & (pl.col("method") == method)
        ).sort("rank")
        return rows["keyword"].to_list()[:3]

    for method in ("tfidf", "textrank"):
        assert "微短剧" in top("微短剧", method)
        assert {"农商行", "信用卡"} <= set(top("助力", method))
