"""Entities with normalised values: tickers, money, percentages and dates by pattern,
people, places and organisations from the POS tags.

Pattern matches win over tag-based mentions where they overlap, since a pattern knows
the whole span (`601328.SH`) where the tagger sees pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from transforms.names import name_mentions
from transforms.patterns import Match, pattern_matches
from transforms.sentences import Sentence
from transforms.tagging import Token

ENTITY_TYPES = (
    "PERSON",
    "ORG",
    "LOC",
    "TICKER",
    "MONEY",
    "QUANTITY",
    "PERCENT",
    "PERCENT_POINT",
    "DATE",
)


@dataclass(frozen=True)
class Entity:
    entity_type: str
    text: str
    normalized: str
    number: float | None
    start: int
    end: int
    sentence_idx: int


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
    gazetteer: Mapping[str, str] | None = None,
) -> list[Entity]:
    """All entity mentions of one article, in text order, each inside one sentence.

    `places` are names accepted as LOC whatever their tag; `surnames`, when given, is
    the set a PERSON must start with.
    """
    gazetteer = gazetteer or {}
    matches = pattern_matches(text, pub_date)
    for name in name_mentions(text, tokens, gazetteer=gazetteer, places=places, surnames=surnames):
        matches.append(Match(name.entity_type, name.start, name.end, name.normalized, None))
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
