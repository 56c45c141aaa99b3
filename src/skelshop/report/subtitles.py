"""WebVTT subtitles per video: the names on screen, one cue per shot."""

from __future__ import annotations

from pathlib import Path

from skelshop.formats.atomic import atomic_text
from skelshop.formats.identity import is_person_name
from skelshop.report.contents import ReportContents


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rem = divmod(millis, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    secs, millis = divmod(rem, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def write_subtitles(contents: ReportContents, out_dir: Path) -> list[Path]:
    """Write `<video>.vtt` for every video into out_dir; returns the paths."""
    written = []
    for video in contents.videos:
        lines = ["WEBVTT", ""]
        for idx, (start, end) in enumerate(video.shots or [(0.0, video.duration)]):
            names = sorted({a.label for a in video.appearances.get(idx, [])
                            if is_person_name(a.label)})
            if names and end > start:
                lines += [f"shot-{idx}", f"{_vtt_time(start)} --> {_vtt_time(end)}",
                          ", ".join(names), ""]
        path = out_dir / f"{Path(video.name).stem}.vtt"
        with atomic_text(path) as handle:
            handle.write("\n".join(lines))
        written.append(path)
    return written
