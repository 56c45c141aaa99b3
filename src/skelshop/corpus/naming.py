"""Put names on a clustered corpus: direct identification and cluster naming from references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.corpus.manual_names import Naming
from skelshop.corpus_clustering.outputs import prototype_faces
from skelshop.corpus_clustering.run import ClusOutcome, ClusSettings
from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.face_dump import FaceDump, check_same_embedder
from skelshop.formats.references import ReferenceSet
from skelshop.formats.scenes import read_shots
from skelshop.identify.direct import DirectParams, identify_dump, vote_groups
from skelshop.identify.settings import FaceRules
from skelshop.naming.idclus import (
    ClusterPrototypes,
    NamedCluster,
    name_clusters,
    name_clusters_by_votes,
)
from skelshop.space import space_of

TrackKey = tuple[int, int, int]  # (video index, shot, track)

__all__ = ["ClusterNaming", "DirectNames", "Naming", "TrackKey", "cluster_names"]


class DirectNames:
    """Every video's tracks identified against the references (one-to-one per shot), under
    `rules` (default: identify.settings' defaults); fed one dump at a time, as the corpus's
    faces are loaded (`load_corpus_faces(visit=...)`), so no dump is read twice."""

    def __init__(self, refs: ReferenceSet, ref_src: str | Path, mode: str,
                 rules: FaceRules | None = None):
        self.refs, self.ref_src, self.mode, self.rules = refs, ref_src, mode, rules
        self.found: dict[TrackKey, Naming] = {}
        self._ref_by_label = dict(zip(refs.labels, refs.embeddings, strict=True))

    def __call__(self, video_idx: int, entry: CorpusEntry, dump: FaceDump) -> None:
        """Identify the tracks of one video's dump."""
        if len(dump) == 0:
            return
        assert entry.group is not None
        params = (DirectParams.sparse(dump.embedder, rules=self.rules) if self.mode == "sparse"
                  else DirectParams.full(dump.embedder, rules=self.rules))
        rows = identify_dump(self.refs, self.ref_src, dump, entry.faces,
                             read_shots(entry.group), entry.group, params)
        seg = dump.seg if dump.seg is not None else np.full(len(dump), -1)
        space = space_of(dump.embedder, dump.dim)
        for row in rows:
            faces = dump.embed[(seg == row.seg) & (dump.pers == row.skel_id)]
            dist = float(space.distances(faces, self._ref_by_label[row.label]).min())
            self.found[(video_idx, row.seg, row.skel_id)] = Naming(row.label, dist)


@dataclass
class ClusterNaming:
    """Clusters named after references, and which of their tracks may take that name.

    `backed`: the tracks whose own faces vote for their cluster's person under the rules
    (None: every track of a named cluster, main's behaviour).
    """

    named: list[NamedCluster]
    backed: set[TrackKey] | None = None

    def backs(self, key: TrackKey) -> bool:
        """Whether track `key` may be named after its cluster's reference person."""
        return self.backed is None or key in self.backed


def cluster_names(outcome: ClusOutcome, settings: ClusSettings, corpus_csv: Path,
                  refs: ReferenceSet, ref_src: str | Path,
                  chosen: tuple[np.ndarray, np.ndarray] | None = None,
                  rules: FaceRules | None = None) -> ClusterNaming:
    """Name clusters after references on the evidence a directly named track needs.

    Under `rules` (default: identify.settings' defaults) every face of a cluster's tracks
    that passes the quality gate votes, as in direct identification
    (`naming.idclus.name_clusters_by_votes`), and a track of a named cluster takes the name
    only when its own faces vote for that person by the same rules (a cluster that a
    stranger's or a dissolve's ghost track fell into lends its name to none of them; what
    the cluster adds is the name of tracks that direct identification, one person per
    shot, gave to another track of the shot). Under `FaceRules.main()`, main's behaviour:
    a cluster takes the nearest person within the embedder's threshold of its prototypes
    (`chosen`: `prototype_faces`' result when the caller has it; no dump is read again),
    and every track of it that name.
    """
    faces = outcome.faces
    check_same_embedder(refs.space, ref_src, space_of(faces.embedder, faces.embed.shape[1]),
                        corpus_csv)
    rules = FaceRules() if rules is None else rules
    if not rules.is_main:
        bbox, quality = faces.bbox, faces.quality  # None: faces not judged on boxes
        face_clusters = np.asarray(outcome.track_labels, np.int64)[faces.group]
        threshold = refs.embedder.threshold
        named = name_clusters_by_votes(face_clusters, faces.embed, refs, threshold, rules,
                                       bbox, quality)
        return ClusterNaming(named, _backed_tracks(outcome, named, refs, threshold, rules,
                                                   bbox, quality))
    clus, rows = prototype_faces(outcome, settings) if chosen is None else chosen
    clusters, starts = np.unique(clus, return_index=True)
    offsets = np.append(starts, len(clus)).astype(np.int64)
    embedded = ClusterPrototypes([int(c) for c in clusters],
                                 np.ascontiguousarray(faces.embed[rows], np.float32), offsets)
    return ClusterNaming(name_clusters(embedded, refs, refs.embedder.threshold))


def _backed_tracks(outcome: ClusOutcome, named: list[NamedCluster], refs: ReferenceSet,
                   threshold: float, rules: FaceRules, bbox: np.ndarray | None,
                   quality: np.ndarray | None) -> set[TrackKey]:
    """Tracks of named clusters whose own faces vote for the cluster's person (`FaceRules`,
    as direct identification counts a track's votes, without its one-person-per-shot)."""
    faces = outcome.faces
    person_of = {int(n.clus[1:]): refs.labels.index(n.label) for n in named}
    track_person = np.array([person_of.get(int(c), -1) for c in outcome.track_labels],
                            np.int64)
    rows = np.flatnonzero(track_person[faces.group] >= 0)
    if len(rows) == 0:
        return set()
    groups, cands, _ = vote_groups(
        refs, faces.embed[rows], faces.group[rows], np.zeros(len(rows), np.int64),
        DirectParams(float(threshold), rules=rules),
        None if bbox is None else bbox[rows], None if quality is None else quality[rows])
    track = groups.seg[cands.group]
    agree = cands.person == track_person[track]
    return {(int(faces.track_video[t]), int(faces.track_seg[t]), int(faces.track_pers[t]))
            for t in track[agree]}
