"""The synthetic face-like data the benchmark and tests rely on has the promised shape."""

from __future__ import annotations

import numpy as np

from skelshop.cluster.synthetic import face_like, face_like_tracks


def test_shape_and_distances() -> None:
    data = face_like_tracks(20000, seed=1)
    x, ident, track = data.x, data.identity, data.track
    assert x.shape == (20000, 128) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    # a track belongs to one identity and holds at most 3 faces
    assert (np.bincount(track) <= 3).all()
    assert all(len(np.unique(ident[track == t])) == 1 for t in np.unique(track)[:200])
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(x), (2, 200000))
    dist = np.linalg.norm(x[a] - x[b], axis=1)
    between = dist[ident[a] != ident[b]]
    assert 0.75 < np.median(between) < 0.85
    order = np.argsort(ident, kind="stable")
    same_id = ident[order[:-1]] == ident[order[1:]]
    other_track = track[order[:-1]] != track[order[1:]]
    pairs = same_id & other_track
    within = np.linalg.norm(x[order[:-1][pairs]] - x[order[1:][pairs]], axis=1)
    assert 0.3 < np.median(within) < 0.42
    # Zipf: many identities seen once, a few seen very often
    tracks_per_id = np.bincount(ident[np.unique(track, return_index=True)[1]])
    tracks_per_id = tracks_per_id[tracks_per_id > 0]
    assert (tracks_per_id == 1).mean() > 0.4 and tracks_per_id.max() > 50


def test_seeded() -> None:
    a, la = face_like(500, seed=4)
    b, lb = face_like(500, seed=4)
    assert (a == b).all() and (la == lb).all()
    assert not (face_like(500, seed=5)[0] == a).all()
