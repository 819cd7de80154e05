"""Turn the lines of a printed page (or one article) into articles made of classified paragraphs.

Page text extracted from PDF or OCR is a flat list of lines: headlines, bylines, section
headings, body paragraphs broken by the column layout, pull-quotes repeated from the body
and photo credits. Every non-empty line ends up in exactly one paragraph; only its kind
and its article are decided here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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

# A paragraph is complete when it ends on one of these, possibly followed by closers.
_TERMINALS = "。！？!?…；;：:"
_CLOSERS = "”’」』）)》〉】\"'"
_TERMINATED = re.compile(f"[{re.escape(_TERMINALS)}][{re.escape(_CLOSERS)}]*$")

# Headlines and headings are short and free of clause punctuation.
_CLAUSE_PUNCT = re.compile(r"[，,；;：:。！？!?]")
_MAX_TITLE_CHARS = 40
# A two-part headline ("主题 副题") is separated by a space between CJK runs.
_TWO_PART_TITLE = re.compile(r"[\u4e00-\u9fff”」》\w]\s+[\u4e00-\u9fff“「《\w]")
_MAX_HEADING_CHARS = 15
_MAX_BYLINE_CHARS = 40

_NAME_SEP = r"[\s\u3000、，,]+"
_BYLINE_TAIL = re.compile(
    r"[\s\u3000]+(?:发自(?P<sent_from>[\u4e00-\u9fff]{2,6})(?:报道)?"
    r"|(?P<place>[\u4e00-\u9fff]{2,6}?)(?:报道|电))$"
)
_BYLINE_HEAD = re.compile(
    r"^(?P<outlet>[\u4e00-\u9fff]{0,8}?)(?:实习|特约|见习)?记者[\s\u3000]*"
    rf"(?P<names>[\u4e00-\u9fff·]{{2,5}}(?:{_NAME_SEP}[\u4e00-\u9fff·]{{2,5}})*)$"
)
_WIRE_DATELINE = re.compile(
    r"^(?P<outlet>新华社|中新社|中新网|人民网|央视网)(?P<place>[\u4e00-\u9fff]{2,6}?)"
    r"\d{1,2}月\d{1,2}日电(?:[\s\u3000]*[（(]记者[\s\u3000]*(?P<names>[^）)]+)[）)])?$"
)
_CREDIT = re.compile(
    r"^(?:.{1,24}[/／](?:图|摄|供图)|图片来源[:：].{1,40}|.{1,24}供图|(?:图|摄影?)[:：/].{1,24})$"
)
_MIN_REPEAT_CHARS = 12
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Line:
    """One non-empty line of the raw input, stripped, with its 1-based line number."""

    text: str
    line_no: int


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


@dataclass
class _Unit:
    kind: str
    text: str
    raw_lines: list[int] = field(default_factory=list)


def split_lines(text: str, *, first_line_no: int = 1) -> list[Line]:
    """Non-empty lines of `text` (already newline-normalised), keeping their line numbers."""
    lines = []
    for offset, raw in enumerate(text.split("\n")):
        stripped = raw.strip()
        if stripped:
            lines.append(Line(stripped, first_line_no + offset))
    return lines


def is_terminated(text: str) -> bool:
    """True when a paragraph ends a sentence; False for a fragment cut by the layout."""
    return bool(_TERMINATED.search(text))


def _quotes_balanced(text: str) -> bool:
    return text.count("“") == text.count("”") and text.count("《") == text.count("》")


def is_title_like(text: str) -> bool:
    """Short, unpunctuated and self-contained: a headline or a section heading."""
    return (
        len(text) <= _MAX_TITLE_CHARS
        and not _CLAUSE_PUNCT.search(text)
        and not is_terminated(text)
        and _quotes_balanced(text)
    )


def parse_byline(text: str) -> tuple[tuple[str, ...], str | None] | None:
    """Authors and dateline of a byline line, or None when the line is not a byline."""
    compact = text.strip()
    if len(compact) > _MAX_BYLINE_CHARS:
        return None
    match = _WIRE_DATELINE.match(compact)
    if match:
        return _split_names(match["names"] or ""), match["place"]
    tail = _BYLINE_TAIL.search(compact)
    place = (tail["sent_from"] or tail["place"]) if tail else None
    head = compact[: tail.start()] if tail else compact
    match = _BYLINE_HEAD.match(head)
    if match is None:
        return None
    return _split_names(match["names"]), place


def _split_names(names: str) -> tuple[str, ...]:
    return tuple(n for n in re.split(_NAME_SEP, names) if n)


def classify_line(text: str) -> str:
    """First-pass kind of one line, before context (position, repeats) refines it."""
    if _CREDIT.match(text):
        return "credit"
    if parse_byline(text) is not None:
        return "byline"
    if is_title_like(text):
        return "title"
    return "body"


def _join_fragments(units: list[_Unit]) -> list[_Unit]:
    """Rejoin body paragraphs that the column layout cut mid-sentence."""
    joined: list[_Unit] = []
    for unit in units:
        prev = joined[-1] if joined else None
        if (
            prev is not None
            and prev.kind == "body"
            and unit.kind == "body"
            and not is_terminated(prev.text)
        ):
            prev.text += unit.text
            prev.raw_lines.extend(unit.raw_lines)
            continue
        joined.append(_Unit(unit.kind, unit.text, list(unit.raw_lines)))
    return joined


def _resolve_titles(units: list[_Unit], *, allow_headlines: bool) -> None:
    """Decide headline, heading or cut-off body line for each title-like unit.

    A headline opens the page, sits right above a byline, or has the two-part shape of a
    printed headline; a heading is short; a longer unpunctuated line is a body fragment.
    """
    for idx, unit in enumerate(units):
        if unit.kind != "title":
            continue
        near_byline = any(u.kind == "byline" for u in units[idx + 1 : idx + 3])
        if allow_headlines and (
            idx == 0 or near_byline or _TWO_PART_TITLE.search(unit.text) is not None
        ):
            unit.kind = "headline"
        elif len(unit.text) <= _MAX_HEADING_CHARS:
            unit.kind = "heading"
        else:
            unit.kind = "body"


def _squash(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _mark_repeats(units: list[_Unit]) -> None:
    """Body paragraphs that repeat another body paragraph verbatim are pull-quotes."""
    bodies = [i for i, u in enumerate(units) if u.kind == "body"]
    squashed = {i: _squash(units[i].text) for i in bodies}
    for i in bodies:
        needle = squashed[i]
        if len(needle) < _MIN_REPEAT_CHARS:
            continue
        # Contained in a longer paragraph, or an exact copy of an earlier one.
        if any(
            (needle in squashed[j] and len(squashed[j]) > len(needle))
            or (j < i and squashed[j] == needle)
            for j in bodies
        ):
            before = units[i - 1].kind if i > 0 else None
            after = units[i + 1].kind if i + 1 < len(units) else None
            if after == "credit":
                units[i].kind = "caption"
            elif before == "heading":
                units[i].kind = "deck"
            else:
                units[i].kind = "pullquote"


def _draft(units: Sequence[_Unit], headline: str | None) -> ArticleDraft:
    authors: list[str] = []
    dateline: str | None = None
    for unit in units:
        if unit.kind == "byline":
            parsed = parse_byline(unit.text)
            if parsed:
                authors.extend(a for a in parsed[0] if a not in authors)
                dateline = dateline or parsed[1]
    paragraphs = tuple(Paragraph(u.kind, u.text, tuple(dict.fromkeys(u.raw_lines))) for u in units)
    return ArticleDraft(headline, tuple(authors), dateline, paragraphs)


def rebuild_page(lines: Iterable[Line]) -> list[ArticleDraft]:
    """Split a page into articles at each headline; every line lands in one paragraph."""
    units = [_Unit(classify_line(ln.text), ln.text, [ln.line_no]) for ln in lines]
    _resolve_titles(units, allow_headlines=True)
    units = _join_fragments(units)

    groups: list[list[_Unit]] = []
    for unit in units:
        if unit.kind == "headline" or not groups:
            groups.append([])
        groups[-1].append(unit)

    drafts = []
    for group in groups:
        _mark_repeats(group)
        headline = group[0].text if group[0].kind == "headline" else None
        drafts.append(_draft(group, headline))
    return _fold_bodyless_lead(drafts)


def _fold_bodyless_lead(drafts: list[ArticleDraft]) -> list[ArticleDraft]:
    """Lines before the first headline that hold no body are page furniture, not an article."""
    if len(drafts) < 2 or drafts[0].headline is not None or drafts[0].body:
        return drafts
    lead = tuple(Paragraph("other", p.text, p.raw_lines) for p in drafts[0].paragraphs)
    first = drafts[1]
    merged = ArticleDraft(first.headline, first.authors, first.dateline, lead + first.paragraphs)
    return [merged, *drafts[2:]]


def rebuild_article(
    lines: Iterable[Line],
    *,
    headline: str | None,
    authors: Sequence[str] = (),
    headline_line: int | None = None,
) -> ArticleDraft:
    """One article whose boundaries are known (a JSONL record): classify and join only."""
    units = [_Unit(classify_line(ln.text), ln.text, [ln.line_no]) for ln in lines]
    _resolve_titles(units, allow_headlines=False)
    units = _join_fragments(units)
    if headline is not None:
        units.insert(0, _Unit("headline", headline, [headline_line] if headline_line else []))
    _mark_repeats(units)
    draft = _draft(units, headline)
    merged_authors = tuple(dict.fromkeys([*authors, *draft.authors]))
    return ArticleDraft(draft.headline, merged_authors, draft.dateline, draft.paragraphs)
