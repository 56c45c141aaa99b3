"""The per-video table that `corpus run` and `samples demo` print (light: no heavy imports)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class _VideoLike(Protocol):
    video: object
    status: str
    shots: int
    tracks: int
    faces: int
    video_seconds: float
    stage_seconds: dict[str, float]
    seconds: float


STATUS_TEXT = {"done": "done", "skipped": "reused", "failed": "FAILED"}


def video_table(videos: Sequence[_VideoLike]) -> list[str]:
    """Lines of a table: video, status, shots, tracks, faces, processing seconds per video minute.

    A video reused from an earlier run shows the counts its stored files hold. The time is
    wall-clock (its stages run in threads of their own and overlap).
    """
    lines = [f"{'video':<28} {'status':<7} {'shots':>5} {'tracks':>6} {'faces':>6} "
             f"{'s/video-min':>11}"]
    for v in videos:
        minutes = v.video_seconds / 60
        spent = v.seconds
        per_min = f"{spent / minutes:11.1f}" if minutes and spent else f"{'-':>11}"
        name = getattr(v.video, "name", str(v.video))
        lines.append(f"{name:<28} {STATUS_TEXT.get(v.status, v.status):<7} {v.shots:>5} "
                     f"{v.tracks:>6} {v.faces:>6} {per_min}")
    return lines
