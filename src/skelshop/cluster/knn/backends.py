"""Approximate kNN backends: each returns k+1 raw candidate ids per row (self included).

They are thin adapters over well-kept libraries; `skelshop.cluster.knn.graph.finish_graph`
turns their output into the one canonical graph. Each ranks by L2 on the rows it is given,
which `EmbeddingSpace.prepare` made (unit rows for a cosine space, so L2 ranks as 1 - cos
does); only ids come back, distances are recomputed in the space by `finish_graph`. Build parameters are chosen for recall
>= 0.95 at small k on face-like 128-D data (see benchmarks/results/cluster.txt).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from skelshop.errors import SkelshopError

# pynndescent finds a small-k graph poorly (recall 0.70-0.88 at k <= 10 on face-like
# data): build a wider graph and cut it, which costs less than it gains.
PYNND_MIN_BUILD_K = 24
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_MIN_EF_SEARCH = 64


def pynndescent_candidates(x: np.ndarray, k1: int, seed: int, threads: int) -> np.ndarray:
    """NN-descent (the original stack's library), built wide and cut to k+1."""
    from pynndescent import NNDescent

    build_k = min(max(k1, PYNND_MIN_BUILD_K), len(x) - 1)
    index = NNDescent(x, n_neighbors=build_k, metric="euclidean", random_state=seed,
                      n_jobs=threads, low_memory=True, verbose=False)
    indices, _ = index.neighbor_graph
    return indices[:, :k1]


def faiss_hnsw_candidates(x: np.ndarray, k1: int, seed: int, threads: int) -> np.ndarray:
    """faiss's HNSW (flat storage), levels drawn from a seeded generator."""
    import faiss

    # faiss >= 1.15 builds HNSW graphs deterministically in parallel; older ones race
    # between threads, so build those single-threaded to keep results reproducible.
    parallel_ok = hasattr(faiss, "hnsw_add_vertices_deterministic")
    faiss.omp_set_num_threads(threads if parallel_ok else 1)
    index = faiss.IndexHNSWFlat(x.shape[1], HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.rng = faiss.RandomGenerator(seed)
    index.add(x)
    faiss.omp_set_num_threads(threads)  # queries are independent: parallel is safe
    index.hnsw.efSearch = max(HNSW_MIN_EF_SEARCH, 2 * k1)
    _, ids = index.search(x, k1)
    return ids


def hnswlib_candidates(x: np.ndarray, k1: int, seed: int, threads: int) -> np.ndarray:
    """hnswlib's HNSW; built single-threaded so the graph is reproducible."""
    try:
        import hnswlib
    except ImportError:
        raise SkelshopError(None, "the hnswlib backend needs `pip install hnswlib` "
                                  "(it compiles from source); or use --ann-lib faiss") from None
    index = hnswlib.Index(space="l2", dim=x.shape[1])
    index.init_index(max_elements=len(x), ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M,
                     random_seed=seed)
    index.set_num_threads(1)
    index.add_items(x, np.arange(len(x)))
    index.set_num_threads(threads)
    index.set_ef(max(HNSW_MIN_EF_SEARCH, 2 * k1))
    ids, _ = index.knn_query(x, k=k1)
    return ids


# Inverted-file search of query rows against fixed base rows (`knn.query.KnnIndex`).
# The base is bucketed by its nearest k-means centroid (trained on IVF_TRAIN_PER_CELL
# sampled rows per cell, seeded); a query scans the cells whose centroid is within
# IVF_PROBE_RATIO (squared L2) of its nearest one, at least IVF_MIN_PROBES of them: a
# fixed nprobe wastes probes on queries deep inside one identity and starves those
# between two (at 1M faces, ratio 1.15 finds the exact nearest for 0.975 of queries with
# 24k rows scanned each; nprobe 16 on as many cells, 0.96 with 34k). Each cell is scanned
# for all its queries at once by one BLAS product (faiss.knn), not query by query:
# faiss's IndexIVFFlat re-reads a cell from memory for every query that probes it, 3-4x
# slower per pair on this 2-core machine (~20 vs ~85 ns under the same load).
IVF_TRAIN_PER_CELL = 32
IVF_NITER = 8
IVF_PROBE_RATIO = 1.15
IVF_MIN_PROBES = 2
IVF_MAX_PROBES = 64


def ivf_cells(n_base: int) -> int:
    """Cells for an IVF index over `n_base` rows: ~sqrt(n_base), which balances assigning
    the base (n_base x cells distances) against scanning it (~n_base / cells per probe)."""
    return max(1, round(float(np.sqrt(n_base))))


IVF_BLOCK = 16384  # query rows per task of a search against the centroids


@contextmanager
def _one_thread_per_call(threads: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of `threads` workers whose faiss and BLAS calls run one thread each.

    Why not faiss's own threads: every faiss.knn call opens OpenMP regions whose threads
    spin at the barriers, and on a 2-core machine shared with other jobs one of them is
    often off the CPU: the 1M add took 56 s so, 35 s with one thread per call (same load).
    """
    import faiss
    from threadpoolctl import threadpool_limits

    # OpenMP's thread count is per calling thread: each worker sets its own
    with threadpool_limits(1), ThreadPoolExecutor(max_workers=threads,
                                                  initializer=faiss.omp_set_num_threads,
                                                  initargs=(1,)) as pool:
        yield pool


def _knn_in_blocks(pool: ThreadPoolExecutor, q: np.ndarray, base: np.ndarray,
                   k: int) -> tuple[np.ndarray, np.ndarray]:
    """faiss.knn of q against base, blocks of IVF_BLOCK query rows spread over the pool."""
    import faiss

    found = list(pool.map(lambda start: faiss.knn(q[start:start + IVF_BLOCK], base, k),
                          range(0, len(q), IVF_BLOCK)))
    return np.concatenate([d for d, _ in found]), np.concatenate([i for _, i in found])


class IvfCells:
    """Base rows bucketed by nearest k-means centroid (seeded), each cell's rows of one
    part contiguous, scanned cell by cell for all the queries that probe it."""

    def __init__(self, x: np.ndarray, part: np.ndarray | None, seed: int, threads: int) -> None:
        import faiss

        faiss.omp_set_num_threads(threads)
        self.threads = threads
        n, dim = x.shape
        self.n_cells = ivf_cells(n)
        rng = np.random.default_rng(seed)
        n_train = min(n, IVF_TRAIN_PER_CELL * self.n_cells)
        train = x[np.sort(rng.choice(n, size=n_train, replace=False))]
        kmeans = faiss.Kmeans(dim, self.n_cells, niter=IVF_NITER, seed=seed,
                              min_points_per_centroid=1, max_points_per_centroid=n_train)
        kmeans.train(train)
        self.centroids = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
        with _one_thread_per_call(threads) as pool:
            cell = _knn_in_blocks(pool, x, self.centroids, 1)[1][:, 0]
        part = np.zeros(n, np.int64) if part is None else np.asarray(part, np.int64)
        self.n_parts = int(part.max(initial=0)) + 1
        key = cell * self.n_parts + part
        self.order = np.argsort(key, kind="stable")  # base rows in (cell, part, row) order
        self.rows = x[self.order]
        self.bounds = np.searchsorted(key[self.order],
                                      np.arange(self.n_cells * self.n_parts + 1)).tolist()

    def probes(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query, cell) pairs to scan, sorted by cell."""
        n_probe = min(IVF_MAX_PROBES, self.n_cells)
        with _one_thread_per_call(self.threads) as pool:
            dist, cell = _knn_in_blocks(pool, q, self.centroids, n_probe)
        keep = dist <= dist[:, :1] * IVF_PROBE_RATIO
        keep[:, :IVF_MIN_PROBES] = True
        keep &= cell >= 0
        query = np.repeat(np.arange(len(q)), keep.sum(axis=1))
        cell = cell[keep]
        by_cell = np.argsort(cell, kind="stable")
        return query[by_cell], cell[by_cell]

    def search(self, q: np.ndarray, k: int, parts: list[int | None]) -> list[np.ndarray]:
        """Per part (None: every row), k candidate base ids per query (-1 where the
        scanned cells held fewer)."""
        import faiss

        query, cell = self.probes(q)
        starts = np.searchsorted(cell, np.arange(self.n_cells + 1)).tolist()

        def scan(c: int) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
            who = query[starts[c]:starts[c + 1]]
            batch = q[who]
            out = []
            for j, p in enumerate(parts):
                lo = self.bounds[c * self.n_parts + (0 if p is None else p)]
                hi = self.bounds[c * self.n_parts + (self.n_parts if p is None else p + 1)]
                if hi > lo:
                    dist, found = faiss.knn(batch, self.rows[lo:hi], min(k, hi - lo))
                    out.append((j, who, dist, self.order[lo + found]))
            return out

        heaps = [faiss.ResultHeap(len(q), k) for _ in parts]
        with _one_thread_per_call(self.threads) as pool:
            # results come back in cell order: the heaps see them in one order, every run
            for found in pool.map(scan, np.flatnonzero(np.diff(starts)).tolist()):
                for j, who, dist, ids in found:
                    heaps[j].add_result_subset(who, dist, ids)
        for heap in heaps:
            heap.finalize()
        return [heap.I for heap in heaps]
