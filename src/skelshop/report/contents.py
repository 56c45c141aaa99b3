"""Gather what a report shows: per video shots and tracks, per person appearances and faces.

Every track of identities.csv is shown: named people, clusters (unnamed people seen in
several tracks) and unclustered tracks (`noclus`), each of which is an unnamed person of
its own. The CSVs keep the original's labels; the page uses the words of `display_name`.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from skelshop.corpus.manual_names import apply_names
from skelshop.corpus.shot_times import shot_seconds, video_seconds
from skelshop.errors import SkelshopError
from skelshop.formats.corpus import read_corpus
from skelshop.formats.corpus_identities import CorpusIdentity, read_corpus_identities
from skelshop.formats.face_dump import read_dump_attrs, read_face_dump
from skelshop.formats.identity import CLUSTER_LABEL, NOCLUS

PERSON, CLUSTER, SINGLE = "person", "cluster", "single"  # kinds of people on the page


@dataclass
class Appearance:
    """One (video, shot, track) as the report shows it."""

    video: str
    seg: int
    skel_id: int
    start: float
    end: float
    label: str  # as in identities.csv: a name, `c<k>` or `noclus`
    named_by: str
    distance: float | None
    thumbnail: str | None  # data: URI of the best face, when the dump holds chips

    @property
    def person_key(self) -> str:
        """Who this is on the page: the label, or this very track when it is unclustered."""
        if self.label == NOCLUS:
            return f"{NOCLUS}:{self.video}:{self.seg}:{self.skel_id}"
        return self.label

    @property
    def video_name(self) -> str:
        """The video's file name."""
        return Path(self.video).name


def person_kind(label: str) -> str:
    """PERSON for a real name, CLUSTER for `c<k>`, SINGLE for an unclustered track."""
    if label == NOCLUS:
        return SINGLE
    return CLUSTER if CLUSTER_LABEL.match(label) else PERSON


def display_name(app: Appearance) -> str:
    """The words the page uses for an appearance's person."""
    kind = person_kind(app.label)
    if kind == CLUSTER:
        return f"Unnamed person {app.label[1:]}"
    if kind == SINGLE:
        return f"Unnamed person in {app.video_name}, shot {app.seg}"
    return app.label


def short_name(app: Appearance) -> str:
    """The few words on a timeline card."""
    kind = person_kind(app.label)
    if kind == CLUSTER:
        return f"person {app.label[1:]}"
    if kind == SINGLE:
        return "unnamed"
    return app.label


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
    people: dict[str, list[Appearance]]  # by Appearance.person_key
    threshold: float | None = None  # the embedder's same-person distance


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


def _threshold(faces: list[Path]) -> float | None:
    for path in faces:
        attrs = read_dump_attrs(path) if path.is_file() else None
        if attrs and "threshold" in attrs:
            try:
                return float(attrs["threshold"])
            except (TypeError, ValueError):
                continue
    return None


def report_inputs(out_dir: Path) -> tuple[Path, Path]:
    """The identities.csv and corpus.csv a report of OUTDIR reads."""
    identities, corpus = out_dir / "identities.csv", out_dir / "corpus.csv"
    for path in (identities, corpus):
        if not path.is_file():
            raise SkelshopError(out_dir, f"no {path.name} here; run `skelshop corpus run` first")
    return identities, corpus


def gather(out_dir: Path, corpus_base: Path | None = None) -> ReportContents:
    """Read a corpus run's outputs into report contents."""
    identities_csv, corpus_csv = report_inputs(out_dir)
    entries = read_corpus(corpus_csv, corpus_base, check_files=False)
    # names given on the labelling page since the run count at once
    identities = apply_names(read_corpus_identities(identities_csv), entries, out_dir)
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
            people[app.person_key].append(app)
        videos.append(section)
    return ReportContents(videos, dict(people), _threshold([e.faces for e in entries]))
