"""Extraction in stages on threads: the dump of the in-line run, detection off the main thread."""

from __future__ import annotations

import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

from skelshop.faces.detector import Detections, YuNetDetector
from skelshop.faces.pipeline import FaceExtractor
from skelshop.samples.broadcast import Shot, programme_video

pytestmark = pytest.mark.slow


class _ThreadNotingDetector(YuNetDetector):
    """The real detector, noting which thread each call ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()


    def detect(self, bgr: np.ndarray, max_side: int | None = None) -> Detections:
        """Detect as YuNetDetector does."""
        self.threads.add(threading.current_thread().name)
        return super().detect(bgr, max_side)


def _datasets(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path) as h5:
        names: list[str] = []
        h5.visit(names.append)
        return {name: h5[name][()] for name in names if isinstance(h5[name], h5py.Dataset)}


def test_threaded_stages_write_the_in_line_dump(sample_media: Path,
                                                face_extractor: FaceExtractor,
                                                tmp_path: Path) -> None:
    """FFmpeg, cut detection, face detection and the face pass on four threads give the
    one-thread dump (and the same scenes file)."""
    video = tmp_path / "prog.mp4"
    programme_video(video, [Shot("two_up", ("cap12", "carphone"), 30),
                            Shot("single", ("franck",), 30)], sample_media, size=(1280, 720))
    detector = _ThreadNotingDetector()
    extractor = FaceExtractor(detector=detector, embedder=face_extractor.embedder)
    dumps = {}
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        detector.threads.clear()
        _, shots, stats = extractor.extract_with_shots(
            video, out / "s.csv", faces_out=out / "f.h5", write_chips=True, threads=threads)
        assert len(shots) == 2 and stats.faces_written > 0
        expected = {threading.main_thread().name} if threads == 1 else {"skelshop-detect"}
        assert detector.threads == expected
        dumps[threads] = _datasets(out / "f.h5")
        assert (out / "s.csv").read_bytes() == (tmp_path / "t1" / "s.csv").read_bytes()
    assert dumps[1].keys() == dumps[2].keys()
    for name, values in dumps[1].items():
        assert np.array_equal(values, dumps[2][name]), name


def test_ffmpeg_decodes_in_its_own_thread_with_the_same_events(sample_media: Path,
                                                               tmp_path: Path) -> None:
    """With a decode thread the cut detector and the face pass see the same events, in order,
    and FFmpeg's frames come from the thread `skelshop-ffmpeg`."""
    from skelshop.faces.pipeline import _decode_events
    from skelshop.media.video import FrameReader
    from skelshop.shots.detect import default_cut_detector

    video = tmp_path / "prog.mp4"
    programme_video(video, [Shot("single", ("franck",), 40), Shot("single", ("cap12",), 40),
                            Shot("two_up", ("cap13", "carphone"), 40)], sample_media,
                    size=(640, 360))
    runs = {}
    for own_thread in (False, True):
        reader = FrameReader(video, 6.0, threads=1)
        decoding_threads: set[str] = set()
        frames = reader.frames

        def noted(frames=frames, seen=decoding_threads):
            for step in frames():
                seen.add(threading.current_thread().name)
                yield step

        reader.frames = noted  # type: ignore[method-assign]
        detector = default_cut_detector(reader.info.fps, reader.info.width)
        timer = {"decode": 0.0}
        runs[own_thread] = [e if isinstance(e, int) else ("frame", e.index)
                            for e in _decode_events(reader, detector, timer, own_thread)]
        assert decoding_threads == ({"skelshop-ffmpeg"} if own_thread
                                    else {threading.main_thread().name})
        assert timer["decode"] > 0 and timer["cuts"] > 0
    assert runs[True] == runs[False]
    assert [e for e in runs[True] if isinstance(e, int)] == [40, 80]
