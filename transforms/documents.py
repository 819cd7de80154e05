"""From decoded raw text to rebuilt articles, for each input format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from transforms.html import html_lines, looks_like_html
from transforms.pages import Lexicon, Line, rebuild_article, rebuild_page, split_lines
from transforms.records import Record, RecordRejection, parse_jsonl
from transforms.tables import SourceArticle, make_article_id


@dataclass(frozen=True)
class RawDocument:
    """A decoded raw file and where it sits: everything lineage needs."""

    raw_path: str
    source: str
    pub_date: date
    text: str
    encoding: str
    sha256: str

    @property
    def is_jsonl(self) -> bool:
        return is_jsonl(self.raw_path)


def is_jsonl(raw_path: str) -> bool:
    """A file of one record per line, which can be analysed in parts; a page cannot."""
    return raw_path.lower().endswith(".jsonl")


@dataclass(frozen=True)
class Share:
    """Part `part` of `parts` contiguous runs of a JSONL file's records, so that one large
    file can be analysed by several workers; any split gives the same articles."""

    part: int = 0
    parts: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.part < self.parts:
            raise ValueError(f"part {self.part} of {self.parts} does not exist")

    def bounds(self, total: int) -> tuple[int, int]:
        """Which of `total` records (start, stop) this part takes."""
        return self.part * total // self.parts, (self.part + 1) * total // self.parts


WHOLE = Share()


@dataclass(frozen=True)
class DocumentRejection:
    reason: str
    detail: str
    record: int | None = None


def text_lines(text: str, *, first_line_no: int = 1) -> list[Line]:
    """Non-empty lines of plain text, or the text pieces of HTML, with raw line numbers."""
    if looks_like_html(text):
        return [Line(ln.text, ln.line_no + first_line_no - 1) for ln in html_lines(text)]
    return split_lines(text, first_line_no=first_line_no)


def _page_articles(
    doc: RawDocument, lexicon: Lexicon | None
) -> tuple[list[SourceArticle], list[DocumentRejection]]:
    articles, rejections = [], []
    page_lines = text_lines(doc.text)
    if not page_lines:  # HTML whose only content is markup, scripts and styles
        return [], [DocumentRejection("empty", "no text outside the markup")]
    for ordinal, draft in enumerate(rebuild_page(page_lines, lexicon=lexicon)):
        if not draft.body:
            kinds = sorted({p.kind for p in draft.paragraphs})
            lines = [n for p in draft.paragraphs for n in p.raw_lines]
            rejections.append(
                DocumentRejection(
                    "no_body",
                    f"article {ordinal} (lines {min(lines)}-{max(lines)}) has no body text, "
                    f"only {', '.join(kinds)}",
                )
            )
            continue
        articles.append(
            SourceArticle(
                draft=draft,
                article_id=make_article_id(doc.raw_path, f"article:{ordinal}"),
                source=doc.source,
                pub_date=doc.pub_date,
                raw_path=doc.raw_path,
                raw_sha256=doc.sha256,
                raw_encoding=doc.encoding,
                raw_article_idx=ordinal,
            )
        )
    return articles, rejections


def _record_article(
    doc: RawDocument, record: Record, lexicon: Lexicon | None
) -> SourceArticle | DocumentRejection:
    lines = [Line(ln.text, record.line_no) for ln in text_lines(record.text)]
    draft = rebuild_article(
        lines,
        headline=record.title,
        authors=record.authors,
        headline_line=record.line_no,
        lexicon=lexicon,
    )
    if not draft.body:
        return DocumentRejection("no_body", "record text holds no body paragraph", record.line_no)
    return SourceArticle(
        draft=draft,
        article_id=make_article_id(doc.raw_path, f"line:{record.line_no}"),
        source=doc.source,
        pub_date=doc.pub_date,
        raw_path=doc.raw_path,
        raw_sha256=doc.sha256,
        raw_encoding=doc.encoding,
        raw_article_idx=record.line_no,
        raw_record=record.line_no,
        external_id=record.external_id,
        url=record.url,
    )


def _jsonl_articles(
    doc: RawDocument, lexicon: Lexicon | None, share: Share
) -> tuple[list[SourceArticle], list[DocumentRejection]]:
    articles, rejections = [], []
    # Every part parses the whole file: a repeated id is judged against all earlier lines.
    results = parse_jsonl(doc.text, doc.pub_date)
    if not results:
        return [], [DocumentRejection("empty", "no records")] if share.part == 0 else []
    start, stop = share.bounds(len(results))
    for parsed in results[start:stop]:
        if isinstance(parsed, RecordRejection):
            rejections.append(DocumentRejection(parsed.reason, parsed.detail, parsed.line_no))
            continue
        result = _record_article(doc, parsed, lexicon)
        if isinstance(result, DocumentRejection):
            rejections.append(result)
        else:
            articles.append(result)
    return articles, rejections


def document_articles(
    doc: RawDocument, *, lexicon: Lexicon | None = None, share: Share = WHOLE
) -> tuple[list[SourceArticle], list[DocumentRejection]]:
    """Articles rebuilt from one raw document, and what in it could not become one.

    `lexicon` (the tagger's dictionary segmentation) lets page rebuilding tell where a
    column break cut a word; without it, a cut-off line joins the next body line.
    `share`: only that part of a JSONL file's records (a page is rebuilt whole).
    """
    if doc.is_jsonl:
        return _jsonl_articles(doc, lexicon, share)
    if share.parts != 1:
        raise ValueError(f"{doc.raw_path}: only JSONL files are analysed in parts")
    return _page_articles(doc, lexicon)
