"""Pooling, prototypes, DBSCAN on the graph, track agreement, placing new vectors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from skelshop.cluster.algorithms import ALGORITHMS, Params, renumber_by_first_member
from skelshop.cluster.assign import assign_to_clusters
from skelshop.cluster.graph_dbscan import graph_dbscan, symmetric_distance_graph
from skelshop.cluster.knn import build_knn_graph
from skelshop.cluster.metrics import pairwise_scores
from skelshop.cluster.pooling import (
    group_medoids,
    min_pool_face_k,
    min_pooled_graph,
    vote_labels,
)
from skelshop.cluster.prototypes import prototype_nodes
from skelshop.cluster.rnn_dbscan import rnn_dbscan
from skelshop.cluster.synthetic import face_like_tracks
from skelshop.cluster.track_agreement import cooccurring_groups, track_agreement


def test_vote_ignores_noise_and_ties_give_noise() -> None:
    labels = np.array([-1, -1, 3, 2, 2, 3, 5, -1, -1, -1, 7])
    groups = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 4])
    # group 0: noise twice, 3 once -> 3 (noise is no vote); group 1: 2 vs 3 twice... 2,2,3 -> 2
    # group 2: 5 once, noise twice -> 5; group 3: all noise; group 4: 7; group 5: empty
    assert vote_labels(labels, groups, 6).tolist() == [3, 2, 5, -1, 7, -1]
    tie = vote_labels(np.array([1, 2, 1, 2]), np.array([0, 0, 0, 0]), 1)
    assert tie.tolist() == [-1]


def test_medoids_are_true_medoids() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 6)).astype(np.float32)
    groups = rng.integers(0, 60, size=400)
    groups[:60] = np.arange(60)  # no empty group
    medoid = group_medoids(x, groups, 60)
    for g in range(60):
        members = np.flatnonzero(groups == g)
        totals = cdist(x[members], x[members]).sum(axis=1)
        best = members[np.isclose(totals, totals.min(), rtol=1e-5)]
        assert medoid[g] in best


def test_medoid_of_a_big_group(monkeypatch: pytest.MonkeyPatch) -> None:
    from skelshop.cluster import pooling

    monkeypatch.setattr(pooling, "_MEDOID_BLOCK", 64)  # force the blockwise path
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 3)).astype(np.float32)
    medoid = group_medoids(x, np.zeros(50, dtype=np.int64), 1)
    assert medoid[0] == int(cdist(x, x).sum(axis=1).argmin())


def test_min_pooled_graph_matches_brute_force() -> None:
    data = face_like_tracks(600, seed=2)
    _, groups = np.unique(data.track, return_inverse=True)
    n_groups = int(groups.max()) + 1
    k = 4
    # deep enough that the j-th nearest group is always within reach (groups <= 3 faces)
    face_k = min_pool_face_k(k, groups, n_groups, len(groups))
    assert face_k >= k * 3 + 1
    got = min_pooled_graph(data.x, groups, n_groups, k,
                           build_knn_graph(data.x, face_k, backend="exact"))
    d = cdist(data.x, data.x)
    pooled = np.full((n_groups, n_groups), np.inf)
    for a, b in itertools.product(range(len(groups)), repeat=2):
        if groups[a] != groups[b]:
            pooled[groups[a], groups[b]] = min(pooled[groups[a], groups[b]], d[a, b])
    want = np.sort(pooled, axis=1)[:, :k]
    np.testing.assert_allclose(got.distances, want, rtol=1e-5, atol=1e-6)
    assert not (got.indices == np.arange(n_groups)[:, None]).any()
    # a shallow face graph still gives full rows: short ones are completed exactly
    shallow = min_pooled_graph(data.x, groups, n_groups, k,
                               build_knn_graph(data.x, 2, backend="exact"))
    assert (shallow.indices >= 0).all() and np.isfinite(shallow.distances).all()
    assert (shallow.distances >= want - 1e-5).all()


def test_prototypes_rank_by_in_cluster_reverse_neighbours() -> None:
    data = face_like_tracks(800, seed=3)
    graph = build_knn_graph(data.x, 5, backend="exact")
    labels = rnn_dbscan(graph).labels
    clus, node = prototype_nodes(labels, graph, 3)
    assert (labels[node] == clus).all()
    assert (np.diff(clus) >= 0).all()
    src = np.repeat(np.arange(graph.n), graph.k)
    dst = graph.indices.ravel()
    inside = labels[src] == labels[dst]
    count = np.bincount(dst[inside & (labels[src] >= 0)], minlength=graph.n)
    for c in np.unique(clus):
        members = np.flatnonzero(labels == c)
        chosen = node[clus == c]
        assert len(chosen) == min(3, len(members))
        assert count[chosen[0]] == count[members].max()
        assert (np.diff(count[chosen]) <= 0).all()
    clus_m, node_m = prototype_nodes(labels, graph, 1, method="medoid", x=data.x)
    for c, m in zip(clus_m, node_m, strict=True):
        members = np.flatnonzero(labels == c)
        totals = cdist(data.x[members], data.x[members]).sum(axis=1)
        assert np.isclose(totals[members == m][0], totals.min(), rtol=1e-4)


def test_graph_dbscan_equals_exact_dbscan_on_a_complete_graph() -> None:
    data = face_like_tracks(300, seed=4)
    graph = build_knn_graph(data.x, 299, backend="exact")
    for eps, ms in [(0.45, 3), (0.55, 5), (0.3, 2)]:
        labels, core = graph_dbscan(graph, eps, ms)
        exact = DBSCAN(eps=eps, min_samples=ms).fit(data.x)
        assert (core == np.isin(np.arange(300), exact.core_sample_indices_)).all()
        # same partition (border ties aside, which this data does not have)
        assert adjusted_rand_score(exact.labels_, labels) == 1.0


def test_symmetric_graph_keeps_zero_distances() -> None:
    x = np.array([[0, 0], [0, 0], [5, 5], [5, 6]], dtype=np.float32)
    m = symmetric_distance_graph(build_knn_graph(x, 1, backend="exact"))
    assert m.nnz == 4 and m[0, 1] == 0 and m[1, 0] == 0
    assert graph_dbscan(build_knn_graph(x, 1, backend="exact"), 0.1, 2)[0].tolist() == [
        0, 0, -1, -1]


def test_every_algorithm_numbers_clusters_by_first_member() -> None:
    data = face_like_tracks(500, seed=5)
    graph = build_knn_graph(data.x, 5, backend="exact")
    params = Params(k=5, eps=0.5, min_samples=3, max_dist=0.6)
    for name, algorithm in ALGORITHMS.items():
        result = algorithm.run(data.x, graph, params)
        labels = result.labels
        assert len(result.density) == labels.max() + 1, name
        if name != "rnn-dbscan":
            assert (renumber_by_first_member(labels) == labels).all(), name
        if name == "rnn-dbscan":  # 500 faces: most identities have fewer than k+1 faces
            assert pairwise_scores(data.identity, labels).precision > 0.9
        else:
            assert adjusted_rand_score(data.identity, labels) > 0.6, name


def test_cooccurring_groups_brute_force() -> None:
    rng = np.random.default_rng(6)
    scene = rng.integers(0, 4, size=40)
    first = rng.integers(0, 100, size=40)
    last = first + rng.integers(0, 30, size=40)
    got = {tuple(sorted(p)) for p in cooccurring_groups(scene, first, last).tolist()}
    want = {(a, b) for a, b in itertools.combinations(range(40), 2)
            if scene[a] == scene[b] and first[a] <= last[b] and first[b] <= last[a]}
    assert got == want


def test_track_agreement_extremes() -> None:
    face_group = np.array([0, 0, 0, 1, 1, 2])
    cannot = np.array([[0, 1]])
    lump = track_agreement(np.zeros(6, int), face_group, np.zeros(3, int), cannot)
    assert (lump.must_link, lump.cannot_link, lump.agreement) == (1.0, 0.0, 0.0)
    noise = track_agreement(np.full(6, -1), face_group, np.full(3, -1), cannot)
    assert (noise.must_link, noise.cannot_link) == (0.0, 1.0)
    right = track_agreement(np.array([0, 0, 0, 1, 1, 2]), face_group, np.array([0, 1, 2]), cannot)
    assert right.agreement == 1.0 and right.n_must == 4 and right.n_cannot == 1


def test_assign_new_vectors_like_noise_rescue() -> None:
    data = face_like_tracks(1000, seed=7)
    train, test = data.x[:900], data.x[900:]
    graph = build_knn_graph(train, 5, backend="exact")
    result = rnn_dbscan(graph)
    got = assign_to_clusters(test, train, result.labels, result.core, result.density, 5)
    d = cdist(test, train)
    for q in range(len(test)):
        nbrs = np.argsort(d[q], kind="stable")[:5]
        ok = [y for y in nbrs if result.core[y] and d[q, y] <= result.density[result.labels[y]]]
        assert got.labels[q] == (result.labels[ok[0]] if ok else -1)
    # a stored core point is placed in its own cluster
    core = np.flatnonzero(result.core)[:20]
    again = assign_to_clusters(train[core], train, result.labels, result.core, result.density, 5)
    assert (again.labels == result.labels[core]).all()
