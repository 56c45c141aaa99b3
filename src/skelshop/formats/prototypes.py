"""The one reader and writer of prototype CSVs: `clus_idx,video_idx,frame_num,pers_id`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_text

COLUMNS = ("clus_idx", "video_idx", "frame_num", "pers_id")


@dataclass(frozen=True)
class Prototype:
    """One face standing for a cluster: video index (corpus row order), frame, track id."""

    clus_idx: int
    video_idx: int
    frame_num: int
    pers_id: int


def write_prototypes(path: str | Path, protos: list[Prototype]) -> None:
    """Write prototypes grouped by cluster, keeping each cluster's best-first order."""
    ordered = sorted(protos, key=lambda p: p.clus_idx)  # stable: keeps rank within a cluster
    with atomic_text(path) as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(COLUMNS)
        for p in ordered:
            out.writerow([p.clus_idx, p.video_idx, p.frame_num, p.pers_id])


def read_prototypes(path: str | Path) -> list[Prototype]:
    """Read a prototypes CSV written by us or the original SkelShop."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such prototypes CSV")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SkelshopError(path, f"missing column(s) {', '.join(missing)}")
        protos = []
        for lineno, rec in enumerate(reader, 2):
            try:
                protos.append(Prototype(*(int(rec[c]) for c in COLUMNS)))
            except (TypeError, ValueError):
                raise SkelshopError(path, f"line {lineno}: bad row {rec}") from None
    return protos
