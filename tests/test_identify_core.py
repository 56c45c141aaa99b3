"""Direct identification on synthetic embeddings: distances, scoring, assignment, checks."""

from __future__ import annotations

import numpy as np
import pytest

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import EmbedderInfo, FaceDump
from skelshop.formats.references import ReferenceSet
from skelshop.formats.scenes import ShotList
from skelshop.identify.assignment import assign_shot
from skelshop.identify.direct import DirectParams, identify_dump, identify_tracks
from skelshop.identify.distances import (
    ReferenceMatrix,
    _pair_sq_distances,
    matches_within,
    person_distances,
)
from skelshop.identify.scoring import TrackGroups, add_medians, count_matches
from skelshop.identify.settings import FaceRules

DLIB = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)
DIM = 64


def _people(rng: np.random.Generator, n: int) -> np.ndarray:
    # Spread so different people are ~1.0 apart and a person's images ~0.3 apart.
    return rng.normal(0, 1.0 / np.sqrt(2 * DIM), (n, DIM)).astype(np.float32)


def _near(rng: np.random.Generator, centre: np.ndarray, k: int, spread: float = 0.15) -> np.ndarray:
    return (centre + rng.normal(0, spread / np.sqrt(DIM), (k, DIM))).astype(np.float32)


def _brute(faces: np.ndarray, refs: ReferenceSet, metric: str) -> np.ndarray:
    out = np.full((len(faces), len(refs)), np.inf)
    for p, emb in enumerate(refs.embeddings):
        for img in emb:
            if metric == "euclidean":
                d = np.linalg.norm(faces.astype(np.float64) - img, axis=1)
            else:
                a = faces / np.linalg.norm(faces, axis=1, keepdims=True)
                d = 1.0 - a.astype(np.float64) @ (img / np.linalg.norm(img))
            out[:, p] = np.minimum(out[:, p], d)
    return out


@pytest.mark.parametrize("metric,threshold", [("euclidean", 0.6), ("cosine", 0.3)])
def test_matches_within_equals_brute_force(metric: str, threshold: float) -> None:
    rng = np.random.default_rng(1)
    centres = _people(rng, 30)
    refs = ReferenceSet(DLIB, [f"p{i}" for i in range(31)],
                        [_near(rng, c, int(rng.integers(1, 6))) for c in centres]
                        + [np.zeros((0, DIM), np.float32)])
    faces = np.concatenate([_near(rng, centres[rng.integers(30)], 1, 0.4) for _ in range(500)])
    matrix = ReferenceMatrix.from_references(refs, metric)
    want = _brute(faces, refs, metric)
    for block in (7, 1 << 16):  # many small blocks and one big one
        got = matches_within(faces, matrix, threshold, block=block)
        wf, wp = np.nonzero(want <= threshold)
        assert len(wf) > 50
        assert np.array_equal(got.face, wf) and np.array_equal(got.person, wp)
        np.testing.assert_allclose(got.dist, want[wf, wp], atol=1e-5)
    people = np.array([3, 0, 17])
    np.testing.assert_allclose(person_distances(faces[:40], matrix, people),
                               want[:40][:, people], atol=1e-5)


def test_assign_prefers_more_frames_then_smaller_median() -> None:
    # Two tracks want person 5: more matched frames wins even with a larger median.
    assert assign_shot(np.array([1, 2]), np.array([5, 5]), np.array([3, 2]),
                       np.array([0.5, 0.2])) == [(1, 5)]
    # Equal frame counts: the smaller median wins.
    assert assign_shot(np.array([1, 2]), np.array([5, 5]), np.array([2, 2]),
                       np.array([0.5, 0.2])) == [(2, 5)]
    # Track 1 fits both people; one-to-one gives each track its own person.
    pairs = assign_shot(np.array([1, 1, 2]), np.array([5, 6, 5]), np.array([3, 3, 2]),
                        np.array([0.3, 0.4, 0.3]))
    assert sorted(pairs) == [(1, 6), (2, 5)]
    # Pairs never offered are never chosen, even when the matrix forces a full assignment.
    assert assign_shot(np.array([1, 2, 2]), np.array([5, 5, 6]), np.array([4, 1, 1]),
                       np.array([0.1, 0.1, 0.1])) == [(1, 5), (2, 6)]
    assert assign_shot(np.array([], int), np.array([], int), np.array([], int),
                       np.array([])) == []


def _scene(rng: np.random.Generator, centres: np.ndarray, plan: list[list[tuple[int, int | None]]],
           per_track: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple]]:
    """Faces for shots given as [(track, person index or None for a stranger), ...]."""
    embed, seg, track, truth = [], [], [], []
    for shot, tracks in enumerate(plan):
        for tid, person in tracks:
            centre = centres[person] if person is not None else _people(rng, 1)[0]
            embed.append(_near(rng, centre, per_track))
            seg += [shot] * per_track
            track += [tid] * per_track
            if person is not None:
                truth.append((shot, tid, f"p{person}"))
    return np.concatenate(embed), np.array(seg), np.array(track), truth


def test_identify_tracks_one_to_one_per_shot() -> None:
    rng = np.random.default_rng(7)
    centres = _people(rng, 12)
    refs = ReferenceSet(DLIB, [f"p{i}" for i in range(12)] + ["nobody"],
                        [_near(rng, c, 3) for c in centres] + [np.zeros((0, DIM), np.float32)])
    plan = [[(0, 1), (1, 2)], [(0, None)], [(4, 3), (5, None), (6, 11)], [(2, 1)]]
    embed, seg, track, truth = _scene(rng, centres, plan)
    found = identify_tracks(refs, embed, seg, track, DirectParams.sparse(DLIB))
    assert [(f.seg, f.track, f.label) for f in found] == sorted(truth)
    full = DirectParams.full(DLIB)
    assert (full.min_detected_frames, full.median_threshold) == (3, 0.6)
    found = identify_tracks(refs, embed, seg, track, full)
    assert [(f.seg, f.track, f.label) for f in found] == sorted(truth)


def test_full_thresholds_need_enough_frames_and_a_low_median() -> None:
    rng = np.random.default_rng(3)
    centres = _people(rng, 2)
    refs = ReferenceSet(DLIB, ["a", "b"], [_near(rng, c, 2, 0.05) for c in centres])
    stranger = _people(rng, 1)[0]
    # Track 0: 2 faces of a, 4 strangers -> 2 matched frames and a high median.
    embed = np.concatenate([_near(rng, centres[0], 2, 0.05), _near(rng, stranger, 4, 0.05)])
    seg, track = np.zeros(6, int), np.zeros(6, int)
    main = DirectParams.sparse(DLIB, rules=FaceRules.main())
    assert identify_tracks(refs, embed, seg, track, main)[0].label == "a"
    # The default rules want most of a track's faces to agree: 2 of 6 do not.
    assert identify_tracks(refs, embed, seg, track, DirectParams.sparse(DLIB)) == []
    assert identify_tracks(refs, embed, seg, track, DirectParams.full(DLIB)) == []
    loose = DirectParams.full(DLIB, min_detected_frames=2, median_threshold=10.0,
                              rules=FaceRules.main())
    assert [f.label for f in identify_tracks(refs, embed, seg, track, loose)] == ["a"]
    tight = DirectParams.sparse(DLIB, detection_threshold=0.01)
    assert identify_tracks(refs, embed, seg, track, tight) == []


def test_defaults_come_from_the_embedder() -> None:
    other = EmbedderInfo("some_cosine_model", "cosine", 0.35)
    assert DirectParams.sparse(other).detection_threshold == 0.35
    full = DirectParams.full(other, detection_threshold=0.3)
    assert (full.detection_threshold, full.median_threshold) == (0.3, 0.35)


def _dump(embed: np.ndarray, frame: np.ndarray, pers: np.ndarray, embedder: EmbedderInfo = DLIB,
          num_frames: int = 100, seg: np.ndarray | None = None) -> FaceDump:
    return FaceDump(mode="sparse", video="v.mp4", num_frames=num_frames, fps=25.0,
                    embedder=embedder, frame=frame.astype(np.uint32), pers=pers.astype(np.uint32),
                    embed=embed, seg=seg)


def test_identify_dump_rows_times_and_refusals() -> None:
    rng = np.random.default_rng(5)
    centres = _people(rng, 2)
    refs = ReferenceSet(DLIB, ["a", "b"], [_near(rng, c, 2) for c in centres])
    embed = np.concatenate([_near(rng, centres[0], 2), _near(rng, centres[1], 2)])
    frame, pers = np.array([10, 20, 60, 70]), np.array([0, 0, 3, 3])
    shots = ShotList(np.array([0, 50]), 100)
    rows = identify_dump(refs, "ref.h5", _dump(embed, frame, pers), "f.h5", shots, "s.csv",
                         DirectParams.sparse(DLIB), with_times=True)
    assert [(r.seg, r.skel_id, r.label, r.start, r.end) for r in rows] == [
        (0, 0, "a", 0.0, 2.0), (1, 3, "b", 2.0, 4.0)]

    other = EmbedderInfo("facenet", "euclidean", 1.0)
    with pytest.raises(SkelshopError, match="embeddings of different models"):
        identify_dump(refs, "ref.h5", _dump(embed, frame, pers, other), "f.h5", shots, "s.csv",
                      DirectParams.sparse(DLIB))
    with pytest.raises(SkelshopError, match=r"scenes end at frame 100 but .* has 120 frames"):
        identify_dump(refs, "ref.h5", _dump(embed, frame, pers, num_frames=120), "f.h5", shots,
                      "s.csv", DirectParams.sparse(DLIB))
    cuts = ShotList(np.array([0, 50, 130]), None)  # an ffprobe list for a longer video
    with pytest.raises(SkelshopError, match="after the end of the video"):
        identify_dump(refs, "ref.h5", _dump(embed, frame, pers), "f.h5", cuts, "s.txt",
                      DirectParams.sparse(DLIB))
    stored = np.array([0, 0, 0, 0])  # the dump was cut differently
    with pytest.raises(SkelshopError, match=r"other shots than s\.csv"):
        identify_dump(refs, "ref.h5", _dump(embed, frame, pers, seg=stored), "f.h5", shots,
                      "s.csv", DirectParams.sparse(DLIB))


def test_counts_and_medians_match_a_direct_computation() -> None:
    rng = np.random.default_rng(11)
    centres = _people(rng, 6)
    refs = ReferenceSet(DLIB, [f"p{i}" for i in range(6)], [_near(rng, c, 3) for c in centres])
    sizes = rng.integers(1, 40, 25)  # tracks of very different lengths, as in full dumps
    who = rng.integers(0, 6, len(sizes))
    embed = np.concatenate([_near(rng, centres[p], n, 0.35) for p, n in zip(who, sizes, strict=True)])
    track = np.repeat(np.arange(len(sizes)), sizes)
    seg = track // 3
    matrix = ReferenceMatrix.from_references(refs)
    groups = TrackGroups.from_faces(seg, track)
    cands = count_matches(matches_within(embed, matrix, 0.6), groups, 1)
    cands = add_medians(cands, groups, embed, matrix)
    dist = _brute(embed, refs, "euclidean")
    assert len(cands.group) >= len(sizes)
    for g, p, count, median in zip(cands.group, cands.person, cands.count, cands.median, strict=True):
        rows = groups.faces_of(int(g))
        assert count == np.count_nonzero(dist[rows, p] <= 0.6)
        assert median == pytest.approx(np.median(dist[rows, p]), abs=1e-6)


def test_exact_pair_distances_in_chunks() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 8)).astype(np.float32), rng.normal(size=(9, 8)).astype(np.float32)
    ia, ib = rng.integers(0, 50, 100), rng.integers(0, 9, 100)
    want = ((a[ia].astype(np.float64) - b[ib]) ** 2).sum(1)
    np.testing.assert_allclose(_pair_sq_distances(a, ia, b, ib, chunk=7), want, rtol=1e-12)


def test_frame_counts_a_few_frames_apart_are_the_same_video() -> None:
    """The original's num_frames is OpenCV's container count: a few frames off the scenes."""
    rng = np.random.default_rng(6)
    centres = _people(rng, 2)
    refs = ReferenceSet(DLIB, ["a", "b"], [_near(rng, c, 2) for c in centres])
    embed = np.concatenate([_near(rng, centres[0], 2), _near(rng, centres[1], 2)])
    shots = ShotList(np.array([0, 50]), 100)
    for num_frames, last_face in [(97, 99), (103, 99), (100, 99)]:
        frame, pers = np.array([10, 20, 60, last_face]), np.array([0, 0, 3, 3])
        rows = identify_dump(refs, "ref.h5", _dump(embed, frame, pers, num_frames=num_frames),
                             "f.h5", shots, "s.csv", DirectParams.sparse(DLIB))
        assert [(r.seg, r.skel_id, r.label) for r in rows] == [(0, 0, "a"), (1, 3, "b")]
    # An ffprobe list (no end): faces a few frames past OpenCV's count join the last shot.
    cuts = ShotList(np.array([0, 50]), None)
    frame = np.array([10, 20, 60, 99])
    rows = identify_dump(refs, "ref.h5", _dump(embed, frame, np.array([0, 0, 3, 3]),
                                               num_frames=97), "f.h5", cuts, "s.txt",
                         DirectParams.sparse(DLIB))
    assert [(r.seg, r.label) for r in rows] == [(0, "a"), (1, "b")]
    with pytest.raises(SkelshopError, match=r"scenes end at frame 100 but .* has 96 frames"):
        identify_dump(refs, "ref.h5", _dump(embed, frame, np.array([0, 0, 3, 3]), num_frames=96),
                      "f.h5", shots, "s.csv", DirectParams.sparse(DLIB))
    with pytest.raises(SkelshopError, match="has faces at frame 140, past the last frame"):
        identify_dump(refs, "ref.h5", _dump(embed, np.array([10, 20, 60, 140]),
                                            np.array([0, 0, 3, 3]), num_frames=97),
                      "f.h5", cuts, "s.txt", DirectParams.sparse(DLIB))
