"""Choosing the members that stand for each cluster (prototypes), best first.

- `rnn` (default): members with the most reverse neighbours inside their own cluster
  (the densest, most typical faces; the RNN-DBSCAN notion of density), ties broken by
  the shorter mean distance to their k neighbours, then the lower index.
- `medoid`: members with the smallest summed distance to the rest of the cluster;
  exact up to `MEDOID_SAMPLE` members, above that summed over a seeded sample of them,
  in the embedding space's metric (`space`).
"""

from __future__ import annotations

import numpy as np

from skelshop.cluster.knn.graph import KnnGraph
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

PROTOTYPE_METHODS = ("rnn", "medoid")
MEDOID_SAMPLE = 4096


def prototype_nodes(labels: np.ndarray, graph: KnnGraph, n: int, method: str = "rnn",
                    x: np.ndarray | None = None, seed: int = 0,
                    space: EmbeddingSpace = DLIB_RESNET_V1) -> tuple[np.ndarray, np.ndarray]:
    """(cluster, node) pairs: up to `n` prototypes per cluster, grouped by cluster, best first."""
    labels = np.asarray(labels, dtype=np.int64)
    if method == "rnn":
        score = _rnn_score(labels, graph)
    elif method == "medoid":
        if x is None:
            raise ValueError("medoid prototypes need the embeddings")
        score = _medoid_score(labels, x, seed, space)
    else:
        raise ValueError(f"unknown prototype method {method!r}")
    member = np.flatnonzero(labels >= 0)
    order = member[np.lexsort((member, score[member], labels[member]))]
    clus = labels[order]
    starts = np.searchsorted(clus, clus, side="left")
    rank = np.arange(len(order)) - starts
    keep = rank < n
    return clus[keep], order[keep]


def _rnn_score(labels: np.ndarray, graph: KnnGraph) -> np.ndarray:
    """Lower is better: minus in-cluster reverse-neighbour count, plus a distance tie-break."""
    src = np.repeat(np.arange(graph.n), graph.k)
    dst = graph.indices.ravel()
    inside = (labels[src] == labels[dst]) & (labels[src] >= 0)
    count = np.bincount(dst[inside], minlength=graph.n).astype(np.float64)
    mean_dist = graph.distances.mean(axis=1, dtype=np.float64) if graph.k else np.zeros(graph.n)
    # counts are integers and distances are below 4 for unit-ish embeddings; scale so the
    # count always dominates whatever the distances
    scale = 1.0 + float(mean_dist.max(initial=0.0))
    return -count + mean_dist / scale


def _medoid_score(labels: np.ndarray, x: np.ndarray, seed: int,
                  space: EmbeddingSpace) -> np.ndarray:
    """Summed distance from each member to (a sample of) its cluster."""
    x = space.prepare(x, np.float64)  # float32 cancellation would blur close totals
    score = np.full(len(labels), np.inf)
    rng = np.random.default_rng(seed)
    members_sorted = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[members_sorted], np.arange(labels.max(initial=-1) + 2))
    for c in range(len(bounds) - 1):
        members = members_sorted[bounds[c]:bounds[c + 1]]
        ref = members
        if len(members) > MEDOID_SAMPLE:
            ref = np.sort(rng.choice(members, MEDOID_SAMPLE, replace=False))
        pts, ref_pts = x[members], x[ref]
        ref_sq = np.einsum("ij,ij->i", ref_pts, ref_pts)
        for start in range(0, len(members), MEDOID_SAMPLE):
            blk = pts[start:start + MEDOID_SAMPLE]
            d2 = np.einsum("ij,ij->i", blk, blk)[:, None] + ref_sq[None] - 2 * (blk @ ref_pts.T)
            score[members[start:start + MEDOID_SAMPLE]] = space.from_native(
                d2, "sqeuclidean").sum(axis=1)
    return score
