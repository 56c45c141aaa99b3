"""Map cluster labels in a segsout CSV to the names given to those clusters."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from skelshop.formats.identifications import Identification
from skelshop.formats.identity import IdentityRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplyMapResult:
    """Rows to write and what happened to the input rows."""

    rows: list[IdentityRow]
    renamed: int
    kept: int
    dropped: int
    unused_clusters: list[str]


def apply_identifications(rows: list[IdentityRow], ids: list[Identification],
                          filter_unlabeled: bool) -> ApplyMapResult:
    """Replace each `c<k>` label that has a name; keep or drop the rest."""
    mapping = {ident.clus: ident.label for ident in ids}
    out: list[IdentityRow] = []
    renamed = kept = dropped = 0
    for row in rows:
        name = mapping.get(row.label)
        if name is not None:
            out.append(replace(row, label=name))
            renamed += 1
        elif filter_unlabeled:
            dropped += 1
        else:
            out.append(row)
            kept += 1
    present = {row.label for row in rows}
    # A segsout CSV covers one video, so named clusters absent from it are normal: just note them.
    unused = sorted((c for c in mapping if c not in present), key=lambda c: (len(c), c))
    return ApplyMapResult(out, renamed, kept, dropped, unused)


def has_times(rows: list[IdentityRow]) -> bool:
    """Whether the rows carry shot start/end times (so the output keeps them)."""
    return any(row.start is not None or row.end is not None for row in rows)


def describe(result: ApplyMapResult, segs: Path) -> str:
    """A one-line summary for the user."""
    return (f"{segs}: {result.renamed} rows named, {result.kept} kept unnamed, "
            f"{result.dropped} dropped; {len(result.unused_clusters)} named clusters not in this file")
