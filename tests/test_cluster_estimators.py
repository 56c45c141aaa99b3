"""The clustering estimators: fit/predict/save/load, and cannot-links kept apart."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from skelshop.cluster.cannot_link import count_violations, group_vote
from skelshop.cluster.estimators import (
    ESTIMATORS,
    ExactDbscan,
    GraphDbscan,
    RnnDbscan,
    RnnDbscanParams,
    load_estimator,
)
from skelshop.cluster.knn import build_knn_graph
from skelshop.cluster.rnn_dbscan import NOISE, rnn_dbscan


def blobs(centres: list[float], per: int = 30, dim: int = 8, spread: float = 0.05,
          seed: int = 0) -> np.ndarray:
    """Gaussian blobs along the first axis."""
    rng = np.random.default_rng(seed)
    parts = []
    for c in centres:
        part = rng.normal(0, spread, (per, dim))
        part[:, 0] += c
        parts.append(part)
    return np.vstack(parts).astype(np.float32)


def test_each_algorithm_has_its_own_parameter_record() -> None:
    assert RnnDbscan(k=7, max_dist=0.5).params == RnnDbscanParams(k=7, max_dist=0.5)
    assert set(RnnDbscan().get_params()) == {"k", "max_dist"}
    assert set(GraphDbscan().get_params()) == {"eps", "min_samples", "k"}
    assert set(ESTIMATORS["hdbscan"]().get_params()) == {"min_samples", "n_jobs"}
    with pytest.raises(TypeError):
        RnnDbscan(eps=0.3)  # type: ignore[call-arg]


def test_fit_on_a_graph_equals_the_function_and_predict_needs_embeddings() -> None:
    x = blobs([0.0, 1.0, 2.0])
    graph = build_knn_graph(x, 5, "exact")
    model = RnnDbscan(k=5).fit(graph)
    plain = rnn_dbscan(graph, k=5)
    np.testing.assert_array_equal(model.labels_, plain.labels)
    np.testing.assert_array_equal(model.core_sample_indices_, np.flatnonzero(plain.core))
    np.testing.assert_array_equal(model.density_, plain.density)
    with pytest.raises(ValueError, match="embeddings"):
        model.predict(x)
    with pytest.raises(ValueError, match="needs the embeddings"):
        ExactDbscan().fit(graph)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_predict_follows_the_fit(name: str) -> None:
    x = blobs([0.0, 1.0])
    cls = ESTIMATORS[name]
    model = cls(eps=0.3) if "eps" in cls().get_params() else cls()
    labels = model.fit(x).labels_
    assert model.n_clusters_ == 2 and set(labels[:30]) - {NOISE} == {labels[0]}
    core = model.core_sample_indices_
    # a core node is its own nearest core node: predicting it gives its own cluster
    np.testing.assert_array_equal(model.predict(x[core]), labels[core])
    near = x[:5] + np.float32(0.01)
    assert (model.predict(near) == labels[0]).all()
    far = np.full((2, x.shape[1]), 50.0, np.float32)
    assert (model.predict(far) == NOISE).all(), "far away faces stay unassigned"


def test_rnn_predict_is_the_fit_noise_rule() -> None:
    rng = np.random.default_rng(3)
    x = np.vstack([blobs([0.0, 1.0]), rng.normal(0.5, 0.4, (15, 8)).astype(np.float32)])
    model = RnnDbscan(k=4).fit(x)
    noise = np.flatnonzero(model.labels_ == NOISE)
    assert len(noise), "the scattered points leave some noise"
    # the fit's noise points, asked again, meet the same rule with the same neighbours
    assert (model.predict(x[noise]) == NOISE).all()


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    x = blobs([0.0, 1.0, 2.0])
    model = RnnDbscan(k=5, max_dist=0.4).fit(x)
    model.save(tmp_path / "m.h5")
    back = load_estimator(tmp_path / "m.h5")
    assert isinstance(back, RnnDbscan) and back.params == model.params
    np.testing.assert_array_equal(back.labels_, model.labels_)
    new = x[::7] + np.float32(0.02)
    np.testing.assert_array_equal(back.predict(new), model.predict(new))
    assert h5py.is_hdf5(tmp_path / "m.h5")


def test_a_version_1_model_loads_with_its_parameters(tmp_path: Path) -> None:
    x = blobs([0.0, 1.0])
    model = RnnDbscan(k=4, max_dist=0.5).fit(x)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as h5:  # what version 1 wrote
        h5.attrs["fmt_ver"] = 1
        del h5.attrs["algorithm_params"]
        h5.attrs["params"] = '{"max_dist": 0.5}'
        del h5["tracks/cannot_link"]
    back = load_estimator(tmp_path / "m.h5")
    assert back.params == RnnDbscanParams(k=4, max_dist=0.5)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def tracks_of(n_faces: int, per_track: int) -> np.ndarray:
    return np.arange(n_faces) // per_track


def test_merged_people_are_split_along_their_cannot_links() -> None:
    # three people; eps so large that DBSCAN lumps A and B together, C far away
    x = blobs([0.0, 0.4, 5.0], per=30)
    groups = tracks_of(len(x), 3)  # 10 tracks of 3 faces per person
    plain = ExactDbscan(eps=0.5, min_samples=3).fit(x)
    assert plain.n_clusters_ == 2
    cannot = np.array([[0, 10], [3, 14]])  # two frames show A and B together
    model = ExactDbscan(eps=0.5, min_samples=3).fit(x, groups=groups, cannot_link=cannot)
    assert model.n_violations_fit_ == 2
    assert model.n_clusters_ == 3
    track_labels = group_vote(model.labels_, groups, 30)
    assert count_violations(track_labels, cannot) == 0
    # each person is whole: the split follows the people, not just the linked tracks
    for person in range(3):
        assert len(set(model.labels_[person * 30:(person + 1) * 30])) == 1
    # C was not involved and is untouched (as a set of faces)
    np.testing.assert_array_equal(model.labels_[60:] == model.labels_[60],
                                  plain.labels_[60:] == plain.labels_[60])


def test_a_group_shot_of_four_lumped_people_gives_four_clusters() -> None:
    x = blobs([0.0, 0.3, 0.6, 0.9], per=24, spread=0.04)
    groups = tracks_of(len(x), 3)  # 8 tracks per person
    assert ExactDbscan(eps=0.35).fit(x).n_clusters_ == 1
    shot = [0, 8, 16, 24]  # one frame shows all four
    cannot = np.array([[a, b] for i, a in enumerate(shot) for b in shot[i + 1:]])
    model = ExactDbscan(eps=0.35).fit(x, groups=groups, cannot_link=cannot)
    assert model.n_clusters_ == 4
    assert len({int(model.labels_[g * 3]) for g in shot}) == 4


def test_predict_never_puts_cannot_linked_new_tracks_together() -> None:
    x = blobs([0.0, 2.0])
    model = RnnDbscan(k=5).fit(x)
    rng = np.random.default_rng(9)
    # two new tracks both look like person A; one frame shows them together
    new = (x[:1] + rng.normal(0, 0.01, (6, 8))).astype(np.float32)
    new[3:] += np.float32(0.03)  # the second track is a little farther
    groups = np.array([0, 0, 0, 1, 1, 1])
    assert (model.predict(new) == model.labels_[0]).all()
    labels = model.predict(new, groups=groups, cannot_link=np.array([[0, 1]]))
    assert (labels[:3] == model.labels_[0]).all() and (labels[3:] == NOISE).all()


def test_several_merged_clusters_are_each_split() -> None:
    # nine clusters, each lumping two people; every one holds cannot-links (a split
    # relabels faces while later clusters are still to be found: each must be found whole)
    pairs_of_people = 9
    x = blobs([c for i in range(pairs_of_people) for c in (5.0 * i, 5.0 * i + 0.4)], per=30)
    groups = tracks_of(len(x), 3)
    assert ExactDbscan(eps=0.5).fit(x).n_clusters_ == pairs_of_people
    cannot = np.array([[20 * i + j, 20 * i + 10 + j] for i in range(pairs_of_people)
                       for j in (0, 1)])
    model = ExactDbscan(eps=0.5).fit(x, groups=groups, cannot_link=cannot)
    assert model.n_clusters_ == 2 * pairs_of_people
    assert count_violations(group_vote(model.labels_, groups, len(x) // 3), cannot) == 0
    for person in range(2 * pairs_of_people):
        assert len(set(model.labels_[person * 30:(person + 1) * 30])) == 1
