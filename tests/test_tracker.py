"""Tracking within a shot and best-face selection, on synthetic detections."""

import numpy as np

from skelshop.faces.selection import select_best
from skelshop.faces.tracker import FaceCandidate, ShotTracker, box_iou

CHIP = np.zeros((150, 150, 3), np.uint8)


def _person(seed: int) -> np.ndarray:
    vec = np.random.default_rng(seed).normal(size=128)
    return (vec / np.linalg.norm(vec)).astype(np.float32)


PEOPLE = {"a": _person(1), "b": _person(2)}


def _face(frame: int, box: tuple, who: str, quality: float = 1.0) -> FaceCandidate:
    face = FaceCandidate(frame, np.array(box, np.float32), 0.9, quality, CHIP, np.zeros(5))
    face.who = who  # ground truth the test's embedding function reads
    return face


class CountingEmbedder:
    """Gives each face its person's vector (plus small noise) and counts the calls."""

    def __init__(self) -> None:
        self.embedded = 0
        self.rng = np.random.default_rng(0)

    def __call__(self, faces: list[FaceCandidate]) -> None:
        for face in faces:
            if face.embedding is None:
                self.embedded += 1
                face.embedding = PEOPLE[face.who] + self.rng.normal(scale=0.01, size=128)


def _tracks_by_person(tracker: ShotTracker) -> list[set[str]]:
    return [{f.who for f in t.faces} for t in tracker.tracks]


def test_iou_matrix() -> None:
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0]])


def test_two_separate_people_need_no_embeddings() -> None:
    emb = CountingEmbedder()
    tracker = ShotTracker(emb, same_person=0.6)
    for t in range(10):
        tracker.add_frame([_face(t, (10 + t, 10, 60 + t, 60), "a"),
                           _face(t, (200 - t, 10, 250 - t, 60), "b")])
    assert _tracks_by_person(tracker) == [{"a"}, {"b"}]
    assert all(len(t.faces) == 10 for t in tracker.tracks)
    assert emb.embedded == 0


def test_overlapping_people_are_told_apart_by_embedding() -> None:
    emb = CountingEmbedder()
    tracker = ShotTracker(emb, same_person=0.6, min_iou=0.1)
    tracker.add_frame([_face(0, (0, 0, 50, 50), "a"), _face(0, (30, 0, 80, 50), "b")])
    # Next frame: both boxes overlap both previous boxes; listed in swapped order.
    tracker.add_frame([_face(1, (28, 0, 78, 50), "b"), _face(1, (2, 0, 52, 50), "a")])
    tracker.add_frame([_face(2, (15, 0, 65, 50), "b"), _face(2, (14, 0, 64, 50), "a")])
    assert _tracks_by_person(tracker) == [{"a"}, {"b"}]
    assert emb.embedded > 0


def test_reappearing_person_rejoins_and_stranger_does_not() -> None:
    emb = CountingEmbedder()
    tracker = ShotTracker(emb, same_person=0.6, max_iou_gap=3)
    tracker.add_frame([_face(0, (0, 0, 50, 50), "a")])
    tracker.add_frame([_face(1, (2, 0, 52, 50), "a")])
    tracker.add_frame([_face(20, (300, 0, 350, 50), "a")])  # far away, long gap
    tracker.add_frame([_face(21, (100, 100, 150, 150), "b")])
    assert _tracks_by_person(tracker) == [{"a"}, {"b"}]
    assert len(tracker.tracks[0].faces) == 3


def test_select_best_prefers_quality_and_spreads_frames() -> None:
    faces = [_face(f, (0, 0, 10, 10), "a", quality=q)
             for f, q in [(0, 0.5), (1, 0.9), (2, 0.95), (3, 0.2), (30, 0.6), (60, 0.7)]]
    chosen = select_best(faces, per_track=3, min_gap=12)
    assert [f.frame for f in chosen] == [2, 30, 60]


def test_select_best_keeps_a_single_sighting() -> None:
    only = [_face(5, (0, 0, 10, 10), "a")]
    assert select_best(only, per_track=3, min_gap=12) == only


def test_short_track_still_gets_several_faces() -> None:
    faces = [_face(f, (0, 0, 10, 10), "a", quality=1.0 - f / 10) for f in range(4)]
    assert len(select_best(faces, per_track=3, min_gap=12)) == 3
