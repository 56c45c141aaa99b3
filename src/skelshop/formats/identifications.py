"""The one reader and writer of cluster identifications CSVs: `label,clus`."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table

COLUMNS = ("label", "clus")
_CLUSTER_NAME = re.compile(r"c(0|[1-9][0-9]*)")
MAX_LABEL_CHARS = 500


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


@dataclass(frozen=True)
class IdentificationTable:
    """An identifications CSV: the named clusters, and those listed with an empty label."""

    named: list[Identification]
    skipped: list[str]  # clusters the original's labelling wrote as `,c<k>`


def clean_label(label: str) -> str:
    """A label as it may be saved: one line, single spaces; ValueError says what is wrong.

    Whitespace (line breaks and tabs included) collapses to single spaces; other control
    characters (NUL and the like) and unpaired surrogates have no place in a name or a CSV.
    """
    text = " ".join(label.split())
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"a name cannot contain the control character U+{ord(char):04X}")
    if len(text) > MAX_LABEL_CHARS:
        raise ValueError(f"a name has at most {MAX_LABEL_CHARS} characters")
    return text


def read_identification_table(path: str | Path) -> IdentificationTable:
    """Read `label,clus` rows; an empty label means "skipped" (the original wrote `,c0`).

    A bad cluster name or a cluster named twice (two different non-empty labels) is an error.
    """
    named: dict[str, tuple[int, str]] = {}
    skipped: list[str] = []
    for lineno, rec in read_csv_table(path, COLUMNS, "identifications CSV"):
        label = rec["label"].strip()
        clus = rec["clus"].strip()
        if not label and not clus:
            continue
        if cluster_index(clus) is None:
            raise SkelshopError(path, f"line {lineno}: {clus!r} is not a cluster name (c<number>)")
        if not label:
            skipped.append(clus)
            continue
        try:
            label = clean_label(label)
        except ValueError as err:
            raise SkelshopError(path, f"line {lineno}: {err}") from None
        if clus in named and named[clus][1] != label:
            raise SkelshopError(path, f"line {lineno}: cluster {clus} is already named "
                                f"{named[clus][1]!r} on line {named[clus][0]}")
        named.setdefault(clus, (lineno, label))
    rows = [Identification(label=label, clus=clus) for clus, (_, label) in named.items()]
    return IdentificationTable(rows, [c for c in dict.fromkeys(skipped) if c not in named])


def read_identifications(path: str | Path) -> list[Identification]:
    """The named clusters of an identifications CSV (skipped clusters are left out)."""
    return read_identification_table(path).named


def write_identifications(path: str | Path, rows: list[Identification]) -> None:
    """Write rows atomically in cluster order; empty labels are never written.

    Labels are written as they are (after `clean_label`): a label starting with `=`, `+`, `-`
    or `@` is not escaped, so open the CSV in a spreadsheet as text.
    """
    for row in rows:
        if cluster_index(row.clus) is None:
            raise ValueError(f"{row.clus!r} is not a cluster name")
        clean_label(row.label)
    named = [r for r in rows if r.label.strip()]
    clusters = [r.clus for r in named]
    if len(set(clusters)) != len(clusters):
        raise ValueError("a cluster may be named only once")
    write_csv_table(path, COLUMNS, ([clean_label(row.label), row.clus] for row in
                                    sorted(named, key=lambda r: cluster_index(r.clus) or 0)))
