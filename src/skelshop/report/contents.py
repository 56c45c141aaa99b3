"""Gather what a report shows: per video shots and tracks, per person appearances and faces."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from skelshop.corpus.shot_times import shot_seconds, video_seconds
from skelshop.formats.corpus import read_corpus
from skelshop.formats.corpus_identities import CorpusIdentity, read_corpus_identities
from skelshop.formats.face_dump import read_face_dump
from skelshop.formats.identity import NOCLUS


@dataclass
class Appearance:
    """One (video, shot, track) as the report shows it."""

    video: str
    seg: int
    skel_id: int
    start: float
    end: float
    label: str
    named_by: str
    distance: float | None
    thumbnail: str | None  # data: URI of the best face, when the dump holds chips


@dataclass
class VideoSection:
    """One video: its shots and who is in each."""

    name: str
    duration: float
    shots: list[tuple[float, float]]
    appearances: dict[int, list[Appearance]] = field(default_factory=dict)


@dataclass
class ReportContents:
    """Everything the page needs."""

    videos: list[VideoSection]
    people: dict[str, list[Appearance]]


def _data_uri(chip_rgb: np.ndarray) -> str:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(chip_rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 85])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def _best_chips(faces_path: Path) -> dict[tuple[int, int], str]:
    """Data URI of the highest-quality stored face of each (shot, track)."""
    if not faces_path.is_file():
        return {}
    dump = read_face_dump(faces_path, with_chips=True)
    if dump.chip is None or dump.seg is None or len(dump) == 0:
        return {}
    quality = dump.quality if dump.quality is not None else np.zeros(len(dump))
    best: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(dump.seg.tolist(), dump.pers.tolist(), strict=True)):
        if key not in best or quality[i] > quality[best[key]]:
            best[key] = i
    return {key: _data_uri(dump.chip[i]) for key, i in best.items()}


def gather(out_dir: Path) -> ReportContents:
    """Read a corpus run's outputs into report contents."""
    identities = read_corpus_identities(out_dir / "identities.csv")
    entries = read_corpus(out_dir / "corpus.csv", check_files=False)
    by_video: dict[str, list[CorpusIdentity]] = defaultdict(list)
    for row in identities:
        by_video[row.video].append(row)
    videos, people = [], defaultdict(list)
    for entry in entries:
        name = str(entry.video)
        chips = _best_chips(entry.faces)
        section = VideoSection(Path(name).name, video_seconds(entry)[1], shot_seconds(entry))
        for row in sorted(by_video.get(name, []), key=lambda r: (r.seg, r.skel_id)):
            app = Appearance(row.video, row.seg, row.skel_id, row.start, row.end, row.label,
                             row.named_by, row.distance, chips.get((row.seg, row.skel_id)))
            section.appearances.setdefault(row.seg, []).append(app)
            if row.label != NOCLUS:
                people[row.label].append(app)
        videos.append(section)
    return ReportContents(videos, dict(people))

