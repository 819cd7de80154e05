"""jieba.posseg's Viterbi search, compiled (numba), on the model tables of `flows.io.posseg`.

Compiled when first imported, from numba's cache on disk after the first time (`make
install` fills it). No fast-math: every sum is the IEEE double jieba's Python computes.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np


def _table(dtype: Any, ndim: int) -> Any:
    return numba.types.Array(dtype, ndim, "C", readonly=True)


@numba.njit(
    numba.types.Tuple((numba.float64, numba.int64[:]))(
        numba.int64[::1],
        _table(numba.float64, 1),
        _table(numba.float64, 2),
        _table(numba.bool_, 2),
        _table(numba.bool_, 1),
        _table(numba.bool_, 2),
        _table(numba.float64, 2),
    ),
    cache=True,
    nogil=True,
)
def search(
    chars: np.ndarray,
    start: np.ndarray,
    trans: np.ndarray,
    can_follow: np.ndarray,
    has_next: np.ndarray,
    char_states: np.ndarray,
    emissions: np.ndarray,
) -> tuple[float, np.ndarray]:
    """The best path's log probability and states (numbers) for a run of characters
    (their rows in `char_states` and `emissions`); `can_follow[x, y]` where jieba's
    `trans_p[x]` has y, `has_next[x]` where it has any."""
    n, size = len(chars), len(start)
    scores = np.empty(size)
    new = np.empty(size)
    active = np.zeros(size, np.bool_)
    expected = np.zeros(size, np.bool_)
    back = np.empty((n, size), np.int64)
    prev = np.empty(size, np.int64)
    char = chars[0]
    for y in range(size):
        active[y] = char_states[char, y]
        if active[y]:
            scores[y] = start[y] + emissions[char, y]
    for t in range(1, n):
        char = chars[t]
        # The previous column's states that can go on, largest first.
        k = 0
        for x in range(size - 1, -1, -1):
            if active[x] and has_next[x]:
                prev[k] = x
                k += 1
        if k == 0:
            raise ValueError("max() arg is an empty sequence")
        expected[:] = False
        for j in range(k):
            for y in range(size):
                if can_follow[prev[j], y]:
                    expected[y] = True
        found = False
        for y in range(size):
            active[y] = char_states[char, y] and expected[y]
            found = found or active[y]
        if not found:
            for y in range(size):
                found = found or expected[y]
            for y in range(size):
                active[y] = expected[y] or not found
        for y in range(size):
            if active[y]:
                emission = emissions[char, y]
                arg = prev[0]
                best = (scores[arg] + trans[arg, y]) + emission
                for j in range(1, k):
                    x = prev[j]
                    score = (scores[x] + trans[x, y]) + emission
                    if score > best:
                        best = score
                        arg = x
                new[y] = best
                back[t, y] = arg
        for y in range(size):
            if active[y]:
                scores[y] = new[y]
    state = -1
    best = 0.0
    for y in range(size - 1, -1, -1):
        if active[y] and (state < 0 or scores[y] > best):
            best = scores[y]
            state = y
    route = np.empty(n, np.int64)
    route[n - 1] = state
    for t in range(n - 1, 0, -1):
        state = back[t, state]
        route[t - 1] = state
    return best, route
