"""The detection schedule: whole frames now and then, crops around the faces in between.

Real YuNet on 720p frames made from the sample stills' faces on a moving background.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelshop.faces.detect_schedule import DetectionSchedule, full_every_samples
from skelshop.faces.detector import YuNetDetector
from skelshop.faces.settings import DEFAULT_MIN_FACE, detection_side
from skelshop.faces.tracker import box_iou
from skelshop.samples.broadcast import FaceStill, _background, load_face_stills, paste_face

SIZE = (1280, 720)
SIDE = detection_side(*SIZE, DEFAULT_MIN_FACE)


@pytest.fixture(scope="module")
def stills(sample_media: Path) -> list[FaceStill]:
    return load_face_stills(sample_media)


@pytest.fixture(scope="module")
def detector() -> YuNetDetector:
    return YuNetDetector()


def _frame(stills: list[FaceStill], index: int, faces: list[tuple[int, float, float]],
           background_shift: int = 0) -> tuple[np.ndarray, list]:
    """A BGR frame with faces (still, height, x) drifting 3 px a frame; their boxes."""
    rgb = _background(*SIZE, index + background_shift)
    boxes = []
    for still, height, x in faces:
        box = paste_face(rgb, stills[still % len(stills)], height, (x + 3 * index, 200))
        assert box is not None
        boxes.append(box)
    return np.ascontiguousarray(rgb[:, :, ::-1]), boxes


def _found_all(found: np.ndarray, truth: list, min_iou: float = 0.5) -> bool:
    return len(found) >= len(truth) and bool(
        (box_iou(np.asarray(truth), found).max(axis=1) >= min_iou).all())


def test_crops_find_the_faces_a_whole_frame_finds(stills: list[FaceStill],
                                                  detector: YuNetDetector) -> None:
    """Three faces (60, 120, 240 px) over 12 samples: the same faces every sample, two
    whole-frame detections (samples 0 and 6), crops in between."""
    schedule = DetectionSchedule(detector, SIDE, full_every=6)
    faces = [(0, 60, 100), (1, 120, 500), (2, 240, 850)]
    for i in range(12):
        bgr, truth = _frame(stills, i, faces)
        found = schedule.detect(bgr)
        whole = detector.detect(bgr, SIDE)
        assert _found_all(found.boxes, truth), (i, found.boxes, truth)
        assert len(found) == len(whole), i
        iou = box_iou(whole.boxes, found.boxes).max(axis=1)
        assert (iou >= 0.7).all(), (i, iou)
    assert (schedule.counts.full, schedule.counts.regions) == (2, 10)
    assert schedule.counts.crops == 30


def test_a_face_entering_is_found_at_the_next_whole_frame(stills: list[FaceStill],
                                                          detector: YuNetDetector) -> None:
    """A 70-px face appears at sample 2 of an unchanged view: crops around the first face
    do not see it, the whole frame at sample 4 does; detecting every sample whole finds it
    at once."""
    for full_every, first_seen in ((4, 4), (1, 2)):
        schedule = DetectionSchedule(detector, SIDE, full_every=full_every)
        seen = None
        for i in range(6):
            faces = [(0, 200, 100)] + ([(3, 70, 800)] if i >= 2 else [])
            bgr, truth = _frame(stills, i, faces)
            found = schedule.detect(bgr)
            if seen is None and len(found) and box_iou(np.asarray(truth[-1:]), found.boxes
                                                       ).max() >= 0.5 and i >= 2:
                seen = i
        assert seen == first_seen, (full_every, seen)


def test_a_change_of_view_or_a_cut_detects_the_whole_frame(stills: list[FaceStill],
                                                           detector: YuNetDetector) -> None:
    schedule = DetectionSchedule(detector, SIDE, full_every=100)
    one = [(0, 150, 200)]
    for i in range(3):
        schedule.detect(_frame(stills, i, one)[0])
    assert schedule.counts.full == 1
    # another picture (the background moved on by half its period, a face elsewhere): the
    # crops would look where no face is any more
    bgr, truth = _frame(stills, 3, [(1, 150, 800)], background_shift=125)
    found = schedule.detect(bgr)
    assert schedule.counts.full == 2 and _found_all(found.boxes, truth)
    schedule.detect(_frame(stills, 4, [(1, 150, 800)], background_shift=125)[0])
    assert schedule.counts.full == 2
    schedule.cut()
    schedule.detect(_frame(stills, 5, [(1, 150, 800)], background_shift=125)[0])
    assert schedule.counts.full == 3


def test_many_small_faces_are_cheaper_whole(stills: list[FaceStill],
                                            detector: YuNetDetector) -> None:
    """A grid of 24 faces 50 px tall: crops would cost more than the frame; whole every time."""
    faces = [(k, 50, 60 + 48 * k) for k in range(24)]
    schedule = DetectionSchedule(detector, SIDE, full_every=6)
    for i in range(4):
        schedule.detect(_frame(stills, i, faces)[0])
    assert (schedule.counts.full, schedule.counts.regions) == (4, 0)


def test_nothing_to_look_around_costs_nothing_until_the_next_whole_frame(
        detector: YuNetDetector) -> None:
    schedule = DetectionSchedule(detector, SIDE, full_every=3)
    for i in range(6):
        found = schedule.detect(np.ascontiguousarray(_background(*SIZE, i)[:, :, ::-1]))
        assert len(found) == 0
    assert (schedule.counts.full, schedule.counts.regions, schedule.counts.crops) == (2, 4, 0)


def test_full_every_samples() -> None:
    assert full_every_samples(1.0, 6.0) == 6
    assert full_every_samples(0.0, 6.0) == 1
    assert full_every_samples(0.1, 6.0) == 1
    assert full_every_samples(2.0, 25.0) == 50
