"""Silent encoding damage: GB18030 text that lost a byte, and text that reads as mojibake.

Some archives (the SogouCA crawl among them) replaced one byte of a two-byte character
with `?`: the stream then decodes without error but to nonsense, one byte out of step,
until the next `?` realigns it. Each stretch after a `?` is decoded both as is and one
byte later; the reading with fewer uncommon characters wins, and a lost character is
marked U+FFFD rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

LOST = "\ufffd"
TEXT_QUALITIES = ("clean", "repaired", "suspect")
# Share of Han characters outside the common set above which a text reads as mojibake.
SUSPECT_RATIO = 0.05
_MIN_HAN_FOR_VERDICT = 40
# A stretch is only re-read when it holds this many uncommon characters as is.
_MIN_BAD = 2


# What is not a Han character (the unified block and extension A): removed in one call,
# it leaves a text's Han characters.
_NOT_HAN = re.compile("[^\u4e00-\u9fff\u3400-\u4dbf]+")


@lru_cache(maxsize=4)
def _deleting(common: frozenset[str]) -> dict[int, None]:
    """A `str.translate` table that deletes the common characters."""
    return dict.fromkeys(ord(ch) for ch in common if len(ch) == 1)


def _han_and_uncommon(text: str, common: Collection[str]) -> tuple[str, int]:
    """The Han characters of `text`, and how many of them are not common: counted by
    string operations rather than one Python step per character (half the time on news
    text) where `common` is a frozenset."""
    han = _NOT_HAN.sub("", text)
    if isinstance(common, frozenset):
        return han, len(han.translate(_deleting(common)))
    return han, sum(1 for ch in han if ch not in common)


def uncommon_count(text: str, common: Collection[str]) -> int:
    return _han_and_uncommon(text, common)[1] + text.count(LOST)


def _badness(segment: bytes, common: Collection[str]) -> tuple[int, str]:
    text = segment.decode("gb18030", errors="replace")
    # Read one byte late, a stretch ends on half a character: that one is expected.
    return uncommon_count(text.removesuffix(LOST), common), text


def realign_gb18030(data: bytes, common: Collection[str]) -> tuple[str, int]:
    """Decode GB18030 bytes, realigning each stretch a lost byte shifted; count repairs."""
    pieces = data.split(b"?")
    out = [pieces[0].decode("gb18030", errors="replace")]
    repairs = 0
    # A re-read stretch that ends on half a character: the next `?` is that character's
    # other half, already marked lost.
    open_char = False
    for piece in pieces[1:]:
        # Only the stretch up to the end of its line can be out of step.
        head, sep, rest = piece.partition(b"\n")
        as_is_bad, as_is = _badness(head, common)
        shifted_bad, shifted = _badness(head[1:], common)
        shift = bool(head) and as_is_bad >= _MIN_BAD and shifted_bad < as_is_bad
        if shift:
            repairs += 1
        body = shifted if shift else as_is
        out.append(("" if open_char else LOST if shift else "?") + body)
        open_char = shift and not sep and body.endswith(LOST)
        if sep:
            out.append(sep.decode() + rest.decode("gb18030", errors="replace"))
    return "".join(out), repairs


def text_quality(text: str, common: Collection[str]) -> str:
    """clean, repaired (lost characters marked U+FFFD), or suspect (reads as mojibake)."""
    han, uncommon = _han_and_uncommon(text, common)
    if len(han) >= _MIN_HAN_FOR_VERDICT and uncommon / len(han) > SUSPECT_RATIO:
        return "suspect"
    return "repaired" if LOST in text else "clean"
