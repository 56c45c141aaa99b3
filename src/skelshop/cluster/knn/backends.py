"""Approximate kNN backends: each returns k+1 raw candidate ids per row (self included).

They are thin adapters over well-kept libraries; `skelshop.cluster.knn.graph.finish_graph`
turns their output into the one canonical graph. Build parameters are chosen for recall
>= 0.95 at small k on face-like 128-D data (see benchmarks/results/cluster.txt).
"""

from __future__ import annotations

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
