"""RNN-DBSCAN: the vectorised version against a plain loop version and sklearn-ann's."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from skelshop.cluster.knn import build_knn_graph
from skelshop.cluster.knn.graph import KnnGraph
from skelshop.cluster.rnn_dbscan import NOISE, rnn_dbscan


def plain_rnn_dbscan(indices: np.ndarray, distances: np.ndarray,
                     max_distance: float = np.inf) -> tuple[list[int], list[float]]:
    """RNN-DBSCAN written as directly as the definitions read, one point at a time."""
    n, k = indices.shape
    knn = [[int(y) for y, d in zip(row, drow, strict=True) if d <= max_distance]
           for row, drow in zip(indices, distances, strict=True)]
    dist = {(x, int(y)): float(d) for x in range(n) for y, d in zip(indices[x], distances[x], strict=True)}
    reverse = [[] for _ in range(n)]
    for x in range(n):
        for y in knn[x]:
            reverse[y].append(x)
    core = [len(reverse[x]) >= k for x in range(n)]

    def neighborhood(x: int) -> list[int]:
        return knn[x] + [y for y in reverse[x] if core[y]]

    labels = [NOISE] * n
    cluster = 0
    for x in range(n):
        if core[x] and labels[x] == NOISE:
            labels[x] = cluster
            queue = [x]
            while queue:
                y = queue.pop()
                for z in neighborhood(y):
                    if core[z] and labels[z] == NOISE:
                        labels[z] = cluster
                        queue.append(z)
            cluster += 1
    density = [0.0] * cluster
    for x in range(n):
        for y in knn[x]:
            if core[x] and core[y]:
                density[labels[x]] = max(density[labels[x]], dist[x, y])
    border = list(labels)
    for b in range(n):
        if core[b]:
            continue
        reaching = [(dist[y, b], labels[y]) for y in reverse[b] if core[y]]
        if reaching:
            border[b] = min(reaching)[1]
    labels = border
    rescued = list(labels)
    for x in range(n):
        if labels[x] != NOISE:
            continue
        for y in knn[x]:  # nearest first
            if core[y] and dist[x, y] <= density[labels[y]]:
                rescued[x] = labels[y]
                break
    return rescued, density


def _blobs(seed: int, n: int, dim: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-4, 4, size=(rng.integers(2, 7), dim))
    which = rng.integers(0, len(centres), size=n)
    spread = rng.uniform(0.3, 1.2, size=len(centres))[which, None]
    x = centres[which] + spread * rng.standard_normal((n, dim))
    uniform = rng.uniform(-6, 6, size=(n // 10, dim))  # background noise
    return np.vstack([x, uniform]).astype(np.float32)


def _csr_with_self(graph: KnnGraph) -> sp.csr_matrix:
    """The graph as sklearn's KNeighborsTransformer writes it: self first, at distance 0."""
    n, k = graph.indices.shape
    idx = np.hstack([np.arange(n)[:, None], graph.indices])
    dst = np.hstack([np.zeros((n, 1), np.float32), graph.distances])
    return sp.csr_matrix((dst.ravel(), idx.ravel(), np.arange(0, n * (k + 1) + 1, k + 1)),
                         shape=(n, n))


CASES = [(seed, n, dim, k) for seed, (n, dim, k) in enumerate(
    [(60, 2, 3), (150, 2, 5), (200, 3, 4), (300, 5, 7), (120, 8, 2), (250, 2, 10),
     (400, 4, 5), (90, 2, 1), (500, 16, 6), (333, 3, 3)]
)]


@pytest.mark.parametrize(("seed", "n", "dim", "k"), CASES)
def test_matches_plain_implementation(seed: int, n: int, dim: int, k: int) -> None:
    x = _blobs(seed, n, dim)
    graph = build_knn_graph(x, k, backend="exact")
    expected, density = plain_rnn_dbscan(graph.indices, graph.distances)
    got = rnn_dbscan(graph)
    # identical labels, not just the same partition: cluster numbering is part of the spec
    assert got.labels.tolist() == expected
    np.testing.assert_allclose(got.density, density, rtol=0, atol=0)
    assert got.n_clusters == len(density)


@pytest.mark.parametrize(("seed", "n", "dim", "k"), CASES[::2])
@pytest.mark.parametrize("quantile", [0.3, 0.6, 0.9])
def test_edge_cap_matches_plain_implementation(seed: int, n: int, dim: int, k: int,
                                               quantile: float) -> None:
    x = _blobs(seed, n, dim)
    graph = build_knn_graph(x, k, backend="exact")
    cap = float(np.quantile(graph.distances, quantile))
    expected, density = plain_rnn_dbscan(graph.indices, graph.distances, cap)
    got = rnn_dbscan(graph, max_distance=cap)
    assert got.labels.tolist() == expected
    np.testing.assert_allclose(got.density, density, rtol=0, atol=0)
    assert (got.density <= cap).all()


def test_edge_cap_stops_hub_chaining() -> None:
    # two tight groups joined only by long edges: capped, they cannot merge
    rng = np.random.default_rng(11)
    a = rng.normal(0, 0.05, size=(30, 8))
    b = rng.normal(0, 0.05, size=(30, 8)) + 1.0
    x = np.vstack([a, b]).astype(np.float32)
    graph = build_knn_graph(x, 40, backend="exact")
    assert rnn_dbscan(graph).n_clusters == 1  # k=40 > group size: long edges chain them
    capped = rnn_dbscan(build_knn_graph(x, 20, backend="exact"), max_distance=1.0)
    assert capped.n_clusters == 2


def test_ties_and_duplicates_match_plain_implementation() -> None:
    # points on a lattice with duplicates: many equal distances exercise the tie rules
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, size=(300, 2)).astype(np.float32)
    for k in (2, 4, 6):
        graph = build_knn_graph(x, k, backend="exact")
        expected, _ = plain_rnn_dbscan(graph.indices, graph.distances)
        assert rnn_dbscan(graph).labels.tolist() == expected


def test_deterministic_and_cut_to_k() -> None:
    x = _blobs(7, 400, 3)
    wide = build_knn_graph(x, 12, backend="exact")
    narrow = build_knn_graph(x, 5, backend="exact")
    a, b = rnn_dbscan(wide, k=5), rnn_dbscan(narrow)
    assert a.labels.tolist() == b.labels.tolist()
    assert rnn_dbscan(narrow).labels.tolist() == b.labels.tolist()


def test_against_sklearn_ann() -> None:
    """sklearn-ann's RnnDBSCAN on the same graph: same cores, same core clusters.

    The two differ only off the core, for two documented reasons:
    - border points reached from several clusters: sklearn-ann keeps the first cluster to
      expand (and the seed's whole neighbourhood overwrites earlier claims); we take the
      nearest reaching core point;
    - den(C): sklearn-ann takes the longest edge from any core point to anything in its
      neighbourhood, borders included, so its densities are never smaller than the
      paper's core-to-core maximum and it rescues more noise.
    Every disagreement must be one of these.
    """
    from sklearn.metrics import adjusted_rand_score
    from sklearn_ann.cluster.rnn_dbscan import RnnDBSCAN

    total = agree = 0
    for seed, n, dim, k in CASES:
        x = _blobs(seed, n, dim)
        graph = build_knn_graph(x, k, backend="exact")
        ours = rnn_dbscan(graph)
        theirs = RnnDBSCAN(n_neighbors=k, input_guarantee="kneighbors").fit(_csr_with_self(graph))
        their_labels = np.asarray(theirs.labels_)
        their_core = np.zeros(len(x), bool)
        their_core[theirs.core_sample_indices_] = True
        assert (their_core == ours.core).all()
        assert (their_labels[ours.core] == ours.labels[ours.core]).all()
        assert (np.asarray(theirs.dens_) >= ours.density - 1e-6).all()
        their_density = np.asarray(theirs.dens_)
        differ = np.flatnonzero(their_labels != ours.labels)
        for p in differ:
            reaching = {int(ours.labels[y]) for y in np.flatnonzero((graph.indices == p).any(1))
                        if ours.core[y]}
            if reaching:  # a border point: only a contested one may differ
                assert len(reaching) > 1, p
                assert their_labels[p] in reaching
            else:  # noise rescue: theirs must be the nearest core within *their* den(C)
                nbrs, dists = graph.indices[p], graph.distances[p]
                ok = ours.core[nbrs] & (dists <= their_density[np.maximum(ours.labels[nbrs], 0)])
                expect = ours.labels[nbrs[ok.argmax()]] if ok.any() else NOISE
                assert their_labels[p] == expect, p
        total += len(x)
        agree += len(x) - len(differ)
        assert adjusted_rand_score(their_labels, ours.labels) > 0.9
    print(f"label agreement with sklearn-ann: {agree}/{total} = {agree / total:.3f}")
    assert agree / total > 0.95
