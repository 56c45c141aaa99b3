"""kNN graphs: the exact search against brute force, every backend against the exact graph."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from skelshop.cluster.knn import BACKENDS, build_knn_graph, exact_search, search_knn
from skelshop.cluster.knn.graph import finish_graph
from skelshop.cluster.knn.recall import graph_recall
from skelshop.cluster.synthetic import face_like
from skelshop.space import EmbeddingSpace


def brute_force(q: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(((q[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, axis=1), idx


def test_exact_search_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((700, 24)).astype(np.float32)
    q = rng.standard_normal((90, 24)).astype(np.float32)
    d, i = exact_search(q, x, 9)
    bd, bi = brute_force(q, x, 9)
    assert (i == bi).all()
    np.testing.assert_allclose(d, bd, rtol=1e-4, atol=1e-4)


def test_exact_search_spans_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from skelshop.cluster.knn import exact

    monkeypatch.setattr(exact, "_QUERY_BLOCK", 7)
    monkeypatch.setattr(exact, "_BASE_BLOCK", 13)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 5)).astype(np.float32)
    _, i = exact_search(x, x, 20)
    assert (i == brute_force(x, x, 20)[1]).all()


def test_exact_graph_drops_self_and_sorts() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 8)).astype(np.float32)
    g = build_knn_graph(x, 6, backend="exact")
    assert g.indices.shape == (300, 6) and g.distances.dtype == np.float32
    assert not (g.indices == np.arange(300)[:, None]).any()
    _, bi = brute_force(x, x, 7)
    assert (g.indices == bi[:, 1:]).all()
    assert (np.diff(g.distances, axis=1) >= 0).all()
    assert graph_recall(g, x, sample=100) == 1.0
    csr = g.to_csr()
    assert csr.shape == (300, 300) and csr.nnz == 300 * 6
    assert csr[0, g.indices[0, 0]] == pytest.approx(g.distances[0, 0])


def test_duplicates_keep_their_twin_and_drop_self() -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((50, 4)).astype(np.float32)
    x = np.vstack([base, base])  # every point has a twin at distance 0
    g = build_knn_graph(x, 3, backend="exact")
    twins = (np.arange(100) + 50) % 100
    assert (g.indices[:, 0] == twins).all()
    assert (g.distances[:, 0] == 0).all()
    assert not (g.indices == np.arange(100)[:, None]).any()


def test_finish_graph_repairs_backend_output() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    _, truth = exact_search(x, x, 5)
    raw = truth.copy()
    raw[3] = -1  # a row the backend could not fill
    raw[5] = np.roll(raw[5], -1)  # self listed last, not first
    raw[7, 0] = raw[7, 1]  # a repeated id
    g = finish_graph(x, raw, 4)
    assert (g.indices == truth[:, 1:5]).all()


def test_bad_k() -> None:
    x = np.zeros((5, 2), np.float32) + np.arange(5)[:, None]
    with pytest.raises(ValueError):
        build_knn_graph(x, 5, backend="exact")
    with pytest.raises(ValueError):
        build_knn_graph(x, 0, backend="exact")
    with pytest.raises(ValueError):
        build_knn_graph(x, 2, backend="annoy")


APPROXIMATE = [b for b in BACKENDS if b != "exact"
               and (b != "hnswlib" or importlib.util.find_spec("hnswlib") is not None)]


@pytest.mark.parametrize("backend", APPROXIMATE)
def test_backend_recall_and_determinism(backend: str) -> None:
    x, _ = face_like(4000, seed=5)
    first = build_knn_graph(x, 5, backend=backend, seed=3, exact_below=0)
    again = build_knn_graph(x, 5, backend=backend, seed=3, exact_below=0)
    assert (first.indices == again.indices).all()
    assert (first.distances == again.distances).all()
    assert not (first.indices == np.arange(len(x))[:, None]).any()
    assert (np.diff(first.distances, axis=1) >= 0).all()
    # distances are exact for whatever neighbours were found
    row = 17
    np.testing.assert_allclose(first.distances[row],
                               np.linalg.norm(x[first.indices[row]] - x[row], axis=1), rtol=1e-5)
    assert graph_recall(first, x, sample=500) >= 0.9


def test_search_knn_exact_when_small_ivf_beyond() -> None:
    x, _ = face_like(6000, seed=4)
    base, queries = x[:5400], x[5400:]
    exact_d, exact_i = exact_search(queries, base, 10)
    small_d, small_i = search_knn(queries, base, 10)
    assert (small_i == exact_i).all() and np.allclose(small_d, exact_d)
    approx_d, approx_i = search_knn(queries, base, 10, exact_pairs=0)
    again_d, again_i = search_knn(queries, base, 10, exact_pairs=0)
    assert (approx_i == again_i).all() and (approx_d == again_d).all()
    assert (np.diff(approx_d, axis=1) >= 0).all()
    row = 7  # distances are exact for the rows found
    np.testing.assert_allclose(approx_d[row],
                               np.linalg.norm(base[approx_i[row]] - queries[row], axis=1),
                               rtol=1e-5)
    recall = np.mean([len(np.intersect1d(a, b)) for a, b in zip(approx_i, exact_i, strict=True)])
    assert recall / 10 >= 0.9
    assert (approx_i[:, 0] == exact_i[:, 0]).mean() >= 0.97


def test_search_knn_measures_in_the_space() -> None:
    cosine = EmbeddingSpace("test-cosine", 128, "cosine", 0.3)
    x, _ = face_like(3000, seed=6)
    scaled = x * np.linspace(0.5, 3.0, len(x), dtype=np.float32)[:, None]
    d_exact, _ = search_knn(scaled[:200], scaled[200:], 5, space=cosine)
    d_ivf, i_ivf = search_knn(scaled[:200], scaled[200:], 5, space=cosine, exact_pairs=0)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    truth = 1.0 - unit[:200] @ unit[200:].T
    np.testing.assert_allclose(d_exact[:, 0], truth.min(axis=1), atol=1e-5)
    rows = np.arange(200)[:, None]
    np.testing.assert_allclose(d_ivf, truth[rows, i_ivf], atol=1e-5)
