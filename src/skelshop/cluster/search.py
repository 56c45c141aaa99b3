"""Grid search over clustering parameters, scored without ground truth.

Each setting is scored by the silhouette of the clustered nodes (noise left out, on a
seeded sample) and by agreement with tracking (`track_agreement`). The score that
picks the winner is agreement x (1 + silhouette) / 2: both in [0, 1], so neither
lumping everything (agreement falls) nor splitting tracks (agreement falls) nor loose
clusters (silhouette falls) can win. An undefined silhouette (fewer than two clusters)
counts as 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
from sklearn.metrics import silhouette_score

from skelshop.cluster.algorithms import Algorithm, Clustering, Params
from skelshop.cluster.knn.graph import KnnGraph
from skelshop.cluster.track_agreement import TrackAgreement, track_agreement
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

SILHOUETTE_SAMPLE = 5000
DEFAULT_K_GRID = (2, 3, 4, 5, 6, 8, 10, 12, 15)
# eps from 5/6 to 7/6 of the space's same-person threshold (0.5 ... 0.7 for dlib's 0.6)
EPS_GRID_SPAN = (5 / 6, 7 / 6)
EPS_GRID_STEPS = 5
DEFAULT_MIN_SAMPLES_GRID = (3, 5, 8, 12)


@dataclass(frozen=True)
class SearchRow:
    """One tried setting and how it scored."""

    params: Params
    n_clusters: int
    noise: float  # fraction of nodes left as noise
    silhouette: float
    tracks: TrackAgreement

    @property
    def score(self) -> float:
        """agreement x (1 + silhouette) / 2."""
        sil = 0.0 if np.isnan(self.silhouette) else self.silhouette
        return self.tracks.agreement * (1 + sil) / 2


def eps_grid_around(threshold: float) -> tuple[float, ...]:
    """DBSCAN radii to try around a space's same-person threshold."""
    return tuple(float(e) for e in np.round(threshold * np.linspace(*EPS_GRID_SPAN,
                                                                    EPS_GRID_STEPS), 3))


def parameter_grid(algorithm: Algorithm, base: Params, n_nodes: int,
                   k_grid: Iterable[int] = DEFAULT_K_GRID,
                   eps_grid: Iterable[float] | None = None,
                   min_samples_grid: Iterable[int] = DEFAULT_MIN_SAMPLES_GRID,
                   space: EmbeddingSpace = DLIB_RESNET_V1) -> list[Params]:
    """The settings to try for an algorithm, limited to what `n_nodes` nodes allow.

    Without `eps_grid`, eps values are taken around `space`'s threshold.
    """
    if eps_grid is None:
        eps_grid = eps_grid_around(space.threshold)
    axes: dict[str, list] = {}
    if "k" in algorithm.params:
        axes["k"] = sorted({k for k in k_grid if 1 <= k < n_nodes}) or [max(1, n_nodes - 1)]
    if "eps" in algorithm.params:
        axes["eps"] = sorted(set(eps_grid))
    if "min_samples" in algorithm.params:
        axes["min_samples"] = sorted({m for m in min_samples_grid if m <= n_nodes}) or [2]
    names = list(axes)
    return [replace(base, **dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*(axes[n] for n in names))]


def silhouette(x: np.ndarray, labels: np.ndarray, seed: int = 0,
               space: EmbeddingSpace = DLIB_RESNET_V1) -> float:
    """Silhouette of the non-noise nodes (sampled) in `space`'s metric; NaN when it is undefined."""
    member = labels >= 0
    n_labels = len(np.unique(labels[member]))
    if n_labels < 2 or n_labels >= int(member.sum()):
        return float("nan")
    # the space's metric names are scikit-learn's ("euclidean", "cosine")
    return float(silhouette_score(space.prepare(x)[member], labels[member], metric=space.metric,
                                  sample_size=min(SILHOUETTE_SAMPLE, int(member.sum())),
                                  random_state=seed))


def grid_search(algorithm: Algorithm, grid: list[Params], x: np.ndarray, graph: KnnGraph,
                to_faces: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
                face_group: np.ndarray, cannot_pairs: np.ndarray, seed: int = 0,
                on_row: Callable[[SearchRow], None] | None = None,
                space: EmbeddingSpace = DLIB_RESNET_V1,
                ) -> tuple[list[SearchRow], int, Clustering]:
    """Run every setting; return all rows, the best row's index and its clustering.

    `graph` and the silhouettes are in `space` (the embeddings'); eps values in its metric.

    `to_faces(node_labels)` gives (face labels, group labels) under the pooling in use.
    `graph` must have at least as many neighbours as any setting needs. Ties keep the
    earlier setting (the grid is ordered from small to large parameters).
    """
    rows: list[SearchRow] = []
    best: tuple[float, int, Clustering] | None = None
    for params in grid:
        g = graph.truncate(min(graph.k, algorithm.graph_k(params)))
        result = algorithm.run(x, g, params)
        face_labels, group_labels = to_faces(result.labels)
        row = SearchRow(
            params=params,
            n_clusters=result.n_clusters,
            noise=float((result.labels < 0).mean()) if len(result.labels) else 0.0,
            silhouette=silhouette(x, result.labels, seed, space),
            tracks=track_agreement(face_labels, face_group, group_labels, cannot_pairs),
        )
        rows.append(row)
        if on_row is not None:
            on_row(row)
        if best is None or row.score > best[0]:
            best = (row.score, len(rows) - 1, result)
    if best is None:
        raise ValueError("empty parameter grid")
    return rows, best[1], best[2]
