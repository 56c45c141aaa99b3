"""Searching query rows against a fixed base: `KnnIndex` (exact while small, IVF cells beyond)."""

from __future__ import annotations

import numpy as np

from skelshop.cluster.knn import exact_search, search_knn
from skelshop.cluster.knn.backends import IvfCells
from skelshop.cluster.knn.query import KnnIndex
from skelshop.cluster.synthetic import face_like


def test_ivf_finds_the_exact_nearest_and_is_deterministic() -> None:
    x, _ = face_like(5000, seed=11)
    base, queries = x[:4000], x[4000:]
    _, exact = exact_search(queries, base, 5)
    d1, i1 = search_knn(queries, base, 5, exact_pairs=1000)  # forced onto the IVF path
    d2, i2 = search_knn(queries, base, 5, exact_pairs=1000)
    assert (i1 == i2).all() and (d1 == d2).all()
    assert (i1[:, 0] == exact[:, 0]).mean() >= 0.98
    recall = np.mean([len(np.intersect1d(a, b)) for a, b in zip(i1, exact, strict=True)]) / 5
    assert recall >= 0.95
    # not the exact answer by another name: IVF cells do exist and a query scans few of them
    cells = IvfCells(np.ascontiguousarray(base), None, seed=0, threads=1)
    query, _ = cells.probes(np.ascontiguousarray(queries))
    assert cells.n_cells > 20 and len(query) < 0.5 * cells.n_cells * len(queries)


def test_index_parts_keep_their_rows_apart_exact_and_ivf() -> None:
    x, _ = face_like(3000, seed=12)
    part = (np.arange(len(x)) % 3 == 0).astype(np.int64)  # every third row is part 1
    queries = x[::7]
    for exact_pairs in (10**9, 0):  # exact, then IVF
        index = KnnIndex(x, part=part, exact_pairs=exact_pairs)
        (d0, i0), (d1, i1), (da, ia) = index.search(queries, 4, parts=(0, 1, None))
        assert (part[i0] == 0).all() and (part[i1] == 1).all()
        for dist, ids, rows in ((d0, i0, np.flatnonzero(part == 0)),
                                (d1, i1, np.flatnonzero(part == 1)), (da, ia, np.arange(len(x)))):
            _, true_i = exact_search(queries, x[rows], 4)
            assert (np.diff(dist, axis=1) >= 0).all()
            # exact: |q|^2 + |b|^2 - 2 q.b, off by ~1e-3 at distance 0; IVF: recomputed
            np.testing.assert_allclose(dist, np.linalg.norm(x[ids] - queries[:, None], axis=2),
                                       rtol=1e-5, atol=1e-3 if exact_pairs else 1e-6)
            hit = (ids[:, 0] == rows[true_i[:, 0]]).mean()
            assert hit == 1.0 if exact_pairs else hit >= 0.95
        # a query row that is a base row finds itself first in its own part
        assert (ia[:, 0] == np.arange(0, len(x), 7)).all()


def test_index_cuts_k_to_a_small_part_and_answers_no_queries() -> None:
    x, _ = face_like(400, seed=13)
    part = np.zeros(len(x), np.int64)
    part[:3] = 1
    index = KnnIndex(x, part=part, exact_pairs=0)
    (d, i), = index.search(x[10:20], 5, parts=(1,))
    assert i.shape == (10, 3) and set(i.ravel().tolist()) == {0, 1, 2}
    (d, i), = index.search(x[:0], 5)
    assert d.shape == (0, 5) and i.shape == (0, 5)
