"""The pipeline's compiled kernels (`transforms.compiled`), loaded together.

Each is compiled on its first import and kept in numba's cache on disk, so that later
processes load it in milliseconds instead of compiling it for a second or more. `make
install` runs this module to fill that cache; worker processes load the kernels before
they fork (`flows.runners.prepare_worker`).
"""

from __future__ import annotations

import importlib

KERNELS = (
    "flows.io.viterbi_kernel",
    "transforms.minhash_kernel",
    "transforms.textrank_kernel",
)


def load_kernels() -> None:
    """Import (and so compile, or load from the cache) every kernel."""
    for module in KERNELS:
        importlib.import_module(module)


if __name__ == "__main__":
    load_kernels()
