"""The kNN graph every backend returns, and the finishing step they all share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from skelshop.cluster.knn.exact import nearest_sq
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

# Rows per block when recomputing distances: bounds the (rows, k, dim) temporary.
_BLOCK = 8192


@dataclass(frozen=True)
class KnnGraph:
    """k nearest neighbours of every row, self excluded, nearest first (ties by index)."""

    indices: np.ndarray  # int64 (n, k)
    distances: np.ndarray  # float32 (n, k), in the metric of the space it was built in

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        """Neighbours per point."""
        return int(self.indices.shape[1])

    def truncate(self, k: int) -> KnnGraph:
        """The same graph cut to the `k` nearest neighbours."""
        if k > self.k:
            raise ValueError(f"cannot cut a {self.k}-NN graph to {k} neighbours")
        return KnnGraph(self.indices[:, :k], self.distances[:, :k])

    def to_csr(self) -> sp.csr_matrix:
        """Directed distance matrix: row i holds i's k neighbours (explicit zeros kept)."""
        n, k = self.indices.shape
        indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
        return sp.csr_matrix(
            (self.distances.ravel().astype(np.float64), self.indices.ravel(), indptr),
            shape=(n, n),
        )


def finish_graph(x: np.ndarray, raw: np.ndarray, k: int,
                 space: EmbeddingSpace = DLIB_RESNET_V1) -> KnnGraph:
    """Turn a backend's k+1 candidate ids per row into the canonical k-NN graph.

    `x` holds the rows as `space.prepare` gave them (the ones the backend searched).
    Every backend goes through here so they agree on conventions: the row itself is
    removed wherever it appears (or the farthest candidate when it does not, which
    happens with exact duplicates), rows a backend could not fill are searched exactly,
    distances are recomputed exactly in float32 in the space's metric, and rows are
    ordered by (distance, id).
    """
    n = len(x)
    raw = np.asarray(raw, dtype=np.int64).reshape(n, -1)
    bad = np.flatnonzero((raw < 0).any(axis=1) | _has_repeats(raw))
    if len(bad):
        raw[bad] = nearest_sq(x[bad], x, raw.shape[1])[1]
    is_self = raw == np.arange(n)[:, None]
    no_self = ~is_self.any(axis=1)
    is_self[no_self, -1] = True
    # Rows listing themselves twice cannot happen after the repeat check above.
    indices = raw[~is_self].reshape(n, raw.shape[1] - 1)[:, :k]
    distances = listed_distances(x, x, indices, space)
    order = np.lexsort((indices, distances), axis=1)
    return KnnGraph(np.take_along_axis(indices, order, axis=1),
                    np.take_along_axis(distances, order, axis=1))


def _has_repeats(raw: np.ndarray) -> np.ndarray:
    srt = np.sort(raw, axis=1)
    return (srt[:, 1:] == srt[:, :-1]).any(axis=1)


def listed_distances(q: np.ndarray, base: np.ndarray, ids: np.ndarray,
                     space: EmbeddingSpace) -> np.ndarray:
    """Distance (in the space's metric) from each prepared query row to its listed base rows."""
    out = np.empty(ids.shape, dtype=np.float32)
    for start in range(0, len(q), _BLOCK):
        stop = start + _BLOCK
        diff = base[ids[start:stop]] - q[start:stop, None, :]
        out[start:stop] = space.from_native(np.einsum("ikd,ikd->ik", diff, diff), "sqeuclidean")
    return out
