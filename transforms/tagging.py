"""Word segmentation and POS tags from jieba, as tokens with offsets into the text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import NamedTuple, Protocol

from transforms.patterns import Match, protected_spans
from transforms.sentences import Sentence


class Tagger(Protocol):
    """(word, POS) pairs whose words concatenate to the input, and plain dictionary words."""

    def tag(self, text: str) -> Iterable[tuple[str, str]]: ...

    def words(self, text: str) -> list[str]: ...


class Token(NamedTuple):
    """One token of an article; a named tuple, since articles have thousands of them."""

    sentence_idx: int
    token: str
    pos: str
    start: int
    end: int


Span = tuple[int, int, str]


def tag_span(
    text: str,
    start: int,
    end: int,
    *,
    tagger: Tagger,
    spans: Sequence[Span] | None = None,
) -> list[tuple[str, int, int]]:
    """Tag text[start:end] and return (pos, start, end) per non-blank token, offsets absolute.

    Spans jieba would cut apart (`601328.SH`, `1.2万亿元`, `23.4%`, `2025—2027年`) are kept
    as one token each, tagged by `protected_spans`; jieba tags the text between them.
    `spans`, when given, are those of text[start:end], offsets absolute.
    """
    if spans is None:
        spans = [(start + s, start + e, pos) for s, e, pos in protected_spans(text[start:end])]
    tokens: list[Token] = []
    _add_tokens(text, start, end, tagger, spans, 0, tokens)
    return [(t.pos, t.start, t.end) for t in tokens]


def _add_tokens(
    text: str,
    start: int,
    end: int,
    tagger: Tagger,
    spans: Sequence[Span],
    sentence_idx: int,
    out: list[Token],
) -> None:
    """`tag_span`'s tokens, made as `Token`s of sentence `sentence_idx` at once."""
    cursor = start
    for s, e, pos in spans:
        _tag_plain(text, cursor, s, tagger, sentence_idx, out)
        out.append(Token(sentence_idx, text[s:e], pos, s, e))
        cursor = e
    _tag_plain(text, cursor, end, tagger, sentence_idx, out)


def _spans_by_sentence(spans: Sequence[Span], sentences: Sequence[Sentence]) -> list[list[Span]]:
    """The article's protected spans, each given to the sentence that holds it; one that
    crosses a sentence's end belongs to neither and is left to jieba."""
    out: list[list[Span]] = [[] for _ in sentences]
    i = 0
    for idx, sentence in enumerate(sentences):
        while i < len(spans) and spans[i][0] < sentence.start:
            i += 1
        while i < len(spans) and spans[i][0] < sentence.end:
            if spans[i][1] <= sentence.end:
                out[idx].append(spans[i])
            i += 1
    return out


_BLANK = re.compile(r"\s")
_new_tuple = tuple.__new__
_word = itemgetter(0)


def _tag_plain(
    text: str, start: int, end: int, tagger: Tagger, sentence_idx: int, out: list[Token]
) -> None:
    """jieba's tokens of text[start:end], added to `out`.

    jieba's words normally concatenate to the input; if a word cannot be found where the
    previous one ended, the uncovered characters become single-character tokens tagged
    `x`, so tokens always cover every non-blank character.
    """
    span = text[start:end]
    if not span.strip():
        return
    words = tagger.tag(span)
    tagged = words if isinstance(words, list) else list(words)
    if _BLANK.search(span) is None and "".join(map(_word, tagged)) == span:
        # The common case, checked at once: every word lies where the previous one ended,
        # and none has a blank to trim; each word is the text at its offsets. Tokens made
        # by `tuple.__new__`, not the named tuple's own `__new__` (a Python function, half
        # the cost of a token here).
        cursor = start
        append = out.append
        for word, flag in tagged:
            if word:
                after = cursor + len(word)
                append(_new_tuple(Token, (sentence_idx, word, flag, cursor, after)))
                cursor = after
        return
    pos_in_span = 0
    for word, flag in tagged:
        if not word:
            continue
        if span.startswith(word, pos_in_span):
            found = pos_in_span
        else:
            found = span.find(word, pos_in_span)
            if found < 0:
                continue
            for i in range(pos_in_span, found):
                if not span[i].isspace():
                    out.append(_uncovered(text, sentence_idx, start + i))
        pos_in_span = found + len(word)
        if not (word[0].isspace() or word[-1].isspace()):
            first, last = start + found, start + pos_in_span
            out.append(Token(sentence_idx, text[first:last], flag, first, last))
        elif not word.isspace():
            # A word may carry surrounding blanks (jieba keeps "a b" whole for Latin runs).
            lead = len(word) - len(word.lstrip())
            trail = len(word) - len(word.rstrip())
            first, last = start + found + lead, start + pos_in_span - trail
            out.append(Token(sentence_idx, text[first:last], flag, first, last))
    for i in range(pos_in_span, len(span)):
        if not span[i].isspace():
            out.append(_uncovered(text, sentence_idx, start + i))


def _uncovered(text: str, sentence_idx: int, at: int) -> Token:
    return Token(sentence_idx, text[at], "x", at, at + 1)


def tokenize(
    text: str,
    sentences: Sequence[Sentence],
    *,
    tagger: Tagger,
    numbers: Sequence[Match] | None = None,
) -> list[Token]:
    """Tokens of every sentence, in text order, indexed by sentence.

    The protected spans are found in the whole text at once (`numbers`, when given, are
    `number_matches(text)`): the patterns then run once per article, not once per
    sentence, which took as long as the matching itself.
    """
    by_sentence = _spans_by_sentence(protected_spans(text, numbers=numbers), sentences)
    tokens: list[Token] = []
    for sentence_idx, sentence in enumerate(sentences):
        spans = by_sentence[sentence_idx]
        _add_tokens(text, sentence.start, sentence.end, tagger, spans, sentence_idx, tokens)
    return tokens
