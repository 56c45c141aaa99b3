"""The one reader and writer of a corpus run's `identities.csv` (a row per video, shot, track)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table

COLUMNS = ("video", "seg", "skel_id", "start", "end", "label", "named_by", "distance")
NAMED_BY = ("manual", "direct", "cluster+reference", "cluster", "none")


@dataclass(frozen=True)
class CorpusIdentity:
    """Who one (video, shot, track) is, and how that was decided."""

    video: str
    seg: int
    skel_id: int
    start: float
    end: float
    label: str  # a person's name, a cluster `c<k>`, or `noclus`
    named_by: str  # one of NAMED_BY (manual: names.csv, from `corpus label`)
    distance: float | None = None  # to the naming reference, when a reference named it


def write_corpus_identities(path: str | Path, rows: list[CorpusIdentity]) -> None:
    """Write rows sorted by video, shot and track."""
    write_csv_table(path, COLUMNS, (
        [r.video, r.seg, r.skel_id, f"{r.start:.3f}", f"{r.end:.3f}", r.label, r.named_by,
         "" if r.distance is None else f"{r.distance:.4f}"]
        for r in sorted(rows, key=lambda r: (r.video, r.seg, r.skel_id))
    ))


def read_corpus_identities(path: str | Path) -> list[CorpusIdentity]:
    """Read an identities.csv written by `skelshop corpus run`."""
    rows = []
    for lineno, rec in read_csv_table(path, COLUMNS, "identities file"):
        try:
            rows.append(CorpusIdentity(
                video=rec["video"], seg=int(rec["seg"]), skel_id=int(rec["skel_id"]),
                start=float(rec["start"]), end=float(rec["end"]), label=rec["label"],
                named_by=rec["named_by"],
                distance=float(rec["distance"]) if rec["distance"] else None,
            ))
        except ValueError:
            raise SkelshopError(path, f"line {lineno}: bad row") from None
    return rows
