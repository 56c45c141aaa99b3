"""Nearest base rows of new query rows, in an embedding space: exact when cheap, else IVF.

New faces against a stored clustering's nodes (`ClusterEstimator.predict`, a growing
corpus's kNN graph). Up to `EXACT_PAIRS` query x base pairs the search is exact (blocked
BLAS, `exact.nearest_sq`); beyond, faiss's inverted-file index (`backends.faiss_ivf_query`).
Why IVF and not the graph backends: building an HNSW or NN-descent index over 900k base
rows takes 80-270 s on 2 cores (benchmarks/results/cluster.txt), more than the whole add
of 100k faces may; an IVF index is a k-means on a sample and one pass over the base,
and scanning 16 of its cells finds ~0.97 of the 10 nearest on face-like data (the
nearest one in >= 0.99 of rows). Either way the rows are `space.prepare`d, only ids are
taken from the index, and distances are recomputed exactly in the space's metric
(`space.from_native`); rows are sorted by (distance, index).
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from skelshop.cluster.knn.backends import faiss_ivf_query
from skelshop.cluster.knn.exact import nearest_sq
from skelshop.cluster.knn.graph import listed_distances
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

# 5k queries x 10k base rows: under a second exact (BLAS and a partial sort of the
# scores); beyond, training and scanning an index costs less (at 10k x 90k: 4.5 s exact
# for 1k queries, ~5 s IVF for all 10k, both on a loaded 2-core machine).
EXACT_PAIRS = 50_000_000


def search_knn(queries: np.ndarray, base: np.ndarray, k: int,
               space: EmbeddingSpace = DLIB_RESNET_V1, seed: int = 0,
               threads: int | None = None,
               exact_pairs: int = EXACT_PAIRS) -> tuple[np.ndarray, np.ndarray]:
    """Distances (float32, in `space`) and indices (int64) of each query's `k` nearest base rows.

    Exact while len(queries) x len(base) <= `exact_pairs`, approximate (IVF) beyond.
    """
    from skelshop.cluster.knn import default_threads

    q = np.ascontiguousarray(space.prepare(queries))
    b = np.ascontiguousarray(space.prepare(base))
    k = min(k, len(b))
    if len(q) == 0 or k == 0:
        return np.zeros((len(q), k), np.float32), np.zeros((len(q), k), np.int64)
    threads = threads or default_threads()
    with threadpool_limits(threads):
        if len(q) * len(b) <= exact_pairs:
            sq, ids = nearest_sq(q, b, k)
            return space.from_native(sq, "sqeuclidean").astype(np.float32), ids
        ids = np.asarray(faiss_ivf_query(b, q, k, seed, threads), dtype=np.int64)
        short = np.flatnonzero((ids < 0).any(axis=1))
        if len(short):  # the scanned cells held fewer than k rows: search those exactly
            ids[short] = nearest_sq(q[short], b, k)[1]
        dist = listed_distances(q, b, ids, space)
    order = np.lexsort((ids, dist), axis=1)
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(ids, order, axis=1)
