"""A corpus that grows: new tracks join a stored clustering, or a refit keeps its numbers.

`extend_clustering`: the tracks of videos the stored model already holds (same video, same
faces) keep their clusters; the others are placed into the existing clusters by the
estimator's `predict` (the fit's own noise rule; two tracks seen in one frame never share
a cluster), and those it leaves out are clustered among themselves, their clusters
numbered after every existing one. Tracks of videos no longer in the corpus are dropped;
cluster numbers never change. One index over the corpus's nodes (`knn.KnnIndex`, kept
and new nodes its two parts: exact while small, IVF cells beyond, built once per add)
serves every search of the add: the new nodes are searched once against the kept ones
and against each other (one pass over the cells), for `predict` and for the new nodes'
rows of the grown kNN graph; the kept nodes keep their stored rows and distances.

`carry_numbers`: after a refit, each new cluster takes the number of the old cluster it
overlaps most (one to one, `scipy.optimize.linear_sum_assignment` on the track overlap),
so names given to old numbers carry over; the rest get numbers after all old ones.
"""

from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from skelshop.cluster.algorithms import ALGORITHMS, Clustering
from skelshop.cluster.cannot_link import count_violations
from skelshop.cluster.estimators import ClusterEstimator, estimator_from_model
from skelshop.cluster.knn import SMALL_N, KnnGraph
from skelshop.cluster.knn.query import KnnIndex
from skelshop.cluster.track_agreement import cooccurring_groups
from skelshop.corpus_clustering.faces import CorpusFaces, subset_faces
from skelshop.corpus_clustering.nodes import Nodes, make_nodes, node_graph, pooled_labels
from skelshop.corpus_clustering.run import (
    ClusOutcome,
    ClusSettings,
    cluster_fixed,
    corpus_params,
    node_groups,
)
from skelshop.errors import SkelshopError
from skelshop.formats.cluster_model import ClusterModel
from skelshop.formats.corpus_names import CorpusNames
from skelshop.formats.identifications import cluster_index

log = logging.getLogger(__name__)
NOISE = -1
TrackKey = tuple[str, int, int]  # (video path, shot, track id)
_COMPARE_BLOCK = 65536  # face rows per embedding comparison: bounded temporaries


def _video_key(path: str) -> str:
    return os.path.abspath(path) if path else path


def model_track_keys(model: ClusterModel) -> list[TrackKey]:
    """(video, shot, track) of each of a model's tracks."""
    videos = [_video_key(v) for v in model.videos]
    return [(videos[v], int(s), int(p)) for v, s, p in
            zip(model.track_video.tolist(), model.track_seg.tolist(),
                model.track_pers.tolist(), strict=True)]


def corpus_track_keys(faces: CorpusFaces) -> list[TrackKey]:
    """(video, shot, track) of each track of a corpus."""
    videos = [_video_key(v) for v in faces.videos]
    return [(videos[v], int(s), int(p)) for v, s, p in
            zip(faces.track_video.tolist(), faces.track_seg.tolist(),
                faces.track_pers.tolist(), strict=True)]


def compatible(model: ClusterModel, faces: CorpusFaces, settings: ClusSettings) -> str | None:
    """Why new tracks cannot join this stored model (None: they can)."""
    if model.embedder.name != faces.embedder.name:
        return f"it was made with embedder {model.embedder.name}, not {faces.embedder.name}"
    if model.params.algorithm != settings.algorithm or model.params.pool != settings.pool:
        return "it was made with other clustering settings"
    if model.n_nodes == 0 or not np.any(model.labels >= 0):
        return "it has no clusters"
    if model.embed.shape[1] != faces.embed.shape[1]:
        return "its embeddings have another dimension"
    return None


def kept_face_rows(model: ClusterModel, faces: CorpusFaces) -> np.ndarray:
    """Per corpus face, its row in the model when its video is unchanged there, else -1.

    A video is unchanged when the model holds the same faces of it (frame, track and
    embedding): a re-made dump (a changed video or setting) makes all its tracks new.
    """
    old_row = np.full(faces.n_faces, -1, dtype=np.int64)
    old_index = {_video_key(v): i for i, v in enumerate(model.videos)}
    video_old = np.array([old_index.get(_video_key(v), -1) for v in faces.videos], np.int64)
    n_new = np.bincount(faces.video_idx, minlength=len(faces.videos))
    n_old = np.bincount(model.face_video, minlength=len(model.videos))
    video_old[(video_old >= 0) & (n_new != n_old[np.maximum(video_old, 0)])] = -1
    matched = video_old[video_old >= 0]
    if len(np.unique(matched)) < len(matched):  # one model video named twice: keep the first
        first = np.unique(video_old, return_index=True)[1]
        video_old[np.setdiff1d(np.arange(len(video_old)), first)] = -1
    # faces of matched videos, both sides in (model video, frame, track) order: aligned
    new_rows = np.flatnonzero(video_old[faces.video_idx] >= 0)
    of_video = video_old[faces.video_idx[new_rows]]
    new_rows = new_rows[np.lexsort((faces.pers[new_rows], faces.frame[new_rows], of_video))]
    in_model = np.zeros(len(model.videos), dtype=bool)
    in_model[video_old[video_old >= 0]] = True
    old_rows = np.flatnonzero(in_model[model.face_video])
    old_rows = old_rows[np.lexsort((model.face_pers[old_rows], model.face_frame[old_rows],
                                    model.face_video[old_rows]))]
    same = ((faces.frame[new_rows] == model.face_frame[old_rows])
            & (faces.pers[new_rows] == model.face_pers[old_rows])
            & (faces.seg[new_rows] == model.face_seg[old_rows]))
    for start in range(0, len(new_rows), _COMPARE_BLOCK):  # np.allclose's test, row by row
        stop = start + _COMPARE_BLOCK
        a, b = faces.embed[new_rows[start:stop]], model.embed[old_rows[start:stop]]
        same[start:stop] &= (np.abs(a - b) <= 1e-6 + 1e-5 * np.abs(b)).all(axis=1)
    video = faces.video_idx[new_rows]
    unchanged = np.bincount(video, weights=~same, minlength=len(faces.videos)) == 0
    keep = unchanged[video]
    old_row[new_rows[keep]] = old_rows[keep]
    return old_row


@dataclass
class Extension:
    """What `extend_clustering` did, for the run's notes."""

    kept_tracks: int
    predicted_tracks: int
    new_cluster_tracks: int
    new_clusters: int


def extend_clustering(model: ClusterModel, faces: CorpusFaces, settings: ClusSettings,
                      corpus: str | Path, progress: bool = True,
                      rebuild_below: int = SMALL_N) -> tuple[ClusOutcome, Extension]:
    """The corpus clustered by the stored model: kept tracks, predicted ones, new clusters.

    The kNN graph is rebuilt for up to `rebuild_below` nodes, else grown (`_grown_graph`).
    """
    threads = settings.threads
    nodes = make_nodes(faces, settings.pool)
    notes: list[str] = []
    params = corpus_params(settings, faces, len(nodes), corpus, notes)
    old_row = kept_face_rows(model, faces)
    node_old = np.where(old_row[nodes.node_face] >= 0,
                        model.face_node[np.maximum(old_row[nodes.node_face], 0)], -1)
    is_old = node_old >= 0
    labels = np.full(len(nodes), NOISE, dtype=np.int32)
    core = np.zeros(len(nodes), dtype=bool)
    labels[is_old] = model.labels[node_old[is_old]]
    core[is_old] = model.core[node_old[is_old]]
    density = np.asarray(model.density, dtype=np.float32).copy()
    groups = node_groups(faces, nodes)
    cannot = cooccurring_groups(*faces.track_spans())
    old_tracks = np.zeros(faces.n_tracks, dtype=bool)
    old_tracks[groups[is_old]] = True
    new_nodes = np.flatnonzero(~is_old)
    n_predicted = n_rest = n_new_clusters = 0
    track_labels = np.full(faces.n_tracks, NOISE, dtype=np.int32)
    graph_k = min(ALGORITHMS[settings.algorithm].graph_k(params), len(nodes) - 1)
    found: NewNeighbours | None = None
    stored = estimator_from_model(model)
    # one index over the corpus's nodes (kept: part 0, new: part 1) for every search below
    index = KnnIndex(nodes.embed, nodes.space, settings.seed, threads,
                     part=(~is_old).astype(np.int64))
    grows = not _rebuilds_graph(model, nodes, is_old, settings, graph_k, rebuild_below)
    if len(new_nodes):
        if is_old.any():  # else every new track is clustered among the new ones
            fitted = np.unique(node_old[is_old])  # the estimator's rows: kept model nodes
            estimator = _estimator_on(stored, fitted)
            search_k = max(graph_k, getattr(estimator.params, "k", 1))
            # new against kept (predict, graph) and, for a grown graph, new against new
            found_parts = index.search(nodes.embed[new_nodes], max(search_k, graph_k + 1),
                                       parts=(0, 1) if grows else (0,))
            dist, near_old = (a[:, :search_k] for a in found_parts[0])
            if grows:
                found = NewNeighbours(new_nodes, dist, near_old, *found_parts[1])
            rows = np.searchsorted(fitted, node_old[near_old])  # corpus node -> estimator row
            new_pairs = cannot[~old_tracks[cannot[:, 0]] & ~old_tracks[cannot[:, 1]]] \
                if len(cannot) else cannot
            predicted = estimator.predict(nodes.embed[new_nodes], groups=groups[new_nodes],
                                          cannot_link=new_pairs, neighbours=(dist, rows))
            labels[new_nodes] = predicted
        _, track_labels = pooled_labels(faces, nodes, labels)
        track_labels[~old_tracks] = _keep_apart(track_labels, cannot, old_tracks)[~old_tracks]
        rest = np.flatnonzero(~old_tracks & (track_labels < 0))
        n_predicted = int((~old_tracks & (track_labels >= 0)).sum())
        # nodes of new tracks follow their track's label (a face outvoted in its track too)
        new_track_nodes = ~is_old
        labels[new_track_nodes] = track_labels[groups[new_track_nodes]]
        if len(rest):
            n_rest, density = _cluster_rest(faces, nodes, rest, settings, corpus, labels,
                                            core, density, params.k, progress)
            n_new_clusters = len(density) - len(model.density)
    face_labels, pooled = pooled_labels(faces, nodes, labels)
    # a kept track keeps exactly the label the model gave it
    track_labels = pooled
    old_track_label = _old_track_labels(model, faces)
    track_labels[old_tracks] = old_track_label[old_tracks]
    graph = _grown_graph(model, faces, nodes, node_old, settings, graph_k, rebuild_below,
                         progress, found, index)
    outcome = ClusOutcome(faces, nodes, graph, Clustering(labels, core, density), params,
                          face_labels, track_labels, stored, cannot,
                          0, count_violations(track_labels, cannot), notes)
    return outcome, Extension(int(old_tracks.sum()), n_predicted, n_rest, n_new_clusters)


@dataclass(frozen=True)
class NewNeighbours:
    """The new nodes' nearest kept nodes and nearest new nodes (corpus node ids), nearest first."""

    nodes: np.ndarray  # int64 (q,) the new nodes
    distances: np.ndarray  # float32 (q, c), in the nodes' space
    indices: np.ndarray  # int64 (q, c) kept corpus nodes
    new_distances: np.ndarray  # float32 (q, c'), to new nodes (the node itself included)
    new_indices: np.ndarray  # int64 (q, c') new corpus nodes


def _grown_graph(model: ClusterModel, faces: CorpusFaces, nodes: Nodes, node_old: np.ndarray,
                 settings: ClusSettings, k: int, rebuild_below: int,
                 progress: bool, found: NewNeighbours | None, index: KnnIndex) -> KnnGraph:
    """The kNN graph of the grown corpus (for prototypes and the stored model).

    Large corpora: kept nodes keep their stored neighbours (renumbered, with their stored
    distances); a new node's list is the nearest k of its kept and new neighbours from
    `found` (the one search `predict` used, or searched here); kept nodes that lost a
    neighbour with a removed video are searched against all. Searches go through `index`
    (`knn.KnnIndex` over the corpus's nodes, kept ones part 0: exact while small, IVF
    beyond). A kept node's list does not learn of new nodes nearer than its old
    neighbours: the graph only ranks prototypes; cluster membership was decided by
    `predict`. Small corpora (or min pooling, whose graph comes from the faces') are
    rebuilt, as exact as a refit.
    """
    is_old = node_old >= 0
    if _rebuilds_graph(model, nodes, is_old, settings, k, rebuild_below):
        return node_graph(faces, nodes, k, settings.ann_lib, settings.seed, settings.threads,
                          progress)
    old_to_new = np.full(model.n_nodes, -1, dtype=np.int64)
    old_to_new[node_old[is_old]] = np.flatnonzero(is_old)
    indices = np.empty((len(nodes), k), dtype=np.int64)
    distances = np.empty((len(nodes), k), dtype=np.float32)
    indices[is_old] = old_to_new[model.knn_indices[node_old[is_old], :k]]
    distances[is_old] = model.knn_distances[node_old[is_old], :k]
    lost = np.zeros(len(nodes), dtype=bool)
    lost[is_old] = (indices[is_old] < 0).any(axis=1)
    new = np.flatnonzero(~is_old)
    if len(new):
        if found is None or not np.array_equal(found.nodes, new):
            (d_old, i_old), (d_new, i_new) = index.search(nodes.embed[new], k + 1, parts=(0, 1))
        else:
            d_old, i_old = found.distances, found.indices
            d_new, i_new = found.new_distances, found.new_indices
        _set_nearest(indices, distances, new, np.hstack([d_old[:, :k], d_new[:, :k + 1]]),
                     np.hstack([i_old[:, :k], i_new[:, :k + 1]]))
    rows = np.flatnonzero(lost)
    if len(rows):
        dist, ids = index.search(nodes.embed[rows], k + 1)[0]
        _set_nearest(indices, distances, rows, dist, ids)
    # renumbered lists were sorted by (distance, old id): re-sort the rows holding a tie
    tied = np.flatnonzero((np.diff(distances, axis=1) == 0).any(axis=1))
    if len(tied):
        order = np.lexsort((indices[tied], distances[tied]), axis=1)
        indices[tied] = np.take_along_axis(indices[tied], order, axis=1)
        distances[tied] = np.take_along_axis(distances[tied], order, axis=1)
    return KnnGraph(indices, distances)


def _rebuilds_graph(model: ClusterModel, nodes: Nodes, is_old: np.ndarray,
                    settings: ClusSettings, k: int, rebuild_below: int) -> bool:
    """Whether the grown corpus's kNN graph is rebuilt (else grown from the stored one)."""
    return bool(len(nodes) <= rebuild_below or settings.pool == "min"
                or model.knn_indices.shape[1] < k or not is_old.any())


def _set_nearest(indices: np.ndarray, distances: np.ndarray, rows: np.ndarray,
                 dist: np.ndarray, ids: np.ndarray) -> None:
    """Per row, its k nearest candidates other than itself, by (distance, id), in place."""
    k = indices.shape[1]
    dist = np.where(ids == rows[:, None], np.inf, dist)
    order = np.lexsort((ids, dist), axis=1)[:, :k]
    indices[rows] = np.take_along_axis(ids, order, axis=1)
    distances[rows] = np.take_along_axis(dist, order, axis=1)


def _estimator_on(stored: ClusterEstimator, old_nodes: np.ndarray) -> ClusterEstimator:
    """The stored estimator, its fitted nodes limited to those still in the corpus."""
    assert stored.embeddings_ is not None
    if len(old_nodes) == len(stored.labels_):  # every node kept: the estimator as stored
        return stored
    est = copy.copy(stored)
    est.labels_ = stored.labels_[old_nodes]
    est.core_ = stored.core_[old_nodes]
    est.embeddings_ = np.ascontiguousarray(stored.embeddings_[old_nodes])
    return est


def _keep_apart(track_labels: np.ndarray, cannot: np.ndarray, old_tracks: np.ndarray) -> np.ndarray:
    """A new track given the cluster of a track it was seen with leaves it (noise)."""
    out = track_labels.copy()
    for a, b in np.asarray(cannot, np.int64).reshape(-1, 2).tolist():
        if out[a] >= 0 and out[a] == out[b]:
            for t in (b, a):  # drop a new track, never a kept one
                if not old_tracks[t]:
                    out[t] = NOISE
                    break
    return out


def _old_track_labels(model: ClusterModel, faces: CorpusFaces) -> np.ndarray:
    """Per corpus track, its label in the model (NOISE where the model lacks it)."""
    stored = dict(zip(model_track_keys(model), model.track_label.tolist(), strict=True))
    return np.array([stored.get(key, NOISE) for key in corpus_track_keys(faces)],
                    dtype=np.int32)


def _cluster_rest(faces: CorpusFaces, nodes: Nodes, rest: np.ndarray,
                  settings: ClusSettings, corpus: str | Path, labels: np.ndarray,
                  core: np.ndarray, density: np.ndarray, k: int,
                  progress: bool) -> tuple[int, np.ndarray]:
    """Cluster the new tracks nothing took, numbering their clusters after the existing ones.

    With the corpus's k: a handful of new faces is not made a cluster just because k
    would have to be lowered for so few (a full fit would not make one either).

    Changes `labels` and `core` in place; returns how many tracks and the longer densities.
    """
    sub, rows = subset_faces(faces, rest)
    n_sub = sub.n_faces if settings.pool == "vote" else sub.n_tracks
    if n_sub <= k:  # the fit's k would not be lowered for them: too few to form a cluster
        return len(rest), density
    try:
        outcome = cluster_fixed(sub, settings, corpus, progress=progress)
    except SkelshopError as err:  # too few of them to cluster: they stay unclustered
        log.info("new tracks left unclustered: %s", err)
        return len(rest), density
    offset = len(density)
    sub_labels = outcome.clustering.labels
    full_node = nodes.face_node[rows[outcome.nodes.node_face]]
    member = sub_labels >= 0
    labels[full_node] = np.where(member, sub_labels + offset, NOISE)
    core[full_node] = outcome.clustering.core & member
    return len(rest), np.concatenate([density,
                                      np.asarray(outcome.clustering.density, np.float32)])


def carry_numbers(old: ClusterModel, outcome: ClusOutcome) -> tuple[ClusOutcome, dict[int, int]]:
    """The refit renumbered: old numbers where a new cluster overlaps an old one most."""
    from scipy.optimize import linear_sum_assignment

    old_label = _old_track_labels(old, outcome.faces)
    new_label = np.asarray(outcome.track_labels)
    n_new = int(max(new_label.max(initial=NOISE), outcome.clustering.labels.max(initial=NOISE))) + 1
    n_old = max(old.n_clusters, int(old_label.max(initial=NOISE)) + 1)
    both = (old_label >= 0) & (new_label >= 0)
    mapping: dict[int, int] = {}
    if both.any() and n_new and n_old:
        overlap = np.zeros((n_new, n_old), dtype=np.int64)
        np.add.at(overlap, (new_label[both], old_label[both]), 1)
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        mapping = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if overlap[r, c] > 0}
    next_number = n_old
    for new in range(n_new):
        if new not in mapping:
            mapping[new] = next_number
            next_number += 1
    lut = np.full(n_new + 1, NOISE, dtype=np.int32)  # last slot: noise stays noise
    for new, number in mapping.items():
        lut[new] = number
    density = np.zeros(next_number, dtype=np.float32)
    for new, number in mapping.items():
        if new < len(outcome.clustering.density):
            density[number] = outcome.clustering.density[new]
    relabel = lambda a: lut[np.where(a >= 0, a, n_new)]  # noqa: E731
    clustering = Clustering(relabel(outcome.clustering.labels), outcome.clustering.core, density)
    return replace(outcome, clustering=clustering, face_labels=relabel(outcome.face_labels),
                   track_labels=relabel(new_label)), mapping


def split_off(outcome: ClusOutcome, names: CorpusNames) -> tuple[ClusOutcome, int]:
    """Each track marked "not this person" of the cluster it is in gets a cluster of its own."""
    keys = {key: t for t, key in enumerate(corpus_track_keys(outcome.faces))}
    labels = outcome.clustering.labels.copy()
    track_labels = outcome.track_labels.copy()
    density = list(np.asarray(outcome.clustering.density, np.float32))
    groups = node_groups(outcome.faces, outcome.nodes)
    moved = 0
    for record in names.not_this:
        t = keys.get((_video_key(record.video), record.seg, record.skel_id))
        clus = cluster_index(record.clus)
        if t is None or clus is None or track_labels[t] != clus:
            continue
        number = len(density)
        density.append(density[clus] if clus < len(density) else 0.0)
        labels[(groups == t) & (labels == clus)] = number
        track_labels[t] = number
        moved += 1
    if not moved:
        return outcome, 0
    clustering = Clustering(labels, outcome.clustering.core, np.asarray(density, np.float32))
    face_labels, _ = pooled_labels(outcome.faces, outcome.nodes, labels)
    return replace(outcome, clustering=clustering, face_labels=face_labels,
                   track_labels=track_labels,
                   violations=count_violations(track_labels, outcome.cannot_link)), moved


def user_cannot_links(old: ClusterModel, faces: CorpusFaces, names: CorpusNames) -> np.ndarray:
    """Track pairs a refit must keep apart: each split-off track and its old cluster's tracks."""
    if not names.not_this:
        return np.zeros((0, 2), np.int64)
    keys = corpus_track_keys(faces)
    index = {key: t for t, key in enumerate(keys)}
    old_label = _old_track_labels(old, faces)
    pairs = []
    for record in names.not_this:
        t = index.get((_video_key(record.video), record.seg, record.skel_id))
        clus = cluster_index(record.clus)
        if t is None or clus is None:
            continue
        # the cluster it was split from: by its number in the old model, merges followed
        members = np.flatnonzero((old_label == clus) | np.isin(
            old_label, [cluster_index(c) for c, to in names.same_as.items()
                        if names.resolve(c) == names.resolve(record.clus)]))
        pairs += [(min(t, int(m)), max(t, int(m))) for m in members if m != t]
    return np.array(sorted(set(pairs)), dtype=np.int64).reshape(-1, 2)
