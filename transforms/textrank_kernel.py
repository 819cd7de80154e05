"""jieba's TextRank sweeps (`UndirectWeightedGraph.rank`), compiled (`transforms.compiled`):
every product and sum is the IEEE double jieba's Python computes, in the same order."""

from __future__ import annotations

import numba
import numpy as np

from transforms.compiled import compiled, readonly

_ints = readonly(numba.int64)


@compiled(
    numba.void(
        numba.float64[::1],
        _ints,
        _ints,
        _ints,
        _ints,
        readonly(numba.float64),
        numba.int64,
        numba.float64,
        numba.float64,
    )
)
def sweep(
    ws: np.ndarray,
    nodes: np.ndarray,
    bounds: np.ndarray,
    row_start: np.ndarray,
    neighbour: np.ndarray,
    share: np.ndarray,
    iterations: int,
    base: float,
    damping: float,
) -> None:
    """Gauss-Seidel sweeps over each graph, in place on `ws` (the nodes' scores).

    Graph g's nodes are `nodes[bounds[g]:bounds[g + 1]]`, swept in that order; node n's
    neighbours are `neighbour[row_start[n]:row_start[n + 1]]`, each giving `share` (its
    edge weight over its own weight sum) of its current score.
    """
    for g in range(len(bounds) - 1):
        for _ in range(iterations):
            for i in range(bounds[g], bounds[g + 1]):
                n = nodes[i]
                s = 0.0
                for q in range(row_start[n], row_start[n + 1]):
                    s += share[q] * ws[neighbour[q]]
                ws[n] = base + damping * s
