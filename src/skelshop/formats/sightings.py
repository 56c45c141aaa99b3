"""The one writer of `corpus find` results: `video,seg,start,end,distance,clus` (a row per shot)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from skelshop.formats.csv_table import write_csv_table

COLUMNS = ("video", "seg", "start", "end", "distance", "clus")


@dataclass(frozen=True)
class Sighting:
    """A shot where the person of the photos appears, and how close the nearest face came."""

    video: str
    seg: int
    start: float
    end: float
    distance: float  # from the photos to the nearest face of the person in the shot
    clus: str  # the cluster that placed the person there, or `noclus` (matched directly)


def _cells(rows: list[Sighting]) -> list[list[object]]:
    return [[r.video, r.seg, f"{r.start:.3f}", f"{r.end:.3f}", f"{r.distance:.4f}", r.clus]
            for r in rows]


def write_sightings(path: str | Path, rows: list[Sighting]) -> None:
    """Write the rows atomically."""
    write_csv_table(path, COLUMNS, _cells(rows))


def sightings_text(rows: list[Sighting]) -> str:
    """The same CSV as text, for standard output."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(COLUMNS)
    out.writerows(_cells(rows))
    return buf.getvalue()
