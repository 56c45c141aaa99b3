"""Placing new vectors (e.g. reference faces) into an existing clustering.

The RNN-DBSCAN rule for a point outside the clustering, the same as its noise rescue:
a vector joins the cluster of its nearest core node among its k nearest nodes, if it is
within that cluster's density den(C); otherwise it is noise. The k nearest nodes come from
`knn.search_knn` in the nodes' embedding space (exact while queries x nodes is small,
faiss IVF beyond), or from the caller when it has searched already (a growing corpus
searches its new nodes once, for this and for its kNN graph).

`cluster.estimators` predicts with it (RNN-DBSCAN: this rule; DBSCAN and HDBSCAN: the
same search over core nodes with their radius); with a stored model,
`load_estimator(path).predict(vectors)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skelshop.cluster.knn.query import search_knn
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

NOISE = -1


@dataclass(frozen=True)
class Assignment:
    """Per query: the cluster (NOISE = -1), the core node that decided it, its distance."""

    labels: np.ndarray  # int32 (q,)
    node: np.ndarray  # int64 (q,), -1 when noise
    distance: np.ndarray  # float32 (q,), inf when noise
    neighbours: np.ndarray  # int64 (q, k) the k nearest nodes
    neighbour_distances: np.ndarray  # float32 (q, k)


def assign_to_clusters(queries: np.ndarray, node_embed: np.ndarray, labels: np.ndarray,
                       core: np.ndarray, density: np.ndarray, k: int,
                       space: EmbeddingSpace = DLIB_RESNET_V1,
                       neighbours: tuple[np.ndarray, np.ndarray] | None = None) -> Assignment:
    """Cluster of each query by its nearest qualifying core node among its k nearest nodes.

    `neighbours`: (distances in `space`, node indices) of each query's nearest nodes,
    nearest first, at least k columns; searched here when None.
    """
    queries = np.asarray(queries, dtype=np.float32).reshape(-1, np.shape(node_embed)[1])
    k = max(1, min(k, len(node_embed)))
    if neighbours is None:
        dist, nbrs = search_knn(queries, node_embed, k, space)
    else:
        dist, nbrs = (np.asarray(a)[:, :k] for a in neighbours)
        if dist.shape != (len(queries), k):
            raise ValueError(f"neighbours must be ({len(queries)}, >= {k}), got {dist.shape}")
    nbr_core = core[nbrs]
    nbr_label = np.where(nbr_core, labels[nbrs], NOISE)
    within = nbr_core & (nbr_label >= 0)
    within &= dist <= np.where(within, density[np.maximum(nbr_label, 0)], -np.inf)
    hit = within.any(axis=1)
    col = within.argmax(axis=1)  # rows are nearest first
    rows = np.arange(len(queries))
    out_labels = np.where(hit, nbr_label[rows, col], NOISE).astype(np.int32)
    out_node = np.where(hit, nbrs[rows, col], -1)
    out_dist = np.where(hit, dist[rows, col], np.inf).astype(np.float32)
    return Assignment(out_labels, out_node, out_dist, nbrs, dist)
