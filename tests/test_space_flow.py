"""A cosine embedding space flows through every distance: kNN, pooling, prototypes, search,
identification, naming, the tracker and the file checks (dlib's Euclidean space is the default).
"""

from __future__ import annotations

import csv
from pathlib import Path

import h5py
import numpy as np
import pytest
from naming_fixtures import skelshop, stand_in_video, write_dump, write_finished_dump, write_refs
from sklearn.metrics import silhouette_score

from skelshop.cluster.knn import build_knn_graph, exact_search
from skelshop.cluster.knn.recall import graph_recall
from skelshop.cluster.pooling import group_medoids, min_pooled_graph
from skelshop.cluster.prototypes import prototype_nodes
from skelshop.cluster.rnn_dbscan import rnn_dbscan
from skelshop.cluster.search import eps_grid_around, silhouette
from skelshop.corpus.artifacts import faces_finished
from skelshop.errors import SkelshopError
from skelshop.faces.tracker import FaceCandidate, ShotTracker
from skelshop.formats.cluster_model import ClusterModel, ClusterParams
from skelshop.formats.face_dump import (
    EmbedderInfo,
    check_same_embedder,
    read_dump_space,
    read_face_dump,
)
from skelshop.formats.references import ReferenceSet
from skelshop.identify.distances import ReferenceMatrix, matches_within, person_distances
from skelshop.naming.idrnnclus import name_clusters_by_neighbours
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

DIM = 16
TOY = EmbedderInfo("toy_cosine_model", "cosine", 0.3)
COSINE = EmbeddingSpace(TOY.name, DIM, TOY.metric, TOY.threshold)


def _scaled_rows(n: int, seed: int) -> np.ndarray:
    """Directions in a few clusters with lengths from 0.2 to 5: L2 and cosine rank them apart."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, DIM))
    x = centres[rng.integers(0, 6, n)] + 0.4 * rng.normal(size=(n, DIM))
    return (x * rng.uniform(0.2, 5.0, (n, 1))).astype(np.float32)


def _cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return 1.0 - a @ b.T


def test_knn_distances_are_one_minus_cosine() -> None:
    x = _scaled_rows(300, 0)
    brute = _cosine_distances(x, x)
    np.fill_diagonal(brute, np.inf)
    k = 6
    want_d = np.sort(brute, axis=1)[:, :k]
    for backend in ("exact", "faiss"):
        g = build_knn_graph(x, k, backend, seed=0, exact_below=0, space=COSINE)
        np.testing.assert_allclose(g.distances, want_d, atol=2e-5, err_msg=backend)
        np.testing.assert_allclose(np.take_along_axis(brute, g.indices, axis=1), g.distances,
                                   atol=2e-5)
        assert graph_recall(g, x, sample=300, space=COSINE) > 0.97
    d, i = exact_search(x[:20], x, 4, space=COSINE)
    np.testing.assert_allclose(d, np.take_along_axis(_cosine_distances(x[:20], x), i, 1),
                               atol=2e-5)
    # The same rows ranked by L2 give other neighbours: the space is what decides.
    euclidean = build_knn_graph(x, k, "exact")
    assert (euclidean.indices != g.indices).any()


def test_pooling_prototypes_and_silhouette_in_a_cosine_space() -> None:
    x = _scaled_rows(240, 1)
    groups = np.repeat(np.arange(40), 6)
    cos = _cosine_distances(x, x)
    medoid = group_medoids(x, groups, 40, space=COSINE)
    for g in range(40):
        rows = np.flatnonzero(groups == g)
        assert medoid[g] == rows[cos[np.ix_(rows, rows)].sum(axis=1).argmin()]
    assert (medoid != group_medoids(x, groups, 40)).any()  # L2 picks others

    face_graph = build_knn_graph(x, 30, "exact", space=COSINE)
    pooled = min_pooled_graph(x, groups, 40, 3, face_graph, space=COSINE)
    between = np.full((40, 40), np.inf)
    for a in range(40):
        for b in range(40):
            if a != b:
                between[a, b] = cos[np.ix_(groups == a, groups == b)].min()
    np.testing.assert_allclose(pooled.distances, np.sort(between, axis=1)[:, :3], atol=2e-5)

    labels = rnn_dbscan(face_graph, k=5).labels
    assert len(set(labels[labels >= 0])) >= 2
    clus, node = prototype_nodes(labels, face_graph, 1, method="medoid", x=x, space=COSINE)
    for c, n in zip(clus, node, strict=True):
        members = np.flatnonzero(labels == c)
        assert n == members[cos[np.ix_(members, members)].sum(axis=1).argmin()]
    member = labels >= 0
    assert silhouette(x, labels, space=COSINE) == pytest.approx(
        silhouette_score(x[member], labels[member], metric="cosine"), abs=1e-5)
    assert eps_grid_around(COSINE.threshold) == (0.25, 0.275, 0.3, 0.325, 0.35)
    assert eps_grid_around(DLIB_RESNET_V1.threshold) == (0.5, 0.55, 0.6, 0.65, 0.7)


def test_identification_takes_the_references_space_and_threshold() -> None:
    rng = np.random.default_rng(2)
    people = rng.normal(size=(3, DIM)).astype(np.float32)
    refs = ReferenceSet(TOY, ["a", "b", "c"], [people[i:i + 1] * (i + 1) for i in range(3)])
    matrix = ReferenceMatrix.from_references(refs)
    assert matrix.space == COSINE
    # person a's direction, 8 times longer (far in L2), and a face between a and b
    faces = np.stack([people[0] * 8, people[0] + people[1]]).astype(np.float32)
    want = _cosine_distances(faces, people)
    np.testing.assert_allclose(person_distances(faces, matrix, np.arange(3)), want, atol=1e-6)
    found = matches_within(faces, matrix, COSINE.threshold)
    got = {(int(f), int(p)): float(d) for f, p, d in zip(found.face, found.person, found.dist,
                                                          strict=True)}
    expect = {(f, p): want[f, p] for f in range(2) for p in range(3) if want[f, p] <= 0.3}
    assert got.keys() == expect.keys() and (0, 0) in got
    for key, dist in expect.items():
        assert got[key] == pytest.approx(dist, abs=1e-6)


def _candidate(frame: int, box: tuple, vector: np.ndarray) -> FaceCandidate:
    face = FaceCandidate(frame, np.array(box, np.float32), 0.9, 1.0,
                         np.zeros((150, 150, 3), np.uint8), np.zeros(5))
    face.embedding = vector.astype(np.float32)
    return face


@pytest.mark.parametrize(("space", "rejoins"), [(COSINE, True), (DLIB_RESNET_V1, False)])
def test_tracker_relinks_by_its_space(space: EmbeddingSpace, rejoins: bool) -> None:
    person = np.random.default_rng(4).normal(size=DIM)
    person /= np.linalg.norm(person)
    tracker = ShotTracker(lambda faces: None, space=space, max_iou_gap=3)
    assert tracker.same_person == space.threshold  # the space's threshold by default
    tracker.add_frame([_candidate(0, (0, 0, 50, 50), person)])
    # Far away after a long gap, the same direction at 3x the length: one person in
    # cosine terms (distance 0), 2.0 apart in L2 (beyond dlib's 0.6).
    tracker.add_frame([_candidate(20, (300, 0, 350, 50), 3 * person)])
    assert len(tracker.tracks) == (1 if rejoins else 2)


def test_check_same_embedder_compares_spaces() -> None:
    check_same_embedder(COSINE, "a.h5", TOY, "b.h5")  # a bare EmbedderInfo: dimension unknown
    cases = [
        (EmbeddingSpace(TOY.name, 32, "cosine", 0.3), "32-D, cosine"),
        (EmbeddingSpace(TOY.name, DIM, "euclidean", 0.3), "16-D, euclidean"),
        (EmbeddingSpace("other_model", DIM, "cosine", 0.3), "different models"),
    ]
    for other, says in cases:
        with pytest.raises(SkelshopError, match=says) as err:
            check_same_embedder(COSINE, "a.h5", other, "b.h5")
        assert err.value.path == "b.h5"
    # a dlib-named file whose vectors are not 128-D is not in dlib's space
    with pytest.raises(SkelshopError, match="64-D"):
        check_same_embedder(EmbedderInfo(DLIB_RESNET_V1.name, "euclidean", 0.6), "a.h5",
                            EmbeddingSpace(DLIB_RESNET_V1.name, 64, "euclidean", 0.6), "b.h5")


def _identify(tmp_path: Path, dump_info: EmbedderInfo, dump_dim: int):
    rng = np.random.default_rng(5)
    ada = rng.normal(size=DIM).astype(np.float32)
    refs = write_refs(tmp_path / "refs.h5", {"ada": ada[None]}, embedder=TOY)
    faces = np.zeros((2, dump_dim), np.float32)
    faces[0, :DIM] = 6 * ada[:dump_dim]  # ada, much longer: cosine distance 0
    faces[1] = rng.normal(size=dump_dim)
    dump = write_dump(tmp_path / "v.h5", faces, [1, 2], [0, 1], embedder=dump_info)
    scenes = tmp_path / "v-Scenes.csv"
    scenes.write_text("Timecode List:\nScene Number,Start Frame,End Frame\n1,1,500\n")
    out = tmp_path / "out.csv"
    # one face per track: let a single vote name it (the default wants two agreeing faces)
    return skelshop("iden", "idsegssparse", refs, scenes, dump, out, "--min-votes", "1"), dump, out


def test_idsegs_in_a_cosine_space(tmp_path: Path) -> None:
    proc, dump, out = _identify(tmp_path, TOY, DIM)
    assert proc.returncode == 0, proc.stderr
    assert read_dump_space(dump) == COSINE
    with out.open() as fh:
        rows = {int(r["skel_id"]): r["label"] for r in csv.DictReader(fh)}
    assert rows[0] == "ada" and rows.get(1) != "ada"


@pytest.mark.parametrize(("info", "dim", "says"), [
    (TOY, 24, "24-D, cosine"),
    (EmbedderInfo(TOY.name, "euclidean", 0.3), DIM, "16-D, euclidean"),
])
def test_idsegs_refuses_a_same_name_other_space(tmp_path: Path, info: EmbedderInfo, dim: int,
                                                says: str) -> None:
    proc, dump, out = _identify(tmp_path, info, dim)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {dump}: embedding space") and says in lines[0], lines[0]
    assert not out.exists()


def test_a_finished_dump_must_be_in_the_embedders_space(tmp_path: Path) -> None:
    art = stand_in_video(tmp_path)
    settings = {"sample_fps": 5.0}
    rng = np.random.default_rng(6)
    for info, dim, finished in [(EmbedderInfo(DLIB_RESNET_V1.name, "euclidean", 0.6), 128, True),
                                (EmbedderInfo(DLIB_RESNET_V1.name, "euclidean", 0.6), 64, False),
                                (EmbedderInfo(DLIB_RESNET_V1.name, "cosine", 0.6), 128, False),
                                (TOY, DIM, False)]:
        write_finished_dump(art, settings, rng.normal(size=(1, dim)).astype(np.float32), info)
        assert faces_finished(art, "sparse", settings) is finished, (info, dim)
    assert faces_finished(art, "sparse", settings, space=COSINE)  # the toy model's own space
    art.faces.write_bytes(b"damaged")
    assert read_dump_space(art.faces) is None
    assert not faces_finished(art, "sparse", settings)


def test_a_dump_of_an_unknown_model_needs_its_threshold(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "v.h5", np.ones((1, DIM), np.float32), [1], [0], embedder=TOY)
    assert read_face_dump(dump).space == COSINE
    with h5py.File(dump, "a") as h5:
        del h5.attrs["threshold"]
    with pytest.raises(SkelshopError, match="no threshold recorded for embedder 'toy_cosine"):
        read_face_dump(dump)
    with h5py.File(dump, "a") as h5:
        h5.attrs["threshold"] = 0.3
        h5.attrs["metric"] = "manhattan"
    with pytest.raises(SkelshopError, match="metric 'manhattan' is not one this version knows"):
        read_face_dump(dump)
    assert read_dump_space(dump) is None


def test_clusters_are_named_in_the_models_space() -> None:
    rng = np.random.default_rng(7)
    ada, bob = rng.normal(size=(2, DIM)).astype(np.float32)
    # ada's faces are long, bob's short: in L2 every short reference is nearest bob's
    embed = np.concatenate([ada * rng.uniform(4, 6, (10, 1)),
                            bob * rng.uniform(0.1, 0.2, (10, 1))]).astype(np.float32)
    labels = np.repeat(np.arange(2, dtype=np.int32), 10)
    n = len(embed)
    ids = np.arange(n)
    model = ClusterModel(
        embedder=TOY, params=ClusterParams("rnn-dbscan", "exact", 5, "vote"), videos=["v.mp4"],
        face_dumps=["v.h5"], embed=embed, face_video=np.zeros(n, np.int32), face_frame=ids,
        face_pers=np.zeros(n), face_seg=ids, face_node=ids, node_face=ids, labels=labels,
        core=np.ones(n, bool), knn_indices=np.zeros((n, 1), np.int64),
        knn_distances=np.zeros((n, 1), np.float32), density=np.full(2, 0.1, np.float32),
        track_video=np.zeros(n, np.int32), track_seg=ids, track_pers=np.zeros(n),
        track_label=labels)
    refs = ReferenceSet(TOY, ["ada", "bob"], [0.3 * ada[None], 0.3 * bob[None]])
    named = {n.clus: n.label for n in name_clusters_by_neighbours(model, refs, 0.3, knn=5).named}
    assert named == {"c0": "ada", "c1": "bob"}
    euclidean = name_clusters_by_neighbours(model, refs, 10.0, knn=5, space=DLIB_RESNET_V1)
    assert {n.clus: n.label for n in euclidean.named} != named  # L2 would have named them wrong
