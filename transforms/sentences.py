"""Sentence boundaries with character offsets into the article text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_ENDERS = frozenset("。！？!?…")
_CLOSERS = frozenset("”’」』）)》\"'")


@dataclass(frozen=True)
class Sentence:
    paragraph_idx: int
    start: int
    end: int


def _spans_in_line(line: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    i = 0
    n = len(line)
    while i < n:
        if line[i] in _ENDERS:
            while i < n and line[i] in _ENDERS:
                i += 1
            while i < n and line[i] in _CLOSERS:
                i += 1
            spans.append((start, i))
            start = i
        else:
            i += 1
    if start < n:
        spans.append((start, n))
    trimmed = []
    for s, e in spans:
        while s < e and line[s].isspace():
            s += 1
        while e > s and line[e - 1].isspace():
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return trimmed


def split_sentences(text: str, paragraph_ids: Sequence[int]) -> list[Sentence]:
    """Sentences of a text whose i-th line is the body paragraph `paragraph_ids[i]`.

    Sentences never cross a paragraph, so every sentence traces to one paragraph row.
    """
    lines = text.split("\n") if text else []
    if len(lines) != len(paragraph_ids):
        raise ValueError(f"{len(lines)} lines but {len(paragraph_ids)} paragraph ids")
    sentences = []
    offset = 0
    for line, paragraph_idx in zip(lines, paragraph_ids, strict=True):
        for s, e in _spans_in_line(line):
            sentences.append(Sentence(paragraph_idx, offset + s, offset + e))
        offset += len(line) + 1
    return sentences
