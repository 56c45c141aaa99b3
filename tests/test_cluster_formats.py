"""The cluster model (HDF5) and prototypes CSV formats: round trips and refusals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from skelshop.errors import SkelshopError
from skelshop.formats.cluster_model import (
    ClusterModel,
    ClusterParams,
    read_cluster_model,
    write_cluster_model,
)
from skelshop.formats.face_dump import EmbedderInfo
from skelshop.formats.prototypes import Prototype, read_prototypes, write_prototypes


def small_model() -> ClusterModel:
    rng = np.random.default_rng(0)
    n = 6
    return ClusterModel(
        embedder=EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6),
        params=ClusterParams("rnn-dbscan", "exact", 2, "vote", seed=3,
                             extra={"search": [{"k": 2, "score": 0.5}]}),
        videos=["/v/a.mp4", "/v/b ü.mp4"], face_dumps=["/v/a.h5", "/v/b.h5"],
        embed=rng.standard_normal((n, 4)).astype(np.float32),
        face_video=np.array([0, 0, 0, 1, 1, 1]), face_frame=np.array([1, 2, 3, 4, 5, 6]),
        face_pers=np.array([0, 0, 1, 0, 0, 1]), face_seg=np.array([0, 0, 0, 1, 1, 1]),
        face_node=np.arange(n), node_face=np.arange(n),
        labels=np.array([0, 0, -1, 1, 1, 1]), core=np.array([1, 1, 0, 1, 1, 0], bool),
        knn_indices=np.array([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]]),
        knn_distances=rng.random((n, 2)).astype(np.float32),
        density=np.array([0.3, 0.4], np.float32),
        track_video=np.array([0, 0, 1, 1]), track_seg=np.array([0, 0, 1, 1]),
        track_pers=np.array([0, 1, 0, 1]), track_label=np.array([0, -1, 1, 1]),
    )


def test_model_round_trip(tmp_path: Path) -> None:
    model = small_model()
    write_cluster_model(tmp_path / "model.pkl", model)
    assert h5py.is_hdf5(tmp_path / "model.pkl")
    back = read_cluster_model(tmp_path / "model.pkl")
    assert back.embedder == model.embedder and back.params == model.params
    assert back.videos == model.videos and back.face_dumps == model.face_dumps
    for name in ("embed", "face_video", "face_frame", "face_pers", "face_seg", "face_node",
                 "node_face", "labels", "core", "knn_indices", "knn_distances", "density",
                 "track_video", "track_seg", "track_pers", "track_label"):
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name), err_msg=name)
    assert back.n_clusters == 2 and back.n_nodes == 6 and back.n_faces == 6
    np.testing.assert_array_equal(back.node_embed, model.embed)


def test_model_with_eps_and_no_faces_in_graph(tmp_path: Path) -> None:
    model = replace(small_model(), params=ClusterParams("dbscan", "faiss", 2, "vote",
                                                        eps=0.5, min_samples=3))
    write_cluster_model(tmp_path / "m.h5", model)
    params = read_cluster_model(tmp_path / "m.h5").params
    assert (params.eps, params.min_samples) == (0.5, 3)


def test_inconsistent_models_are_refused(tmp_path: Path) -> None:
    bad = replace(small_model(), knn_indices=np.array([[1, 9]] * 6))
    with pytest.raises(SkelshopError, match="node that does not exist"):
        write_cluster_model(tmp_path / "m.h5", bad)
    bad = replace(small_model(), labels=np.array([0, 0, -1, 1, 1, 2]))
    with pytest.raises(SkelshopError, match="no cluster density"):
        write_cluster_model(tmp_path / "m.h5", bad)
    write_cluster_model(tmp_path / "m.h5", small_model())
    with h5py.File(tmp_path / "m.h5", "a") as h5:
        del h5["nodes/core"]
    with pytest.raises(SkelshopError, match="damaged"):
        read_cluster_model(tmp_path / "m.h5")


def test_newer_versions_are_refused(tmp_path: Path) -> None:
    write_cluster_model(tmp_path / "m.h5", small_model())
    with h5py.File(tmp_path / "m.h5", "a") as h5:
        h5.attrs["fmt_ver"] = 99
    with pytest.raises(SkelshopError, match="newer"):
        read_cluster_model(tmp_path / "m.h5")
    with pytest.raises(SkelshopError, match="no such"):
        read_cluster_model(tmp_path / "missing.h5")


def test_prototypes_round_trip_keeps_rank_order(tmp_path: Path) -> None:
    protos = [Prototype(1, 0, 10, 2), Prototype(0, 1, 5, 0), Prototype(1, 2, 7, 1),
              Prototype(0, 0, 3, 3)]
    write_prototypes(tmp_path / "p.csv", protos)
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "clus_idx,video_idx,frame_num,pers_id"
    assert read_prototypes(tmp_path / "p.csv") == [protos[1], protos[3], protos[0], protos[2]]


def test_prototypes_bad_input(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("clus_idx,video_idx,frame_num\n0,0,1\n")
    with pytest.raises(SkelshopError, match="pers_id"):
        read_prototypes(tmp_path / "p.csv")
    (tmp_path / "p.csv").write_text("clus_idx,video_idx,frame_num,pers_id\n0,x,1,2\n")
    with pytest.raises(SkelshopError, match="line 2"):
        read_prototypes(tmp_path / "p.csv")
