"""The one reader and writer of a corpus's manual names, `OUTDIR/names.csv`.

Columns `label,clus,same_as,video,seg,skel_id`; one row per decision of the labelling page:

    Ann Smith,c3,,,,           cluster c3 is Ann Smith
    ,c5,c3,,,                  c5 is the same person as c3 (merged for good)
    ,c3,,/v/a.mp4,4,1          track 1 of shot 4 of a.mp4 is NOT the person of c3
                               (split off, and kept apart from c3 by later runs)

A plain `label,clus` identifications CSV (`iden whoisthis`) reads as names only. Written
atomically: the file is complete or the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.csv_table import read_csv_table, write_csv_table
from skelshop.formats.identifications import clean_label, cluster_index

COLUMNS = ("label", "clus", "same_as", "video", "seg", "skel_id")
REQUIRED = ("label", "clus")


@dataclass(frozen=True)
class NotThisPerson:
    """A track the user said is not the person of cluster `clus`."""

    video: str
    seg: int
    skel_id: int
    clus: str


@dataclass
class CorpusNames:
    """Manual names per cluster, merges of clusters, and tracks split off clusters."""

    names: dict[str, str] = field(default_factory=dict)  # clus -> label
    same_as: dict[str, str] = field(default_factory=dict)  # clus -> the cluster it joins
    not_this: list[NotThisPerson] = field(default_factory=list)

    def resolve(self, clus: str) -> str:
        """The cluster `clus` stands for after following merges (a cycle stops where it closes)."""
        seen = {clus}
        while clus in self.same_as and self.same_as[clus] not in seen:
            clus = self.same_as[clus]
            seen.add(clus)
        return clus

    def name_of(self, clus: str) -> str | None:
        """The manual name of a cluster (through its merges), if any."""
        return self.names.get(self.resolve(clus)) or self.names.get(clus)

    def __bool__(self) -> bool:
        return bool(self.names or self.same_as or self.not_this)


def _cluster(path: Path, lineno: int, column: str, text: str) -> str:
    if cluster_index(text) is None:
        raise SkelshopError(path, f"line {lineno}: {column} {text[:30]!r} is not a cluster "
                                  "name (c<number>)")
    return text


def read_corpus_names(path: str | Path) -> CorpusNames:
    """Read names.csv; a missing or empty (0-byte) file is no names at all."""
    path = Path(path)
    out = CorpusNames()
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return out
    for lineno, rec in read_csv_table(path, REQUIRED, "names file"):
        label, clus = rec["label"].strip(), rec["clus"].strip()
        same_as, video = rec.get("same_as", "").strip(), rec.get("video", "").strip()
        if not (label or clus or same_as or video):
            continue
        clus = _cluster(path, lineno, "clus", clus)
        if sum(map(bool, (label, same_as, video))) > 1:  # one would be dropped on rewrite
            raise SkelshopError(path, f"line {lineno}: give one decision per row: a label, a "
                                      "same_as, or a track (video, seg, skel_id)")
        if video:
            try:
                seg, skel_id = int(rec.get("seg", "")), int(rec.get("skel_id", ""))
            except ValueError:
                raise SkelshopError(path, f"line {lineno}: a track needs whole-number seg "
                                          "and skel_id") from None
            out.not_this.append(NotThisPerson(video, seg, skel_id, clus))
        elif same_as:
            other = _cluster(path, lineno, "same_as", same_as)
            if out.same_as.setdefault(clus, other) != other:  # which one is meant?
                raise SkelshopError(path, f"line {lineno}: {clus} is merged a second time, "
                                          f"into {other} (before: {out.same_as[clus]})")
        elif label:  # an empty label is a skip of the original's whoisthis: no decision
            try:
                name = clean_label(label)
            except ValueError as err:
                raise SkelshopError(path, f"line {lineno}: {err}") from None
            if out.names.setdefault(clus, name) != name:
                raise SkelshopError(path, f"line {lineno}: {clus} is named a second time, "
                                          f"{name[:30]!r} (before: {out.names[clus][:30]!r})")
    return out


def write_corpus_names(path: str | Path, names: CorpusNames) -> None:
    """Write names.csv atomically: names, then merges, then split tracks."""
    def _key(clus: str) -> int:
        return cluster_index(clus) or 0

    rows: list[list[object]] = [[label, clus, "", "", "", ""]
                                for clus, label in sorted(names.names.items(),
                                                          key=lambda kv: _key(kv[0]))]
    rows += [["", clus, other, "", "", ""]
             for clus, other in sorted(names.same_as.items(), key=lambda kv: _key(kv[0]))]
    rows += [["", n.clus, "", n.video, n.seg, n.skel_id]
             for n in sorted(set(names.not_this), key=lambda n: (n.video, n.seg, n.skel_id,
                                                                  _key(n.clus)))]
    write_csv_table(path, COLUMNS, rows)
