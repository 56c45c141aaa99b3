"""The one reader and writer of prototype CSVs: `clus_idx,video_idx,frame_num,pers_id`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table

COLUMNS = ("clus_idx", "video_idx", "frame_num", "pers_id")
# Every column indexes something (clusters, corpus rows, frames, track ids: uint32 in dumps).
MAX_VALUE = 2**32 - 1


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
    write_csv_table(path, COLUMNS, ([p.clus_idx, p.video_idx, p.frame_num, p.pers_id]
                                    for p in ordered))


def read_prototypes(path: str | Path) -> list[Prototype]:
    """Read a prototypes CSV written by us or the original SkelShop."""
    protos = []
    for lineno, rec in read_csv_table(path, COLUMNS, "prototypes CSV"):
        values = []
        for column in COLUMNS:
            text = rec[column].strip()
            try:
                value = int(text)
            except ValueError:
                raise SkelshopError(path, f"line {lineno}: {column} {text[:30]!r} is not a "
                                          "whole number") from None
            if not 0 <= value <= MAX_VALUE:
                shown = text if len(text) <= 30 else text[:27] + "..."
                raise SkelshopError(path, f"line {lineno}: {column} {shown} is out of range "
                                          f"(0 to {MAX_VALUE})")
            values.append(value)
        protos.append(Prototype(*values))
    return protos
