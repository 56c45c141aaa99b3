"""WebVTT subtitles per video: who is on screen, one cue per shot."""

from __future__ import annotations

from pathlib import Path

from skelshop.formats.atomic import atomic_text
from skelshop.report.contents import CLUSTER, PERSON, ReportContents, person_kind


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rem = divmod(millis, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    secs, millis = divmod(rem, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def cue_text(label: str) -> str:
    """A label as one cue line: WebVTT ends a cue at a blank line and `-->` starts one."""
    return " ".join(label.split()).replace("-->", "->")


def subtitle_names(labels: set[str], named_only: bool) -> list[str]:
    """Names first, then clusters as `person c<k>`; unclustered tracks are left out."""
    names = sorted(cue_text(lab) for lab in labels if person_kind(lab) == PERSON)
    if not named_only:
        names += sorted((f"person {lab}" for lab in labels if person_kind(lab) == CLUSTER),
                        key=lambda text: int(text.rsplit("c", 1)[1]))
    return [n for n in names if n]


def write_subtitles(contents: ReportContents, out_dir: Path,
                    named_only: bool = False) -> list[Path]:
    """Write `<video>.vtt` for every video into out_dir; returns the paths."""
    written = []
    for video in contents.videos:
        lines = ["WEBVTT", ""]
        for idx, (start, end) in enumerate(video.shots or [(0.0, video.duration)]):
            names = subtitle_names({a.label for a in video.appearances.get(idx, [])}, named_only)
            if names and end > start:
                lines += [f"shot-{idx}", f"{_vtt_time(start)} --> {_vtt_time(end)}",
                          ", ".join(names), ""]
        path = out_dir / f"{Path(video.name).stem}.vtt"
        with atomic_text(path) as handle:
            handle.write("\n".join(lines))
        written.append(path)
    return written
