"""From a decoded raw document to articles with lineage, for pages and JSONL."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import jsonl_text
from transforms.documents import DocumentRejection, RawDocument, Share, document_articles
from transforms.tables import make_article_id
from transforms.textclean import clean_text

PUB = date(2026, 6, 15)
SHA = "ab" * 32
PAGE_PATH = "cbn/2026-06-15/cbn-page-2026-06-15.txt"
JSONL_PATH = "cbn/2026-06-15/feed.jsonl"


def _doc(text: str, raw_path: str = PAGE_PATH) -> RawDocument:
    return RawDocument(raw_path, "cbn", PUB, text, "utf-8", SHA)


@pytest.mark.parametrize(
    ("raw_path", "is_jsonl"),
    [
        ("cbn/2026-06-15/feed.jsonl", True),
        ("cbn/2026-06-15/FEED.JSONL", True),
        ("cbn/2026-06-15/page.txt", False),
        ("cbn/2026-06-15/jsonl.txt", False),
    ],
)
def test_is_jsonl_by_suffix(raw_path: str, is_jsonl: bool) -> None:
    assert _doc("", raw_path).is_jsonl is is_jsonl


def test_sample_page_gives_two_articles_with_lineage(sample_page_text: str) -> None:
    articles, rejections = document_articles(_doc(clean_text(sample_page_text)))
    assert rejections == []
    assert [a.article_id for a in articles] == [
        make_article_id(PAGE_PATH, "article:0"),
        make_article_id(PAGE_PATH, "article:1"),
    ]
    for art in articles:
        assert (art.source, art.pub_date, art.raw_path) == ("cbn", PUB, PAGE_PATH)
        assert (art.raw_sha256, art.raw_encoding) == (SHA, "utf-8")
        assert (art.raw_record, art.external_id, art.url) == (None, None, None)
        assert art.draft.body
    assert articles[0].draft.authors == ("杨井鑫",)
    assert articles[1].draft.authors == ("郭建航",)


def test_sample_page_ids_are_stable(sample_page_text: str) -> None:
    first, _ = document_articles(_doc(clean_text(sample_page_text)))
    second, _ = document_articles(_doc(clean_text(sample_page_text)))
    assert [a.article_id for a in first] == [a.article_id for a in second]
    moved, _ = document_articles(_doc(clean_text(sample_page_text), "cbn/2026-06-15/other.txt"))
    assert {a.article_id for a in first}.isdisjoint(a.article_id for a in moved)


def test_page_article_without_body_is_rejected_and_keeps_ordinals() -> None:
    page = "\n".join(
        [
            "央行宣布降准 释放长期资金",
            "中经记者 杨井鑫 北京报道",
            "",
            "视觉中国/图",
            "助力释放县域消费潜力 农商行信用卡激战",
            "每经记者 李娜 发自上海",
            "农商行密集推出“绑卡支付立减”等营销活动。",
        ]
    )
    articles, rejections = document_articles(_doc(page))
    assert [a.draft.headline for a in articles] == ["助力释放县域消费潜力 农商行信用卡激战"]
    # The rejected article still used ordinal 0: the survivor's id does not shift.
    assert articles[0].article_id == make_article_id(PAGE_PATH, "article:1")
    assert rejections == [
        DocumentRejection(
            "no_body", "article 0 (lines 1-4) has no body text, only byline, credit, headline"
        )
    ]


def test_page_of_furniture_only_rejects_everything() -> None:
    articles, rejections = document_articles(_doc("银行信贷精准赋能\n视觉中国/图"))
    assert articles == []
    assert [(r.reason, r.record) for r in rejections] == [("no_body", None)]


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><script>var page = 1;</script></head><body></body></html>",
        "<html><body><style>p { margin: 0 }</style><!-- 广告位 --></body></html>",
    ],
)
def test_a_page_of_markup_without_text_is_empty(html: str) -> None:
    articles, rejections = document_articles(_doc(html))
    assert articles == []
    assert rejections == [DocumentRejection("empty", "no text outside the markup")]


def test_jsonl_records_become_articles() -> None:
    text = jsonl_text(
        {
            "id": "cbn-001",
            "title": "微短剧产业“争艳” 银行“追剧”加码信贷创新",
            "url": "https://www.cb.com.cn/a/1",
            "authors": ["王希"],
            "pub_date": "2026-06-15",
            "text": "中经记者 杨井鑫 北京报道\n据交通银行(601328.SH)消息，该行\n贷款额度50万元。",
        },
        "",
        {"text": "一季度，乡村消费品零售额增长3.1%。"},
    )
    articles, rejections = document_articles(_doc(text, JSONL_PATH))
    assert rejections == []
    first, second = articles
    assert first.article_id == make_article_id(JSONL_PATH, "line:1")
    assert second.article_id == make_article_id(JSONL_PATH, "line:3")
    assert (first.raw_record, first.external_id, first.url) == (
        1,
        "cbn-001",
        "https://www.cb.com.cn/a/1",
    )
    assert first.draft.headline == "微短剧产业“争艳” 银行“追剧”加码信贷创新"
    assert first.draft.authors == ("王希", "杨井鑫")
    assert first.draft.dateline == "北京"
    assert first.draft.body == "据交通银行（601328.SH）消息，该行贷款额度50万元。"
    assert [p.kind for p in first.draft.paragraphs] == ["headline", "byline", "body"]
    # Every paragraph of a record traces to the record's line.
    assert {n for p in first.draft.paragraphs for n in p.raw_lines} == {1}
    assert (second.raw_record, second.draft.headline) == (3, None)


def test_jsonl_bad_records_are_rejected_with_their_line() -> None:
    text = jsonl_text(
        {"id": "a", "text": "第一篇正文。"},
        "{broken",
        {"id": "a", "text": "重复编号。"},
        {"text": "第四篇正文。", "pub_date": "2026-06-14"},
        {"title": "只有标题", "text": "银行信贷精准赋能"},
        {"text": "第六篇正文。", "authors": "杨井鑫"},
    )
    articles, rejections = document_articles(_doc(text, JSONL_PATH))
    assert [a.raw_record for a in articles] == [1]
    assert [(r.reason, r.record) for r in rejections] == [
        ("bad_json", 2),
        ("duplicate_id", 3),
        ("date_mismatch", 4),
        ("no_body", 5),
        ("bad_field", 6),
    ]


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_jsonl_is_one_rejection(text: str) -> None:
    articles, rejections = document_articles(_doc(text, JSONL_PATH))
    assert articles == []
    assert rejections == [DocumentRejection("empty", "no records")]
    # Analysed in parts, the file is still said to be empty once.
    parts = [document_articles(_doc(text, JSONL_PATH), share=Share(i, 3)) for i in range(3)]
    assert [r for _, rejected in parts for r in rejected] == rejections


@pytest.mark.parametrize("parts", [2, 3, 7, 9])
def test_jsonl_parts_together_are_the_whole_file(parts: int) -> None:
    text = jsonl_text(
        {"id": "a", "text": "中国人民银行今日开展1000亿元7天期逆回购操作。"},
        "{broken",
        {"id": "b", "title": "招商银行发布年报", "text": "招商银行(600036.SH)净利润增长1.22%。"},
        "",
        {"id": "a", "text": "与第一行编号相同。"},
        {"id": "c", "text": "国家统计局数据显示，房价环比下降0.2%。"},
        {"title": "只有标题", "text": "银行信贷精准赋能"},
        {"id": "d", "text": "分析人士认为，房地产市场有望逐步企稳。"},
    )
    whole = document_articles(_doc(text, JSONL_PATH))
    split = [document_articles(_doc(text, JSONL_PATH), share=Share(i, parts)) for i in range(parts)]
    assert [a for articles, _ in split for a in articles] == whole[0]
    assert [r for _, rejected in split for r in rejected] == whole[1]
    # A repeated id is judged against the whole file, not against its own part only.
    assert ("duplicate_id", 5) in [(r.reason, r.record) for r in whole[1]]
    assert [a.raw_record for a in whole[0]] == [1, 3, 6, 8]


def test_a_page_is_never_analysed_in_parts() -> None:
    with pytest.raises(ValueError, match="only JSONL"):
        document_articles(_doc("标题\n正文。"), share=Share(0, 2))


@pytest.mark.parametrize(("part", "parts"), [(2, 2), (-1, 2), (0, 0)])
def test_a_part_outside_the_split_is_refused(part: int, parts: int) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Share(part, parts)


def test_jsonl_with_only_bad_records_is_not_called_empty() -> None:
    articles, rejections = document_articles(_doc("{broken", JSONL_PATH))
    assert articles == []
    assert [r.reason for r in rejections] == ["bad_json"]
