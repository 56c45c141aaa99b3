"""`skelshop iden clus`: end to end on synthetic corpora and on the sample videos."""

from __future__ import annotations

import csv
import pickle
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from skelshop.cli.main import main
from skelshop.cluster.estimators import RnnDbscan
from skelshop.cluster.knn import build_knn_graph
from skelshop.cluster.pooling import group_medoids
from skelshop.cluster.synthetic import face_like_tracks
from skelshop.errors import SkelshopError
from skelshop.formats.cluster_model import read_cluster_model
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, read_face_dump, write_face_dump
from skelshop.formats.identity import read_identities
from skelshop.formats.prototypes import read_prototypes

DLIB = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)
TRACKS_PER_SHOT = 3


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """Run the real entry point; return its exit code and stderr."""
    monkeypatch.setattr(sys, "argv", ["skelshop", "-q", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def write_dump(path: Path, embed: np.ndarray, frame: np.ndarray, pers: np.ndarray,
               seg: np.ndarray, embedder: EmbedderInfo = DLIB) -> None:
    """A sparse face dump as `skelshop face embed` writes it."""
    write_face_dump(path, FaceDump(
        mode="sparse", video=path.stem, num_frames=int(frame.max(initial=0)) + 1, fps=25.0,
        embedder=embedder, frame=frame.astype(np.uint32), pers=pers.astype(np.uint32),
        embed=embed.astype(np.float32), seg=seg.astype(np.int32)))


def synthetic_corpus(folder: Path, n: int = 1500, videos: int = 3, seed: int = 0,
                     relative: bool = False) -> tuple[Path, np.ndarray]:
    """Dumps of synthetic faces spread over videos, shots and co-occurring tracks.

    Returns the corpus CSV and each face's identity in corpus order (video, then dump order).
    """
    data = face_like_tracks(n, seed)
    identity = []
    rows = ["video,faces,segsout"]
    for v in range(videos):
        rows_v = np.flatnonzero(data.track % videos == v)
        tracks = np.unique(data.track[rows_v])
        local = np.searchsorted(tracks, data.track[rows_v])  # track number within the video
        seg = local // TRACKS_PER_SHOT
        order = np.lexsort((rows_v, local))
        rows_v, local, seg = rows_v[order], local[order], seg[order]
        nth = np.arange(len(rows_v)) - np.searchsorted(local, local)  # face within its track
        frame = seg * 100 + nth * 7 + local % TRACKS_PER_SHOT
        write_dump(folder / f"v{v}.faces.h5", data.x[rows_v], frame, local, seg)
        dump = read_face_dump(folder / f"v{v}.faces.h5")  # rows as stored (frame order)
        key = {(int(f), int(p)): data.identity[r]
               for f, p, r in zip(frame, local, rows_v, strict=True)}
        identity += [key[int(f), int(p)] for f, p in zip(dump.frame, dump.pers, strict=True)]
        base = "" if relative else f"{folder}/"
        rows.append(f"{base}v{v}.mp4,{base}v{v}.faces.h5,{base}v{v}.segs.csv")
    corpus = folder / "corpus.csv"
    corpus.write_text("\n".join(rows) + "\n")
    return corpus, np.asarray(identity)


def _segsout(folder: Path, videos: int) -> list[list]:
    return [read_identities(folder / f"v{v}.segs.csv") for v in range(videos)]


def test_documented_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture) -> None:
    synthetic_corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(["iden", "clus", "fixed", "--proto-out", "protos", "--model-out",
                         "model.pkl", "--ann-lib", "pynndescent", "--algorithm", "rnn-dbscan",
                         "--knn", "5", "corpus.csv"], monkeypatch, capsys)
    assert code == 0, err
    assert "1500 faces" in err
    model = read_cluster_model(tmp_path / "model.pkl")
    assert h5py.is_hdf5(tmp_path / "model.pkl")  # the name says pickle; the content is not
    # the model holds exactly our RNN-DBSCAN of the exact 5-NN graph (small: searched
    # exactly) without edges over the embedder's threshold, split along the cannot-links
    # of the tracks seen together
    graph = build_knn_graph(model.embed, 5, backend="exact")
    face_track = np.unique(np.stack([model.face_video, model.face_seg, model.face_pers], 1),
                           axis=0, return_inverse=True)[1].ravel()
    expected = RnnDbscan(k=5, max_dist=0.6).fit(model.embed, graph=graph, groups=face_track,
                                                cannot_link=model.cannot_link)
    assert len(model.cannot_link) and expected.n_violations_fit_ > 0
    assert model.labels.tolist() == expected.labels_.tolist()
    np.testing.assert_array_equal(model.density, expected.density_)
    assert model.params.algorithm == "rnn-dbscan" and model.params.k == 5
    assert model.params.extra["max_dist"] == 0.6
    # every (shot, track) of every dump appears once in its segsout, labelled as in the model
    segs = _segsout(tmp_path, 3)
    for v, rows in enumerate(segs):
        dump = read_face_dump(tmp_path / f"v{v}.faces.h5")
        assert sorted((r.seg, r.skel_id) for r in rows) == sorted(
            {(int(s), int(p)) for s, p in zip(dump.seg, dump.pers, strict=True)})
        in_model = {(int(s), int(p)): lab for s, p, lab in zip(
            model.track_seg[model.track_video == v], model.track_pers[model.track_video == v],
            model.track_label[model.track_video == v], strict=True)}
        for r in rows:
            lab = in_model[r.seg, r.skel_id]
            assert r.label == ("noclus" if lab < 0 else f"c{lab}")
    # prototypes: one per cluster, each a stored face that belongs to that cluster
    protos = read_prototypes(tmp_path / "protos")
    assert sorted(p.clus_idx for p in protos) == list(range(model.n_clusters))
    for p in protos:
        row = np.flatnonzero((model.face_video == p.video_idx) & (model.face_frame == p.frame_num)
                             & (model.face_pers == p.pers_id))
        assert len(row) == 1
        assert model.labels[model.face_node[row[0]]] == p.clus_idx
    # `--max-dist inf`: the paper's algorithm on the uncapped graph
    code, err = run_cli(["iden", "clus", "fixed", "--max-dist", "inf", "--model-out",
                         "paper.h5", "corpus.csv"], monkeypatch, capsys)
    assert code == 0, err
    paper = read_cluster_model(tmp_path / "paper.h5")
    assert paper.labels.tolist() == RnnDbscan(k=5).fit(
        model.embed, graph=graph, groups=face_track, cannot_link=model.cannot_link).labels_.tolist()
    assert paper.params.extra["max_dist"] is None


def test_quality_on_synthetic_tracks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture) -> None:
    from skelshop.cluster.metrics import bcubed_scores

    corpus, identity = synthetic_corpus(tmp_path, n=3000)
    code, err = run_cli(["iden", "clus", "fixed", "--model-out", str(tmp_path / "m.h5"),
                         "--ann-lib", "exact", str(corpus)],
                        monkeypatch, capsys)
    assert code == 0, err
    model = read_cluster_model(tmp_path / "m.h5")
    scores = bcubed_scores(identity, model.labels)
    assert scores.precision > 0.9 and scores.f1 > 0.6, scores


def test_search_prints_grid_and_keeps_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=900)
    code, err = run_cli(["iden", "clus", "search", "--model-out", str(tmp_path / "m.h5"),
                         "--ann-lib", "exact", str(corpus)], monkeypatch, capsys)
    assert code == 0, err
    assert "silh" in err and "agree" in err and "best (rnn-dbscan)" in err
    model = read_cluster_model(tmp_path / "m.h5")
    table = model.params.extra["search"]
    best = table[model.params.extra["search_best"]]
    assert best["score"] == max(r["score"] for r in table)
    assert model.params.k == best["k"]
    assert [r["k"] for r in table] == [2, 3, 4, 5, 6, 8, 10, 12, 15]

    code, err = run_cli(["iden", "clus", "search", "--algorithm", "dbscan", "--ann-lib",
                         "exact", str(corpus)], monkeypatch, capsys)
    assert code == 0, err
    assert "best (dbscan)" in err
    assert err.count("\n") > 20  # 5 eps x 4 min-samples settings


@pytest.mark.parametrize("pool", ["med", "min"])
def test_track_pooling(pool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=1200)
    code, err = run_cli(["iden", "clus", "fixed", "--pool", pool, "--ann-lib", "exact",
                         "--model-out", str(tmp_path / "m.h5"), "--proto-out",
                         str(tmp_path / "p.csv"), "--num-protos", "2", str(corpus)],
                        monkeypatch, capsys)
    assert code == 0, err
    model = read_cluster_model(tmp_path / "m.h5")
    assert model.n_nodes == len(model.track_label)  # one node per track
    assert (model.labels == model.track_label).all()
    keys = np.stack([model.face_video, model.face_seg, model.face_pers], axis=1)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    assert (model.face_node == group.ravel()).all()
    assert (model.node_face == group_medoids(model.embed, group.ravel(), model.n_nodes)).all()
    protos = read_prototypes(tmp_path / "p.csv")
    sizes = np.bincount(model.labels[model.labels >= 0])
    assert len(protos) == int(np.minimum(sizes, 2).sum())


def test_dbscan_exact_and_hdbscan_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=600)
    for algorithm in ("dbscan", "dbscan-exact", "optics-dbscan", "hdbscan"):
        code, err = run_cli(["iden", "clus", "fixed", "--algorithm", algorithm, "--eps", "0.5",
                             "--min-samples", "3", "--ann-lib", "exact",
                             "--model-out", str(tmp_path / "m.h5"), str(corpus)],
                            monkeypatch, capsys)
        assert code == 0, (algorithm, err)
        model = read_cluster_model(tmp_path / "m.h5")
        assert model.params.algorithm == algorithm
        assert model.n_clusters > 10


# ----------------------------------------------------------------------------- bad input


def _expect_error(args: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture, max_lines: int = 1) -> None:
    code, err = run_cli(args, monkeypatch, capsys)
    assert code == 2, err
    assert fragment in err, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= max_lines, err


def test_empty_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture) -> None:
    corpus = tmp_path / "corpus.csv"
    corpus.write_text("video,faces,segsout\n")
    _expect_error(["iden", "clus", "fixed", str(corpus)], "the corpus has no videos",
                  monkeypatch, capsys)


def test_relative_paths_need_base_and_files_must_exist(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=300, relative=True)
    _expect_error(["iden", "clus", "fixed", str(corpus)], "--corpus-base", monkeypatch, capsys)
    code, err = run_cli(["iden", "clus", "fixed", "--corpus-base", str(tmp_path),
                         str(corpus)], monkeypatch, capsys)
    assert code == 0, err
    (tmp_path / "v1.faces.h5").unlink()
    _expect_error(["iden", "clus", "fixed", "--corpus-base", str(tmp_path), str(corpus)],
                  "does not exist", monkeypatch, capsys)


def test_mixed_embedders_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=300)
    dump = read_face_dump(tmp_path / "v2.faces.h5")
    other = EmbedderInfo("arcface_r100", "cosine", 0.4)
    write_dump(tmp_path / "v2.faces.h5", dump.embed, dump.frame, dump.pers, dump.seg, other)
    _expect_error(["iden", "clus", "fixed", str(corpus)], "cannot be compared",
                  monkeypatch, capsys)


def test_zero_face_dumps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=300)
    empty = np.zeros(0)
    write_dump(tmp_path / "v1.faces.h5", np.zeros((0, 128)), empty, empty, empty)
    code, err = run_cli(["iden", "clus", "fixed", str(corpus)], monkeypatch, capsys)
    assert code == 0, err
    assert read_identities(tmp_path / "v1.segs.csv") == []  # header only
    assert read_identities(tmp_path / "v0.segs.csv")
    for v in (0, 2):
        write_dump(tmp_path / f"v{v}.faces.h5", np.zeros((0, 128)), empty, empty, empty)
    _expect_error(["iden", "clus", "fixed", str(corpus)], "no faces in any face dump",
                  monkeypatch, capsys)


def test_k_above_number_of_faces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture) -> None:
    x = face_like_tracks(7, seed=3).x
    write_dump(tmp_path / "a.faces.h5", x, np.arange(7) * 10, np.arange(7) % 2, np.zeros(7))
    corpus = tmp_path / "corpus.csv"
    corpus.write_text(f"video,faces,segsout\n{tmp_path}/a.mp4,{tmp_path}/a.faces.h5,{tmp_path}/a.csv\n")
    code, err = run_cli(["iden", "clus", "fixed", "--knn", "50", "--proto-out",
                         str(tmp_path / "p.csv"), str(corpus)], monkeypatch, capsys)
    assert code == 0, err
    assert "using k=6" in err
    assert len(read_identities(tmp_path / "a.csv")) == 2
    _expect_error(["iden", "clus", "fixed", "--algorithm", "dbscan", "--min-samples", "9",
                   str(corpus)], "--min-samples 9 exceeds", monkeypatch, capsys)
    write_dump(tmp_path / "a.faces.h5", x[:1], np.zeros(1), np.zeros(1), np.zeros(1))
    _expect_error(["iden", "clus", "fixed", str(corpus)], "only 1 face", monkeypatch, capsys)


def test_two_faces_with_each_algorithm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture) -> None:
    x = face_like_tracks(2, seed=4).x
    write_dump(tmp_path / "a.faces.h5", x, np.array([0, 40]), np.array([0, 1]), np.zeros(2))
    corpus = tmp_path / "corpus.csv"
    corpus.write_text(f"video,faces,segsout\n{tmp_path}/a.mp4,{tmp_path}/a.faces.h5,"
                      f"{tmp_path}/a.csv\n")
    # RNN-DBSCAN has no min-samples: two faces are few, but not too few for it.
    code, err = run_cli(["iden", "clus", "fixed", "--ann-lib", "exact", str(corpus)],
                        monkeypatch, capsys)
    assert code == 0, err
    assert "min-samples" not in err and "Traceback" not in err
    assert len(read_identities(tmp_path / "a.csv")) == 2
    _expect_error(["iden", "clus", "fixed", "--algorithm", "dbscan", str(corpus)],
                  "--min-samples 3 exceeds the number of faces (2)", monkeypatch, capsys)


def _outputs_unchanged(folder: Path, before: dict[Path, bytes]) -> None:
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_every_output_is_checked_before_any_work(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=300)
    (tmp_path / "v0.mp4").write_bytes(b"a video's bytes")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    protos = str(tmp_path / "protos.csv")
    cases = [
        (["--model-out", str(corpus)], f"error: {corpus}: is the input {corpus}"),
        (["--proto-out", protos, "--model-out", str(tmp_path / "v0.faces.h5")],
         "is the input"),
        (["--proto-out", protos, "--model-out", str(tmp_path / "v0.mp4" / "model.h5")],
         "is a file, not a folder"),
        (["--proto-out", str(tmp_path / "v1.segs.csv")], "is given twice as an output"),
    ]
    for options, fragment in cases:
        _expect_error(["iden", "clus", "fixed", *options, str(corpus)], fragment, monkeypatch,
                      capsys)
        _outputs_unchanged(tmp_path, before)  # no segsout, no protos, inputs intact
    text = corpus.read_text()
    for target in ("v0.mp4", "v0.faces.h5"):  # a segsout naming the video or the dump
        bad = tmp_path / f"bad-{target}.csv"
        bad.write_text(text.replace(f"{tmp_path}/v2.segs.csv", f"{tmp_path}/{target}"))
        before[bad] = bad.read_bytes()
        _expect_error(["iden", "clus", "fixed", str(bad)], f"is the input {tmp_path}/{target}",
                      monkeypatch, capsys)
        _outputs_unchanged(tmp_path, before)
    link = tmp_path / "model-link.h5"
    link.symlink_to(corpus)
    before[link] = corpus.read_bytes()
    _expect_error(["iden", "clus", "fixed", "--model-out", str(link), str(corpus)],
                  "is the input", monkeypatch, capsys)
    _outputs_unchanged(tmp_path, before)


def test_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture) -> None:
    corpus, _ = synthetic_corpus(tmp_path, n=300)
    # click's usage errors: usage line, hint, blank, the error
    _expect_error(["iden", "clus", "fixed", "--pool", "min", "--algorithm", "hdbscan",
                   str(corpus)], "--pool min", monkeypatch, capsys, max_lines=4)
    _expect_error(["iden", "clus", "fixed", "--eps", "-1", "--algorithm", "dbscan",
                   str(corpus)], "--eps", monkeypatch, capsys, max_lines=4)
    _expect_error(["iden", "clus", "fixed", "--ann-lib", "annoy", str(corpus)], "annoy",
                  monkeypatch, capsys, max_lines=4)


def test_cli_choice_names_match_the_registries() -> None:
    from skelshop.cluster import choices
    from skelshop.cluster.algorithms import ALGORITHMS
    from skelshop.cluster.knn import BACKENDS
    from skelshop.cluster.prototypes import PROTOTYPE_METHODS
    from skelshop.corpus_clustering.nodes import POOLS

    assert tuple(ALGORITHMS) == choices.ALGORITHM_NAMES
    assert tuple(n for n, a in ALGORITHMS.items() if a.on_graph) == choices.GRAPH_ALGORITHMS
    assert {n: a.params for n, a in ALGORITHMS.items()} == choices.ALGORITHM_PARAMS
    assert tuple(BACKENDS) == choices.KNN_BACKEND_NAMES
    assert tuple(PROTOTYPE_METHODS) == choices.PROTOTYPE_METHOD_NAMES
    assert tuple(POOLS) == choices.POOL_NAMES


def test_model_reader_refuses_pickles(tmp_path: Path) -> None:
    bad = tmp_path / "model.pkl"
    bad.write_bytes(pickle.dumps({"labels": [1, 2, 3]}))
    with pytest.raises(SkelshopError, match="never loaded"):
        read_cluster_model(bad)
    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5.attrs["fmt_type"] = "sparse_faces"
    with pytest.raises(SkelshopError, match="not a skelshop cluster model"):
        read_cluster_model(tmp_path / "other.h5")


# ----------------------------------------------------------------------------- sample videos


def _sample_corpus(sample_faces: dict, folder: Path) -> tuple[Path, list[str]]:
    names = ["franck", "cap12", "cap13", "carphone"]
    corpus = folder / "corpus.csv"
    with corpus.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["video", "faces", "segsout", "group", "group_typ"])
        for name in names:
            s = sample_faces[name]
            out.writerow([s.video, s.faces, folder / f"{name}.segs.csv", s.scenes, "psd"])
    return corpus, names


def _labels_by_video(folder: Path, names: list[str]) -> dict[str, set[str]]:
    return {name: {r.label for r in read_identities(folder / f"{name}.segs.csv")}
            for name in names}


def _check_people(labels: dict[str, set[str]]) -> None:
    franck, cap12, cap13, carphone = (labels[n] for n in ("franck", "cap12", "cap13", "carphone"))
    assert len(franck) == 1 and "noclus" not in franck, labels
    assert cap12 == cap13 and len(cap12) == 1 and "noclus" not in cap12, labels
    assert franck != cap12
    assert carphone.isdisjoint(franck | cap12), labels
    assert len(carphone) == 1, labels


@pytest.mark.slow
def test_sample_corpus(sample_faces: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture) -> None:
    corpus, names = _sample_corpus(sample_faces, tmp_path)
    dumps = [read_face_dump(sample_faces[n].faces) for n in names]

    # search picks k from the data: each person's tracks in one cluster of their own
    code, err = run_cli(["iden", "clus", "search", "--proto-out", str(tmp_path / "protos.csv"),
                         "--model-out", str(tmp_path / "model.pkl"), str(corpus)],
                        monkeypatch, capsys)
    assert code == 0, err
    labels = _labels_by_video(tmp_path, names)
    _check_people(labels)

    # prototypes are stored faces of the cluster's own person
    protos = read_prototypes(tmp_path / "protos.csv")
    assert protos
    for p in protos:
        dump = dumps[p.video_idx]
        assert ((dump.frame == p.frame_num) & (dump.pers == p.pers_id)).sum() == 1
        assert f"c{p.clus_idx}" in labels[names[p.video_idx]]

    # the documented command runs as written (k=5 is large for 3 faces per person)
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(["iden", "clus", "fixed", "--proto-out", "protos", "--model-out",
                         "model.pkl", "--ann-lib", "pynndescent", "--algorithm", "rnn-dbscan",
                         "--knn", "5", str(corpus)], monkeypatch, capsys)
    assert code == 0, err
    assert read_prototypes(tmp_path / "protos") is not None
    # with k below each person's face count, fixed gives the same people as search
    code, err = run_cli(["iden", "clus", "fixed", "--knn", "2", str(corpus)], monkeypatch,
                        capsys)
    assert code == 0, err
    _check_people(_labels_by_video(tmp_path, names))
