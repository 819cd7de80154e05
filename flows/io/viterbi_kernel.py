"""jieba.posseg's Viterbi search, compiled (`transforms.compiled`), on the model tables of
`flows.io.posseg`: every sum is the IEEE double jieba's Python computes."""

from __future__ import annotations

import numba
import numpy as np

from transforms.compiled import compiled, readonly


@compiled(
    numba.types.Tuple((numba.float64, numba.int64[:]))(
        numba.int64[::1],
        readonly(numba.float64),
        readonly(numba.int64),
        readonly(numba.int64),
        readonly(numba.int64),
        readonly(numba.int64),
        readonly(numba.float64),
        readonly(numba.bool_),
        readonly(numba.bool_, 2),
        readonly(numba.float64, 2),
    )
)
def search(
    chars: np.ndarray,
    start: np.ndarray,
    next_start: np.ndarray,
    next_states: np.ndarray,
    previous_start: np.ndarray,
    previous_states: np.ndarray,
    previous_logp: np.ndarray,
    has_next: np.ndarray,
    char_states: np.ndarray,
    emissions: np.ndarray,
) -> tuple[float, np.ndarray]:
    """The best path's log probability and states (numbers) for a run of characters
    (their rows in `char_states` and `emissions`).

    jieba scores each state y of a column against every state x of the previous one that
    can go on, largest first, keeping a later x only when strictly better: x with no
    transition to y scores -inf and is never kept, unless no x has one, when the largest x
    is. So only the x that can reach y are looked at, from the list of them.
    """
    n, size = len(chars), len(start)
    scores = np.empty(size)
    new = np.empty(size)
    active = np.zeros(size, np.bool_)
    going = np.zeros(size, np.bool_)
    expected = np.zeros(size, np.bool_)
    back = np.empty((n, size), np.int16)
    char = chars[0]
    for y in range(size):
        active[y] = char_states[char, y]
        if active[y]:
            scores[y] = start[y] + emissions[char, y]
    for t in range(1, n):
        char = chars[t]
        # The previous column's states that can go on, and where they can go.
        largest = -1
        expected[:] = False
        for x in range(size - 1, -1, -1):
            going[x] = active[x] and has_next[x]
            if going[x]:
                if largest < 0:
                    largest = x
                for q in range(next_start[x], next_start[x + 1]):
                    expected[next_states[q]] = True
        if largest < 0:
            raise ValueError("max() arg is an empty sequence")
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
                best = -np.inf
                arg = largest
                for q in range(previous_start[y], previous_start[y + 1]):
                    x = previous_states[q]
                    if going[x]:
                        score = (scores[x] + previous_logp[q]) + emission
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
