"""Content-based cut detection: PySceneDetect's ContentDetector fed with our decoded frames.

We decode the frames ourselves (media.video) and hand them to the detector with their decoded
index, so cut frame numbers are decoded frame indices like everywhere else in skelshop.
PySceneDetect's own video backends number frames from timestamps at the average rate, which
on variable-frame-rate video gives numbers that no decoder reproduces.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
from scenedetect import ContentDetector, FrameTimecode
from scenedetect.scene_manager import compute_downscale_factor
from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.formats.scenes import ShotList
from skelshop.media.video import VideoDecoder
from skelshop.shots.downscale import downscaled
from skelshop.shots.settings import DEFAULT_MIN_SHOT_FRAMES, DEFAULT_THRESHOLD
from skelshop.shots.transitions import TransitionDetector

__all__ = ["DEFAULT_MIN_SHOT_FRAMES", "DEFAULT_THRESHOLD", "CutDetector", "default_cut_detector",
           "detect_shots"]

log = logging.getLogger(__name__)


def check_detect_settings(threshold: float, min_shot_frames: int) -> None:
    """Refuse settings that make no sense (a negative or NaN threshold, a negative length)."""
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise SkelshopError(None, f"--threshold must be a positive number, not {threshold}")
    if int(min_shot_frames) != min_shot_frames or min_shot_frames < 1:
        raise SkelshopError(None, f"--min-shot-frames must be a whole number >= 1, "
                                  f"not {min_shot_frames}")


class CutDetector:
    """Cut detection over frames given one at a time, in decoding order.

    Frames are downscaled as PySceneDetect's SceneManager does (to a width of about 256 px)
    before ContentDetector sees them, so cuts match `scenedetect` on constant-rate video.
    """

    def __init__(self, fps: float, width: int, threshold: float = DEFAULT_THRESHOLD,
                 min_shot_frames: int = DEFAULT_MIN_SHOT_FRAMES):
        check_detect_settings(threshold, min_shot_frames)
        self._rate = Fraction(fps).limit_denominator(100000) if fps > 0 else Fraction(25)
        self._detector = ContentDetector(threshold=float(threshold),
                                         min_scene_len=int(min_shot_frames))
        self._downscale = float(compute_downscale_factor(width)) if width > 0 else 1.0
        self._min_shot_frames = int(min_shot_frames)
        self._cuts: list[int] = []
        self.frames = 0

    def small(self, bgr: np.ndarray) -> np.ndarray:
        """The frame as the detector sees it (downscaled, BGR)."""
        return downscaled(bgr, self._downscale)

    @property
    def lag(self) -> int:
        """Frames a cut may be reported after it: after frame n is added, no cut at or
        before n - lag is still to come (the minimum-shot-length filter delays cuts)."""
        behind = getattr(getattr(self._detector, "_flash_filter", None), "max_behind", None)
        return (int(behind) if behind is not None else self._min_shot_frames) + 1

    def add(self, index: int, bgr: np.ndarray) -> list[int]:
        """Look at the next decoded frame (full size, BGR); returns the cuts it confirms."""
        timecode = FrameTimecode(int(index), self._rate)
        found = [_frame_of(cut) for cut in self._detector.process_frame(timecode, self.small(bgr))]
        self._cuts.extend(found)
        self.frames = index + 1
        return found

    def flush(self) -> list[int]:
        """After the last frame: the cuts still held back (the filter's last one)."""
        end = FrameTimecode(max(self.frames - 1, 0), self._rate)
        found = [_frame_of(cut) for cut in self._detector.post_process(end)]
        self._cuts.extend(found)
        return found

    def shots(self) -> ShotList:
        """The shots of the frames seen (call after `flush`; no cut = one shot)."""
        return ShotList.from_cuts(sorted(set(self._cuts)), self.frames)

    def finish(self) -> ShotList:
        """Flush and return the shots of the frames seen (a video with no cut is one shot)."""
        self.flush()
        return self.shots()


def default_cut_detector(fps: float, width: int, threshold: float = DEFAULT_THRESHOLD,
                         min_shot_frames: int = DEFAULT_MIN_SHOT_FRAMES) -> TransitionDetector:
    """The cut detector of `shots detect`, `face embed` and `corpus run`: hard cuts (this
    module's ContentDetector, same frames and settings), dissolves and fades."""
    return TransitionDetector(fps, width, threshold, min_shot_frames)


def _frame_of(cut: object) -> int:
    return int(cut.frame_num) if hasattr(cut, "frame_num") else int(cut)  # type: ignore[attr-defined, call-overload]


def detect_shots(video: str | Path, threshold: float = DEFAULT_THRESHOLD,
                 min_shot_frames: int = DEFAULT_MIN_SHOT_FRAMES,
                 progress: bool = False) -> tuple[ShotList, float]:
    """Find cuts in a video; returns the shots (with their seconds) and its average fps.

    A missing, unreadable, empty or truncated video is a SkelshopError, as in `face embed`.
    """
    check_detect_settings(threshold, min_shot_frames)
    decoder = VideoDecoder(video)
    info = decoder.info
    detector = default_cut_detector(info.fps, info.width, threshold, min_shot_frames)
    bar = tqdm(total=info.num_frames or None, desc=Path(video).name, unit="frame",
               disable=not progress, leave=False)
    try:
        for item in decoder:  # raises at the end for a truncated or frameless file
            detector.add(item.index, detector.small_frame(item.frame))
            bar.update(1)
    finally:
        bar.close()
    shots = detector.finish().with_times(decoder.times, decoder.end_time)
    log.info("%s: %d shots in %d frames", video, len(shots), decoder.decoded)
    return shots, info.fps
