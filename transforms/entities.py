"""Entities with normalised values: tickers, money, percentages and dates by pattern,
people, places and organisations from the POS tags.

Pattern matches win over tag-based mentions where they overlap, since a pattern knows
the whole span (`601328.SH`) where the tagger sees pieces.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
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
    # For a TICKER: the index, in the same list, of the company it is the code of.
    linked_idx: int | None = None


# What may sit between a company's name and its code: `贵阳银行（601997）`, `交通银行 601328.SH`.
_BETWEEN_NAME_AND_CODE = frozenset("（(【[ \u3000")
# Tags of the tokens a listed company's name is made of (`昊志` nr + `机电` n, `*` `ST` `郑煤`).
_NAME_TOKEN_TAGS = frozenset({"n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "j", "eng", "x", "vn"})
_MAX_COMPANY_CHARS = 10
# Words ending listed companies' names whatever their tag: 腾讯`控股`, 万科`A`.
_COMPANY_WORDS = frozenset({"控股", "股份", "集团", "科技", "实业", "发展", "电子", "生物", "医药"})


def _company_before(
    text: str, start: int, tokens: Sequence[Token], token_ends: Sequence[int]
) -> Match | None:
    """The company a code is printed after, from the tokens right before the bracket
    (`token_ends`: the tokens' ends, in text order like the tokens)."""
    end = start
    while end > 0 and text[end - 1] in _BETWEEN_NAME_AND_CODE:
        end -= 1
    first = None
    for i in range(bisect_right(token_ends, end) - 1, -1, -1):
        tok = tokens[i]
        nameish = tok.pos in _NAME_TOKEN_TAGS or tok.token in _COMPANY_WORDS
        if tok.end != (first.start if first else end) or not nameish:
            break
        if tok.pos == "x" and tok.token not in ("*", "＊"):
            break
        if end - tok.start > _MAX_COMPANY_CHARS:
            break
        first = tok
    if first is None:
        return None
    start = first.start
    # `A(600121)和B(300503)`: the conjunction after a code is not part of the next name.
    if start > 0 and text[start - 1] in ")）" and text[start] in "和与及":
        start += 1
    if end - start < 2:
        return None
    return Match("ORG", start, end, text[start:end], None)


def _link_tickers(entities: list[Entity]) -> list[Entity]:
    """Each TICKER points at the ORG that ends right before it (brackets between)."""
    linked = list(entities)
    for i, entity in enumerate(entities):
        if entity.entity_type != "TICKER" or i == 0:
            continue
        before = entities[i - 1]
        if before.entity_type == "ORG" and before.sentence_idx == entity.sentence_idx:
            linked[i] = replace(entity, linked_idx=i - 1)
    return linked


def _non_overlapping(matches: Sequence[Match]) -> list[Match]:
    """Longest match first; later matches that overlap a kept one are dropped.

    Kept spans are disjoint, so their ends rise with their starts: a match overlaps one
    of them exactly when it overlaps the last kept span starting before the match ends.
    That keeps the check logarithmic, so an article with many entities stays linear.
    """
    kept: list[Match] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        before = bisect_left(starts, m.end)
        if before and ends[before - 1] > m.start:
            continue
        kept.append(m)
        starts.insert(before, m.start)
        ends.insert(before, m.end)
    return sorted(kept, key=lambda m: (m.start, m.end))


def _sentence_locator(sentences: Sequence[Sentence]) -> Callable[[int, int], int | None]:
    """The sentence holding a span; sentences are disjoint and in text order."""
    starts = [s.start for s in sentences]

    def locate(start: int, end: int) -> int | None:
        idx = bisect_right(starts, start) - 1
        if idx >= 0 and end <= sentences[idx].end:
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
    numbers: Sequence[Match] | None = None,
) -> list[Entity]:
    """All entity mentions of one article, in text order, each inside one sentence.

    `places` are names accepted as LOC whatever their tag; `surnames`, when given, is
    the set a PERSON must start with; `numbers`, when given, are `number_matches(text)`.
    """
    gazetteer = gazetteer or {}
    matches = pattern_matches(text, pub_date, numbers=numbers)
    for name in name_mentions(text, tokens, gazetteer=gazetteer, places=places, surnames=surnames):
        matches.append(Match(name.entity_type, name.start, name.end, name.normalized, None))
    tickers = [m for m in matches if m.entity_type == "TICKER"]
    org_ends = sorted(m.end for m in matches if m.entity_type == "ORG")
    token_ends = [t.end for t in tokens]
    for ticker in tickers:
        named = bisect_right(org_ends, ticker.start)
        gap = text[org_ends[named - 1] if named else 0 : ticker.start]
        if not named or any(ch not in _BETWEEN_NAME_AND_CODE for ch in gap):
            company = _company_before(text, ticker.start, tokens, token_ends)
            if company is not None:
                matches.append(company)
                insort(org_ends, company.end)
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
    return _link_tickers(entities)
