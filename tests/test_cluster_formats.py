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
from skelshop.formats.identity import read_identities
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


def test_paths_inside_the_model_folder_follow_a_moved_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "videos").mkdir(parents=True)
    inside = [str(out / "videos" / "a.h5"), str(out / "videos" / "b.h5")]
    model = replace(small_model(), face_dumps=inside, videos=["/elsewhere/a.mp4", "rel/b.mp4"])
    write_cluster_model(out / "model.h5", model)
    with h5py.File(out / "model.h5", "r") as h5:
        stored = [v.decode() for v in h5["corpus/faces"][()]]
        videos = [v.decode() for v in h5["corpus/videos"][()]]
    assert stored == ["videos/a.h5", "videos/b.h5"]
    assert videos == ["/elsewhere/a.mp4", str(Path.cwd() / "rel/b.mp4")]
    moved = tmp_path / "moved"
    out.rename(moved)
    back = read_cluster_model(moved / "model.h5")
    assert back.face_dumps == [str(moved / "videos" / "a.h5"), str(moved / "videos" / "b.h5")]
    assert back.videos[0] == "/elsewhere/a.mp4"


def test_version_1_paths_are_read_as_stored(tmp_path: Path) -> None:
    model = replace(small_model(), face_dumps=["videos/a.h5", "/abs/b.h5"])
    write_cluster_model(tmp_path / "m.h5", model)
    with h5py.File(tmp_path / "m.h5", "a") as h5:  # what version 1 wrote: paths as given
        h5.attrs["fmt_ver"] = 1
        del h5["corpus/faces"]
        h5.create_dataset("corpus/faces", data=np.array(["videos/a.h5", "/abs/b.h5"], dtype=object),
                          dtype=h5py.string_dtype())
    assert read_cluster_model(tmp_path / "m.h5").face_dumps == ["videos/a.h5", "/abs/b.h5"]


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


@pytest.mark.parametrize(("row", "message"), [
    ("12345678901234567890,0,10,1", "line 2: clus_idx 12345678901234567890 is out of range"),
    ("0,0,10,-1", "line 2: pers_id -1 is out of range"),
    ("0,0,99999999999,1", "frame_num 99999999999 is out of range"),
    ("0,1e3,10,1", "video_idx '1e3' is not a whole number"),
])
def test_prototypes_out_of_range(tmp_path: Path, row: str, message: str) -> None:
    (tmp_path / "p.csv").write_text(f"clus_idx,video_idx,frame_num,pers_id\n{row}\n")
    with pytest.raises(SkelshopError, match=message):
        read_prototypes(tmp_path / "p.csv")


def test_identity_csv_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("seg,skel_id,label\n0,1,Q1\n3,99999999999999999999,c2\n")
    with pytest.raises(SkelshopError, match="line 3: skel_id 99999999999999999999 is out of range"):
        read_identities(path)
    path.write_text("seg,skel_id,label,start,end\n0,1,Q1,nan,2.0\n")
    with pytest.raises(SkelshopError, match="line 2: start/end seconds are not finite"):
        read_identities(path)
