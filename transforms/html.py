"""Text out of HTML that arrived as a `.txt`, keeping every piece on its raw line number.

The standard library's tolerant parser reports where each piece of text starts, so the
lines handed to page rebuilding keep pointing at raw lines; tags, comments and the
content of script and style elements are dropped, and block elements end a paragraph.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from transforms.lines import Line

_HTML_HINT = re.compile(r"<(?:!doctype|html|head|body|p|div|br|span|script|table|article)\b", re.I)
_MIN_HINTS = 2
_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "iframe"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th",
        "title", "tr", "ul",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u3000\xa0]+")


def looks_like_html(text: str) -> bool:
    """Markup, not prose: several HTML tags near the start of the text."""
    return len(_HTML_HINT.findall(text[:20_000])) >= _MIN_HINTS


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._line_no = 0
        self._skip_depth = 0

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self._parts)).strip()
        if text:
            self.lines.append(Line(text, self._line_no))
        self._parts = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        line_no = self.getpos()[0]
        for offset, piece in enumerate(data.split("\n")):
            if offset:
                self._flush()
            if not self._parts:
                self._line_no = line_no + offset
            self._parts.append(piece)


def html_lines(text: str) -> list[Line]:
    """Non-empty text pieces of an HTML document, each with the raw line it starts on."""
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    collector._flush()
    return collector.lines
