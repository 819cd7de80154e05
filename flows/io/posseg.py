"""jieba.posseg with a faster unknown-word model and the same output, word for word.

`jieba.posseg` spends about four fifths of its time in its Viterbi search over
(BMES x POS) states, run on every run of characters its dictionary cannot join: for each
character, every state it may be in against every state of the character before, in
Python. The search below runs the same loops compiled (`flows.io.viterbi_kernel`, numba)
on jieba's own model, with the same sums in the same order (IEEE doubles either way, so
the same floats) and ties broken as jieba's `max` over (score, state) breaks them; its
results are cached per character run, since news repeats the same unknown words (names,
tickers' short names) many times.

Most of the rest went to Python overhead around jieba's route search: a generator per
block, a `pair` per word, the word graph built as a dict and searched with a `max` over a
generator that takes a logarithm per candidate word. `FastPOSTokenizer.tag` does the same
steps, in the same order with the same arithmetic, in one function over lists, taking the
logarithm of each word frequency once. Once the dictionary is final (`freeze`), the route
itself comes from jieba-rs (`rjieba`), given a copy of the same dictionary: the same
dynamic programme, compiled. The dictionary, the model and every tag are still jieba's
own; tests compare the tags with `jieba.posseg` on real text.
"""

from __future__ import annotations

import re
import string
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from itertools import repeat
from math import log
from pathlib import Path
from typing import Any

import jieba
import numpy as np
import rjieba

from flows.io.model_cache import cached

State = tuple[str, str]

_MIN_FLOAT = -3.14e100
CACHE_SIZE = 200_000
# Blocks (runs of Han, Latin and digits, and the punctuation between them) whose tags are
# kept once the dictionary is final: news repeats phrases, names and boilerplate (a fifth
# of the benchmark's text is in blocks seen before), and the same punctuation on every
# line. The first ones seen are kept; some tens of MB at most.
BLOCK_CACHE_SIZE = 100_000

_JIEBA = Path(jieba.__file__).parent
JIEBA_DICT = _JIEBA / jieba.DEFAULT_DICT_NAME
_MODEL_FILES = [
    _JIEBA / "posseg" / f"{name}.py"
    for name in ("char_state_tab", "prob_start", "prob_trans", "prob_emit", "__init__")
]
_PATTERNS = (
    "re_han_detail",
    "re_skip_detail",
    "re_han_internal",
    "re_skip_internal",
    "re_eng",
    "re_num",
)


def _read_model() -> tuple[Any, ...]:
    """jieba.posseg's HMM tables and text patterns, as marshal can keep them."""
    import jieba.posseg as posseg

    patterns = tuple(
        (getattr(posseg, name).pattern, getattr(posseg, name).flags) for name in _PATTERNS
    )
    return posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P, patterns


# Importing jieba.posseg reads jieba's whole dictionary into its default tagger (0.6 s);
# the tables come from the model cache instead, and only its first build imports it.
char_state_tab_P, start_P, trans_P, emit_P, _patterns = cached(
    "jieba-posseg-model", _MODEL_FILES, _read_model
)
re_han_detail, re_skip_detail, re_han_internal, re_skip_internal, re_eng, re_num = (
    re.compile(pattern, flags) for pattern, flags in _patterns
)
# jieba's block pattern is one group: split, it gives the text between blocks and the
# blocks in turn (each odd piece a block), so no piece has to be matched again.
_SPLIT_ALTERNATES = re_han_internal.groups == 1
# jieba's states in its own order (tuples compare as `max` compares them): an index is a
# state, a larger index a larger state.
_STATES: list[State] = sorted(trans_P)
_INDEX = {state: i for i, state in enumerate(_STATES)}
_N = len(_STATES)
# jieba's transitions as lists, by state number: the states each state can go to (for x,
# `_NEXT[_NEXT_START[x]:_NEXT_START[x + 1]]`), and the states each can come from, largest
# first, with log P(to | from) (for y, from `_PREVIOUS_START[y]` on).
_TRANS = np.full((_N, _N), -np.inf)
for _from, _outs in trans_P.items():
    for _to, _p in _outs.items():
        _TRANS[_INDEX[_from], _INDEX[_to]] = _p
_NEXT_FROM, _NEXT = (np.ascontiguousarray(a) for a in np.nonzero(np.isfinite(_TRANS)))
_NEXT_START = np.searchsorted(_NEXT_FROM, np.arange(_N + 1))
_PREVIOUS_TO, _PREVIOUS = (
    np.ascontiguousarray(a) for a in np.nonzero(np.isfinite(_TRANS.T[:, ::-1]))
)
_PREVIOUS = _N - 1 - _PREVIOUS
_PREVIOUS_START = np.searchsorted(_PREVIOUS_TO, np.arange(_N + 1))
_PREVIOUS_LOGP = _TRANS[_PREVIOUS, _PREVIOUS_TO]
_HAS_NEXT = np.array([bool(trans_P[state]) for state in _STATES])
_START = np.array([start_P[state] for state in _STATES])
# One row per character jieba's model knows (some 8,900; 20 MB, built in some 30 ms
# before a worker starts), and a last one for every other character: the states the
# character may be in (all, where jieba's state table has no entry), and log P(char |
# state), `MIN_FLOAT` where jieba's emission table has none.
_CHARS = sorted(set(char_state_tab_P) | {char for table in emit_P.values() for char in table})
_CHAR_ROW = {char: i for i, char in enumerate(_CHARS)}
_OTHER_CHAR = len(_CHARS)
_CHAR_STATES = np.ones((len(_CHARS) + 1, _N), dtype=np.bool_)
for _char, _states in char_state_tab_P.items():
    _CHAR_STATES[_CHAR_ROW[_char]] = False
    _CHAR_STATES[_CHAR_ROW[_char], [_INDEX[state] for state in _states]] = True
_EMISSIONS = np.full((len(_CHARS) + 1, _N), _MIN_FLOAT)
for _i, _state in enumerate(_STATES):
    if emit_P[_state]:
        _EMISSIONS[[_CHAR_ROW[char] for char in emit_P[_state]], _i] = list(emit_P[_state].values())
_MODEL = (
    _START,
    _NEXT_START,
    _NEXT,
    _PREVIOUS_START,
    _PREVIOUS,
    _PREVIOUS_LOGP,
    _HAS_NEXT,
    _CHAR_STATES,
    _EMISSIONS,
)
for _table in _MODEL:
    _table.setflags(write=False)


def viterbi(obs: str) -> tuple[float, list[State]]:
    """`jieba.posseg.viterbi.viterbi` on jieba's own model: same path, same probability.

    jieba's loops, compiled: for each character, the states it may be in among those the
    previous column's can go to (if none, those; if none, all), each scored against the
    previous states from the largest down, a later one taken only when strictly better,
    so ties go to the larger state as jieba's `max` over (score, state) pairs sends them.
    """
    if not obs:
        raise IndexError("an empty run has no path")  # as jieba's `obs[0]` fails
    chars = np.array([_CHAR_ROW.get(char, _OTHER_CHAR) for char in obs], dtype=np.int64)
    # Imported here: only a process that tags loads numba (0.4 s, 120 MB).
    from flows.io.viterbi_kernel import search

    prob, route = search(chars, *_MODEL)
    return prob, [_STATES[i] for i in route.tolist()]


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


def word_tags(tokenizer: jieba.Tokenizer) -> dict[str, str]:
    """jieba.posseg's tag table of the tokenizer's main dictionary (jieba's own from the
    model cache); a new table each call, so the user words merged into one tokenizer's
    table stay out of the others'."""

    def read() -> dict[str, str]:
        import jieba.posseg as posseg

        return posseg.POSTokenizer(jieba.Tokenizer(tokenizer.dictionary)).word_tag_tab  # type: ignore[no-any-return]

    if tokenizer.dictionary != jieba.DEFAULT_DICT:
        return read()
    tags: dict[str, str] = cached("jieba-word-tags", [JIEBA_DICT], read)
    return tags


Tagged = list[tuple[str, str]]


def _symbol_tag(piece: str, whole: str) -> str:
    """jieba's tag for text outside Han runs: `m` for a number, `eng` when `whole` (the
    piece itself, or in `cut` the blank-free stretch it is a character of) starts with a
    letter or digit, else `x`."""
    if re_num.match(piece):
        return "m"
    return "eng" if re_eng.match(whole) else "x"


def _symbol_block(block: str) -> tuple[tuple[str, str], ...]:
    """jieba's words of a block outside Han runs (punctuation, numbers, Latin, blanks)."""
    out: Tagged = []
    for x in re_skip_internal.split(block):
        if re_skip_internal.match(x):
            out.append((x, "x"))
            continue
        # jieba tags each character, but tests the whole piece for `eng`.
        out.extend((xx, _symbol_tag(xx, x)) for xx in x)
    return tuple(out)


# log(frequency) by frequency: jieba's dictionary has about 5,000 distinct frequencies.
_LOG_FREQ: dict[int, float] = {}


# jieba-rs, like jieba's `cut`, glues runs of single Latin letters and digits into one word;
# posseg never does. Given as characters of CJK Extension C, which its word search takes
# as Han and which a posseg block never holds, they stay single steps of the route.
_LATIN = string.ascii_letters + string.digits
_AS_HAN = str.maketrans({ch: chr(0x2A700 + i) for i, ch in enumerate(_LATIN)})
_HAS_LATIN = re.compile(r"[A-Za-z0-9]")
_LATIN_WORD = re.compile(r"^.*[A-Za-z0-9].*$", re.MULTILINE)
_STAND_IN_WORD = re.compile(r"^.*[\U0002A700-\U0002A73D].*$", re.MULTILINE)
# A word no block can hold, whose frequency makes the copy's total the tokenizer's.
_TOTAL_PAD = "\u3000\u3000"


class CompiledRoute:
    """The best route through a block, by jieba-rs, over a copy of a tokenizer's dictionary.

    jieba-rs runs jieba's dynamic programme (log frequency minus log total, summed from
    the end; ties to the longer word) on its own copy of the words, so the copy holds
    every word a block can contain, each with the tokenizer's frequency, and a total
    equal to the tokenizer's (jieba adds to its total without taking back a replaced or
    deleted word's frequency).
    """

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        tokenizer.check_initialized()
        entries = [(word, count) for word, count in tokenizer.FREQ.items() if count]
        # Found in all the words at once (one pass of the regex engine, not one per word):
        # those with Latin letters or digits, given as `_AS_HAN`, and those already holding
        # such stand-ins, left out (no block holds them, and one could be taken for another).
        joined = "\n".join(word for word, _ in entries)
        latin = set(_LATIN_WORD.findall(joined))
        clash = set(_STAND_IN_WORD.findall(joined))
        words = [w.translate(_AS_HAN) if w in latin else w for w, _ in entries if w not in clash]
        counts = [count for word, count in entries if word not in clash]
        self._jieba = rjieba.Jieba.empty()
        add = self._jieba.add_word
        # One call per word either way; `map` saves the loop's own bytecode.
        deque(map(add, words, counts, repeat(None)), maxlen=0)
        added = sum(counts)
        if tokenizer.total < added:
            raise ValueError(f"dictionary total {tokenizer.total} < sum of frequencies {added}")
        if tokenizer.total > added:
            add(_TOTAL_PAD, tokenizer.total - added, None)
        self.total = tokenizer.total

    def lengths(self, block: str) -> list[int]:
        """The lengths of the route's steps through `block` (Latin letters and digits
        already given as `_AS_HAN`)."""
        return [len(word) for word in self._jieba.cut(block, hmm=False)]


class FastPOSTokenizer:
    """`jieba.posseg.POSTokenizer` on `tokenizer`, for tagging: `tag` gives what its
    `cut(text, HMM=True)` gives, as (word, tag) pairs, faster."""

    def __init__(
        self, tokenizer: jieba.Tokenizer, refine: Callable[[Tagged], Tagged] | None = None
    ) -> None:
        """`refine`: a change made to the words of each block of Han characters (and
        remembered with the block once the dictionary is final)."""
        self.tokenizer = tokenizer
        self.refine = refine
        self.word_tag_tab = word_tags(tokenizer)
        self._frozen = False
        self._compiled: CompiledRoute | None = None
        self._blocks: dict[str, tuple[tuple[str, str], ...]] = {}

    def freeze(self) -> None:
        """Promise that the tokenizer's dictionary no longer changes, so that routes come
        from a compiled copy of it (`CompiledRoute`, made by `compile` or the first
        `tag`); until then the dictionary is read on every lookup, and words added or
        deleted count at once."""
        self._frozen = True

    def compile(self) -> CompiledRoute:
        """The compiled copy of the frozen dictionary (some 0.3 s to make, once)."""
        if not self._frozen:
            raise RuntimeError("`freeze` the dictionary before compiling it")
        if self._compiled is None:
            self.makesure_userdict_loaded()
            self._compiled = CompiledRoute(self.tokenizer)
        return self._compiled

    def makesure_userdict_loaded(self) -> None:
        """Take the tags of words added to the tokenizer since, as POSTokenizer does."""
        if self.tokenizer.user_word_tag_tab:
            self.word_tag_tab.update(self.tokenizer.user_word_tag_tab)
            self.tokenizer.user_word_tag_tab = {}

    def tag(self, sentence: str) -> Tagged:
        """`[(p.word, p.flag) for p in POSTokenizer(self.tokenizer).cut(sentence)]` (HMM
        on), step for step."""
        self.makesure_userdict_loaded()
        self.tokenizer.check_initialized()
        compiled = self.compile() if self._frozen else None
        if compiled is not None and compiled.total != self.tokenizer.total:
            raise RuntimeError("the dictionary changed after `freeze`")
        memo = self._blocks
        refine = self.refine
        out: Tagged = []
        for index, block in enumerate(re_han_internal.split(sentence)):
            if not block:
                continue
            # A block of Han text and one between them never have the same characters.
            known = memo.get(block)
            if known is not None:
                out.extend(known)
                continue
            first = len(out)
            if not (index & 1 if _SPLIT_ALTERNATES else re_han_internal.match(block)):
                out.extend(_symbol_block(block))
            else:
                if compiled is None:
                    self._tag_block(block, self._route_lengths(block), out)
                else:
                    # Translated only where there is something to translate: `translate`
                    # looks every character up, some 5% of the tagging time on all text.
                    han = block.translate(_AS_HAN) if _HAS_LATIN.search(block) else block
                    self._tag_block(block, compiled.lengths(han), out)
                if refine is not None:
                    out[first:] = refine(out[first:])
            if compiled is not None and len(memo) < BLOCK_CACHE_SIZE:
                memo[block] = tuple(out[first:])
        return out

    def _route_lengths(self, block: str) -> list[int]:
        """The lengths of the steps of `_route` through `block`."""
        ends = self._route(block)
        lengths = []
        x = 0
        while x < len(block):
            lengths.append(ends[x] + 1 - x)
            x = ends[x] + 1
        return lengths

    def _route(self, sentence: str) -> list[int]:
        """Where the best word starting at each position ends: `Tokenizer.get_DAG` and
        `Tokenizer.calc` in one backward pass, the same sums in the same order, ties to
        the longer word as `max` over (score, end) breaks them."""
        freq = self.tokenizer.FREQ
        log_total = log(self.tokenizer.total)
        # The dictionary is read on every lookup, so added or deleted words count at once;
        # only the logarithm of each frequency is remembered.
        logs = _LOG_FREQ
        cached = logs.get
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
                count = freq.get(frag)
                if count is None:
                    break
                # An entry of frequency 0 is only a prefix of longer words.
                if count:
                    log_count = cached(count)
                    if log_count is None:
                        log_count = logs[count] = log(count)
                    score = log_count - log_total + scores[i + 1]
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

    def _tag_block(self, sentence: str, lengths: list[int], out: Tagged) -> None:
        """`POSTokenizer.__cut_DAG`: dictionary words along the best route (`lengths`, its
        steps); runs of single characters go to the unknown-word model unless the run is
        itself a word."""
        tags = self.word_tag_tab
        freq = self.tokenizer.FREQ
        x = 0
        run_start = -1
        for length in lengths:
            if length == 1:
                if run_start < 0:
                    run_start = x
            else:
                if run_start >= 0:
                    if x - run_start == 1:
                        char = sentence[run_start]
                        out.append((char, tags.get(char, "x")))
                    else:
                        self._tag_run(sentence[run_start:x], out, tags, freq)
                    run_start = -1
                word = sentence[x : x + length]
                out.append((word, tags.get(word, "x")))
            x += length
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
                out.extend((x, _symbol_tag(x, x)) for x in re_skip_detail.split(block) if x)
        else:
            out.extend((char, tags.get(char, "x")) for char in run)
