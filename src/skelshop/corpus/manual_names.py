"""Who a corpus track is, all naming sources together; the one precedence rule.

Per track: a manual name (names.csv, through "same person as" merges), then direct
identification against the references, then the cluster's reference name, then the
cluster itself (merged clusters under the number they join), else `noclus`.
Light on purpose (no numpy): `report` applies names given after the last run with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.corpus_identities import CorpusIdentity
from skelshop.formats.corpus_names import CorpusNames, read_corpus_names
from skelshop.formats.identity import NOCLUS, read_identities

NAMES_FILE = "names.csv"


@dataclass(frozen=True)
class Naming:
    """A name for one track and the reference distance behind it."""

    label: str
    distance: float


def names_path(out_dir: Path) -> Path:
    """Where a corpus keeps its manual names."""
    return out_dir / NAMES_FILE


def track_name(clus: str | None, direct: Naming | None, by_cluster: dict[str, Naming],
               names: CorpusNames) -> tuple[str, str, float | None]:
    """(label, named_by, distance) of a track in cluster `clus` (None: unclustered)."""
    if clus is not None:
        manual = names.name_of(clus)
        if manual:
            return manual, "manual", None
    if direct is not None:
        return direct.label, "direct", direct.distance
    if clus is None:
        return NOCLUS, "none", None
    target = names.resolve(clus)
    ref = by_cluster.get(target) or by_cluster.get(clus)
    if ref is not None:
        return ref.label, "cluster+reference", ref.distance
    return target, "cluster", None


def split_off_since(names: CorpusNames, video: str, seg: int, skel_id: int,
                    clus: str | None) -> bool:
    """Whether the user said this track is not the person of the cluster it is in."""
    return clus is not None and any(
        n.video == video and n.seg == seg and n.skel_id == skel_id
        and names.resolve(n.clus) == names.resolve(clus) for n in names.not_this)


def apply_names(rows: list[CorpusIdentity], entries: list[CorpusEntry],
                out_dir: Path) -> list[CorpusIdentity]:
    """identities.csv rows with the names given since the run that wrote them.

    The cluster of each track is read from its video's segsout CSV; a track split off
    its cluster since then is unclustered until the next run gives it a number.
    """
    names = read_corpus_names(names_path(out_dir))
    if not names:
        return rows
    clusters: dict[tuple[str, int, int], str] = {}
    for entry in entries:
        if entry.segsout is not None and entry.segsout.is_file():
            for r in read_identities(entry.segsout):
                if r.label != NOCLUS:
                    clusters[(str(entry.video), r.seg, r.skel_id)] = r.label
    out = []
    for row in rows:
        clus = clusters.get((row.video, row.seg, row.skel_id))
        if split_off_since(names, row.video, row.seg, row.skel_id, clus):
            clus = None
        direct = Naming(row.label, row.distance or 0.0) if row.named_by == "direct" else None
        refs = ({clus: Naming(row.label, row.distance or 0.0)}
                if clus is not None and row.named_by == "cluster+reference" else {})
        label, named_by, distance = track_name(clus, direct, refs, names)
        out.append(replace(row, label=label, named_by=named_by, distance=distance))
    return out
