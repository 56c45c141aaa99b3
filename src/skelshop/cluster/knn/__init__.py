"""kNN graphs behind one interface: `build_knn_graph(x, k, backend, seed, space=...)`.

Backends: `exact` (blocked BLAS), `pynndescent`, `faiss` (HNSW), `hnswlib` (HNSW, optional
install). All are seeded and deterministic, query k+1 neighbours and drop the row itself
the same way (see `graph.finish_graph`). They search the rows `space.prepare` gives (in
which L2 ranks as the space's metric does) and the graph's distances are in the space's
metric (Euclidean for dlib's space, 1 - cos for a cosine one).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from skelshop.cluster.knn.backends import (
    faiss_hnsw_candidates,
    hnswlib_candidates,
    pynndescent_candidates,
)
from skelshop.cluster.knn.exact import exact_search, nearest_sq
from skelshop.cluster.knn.graph import KnnGraph, finish_graph
from skelshop.cluster.knn.query import search_knn
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

log = logging.getLogger(__name__)

__all__ = ["BACKENDS", "KnnGraph", "build_knn_graph", "exact_search", "search_knn"]

Candidates = Callable[[np.ndarray, int, int, int], np.ndarray]

BACKENDS: dict[str, Candidates | None] = {
    "exact": None,
    "pynndescent": pynndescent_candidates,
    "faiss": faiss_hnsw_candidates,
    "hnswlib": hnswlib_candidates,
}
# Below this many rows an exact search (~2 s at 20k x 128-D) beats building an index,
# and is right: pynndescent alone spends ~30 s compiling in every new process.
SMALL_N = 20_000


def default_threads() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def build_knn_graph(x: np.ndarray, k: int, backend: str = "pynndescent", seed: int = 0,
                    threads: int | None = None, progress: bool = False,
                    exact_below: int = SMALL_N,
                    space: EmbeddingSpace = DLIB_RESNET_V1) -> KnnGraph:
    """The k-NN graph of the rows of `x` (self excluded) in `space`, by the named backend.

    Inputs with at most `exact_below` rows are searched exactly whatever the backend.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown kNN backend {backend!r}; choose from {sorted(BACKENDS)}")
    x = np.ascontiguousarray(space.prepare(x))
    n = len(x)
    if k < 1 or k >= n:
        raise ValueError(f"k must be between 1 and n-1 = {n - 1}, got {k}")
    threads = threads or default_threads()
    candidates = BACKENDS[backend]
    with threadpool_limits(threads):
        if candidates is None or n <= exact_below:
            if candidates is not None:
                log.info("%d rows: exact search instead of %s (cheaper at this size)", n,
                         backend)
            raw = _exact_candidates(x, k + 1, progress)
        else:
            raw = candidates(x, k + 1, seed, threads)
        return finish_graph(x, raw, k, space)


def _exact_candidates(x: np.ndarray, k1: int, progress: bool) -> np.ndarray:
    from tqdm import tqdm

    with tqdm(total=len(x), desc="exact kNN", unit="row", disable=not progress) as bar:
        return nearest_sq(x, x, k1, progress=bar)[1]
