"""names.csv, the corpus name store and page API, and growing a stored clustering: fast, no models."""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from skelshop.corpus.manual_names import Naming, track_name
from skelshop.corpus_clustering.faces import CorpusFaces
from skelshop.corpus_clustering.incremental import (
    carry_numbers,
    extend_clustering,
    split_off,
    user_cannot_links,
)
from skelshop.corpus_clustering.outputs import cluster_model
from skelshop.corpus_clustering.run import ClusSettings, cluster_fixed
from skelshop.errors import SkelshopError
from skelshop.formats.cluster_model import read_cluster_model, write_cluster_model
from skelshop.formats.corpus_names import (
    CorpusNames,
    NotThisPerson,
    read_corpus_names,
    write_corpus_names,
)
from skelshop.formats.face_dump import EmbedderInfo
from skelshop.naming.label_store import CorpusNameStore
from skelshop.naming.labelling_server import LabellingApp, LabellingServer

DIM = 16


def test_names_file_round_trip_and_plain_identifications(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    names = CorpusNames(names={"c3": "Ann Smith", "c10": "Bo, the \"second\""},
                        same_as={"c5": "c3", "c7": "c5"},
                        not_this=[NotThisPerson("/v/a.mp4", 4, 1, "c3")])
    write_corpus_names(path, names)
    assert path.read_text().splitlines()[0] == "label,clus,same_as,video,seg,skel_id"
    back = read_corpus_names(path)
    assert back == names
    assert back.resolve("c7") == "c3" and back.name_of("c7") == "Ann Smith"
    assert back.name_of("c4") is None and back.resolve("c4") == "c4"
    # the original's identifications CSV (skips as empty labels) reads as names only
    path.write_text("label,clus\nAnn,c0\n,c1\n")
    assert read_corpus_names(path) == CorpusNames(names={"c0": "Ann"})
    assert not read_corpus_names(tmp_path / "none.csv")
    path.write_text("label,clus,same_as\n,c1,x9\n")
    with pytest.raises(SkelshopError, match="line 2: same_as 'x9' is not a cluster name"):
        read_corpus_names(path)
    cycle = CorpusNames(same_as={"c1": "c2", "c2": "c1"})
    assert cycle.resolve("c1") in ("c1", "c2")  # a cycle ends, it does not hang


def test_precedence_manual_then_direct_then_reference_then_cluster() -> None:
    names = CorpusNames(names={"c1": "Ann"}, same_as={"c2": "c1", "c4": "c3"})
    direct = Naming("Bob", 0.3)
    refs = {"c3": Naming("Cy", 0.4)}
    assert track_name("c1", direct, refs, names) == ("Ann", "manual", None)
    assert track_name("c2", None, refs, names) == ("Ann", "manual", None)  # merged into c1
    assert track_name("c3", direct, refs, names) == ("Bob", "direct", 0.3)
    assert track_name("c4", None, refs, names) == ("Cy", "cluster+reference", 0.4)
    assert track_name("c5", None, refs, names) == ("c5", "cluster", None)
    assert track_name(None, None, refs, names) == ("noclus", "none", None)


def test_store_merges_unmerges_and_splits(tmp_path: Path) -> None:
    store = CorpusNameStore(tmp_path / "names.csv")
    store.set("c0", "Ann")
    store.merge("c2", "c0")
    assert store.labels() == {"c0": "Ann", "c2": "Ann"}
    with pytest.raises(ValueError, match="already merged"):
        store.merge("c0", "c2")
    store.set("c2", "Ann")  # the same name typed again keeps the merge
    assert store.merges() == {"c2": "c0"}
    store.set("c2", "Bea")  # a name of its own undoes it
    assert store.merges() == {} and store.labels() == {"c0": "Ann", "c2": "Bea"}
    store.split("c0", "/v/a.mp4", 2, 1)
    store.split("c0", "/v/a.mp4", 2, 1)
    again = read_corpus_names(tmp_path / "names.csv")
    assert again.not_this == [NotThisPerson("/v/a.mp4", 2, 1, "c0")]
    assert again.names == {"c0": "Ann", "c2": "Bea"}


def test_an_empty_names_file_is_no_names(tmp_path: Path) -> None:
    (tmp_path / "names.csv").touch()
    assert not read_corpus_names(tmp_path / "names.csv")
    store = CorpusNameStore(tmp_path / "names.csv")
    store.set("c0", "Ann")
    assert read_corpus_names(tmp_path / "names.csv").names == {"c0": "Ann"}


def test_merging_a_named_cluster_into_an_unnamed_one_keeps_the_name(tmp_path: Path) -> None:
    store = CorpusNameStore(tmp_path / "names.csv")
    store.set("c3", "Cleo")
    store.merge("c3", "c1")  # c1 had no name: it takes c3's
    assert store.labels() == {"c1": "Cleo", "c3": "Cleo"}
    store.set("c4", "Dan")
    store.merge("c4", "c1")  # c1 is named now: c4 becomes Cleo too (the merge says so)
    assert store.labels() == {"c1": "Cleo", "c3": "Cleo", "c4": "Cleo"}
    assert read_corpus_names(tmp_path / "names.csv").names == {"c1": "Cleo"}


def _post(port: int, path: str, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    res = conn.getresponse()
    return res.status, json.loads(res.read())


def test_page_api_records_merges_and_not_this_person(tmp_path: Path) -> None:
    protos = tmp_path / "label"
    for name in ("c0/v000f00001p0.png", "c0/v001f00004p2.png", "c1/v001f00009p3.png"):
        (protos / name).parent.mkdir(parents=True, exist_ok=True)
        (protos / name).write_bytes(b"\x89PNG\r\n")
    tracks = {"c0/v000f00001p0.png": ("/v/a.mp4", 0, 0), "c0/v001f00004p2.png": ("/v/b.mp4", 1, 2),
              "c1/v001f00009p3.png": ("/v/b.mp4", 2, 3)}
    store = CorpusNameStore(tmp_path / "names.csv")
    server = LabellingServer(LabellingApp(protos, store, [], tracks), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        status, state = _post(port, "/api/same", {"clus": "c1", "other": "c0"})
        assert status == 200 and state["merges"] == {"c1": "c0"}
        status, state = _post(port, "/api/notthis", {"clus": "c0",
                                                     "image": "/img/c0/v001f00004p2.png"})
        assert status == 200 and state["split"] == ["/img/c0/v001f00004p2.png"]
        status, state = _post(port, "/api/notthis", {"clus": "c1",
                                                     "image": "/img/c0/v000f00001p0.png"})
        assert status == 400 and "no such picture" in state["error"]
        status, state = _post(port, "/api/same", {"clus": "c0", "other": "c9"})
        assert status == 400
    finally:
        server.shutdown()
        server.server_close()
    names = read_corpus_names(tmp_path / "names.csv")
    assert names.same_as == {"c1": "c0"}
    assert names.not_this == [NotThisPerson("/v/b.mp4", 1, 2, "c0")]


def _faces(tracks: list[tuple[int, int, int, int, int]], centres: np.ndarray,
           seed: int = 0) -> CorpusFaces:
    """A corpus of 3-face tracks: (video, shot, track id, person, first frame) each."""
    rng = np.random.default_rng(seed)
    rows = []
    for video, seg, pers, person, first in tracks:
        for i in range(3):
            rows.append((video, seg, pers, first + 4 * i,
                         centres[person] + rng.normal(0, 0.04, DIM)))
    video_idx = np.array([r[0] for r in rows], np.int32)
    seg = np.array([r[1] for r in rows], np.int32)
    pers = np.array([r[2] for r in rows], np.int64)
    keys = np.stack([video_idx, seg, pers], axis=1).astype(np.int64)
    uniq, group = np.unique(keys, axis=0, return_inverse=True)
    embed = np.array([r[4] for r in rows], np.float32)
    embed /= np.linalg.norm(embed, axis=1, keepdims=True)
    n_videos = int(video_idx.max()) + 1
    return CorpusFaces(EmbedderInfo("dlib-resnet-v1", "euclidean", 0.6),
                       [f"/v/{v}.mp4" for v in range(n_videos)],
                       [f"/v/{v}.faces.h5" for v in range(n_videos)], embed, video_idx,
                       np.array([r[3] for r in rows], np.int64), pers, seg,
                       group.ravel().astype(np.int64), uniq[:, 0].astype(np.int32),
                       uniq[:, 1].astype(np.int32), uniq[:, 2])


def _centres(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    c = rng.normal(size=(n, DIM))
    return c / np.linalg.norm(c, axis=1, keepdims=True)


BASE = [(0, 0, 0, 0, 0), (0, 1, 1, 1, 50), (1, 0, 0, 0, 0), (1, 1, 1, 1, 50)]


def _fitted(tmp_path: Path, settings: ClusSettings):
    faces = _faces(BASE, _centres(4))
    outcome = cluster_fixed(faces, settings, "corpus.csv", progress=False)
    write_cluster_model(tmp_path / "model.h5", cluster_model(outcome, settings))
    return outcome, read_cluster_model(tmp_path / "model.h5")


def test_new_tracks_join_old_clusters_apart_from_who_they_were_seen_with(tmp_path: Path) -> None:
    settings = ClusSettings(ann_lib="exact")
    first, model = _fitted(tmp_path, settings)
    a, b = int(first.track_labels[0]), int(first.track_labels[1])
    assert {a, b} == {0, 1}
    grown = [
        *BASE,
        # video 2, shot 0: two look-alikes of person 0 on screen together
        (2, 0, 0, 0, 0), (2, 0, 1, 0, 0),
        # person 2, never seen before, in three shots of video 3
        (3, 0, 0, 2, 0), (3, 1, 0, 2, 50), (3, 2, 0, 2, 100),
    ]
    faces = _faces(grown, _centres(4))
    outcome, ext = extend_clustering(model, faces, settings, "corpus.csv", progress=False)
    labels = outcome.track_labels.tolist()
    assert labels[:4] == first.track_labels.tolist(), "old tracks keep their numbers"
    together = labels[4:6]
    assert sorted(together) == [-1, a], "only one of two tracks seen in one frame joins"
    assert labels[6] == labels[7] == labels[8] == 2, "a new cluster after the old numbers"
    assert outcome.violations == 0
    assert (ext.kept_tracks, ext.predicted_tracks, ext.new_clusters) == (4, 1, 1)
    # a video left out: its tracks leave; the rest keeps numbers
    fewer = _faces([t for t in grown if t[0] != 1], _centres(4))
    left, _ = extend_clustering(model, fewer, settings, "corpus.csv", progress=False)
    assert left.track_labels[:2].tolist() == [a, b]


def test_refit_carries_numbers_and_keeps_split_tracks_apart(tmp_path: Path) -> None:
    settings = ClusSettings(ann_lib="exact")
    first, model = _fitted(tmp_path, settings)
    faces = _faces([*BASE, (2, 0, 0, 1, 0)], _centres(4), seed=1)
    refit = cluster_fixed(faces, settings, "corpus.csv", progress=False)
    # pretend the refit numbered the other way round
    swap = np.array([1, 0], np.int32)
    refit.track_labels = np.where(refit.track_labels >= 0, swap[refit.track_labels], -1)
    refit.clustering.labels[:] = np.where(refit.clustering.labels >= 0,
                                          swap[refit.clustering.labels], -1)
    carried, mapping = carry_numbers(model, refit)
    assert carried.track_labels[:4].tolist() == first.track_labels.tolist()
    assert sorted(mapping.values()) == [0, 1]
    # "not this person" on track 2 (video 1, shot 0): split off, and a refit keeps it apart
    clus = f"c{int(first.track_labels[2])}"
    names = CorpusNames(not_this=[NotThisPerson("/v/1.mp4", 0, 0, clus)])
    split, moved = split_off(carried, names)
    assert moved == 1 and split.track_labels[2] == 2 and split.track_labels[0] == int(clus[1:])
    pairs = user_cannot_links(model, faces, names)
    assert pairs.tolist() == [[0, 2]]
    kept_apart = cluster_fixed(faces, settings, "corpus.csv", progress=False, extra_cannot=pairs)
    assert kept_apart.track_labels[0] != kept_apart.track_labels[2]


def test_a_grown_graph_keeps_old_rows_and_searches_new_ones_exactly(tmp_path: Path) -> None:
    settings = ClusSettings(ann_lib="exact")
    _, model = _fitted(tmp_path, settings)
    faces = _faces([*BASE, (2, 0, 0, 2, 0), (3, 0, 0, 2, 0)], _centres(4))
    rebuilt, _ = extend_clustering(model, faces, settings, "corpus.csv", progress=False)
    grown, _ = extend_clustering(model, faces, settings, "corpus.csv", progress=False,
                                 rebuild_below=0)
    assert grown.track_labels.tolist() == rebuilt.track_labels.tolist()
    n_old = model.n_nodes
    assert np.array_equal(grown.graph.indices[:n_old], model.knn_indices), \
        "kept nodes keep their stored neighbours"
    assert np.array_equal(grown.graph.indices[n_old:], rebuilt.graph.indices[n_old:])
    assert np.allclose(grown.graph.distances[n_old:], rebuilt.graph.distances[n_old:])
    assert not (grown.graph.indices == np.arange(grown.graph.n)[:, None]).any()
