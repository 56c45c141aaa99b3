"""A group shot on the sample media: people seen together in one frame are never one cluster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelshop.cluster.cannot_link import count_violations
from skelshop.cluster.estimators import load_estimator
from skelshop.corpus.run import CorpusSettings, run_corpus
from skelshop.corpus_clustering.run import ClusSettings
from skelshop.formats.cluster_model import read_cluster_model
from skelshop.formats.corpus_identities import read_corpus_identities
from skelshop.formats.identity import NOCLUS, read_identities
from skelshop.samples.broadcast import face_grid_frames, load_face_stills, write_video
from tests.made_videos import run_cli

pytestmark = pytest.mark.slow
PEOPLE = ("obama", "biden", "cage", "audrey")


@pytest.fixture(scope="module")
def group_outdir(tmp_path_factory: pytest.TempPathFactory, sample_media: Path) -> Path:
    """A corpus of one 2-second shot of four people side by side (different stills)."""
    folder = tmp_path_factory.mktemp("group")
    stills = {s.person: s for s in load_face_stills(sample_media)}
    chosen = [stills[p] for p in PEOPLE]
    frames = (canvas for canvas, _ in face_grid_frames(chosen, (960, 360), (90,), frames=50,
                                                         per_height=len(chosen)))
    video = write_video(folder / "group.mp4", frames)
    settings = CorpusSettings(per_track=6, clustering=ClusSettings(k=3, num_protos=1))
    summary = run_corpus([video], folder / "out", settings, progress=False)
    assert summary.fatal is None and not summary.failed
    assert summary.cannot_links == len(PEOPLE) * (len(PEOPLE) - 1) // 2
    assert summary.cannot_link_violations == 0
    return folder / "out"


def test_corpus_run_gives_one_cluster_per_person(group_outdir: Path) -> None:
    rows = read_corpus_identities(group_outdir / "identities.csv")
    assert len(rows) == len(PEOPLE), [(r.seg, r.skel_id) for r in rows]
    assert len({r.label for r in rows}) == len(PEOPLE) and NOCLUS not in {r.label for r in rows}
    model = read_cluster_model(group_outdir / "model.h5")
    assert len(model.cannot_link) == len(PEOPLE) * (len(PEOPLE) - 1) // 2
    assert count_violations(model.track_label, model.cannot_link) == 0
    # the corpus model is a fitted estimator: its faces, asked again, land where they are
    estimator = load_estimator(group_outdir / "model.h5")
    assert estimator.name == "rnn-dbscan" and estimator.get_params()["k"] == 3
    core = estimator.core_sample_indices_
    assert len(core)
    np.testing.assert_array_equal(estimator.predict(model.node_embed[core]), model.labels[core])


def test_a_radius_that_lumps_everyone_still_keeps_the_group_apart(group_outdir: Path,
                                                                   tmp_path: Path) -> None:
    # eps 2.0 joins any two dlib faces: without cannot-links, one cluster of four people
    proc = run_cli("iden", "clus", "fixed", group_outdir / "corpus.csv", "--algorithm",
                   "dbscan-exact", "--eps", "2.0", "--min-samples", "2",
                   "--model-out", tmp_path / "m.h5")
    assert proc.returncode == 0, proc.stderr
    segsout = next((group_outdir / "videos").glob("*.segsout.csv"))
    labels = [r.label for r in read_identities(segsout)]
    assert len(labels) == len(PEOPLE) and len(set(labels)) == len(PEOPLE), labels
    model = read_cluster_model(tmp_path / "m.h5")
    assert model.n_clusters == len(PEOPLE) and len(model.cannot_link) == 6
    assert "the fit put 6 of them in one cluster, 0 after splitting along them" in proc.stderr
