"""The clustering algorithms by name, behind one call: `ALGORITHMS[name].run(x, graph, params)`.

Each runs its estimator (`cluster.estimators`, one parameter record per algorithm);
`Params` is the command line's settings, of which `estimator_for` hands each estimator
the ones it takes (the grid search varies them).

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
from typing import TYPE_CHECKING

import numpy as np

from skelshop.cluster.knn.graph import KnnGraph
from skelshop.cluster.rnn_dbscan import NOISE
from skelshop.space import DLIB_RESNET_V1

if TYPE_CHECKING:
    from skelshop.cluster.estimators import ClusterEstimator


@dataclass(frozen=True)
class Params:
    """Every algorithm's parameters; each algorithm reads the ones it lists."""

    k: int = 5
    eps: float = DLIB_RESNET_V1.threshold  # callers pass their embedding space's threshold
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


def estimator_for(name: str, p: Params) -> ClusterEstimator:
    """The named algorithm's estimator, given the parameters it uses of `p`."""
    from skelshop.cluster.estimators import (
        ExactDbscan,
        GraphDbscan,
        Hdbscan,
        OpticsDbscan,
        RnnDbscan,
    )

    if name == "rnn-dbscan":
        return RnnDbscan(k=p.k, max_dist=p.max_dist)
    if name == "dbscan":
        return GraphDbscan(eps=p.eps, min_samples=p.min_samples, k=p.k)
    if name == "dbscan-exact":
        return ExactDbscan(eps=p.eps, min_samples=p.min_samples, n_jobs=p.threads)
    if name == "optics-dbscan":
        return OpticsDbscan(eps=p.eps, min_samples=p.min_samples, n_jobs=p.threads)
    if name == "hdbscan":
        return Hdbscan(min_samples=p.min_samples, n_jobs=p.threads)
    raise ValueError(f"unknown clustering algorithm {name!r}")


def _runner(name: str) -> Runner:
    """Run the named estimator (the one implementation) and return its `Clustering`."""
    def run(x: np.ndarray, graph: KnnGraph, p: Params) -> Clustering:
        fitted = estimator_for(name, p).fit(x, graph=graph)
        return Clustering(fitted.labels_, fitted.core_, fitted.density_)
    return run


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a for a in (
        Algorithm("rnn-dbscan", True, ("k", "max_dist"), _runner("rnn-dbscan")),
        Algorithm("dbscan", True, ("eps", "min_samples"), _runner("dbscan")),
        Algorithm("dbscan-exact", False, ("eps", "min_samples"), _runner("dbscan-exact")),
        Algorithm("optics-dbscan", False, ("eps", "min_samples"), _runner("optics-dbscan")),
        Algorithm("hdbscan", False, ("min_samples",), _runner("hdbscan")),
    )
}
