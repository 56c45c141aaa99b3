"""Shot start and end seconds of a corpus video, from its scenes file and face dump."""

from __future__ import annotations

from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.face_dump import read_dump_attrs
from skelshop.formats.scenes import read_shots


def video_seconds(entry: CorpusEntry) -> tuple[float, float]:
    """(frame rate, length in seconds) as the video's face dump records them; 0s if unknown."""
    attrs = read_dump_attrs(entry.faces) if entry.faces.is_file() else None
    fps = float((attrs or {}).get("fps", 0.0))
    num_frames = int((attrs or {}).get("num_frames", 0))
    return fps, num_frames / fps if fps else 0.0


def shot_seconds(entry: CorpusEntry) -> list[tuple[float, float]]:
    """[start, end) seconds of every shot; empty when the scenes file or frame rate is missing."""
    fps, length = video_seconds(entry)
    if entry.group is None or not entry.group.is_file() or not fps:
        return []
    shots = read_shots(entry.group, entry.group_typ)
    num_frames = round(length * fps) or None
    return [(start / fps, end / fps) for start, end in
            (shots.bounds(i, num_frames) for i in range(len(shots)))]
