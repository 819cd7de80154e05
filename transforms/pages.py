"""Turn the lines of a printed page (or one article) into articles of classified paragraphs.

Page text extracted from PDF or OCR is a flat list of lines: headlines, bylines, section
headings, body paragraphs broken by the column layout, pull-quotes and captions repeated
from the body, photo credits and boxes. Every non-empty line ends up in exactly one
paragraph; the steps in `transforms.page_steps` decide its kind, its article and its
reading position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from transforms.lines import (
    Line,
    classify_line,
    is_terminated,
    is_title_like,
    parse_byline,
    split_lines,
)
from transforms.normalize import normalize_line
from transforms.page_steps import (
    Lexicon,
    Row,
    article_rows,
    page_rows,
    unit_frame,
    unit_rows,
)

__all__ = [
    "PARAGRAPH_KINDS",
    "ArticleDraft",
    "Lexicon",
    "Line",
    "Paragraph",
    "classify_line",
    "is_terminated",
    "is_title_like",
    "parse_byline",
    "rebuild_article",
    "rebuild_page",
    "split_lines",
]

PARAGRAPH_KINDS = (
    "headline",
    "byline",
    "heading",
    "deck",
    "body",
    "pullquote",
    "caption",
    "credit",
    "sidebar",
    "other",
)


@dataclass(frozen=True)
class Paragraph:
    kind: str
    text: str
    raw_lines: tuple[int, ...]


@dataclass(frozen=True)
class ArticleDraft:
    """An article before segmentation: classified paragraphs plus what the byline told."""

    headline: str | None
    authors: tuple[str, ...]
    dateline: str | None
    paragraphs: tuple[Paragraph, ...]

    @property
    def body(self) -> str:
        return "\n".join(p.text for p in self.paragraphs if p.kind == "body")


def _draft(rows: Sequence[dict[str, object]], headline: str | None) -> ArticleDraft:
    authors: list[str] = []
    dateline: str | None = None
    paragraphs = []
    for row in rows:
        kind, text = str(row["kind"]), str(row["text"])
        if kind == "byline":
            parsed = parse_byline(text)
            if parsed:
                authors.extend(a for a in parsed[0] if a not in authors)
                dateline = dateline or parsed[1]
        lines = row["raw_lines"]
        assert isinstance(lines, list)
        paragraphs.append(Paragraph(kind, text, tuple(dict.fromkeys(lines))))
    return ArticleDraft(headline, tuple(authors), dateline, tuple(paragraphs))


def drafts_from_units(units: pl.DataFrame) -> list[ArticleDraft]:
    """One draft per article, paragraphs in reading order."""
    return drafts_from_rows(units.to_dicts())


def drafts_from_rows(rows: Iterable[Row]) -> list[ArticleDraft]:
    """`drafts_from_units` on the rows of a unit frame."""
    articles: dict[int, list[Row]] = {}
    for row in sorted(rows, key=lambda r: (int(r["article"]), int(r["order"]))):
        articles.setdefault(row["article"], []).append(row)
    drafts = []
    for article in articles.values():
        headline = next((str(r["text"]) for r in article if r["kind"] == "headline"), None)
        drafts.append(_draft(article, headline))
    return _fold_bodyless_lead(drafts)


def _fold_bodyless_lead(drafts: list[ArticleDraft]) -> list[ArticleDraft]:
    """Lines before the first headline that hold no body are page furniture, not an article."""
    if len(drafts) < 2 or drafts[0].headline is not None or drafts[0].body:
        return drafts
    lead = tuple(Paragraph("other", p.text, p.raw_lines) for p in drafts[0].paragraphs)
    first = drafts[1]
    merged = ArticleDraft(first.headline, first.authors, first.dateline, lead + first.paragraphs)
    return [merged, *drafts[2:]]


def page_units(lines: Iterable[Line], *, lexicon: Lexicon | None = None) -> pl.DataFrame:
    """The unit frame of a page after every step: for inspection and evaluation."""
    return unit_frame(page_rows(unit_rows(list(lines)), lexicon=lexicon))


def rebuild_page(lines: Iterable[Line], *, lexicon: Lexicon | None = None) -> list[ArticleDraft]:
    """Split a page into articles at each headline; every line lands in one paragraph."""
    return drafts_from_rows(page_rows(unit_rows(list(lines)), lexicon=lexicon))


def rebuild_article(
    lines: Iterable[Line],
    *,
    headline: str | None,
    authors: Sequence[str] = (),
    headline_line: int | None = None,
    lexicon: Lexicon | None = None,
) -> ArticleDraft:
    """One article whose boundaries are known (a JSONL record): classify and join only."""
    rows = article_rows(unit_rows(list(lines)), lexicon=lexicon)
    [draft] = drafts_from_rows(rows) or [ArticleDraft(None, (), None, ())]
    paragraphs = draft.paragraphs
    if headline is not None:
        headline = normalize_line(headline)
        lines_of = (headline_line,) if headline_line else ()
        paragraphs = (Paragraph("headline", headline, lines_of), *paragraphs)
    merged_authors = tuple(dict.fromkeys([*authors, *draft.authors]))
    return ArticleDraft(headline, merged_authors, draft.dateline, paragraphs)
