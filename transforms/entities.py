"""Entities with normalised values: tickers, money, percentages and dates by pattern,
people, places and organisations from the POS tags.

Pattern matches win over tag-based mentions where they overlap, since a pattern knows
the whole span (`601328.SH`) where the tagger sees pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from transforms.patterns import Match, pattern_matches
from transforms.sentences import Sentence
from transforms.tagging import Token

ENTITY_TYPES = (
    "PERSON",
    "ORG",
    "LOC",
    "TICKER",
    "MONEY",
    "PERCENT",
    "PERCENT_POINT",
    "DATE",
)

_TAG_TYPES = {"nr": "PERSON", "nrfg": "PERSON", "nrt": "PERSON", "ns": "LOC", "nt": "ORG"}
# jieba's dictionary tags many common words ns (城市, 上市, 入口): a LOC needs a place
# suffix on a name of three or more characters, or a known place name.
_PLACE_SUFFIXES = tuple("省市县区镇乡村州盟旗岛湾")
_MIN_SUFFIXED_PLACE = 3
_PERSON_CHARS = (2, 4)


@dataclass(frozen=True)
class Entity:
    entity_type: str
    text: str
    normalized: str
    number: float | None
    start: int
    end: int
    sentence_idx: int


def _tagged_type(
    token: str, pos: str, places: frozenset[str], surnames: frozenset[str] | None
) -> str | None:
    """PERSON, LOC or ORG for a tagged token, after filters for jieba's noisy tags."""
    entity_type = _TAG_TYPES.get(pos)
    if entity_type is None or len(token) < 2:
        return None
    if token in places:
        return "LOC"
    if entity_type == "PERSON":
        short, long = _PERSON_CHARS
        if not short <= len(token) <= long:
            return None
        if surnames is not None and token[0] not in surnames and token[:2] not in surnames:
            return None
    if entity_type == "LOC" and not (
        len(token) >= _MIN_SUFFIXED_PLACE and token.endswith(_PLACE_SUFFIXES)
    ):
        return None
    return entity_type


def _non_overlapping(matches: Sequence[Match]) -> list[Match]:
    """Longest match first; later matches that overlap a kept one are dropped."""
    kept: list[Match] = []
    taken: list[tuple[int, int]] = []
    for m in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        if all(m.end <= s or m.start >= e for s, e in taken):
            kept.append(m)
            taken.append((m.start, m.end))
    return sorted(kept, key=lambda m: (m.start, m.end))


def _sentence_locator(sentences: Sequence[Sentence]) -> Callable[[int, int], int | None]:
    def locate(start: int, end: int) -> int | None:
        for idx, s in enumerate(sentences):
            if s.start <= start and end <= s.end:
                return idx
        return None

    return locate


def extract_entities(
    text: str,
    sentences: Sequence[Sentence],
    tokens: Sequence[Token],
    *,
    pub_date: date,
    places: frozenset[str] = frozenset(),
    surnames: frozenset[str] | None = None,
) -> list[Entity]:
    """All entity mentions of one article, in text order, each inside one sentence.

    `places` are names accepted as LOC whatever their tag; `surnames`, when given, is
    the set a PERSON must start with.
    """
    matches = pattern_matches(text, pub_date)
    for tok in tokens:
        entity_type = _tagged_type(tok.token, tok.pos, places, surnames)
        if entity_type:
            matches.append(Match(entity_type, tok.start, tok.end, tok.token, None))
    locate = _sentence_locator(sentences)
    entities = []
    for m in _non_overlapping(matches):
        sentence_idx = locate(m.start, m.end)
        if sentence_idx is None:
            continue
        entities.append(
            Entity(
                m.entity_type,
                text[m.start : m.end],
                m.normalized,
                m.number,
                m.start,
                m.end,
                sentence_idx,
            )
        )
    return entities
