"""The one reader and writer of identity CSVs: `seg,skel_id,label` (+ optional times)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table

NOCLUS = "noclus"
CLUSTER_LABEL = re.compile(r"^c\d+$")
COLUMNS = ("seg", "skel_id", "label")
# Shot indices and track ids are stored as 32-bit numbers in face dumps.
MAX_INDEX = 2**32 - 1
TIME_COLUMNS = ("start", "end")


@dataclass(frozen=True)
class IdentityRow:
    """One (shot, track) and its label; times in seconds when known."""

    seg: int
    skel_id: int
    label: str
    start: float | None = None
    end: float | None = None


def is_person_name(label: str) -> bool:
    """A real name, not a bare cluster id `c<k>` or `noclus`."""
    return label != NOCLUS and not CLUSTER_LABEL.match(label)


def write_identities(path: str | Path, rows: list[IdentityRow], with_times: bool = False) -> None:
    """Write rows sorted by (seg, skel_id); times as extra columns when asked."""
    ordered = sorted(rows, key=lambda r: (r.seg, r.skel_id, r.label))
    write_csv_table(path, COLUMNS + (TIME_COLUMNS if with_times else ()), (
        [r.seg, r.skel_id, r.label, *([_fmt_time(r.start), _fmt_time(r.end)] if with_times else [])]
        for r in ordered
    ))


def _fmt_time(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def read_identities(path: str | Path) -> list[IdentityRow]:
    """Read an identity (or segsout) CSV written by us or the original."""
    rows = []
    for lineno, rec in read_csv_table(path, COLUMNS, "identity CSV"):
        try:
            row = IdentityRow(
                seg=int(rec["seg"]), skel_id=int(rec["skel_id"]), label=rec["label"],
                start=float(rec["start"]) if rec.get("start") else None,
                end=float(rec["end"]) if rec.get("end") else None,
            )
        except ValueError:
            raise SkelshopError(path, f"line {lineno}: bad row {rec}") from None
        for column in ("seg", "skel_id"):
            if not 0 <= getattr(row, column) <= MAX_INDEX:
                raise SkelshopError(path, f"line {lineno}: {column} {rec[column][:30]} is out "
                                          f"of range (0 to {MAX_INDEX})")
        if any(t is not None and not math.isfinite(t) for t in (row.start, row.end)):
            raise SkelshopError(path, f"line {lineno}: start/end seconds are not finite")
        rows.append(row)
    return rows
