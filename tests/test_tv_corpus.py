"""The TV corpus generator: its truth agrees with what it draws, and its scoring counts right."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from skelshop.samples.broadcast import Programme, Shot, programme_video
from skelshop.samples.tv_corpus import (
    DISTRACTORS,
    FRIENDS,
    KNOWN,
    TV_PROGRAMMES,
    build_tv_references,
    score_shots,
    shot_truths,
    true_cuts,
)

SHOTS = [
    Shot("single", ("franck",), 30),
    Shot("photo", (), 30, photo=FRIENDS, scale=0.6, zoom=0.3, enter="dissolve", enter_frames=12),
    Shot("single", ("bikes",), 20),
    Shot("grid", (), 30, people=("obama", "audrey"), enter="fade", enter_frames=12),
]


@pytest.fixture(scope="module")
def small_programme(sample_media: Path, tmp_path_factory: pytest.TempPathFactory
                    ) -> tuple[Path, Programme]:
    """A 4-s 720p programme: a talking head, a group photo, a faceless shot, a grid."""
    path = tmp_path_factory.mktemp("tv") / "small.mp4"
    return path, programme_video(path, SHOTS, sample_media)


@pytest.mark.slow
def test_truth_matches_the_frames_drawn(small_programme: tuple[Path, Programme]) -> None:
    path, prog = small_programme
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == prog.num_frames == 110
    # Gradual transitions are cut at their middle, hard cuts where they are.
    assert prog.shot_starts == [0, 36, 60, 86]
    assert true_cuts(prog) == [(36, "dissolve12"), (60, "cut"), (86, "fade12")]
    truths = shot_truths(prog)
    assert [sorted(t.people) for t in truths] == [
        ["franck"], [f"t1_{k}" for k in range(6)], [], ["audrey", "obama"]]
    assert [sorted(t.known) for t in truths] == [["franck"], [], [], ["audrey", "obama"]]
    assert truths[1].strangers == truths[1].people and not truths[2].people
    # Every face placed lies in the picture, in a frame of the shot whose people hold it
    # (blended frames carry the faces of the shot the frame belongs to).
    width, height = prog.size
    for face in prog.faces:
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        shot = int(np.searchsorted(prog.shot_starts, face.frame, side="right") - 1)
        assert face.person in truths[shot].people
    # The zoom enlarges the photo's faces over its shot.
    sizes = [f.height for f in prog.faces if f.person == "t1_0"]
    assert sizes[-1] > 1.2 * sizes[0]


@pytest.mark.slow
def test_scores_count_spread_names_and_strangers(small_programme: tuple[Path, Programme]
                                                 ) -> None:
    _, prog = small_programme
    perfect = score_shots(prog, np.asarray(prog.shot_starts),
                          {0: {"franck"}, 3: {"obama", "audrey"}})
    assert (perfect.true_pos, perfect.false_pos, perfect.false_neg) == (3, 0, 0)
    assert perfect.f1 == 1.0 and perfect.stranger_shots == 1 and perfect.empty_shots == 1
    # The dissolve missed: the talking head's name spreads over the group photo.
    missed = score_shots(prog, np.asarray([0, 60, 86]), {0: {"franck"}, 2: {"obama"}})
    assert (missed.true_pos, missed.false_pos, missed.false_neg) == (2, 1, 1)
    assert missed.stranger_shots_named == 1 and missed.empty_shots_named == 0
    # A stranger named after a distractor in the faceless shot.
    wrong = score_shots(prog, np.asarray(prog.shot_starts), {2: {"biden"}})
    assert wrong.empty_shots_named == 1 and wrong.false_neg == 3


def test_references_and_programmes_are_consistent(sample_media: Path, tmp_path: Path) -> None:
    refs = build_tv_references(tmp_path / "refs", sample_media)
    folders = {p.name: sorted(p.iterdir()) for p in refs.iterdir()}
    assert set(folders) == KNOWN | DISTRACTORS
    assert all(files and all(f.suffix in (".jpg", ".png") for f in files)
               for files in folders.values())
    assert len(folders["capman"]) == 3 and len(folders["franck"]) == 6
    # A second build adds nothing and rewrites nothing.
    stamps = {f: f.stat().st_mtime_ns for files in folders.values() for f in files}
    build_tv_references(refs, sample_media)
    assert {f: f.stat().st_mtime_ns for f in stamps} == stamps
    # Distractors never appear; every programme shows known people and strangers.
    for shots in TV_PROGRAMMES.values():
        shown = {p for s in shots for p in s.people}
        assert not shown & DISTRACTORS
        assert any(s.layout == "photo" for s in shots)
        assert {s.enter for s in shots[1:]} >= {"dissolve"}
