"""DBSCAN restricted to a kNN graph (scikit-learn's DBSCAN on a sparse distance graph).

Neighbourhoods are the graph's edges, in both directions, no longer than eps; a point
is core when it has at least min_samples points (itself included) in its neighbourhood.
This equals exact DBSCAN when the graph is exact and no point has more than k
neighbours within eps; beyond that, dense regions are joined only through graph edges,
which is what keeps memory linear in the number of faces.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import DBSCAN

from skelshop.cluster.knn.graph import KnnGraph


def symmetric_distance_graph(graph: KnnGraph) -> sp.csr_matrix:
    """Undirected sparse distance matrix of a kNN graph, rows sorted by distance.

    Built by hand rather than `G.maximum(G.T)`, which would drop zero distances
    (duplicate faces) as if they were missing edges.
    """
    n, k = graph.n, graph.k
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    dst = graph.indices.ravel()
    dist = graph.distances.ravel()
    both_src = np.concatenate([src, dst])
    both_dst = np.concatenate([dst, src])
    both_dist = np.concatenate([dist, dist])
    order = np.lexsort((both_dst, both_dist, both_src))
    both_src, both_dst, both_dist = both_src[order], both_dst[order], both_dist[order]
    # an edge listed from both ends appears twice; keep one copy, preserving the order
    _, first_of_pair = np.unique(both_src * n + both_dst, return_index=True)
    keep = np.sort(first_of_pair)
    both_src, both_dst, both_dist = both_src[keep], both_dst[keep], both_dist[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(both_src, minlength=n))])
    return sp.csr_matrix((both_dist.astype(np.float64), both_dst, indptr), shape=(n, n))


def graph_dbscan(graph: KnnGraph, eps: float, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels (-1 noise) and core flags of DBSCAN over the graph's edges."""
    if min_samples > graph.k + 1:
        raise ValueError(f"min_samples={min_samples} needs a graph of at least "
                         f"{min_samples - 1} neighbours, got k={graph.k}")
    matrix = symmetric_distance_graph(graph)
    with warnings.catch_warnings():
        # sklearn adds the diagonal (each point is in its own neighbourhood) in place
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        model = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit(matrix)
    core = np.zeros(graph.n, dtype=bool)
    core[model.core_sample_indices_] = True
    return model.labels_.astype(np.int32), core
