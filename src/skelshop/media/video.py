"""Decode videos with PyAV (FFmpeg in its wheel), optionally sampling frames at a target rate."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from skelshop.errors import SkelshopError

log = logging.getLogger(__name__)

# A decode that stops this far short of the container's frame count is a truncated file.
TRUNCATION_TOLERANCE = 0.9


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video's first video stream."""

    path: Path
    fps: float
    num_frames: int  # as declared (or estimated from duration); decoding gives the truth
    width: int
    height: int

    @property
    def duration(self) -> float:
        """Length in seconds as declared."""
        return self.num_frames / self.fps if self.fps else 0.0


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise SkelshopError(path, "no such video file")
    if not path.is_file():
        raise SkelshopError(path, "not a file")
    if path.stat().st_size == 0:
        raise SkelshopError(path, "empty file, not a video")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as err:
        raise SkelshopError(path, f"not a readable video ({_reason(err)})") from None
    if not container.streams.video:
        container.close()
        raise SkelshopError(path, "has no video stream")
    return container


def _reason(err: Exception) -> str:
    return getattr(err, "strerror", None) or str(err).splitlines()[0][:120]


def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's frame rate, frame count and size without decoding it."""
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        fps = float(rate)
        frames = stream.frames
        if not frames:
            seconds = None
            if stream.duration and stream.time_base:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration:
                seconds = container.duration / av.time_base
            frames = round(seconds * fps) if seconds else 0
        return VideoInfo(path, fps, int(frames), stream.codec_context.width,
                         stream.codec_context.height)


def sample_step(video_fps: float, target_fps: float | None) -> float:
    """Frames between samples (>= 1) for a target rate; None or 0 means every frame."""
    if not target_fps or target_fps >= video_fps:
        return 1.0
    return video_fps / target_fps


class FrameReader:
    """Iterate (frame number, contiguous BGR uint8 array) over sampled frames, 0-based.

    After iteration `decoded` holds how many frames the file really had.
    """

    def __init__(self, path: str | Path, target_fps: float | None = None):
        self.path = Path(path)
        self.info = probe_video(self.path)
        self.step = sample_step(self.info.fps, target_fps)
        self.decoded = 0

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        next_sample = 0.0
        with _open(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for index, frame in enumerate(container.decode(stream)):
                    self.decoded = index + 1
                    if index + 1e-9 < next_sample:
                        continue
                    next_sample += self.step
                    yield index, np.ascontiguousarray(frame.to_ndarray(format="bgr24"))
            except av.error.FFmpegError as err:
                raise SkelshopError(
                    self.path, f"decoding failed after frame {self.decoded} ({_reason(err)})"
                ) from None
        if self.decoded == 0:
            raise SkelshopError(self.path, "contains no decodable video frames")
        declared = self.info.num_frames
        if declared and self.decoded < TRUNCATION_TOLERANCE * declared:
            raise SkelshopError(
                self.path, f"truncated: decoded {self.decoded} of {declared} frames it declares"
            )
