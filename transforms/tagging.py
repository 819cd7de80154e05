"""Word segmentation and POS tags from jieba, as tokens with offsets into the text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from transforms.sentences import Sentence


class Tagger(Protocol):
    """(word, POS) pairs whose words concatenate to the input, and plain dictionary words."""

    def tag(self, text: str) -> Iterable[tuple[str, str]]: ...

    def words(self, text: str) -> list[str]: ...


@dataclass(frozen=True)
class Token:
    sentence_idx: int
    token: str
    pos: str
    start: int
    end: int


def tag_span(text: str, start: int, end: int, *, tagger: Tagger) -> list[tuple[str, int, int]]:
    """Tag text[start:end] and return (pos, start, end) per non-blank token, offsets absolute.

    jieba's words normally concatenate to the input; if a word cannot be found where the
    previous one ended, the uncovered characters become single-character tokens tagged
    `x`, so tokens always cover every non-blank character.
    """
    span = text[start:end]
    out: list[tuple[str, int, int]] = []
    pos_in_span = 0
    for word, flag in tagger.tag(span):
        if not word:
            continue
        found = span.find(word, pos_in_span)
        if found < 0:
            continue
        for i in range(pos_in_span, found):
            if not span[i].isspace():
                out.append(("x", start + i, start + i + 1))
        if not word.isspace():
            # A word may carry surrounding blanks (jieba keeps "a b" whole for Latin runs).
            lead = len(word) - len(word.lstrip())
            trail = len(word) - len(word.rstrip())
            out.append((flag, start + found + lead, start + found + len(word) - trail))
        pos_in_span = found + len(word)
    for i in range(pos_in_span, len(span)):
        if not span[i].isspace():
            out.append(("x", start + i, start + i + 1))
    return out


def tokenize(text: str, sentences: Sequence[Sentence], *, tagger: Tagger) -> list[Token]:
    """Tokens of every sentence, in text order, indexed by sentence."""
    tokens = []
    for sentence_idx, sentence in enumerate(sentences):
        for pos, s, e in tag_span(text, sentence.start, sentence.end, tagger=tagger):
            tokens.append(Token(sentence_idx, text[s:e], pos, s, e))
    return tokens
