"""MinHash minima (datasketch's "affine32" permutations of mixed hashes), compiled
(`transforms.compiled`)."""

from __future__ import annotations

import numba
import numpy as np

from transforms.compiled import compiled, readonly

_words = readonly(numba.uint32)


@compiled(numba.void(numba.uint32[::1], _words, _words, _words))
def lower_minima(minima: np.ndarray, mixed: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Lower each `minima[j]` to `a[j] * h + b[j]` (wrapping in 32 bits) where that is
    smaller, for every hash h of `mixed`."""
    for h in mixed:
        for j in range(len(minima)):
            value = np.uint32(a[j] * h + b[j])
            if value < minima[j]:
                minima[j] = value
