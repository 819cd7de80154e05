"""Normalisation that keeps meaning: one form for digits, letters and punctuation.

Pages mix full-width and half-width forms (`２０２６年`, `ＶＩＰ`, `交通银行(601328.SH)`,
`表示,`). Digits and Latin letters become half-width so numbers and codes match one
pattern; ASCII punctuation that sits in Chinese text becomes its full-width form, the form
the rest of the page uses. Every mapping is one character to one character, so offsets
computed on the normalised text stay valid for it, and lineage stays at the line level.
"""

from __future__ import annotations

import re

_FULL_ALNUM = {
    **{code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)},  # ０-９
    **{code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)},  # Ａ-Ｚ
    **{code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)},  # ａ-ｚ
    0xFF05: ord("%"),  # ％ always follows a number
}
# Full-width '．' and '，' inside a number are a decimal point and a thousands separator.
_NUMBER_PUNCT = re.compile(r"(?<=[0-9])[．，](?=[0-9])")
_NUMBER_HALF = {"．": ".", "，": ","}

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’《》"
_ASCII_TO_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
# ASCII punctuation with Chinese on either side (ignoring spaces) is Chinese punctuation.
_ASCII_IN_CJK = re.compile(rf"(?<=[{_CJK}])\s*[,:;?!()]|[,:;?!()]\s*(?=[{_CJK}])")


def to_half_width(text: str) -> str:
    """Full-width digits, Latin letters and number punctuation to their ASCII forms."""
    text = text.translate(_FULL_ALNUM)
    return _NUMBER_PUNCT.sub(lambda m: _NUMBER_HALF[m.group()], text)


def _full_width_match(match: re.Match[str]) -> str:
    return "".join(_ASCII_TO_FULL.get(ch, ch) for ch in match.group())


def punctuation_to_full_width(text: str) -> str:
    """ASCII `,:;?!()` next to Chinese become `，：；？！（）`; inside Latin text they stay.

    A parenthesis pair converts together when either side touches Chinese, so
    `交通银行(601328.SH)消息` becomes `交通银行（601328.SH）消息`, not a mixed pair.
    """
    converted = _ASCII_IN_CJK.sub(_full_width_match, text)
    # Pairs where only one side touched Chinese: finish the pair.
    converted = re.sub(r"（([^（）()\n]{0,60})\)", r"（\1）", converted)
    return re.sub(r"\(([^（）()\n]{0,60})）", r"（\1）", converted)


def normalize_line(text: str) -> str:
    """The form every later step sees; the same length as `text`, character for character."""
    return punctuation_to_full_width(to_half_width(text))
