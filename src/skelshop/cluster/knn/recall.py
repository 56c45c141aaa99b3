"""How much of the true k-NN graph an approximate graph found (sampled)."""

from __future__ import annotations

import numpy as np

from skelshop.cluster.knn.exact import exact_search
from skelshop.cluster.knn.graph import KnnGraph
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace


def graph_recall(graph: KnnGraph, x: np.ndarray, sample: int = 2000, seed: int = 0,
                 space: EmbeddingSpace = DLIB_RESNET_V1) -> float:
    """Mean fraction of each sampled row's exact k neighbours (in `space`) that the graph lists."""
    n, k = graph.n, graph.k
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    _, truth = exact_search(x[rows], x, k + 1, space=space)
    hits = 0
    for row, true_row, found in zip(rows, truth, graph.indices[rows], strict=True):
        true_row = true_row[true_row != row][:k]
        hits += len(np.intersect1d(true_row, found))
    return hits / (len(rows) * k)
