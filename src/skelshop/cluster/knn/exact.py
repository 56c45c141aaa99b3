"""Exact k-nearest-neighbour search by blocked matrix products (BLAS), in an embedding space."""

from __future__ import annotations

import numpy as np

from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

# Query rows x base columns per tile: 1024 x 32768 float32 = 128 MiB of scores.
_QUERY_BLOCK = 1024
_BASE_BLOCK = 32768


def exact_search(queries: np.ndarray, base: np.ndarray, k: int, progress: object | None = None,
                 space: EmbeddingSpace = DLIB_RESNET_V1) -> tuple[np.ndarray, np.ndarray]:
    """Distances (float32, in `space`'s metric) and indices (int64) of each query's `k` nearest.

    Rows are sorted by (distance, index). `progress`, if given, is a tqdm-like object
    advanced by the number of finished query rows.
    """
    sq, ids = nearest_sq(space.prepare(queries), space.prepare(base), k, progress)
    return space.from_native(sq, "sqeuclidean"), ids


def nearest_sq(queries: np.ndarray, base: np.ndarray, k: int,
               progress: object | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Squared L2 (float32) and indices of each query's `k` nearest base rows, as given.

    The rows are taken as they are: `EmbeddingSpace.prepare`d ones rank by the space's metric.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    base = np.ascontiguousarray(base, dtype=np.float32)
    nq, nb = len(queries), len(base)
    k = min(k, nb)
    out_d = np.empty((nq, k), dtype=np.float32)
    out_i = np.empty((nq, k), dtype=np.int64)
    base_sq = np.einsum("ij,ij->i", base, base)
    for qs in range(0, nq, _QUERY_BLOCK):
        q = queries[qs:qs + _QUERY_BLOCK]
        cand_s, cand_i = [], []
        for bs in range(0, nb, _BASE_BLOCK):
            # |q - b|^2 = |q|^2 + |b|^2 - 2 q.b; |q|^2 is constant per row, added back below.
            scores = base_sq[None, bs:bs + _BASE_BLOCK] - 2.0 * (q @ base[bs:bs + _BASE_BLOCK].T)
            kk = min(k, scores.shape[1])
            part = np.argpartition(scores, kk - 1, axis=1)[:, :kk]
            cand_s.append(np.take_along_axis(scores, part, axis=1))
            cand_i.append(part + bs)
        scores = np.concatenate(cand_s, axis=1)
        ids = np.concatenate(cand_i, axis=1)
        order = np.lexsort((ids, scores), axis=1)[:, :k]
        best = np.take_along_axis(scores, order, axis=1)
        q_sq = np.einsum("ij,ij->i", q, q)[:, None]
        out_d[qs:qs + len(q)] = np.maximum(best + q_sq, 0.0)
        out_i[qs:qs + len(q)] = np.take_along_axis(ids, order, axis=1)
        if progress is not None:
            progress.update(len(q))
    return out_d, out_i
