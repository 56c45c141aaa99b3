"""The per-video task of a corpus run: shots, then faces; one model load per process."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from skelshop.corpus.artifacts import VideoArtifacts, faces_finished, source_stamp
from skelshop.errors import SkelshopError
from skelshop.faces.pipeline import FaceExtractor
from skelshop.formats.face_dump import write_face_dump
from skelshop.formats.scenes import read_shots, write_shots_csv
from skelshop.shots.detect import detect_shots

_EXTRACTOR: FaceExtractor | None = None


def _extractor() -> FaceExtractor:
    """The models of this process, loaded on first use."""
    global _EXTRACTOR
    if _EXTRACTOR is None:
        _EXTRACTOR = FaceExtractor()
    return _EXTRACTOR


@dataclass
class VideoResult:
    """What happened to one video."""

    video: Path
    status: str  # "done" | "skipped" (already finished) | "failed"
    error: str = ""
    shots: int = 0
    tracks: int = 0
    faces: int = 0
    video_seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    pid: int = field(default_factory=os.getpid)  # the process that ran the task


def process_video(art: VideoArtifacts, mode: str, fps: float, per_track: int) -> VideoResult:
    """Make the scenes file and face dump of one video unless they are already finished."""
    settings = {"sample_fps": float(fps), "per_track": int(per_track)}
    if faces_finished(art, mode, settings):
        return VideoResult(art.video, "skipped")
    try:
        t0 = time.perf_counter()
        shots, fps_video = detect_shots(art.video)
        write_shots_csv(art.scenes, shots, fps_video)
        shot_seconds = time.perf_counter() - t0
        dump, stats = _extractor().extract(art.video, read_shots(art.scenes), mode=mode,
                                           fps=fps or None, per_track=per_track,
                                           write_chips=mode == "sparse",
                                           scenes_path=art.scenes)
        dump.extra_attrs.update(source_stamp(art.video))
        dump.extra_attrs.update(settings)
        write_face_dump(art.faces, dump)
    except SkelshopError as err:
        return VideoResult(art.video, "failed", str(err))
    return VideoResult(art.video, "done", shots=stats.shots, tracks=stats.tracks,
                       faces=stats.faces_written, video_seconds=stats.video_seconds,
                       stage_seconds={"shots": shot_seconds, **stats.stage_seconds})
