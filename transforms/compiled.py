"""How the project compiles a numeric loop (numba), in one place for every kernel.

A kernel is compiled for its one signature when its module is imported, and kept in
numba's cache on disk beside that module (`__pycache__`), so later processes load it in
milliseconds; `make install` fills the cache (`flows.kernels`). No fast-math: every
product and sum is the IEEE double Python computes, in the order written, so a kernel
gives the floats of the Python it replaces.
"""

from __future__ import annotations

from typing import Any

import numba


def readonly(dtype: Any, ndim: int = 1) -> Any:
    """A contiguous array argument the kernel only reads (model tables, shared arrays)."""
    return numba.types.Array(dtype, ndim, "C", readonly=True)


def compiled(signature: Any) -> Any:
    """`numba.njit` for `signature`, cached on disk, releasing the GIL."""
    return numba.njit(signature, cache=True, nogil=True)
