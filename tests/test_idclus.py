"""`skelshop iden idclus`: clusters named by references through their prototypes' faces."""

from pathlib import Path

import numpy as np
import pytest
from naming_fixtures import (
    faces_of,
    identities,
    skelshop,
    write_corpus_csv,
    write_dump,
    write_protos,
    write_refs,
)

from skelshop.formats.face_dump import EmbedderInfo
from skelshop.formats.identifications import Identification, read_identifications


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    """Two videos: ada in both (split over clusters 0 and 1), bob and an unknown in the second.

    Clusters: c0 = ada (video 0), c1 = ada (video 1, a little further from her photos),
    c2 = bob, c3 = someone not in the references.
    """
    rng = np.random.default_rng(1)
    ada, bob, stranger = identities(3)
    v0 = write_dump(tmp_path / "v0.h5", faces_of(ada, 3, rng, 0.15), [10, 20, 30], [0, 0, 0])
    v1 = np.concatenate([faces_of(ada, 2, rng, 0.3), faces_of(bob, 2, rng),
                         faces_of(stranger, 2, rng)])
    v1_dump = write_dump(tmp_path / "v1.h5", v1, [5, 6, 5, 6, 7, 8], [0, 0, 1, 1, 2, 2])
    refs = write_refs(tmp_path / "refs.h5", {"ada": faces_of(ada, 2, rng, 0.15),
                                             "bob": faces_of(bob, 1, rng, 0.15),
                                             "nobody": np.zeros((0, 128), np.float32)})
    protos = write_protos(tmp_path / "protos.csv", [
        (0, 0, 10, 0), (0, 0, 30, 0), (1, 1, 5, 0), (1, 1, 6, 0), (2, 1, 5, 1), (3, 1, 7, 2),
        (3, 1, 8, 2)])
    return {"refs": refs, "protos": protos, "corpus": write_corpus_csv(tmp_path / "corpus.csv",
                                                                       [v0, v1_dump])}


def run_idclus(corpus: dict[str, Path], out: Path, *options: str):
    return skelshop("iden", "idclus", corpus["refs"], corpus["protos"], corpus["corpus"], out,
                    *options)


def test_several_clusters_may_be_one_person(corpus: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    proc = run_idclus(corpus, out)
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(out) == [Identification("ada", "c0"), Identification("ada", "c1"),
                                         Identification("bob", "c2")]
    assert "named 3 of 4 clusters (threshold 0.6)" in proc.stderr


def test_one_to_one_keeps_the_closest_cluster(corpus: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    proc = run_idclus(corpus, out, "--one-to-one")
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(out) == [Identification("ada", "c0"), Identification("bob", "c2")]


def test_threshold(corpus: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    assert run_idclus(corpus, out, "--thresh", "0.05").returncode == 0
    assert read_identifications(out) == []
    assert out.read_text() == "label,clus\n"
    # A loose threshold names the stranger too: after the nearest reference.
    assert run_idclus(corpus, out, "--thresh", "5").returncode == 0
    assert len(read_identifications(out)) == 4


def test_prototype_past_the_end_of_a_video(corpus: dict[str, Path], tmp_path: Path) -> None:
    protos = write_protos(tmp_path / "bad.csv", [(0, 0, 10, 0), (1, 1, 900, 0)])
    out = tmp_path / "ids.csv"
    proc = skelshop("iden", "idclus", corpus["refs"], protos, corpus["corpus"], out)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {protos}: line 3: frame 900, track 0 of video 1 is "
                                   "past the end of the video (500 frames)")
    assert not out.exists()


def test_prototype_of_a_video_not_in_the_corpus(corpus: dict[str, Path], tmp_path: Path) -> None:
    protos = write_protos(tmp_path / "bad.csv", [(0, 2, 10, 0)])
    proc = skelshop("iden", "idclus", corpus["refs"], protos, corpus["corpus"],
                    tmp_path / "ids.csv")
    assert proc.returncode == 2
    assert "line 2: video 2 is not in the corpus (2 videos)" in proc.stderr


def test_other_embedder_is_refused(corpus: dict[str, Path], tmp_path: Path) -> None:
    other = write_refs(tmp_path / "other.h5", {"ada": identities(1)},
                       EmbedderInfo("facenet", "euclidean", 1.0))
    proc = skelshop("iden", "idclus", other, corpus["protos"], corpus["corpus"],
                    tmp_path / "ids.csv")
    assert proc.returncode == 2
    assert "embeddings of different models cannot be compared" in proc.stderr
