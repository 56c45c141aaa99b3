"""The one reader and writer of cluster identifications CSVs: `label,clus`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table

COLUMNS = ("label", "clus")
_CLUSTER_NAME = re.compile(r"c(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class Identification:
    """A cluster (`c<k>`) and the person it is named as."""

    label: str
    clus: str


def cluster_name(index: int) -> str:
    """The name of cluster `index` as it appears in segsout and identifications CSVs."""
    return f"c{index}"


def cluster_index(name: str) -> int | None:
    """The index of a cluster name `c<k>`, or None when `name` is not one."""
    match = _CLUSTER_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def read_identifications(path: str | Path) -> list[Identification]:
    """Read `label,clus` rows; a bad cluster name, an empty label or a repeated cluster is an error."""
    rows: list[Identification] = []
    seen: dict[str, int] = {}
    for lineno, rec in read_csv_table(path, COLUMNS, "identifications CSV"):
        label = rec["label"].strip()
        clus = rec["clus"].strip()
        if not label and not clus:
            continue
        if cluster_index(clus) is None:
            raise SkelshopError(path, f"line {lineno}: {clus!r} is not a cluster name (c<number>)")
        if not label:
            raise SkelshopError(path, f"line {lineno}: cluster {clus} has an empty label")
        if clus in seen:
            raise SkelshopError(
                path, f"line {lineno}: cluster {clus} is already named on line {seen[clus]}"
            )
        seen[clus] = lineno
        rows.append(Identification(label=label, clus=clus))
    return rows


def write_identifications(path: str | Path, rows: list[Identification]) -> None:
    """Write rows atomically in cluster order; empty labels are never written."""
    for row in rows:
        if cluster_index(row.clus) is None:
            raise ValueError(f"{row.clus!r} is not a cluster name")
    named = [r for r in rows if r.label.strip()]
    clusters = [r.clus for r in named]
    if len(set(clusters)) != len(clusters):
        raise ValueError("a cluster may be named only once")
    write_csv_table(path, COLUMNS, ([row.label.strip(), row.clus] for row in
                                    sorted(named, key=lambda r: cluster_index(r.clus) or 0)))
