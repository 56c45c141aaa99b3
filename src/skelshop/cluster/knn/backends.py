"""Approximate kNN backends: each returns k+1 raw candidate ids per row (self included).

They are thin adapters over well-kept libraries; `skelshop.cluster.knn.graph.finish_graph`
turns their output into the one canonical graph. Each ranks by L2 on the rows it is given,
which `EmbeddingSpace.prepare` made (unit rows for a cosine space, so L2 ranks as 1 - cos
does); only ids come back, distances are recomputed in the space by `finish_graph`. Build parameters are chosen for recall
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


# Inverted-file search of new rows against a fixed base (`knn.query.search_knn`): cells
# scanned per query, k-means iterations and training rows per cell.
IVF_NPROBE = 16
IVF_NITER = 10
IVF_TRAIN_PER_CELL = 32


def ivf_cells(n_queries: int, n_base: int) -> int:
    """Cells for an IVF index: balances assigning the base (n_base x cells distances) and
    scanning it (n_queries x nprobe x n_base / cells), at least nprobe, at most 4 sqrt(base)."""
    balanced = int(np.sqrt(max(n_queries, 1) * IVF_NPROBE))
    return int(np.clip(balanced, IVF_NPROBE, max(IVF_NPROBE, 4 * int(np.sqrt(n_base)))))


def faiss_ivf_query(base: np.ndarray, queries: np.ndarray, k: int, seed: int,
                    threads: int) -> np.ndarray:
    """faiss's IVF-Flat over `base` (k-means cells trained on a seeded sample), queried:
    k candidate ids per query row (-1 where the scanned cells held fewer)."""
    import faiss

    faiss.omp_set_num_threads(threads)
    cells = ivf_cells(len(queries), len(base))
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(base.shape[1]), base.shape[1], cells)
    index.cp.seed = seed
    index.cp.niter = IVF_NITER
    index.cp.min_points_per_centroid = 1  # a small training sample on purpose: no warning
    rng = np.random.default_rng(seed)
    n_train = min(len(base), IVF_TRAIN_PER_CELL * cells)
    index.train(base[np.sort(rng.choice(len(base), size=n_train, replace=False))])
    index.add(base)
    index.nprobe = min(IVF_NPROBE, cells)
    _, ids = index.search(queries, k)
    return ids
