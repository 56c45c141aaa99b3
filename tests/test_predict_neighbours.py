"""Predict with neighbours searched once by the caller (a growing corpus), and growing a corpus."""

from __future__ import annotations

import numpy as np
import pytest

from skelshop.cluster.estimators import RnnDbscan
from skelshop.cluster.knn import search_knn
from skelshop.cluster.synthetic import face_like, face_like_tracks
from skelshop.corpus_clustering.faces import CorpusFaces
from skelshop.corpus_clustering.incremental import extend_clustering
from skelshop.corpus_clustering.outputs import cluster_model
from skelshop.corpus_clustering.run import ClusSettings, cluster_fixed
from skelshop.formats.face_dump import EmbedderInfo


def test_predict_with_given_neighbours_is_predict() -> None:
    x, _ = face_like(4000, seed=11)
    model = RnnDbscan(k=5, max_dist=0.6).fit(x[:3600])
    new = x[3600:]
    plain = model.predict(new)
    assert (plain >= 0).mean() > 0.5, "most new faces join a cluster"
    dist, ids = search_knn(new, model.embeddings_, 8)  # wider than k: cut to k
    np.testing.assert_array_equal(model.predict(new, neighbours=(dist, ids)), plain)
    # an approximate search changes few decisions
    dist, ids = search_knn(new, model.embeddings_, 5, exact_pairs=0)
    assert (model.predict(new, neighbours=(dist, ids)) == plain).mean() >= 0.97
    with pytest.raises(ValueError):
        model.predict(new, neighbours=(dist[:, :3], ids[:, :3]))


def _corpus(x: np.ndarray, track: np.ndarray, names: list[str]) -> CorpusFaces:
    """Faces of `track` as a corpus: each track a shot of its own, 50 tracks per video."""
    rows = np.argsort(track, kind="stable")
    group = track[rows]
    n_tracks = int(group.max()) + 1
    video = np.arange(n_tracks) // 50
    frame = 10 * (np.arange(len(rows)) - np.searchsorted(group, group))
    seg = np.arange(n_tracks) % 50
    return CorpusFaces(EmbedderInfo("dlib-resnet-v1", "euclidean", 0.6), names,
                       [n + ".faces.h5" for n in names], np.ascontiguousarray(x[rows]),
                       video[group].astype(np.int32), frame.astype(np.int64),
                       np.zeros(len(rows), np.int64), seg[group].astype(np.int32),
                       group.astype(np.int64), video.astype(np.int32), seg.astype(np.int32),
                       np.zeros(n_tracks, np.int64))


def test_a_grown_corpus_with_no_kept_video_clusters_its_new_tracks() -> None:
    data = face_like_tracks(1500, seed=12)
    first = data.track < 200
    old = _corpus(data.x[first], data.track[first], [f"/a/{v}.mp4" for v in range(4)])
    settings = ClusSettings(ann_lib="exact")
    model = cluster_model(cluster_fixed(old, settings, "corpus", progress=False), settings)
    rest = ~first
    track = data.track[rest] - 200
    n_videos = int(track.max()) // 50 + 1
    new = _corpus(data.x[rest], track, [f"/b/{v}.mp4" for v in range(n_videos)])
    grown, ext = extend_clustering(model, new, settings, "corpus", progress=False)
    assert ext.kept_tracks == 0 and ext.new_cluster_tracks == new.n_tracks
    assert (grown.track_labels >= model.n_clusters).mean() > 0.5, \
        "the new tracks form clusters numbered after the old ones"
