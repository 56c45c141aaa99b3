"""The one reader and writer of a prototype image folder's index: `index.csv` (clus,members,images)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_text

INDEX_NAME = "index.csv"
COLUMNS = ("clus", "members", "images")


@dataclass(frozen=True)
class ProtoIndexRow:
    """One cluster of a prototype folder: tracks in the cluster (None if unknown) and images written."""

    clus: str
    members: int | None
    images: int


def write_proto_index(protodir: str | Path, rows: list[ProtoIndexRow]) -> None:
    """Write `PROTODIR/index.csv` atomically."""
    with atomic_text(Path(protodir) / INDEX_NAME) as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(COLUMNS)
        for row in rows:
            out.writerow([row.clus, "" if row.members is None else row.members, row.images])


def read_proto_index(protodir: str | Path) -> dict[str, ProtoIndexRow] | None:
    """Read `PROTODIR/index.csv`, or None when the folder has none (e.g. made by the original)."""
    path = Path(protodir) / INDEX_NAME
    if not path.is_file():
        return None
    rows: dict[str, ProtoIndexRow] = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if any(c not in (reader.fieldnames or []) for c in COLUMNS):
                raise SkelshopError(path, f"not a prototype index (want columns {','.join(COLUMNS)})")
            for lineno, rec in enumerate(reader, 2):
                try:
                    members = (rec["members"] or "").strip()
                    rows[rec["clus"]] = ProtoIndexRow(
                        clus=rec["clus"], members=int(members) if members else None,
                        images=int(rec["images"]),
                    )
                except (ValueError, TypeError):
                    raise SkelshopError(path, f"line {lineno}: bad row") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise SkelshopError(path, f"unreadable prototype index ({err})") from None
    return rows
