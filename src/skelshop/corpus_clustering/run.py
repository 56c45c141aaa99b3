"""Cluster a corpus's faces with fixed parameters or a grid search, and assemble the results."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from skelshop.cluster.algorithms import ALGORITHMS, Clustering, Params, estimator_for
from skelshop.cluster.cannot_link import count_violations
from skelshop.cluster.estimators import ClusterEstimator
from skelshop.cluster.knn import KnnGraph, default_threads
from skelshop.cluster.search import SearchRow, grid_search, parameter_grid
from skelshop.cluster.track_agreement import cooccurring_groups
from skelshop.corpus_clustering.faces import CorpusFaces
from skelshop.corpus_clustering.nodes import Nodes, make_nodes, node_graph, pooled_labels
from skelshop.errors import SkelshopError

log = logging.getLogger(__name__)


@dataclass
class ClusSettings:
    """What the user asked for; eps and max_dist None mean the embedder's threshold."""

    algorithm: str = "rnn-dbscan"
    ann_lib: str = "pynndescent"
    k: int = 5
    pool: str = "vote"
    eps: float | None = None
    min_samples: int = 3
    max_dist: float | None = None
    seed: int = 0
    num_protos: int = 1
    proto_method: str = "rnn"
    threads: int | None = None


@dataclass
class ClusOutcome:
    """A finished clustering of a corpus and everything needed to write it out."""

    faces: CorpusFaces
    nodes: Nodes
    graph: KnnGraph
    clustering: Clustering
    params: Params
    face_labels: np.ndarray
    track_labels: np.ndarray
    estimator: ClusterEstimator | None = None
    # track pairs seen in one frame, and how many of them the plain fit (before the
    # split) and the final track labels put in one cluster
    cannot_link: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    violations_fit: int = 0
    violations: int = 0
    notes: list[str] = field(default_factory=list)
    search: list[SearchRow] | None = None
    best: int | None = None


def _params(settings: ClusSettings, faces: CorpusFaces, n_nodes: int,
            corpus: str | Path, notes: list[str]) -> Params:
    """Validated parameters; k above what the data allows is lowered, with a note."""
    what = "faces" if settings.pool == "vote" else "tracks"
    if n_nodes < 2:
        raise SkelshopError(corpus, f"only {n_nodes} {what[:-1]} to cluster; "
                                    "clustering needs at least 2")
    k = settings.k
    if k >= n_nodes:
        k = n_nodes - 1
        notes.append(f"--knn {settings.k} is not below the number of {what} ({n_nodes}); "
                     f"using k={k}")
    uses_min_samples = "min_samples" in ALGORITHMS[settings.algorithm].params
    if uses_min_samples and settings.min_samples > n_nodes:
        raise SkelshopError(corpus, f"--min-samples {settings.min_samples} exceeds the "
                                    f"number of {what} ({n_nodes})")
    eps = faces.embedder.threshold if settings.eps is None else settings.eps
    max_dist = faces.embedder.threshold if settings.max_dist is None else settings.max_dist
    return Params(k=k, eps=eps, min_samples=settings.min_samples,
                  max_dist=None if np.isinf(max_dist) else max_dist,
                  threads=settings.threads or default_threads())


def cluster_fixed(faces: CorpusFaces, settings: ClusSettings, corpus: str | Path,
                  progress: bool = True, extra_cannot: np.ndarray | None = None) -> ClusOutcome:
    """One clustering with the given parameters; `extra_cannot`: more track pairs kept apart."""
    algorithm = ALGORITHMS[settings.algorithm]
    nodes = make_nodes(faces, settings.pool)
    notes: list[str] = []
    params = _params(settings, faces, len(nodes), corpus, notes)
    graph_k = min(algorithm.graph_k(params), len(nodes) - 1)
    graph = node_graph(faces, nodes, graph_k, settings.ann_lib, settings.seed,
                       settings.threads, progress)
    return _fit_kept_apart(faces, nodes, graph, settings.algorithm, params, notes,
                           extra_cannot=extra_cannot)


def corpus_params(settings: ClusSettings, faces: CorpusFaces, n_nodes: int,
                  corpus: str | Path, notes: list[str]) -> Params:
    """Validated parameters for clustering `n_nodes` nodes of `faces`."""
    return _params(settings, faces, n_nodes, corpus, notes)


def node_groups(faces: CorpusFaces, nodes: Nodes) -> np.ndarray:
    """The track of each node."""
    return _node_groups(faces, nodes)


def _node_groups(faces: CorpusFaces, nodes: Nodes) -> np.ndarray:
    """The track of each node: faces' tracks (vote), or the node itself (one per track)."""
    return faces.group if nodes.pool == "vote" else np.arange(len(nodes), dtype=np.int64)


def _fit_kept_apart(faces: CorpusFaces, nodes: Nodes, graph: KnnGraph, algorithm: str,
                    params: Params, notes: list[str], rows: list[SearchRow] | None = None,
                    best: int | None = None,
                    extra_cannot: np.ndarray | None = None) -> ClusOutcome:
    """Fit the estimator with the corpus's cannot-links (tracks seen in one frame)."""
    cannot = cooccurring_groups(*faces.track_spans())
    if extra_cannot is not None and len(extra_cannot):
        cannot = np.unique(np.sort(np.vstack([np.asarray(cannot, np.int64).reshape(-1, 2),
                                              np.asarray(extra_cannot, np.int64)]), axis=1),
                           axis=0)
    estimator = estimator_for(algorithm, params).fit(
        nodes.embed, graph=graph, groups=_node_groups(faces, nodes), cannot_link=cannot)
    result = Clustering(estimator.labels_, estimator.core_, estimator.density_)
    face_labels, track_labels = pooled_labels(faces, nodes, result.labels)
    violations = count_violations(track_labels, cannot)
    if len(cannot):
        notes.append(f"{len(cannot)} track pairs seen in one frame (different people): the "
                     f"fit put {estimator.n_violations_fit_} of them in one cluster, "
                     f"{violations} after splitting along them")
    return ClusOutcome(faces, nodes, graph, result, params, face_labels, track_labels,
                       estimator, cannot, estimator.n_violations_fit_, violations, notes,
                       rows, best)


def cluster_search(faces: CorpusFaces, settings: ClusSettings, corpus: str | Path,
                   progress: bool = True,
                   on_row: Callable[[SearchRow], None] | None = None) -> ClusOutcome:
    """Try a grid of parameters, score each without ground truth, keep the best."""
    algorithm = ALGORITHMS[settings.algorithm]
    nodes = make_nodes(faces, settings.pool)
    notes: list[str] = []
    base = _params(settings, faces, len(nodes), corpus, notes)
    grid = parameter_grid(algorithm, base, len(nodes), space=nodes.space)
    graph_k = min(max(algorithm.graph_k(p) for p in grid), len(nodes) - 1)
    graph = node_graph(faces, nodes, graph_k, settings.ann_lib, settings.seed,
                       settings.threads, progress)
    cannot = cooccurring_groups(*faces.track_spans())
    rows, best, _result = grid_search(
        algorithm, grid, nodes.embed, graph,
        to_faces=lambda labels: pooled_labels(faces, nodes, labels),
        face_group=faces.group, cannot_pairs=cannot, seed=settings.seed, on_row=on_row,
        space=nodes.space,
    )
    params = rows[best].params
    # the search scores plain fits (how well each agrees with tracking); the kept one is
    # refitted with the same-frame cannot-links enforced
    return _fit_kept_apart(faces, nodes, graph.truncate(min(graph.k, algorithm.graph_k(params))),
                           settings.algorithm, params, notes, rows, best)


def search_rows_as_dicts(rows: list[SearchRow]) -> list[dict]:
    """The search table in plain types (stored in the model's parameters)."""
    return [{**asdict(replace(r.params)), "n_clusters": r.n_clusters, "noise": r.noise,
             "silhouette": None if np.isnan(r.silhouette) else r.silhouette,
             "must_link": r.tracks.must_link, "cannot_link": r.tracks.cannot_link,
             "agreement": r.tracks.agreement, "score": r.score} for r in rows]
