"""Clustering as a model, in scikit-learn's style: one estimator per algorithm.

    model = RnnDbscan(k=5, max_dist=0.6).fit(embeddings, groups=tracks, cannot_link=pairs)
    model.labels_, model.core_sample_indices_, model.density_
    model.predict(new_embeddings)          # existing clusters or NOISE, never a new cluster
    model.save("model.h5"); load_estimator("model.h5")

`fit` takes the embeddings (a kNN graph is built exactly when none is given) or a
`KnnGraph` alone (graph algorithms; `predict` then needs embeddings, so it is refused).
With `groups` (node -> track) and `cannot_link` (pairs of groups seen in one frame),
clusters holding cannot-linked groups are split along them (`cannot_link.py`); labels
are then renumbered (RNN-DBSCAN: by smallest core point; the others: by smallest member).

`predict` places new nodes by the rule the fit used for points outside its cores:
- RNN-DBSCAN: the nearest core node among the k nearest fitted nodes, if within that
  cluster's den(C) (the paper's noise rule; `cluster.assign.assign_to_clusters`);
- DBSCAN (graph, exact, OPTICS): the nearest core node, if within eps (the border rule);
- HDBSCAN (no core points; every member counts as one): the nearest member, if within
  the cluster's density (its longest kNN edge between members).
With `groups`/`cannot_link` over the new nodes, two cannot-linked new groups never share
a cluster: the nearer keeps it, the other's nodes in it are left unassigned (NOISE).
Distances are the estimator's `space`'s (the model's embedder's when loaded); the search
is `knn.search_knn` (exact while small, faiss IVF beyond), and RNN-DBSCAN's predict takes
the new nodes' neighbours among the fitted ones when the caller has searched already.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from skelshop.cluster.assign import assign_to_clusters
from skelshop.cluster.cannot_link import count_violations, group_vote, split_cannot_links
from skelshop.cluster.graph_dbscan import graph_dbscan
from skelshop.cluster.knn import KnnGraph, build_knn_graph
from skelshop.cluster.rnn_dbscan import NOISE, rnn_dbscan
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace, space_of

# Defaults in the default embedding space; callers pass the space's own threshold.
SAME_PERSON = DLIB_RESNET_V1.threshold

DENSITY_K = 5  # neighbours of the graph that all-pairs algorithms' densities are read from


@dataclass(frozen=True)
class RnnDbscanParams:
    """RNN-DBSCAN: k, and optionally a cap on kNN edge length (None: the paper's graph)."""

    k: int = 5
    max_dist: float | None = None


@dataclass(frozen=True)
class GraphDbscanParams:
    """DBSCAN over a kNN graph's edges; the graph has max(k, min_samples - 1) neighbours."""

    eps: float = SAME_PERSON
    min_samples: int = 3
    k: int = 5


@dataclass(frozen=True)
class ExactDbscanParams:
    """scikit-learn's DBSCAN (all pairs)."""

    eps: float = SAME_PERSON
    min_samples: int = 3
    n_jobs: int = 1


@dataclass(frozen=True)
class OpticsDbscanParams:
    """scikit-learn's OPTICS with DBSCAN extraction at eps (max_eps = eps)."""

    eps: float = SAME_PERSON
    min_samples: int = 3
    n_jobs: int = 1


@dataclass(frozen=True)
class HdbscanParams:
    """scikit-learn's HDBSCAN, min_cluster_size = max(2, min_samples)."""

    min_samples: int = 3
    n_jobs: int = 1


class ClusterEstimator:
    """Shared fit/predict/save machinery; subclasses say how labels and core points arise."""

    name: ClassVar[str]
    on_graph: ClassVar[bool]  # True: needs only the kNN graph
    params: RnnDbscanParams | GraphDbscanParams | ExactDbscanParams | OpticsDbscanParams \
        | HdbscanParams

    labels_: np.ndarray
    core_: np.ndarray
    density_: np.ndarray
    graph_: KnnGraph
    embeddings_: np.ndarray | None
    n_violations_fit_: int  # cannot-links the plain fit violated, before splitting
    space: EmbeddingSpace = DLIB_RESNET_V1  # what predict's distances are measured in

    def get_params(self) -> dict:
        """The parameter record as a plain dict (what the model file stores)."""
        return asdict(self.params)

    def graph_k(self) -> int:
        """Neighbours the kNN graph needs."""
        return DENSITY_K

    @property
    def core_sample_indices_(self) -> np.ndarray:
        """Indices of the core nodes."""
        return np.flatnonzero(self.core_)

    @property
    def n_clusters_(self) -> int:
        """Number of clusters."""
        return len(self.density_)

    def fit(self, x: np.ndarray | KnnGraph | None = None, graph: KnnGraph | None = None,
            groups: np.ndarray | None = None,
            cannot_link: np.ndarray | None = None) -> ClusterEstimator:
        """Cluster nodes (embeddings and/or their kNN graph); split along cannot-links."""
        if isinstance(x, KnnGraph):
            x, graph = None, x
        if x is None and (graph is None or not self.on_graph):
            raise ValueError(f"{self.name} needs the embeddings" if graph is not None
                             else "fit needs embeddings or a kNN graph")
        embed = None if x is None else np.ascontiguousarray(x, dtype=np.float32)
        if graph is None:
            assert embed is not None
            if len(embed) < 2:
                raise ValueError("clustering needs at least 2 nodes")
            graph = build_knn_graph(embed, min(self.graph_k(), len(embed) - 1), "exact")
        labels, core, density = self._fit_nodes(embed, graph)
        self.n_violations_fit_ = 0
        if cannot_link is not None and len(cannot_link):
            if embed is None:
                raise ValueError("cannot-links are enforced by embedding distance: pass "
                                 "the embeddings")
            groups = np.arange(graph.n) if groups is None else np.asarray(groups, np.int64)
            n_groups = int(max(groups.max(initial=-1), np.max(cannot_link))) + 1
            self.n_violations_fit_ = count_violations(group_vote(labels, groups, n_groups),
                                                      cannot_link)
            if self.n_violations_fit_:
                labels = self._renumber(split_cannot_links(labels, embed, groups, cannot_link),
                                        core)
                density = self._density(graph, labels, core)
        self.labels_, self.core_, self.density_ = labels.astype(np.int32), core, density
        self.graph_, self.embeddings_ = graph, embed
        return self

    def fit_predict(self, x: np.ndarray | KnnGraph, **kwargs: object) -> np.ndarray:
        """`fit(...)` and return `labels_`."""
        return self.fit(x, **kwargs).labels_  # type: ignore[arg-type]

    def predict(self, x: np.ndarray, groups: np.ndarray | None = None,
                cannot_link: np.ndarray | None = None,
                neighbours: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Existing cluster of each new node, or NOISE (see module doc)."""
        return self.predict_with_distance(x, groups, cannot_link, neighbours)[0]

    def predict_with_distance(self, x: np.ndarray, groups: np.ndarray | None = None,
                              cannot_link: np.ndarray | None = None,
                              neighbours: tuple[np.ndarray, np.ndarray] | None = None
                              ) -> tuple[np.ndarray, np.ndarray]:
        """`predict`, and the distance to the node that decided each (inf for NOISE).

        `neighbours`: (distances, indices into the fitted nodes) of each new node's
        nearest fitted nodes, nearest first, as `knn.search_knn` gives them; used by
        algorithms whose rule reads the k nearest nodes (RNN-DBSCAN), searched when None.
        """
        if getattr(self, "embeddings_", None) is None:
            raise ValueError("predict needs a model fitted on (or loaded with) embeddings")
        assert self.embeddings_ is not None
        x = np.asarray(x, dtype=np.float32).reshape(-1, self.embeddings_.shape[1])
        if len(x) == 0:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        labels, distance = self._predict_nodes(x, neighbours)
        if cannot_link is not None and len(cannot_link):
            groups = np.arange(len(x)) if groups is None else np.asarray(groups, np.int64)
            labels = _keep_nearest_of_conflicts(labels, distance, groups,
                                                np.asarray(cannot_link, np.int64))
            distance = np.where(labels >= 0, distance, np.inf).astype(np.float32)
        return labels, distance

    def save(self, path: str | Path) -> None:
        """Write the fitted estimator alone as a cluster model file (HDF5)."""
        from skelshop.formats.cluster_model import bare_model, write_cluster_model

        if getattr(self, "embeddings_", None) is None:
            raise ValueError("only a model fitted on embeddings can be saved")
        write_cluster_model(path, bare_model(self.name, self.get_params(), self.embeddings_,
                                             self.labels_, self.core_, self.graph_.indices,
                                             self.graph_.distances, self.density_))

    # -- what differs between algorithms --
    def _fit_nodes(self, embed: np.ndarray | None,
                   graph: KnnGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _predict_nodes(self, x: np.ndarray, neighbours: tuple[np.ndarray, np.ndarray] | None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest core node within eps (the DBSCAN border rule); searches core nodes only."""
        eps = float(self.params.eps)  # type: ignore[union-attr]
        return _nearest_core_within(x, self.embeddings_, self.labels_, self.core_,
                                    np.full(self.n_clusters_, eps, np.float32), 1, self.space)

    def _renumber(self, labels: np.ndarray, core: np.ndarray) -> np.ndarray:
        from skelshop.cluster.algorithms import renumber_by_first_member

        return renumber_by_first_member(labels)

    def _density(self, graph: KnnGraph, labels: np.ndarray, core: np.ndarray) -> np.ndarray:
        from skelshop.cluster.algorithms import cluster_density

        return cluster_density(graph, labels, core)


class RnnDbscan(ClusterEstimator):
    """RNN-DBSCAN on a kNN graph (`rnn_dbscan.py`)."""

    name = "rnn-dbscan"
    on_graph = True

    def __init__(self, k: int = 5, max_dist: float | None = None) -> None:
        self.params = RnnDbscanParams(k=k, max_dist=max_dist)

    def graph_k(self) -> int:
        """Neighbours the kNN graph needs."""
        return self.params.k

    def _fit_nodes(self, embed: np.ndarray | None,
                   graph: KnnGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        result = rnn_dbscan(graph, k=min(self.params.k, graph.k), max_distance=self.params.max_dist)
        return result.labels, result.core, result.density

    def _predict_nodes(self, x: np.ndarray, neighbours: tuple[np.ndarray, np.ndarray] | None
                       ) -> tuple[np.ndarray, np.ndarray]:
        assert self.embeddings_ is not None
        found = assign_to_clusters(x, self.embeddings_, self.labels_, self.core_, self.density_,
                                   self.params.k, self.space, neighbours)
        return found.labels, found.distance

    def _renumber(self, labels: np.ndarray, core: np.ndarray) -> np.ndarray:
        """By smallest core point (RNN-DBSCAN's numbering); clusters without one after."""
        return _renumber_by_core(labels, core)

    def _density(self, graph: KnnGraph, labels: np.ndarray, core: np.ndarray) -> np.ndarray:
        cap = self.params.max_dist
        if cap is not None:
            graph = KnnGraph(graph.indices, np.where(graph.distances <= cap, graph.distances,
                                                     np.float32(0)))
        return super()._density(graph, labels, core)


class GraphDbscan(ClusterEstimator):
    """DBSCAN over the kNN graph's edges (`graph_dbscan.py`)."""

    name = "dbscan"
    on_graph = True

    def __init__(self, eps: float = SAME_PERSON, min_samples: int = 3, k: int = 5) -> None:
        self.params = GraphDbscanParams(eps=eps, min_samples=min_samples, k=k)

    def graph_k(self) -> int:
        """Neighbours the kNN graph needs."""
        return max(self.params.k, self.params.min_samples - 1)

    def _fit_nodes(self, embed: np.ndarray | None,
                   graph: KnnGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels, core = graph_dbscan(graph, self.params.eps, self.params.min_samples)
        labels = self._renumber(labels, core)
        return labels, core, self._density(graph, labels, core)


class ExactDbscan(ClusterEstimator):
    """scikit-learn's DBSCAN on all pairs."""

    name = "dbscan-exact"
    on_graph = False

    def __init__(self, eps: float = SAME_PERSON, min_samples: int = 3, n_jobs: int = 1) -> None:
        self.params = ExactDbscanParams(eps=eps, min_samples=min_samples, n_jobs=n_jobs)

    def _fit_nodes(self, embed: np.ndarray | None,
                   graph: KnnGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from sklearn.cluster import DBSCAN

        p = self.params
        model = DBSCAN(eps=p.eps, min_samples=p.min_samples, n_jobs=p.n_jobs).fit(embed)
        core = np.zeros(graph.n, dtype=bool)
        core[model.core_sample_indices_] = True
        labels = self._renumber(model.labels_, core)
        return labels, core, self._density(graph, labels, core)


class OpticsDbscan(ClusterEstimator):
    """scikit-learn's OPTICS, DBSCAN extraction at eps."""

    name = "optics-dbscan"
    on_graph = False

    def __init__(self, eps: float = SAME_PERSON, min_samples: int = 3, n_jobs: int = 1) -> None:
        self.params = OpticsDbscanParams(eps=eps, min_samples=min_samples, n_jobs=n_jobs)

    def _fit_nodes(self, embed: np.ndarray | None,
                   graph: KnnGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from sklearn.cluster import OPTICS

        p = self.params
        model = OPTICS(min_samples=p.min_samples, max_eps=p.eps, cluster_method="dbscan",
                       eps=p.eps, n_jobs=p.n_jobs).fit(embed)
        core = np.isfinite(model.core_distances_) & (model.core_distances_ <= p.eps)
        labels = self._renumber(model.labels_, core)
        return labels, core, self._density(graph, labels, core)


class Hdbscan(ClusterEstimator):
    """scikit-learn's HDBSCAN; every member counts as a core point."""

    name = "hdbscan"
    on_graph = False

    def __init__(self, min_samples: int = 3, n_jobs: int = 1) -> None:
        self.params = HdbscanParams(min_samples=min_samples, n_jobs=n_jobs)

    def _fit_nodes(self, embed: np.ndarray | None,
                   graph: KnnGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from sklearn.cluster import HDBSCAN

        p = self.params
        model = HDBSCAN(min_cluster_size=max(2, p.min_samples), min_samples=p.min_samples,
                        n_jobs=p.n_jobs, copy=True).fit(embed)
        labels = self._renumber(np.asarray(model.labels_), np.zeros(graph.n, bool))
        core = labels >= 0
        return labels, core, self._density(graph, labels, core)

    def _predict_nodes(self, x: np.ndarray, neighbours: tuple[np.ndarray, np.ndarray] | None
                       ) -> tuple[np.ndarray, np.ndarray]:
        return _nearest_core_within(x, self.embeddings_, self.labels_, self.core_,
                                    self.density_, 1, self.space)


ESTIMATORS: dict[str, type[ClusterEstimator]] = {
    c.name: c for c in (RnnDbscan, GraphDbscan, ExactDbscan, OpticsDbscan, Hdbscan)
}


def load_estimator(path: str | Path) -> ClusterEstimator:
    """A fitted estimator from a cluster model file (corpus runs' model.h5 included)."""
    from skelshop.formats.cluster_model import read_cluster_model

    return estimator_from_model(read_cluster_model(path))


def estimator_from_model(model: object) -> ClusterEstimator:
    """The fitted estimator a `ClusterModel` holds."""
    from skelshop.formats.cluster_model import ClusterModel

    assert isinstance(model, ClusterModel)
    cls = ESTIMATORS[model.params.algorithm]
    est = cls(**model.params.algorithm_params)
    est.labels_, est.core_ = model.labels.astype(np.int32), model.core.astype(bool)
    est.density_ = model.density.astype(np.float32)
    est.graph_ = KnnGraph(model.knn_indices, model.knn_distances)
    est.embeddings_ = np.ascontiguousarray(model.node_embed, dtype=np.float32)
    est.n_violations_fit_ = 0
    est.space = space_of(model.embedder, est.embeddings_.shape[1])  # bare models: euclidean
    return est


def _nearest_core_within(x: np.ndarray, embed: np.ndarray | None, labels: np.ndarray,
                         core: np.ndarray, radius: np.ndarray, k: int,
                         space: EmbeddingSpace) -> tuple[np.ndarray, np.ndarray]:
    """Cluster of the nearest core node if within its cluster's radius, else NOISE."""
    assert embed is not None
    cores = np.flatnonzero(core & (labels >= 0))
    if len(cores) == 0:
        return np.full(len(x), NOISE, np.int32), np.full(len(x), np.inf, np.float32)
    found = assign_to_clusters(x, embed[cores], labels[cores], np.ones(len(cores), bool),
                               radius, k, space)
    return found.labels, found.distance


def _renumber_by_core(labels: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Clusters 0, 1, ... by smallest core member; clusters without a core by smallest member."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(len(labels), NOISE, dtype=np.int32)
    member = labels >= 0
    if not member.any():
        return out
    n = len(labels)
    span = int(labels.max()) + 1
    first = np.full(span, 2 * n, dtype=np.int64)
    idx = np.arange(n)
    np.minimum.at(first, labels[member], np.where(core[member], idx[member], n + idx[member]))
    used = np.flatnonzero(first < 2 * n)
    mapping = np.full(span, NOISE, dtype=np.int64)
    mapping[used[np.argsort(first[used], kind="stable")]] = np.arange(len(used))
    out[member] = mapping[labels[member]]
    return out


def _keep_nearest_of_conflicts(labels: np.ndarray, distance: np.ndarray, groups: np.ndarray,
                               pairs: np.ndarray) -> np.ndarray:
    """Of cannot-linked groups given one cluster, the nearest keeps it; the others' nodes go."""
    labels = labels.copy()
    n_groups = int(max(groups.max(initial=-1), pairs.max(initial=-1))) + 1
    g_label = group_vote(labels, groups, n_groups)
    closeness = np.full(n_groups, np.inf)
    for g in np.unique(pairs):
        mine = (groups == g) & (labels == g_label[g]) & (labels >= 0)
        if mine.any():
            closeness[g] = float(distance[mine].mean())
    partners: dict[int, set[int]] = {}
    for a, b in pairs.tolist():
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    kept: set[int] = set()
    for g in sorted(partners, key=lambda g: (closeness[g], g)):
        if g_label[g] < 0:
            continue
        if any(g_label[p] == g_label[g] and p in kept for p in partners[g]):
            labels[(groups == g) & (labels == g_label[g])] = NOISE
            g_label[g] = NOISE
        else:
            kept.add(g)
    return labels
