"""Decode videos with PyAV (FFmpeg in its wheel): every frame with its time, or sampled frames.

Frame numbers everywhere in skelshop are decoded frame indices (0-based), whatever the
container's timestamps say; a frame's time in seconds comes from its own timestamp, relative
to the first frame. The two differ on variable-frame-rate videos, where `index / fps` is not
the time of frame `index`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from skelshop.errors import SkelshopError

log = logging.getLogger(__name__)

# A decode that stops this far short of the frame count (or length) the container declares
# is a truncated file.
TRUNCATION_TOLERANCE = 0.9
# A frame this close (in frame intervals) before a sampling instant still counts as at it:
# containers with coarse time bases (Matroska's 1 ms) round frame times by up to 0.5 ms.
SAMPLE_TIME_SLACK = 0.02


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video's first video stream."""

    path: Path
    fps: float  # average rate; the frame times of a variable-rate video are uneven
    num_frames: int  # as declared (or estimated from the length); decoding gives the truth
    width: int
    height: int
    frames_declared: bool = False  # the container states its frame count (mp4), not a guess
    declared_seconds: float | None = None  # the stream's (or container's) stated length

    @property
    def duration(self) -> float:
        """Length in seconds as declared (estimated from the frame count when not declared)."""
        if self.declared_seconds:
            return self.declared_seconds
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
    except (av.error.FFmpegError, OSError) as err:
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
        seconds = None
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration:
            seconds = container.duration / av.time_base
        frames = int(stream.frames or 0)
        declared = frames > 0
        if not declared:
            frames = round(seconds * fps) if seconds else 0
        return VideoInfo(path, fps, frames, stream.codec_context.width,
                         stream.codec_context.height, frames_declared=declared,
                         declared_seconds=seconds if seconds and math.isfinite(seconds) else None)


def sample_step(video_fps: float, target_fps: float | None) -> float:
    """Frames between samples (>= 1) at the average rate; None or 0 means every frame."""
    if not target_fps or target_fps >= video_fps:
        return 1.0
    return video_fps / target_fps


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded frame: its index (0-based), its time (s, from the first frame), the frame."""

    index: int
    time: float
    frame: av.VideoFrame

    def bgr(self) -> np.ndarray:
        """The frame as a C-contiguous BGR uint8 array (what the detectors need)."""
        return np.ascontiguousarray(self.frame.to_ndarray(format="bgr24"))


class VideoDecoder:
    """Iterate every frame of a video once, in order, with its decoded index and time.

    After a complete iteration `decoded` is the true frame count, `times` every frame's time
    and `end_time` the time just after the last frame; a truncated or empty video raises
    SkelshopError at the end, so no output is ever made from part of a file.
    """

    def __init__(self, path: str | Path, threads: int = 0):
        self.path = Path(path)
        self.info = probe_video(self.path)
        self.threads = int(threads)  # FFmpeg decoding threads; 0 = FFmpeg's choice (all cores)
        self.decoded = 0
        self._times: list[float] = []
        self._last_duration = 1.0 / self.info.fps if self.info.fps else 0.04

    @property
    def times(self) -> np.ndarray:
        """float64 (decoded,) seconds of each decoded frame, from the first frame (0.0)."""
        return np.asarray(self._times, dtype=np.float64)

    @property
    def end_time(self) -> float:
        """Seconds from the first frame to the end of the last one."""
        return self._times[-1] + self._last_duration if self._times else 0.0

    def __iter__(self) -> Iterator[DecodedFrame]:
        origin: float | None = None
        interval = 1.0 / self.info.fps if self.info.fps else 0.04
        with _open(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if self.threads > 0:  # several workers on few cores: no oversubscription
                stream.codec_context.thread_count = self.threads
            try:
                for frame in container.decode(stream):
                    raw = frame.time  # pts * time_base; None when the container has no pts
                    if origin is None and raw is not None:
                        origin = raw
                    if raw is None or origin is None:
                        time = self._times[-1] + interval if self._times else 0.0
                    else:
                        time = raw - origin
                    if self._times and time <= self._times[-1]:
                        # Broken or missing timestamps: keep times increasing.
                        time = self._times[-1] + interval
                    self._times.append(time)
                    duration = getattr(frame, "duration", None)  # PyAV >= 13
                    if duration and frame.time_base:
                        self._last_duration = float(duration * frame.time_base)
                    index = self.decoded
                    self.decoded += 1
                    yield DecodedFrame(index, time, frame)
            except av.error.FFmpegError as err:
                raise SkelshopError(
                    self.path, f"decoding failed after frame {self.decoded} ({_reason(err)})"
                ) from None
        self._check_complete()

    def _check_complete(self) -> None:
        if self.decoded == 0:
            raise SkelshopError(self.path, "contains no decodable video frames")
        info = self.info
        if info.frames_declared:
            if self.decoded < TRUNCATION_TOLERANCE * info.num_frames:
                raise SkelshopError(
                    self.path,
                    f"truncated: decoded {self.decoded} of {info.num_frames} frames it declares",
                )
        elif info.declared_seconds and self.end_time < TRUNCATION_TOLERANCE * info.declared_seconds:
            raise SkelshopError(
                self.path, f"truncated: decoded {self.decoded} frames, {self.end_time:.2f} s "
                f"of the {info.declared_seconds:.2f} s it declares",
            )


class FrameReader:
    """Iterate (frame number, contiguous BGR uint8 array) over sampled frames, 0-based.

    Frames are sampled by their timestamps at `target_fps` (every frame when None or 0), so a
    variable-rate video is sampled evenly in time. After iteration `decoded` holds how many
    frames the file really had, and `times` / `end_time` their times (see VideoDecoder).
    """

    def __init__(self, path: str | Path, target_fps: float | None = None, threads: int = 0):
        self.path = Path(path)
        self.decoder = VideoDecoder(self.path, threads)
        self.info = self.decoder.info
        self.step = sample_step(self.info.fps, target_fps)
        self.period = self.step / self.info.fps if self.step > 1 and self.info.fps else 0.0

    @property
    def decoded(self) -> int:
        """Frames decoded so far (the true count after a complete iteration)."""
        return self.decoder.decoded

    @property
    def times(self) -> np.ndarray:
        """Seconds of every decoded frame so far."""
        return self.decoder.times

    @property
    def end_time(self) -> float:
        """Seconds to the end of the last decoded frame."""
        return self.decoder.end_time

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        for item in self.sampled():
            yield item.index, item.bgr()

    def sampled(self) -> Iterator[DecodedFrame]:
        """The sampled frames, undecoded to pixels (convert with `.bgr()`)."""
        for item, is_sample in self.frames():
            if is_sample:
                yield item

    def frames(self) -> Iterator[tuple[DecodedFrame, bool]]:
        """Every decoded frame, and whether it is one of the sampled frames."""
        slack = SAMPLE_TIME_SLACK / self.info.fps if self.info.fps else 0.0
        next_time = 0.0
        for item in self.decoder:
            if self.period:
                if item.time + slack < next_time:
                    yield item, False
                    continue
                # A gap in a variable-rate video may pass several sampling instants: skip them.
                while next_time <= item.time + slack:
                    next_time += self.period
            yield item, True
