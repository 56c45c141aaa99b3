"""Put names on a clustered corpus: direct identification and cluster naming from references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.corpus_clustering.outputs import prototypes
from skelshop.corpus_clustering.run import ClusOutcome, ClusSettings
from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.face_dump import read_face_dump
from skelshop.formats.references import ReferenceSet
from skelshop.formats.scenes import read_shots
from skelshop.identify.direct import DirectParams, identify_dump
from skelshop.naming.idclus import NamedCluster, load_prototype_embeddings, name_clusters
from skelshop.space import space_of

TrackKey = tuple[int, int, int]  # (video index, shot, track)


@dataclass(frozen=True)
class Naming:
    """A name for one track and the reference distance behind it."""

    label: str
    distance: float


def direct_names(entries: list[CorpusEntry], refs: ReferenceSet, ref_src: str | Path,
                 mode: str) -> dict[TrackKey, Naming]:
    """Identify every video's tracks against the references (one-to-one per shot)."""
    found: dict[TrackKey, Naming] = {}
    ref_by_label = dict(zip(refs.labels, refs.embeddings, strict=True))
    for video_idx, entry in enumerate(entries):
        dump = read_face_dump(entry.faces)
        if len(dump) == 0:
            continue
        assert entry.group is not None
        params = (DirectParams.sparse(dump.embedder) if mode == "sparse"
                  else DirectParams.full(dump.embedder))
        rows = identify_dump(refs, ref_src, dump, entry.faces, read_shots(entry.group),
                             entry.group, params)
        seg = dump.seg if dump.seg is not None else np.full(len(dump), -1)
        for row in rows:
            faces = dump.embed[(seg == row.seg) & (dump.pers == row.skel_id)]
            space = space_of(dump.embedder, dump.dim)
            dist = float(space.distances(faces, ref_by_label[row.label]).min())
            found[(video_idx, row.seg, row.skel_id)] = Naming(row.label, dist)
    return found


def cluster_names(outcome: ClusOutcome, settings: ClusSettings, corpus_csv: Path,
                  entries: list[CorpusEntry], refs: ReferenceSet,
                  ref_src: str | Path) -> list[NamedCluster]:
    """Name clusters whose prototypes come within the embedder's threshold of a reference."""
    protos = prototypes(outcome, settings)
    embedded = load_prototype_embeddings(protos, corpus_csv, entries, refs, ref_src)
    return name_clusters(embedded, refs, refs.embedder.threshold)
