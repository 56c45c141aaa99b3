"""Nearest base rows of new query rows, in an embedding space: exact when cheap, else IVF.

New faces against a stored clustering's nodes (`ClusterEstimator.predict`, a growing
corpus's kNN graph). Up to `EXACT_PAIRS` query x base pairs the search is exact (blocked
BLAS, `exact.nearest_sq`); beyond, an inverted-file index (`backends.IvfCells`: k-means
cells on a seeded sample, each cell scanned by one BLAS product for all its queries).
Why IVF and not the graph backends: building an HNSW or NN-descent index over 900k base
rows takes 80-270 s on 2 cores (benchmarks/results/cluster.txt), more than the whole add
of 100k faces may; an IVF index is a k-means on a sample and one pass over the base.

`KnnIndex` holds the base prepared once and its IVF cells built once (on the first search
that needs them), for several searches: a growing corpus searches its new nodes against
the kept ones and against each other with one index (`part` tells the two apart).
Either way only ids are taken from the index, distances are recomputed exactly in the
space's metric (`space.from_native`), and rows are sorted by (distance, index).

Recall: on face-like data the nearest base row is hard to find (within one identity the
rows are a 128-D blob, where nearness is nearly random); at 1M faces (100k against 900k)
the IVF finds the exact nearest for 0.97 of queries (recall@5 0.96), and a miss gets a
row nearly as near, of the same person (found / true nearest distance 1.0006 on average;
benchmarks/results/cluster.txt, incremental notes). 0.99 would take ~1.5x the scan
(`backends.IVF_PROBE_RATIO` 1.3), past the add's 30 s budget on 2 cores.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from skelshop.cluster.knn.backends import IvfCells
from skelshop.cluster.knn.exact import nearest_sq
from skelshop.cluster.knn.graph import listed_distances
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

# 5k queries x 10k base rows: under a second exact (BLAS and a partial sort of the
# scores); beyond, training and scanning an index costs less.
EXACT_PAIRS = 50_000_000


class KnnIndex:
    """Base rows (optionally split into parts) searched by query rows: exact while
    queries x part rows <= `exact_pairs`, else through IVF cells built once over all rows."""

    def __init__(self, base: np.ndarray, space: EmbeddingSpace = DLIB_RESNET_V1, seed: int = 0,
                 threads: int | None = None, part: np.ndarray | None = None,
                 exact_pairs: int = EXACT_PAIRS) -> None:
        from skelshop.cluster.knn import default_threads

        self.x = np.ascontiguousarray(space.prepare(base), dtype=np.float32)
        self.space, self.seed = space, seed
        self.threads = threads or default_threads()
        self.part = None if part is None else np.asarray(part, dtype=np.int64)
        self.exact_pairs = exact_pairs
        self._cells: IvfCells | None = None

    def part_rows(self, part: int | None) -> np.ndarray:
        """Base row ids of one part (None: all)."""
        if part is None or self.part is None:
            return np.arange(len(self.x))
        return np.flatnonzero(self.part == part)

    def search(self, queries: np.ndarray, k: int, parts: tuple[int | None, ...] = (None,)
               ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per part, distances (float32, in the space) and base row ids (int64) of each
        query's `k` nearest rows of that part (k cut to the part's size)."""
        q = np.ascontiguousarray(self.space.prepare(queries), dtype=np.float32)
        rows = [self.part_rows(p) for p in parts]
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(parts)
        approx: list[int] = []
        with threadpool_limits(self.threads):
            for j, r in enumerate(rows):
                kk = min(k, len(r))
                if len(q) == 0 or kk == 0:
                    out[j] = np.zeros((len(q), kk), np.float32), np.zeros((len(q), kk), np.int64)
                elif len(q) * len(r) <= self.exact_pairs:
                    whole = parts[j] is None or self.part is None
                    sq, ids = nearest_sq(q, self.x if whole else self.x[r], kk)
                    out[j] = self.space.from_native(sq, "sqeuclidean").astype(np.float32), r[ids]
                else:
                    approx.append(j)
            if approx:
                if self._cells is None:
                    self._cells = IvfCells(self.x, self.part, self.seed, self.threads)
                found = self._cells.search(q, k, [parts[j] for j in approx])
                for j, ids in zip(approx, found, strict=True):
                    out[j] = self._finish(q, ids[:, :min(k, len(rows[j]))], rows[j])
        return [o for o in out if o is not None]

    def _finish(self, q: np.ndarray, ids: np.ndarray, rows: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """Exact distances for the ids found, rows the scanned cells left short searched
        exactly, sorted by (distance, id)."""
        ids = np.asarray(ids, dtype=np.int64).copy()
        short = np.flatnonzero((ids < 0).any(axis=1))
        if len(short):  # the scanned cells held fewer than k rows of the part
            base = self.x if len(rows) == len(self.x) else self.x[rows]
            ids[short] = rows[nearest_sq(q[short], base, ids.shape[1])[1]]
        dist = listed_distances(q, self.x, ids, self.space)
        order = np.lexsort((ids, dist), axis=1)
        return np.take_along_axis(dist, order, axis=1), np.take_along_axis(ids, order, axis=1)


def search_knn(queries: np.ndarray, base: np.ndarray, k: int,
               space: EmbeddingSpace = DLIB_RESNET_V1, seed: int = 0,
               threads: int | None = None,
               exact_pairs: int = EXACT_PAIRS) -> tuple[np.ndarray, np.ndarray]:
    """Distances (float32, in `space`) and indices (int64) of each query's `k` nearest base rows.

    Exact while len(queries) x len(base) <= `exact_pairs`, approximate (IVF) beyond.
    """
    return KnnIndex(base, space, seed, threads, exact_pairs=exact_pairs).search(queries, k)[0]
