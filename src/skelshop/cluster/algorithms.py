"""The clustering algorithms by name, behind one call: `ALGORITHMS[name].run(x, graph, params)`.

Graph algorithms use only the kNN graph (linear memory, the ones that scale):
- `rnn-dbscan`: RNN-DBSCAN, one parameter k (our vectorised implementation); optionally
  on the graph without edges longer than max_dist.
- `dbscan`: DBSCAN over the kNN graph's edges (eps, min_samples).
Exact algorithms from scikit-learn use the embeddings (all pairs; fine to ~10^4-10^5 faces):
- `dbscan-exact`: DBSCAN; `optics-dbscan`: OPTICS with DBSCAN extraction at eps (bounded
  by max_eps = eps, so it is DBSCAN in OPTICS's lower memory); `hdbscan`: HDBSCAN with
  min_cluster_size = min_samples.
Every algorithm's clusters are renumbered by their smallest member (RNN-DBSCAN: by its
smallest core point, per its definition), so results do not depend on library internals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skelshop.cluster.graph_dbscan import graph_dbscan
from skelshop.cluster.knn.graph import KnnGraph
from skelshop.cluster.rnn_dbscan import NOISE, rnn_dbscan


@dataclass(frozen=True)
class Params:
    """Every algorithm's parameters; each algorithm reads the ones it lists."""

    k: int = 5
    eps: float = 0.6
    min_samples: int = 3
    max_dist: float | None = None  # RNN-DBSCAN: graph edges longer than this are dropped
    threads: int = 1


@dataclass(frozen=True)
class Clustering:
    """Labels (NOISE = -1), core flags and per-cluster density (longest core-core edge)."""

    labels: np.ndarray  # int32 (n,)
    core: np.ndarray  # bool (n,)
    density: np.ndarray  # float32 (n_clusters,)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return len(self.density)


Runner = Callable[[np.ndarray, KnnGraph, Params], Clustering]


@dataclass(frozen=True)
class Algorithm:
    """A named algorithm, what it needs, and how to run it."""

    name: str
    on_graph: bool  # True: needs only the kNN graph; False: all pairs of embeddings
    params: tuple[str, ...]  # which `Params` fields it reads
    run: Runner

    def graph_k(self, params: Params) -> int:
        """Neighbours the kNN graph needs for this algorithm with these parameters."""
        if "min_samples" in self.params and self.on_graph:
            return max(params.k, params.min_samples - 1)
        return params.k


def cluster_density(graph: KnnGraph, labels: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Per cluster, the longest kNN edge joining two of its core points (0 if none)."""
    n_clusters = int(labels.max(initial=NOISE)) + 1
    src = np.repeat(np.arange(graph.n), graph.k)
    dst = graph.indices.ravel()
    keep = core[src] & core[dst] & (labels[src] == labels[dst]) & (labels[src] >= 0)
    density = np.zeros(n_clusters, dtype=np.float32)
    np.maximum.at(density, labels[src[keep]], graph.distances.ravel()[keep])
    return density


def renumber_by_first_member(labels: np.ndarray) -> np.ndarray:
    """Relabel clusters 0, 1, ... in order of their smallest member; noise stays -1."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(len(labels), NOISE, dtype=np.int32)
    member = labels >= 0
    if not member.any():
        return out
    uniq, first = np.unique(labels[member], return_index=True)
    mapping = np.empty(int(uniq.max()) + 1, dtype=np.int64)
    mapping[uniq[np.argsort(first)]] = np.arange(len(uniq))
    out[member] = mapping[labels[member]]
    return out


def _finish(graph: KnnGraph, labels: np.ndarray, core: np.ndarray) -> Clustering:
    labels = renumber_by_first_member(labels)
    return Clustering(labels, core, cluster_density(graph, labels, core))


def _run_rnn_dbscan(x: np.ndarray, graph: KnnGraph, p: Params) -> Clustering:
    result = rnn_dbscan(graph, k=p.k, max_distance=p.max_dist)
    return Clustering(result.labels, result.core, result.density)


def _run_graph_dbscan(x: np.ndarray, graph: KnnGraph, p: Params) -> Clustering:
    labels, core = graph_dbscan(graph, p.eps, p.min_samples)
    return _finish(graph, labels, core)


def _run_dbscan_exact(x: np.ndarray, graph: KnnGraph, p: Params) -> Clustering:
    from sklearn.cluster import DBSCAN

    model = DBSCAN(eps=p.eps, min_samples=p.min_samples, n_jobs=p.threads).fit(x)
    core = np.zeros(len(x), dtype=bool)
    core[model.core_sample_indices_] = True
    return _finish(graph, model.labels_, core)


def _run_optics_dbscan(x: np.ndarray, graph: KnnGraph, p: Params) -> Clustering:
    from sklearn.cluster import OPTICS

    model = OPTICS(min_samples=p.min_samples, max_eps=p.eps, cluster_method="dbscan",
                   eps=p.eps, n_jobs=p.threads).fit(x)
    core = np.isfinite(model.core_distances_) & (model.core_distances_ <= p.eps)
    return _finish(graph, model.labels_, core)


def _run_hdbscan(x: np.ndarray, graph: KnnGraph, p: Params) -> Clustering:
    from sklearn.cluster import HDBSCAN

    model = HDBSCAN(min_cluster_size=max(2, p.min_samples), min_samples=p.min_samples,
                    n_jobs=p.threads, copy=True).fit(x)
    labels = np.asarray(model.labels_)
    return _finish(graph, labels, labels >= 0)  # HDBSCAN has no core points: all members


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a for a in (
        Algorithm("rnn-dbscan", True, ("k", "max_dist"), _run_rnn_dbscan),
        Algorithm("dbscan", True, ("eps", "min_samples"), _run_graph_dbscan),
        Algorithm("dbscan-exact", False, ("eps", "min_samples"), _run_dbscan_exact),
        Algorithm("optics-dbscan", False, ("eps", "min_samples"), _run_optics_dbscan),
        Algorithm("hdbscan", False, ("min_samples",), _run_hdbscan),
    )
}
