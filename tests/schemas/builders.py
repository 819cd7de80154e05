"""Small realistic articles as the JSONL reader would hand them over, for schema tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from transforms.pages import rebuild_article, split_lines
from transforms.tables import SourceArticle, make_article_id


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
