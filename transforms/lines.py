"""Line-level facts about page text: where a line ends, whether it is a title, a byline
or a photo credit. Context (neighbours, repeats, articles) is the page steps' business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A paragraph is complete when it ends on one of these, possibly followed by closers.
_TERMINALS = "。！？!?…；;：:"
_CLOSERS = "”’」』）)》〉】\"'"
_TERMINATED = re.compile(f"[{re.escape(_TERMINALS)}][{re.escape(_CLOSERS)}]*$")

# Headlines and headings are short and free of clause punctuation.
_CLAUSE_PUNCT = re.compile(r"[，,；;：:。！？!?]")
_MAX_TITLE_CHARS = 40
# A two-part headline ("主题 副题") is separated by a space between CJK runs.
TWO_PART_TITLE = re.compile(r"[\u4e00-\u9fff”」》]\s+[\u4e00-\u9fff“「《\w]")
# Section headings (小标题) run 4 to 12 characters.
MAX_HEADING_CHARS = 12
_MAX_BYLINE_CHARS = 40

_NAME_SEP = r"[\s\u3000、]+"
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


@dataclass(frozen=True)
class Line:
    """One non-empty line of the raw input, stripped, with its 1-based line number."""

    text: str
    line_no: int


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


_HEADLINE_ENDS = "。，,；;：:、"
# Box and circle marks some papers print before a byline: ⊙本报记者 张三.
_BYLINE_MARKS = "⊙□■●◎○★☆◆◇▲△"


def is_headline_like(text: str) -> bool:
    """Could be a printed headline: short, one statement, may carry ：？！ and a space.

    Broader than `is_title_like`: headlines such as `机构论市：哪些原因造成股灾？` punctuate;
    only position (first on the page, above a byline) tells them from body text.
    """
    return (
        len(text) <= _MAX_TITLE_CHARS
        and "。" not in text
        and text[-1] not in _HEADLINE_ENDS
        and _quotes_balanced(text)
    )


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
    compact = text.strip().lstrip(_BYLINE_MARKS).strip()
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
