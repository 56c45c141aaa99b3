"""`skelshop iden idrnnclus`: references vote for clusters through their nearest clustered faces."""

from pathlib import Path

import numpy as np
import pytest
from naming_fixtures import DLIB, faces_of, identities, skelshop, write_refs

from skelshop.cluster.knn.exact import exact_search
from skelshop.formats.cluster_model import ClusterModel, ClusterParams, write_cluster_model
from skelshop.formats.face_dump import EmbedderInfo
from skelshop.formats.identifications import Identification, read_identifications


def write_model(path: Path, embed: np.ndarray, labels: np.ndarray, k: int = 5,
                embedder: EmbedderInfo = DLIB) -> Path:
    """A vote-pooled model (one node per face) with an exact kNN graph."""
    n = len(embed)
    dist, idx = exact_search(embed, embed, min(k + 1, n))
    dist, idx = dist[:, 1:], idx[:, 1:]  # drop each face itself
    n_clusters = int(labels.max(initial=-1)) + 1
    ids = np.arange(n)
    write_cluster_model(path, ClusterModel(
        embedder=embedder, params=ClusterParams("rnn-dbscan", "exact", k, "vote"),
        videos=["v.mp4"], face_dumps=["v.h5"], embed=embed,
        face_video=np.zeros(n, np.int32), face_frame=ids, face_pers=np.zeros(n),
        face_seg=ids, face_node=ids, node_face=ids, labels=labels, core=labels >= 0,
        knn_indices=idx, knn_distances=dist, density=np.full(n_clusters, 0.4, np.float32),
        track_video=np.zeros(n, np.int32), track_seg=ids, track_pers=np.zeros(n), track_label=labels))
    return path


@pytest.fixture
def model(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """c0 and c1: ada (split in two), c2: bob, c3: carl; three noise faces."""
    rng = np.random.default_rng(2)
    ada, bob, carl, noise = identities(4, seed=3)
    parts = [(faces_of(ada, 20, rng), 0), (faces_of(ada, 6, rng, 0.25), 1),
             (faces_of(bob, 10, rng), 2), (faces_of(carl, 8, rng), 3), (faces_of(noise, 3, rng), -1)]
    embed = np.concatenate([p for p, _ in parts])
    labels = np.concatenate([np.full(len(p), lab, np.int32) for p, lab in parts])
    return write_model(tmp_path / "model.h5", embed, labels), identities(4, seed=3)


def test_clusters_named_by_neighbours(model: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, (ada, bob, carl, _) = model
    rng = np.random.default_rng(5)
    far = identities(1, seed=99)[0]
    refs = write_refs(tmp_path / "refs.h5", {
        "ada": faces_of(ada, 3, rng, 0.15), "bob": faces_of(bob, 1, rng, 0.15),
        # Two photos of carl and one of a look-alike: carl has the majority of c3's neighbours.
        "carl": faces_of(carl, 2, rng, 0.15), "carl look-alike": faces_of(carl, 1, rng, 0.3),
        "nobody": faces_of(far, 2, rng, 0.15), "no photos": np.zeros((0, 128), np.float32)})
    out = tmp_path / "ids.csv"
    proc = skelshop("iden", "idrnnclus", refs, path, out)
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(out) == [
        Identification("ada", "c0"), Identification("ada", "c1"), Identification("bob", "c2"),
        Identification("carl", "c3")]
    assert "c3 = carl (neighbours: carl 16, carl look-alike 8)" in proc.stderr
    assert "no cluster within 0.6 for: no photos, nobody" in proc.stderr


def test_knn_and_threshold(model: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, (ada, *_) = model
    refs = write_refs(tmp_path / "refs.h5", {"ada": ada[None, :]})
    out = tmp_path / "ids.csv"
    # More neighbours than faces: all are looked at; ada's 26 faces are all within 0.6.
    proc = skelshop("iden", "idrnnclus", refs, path, out, "--knn", "1000")
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(out) == [Identification("ada", "c0"), Identification("ada", "c1")]
    assert "c0 = ada (neighbours: ada 20)" in proc.stderr
    # One neighbour: only the nearest face's cluster.
    assert skelshop("iden", "idrnnclus", refs, path, out, "--knn", "1").returncode == 0
    assert read_identifications(out) == [Identification("ada", "c0")]
    # Nothing within a tiny threshold: an empty (header-only) result, not a crash.
    proc = skelshop("iden", "idrnnclus", refs, path, out, "--thresh", "0.01")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "label,clus\n"
    assert "no cluster within 0.01 for: ada" in proc.stderr


def test_all_noise_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    (centre,) = identities(1)
    path = write_model(tmp_path / "noise.h5", faces_of(centre, 4, rng), np.full(4, -1, np.int32))
    refs = write_refs(tmp_path / "refs.h5", {"x": centre[None, :]})
    out = tmp_path / "ids.csv"
    proc = skelshop("iden", "idrnnclus", refs, path, out)
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(out) == []
    assert "named 0 of 0 clusters" in proc.stderr


def test_other_embedder_is_refused(model: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, _ = model
    refs = write_refs(tmp_path / "refs.h5", {"x": identities(1)},
                      EmbedderInfo("facenet", "euclidean", 1.0))
    proc = skelshop("iden", "idrnnclus", refs, path, tmp_path / "ids.csv")
    assert proc.returncode == 2
    assert "embeddings of different models cannot be compared" in proc.stderr
    assert not (tmp_path / "ids.csv").exists()
