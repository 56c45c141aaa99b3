"""Video → face dump: sample frames, detect, align, track within shots, select, embed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.faces.detector import YuNetDetector
from skelshop.faces.embedder import CHIP_SIZE, DlibFaceEmbedder
from skelshop.faces.selection import face_quality, select_best
from skelshop.faces.tracker import FaceCandidate, ShotTracker, Track
from skelshop.formats.face_dump import FaceDump
from skelshop.formats.scenes import ShotList
from skelshop.media.video import FrameReader

log = logging.getLogger(__name__)

MODES = ("sparse", "full")
# 6 samples a second keeps box overlap between samples high enough for IoU tracking of
# talking heads and slow pans, at a quarter of the detector cost of 24-25 fps video.
DEFAULT_FPS = 6.0
DEFAULT_PER_TRACK = 3
# Sparse picks of one track are at least this many seconds apart when the track allows it.
MIN_PICK_GAP_SECONDS = 0.5
# How far (seconds) a box may be carried across frames without a detection.
MAX_IOU_GAP_SECONDS = 1.0
# A shot list may differ from the decoded length by this much (container rounding).
LENGTH_TOLERANCE = 0.02


@dataclass
class ExtractionStats:
    """Counts and per-stage seconds of one extraction."""

    frames_decoded: int = 0
    frames_sampled: int = 0
    shots: int = 0
    tracks: int = 0
    faces_detected: int = 0
    faces_embedded: int = 0
    faces_written: int = 0
    video_seconds: float = 0.0
    stage_seconds: dict[str, float] = field(
        default_factory=lambda: {"decode": 0.0, "detect": 0.0, "align": 0.0, "embed": 0.0}
    )

    @property
    def wall_seconds(self) -> float:
        """Sum of the timed stages."""
        return sum(self.stage_seconds.values())


class FaceExtractor:
    """Loads the models once; extracts face dumps from any number of videos."""

    def __init__(self, detector: YuNetDetector | None = None,
                 embedder: DlibFaceEmbedder | None = None):
        self.detector = detector or YuNetDetector()
        self.embedder = embedder or DlibFaceEmbedder()

    def extract(self, video: str | Path, shots: ShotList, mode: str = "sparse",
                fps: float | None = DEFAULT_FPS, per_track: int = DEFAULT_PER_TRACK,
                write_chips: bool = False, progress: bool = False,
                scenes_path: str | Path | None = None) -> tuple[FaceDump, ExtractionStats]:
        """Run the whole front end on one video and return its dump and statistics."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        reader = FrameReader(video, fps)
        info = reader.info
        _check_shots_fit(shots, info.num_frames, scenes_path)
        stats = ExtractionStats()
        timer = stats.stage_seconds
        kept: list[tuple[int, int, FaceCandidate]] = []  # (shot, track id, face)
        processed: list[int] = []
        next_track_id = 0
        current_shot = -1
        tracker: ShotTracker | None = None

        def ensure_embeddings(faces: list[FaceCandidate]) -> None:
            todo = [f for f in faces if f.embedding is None]
            if todo:
                t0 = time.perf_counter()
                vectors = self.embedder.embed([f.chip for f in todo])
                timer["embed"] += time.perf_counter() - t0
                stats.faces_embedded += len(todo)
                for face, vec in zip(todo, vectors, strict=True):
                    face.embedding = vec

        def finish_shot() -> None:
            nonlocal next_track_id
            if tracker is None:
                return
            min_gap = max(1, round(MIN_PICK_GAP_SECONDS * info.fps))
            for track in tracker.tracks:
                faces = track.faces if mode == "full" else select_best(track.faces, per_track, min_gap)
                ensure_embeddings(faces)
                kept.extend((current_shot, next_track_id, f) for f in faces)
                next_track_id += 1
                _drop_chips(track, keep={id(f) for f in faces} if write_chips else set())
            stats.tracks += len(tracker.tracks)

        bar = tqdm(total=info.num_frames or None, desc=Path(video).name, unit="frame",
                   disable=not progress, leave=False)
        frames = iter(reader)
        while True:
            t0 = time.perf_counter()
            item = next(frames, None)
            timer["decode"] += time.perf_counter() - t0
            if item is None:
                break
            index, bgr = item
            bar.update(index + 1 - bar.n)
            processed.append(index)
            shot = int(shots.shot_of(index))
            if shot != current_shot:
                finish_shot()
                current_shot = shot
                tracker = ShotTracker(ensure_embeddings, self.embedder.threshold,
                                      max_iou_gap=max(1, round(MAX_IOU_GAP_SECONDS * info.fps)))
            t0 = time.perf_counter()
            found = self.detector.detect(bgr)
            timer["detect"] += time.perf_counter() - t0
            stats.faces_detected += len(found)
            if len(found) == 0:
                continue
            t0 = time.perf_counter()
            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
            candidates = []
            for box, score in zip(found.boxes, found.scores, strict=True):
                aligned = self.embedder.align(rgb, box)
                candidates.append(FaceCandidate(
                    frame=index, box=box, score=float(score),
                    quality=face_quality(score, box, aligned.chip),
                    chip=aligned.chip, chip_bbox=aligned.chip_bbox,
                ))
            timer["align"] += time.perf_counter() - t0
            assert tracker is not None
            tracker.add_frame(candidates)
        finish_shot()
        bar.close()

        stats.frames_decoded = reader.decoded
        stats.frames_sampled = len(processed)
        stats.shots = len(shots)
        stats.video_seconds = reader.decoded / info.fps if info.fps else 0.0
        stats.faces_written = len(kept)
        _check_shots_fit(shots, reader.decoded, scenes_path)
        dump = _to_dump(kept, mode, video, reader.decoded, info.fps, self.embedder,
                        processed, write_chips)
        return dump, stats


def _drop_chips(track: Track, keep: set[int]) -> None:
    """Free the chip memory of faces whose chips will not be written."""
    for face in track.faces:
        if id(face) not in keep:
            face.chip = _NO_CHIP


_NO_CHIP = np.zeros((0, 0, 3), np.uint8)


def _check_shots_fit(shots: ShotList, num_frames: int, scenes_path: str | Path | None) -> None:
    if shots.end is None or not num_frames:
        return
    if abs(shots.end - num_frames) > max(2, LENGTH_TOLERANCE * num_frames):
        raise SkelshopError(
            scenes_path, f"scenes cover {shots.end} frames but the video has {num_frames}; "
            "is it the scenes file of another video?",
        )


def _to_dump(kept: list[tuple[int, int, FaceCandidate]], mode: str, video: str | Path,
             num_frames: int, fps: float, embedder: DlibFaceEmbedder,
             processed: list[int], write_chips: bool) -> FaceDump:
    n = len(kept)
    faces = [f for _, _, f in kept]

    def stack(values: list, shape: tuple, dtype: type) -> np.ndarray:
        return np.asarray(values, dtype=dtype).reshape((n, *shape))

    return FaceDump(
        mode=mode,
        video=str(video),
        num_frames=num_frames,
        fps=fps,
        embedder=embedder.info,
        frame=stack([f.frame for f in faces], (), np.uint32),
        pers=stack([t for _, t, _ in kept], (), np.uint32),
        embed=stack([f.embedding for f in faces], (embedder.dim,), np.float32),
        seg=stack([s for s, _, _ in kept], (), np.int32),
        bbox=stack([f.box for f in faces], (4,), np.float32),
        quality=stack([f.quality for f in faces], (), np.float32),
        chip_bbox=stack([f.chip_bbox for f in faces], (5,), np.float32),
        chip=stack([f.chip for f in faces], (CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
        if write_chips else None,
        processed_frames=np.asarray(processed, dtype=np.uint32) if mode == "full" else None,
    )
