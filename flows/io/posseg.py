"""jieba.posseg with a faster unknown-word model and the same output, word for word.

`jieba.posseg` spends about four fifths of its time in its Viterbi search over
(BMES x POS) states, run on every run of characters its dictionary cannot join. The
search below visits, for each state, only the states that can precede it (or the previous
column, whichever is smaller) instead of every pair, and breaks ties exactly as jieba does;
its results are cached per character run, since news repeats the same unknown words
(names, tickers' short names) many times.

Most of the rest went to Python overhead around jieba's route search: a generator per
block, a `pair` per word, the word graph built as a dict and searched with a `max` over a
generator that takes a logarithm per candidate word. `FastPOSTokenizer.tag` does the same
steps, in the same order with the same arithmetic, in one function over lists, with each
word's log probability computed once. The dictionary, the model and every tag are still
jieba's own; tests compare the tags with `jieba.posseg` on real text.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from math import log
from typing import Any

import jieba.posseg
from jieba.posseg import (
    char_state_tab_P,
    emit_P,
    re_eng,
    re_han_detail,
    re_han_internal,
    re_num,
    re_skip_detail,
    re_skip_internal,
    start_P,
    trans_P,
)

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


Tagged = list[tuple[str, str]]
# Not a log probability (those are at most 0): marks a dictionary entry not cached yet.
_NOT_SEEN = 1.0


class FastPOSTokenizer(jieba.posseg.POSTokenizer):
    """`jieba.posseg.POSTokenizer` whose unknown-word step is `unknown_words`, and whose
    `tag` gives what `cut(text, HMM=True)` gives, as (word, tag) pairs, faster."""

    _log_probs: dict[str, float | None]
    # log(total) of the dictionary size it was computed for, and each word's log
    # probability under it; both start again if words are added.
    _log_total: float | None = None
    _log_total_of: int = 0

    def load_word_tag(self, f: Any) -> None:
        if _DEFAULT_WORD_TAGS is not None and self.tokenizer.dictionary == jieba.DEFAULT_DICT:
            f.close()
            self.word_tag_tab = dict(_DEFAULT_WORD_TAGS)
        else:
            super().load_word_tag(f)

    def _POSTokenizer__cut(self, sentence: str) -> Iterator[jieba.posseg.pair]:
        for word, flag in unknown_words(sentence):
            yield jieba.posseg.pair(word, flag)

    def tag(self, sentence: str) -> Tagged:
        """`[(p.word, p.flag) for p in self.cut(sentence)]` (HMM on), step for step."""
        self.makesure_userdict_loaded()
        self.tokenizer.check_initialized()
        out: Tagged = []
        for block in re_han_internal.split(sentence):
            if re_han_internal.match(block):
                self._tag_block(block, out)
                continue
            for x in re_skip_internal.split(block):
                if re_skip_internal.match(x):
                    out.append((x, "x"))
                    continue
                for xx in x:
                    # jieba tests the whole piece, not the character, for `eng`.
                    if re_num.match(xx):
                        out.append((xx, "m"))
                    elif re_eng.match(x):
                        out.append((xx, "eng"))
                    else:
                        out.append((xx, "x"))
        return out

    def _route(self, sentence: str) -> list[int]:
        """Where the best word starting at each position ends: `Tokenizer.get_DAG` and
        `Tokenizer.calc` in one backward pass, the same sums in the same order, ties to
        the longer word as `max` over (score, end) breaks them."""
        freq = self.tokenizer.FREQ
        total = self.tokenizer.total
        if self._log_total is None or total != self._log_total_of:
            self._log_total = log(total)
            self._log_total_of = total
            self._log_probs = {}
        log_total = self._log_total
        # Every dictionary entry met so far: a word's log probability, or None for an
        # entry that is only a prefix of longer words (frequency 0).
        log_probs = self._log_probs
        cached = log_probs.get
        # jieba's `log(FREQ.get(word) or 1) - logtotal` for a character it has no word for.
        unknown = log(1) - log_total
        n = len(sentence)
        scores: list[float] = [0] * (n + 1)  # type: ignore[list-item]
        ends = [0] * (n + 1)
        for idx in range(n - 1, -1, -1):
            best = None
            best_end = idx
            i = idx
            frag = sentence[idx]
            while True:
                lp = cached(frag, _NOT_SEEN)
                if lp == _NOT_SEEN:
                    count = freq.get(frag)
                    if count is None:
                        break
                    lp = log_probs[frag] = log(count) - log_total if count else None
                if lp is not None:
                    score = lp + scores[i + 1]
                    if best is None or score >= best:
                        best = score
                        best_end = i
                i += 1
                if i >= n:
                    break
                frag = sentence[idx : i + 1]
            if best is None:
                best = unknown + scores[idx + 1]
            scores[idx] = best
            ends[idx] = best_end
        return ends

    def _tag_block(self, sentence: str, out: Tagged) -> None:
        """`POSTokenizer.__cut_DAG`: dictionary words along the best route; runs of single
        characters go to the unknown-word model unless the run is itself a word."""
        ends = self._route(sentence)
        tags = self.word_tag_tab
        freq = self.tokenizer.FREQ
        n = len(sentence)
        x = 0
        run_start = -1
        while x < n:
            y = ends[x] + 1
            if y - x == 1:
                if run_start < 0:
                    run_start = x
            else:
                if run_start >= 0:
                    self._tag_run(sentence[run_start:x], out, tags, freq)
                    run_start = -1
                word = sentence[x:y]
                out.append((word, tags.get(word, "x")))
            x = y
        if run_start >= 0:
            self._tag_run(sentence[run_start:], out, tags, freq)

    @staticmethod
    def _tag_run(run: str, out: Tagged, tags: dict[str, str], freq: dict[str, int]) -> None:
        if len(run) == 1:
            out.append((run, tags.get(run, "x")))
        elif not freq.get(run):
            # `POSTokenizer.__cut_detail`.
            for block in re_han_detail.split(run):
                if re_han_detail.match(block):
                    out.extend(unknown_words(block))
                    continue
                for x in re_skip_detail.split(block):
                    if x:
                        if re_num.match(x):
                            out.append((x, "m"))
                        elif re_eng.match(x):
                            out.append((x, "eng"))
                        else:
                            out.append((x, "x"))
        else:
            out.extend((char, tags.get(char, "x")) for char in run)
