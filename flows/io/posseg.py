"""jieba.posseg with a faster unknown-word model and the same output, word for word.

`jieba.posseg` spends about four fifths of its time in its Viterbi search over
(BMES x POS) states, run on every run of characters its dictionary cannot join. The
search below visits, for each state, only the states that can precede it (or the previous
column, whichever is smaller) instead of every pair, and breaks ties exactly as jieba does;
its results are cached per character run, since news repeats the same unknown words
(names, tickers' short names) many times. Dictionary lookups, the route through the
sentence and every tag still come from jieba itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jieba.posseg
from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P

State = tuple[str, str]

_MIN_FLOAT = -3.14e100
_MIN_INF = float("-inf")
_ALL_STATES: frozenset[State] = frozenset(trans_P)
_NEXT: dict[State, frozenset[State]] = {s: frozenset(out) for s, out in trans_P.items()}
_PREVIOUS: dict[State, dict[State, float]] = {}
for _from, _outs in trans_P.items():
    for _to, _p in _outs.items():
        _PREVIOUS.setdefault(_to, {})[_from] = _p
_CHAR_STATES: dict[str, frozenset[State]] = {c: frozenset(s) for c, s in char_state_tab_P.items()}
CACHE_SIZE = 200_000


def viterbi(obs: str) -> tuple[float, list[State]]:
    """`jieba.posseg.viterbi.viterbi` on jieba's own model: same path, same probability."""
    scores: dict[State, float] = {}
    back: list[dict[State, State | str]] = [{}]
    first = obs[0]
    for y in char_state_tab_P.get(first, trans_P.keys()):
        scores[y] = start_P[y] + emit_P[y].get(first, _MIN_FLOAT)
        back[0][y] = ""
    for t in range(1, len(obs)):
        char = obs[t]
        prev = [x for x in back[t - 1] if trans_P[x]]
        expected: set[State] = set()
        for x in prev:
            expected |= _NEXT[x]
        states = _CHAR_STATES.get(char, _ALL_STATES) & expected
        if not states:
            states = frozenset(expected) if expected else _ALL_STATES
        column: dict[State, float] = {}
        pointers: dict[State, State | str] = {}
        for y in states:
            emit = emit_P[y].get(char, _MIN_FLOAT)
            previous = _PREVIOUS.get(y, {})
            best: tuple[float, State] | None = None
            if len(prev) <= len(previous):
                for y0 in prev:
                    p = previous.get(y0)
                    if p is not None:
                        cand = (scores[y0] + p + emit, y0)
                        if best is None or cand > best:
                            best = cand
            else:
                for y0, p in previous.items():
                    if y0 in scores and trans_P[y0]:
                        cand = (scores[y0] + p + emit, y0)
                        if best is None or cand > best:
                            best = cand
            if best is None or best[0] == _MIN_INF:
                # jieba takes the max of (-inf, state) over every previous state.
                best = (_MIN_INF, max(prev))
            column[y], pointers[y] = best
        scores = column
        back.append(pointers)
    prob, state = max((scores[y], y) for y in back[-1])
    route: list[State] = [("", "")] * len(obs)
    for i in range(len(obs) - 1, -1, -1):
        route[i] = state
        state = back[i][state]  # type: ignore[assignment]
    return prob, route


@lru_cache(maxsize=CACHE_SIZE)
def unknown_words(run: str) -> tuple[tuple[str, str], ...]:
    """What `POSTokenizer.__cut` yields for one run of Han characters."""
    _, route = viterbi(run)
    out: list[tuple[str, str]] = []
    begin = nexti = 0
    for i, char in enumerate(run):
        position, tag = route[i]
        if position == "B":
            begin = i
        elif position == "E":
            out.append((run[begin : i + 1], tag))
            nexti = i + 1
        elif position == "S":
            out.append((char, tag))
            nexti = i + 1
    if nexti < len(run):
        out.append((run[nexti:], route[nexti][1]))
    return tuple(out)


# Importing jieba.posseg has already read jieba's main dictionary (349,000 lines, about
# 0.4 s) into its default tokenizer's tag table; a copy of it serves every tokenizer on
# that dictionary. Taken now, before anything could merge user words into the original.
_DEFAULT_WORD_TAGS: dict[str, str] | None = (
    dict(jieba.posseg.dt.word_tag_tab)
    if jieba.posseg.dt.tokenizer.dictionary == jieba.DEFAULT_DICT
    and not jieba.posseg.dt.tokenizer.user_word_tag_tab
    else None
)


class FastPOSTokenizer(jieba.posseg.POSTokenizer):
    """`jieba.posseg.POSTokenizer` whose unknown-word step is `unknown_words`."""

    def load_word_tag(self, f: Any) -> None:
        if _DEFAULT_WORD_TAGS is not None and self.tokenizer.dictionary == jieba.DEFAULT_DICT:
            f.close()
            self.word_tag_tab = dict(_DEFAULT_WORD_TAGS)
        else:
            super().load_word_tag(f)

    def _POSTokenizer__cut(self, sentence: str) -> Iterator[jieba.posseg.pair]:
        for word, flag in unknown_words(sentence):
            yield jieba.posseg.pair(word, flag)
