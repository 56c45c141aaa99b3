"""Small test videos made with PyAV (constant and variable frame rate) and a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def run_cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real `skelshop -q` CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, check=False)


def assert_one_error_line(proc: subprocess.CompletedProcess, names: str | Path,
                          *outputs: Path) -> str:
    """Exit != 0, exactly one `error:` line naming `names`, no traceback, no output left."""
    assert proc.returncode not in (0, -11, 139), (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and str(names) in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    for out in outputs:
        assert not out.exists(), out
        assert not list(out.parent.glob(f".{out.name}*")), list(out.parent.iterdir())
    return lines[0]


def irregular_times(count: int) -> list[float]:
    """Frame times (s) of a variable-rate video: 10 frames at 30 fps, 10 at 6 fps, and so on."""
    times, t = [], 0.0
    for i in range(count):
        times.append(round(t, 3))
        t += 1 / 30 if (i // 10) % 2 == 0 else 1 / 6
    return times


def scenery(count: int, size: tuple[int, int] = (160, 120), cut_at: int | None = None) -> list:
    """RGB frames of a slowly changing gradient (no faces); a different picture from `cut_at`."""
    width, height = size
    frames = []
    ramp = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    for i in range(count):
        img = np.zeros((height, width, 3), np.uint8)
        if cut_at is not None and i >= cut_at:
            img[:, :, 0] = 255 - ramp
            img[: height // 2, :, 1] = 200
        else:
            img[:, :, 1] = ramp
            img[:, :, 2] = (i * 3) % 100
        frames.append(img)
    return frames


def make_video(path: Path, frames_rgb: list, rate: int = 25,
               times: list[float] | None = None, options: dict | None = None) -> Path:
    """Encode RGB frames as H.264 (.mp4 or .mkv); `times` (s, ms resolution) makes it VFR."""
    height, width = frames_rgb[0].shape[:2]
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.time_base = Fraction(1, 1000)
        for i, img in enumerate(frames_rgb):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            if times is not None:
                frame.pts = round(times[i] * 1000)
                frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sample_window(video: Path, start: float, seconds: float,
                  size: tuple[int, int]) -> list[np.ndarray]:
    """RGB frames of `video` from `start` for `seconds`, resized to `size` (w, h)."""
    frames = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        container.seek(int(start / stream.time_base), stream=stream)  # a keyframe before
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            if t >= start + seconds:
                break
            if t >= start:
                frames.append(cv2.resize(frame.to_ndarray(format="rgb24"), size))
    assert frames, (video, start)
    return frames
