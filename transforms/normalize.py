"""Normalisation that keeps meaning: one form for digits, letters and punctuation.

Pages mix full-width and half-width forms (`２０２６年`, `ＶＩＰ`, `交通银行(601328.SH)`,
`表示,`). Digits and Latin letters become half-width so numbers and codes match one
pattern; ASCII punctuation that sits in Chinese text becomes its full-width form, the form
the rest of the page uses. Every mapping is one character to one character, so offsets
computed on the normalised text stay valid for it, and lineage stays at the line level.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Mapping
from itertools import pairwise

_FULL_ALNUM = {
    **{code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)},  # ０-９
    **{code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)},  # Ａ-Ｚ
    **{code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)},  # ａ-ｚ
    0xFF05: ord("%"),  # ％ always follows a number
}
# Full-width '．' and '，' inside a number are a decimal point and a thousands separator.
# The mark comes first in the pattern, so the scan skips to each mark instead of trying a
# lookbehind at every character.
_NUMBER_PUNCT = re.compile(r"[．，](?<=[0-9][．，])(?=[0-9])")
_NUMBER_HALF = {"．": ".", "，": ","}

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’《》"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_ASCII_TO_FULL = str.maketrans(
    {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
)
# Runs of ASCII punctuation and blanks: a run touching Chinese is Chinese punctuation.
_RUN = re.compile(r"[\s,:;?!()]+")
_PARENS = re.compile(r"[（）()]")
_MAX_PAIR_GAP = 60


def run_translator(mapping: Mapping[int, int]) -> Callable[[str], str]:
    """`str.translate(mapping)` that looks up only the runs of mapped characters: in news
    text they come a few dozen a page, and `translate` looks up every character (four
    times the time)."""
    runs = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(mapping)) + "]+")

    def translate(text: str) -> str:
        return runs.sub(lambda run: run[0].translate(mapping), text)

    return translate


_full_alnum_to_ascii = run_translator(_FULL_ALNUM)


def to_half_width(text: str) -> str:
    """Full-width digits, Latin letters and number punctuation to their ASCII forms."""
    text = _full_alnum_to_ascii(text)
    return _NUMBER_PUNCT.sub(lambda m: _NUMBER_HALF[m.group()], text)


def _roots(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def punctuation_to_full_width(text: str) -> str:
    """ASCII `,:;?!()` next to Chinese become `，：；？！（）`; inside Latin text they stay.

    Next to Chinese means in a run of punctuation and blanks that touches a Chinese
    character or full-width form on either side, so `银行(,` converts whole. A parenthesis
    pair (at most 60 characters apart, no parenthesis between) converts together when
    either side does, so `交通银行(601328.SH)消息` becomes `交通银行（601328.SH）消息`, not
    a mixed pair; and what a converted parenthesis touches converts in turn. The result is
    the fixed point of these rules, so normalising twice changes nothing; it is found in
    one pass over runs and pairs (a union-find), linear in the line's length.
    """
    runs = [
        (m.start(), m.end())
        for m in _RUN.finditer(text)
        if any(ch in ",:;?!()" for ch in m.group())
    ]
    if not runs:
        return text
    starts = [start for start, _ in runs]
    parent = list(range(len(runs)))
    seeded = [
        (start > 0 and bool(_CJK_CHAR.match(text[start - 1])))
        or (end < len(text) and bool(_CJK_CHAR.match(text[end])))
        or "\u3000" in text[start:end]  # the ideographic space is blank and Chinese
        for start, end in runs
    ]

    def run_of(i: int) -> int:
        return bisect_right(starts, i) - 1

    parens = [(m.start(), m.group()) for m in _PARENS.finditer(text)]
    for (i, opening), (j, closing) in pairwise(parens):
        if opening not in "(（" or closing not in ")）" or j - i - 1 > _MAX_PAIR_GAP:
            continue
        if "\n" in text[i + 1 : j] or (opening == "（" and closing == "）"):
            continue
        if opening == "（" or closing == "）":  # one side is full-width already
            seeded[run_of(j if opening == "（" else i)] = True
        else:
            a, b = _roots(parent, run_of(i)), _roots(parent, run_of(j))
            parent[a] = b
    converted = {_roots(parent, r) for r in range(len(runs)) if seeded[r]}
    out, cursor = [], 0
    for r, (start, end) in enumerate(runs):
        if _roots(parent, r) in converted:
            out += [text[cursor:start], text[start:end].translate(_ASCII_TO_FULL)]
            cursor = end
    out.append(text[cursor:])
    return "".join(out)


def normalize_line(text: str) -> str:
    """The form every later step sees; the same length as `text`, character for character."""
    return punctuation_to_full_width(to_half_width(text))
