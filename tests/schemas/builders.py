"""Small realistic articles as the JSONL reader would hand them over, for schema tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from transforms.pages import rebuild_article, split_lines
from transforms.tables import SourceArticle, make_article_id

PUB = date(2026, 6, 15)
RAW_PATH = "cbn/2026-06-15/feed.jsonl"
# Three JSONL records: headline, byline and a body with entities each.
ARTICLES = [
    (
        "银行“追剧”加码信贷创新",
        "中经记者 杨井鑫 北京报道\n据交通银行(601328.SH)消息，该行辽宁省分行近日投放贷款50万元。"
        "\n2026年6月4日，首单完片保险在浙江横店落地。",
    ),
    (
        "农商行信用卡激战“6·18”",
        "每经记者 李娜 发自上海\n一季度，乡村消费品零售额增长3.1%，比上年同期提高0.3个百分点。",
    ),
    (
        "工商银行首推“短剧贷”",
        "新华社北京6月16日电（记者 王希）\n工商银行(601398.SH)郑州分行于2026年2月首推“短剧贷”，"
        "最高额度300万元。",
    ),
]


def record_articles(
    records: Sequence[tuple[str, str]], *, raw_path: str, pub_date: date
) -> list[SourceArticle]:
    """One article per (title, text) record, numbered like JSONL lines from 1."""
    return [
        SourceArticle(
            draft=rebuild_article(split_lines(text), headline=title, headline_line=n),
            article_id=make_article_id(raw_path, f"line:{n}"),
            source="cbn",
            pub_date=pub_date,
            raw_path=raw_path,
            raw_sha256="ab" * 32,
            raw_encoding="utf-8",
            raw_record=n,
        )
        for n, (title, text) in enumerate(records, start=1)
    ]
