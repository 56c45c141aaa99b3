"""The per-video task of a corpus run: shots, then faces; one model load per process."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from skelshop.corpus.artifacts import VideoArtifacts, faces_finished, source_stamp
from skelshop.errors import SkelshopError
from skelshop.faces.models import DEFAULT_EMBEDDER, DEFAULT_EMBEDDER_BACKEND, make_embedder
from skelshop.faces.pipeline import FaceExtractor
from skelshop.faces.settings import DEFAULT_FULL_DETECT, DEFAULT_MIN_FACE
from skelshop.formats.face_dump import read_face_dump
from skelshop.formats.scenes import read_shots
from skelshop.shots.detect import default_cut_detector

_EXTRACTOR: FaceExtractor | None = None


def _extractor(embedder: str = DEFAULT_EMBEDDER,
               backend: str = DEFAULT_EMBEDDER_BACKEND) -> FaceExtractor:
    """The models of this process, loaded on first use (again only if another is asked for)."""
    global _EXTRACTOR
    if (_EXTRACTOR is None or _EXTRACTOR.embedder.name != embedder
            or _EXTRACTOR.embedder.backend != backend):
        _EXTRACTOR = FaceExtractor(embedder=make_embedder(embedder, backend))
    return _EXTRACTOR


def cut_detector_name() -> str:
    """The cut detector that makes a corpus run's shots (`shots.detect.default_cut_detector`),
    as stored in each dump: a dump whose shots another detector found is made again."""
    detector = default_cut_detector(25.0, 0)  # cheap: no frame is seen
    kind = type(detector)
    return f"{kind.__name__}/{getattr(kind, 'VERSION', 1)}"


def dump_settings(fps: float, per_track: int, min_face: int,
                  full_detect: float = DEFAULT_FULL_DETECT) -> dict[str, float | int | str]:
    """What a corpus run stores in each dump and compares on the next run (`faces_finished`):
    a changed setting, or shots found by another cut detector, redoes the video."""
    return {"sample_fps": float(fps), "per_track": int(per_track), "min_face": int(min_face),
            "full_detect": float(full_detect), "cut_detector": cut_detector_name()}


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
    stage_seconds: dict[str, float] = field(default_factory=dict)  # stages overlap (threads)
    seconds: float = 0.0  # wall-clock seconds the video took
    pid: int = field(default_factory=os.getpid)  # the process that ran the task


def process_video(art: VideoArtifacts, mode: str, fps: float, per_track: int,
                  embedder: str = DEFAULT_EMBEDDER,
                  backend: str = DEFAULT_EMBEDDER_BACKEND,
                  min_face: int = DEFAULT_MIN_FACE, threads: int | None = None,
                  full_detect: float = DEFAULT_FULL_DETECT) -> VideoResult:
    """Make the scenes file and face dump of one video unless they are already finished."""
    settings = dump_settings(fps, per_track, min_face, full_detect)
    if faces_finished(art, mode, settings):
        return stored_result(art)
    try:
        # One decode for cuts and faces (the scenes file is what `shots detect` writes); the
        # dump is checkpointed per shot, so a killed run goes on after its last finished shot.
        _, _, stats = _extractor(embedder, backend).extract_with_shots(
            art.video, art.scenes, mode=mode, fps=fps or None, per_track=per_track,
            write_chips=mode == "sparse", min_face=min_face, full_detect=full_detect,
            threads=threads,
            faces_out=art.faces, extra_attrs={**source_stamp(art.video), **settings})
    except SkelshopError as err:
        return VideoResult(art.video, "failed", str(err))
    except OSError as err:  # a full disk, a folder made read-only mid-run: this video only
        where = err.filename or art.faces
        return VideoResult(art.video, "failed",
                           f"{art.video}: cannot write {where}: {err.strerror or err}")
    return VideoResult(art.video, "done", shots=stats.shots, tracks=stats.tracks,
                       faces=stats.faces_written, video_seconds=stats.video_seconds,
                       stage_seconds=dict(stats.stage_seconds), seconds=stats.wall_seconds)


def stored_result(art: VideoArtifacts) -> VideoResult:
    """A finished video's counts as its stored scenes file and dump hold them."""
    try:
        dump = read_face_dump(art.faces)
        shots = len(read_shots(art.scenes))
    except SkelshopError as err:
        return VideoResult(art.video, "failed", str(err))
    segs = dump.seg.tolist() if dump.seg is not None else [0] * len(dump)
    tracks = len(set(zip(segs, dump.pers.tolist(), strict=True)))  # (shot, track) pairs
    return VideoResult(art.video, "skipped", shots=shots, tracks=tracks, faces=len(dump),
                       video_seconds=dump.num_frames / dump.fps if dump.fps else 0.0)
