"""Broadcast-size extraction: one decode for cuts and faces, detection size, tracks at cuts."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from skelshop.faces.pipeline import FaceExtractor
from skelshop.faces.tracker import box_iou
from skelshop.formats.face_dump import read_face_dump, write_face_dump
from skelshop.formats.scenes import ShotList, read_shots, write_shots_csv
from skelshop.formats.shot_log import log_path, logged_records
from skelshop.samples.broadcast import Programme, Shot, matched, programme_video
from skelshop.shots.detect import detect_shots

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hd_programme(sample_media: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[Path, Programme]:
    """A 1080p programme cut hard: franck alone, a grid of stills' faces 48 and 64 px tall,
    then cap12 and carphone side by side."""
    video = tmp_path_factory.mktemp("hd") / "hd.mp4"
    shots = [Shot("single", ("franck",), 30), Shot("grid", (), 40),
             Shot("two_up", ("cap12", "carphone"), 30)]
    return video, programme_video(video, shots, sample_media, size=(1920, 1080))


def _same_dumps(a: Path, b: Path) -> None:
    with h5py.File(a) as ha, h5py.File(b) as hb:
        names_a: list[str] = []
        ha.visit(names_a.append)
        names_b: list[str] = []
        hb.visit(names_b.append)
        assert names_a == names_b
        for name in names_a:
            if isinstance(ha[name], h5py.Dataset):
                assert np.array_equal(ha[name][()], hb[name][()]), name
        assert dict(ha.attrs) == dict(hb.attrs)


def test_one_decode_gives_the_cuts_and_faces_of_two_passes(
        hd_programme: tuple[Path, Programme], face_extractor: FaceExtractor,
        tmp_path: Path) -> None:
    """Same scenes CSV bytes as `shots detect`, same dump as `face embed` on those scenes."""
    video, prog = hd_programme
    shots, fps = detect_shots(video)
    write_shots_csv(tmp_path / "two-pass.csv", shots, fps)
    assert shots.starts.tolist() == prog.shot_starts
    two_pass, _ = face_extractor.extract(video, read_shots(tmp_path / "two-pass.csv"),
                                         write_chips=True)
    write_face_dump(tmp_path / "two-pass.h5", two_pass)
    one_pass, found, stats = face_extractor.extract_with_shots(
        video, tmp_path / "one-pass.csv", write_chips=True)
    write_face_dump(tmp_path / "one-pass.h5", one_pass)
    assert (tmp_path / "one-pass.csv").read_bytes() == (tmp_path / "two-pass.csv").read_bytes()
    assert found.starts.tolist() == prog.shot_starts and stats.shots == 3
    _same_dumps(tmp_path / "two-pass.h5", tmp_path / "one-pass.h5")
    dump = read_face_dump(tmp_path / "one-pass.h5")
    assert dump.seg is not None and (dump.seg == found.shot_of(dump.frame)).all()
    for track in np.unique(dump.pers):  # no track crosses the cut
        assert len(set(dump.seg[dump.pers == track].tolist())) == 1


def test_default_detection_size_keeps_faces_of_40_px_on_1080p(
        hd_programme: tuple[Path, Programme], face_extractor: FaceExtractor) -> None:
    """Detected at 816 px (17/40 of 1920), the placed faces >= 40 px tall are found."""
    video, prog = hd_programme
    dump, _, _ = face_extractor.extract_with_shots(video, mode="full", fps=3)
    assert dump.extra_attrs["min_face"] == 40 and dump.extra_attrs["detect_side"] == 816
    assert dump.processed_frames is not None and dump.bbox is not None
    hits = total = 0
    for frame in dump.processed_frames.tolist():
        truth = [f for f in prog.faces if f.frame == frame and f.height >= 40]
        found = matched(truth, dump.bbox[dump.frame == frame])
        hits, total = hits + int(found.sum()), total + len(truth)
    assert total >= 40 and hits / total >= 0.98, (hits, total)


KILLED_RUN = """
import sys
from skelshop.faces.pipeline import FaceExtractor
FaceExtractor().extract_with_shots(sys.argv[1], sys.argv[2], faces_out=sys.argv[3],
                                   write_chips=True, extra_attrs={"note": "x"})
"""


def test_killed_run_resumes_after_its_last_shot_to_the_same_dump(
        sample_media: Path, face_extractor: FaceExtractor, tmp_path: Path) -> None:
    """SIGKILL once two shots are checkpointed; the rerun goes on from there, same dump."""
    video = tmp_path / "prog.mp4"
    sources = ("franck", "cap12", "carphone", "cap13")
    programme_video(video, [Shot("single", (sources[i % 4],), 30) for i in range(8)],
                    sample_media, size=(640, 360))
    out = tmp_path / "killed.faces.h5"
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(video),
                              str(tmp_path / "killed.csv"), str(out)])
    try:
        while logged_records(out) < 2 and child.poll() is None:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not out.exists() and log_path(out).exists()
    _, _, stats = face_extractor.extract_with_shots(
        video, tmp_path / "killed.csv", faces_out=out, write_chips=True,
        extra_attrs={"note": "x"})
    assert stats.resumed_at >= 30 and not log_path(out).exists()
    whole = tmp_path / "whole.faces.h5"
    face_extractor.extract_with_shots(video, tmp_path / "whole.csv", faces_out=whole,
                                      write_chips=True, extra_attrs={"note": "x"})
    assert (tmp_path / "killed.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    _same_dumps(whole, out)
    # ... and the same as the dump of a run without checkpoints
    dump, _, _ = face_extractor.extract_with_shots(video, write_chips=True)
    dump.extra_attrs["note"] = "x"
    write_face_dump(tmp_path / "memory.faces.h5", dump)
    _same_dumps(whole, tmp_path / "memory.faces.h5")
    assert len(read_face_dump(whole)) > 0


def test_two_people_at_one_position_never_share_a_track(
        sample_media: Path, face_extractor: FaceExtractor, tmp_path: Path) -> None:
    """franck and capman alternate full frame, cut hard, and the cut detector is off (one
    shot): their boxes overlap across each switch, but every track is one person."""
    video = tmp_path / "interview.mp4"
    prog = programme_video(video, [Shot("single", (("franck", "cap12")[i % 2],), 24)
                                   for i in range(4)], sample_media, size=(640, 360))
    # The test can fail: across each switch the two faces overlap enough for IoU tracking.
    for switch in prog.shot_starts[1:]:
        before = [f for f in prog.faces if f.frame == switch - 1]
        after = [f for f in prog.faces if f.frame == switch]
        assert before and after
        assert box_iou(np.asarray([before[0].box]), np.asarray([after[0].box]))[0, 0] >= 0.3
    one_shot = ShotList.from_cuts([], None)
    dump, stats = face_extractor.extract(video, one_shot, mode="full")
    assert dump.bbox is not None and len(dump) > 20
    people: dict[int, set[str]] = {}
    for frame, track, box in zip(dump.frame.tolist(), dump.pers.tolist(), dump.bbox,
                                 strict=True):
        truth = [f for f in prog.faces if f.frame == frame]
        overlap = box_iou(np.asarray([f.box for f in truth]), box[None])[:, 0]
        assert overlap.max() >= 0.4
        people.setdefault(track, set()).add(truth[int(overlap.argmax())].person)
    assert all(len(who) == 1 for who in people.values()), people
    # Split at each switch; each person's later stretches rejoin their first track (relink).
    assert sorted(map(sorted, people.values())) == [["capman"], ["franck"]]
    assert stats.tracks == 2
