"""The steps that rebuild articles from page lines, each a pure function over a unit frame.

A unit is a line of the page, later a paragraph made of several lines once joined. The
frame carries, per unit: its page position (`unit`), `text`, `raw_lines`, `kind`, the
`article` it belongs to, whether it repeats other text (`repeat`), and its reading
position inside the article (`order`). The steps run in this order:

    split_units -> normalize_units -> classify_units -> resolve_titles -> split_articles
    -> mark_repeats -> join_fragments -> name_repeats -> order_reading

and none of them drops a unit's lines: a join moves them into the unit it extends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import pairwise
from typing import Any, Protocol

import polars as pl

from transforms.lines import (
    MAX_HEADING_CHARS,
    TWO_PART_TITLE,
    Line,
    classify_line,
    is_headline_like,
    is_terminated,
)
from transforms.normalize import normalize_line

UNIT_SCHEMA: dict[str, pl.DataType] = {
    "unit": pl.Int64(),
    "text": pl.String(),
    "raw_lines": pl.List(pl.Int64()),
    "kind": pl.String(),
    "article": pl.Int64(),
    "repeat": pl.Boolean(),
    "order": pl.Int64(),
}

# How far past a cut-off fragment its continuation is looked for (boxes, captions,
# credits and pull-quotes can sit between the two halves).
JOIN_WINDOW = 8
# Characters on each side of a break that the cut-word test segments.
_CUT_CONTEXT = 6
_MIN_REPEAT_CHARS = 12
_MAX_CAPTION_CHARS = 80
# The most lines a pull-quote or repeated caption set inside a paragraph spans. Bounds the
# search for them: every run of lines of a paragraph is tried, so without it a paragraph
# of n unterminated lines (a list, a table, text without punctuation) costs n cubed.
_MAX_BOXED_LINES = 12
# How many paragraphs before and after a repeat its original is looked for in. A printed
# article has far fewer; the bound keeps a document of thousands of paragraphs (a report
# delivered as one record) linear instead of quadratic.
_REPEAT_WINDOW = 100
# A paragraph is a shortened or merged repeat when this share of its clauses (by
# characters) stands word for word in longer paragraphs of the same article.
_REPEAT_COVERAGE = 0.8
_MIN_CLAUSE_CHARS = 4
_CLAUSES = re.compile(r"[，,。；;：:！!？?、“”\"'（）()《》\s]+")
_WHITESPACE = re.compile(r"\s+")

Row = dict[str, Any]


class Lexicon(Protocol):
    """Dictionary segmentation: a word spanning a line break is evidence the break cut it;
    part-of-speech tags tell a clause from a section heading's noun phrase."""

    def words(self, text: str) -> list[str]: ...

    def tag(self, text: str) -> Iterable[tuple[str, str]]: ...


def unit_frame(rows: Sequence[Row]) -> pl.DataFrame:
    """Rows of units as a frame of `UNIT_SCHEMA`."""
    return pl.DataFrame(list(rows), schema=UNIT_SCHEMA, orient="row")


def _rows(units: pl.DataFrame) -> list[Row]:
    return units.sort("unit").to_dicts()


def _by_article(units: pl.DataFrame, step: Callable[[list[Row]], list[Row]]) -> pl.DataFrame:
    return unit_frame(_by_article_rows(units.to_dicts(), step))


def _by_article_rows(rows: list[Row], step: Callable[[list[Row]], list[Row]]) -> list[Row]:
    """`step` on each article's rows in unit order; articles in the order they start."""
    articles: dict[int, list[Row]] = {}
    for row in sorted(rows, key=lambda r: int(r["unit"])):
        articles.setdefault(row["article"], []).append(row)
    return [out for article in articles.values() for out in step(article)]


def split_units(lines: Sequence[Line]) -> pl.DataFrame:
    """One unit per non-empty line, in page order, not yet classified."""
    return unit_frame(unit_rows(lines))


def unit_rows(lines: Sequence[Line]) -> list[Row]:
    """The rows of `split_units`."""
    return [
        {
            "unit": idx,
            "text": line.text,
            "raw_lines": [line.line_no],
            "kind": "body",
            "article": 0,
            "repeat": False,
            "order": idx,
        }
        for idx, line in enumerate(lines)
    ]


def normalize_units(units: pl.DataFrame) -> pl.DataFrame:
    """Half-width digits and letters, full-width punctuation in Chinese text."""
    return units.with_columns(pl.col("text").map_elements(normalize_line, return_dtype=pl.String))


def classify_units(units: pl.DataFrame) -> pl.DataFrame:
    """Credit, byline, title-like or body, from each line alone."""
    return units.with_columns(
        pl.col("text").map_elements(classify_line, return_dtype=pl.String).alias("kind")
    )


# A heading does not end on a word that needs what follows (的, 之, 在 ...): a line that
# does is the first piece of a paragraph cut by the layout.
_OPEN_ENDINGS = frozenset(
    "的之在与和及对把被将为从向于以而并或等了着其这该各每还也都就才又再更很最已让使给所如若但且、"
)
# An adverb of degree or a negation standing as a word of its own needs what follows
# (`…实在太`, `…方案也不`, `…拐点还没`): a line ending on one is cut, never a heading.
_NEEDS_A_VERB = frozenset("太不没")


# Words that open a paragraph, never continue a sentence cut by the layout.
_PARAGRAPH_OPENERS = re.compile(
    r"^(?:(?:不过|此外|同时|目前|据悉|另外|对此|其中|然而|因此|但是|事实上|实际上|值得注意的是"
    r"|据了解|近日|日前|与此同时|总体来看|总的来看|其实|首先|总之|可以说|近期|近年来|今年以来)"
    r"[，,：:]?|\d{1,2}月\d{1,2}日[，,])"
)


# A heading names a topic; a line opening with a conjunction, a pronoun or a sentence
# connective (`不过`, `事实上`, `另外`) starts a sentence.
_CLAUSE_OPENERS = (
    "如果", "即便", "即使", "虽然", "尽管", "因为", "由于", "但是", "而且", "所以", "因此",
    "我们", "我", "他们", "以上", "对于", "随着", "如果说", "当", "从", "作为", "根据", "针对",
    "为了", "按照", "通过", "据", "不过", "事实上", "另外", "其实", "此外", "然而",
)  # fmt: skip


# Characters no sentence starts with: a line beginning with one continues the line above.
_CONTINUING_STARTS = frozenset("的地得了着过们吗呢吧啊么，。、；：？！,.;:?!”’）)》")

# Openings no paragraph has: a sentence of one word of three characters or fewer (`亿。`,
# `局面。`, but not `大家好。`), a clause of one character (`潮，`; list numerals
# `一、` and replies `对，` `即，` aside), or a closing quotation mark early on (`股灾”的风险`).
_SHORT_SENTENCE = re.compile(r"^([^\s，,；;：:。！？!?“”\"（(、]{1,3})。")
_ONE_CHARACTER_CLAUSE = re.compile(
    r"^(?![一二三四五六七八九十答问对即是不好嗯哦但而且])[\u4e00-\u9fff][，,。；;：:！？!?]"
)
_EARLY_CLOSER = re.compile(r"^[^“《\s]{0,5}[”》]")
# Particles that never open a sentence when they stand as a word of their own.
_PARTICLES = frozenset("的地得了们吗呢吧啊么")


def opens_mid_sentence(text: str, lexicon: Lexicon | None) -> bool:
    """The line starts inside a sentence, so it goes on with a line cut before it."""
    if text[0] in _CONTINUING_STARTS and not _is_han(text[0]):
        return True  # punctuation and closers
    if text[0] in _PARTICLES:
        return lexicon is None or len(lexicon.words(text[:6])[0]) == 1
    short = _SHORT_SENTENCE.match(text)
    if short is not None:
        # A word alone (`局面。`) ends a sentence begun above; `大家好。` is one of its own.
        return lexicon is not None and len(lexicon.words(short.group(1))) == 1
    return _ONE_CHARACTER_CLAUSE.match(text) is not None or _EARLY_CLOSER.match(text) is not None


# Words of running sentences, not of headings: 的/了/得 particles, pronouns, personal
# names and 是 count one each; prepositions and conjunctions half (`机遇和挑战` is a
# heading, `港交所对于这些…` is not); adverbs and localisers less (`长期向好` is a heading,
# `市场间轮动性将愈演愈` is not).
_CLAUSE_TAGS = {"uj": 1.0, "ul": 1.0, "ud": 1.0, "uv": 1.0, "r": 1.0, "nr": 1.0, "nrfg": 1.0,
                "nrt": 1.0, "p": 0.5, "c": 0.5, "d": 0.4, "f": 0.4}  # fmt: skip


def reads_as_clause(text: str, lexicon: Lexicon) -> bool:
    """A short line built like a sentence (`很多人对中国经济的悲观`), not a heading."""
    weight = sum(
        1.0 if word == "是" else _CLAUSE_TAGS.get(flag, 0.0) for word, flag in lexicon.tag(text)
    )
    return weight >= 1.0


def _ends_open(text: str, lexicon: Lexicon | None) -> bool:
    """Ends on a word that needs what follows: `…加大对`, but not the noun `资金动向`."""
    if text[-1] in _NEEDS_A_VERB:
        # Also the end of words (`不得不`, `出没`): only with the dictionary.
        return lexicon is not None and len(lexicon.words(text)[-1]) == 1
    if text[-1] not in _OPEN_ENDINGS:
        return False
    return lexicon is None or len(lexicon.words(text)[-1]) == 1


def _ends_on_a_function_word(text: str, lexicon: Lexicon) -> bool:
    """Ends on a preposition or a conjunction (`…低开主要由于`), which need what follows."""
    tagged = list(lexicon.tag(text))
    return bool(tagged) and tagged[-1][1] in ("p", "c")


def _looks_cut(
    row: Row, prev: Row | None, nxt: Row | None, page_text: str, lexicon: Lexicon | None
) -> bool:
    """Evidence that a short unpunctuated line is a cut-off piece, not a heading."""
    if _ends_open(row["text"], lexicon) or row["text"].startswith(_CLAUSE_OPENERS):
        return True
    if lexicon is not None and (
        reads_as_clause(row["text"], lexicon) or _ends_on_a_function_word(row["text"], lexicon)
    ):
        return True
    if prev is not None and prev["kind"] == "body" and not is_terminated(prev["text"]):
        return True  # the second piece of a paragraph cut just above
    if prev is not None and prev["kind"] == "byline":
        return True  # a section heading follows body text, never the byline
    if nxt is None or nxt["kind"] != "body":
        return False
    if nxt["text"][0] in _CONTINUING_STARTS or opens_mid_sentence(nxt["text"], lexicon):
        return True
    if _completes(row["text"], nxt["text"], lexicon):
        return True
    # Together with the next line it repeats text found elsewhere: a pull-quote in pieces.
    joined = _squash(row["text"] + nxt["text"])
    return len(joined) >= _MIN_REPEAT_CHARS and page_text.count(joined[: _MIN_REPEAT_CHARS * 2]) > 1


def _heads_byline(rows: list[Row], idx: int) -> bool:
    """The byline sits right below, or below one short title line (a subtitle).

    A headline-like line between them is the headline itself, and a body line between
    them means the byline belongs to the paragraphs around it, not to this line.
    """
    below = rows[idx + 1 : idx + 3]
    if below and below[0]["kind"] == "byline":
        return True
    return (
        len(below) == 2
        and below[1]["kind"] == "byline"
        and below[0]["kind"] == "title"
        and len(below[0]["text"]) <= MAX_HEADING_CHARS
    )


# A line reading as a sentence: clause punctuation, a closing question or exclamation,
# or an opening bracket (`（原标题：…）`).
_SENTENCE_SHAPE = re.compile(r"[，,；;]|[？?！!…]$|^[（(]")


def _ends_article_above(rows: list[Row], idx: int) -> bool:
    """The byline below belongs to the article above, printed after its later paragraphs.

    So it is when that article has body text but no byline yet, and the line between
    reads as the end of its text: it continues a cut line or reads as a sentence.
    """
    has_body = False
    for row in reversed(rows[:idx]):
        if row["kind"] == "headline":
            break
        if row["kind"] == "byline":
            return False
        has_body = has_body or row["kind"] == "body"
    if not has_body:
        return False
    prev = rows[idx - 1]
    continues = prev["kind"] == "body" and not is_terminated(prev["text"])
    return continues or _SENTENCE_SHAPE.search(rows[idx]["text"]) is not None


def resolve_titles(
    units: pl.DataFrame, *, allow_headlines: bool = True, lexicon: Lexicon | None = None
) -> pl.DataFrame:
    """Headline, section heading or cut-off body line, for each title-like unit.

    A headline opens the page, sits just above a byline, has the two-part shape of a
    printed headline ("主题 副题"), or sits right above a section heading; headlines
    may punctuate (`机构论市：…？`) where headings do not. A short line is a heading
    unless it looks cut (ends on 的/之/在/、…, on 太/不/没, on a preposition or a
    conjunction, opens with a connective such as 不过/事实上, sits right under a byline,
    completes a word or a number with the next line, is followed by a line opening
    mid-sentence, or repeats elsewhere together with it); a longer unpunctuated line is a
    cut body line.
    """
    return unit_frame(
        resolve_title_rows(_rows(units), allow_headlines=allow_headlines, lexicon=lexicon)
    )


def resolve_title_rows(
    rows: list[Row], *, allow_headlines: bool = True, lexicon: Lexicon | None = None
) -> list[Row]:
    """`resolve_titles` on the rows of a unit frame, in unit order (changed in place)."""
    page_text = "".join(_squash(r["text"]) for r in rows)
    for idx, row in enumerate(rows):
        text = row["text"]
        title = row["kind"] == "title"
        if not (title or (row["kind"] == "body" and is_headline_like(text))):
            continue
        nxt = rows[idx + 1] if idx + 1 < len(rows) else None
        near_byline = _heads_byline(rows, idx)
        # A printed headline's shape (主题 副题, or 人物：观点) above a paragraph's opening words.
        shaped = (
            _HEADLINE_SHAPE.search(text) is not None
            and nxt is not None
            and _PARAGRAPH_OPENERS.match(nxt["text"]) is not None
            and not re.search(r"[，,；;]", text)
        )
        if near_byline and not (idx == 0 or shaped) and _ends_article_above(rows, idx):
            near_byline = False
        strong = idx == 0 or near_byline or shaped
        if allow_headlines and strong:
            row["kind"] = "headline"
            continue
        if not title:
            continue
        next_is_heading = (
            len(text) > MAX_HEADING_CHARS
            and nxt is not None
            and nxt["kind"] == "title"
            and len(nxt["text"]) <= MAX_HEADING_CHARS
        )
        if allow_headlines and (TWO_PART_TITLE.search(text) is not None or next_is_heading):
            row["kind"] = "headline"
        elif len(text) <= MAX_HEADING_CHARS and not _looks_cut(
            row, rows[idx - 1] if idx else None, nxt, page_text, lexicon
        ):
            row["kind"] = "heading"
        else:
            row["kind"] = "body"
    return rows


def _assign_articles(rows: list[Row]) -> None:
    article = 0
    for position, row in enumerate(rows):
        if row["kind"] == "headline" and position > 0:
            article += 1
        row["article"] = article


def _cut_before(rows: list[Row], i: int, lexicon: Lexicon | None) -> bool:
    """The line is a paragraph's first piece: the body line after it completes its word."""
    after = rows[i + 1] if i + 1 < len(rows) else None
    return (
        after is not None
        and after["kind"] == "body"
        and cuts_a_word(rows[i]["text"], after["text"], lexicon)
    )


def _missed_headline(rows: list[Row], lexicon: Lexicon | None = None) -> int | None:
    """A heading that must be a headline: its article would otherwise have two bylines.

    When an article's byline and lead are printed after its body, nothing above the
    headline marks it; but the article before would then hold two bylines. The longest
    heading between them (headlines run longer than section headings) opens the second.
    """
    by_article: dict[int, list[int]] = {}
    for position, row in enumerate(rows):
        if row["kind"] == "byline":
            by_article.setdefault(row["article"], []).append(position)
    for positions in by_article.values():
        for first, second in pairwise(positions):
            if second - first <= 2:
                continue
            candidates = [
                i
                for i in range(first + 1, second)
                if _could_head(rows[i])
                and not _continues(rows[i - 1], rows[i])
                and not _cut_before(rows, i, lexicon)
            ]
            if candidates:
                return max(candidates, key=lambda i: (_headline_score(rows[i]["text"]), -i))
    return None


_HEADLINE_MARKS = re.compile(r"[：:？?！!]|\S\s+\S")
# Shapes only headlines take: 人物：观点, or 主题 副题 (a question alone may be body text).
_HEADLINE_SHAPE = re.compile(r"\S[：:]\S|\S\s+\S")


def _could_head(row: Row) -> bool:
    if row["kind"] == "heading":
        return True
    text = row["text"]
    return (
        row["kind"] == "body"
        and is_headline_like(text)
        and not re.search(r"[，,；;]", text)
        and (text[-1] not in _OPEN_ENDINGS or _HEADLINE_SHAPE.search(text) is not None)
    )


def _continues(prev: Row, row: Row) -> bool:
    """`row` goes on with the sentence `prev` left open."""
    return (prev["kind"] == "body" and not is_terminated(prev["text"])) or row["text"].startswith(
        _CLAUSE_OPENERS
    )


def _headline_score(text: str) -> tuple[bool, int]:
    """Headlines carry a colon, a question or a two-part space, and run long."""
    return _HEADLINE_MARKS.search(text) is not None, len(text)


def split_articles(units: pl.DataFrame, *, lexicon: Lexicon | None = None) -> pl.DataFrame:
    """A new article starts at each headline; lines before the first one form article 0."""
    return unit_frame(split_article_rows(_rows(units), lexicon=lexicon))


def split_article_rows(rows: list[Row], *, lexicon: Lexicon | None = None) -> list[Row]:
    """`split_articles` on rows in unit order (changed in place)."""
    _assign_articles(rows)
    while (missed := _missed_headline(rows, lexicon)) is not None:
        rows[missed]["kind"] = "headline"
        _assign_articles(rows)
    return rows


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _squash(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSES.split(text) if len(c) >= _MIN_CLAUSE_CHARS]


def is_repeat_of(text: str, sources: Sequence[str]) -> bool:
    """Exactly contained in a source, or its clauses mostly found word for word in them."""
    needle = _squash(text)
    if len(needle) < _MIN_REPEAT_CHARS:
        return False
    if not is_terminated(needle):
        # A cut-off piece of body text is found inside the sentence it starts, up to
        # the cut; a repeat, set in its own box, stops where a clause stops.
        return any(_contains_to_a_boundary(source, needle) for source in sources)
    # One search of all the sources at once: the needle has no blank, so it cannot match
    # across the line break that joins two of them.
    haystack = "\n".join(sources)
    if needle in haystack:
        return True
    clauses = _clauses(needle)
    total = sum(len(c) for c in clauses)
    if len(clauses) < 2 or not total:
        return False
    # Clause by clause, stopping as soon as the share is reached or out of reach.
    covered, left = 0, total
    for clause in clauses:
        left -= len(clause)
        if clause in haystack:
            covered += len(clause)
            if covered / total >= _REPEAT_COVERAGE:
                return True
        elif (covered + left) / total < _REPEAT_COVERAGE:
            return False
    return covered / total >= _REPEAT_COVERAGE


def _contains_to_a_boundary(source: str, needle: str) -> bool:
    start = source.find(needle)
    while start >= 0:
        end = start + len(needle)
        if end == len(source) or _CLAUSES.match(source, end):
            return True
        start = source.find(needle, start + 1)
    return False


def _chains(rows: list[Row]) -> list[list[Row]]:
    """Body lines in page order, grouped where a cut-off line runs into the next one."""
    chains: list[list[Row]] = []
    last_body = -2
    for position, row in enumerate(rows):
        if row["kind"] != "body":
            continue
        if position == last_body + 1 and not is_terminated(chains[-1][-1]["text"]):
            chains[-1].append(row)
        else:
            chains.append([row])
        last_body = position
    return chains


def _mark_article_repeats(rows: list[Row], lexicon: Lexicon | None) -> list[Row]:
    chains = _chains(rows)
    texts = ["".join(_squash(r["text"]) for r in chain) for chain in chains]

    def sources(me: int, text: str, *, allowed: set[int]) -> list[str]:
        # A repeat is never longer than what it repeats; of two equal copies the later
        # one is the repeat.
        return [
            other
            for j in range(max(0, me - _REPEAT_WINDOW), min(len(texts), me + _REPEAT_WINDOW + 1))
            if j != me
            and j in allowed
            and (len(other := texts[j]) > len(text) or (other == text and j < me))
        ]

    everyone = set(range(len(chains)))
    repeated = {
        i for i, text in enumerate(texts) if is_repeat_of(text, sources(i, text, allowed=everyone))
    }
    originals = everyone - repeated
    for i, chain in enumerate(chains):
        for row in chain:
            row["repeat"] = i in repeated
        if i not in repeated and len(chain) > 1:
            after = texts[i + 1] if i + 1 < len(texts) else ""
            _mark_boxed_runs(chain, partial(sources, i, allowed=originals), after)
            for above, row in pairwise(chain):
                if row["repeat"] and not above["repeat"]:
                    row["repeat"] = not cuts_a_word(above["text"], row["text"], lexicon)
    # The sentence printed right above a photo credit is the photo's caption, repeated
    # from the body or not: it is not part of the text flow either way. An article's only
    # body paragraph stays body, credit or not.
    flowing = sum(1 for r in rows if r["kind"] == "body" and not r["repeat"])
    for idx, row in enumerate(rows[:-1]):
        if (
            flowing > 1
            and row["kind"] == "body"
            and rows[idx + 1]["kind"] == "credit"
            and is_terminated(row["text"])
            and len(row["text"]) <= _MAX_CAPTION_CHARS
        ):
            row["repeat"] = True
    return rows


_SEAM = 4


def _carries_on(texts: list[str], start: int, text: str, sources: list[str]) -> bool:
    """The run goes on with the line above it: the source quotes them across the seam.

    `…A股八成` | `个股出现下跌，…` where a pull-quote prints `A股八成个股出现下跌…`: the
    run is the paragraph's own continuation and the pull-quote is the copy.
    """
    if start == 0:
        return False
    above = texts[start - 1]
    seam = above[-_SEAM:] + text[:_SEAM]
    return len(seam) == 2 * _SEAM and any(seam in source for source in sources)


def _mark_boxed_runs(chain: list[Row], sources: Callable[[str], list[str]], after: str) -> None:
    """Repeats set inside a paragraph cut by the layout: `p0 | quote | p1`.

    The quote's lines run on from the cut-off line, so they share its chain. Each run of
    lines is judged against the originals and against the paragraph it interrupts (which
    it often quotes): the rest of its chain, and the chain `after` it when the run ends
    the chain. Longest runs first, up to `_MAX_BOXED_LINES` lines.
    """
    texts = [_squash(r["text"]) for r in chain]
    for size in range(min(len(chain) - 1, _MAX_BOXED_LINES), 0, -1):
        for start in range(len(chain) - size + 1):
            run = range(start, start + size)
            if any(chain[k]["repeat"] for k in run):
                continue
            text = "".join(texts[k] for k in run)
            rest = "".join(
                t for k, t in enumerate(texts) if k not in run and not chain[k]["repeat"]
            )
            # The chain after goes on with the paragraph, unless it is a later copy of
            # the run itself: then the run is the original.
            if run[-1] == len(chain) - 1 and not is_repeat_of(text, [after]):
                rest += after
            found_in = sources(text) + ([rest] if len(rest) > len(text) else [])
            if is_repeat_of(text, found_in) and not _carries_on(texts, start, text, found_in):
                for k in run:
                    chain[k]["repeat"] = True


def mark_repeats(units: pl.DataFrame, *, lexicon: Lexicon | None = None) -> pl.DataFrame:
    """Flag body lines that repeat other body text of their article (pull-quotes, captions).

    A line that completes the word the line above was cut in (`…成为市场反弹的板` +
    `块，…`) goes on with that paragraph, whatever else it repeats.
    """
    return _by_article(units, lambda rows: _mark_article_repeats(rows, lexicon))


def cuts_a_word(head: str, tail: str, lexicon: Lexicon | None) -> bool:
    """True when segmenting across the break puts one word over it (`打` | `造` -> `打造`)."""
    if lexicon is None or not head or not tail:
        return False
    left, right = head[-_CUT_CONTEXT:], tail[:_CUT_CONTEXT]
    position = 0
    for word in lexicon.words(left + right):
        end = position + len(word)
        # Digits and Latin letters run together across any break (`200` | `2017年`).
        if position < len(left) < end and _is_han(left[-1]) and _is_han(right[0]):
            return True
        position = end
    return False


# What follows a number cut at the end of a line: its unit or more digits (`18` | `万`).
_NUMBER_TAIL = re.compile(r"^[\d.,万亿千百元%％年月日号个点倍家只股亩吨]")


def _completes(head: str, tail: str, lexicon: Lexicon | None) -> bool:
    """`tail` finishes the word or the number that `head` was cut in."""
    if head and head[-1].isdigit() and _NUMBER_TAIL.match(tail):
        return True
    return cuts_a_word(head, tail, lexicon)


# A sentence adverbial set off by a comma that opens a sentence: a connective (`此外，`
# `然而，`) or a point in time (`今日，` `2015年，` `周二早盘，`).
_FRAMING_OPENER = re.compile(
    r"^(?:(?:不过|此外|同时|另外|对此|其中|然而|因此|但是|事实上|实际上|值得注意的是|与此同时"
    r"|总体来看|总的来看|总体来说|其实|首先|总之|可以说|如今|当然|显然|可见|换言之|简而言之"
    r"|一方面|另一方面|除此之外|在此背景下|据悉|据了解)"
    r"|(?:\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?|\d{1,2}月(?:\d{1,2}日)?|\d{1,2}日|今日|今天|昨日"
    r"|昨天|当天|当日|随后|此前|此后|近日|日前|目前|当前|周[一二三四五六日]|本周|上周|午后|早盘"
    r"|尾盘)(?:早盘|午后|盘中|尾盘|晚间|上午|下午|以来)?)[，,]"
)
# A cut clause ending on a word that takes what follows as its object or its date
# (`开始于` | `1月29日，…`, `截至` | `2018年1月2日，…`) may go on with such an adverbial.
_GOVERNS_NEXT = re.compile(r"(?:[\d年月于至到是从在自为]|截至|截止)$")
_ENDS_MID_CLAUSE = re.compile(r"[\u4e00-\u9fffA-Za-z%）)”》]$")


def _opens_new_sentence_after(head: str, box: str, lexicon: Lexicon | None) -> bool:
    """`box` opens with a sentence adverbial that the clause cut in `head` cannot run into.

    `…果然，道指` | `实际上，…`: a clause cut mid-phrase does not go on with `实际上，`,
    unless it ends on a word that governs it (`截至` | `2018年1月2日，…`) or the break
    cut a word.
    """
    return (
        _FRAMING_OPENER.match(box) is not None
        and _ENDS_MID_CLAUSE.search(head) is not None
        and head[-1] not in _OPEN_ENDINGS
        and _GOVERNS_NEXT.search(head) is None
        and not _completes(head, box, lexicon)
    )


def _continuation(rows: list[Row], idx: int, lexicon: Lexicon | None) -> int | None:
    """Index of the body line that continues the cut-off line at `idx`, if any."""
    head = rows[idx]["text"]
    candidates: list[int] = []
    for j in range(idx + 1, min(len(rows), idx + 1 + JOIN_WINDOW)):
        row = rows[j]
        if row["kind"] in ("headline", "heading"):
            break
        if row["kind"] == "body" and not row["repeat"] and not row.get("_joined"):
            candidates.append(j)
    if not candidates:
        return None
    first = candidates[0]
    # A complete paragraph set right after the cut (a box), with the line after it
    # completing the word the cut split or opening mid-sentence, and the box itself not
    # opening mid-sentence (`的十大股东…。` is the cut line's rest): the box is jumped
    # over. Only one line ahead: further on, some line forms a word with the cut-off end
    # by chance too often.
    if len(candidates) > 1:
        box, second = rows[first]["text"], rows[candidates[1]]["text"]
        completes = _completes(head, second, lexicon) and not _completes(head, box, lexicon)
        goes_on = opens_mid_sentence(second, lexicon)
        if is_terminated(box) and (completes or goes_on) and not opens_mid_sentence(box, lexicon):
            return candidates[1]
        # A complete box opening a sentence of its own (`实际上，…。`) after a clause cut
        # mid-phrase, and the line after it opening no sentence: that line goes on.
        if (
            is_terminated(box)
            and _opens_new_sentence_after(head, box, lexicon)
            and _FRAMING_OPENER.match(second) is None
            and _PARAGRAPH_OPENERS.match(second) is None
        ):
            return candidates[1]
    if not _PARAGRAPH_OPENERS.match(rows[first]["text"]):
        return first
    # The next body line opens a paragraph of its own (`目前…`): a box set into the
    # column. Look past it for the line that completes the word the cut split.
    for j in candidates[1:]:
        if cuts_a_word(head, rows[j]["text"], lexicon):
            return j
    return first


# A line ending on a colon or semicolon may still run on (`…唯一爆款：` | `新年伊始，…`,
# `…记者称：` | `“第一，…”`); it does not when the next line opens a list item.
_PAUSES = ("：", ":", "；", ";")
_OWN_PARAGRAPH = re.compile(
    r"^(?:[（(【]|[一二三四五六七八九十]+[是、）)]|第[一二三四五六七八九十]|\d+[、.)）]"
    r"|[（(][一二三四五六七八九十\d]+[）)]|[①②③④⑤⑥⑦⑧⑨⑩])"
)


def _runs_on(rows: list[Row], idx: int) -> int | None:
    """The next line continues a body line that ends on a pause (：；), if it does."""
    row = rows[idx]
    if row["repeat"] or not row["text"].endswith(_PAUSES):
        return None
    nxt = idx + 1
    while nxt < len(rows) and rows[nxt].get("_joined"):
        nxt += 1
    if nxt >= len(rows):
        return None
    after = rows[nxt]
    if after["kind"] != "body" or after["repeat"] or _OWN_PARAGRAPH.match(after["text"]):
        return None
    return nxt


def _join_article(rows: list[Row], lexicon: Lexicon | None) -> list[Row]:
    for idx, row in enumerate(rows):
        if row.get("_joined") or row["kind"] != "body":
            continue
        while True:
            if is_terminated(row["text"]):
                runs_on = _runs_on(rows, idx)
                if runs_on is None:
                    break
                row["text"] += rows[runs_on]["text"]
                row["raw_lines"] = [*row["raw_lines"], *rows[runs_on]["raw_lines"]]
                rows[runs_on]["_joined"] = True
                continue
            if row["repeat"]:
                # A repeat cut by the layout continues in the very next line, also a repeat.
                nxt = idx + 1
                while nxt < len(rows) and rows[nxt].get("_joined"):
                    nxt += 1
                if nxt >= len(rows) or not (rows[nxt]["kind"] == "body" and rows[nxt]["repeat"]):
                    break
                target = nxt
            else:
                found = _continuation(rows, idx, lexicon)
                if found is None:
                    break
                target = found
                for skipped in rows[idx + 1 : target]:
                    if (
                        skipped["kind"] == "body"
                        and not skipped["repeat"]
                        and not skipped.get("_joined")
                        and is_terminated(skipped["text"])
                    ):
                        skipped["kind"] = "sidebar"
            row["text"] += rows[target]["text"]
            row["raw_lines"] = [*row["raw_lines"], *rows[target]["raw_lines"]]
            rows[target]["_joined"] = True
    return [{k: v for k, v in r.items() if k != "_joined"} for r in rows if not r.get("_joined")]


def join_fragments(units: pl.DataFrame, *, lexicon: Lexicon | None = None) -> pl.DataFrame:
    """Rejoin lines the layout cut mid-sentence, in reading order, within each article.

    A line ending on a colon or semicolon runs on into the next body line unless that
    line opens a list item (`一是…`, `（二）…`, `1、…`).

    The continuation of a cut-off line is the next body line, unless that line is a
    complete paragraph and the line after it completes the word the cut split
    (`…跑赢债券市` | box | `场。…`) or opens mid-sentence (`…一个全新的` | box |
    `局面。`), or the next line opens a paragraph of its own
    (`目前…`, `此外，…`): then it is the later line that completes the word
    (`…提到了打` + `造新时代…`). Such a word alone is weak evidence: by chance, some
    later line often forms one. A complete line opening with a sentence adverbial
    (`实际上，…。`, `今日，…。`) right after a clause cut mid-phrase is a box too, when the
    line after it opens no sentence (`…果然，道指` | box | `在周五狂泻666点…`). Complete
    body paragraphs jumped over on the way are boxes set into the column, so they become
    sidebars.
    """
    return _by_article(units, lambda rows: _join_article(rows, lexicon))


def _name_article_repeats(rows: list[Row]) -> list[Row]:
    for idx, row in enumerate(rows):
        if row["kind"] != "body" or not row["repeat"]:
            continue
        before = rows[idx - 1]["kind"] if idx > 0 else None
        after = rows[idx + 1]["kind"] if idx + 1 < len(rows) else None
        if after == "credit":
            row["kind"] = "caption"
        elif before == "heading":
            row["kind"] = "deck"
        else:
            row["kind"] = "pullquote"
    return rows


def name_repeats(units: pl.DataFrame) -> pl.DataFrame:
    """A repeat above a photo credit is a caption, under a heading a deck, else a pull-quote."""
    return _by_article(units, _name_article_repeats)


def _order_article(rows: list[Row]) -> list[Row]:
    """Move a byline printed after the body, and the lead that follows it, to the top."""
    start = 1 if rows and rows[0]["kind"] == "headline" else 0
    late = next((i for i, r in enumerate(rows) if r["kind"] == "byline" and i > start), None)
    if late is None or any(r["kind"] == "byline" for r in rows[start:late]):
        ordered = rows
    else:
        end = late + 1
        while end < len(rows) and rows[end]["kind"] not in ("headline", "heading", "byline"):
            end += 1
        block = rows[late:end]
        if late == start or not any(r["kind"] == "body" for r in rows[start:late]):
            ordered = rows
        else:
            ordered = rows[:start] + block + rows[start:late] + rows[end:]
    for position, row in enumerate(ordered):
        row["order"] = position
    return rows


def order_reading(units: pl.DataFrame) -> pl.DataFrame:
    """Reading position of each unit within its article (`order`)."""
    return _by_article(units, _order_article)


def page_rows(rows: list[Row], *, lexicon: Lexicon | None = None) -> list[Row]:
    """Every step on the `unit_rows` of a page: normalize, classify, resolve titles, split
    articles, then per article mark repeats, join fragments, name repeats and order.

    The same steps as the frame functions, on one list of rows: a page's units are a few
    dozen to a few hundred, and building a frame between steps costs more than the
    steps themselves.
    """
    return _article_steps(
        split_article_rows(_titled(rows, True, lexicon), lexicon=lexicon), lexicon
    )


def article_rows(rows: list[Row], *, lexicon: Lexicon | None = None) -> list[Row]:
    """`page_rows` for one article whose boundaries are known (the `unit_rows` of a JSONL
    record): no headline from its text, no article split."""
    return _article_steps(_titled(rows, False, lexicon), lexicon)


def _titled(rows: list[Row], allow_headlines: bool, lexicon: Lexicon | None) -> list[Row]:
    for row in rows:
        row["text"] = normalize_line(row["text"])
        row["kind"] = classify_line(row["text"])
    return resolve_title_rows(rows, allow_headlines=allow_headlines, lexicon=lexicon)


def _article_steps(rows: list[Row], lexicon: Lexicon | None) -> list[Row]:
    rows = _by_article_rows(rows, lambda article: _mark_article_repeats(article, lexicon))
    rows = _by_article_rows(rows, lambda article: _join_article(article, lexicon))
    return _by_article_rows(_by_article_rows(rows, _name_article_repeats), _order_article)
