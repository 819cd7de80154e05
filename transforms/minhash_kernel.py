"""MinHash minima (datasketch's "affine32" permutations of mixed hashes), compiled (numba).

Compiled when first imported, from numba's cache on disk after the first time (`make
install` fills it).
"""

from __future__ import annotations

import numba
import numpy as np

_words = numba.types.Array(numba.uint32, 1, "C", readonly=True)


@numba.njit(numba.void(numba.uint32[::1], _words, _words, _words), cache=True, nogil=True)
def lower_minima(minima: np.ndarray, mixed: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Lower each `minima[j]` to `a[j] * h + b[j]` (wrapping in 32 bits) where that is
    smaller, for every hash h of `mixed`."""
    for h in mixed:
        for j in range(len(minima)):
            value = np.uint32(a[j] * h + b[j])
            if value < minima[j]:
                minima[j] = value
