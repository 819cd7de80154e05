"""Character-level cleaning shared by every input format."""

from __future__ import annotations

import re

# Every line-break convention a publisher's tooling has been seen to emit.
_LINE_BREAKS = re.compile("\r\n|\r|\u0085|\u2028|\u2029")
# Unicode's Cc controls (C0 and C1, NUL included) except tab and newline, lone surrogates
# (Cs) and a BOM left over mid-stream: what no text editor would show. Spelled as ranges
# so that whole texts are scanned in C; a test checks it against unicodedata, code point
# by code point.
_STRAY_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")


def normalize_newlines(text: str) -> str:
    """Map CRLF, CR, NEL and Unicode separators to LF so line numbers mean one thing."""
    return _LINE_BREAKS.sub("\n", text)


def strip_controls(text: str) -> str:
    """Drop NUL and other control characters; tabs and newlines carry layout, so they stay."""
    if text.isprintable():
        return text
    return _STRAY_CONTROLS.sub("", text)


def control_ratio(text: str) -> float:
    """Share of characters that no text editor would show: a cheap binary-vs-text signal."""
    if not text:
        return 0.0
    bad = len(_STRAY_CONTROLS.findall(text)) + text.count("\ufffd")
    return bad / len(text)


def clean_text(text: str) -> str:
    """Newlines normalised and controls stripped: the form every later step sees."""
    return strip_controls(normalize_newlines(text))
