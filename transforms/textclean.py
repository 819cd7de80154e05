"""Character-level cleaning shared by every input format."""

from __future__ import annotations

import re
import unicodedata

# Every line-break convention a publisher's tooling has been seen to emit.
_LINE_BREAKS = re.compile("\r\n|\r|\u0085|\u2028|\u2029")
_KEPT_CONTROLS = frozenset("\n\t")


def normalize_newlines(text: str) -> str:
    """Map CRLF, CR, NEL and Unicode separators to LF so line numbers mean one thing."""
    return _LINE_BREAKS.sub("\n", text)


def _is_stray_control(ch: str) -> bool:
    if ch in _KEPT_CONTROLS:
        return False
    category = unicodedata.category(ch)
    # Cc: C0/C1 controls (NUL included); Cf BOM left over mid-stream; Cs lone surrogates.
    return category in ("Cc", "Cs") or ch == "\ufeff"


def strip_controls(text: str) -> str:
    """Drop NUL and other control characters; tabs and newlines carry layout, so they stay."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if not _is_stray_control(ch))


def control_ratio(text: str) -> float:
    """Share of characters that no text editor would show: a cheap binary-vs-text signal."""
    if not text:
        return 0.0
    bad = sum(1 for ch in text if _is_stray_control(ch) or ch == "\ufffd")
    return bad / len(text)


def clean_text(text: str) -> str:
    """Newlines normalised and controls stripped: the form every later step sees."""
    return strip_controls(normalize_newlines(text))
