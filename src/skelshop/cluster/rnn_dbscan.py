"""RNN-DBSCAN (Bryant & Cios, IEEE TKDE 2018) on a kNN graph, vectorised and exact.

With N_k(x) the k nearest neighbours of x and R_k(x) = {y : x in N_k(y)}:

- x is a core point iff |R_k(x)| >= k.
- Clusters grow from core points through Neighborhood(x) = N_k(x) ∪ {y in R_k(x) : y core}.
  Restricted to core points this relation is symmetric, so the clusters' cores are the
  connected components of the kNN graph restricted to core points (a component may be a
  single core point).
- A non-core point in N_k(y) of a core point y is a border point of y's cluster. When
  several clusters reach it, it joins the cluster of the nearest such core point (ties:
  the lower cluster number). The paper's sequential pseudo-code leaves this to visiting
  order; this rule is the same set of candidates, made order-free.
- den(C) is the longest kNN edge between two core points of C (paper: the maximum
  distance between directly density-reachable core points).
- Every remaining point (noise) joins the cluster of its nearest core k-neighbour y when
  dist(x, y) <= den(cluster of y); otherwise it stays noise.

Optionally, edges longer than `max_distance` are dropped from the graph first (a point's
neighbours are then the ones of its k nearest within that distance; core still means
>= k reverse neighbours). This is not part of the paper: in 128-D face embeddings,
"hub" faces near the centre of face space gather many reverse neighbours, become core
and chain unrelated identities together through their long edges; capping edges at the
embedder's same-person threshold stops that (see benchmarks/results/cluster.txt). The
library default is the paper's (no cap); `skelshop iden clus` caps at the embedder's
threshold unless told `--max-dist inf`.

Clusters are numbered by their smallest core point index. No step loops over points in
Python: reverse counts are one bincount, the cores are one `connected_components`, and
borders and noise rescue are sorts and masks over the edge list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from skelshop.cluster.knn.graph import KnnGraph

NOISE = -1


@dataclass(frozen=True)
class RnnDbscanResult:
    """Labels (NOISE = -1), core flags, reverse-neighbour counts and cluster densities."""

    labels: np.ndarray  # int32 (n,)
    core: np.ndarray  # bool (n,)
    reverse_counts: np.ndarray  # int64 (n,) |R_k(x)|
    density: np.ndarray  # float32 (n_clusters,) den(C)

    @property
    def n_clusters(self) -> int:
        """Number of clusters found."""
        return len(self.density)


def rnn_dbscan(graph: KnnGraph, k: int | None = None,
               max_distance: float | None = None) -> RnnDbscanResult:
    """Cluster the nodes of a kNN graph (cut to `k` neighbours if given) by RNN-DBSCAN."""
    if k is not None and k != graph.k:
        graph = graph.truncate(k)
    n, k = graph.n, graph.k
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    dst = graph.indices.ravel()
    dist = graph.distances.ravel()
    if max_distance is not None:
        edge = dist <= max_distance
        src, dst, dist = src[edge], dst[edge], dist[edge]

    reverse_counts = np.bincount(dst, minlength=n)
    core = reverse_counts >= k
    labels = _core_components(n, src, dst, core)
    n_clusters = int(labels.max(initial=NOISE)) + 1

    core_core = core[src] & core[dst]
    density = np.zeros(n_clusters, dtype=np.float32)
    np.maximum.at(density, labels[src[core_core]], dist[core_core])

    _attach_borders(labels, src, dst, dist, core)
    _rescue_noise(labels, graph, core, density)
    return RnnDbscanResult(labels.astype(np.int32), core, reverse_counts, density)


def _core_components(n: int, src: np.ndarray, dst: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Label core points by connected component of core-to-core kNN edges."""
    keep = core[src] & core[dst]
    adjacency = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (src[keep], dst[keep])), shape=(n, n)
    )
    _, component = connected_components(adjacency, directed=True, connection="weak")
    labels = np.full(n, NOISE, dtype=np.int64)
    core_ids = np.flatnonzero(core)
    if len(core_ids) == 0:
        return labels
    comp_of_core = component[core_ids]
    # number components by their first (smallest) core point: deterministic, order-stable
    uniq, first = np.unique(comp_of_core, return_index=True)
    renumber = np.empty(component.max() + 1, dtype=np.int64)
    renumber[uniq[np.argsort(first)]] = np.arange(len(uniq))
    labels[core_ids] = renumber[comp_of_core]
    return labels


def _attach_borders(labels: np.ndarray, src: np.ndarray, dst: np.ndarray, dist: np.ndarray,
                    core: np.ndarray) -> None:
    """Non-core points in a core point's N_k join the nearest such core point's cluster."""
    reach = core[src] & ~core[dst]
    b_dst, b_dist, b_lab = dst[reach], dist[reach], labels[src[reach]]
    order = np.lexsort((b_lab, b_dist, b_dst))
    b_dst, b_lab = b_dst[order], b_lab[order]
    first = np.ones(len(b_dst), dtype=bool)
    first[1:] = b_dst[1:] != b_dst[:-1]
    labels[b_dst[first]] = b_lab[first]


def _rescue_noise(labels: np.ndarray, graph: KnnGraph, core: np.ndarray,
                  density: np.ndarray) -> None:
    """Noise joins its nearest core k-neighbour's cluster if within that cluster's den(C)."""
    noise = np.flatnonzero(labels == NOISE)
    if len(noise) == 0 or len(density) == 0:
        return
    nbrs = graph.indices[noise]
    nbr_dist = graph.distances[noise]
    nbr_core = core[nbrs]
    nbr_label = np.where(nbr_core, labels[nbrs], 0)
    ok = nbr_core & (nbr_dist <= density[nbr_label])
    # rows are sorted by (distance, id): the first qualifying column is the nearest
    has = ok.any(axis=1)
    col = ok.argmax(axis=1)
    rows = np.flatnonzero(has)
    labels[noise[rows]] = labels[nbrs[rows, col[rows]]]
