"""Put names on a clustered corpus: direct identification and cluster naming from references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.corpus.manual_names import Naming
from skelshop.corpus_clustering.faces import CorpusFaces
from skelshop.corpus_clustering.outputs import prototype_faces
from skelshop.corpus_clustering.run import ClusOutcome, ClusSettings
from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.face_dump import check_same_embedder, read_face_dump
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

__all__ = ["ClusterNaming", "Naming", "TrackKey", "cluster_names", "direct_names"]


def direct_names(entries: list[CorpusEntry], refs: ReferenceSet, ref_src: str | Path,
                 mode: str, rules: FaceRules | None = None) -> dict[TrackKey, Naming]:
    """Identify every video's tracks against the references (one-to-one per shot), under
    `rules` (default: identify.settings' defaults)."""
    found: dict[TrackKey, Naming] = {}
    ref_by_label = dict(zip(refs.labels, refs.embeddings, strict=True))
    for video_idx, entry in enumerate(entries):
        dump = read_face_dump(entry.faces)
        if len(dump) == 0:
            continue
        assert entry.group is not None
        params = (DirectParams.sparse(dump.embedder, rules=rules) if mode == "sparse"
                  else DirectParams.full(dump.embedder, rules=rules))
        rows = identify_dump(refs, ref_src, dump, entry.faces, read_shots(entry.group),
                             entry.group, params)
        seg = dump.seg if dump.seg is not None else np.full(len(dump), -1)
        for row in rows:
            faces = dump.embed[(seg == row.seg) & (dump.pers == row.skel_id)]
            space = space_of(dump.embedder, dump.dim)
            dist = float(space.distances(faces, ref_by_label[row.label]).min())
            found[(video_idx, row.seg, row.skel_id)] = Naming(row.label, dist)
    return found


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
        bbox, quality = _face_boxes(faces)
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


def _face_boxes(faces: CorpusFaces) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Box and quality of every corpus face, from its video's dump (None where a dump lacks
    them: those faces are then not judged on what the dump does not say)."""
    bbox = np.full((faces.n_faces, 4), np.nan)
    quality = np.full(faces.n_faces, np.nan)
    for video_idx, path in enumerate(faces.face_dumps):
        rows = np.flatnonzero(faces.video_idx == video_idx)
        if len(rows) == 0:
            continue
        dump = read_face_dump(path)
        if dump.bbox is None or dump.quality is None or len(dump) == 0:
            return None, None
        # The corpus keeps a dump's faces; find each by (frame, track), not by position.
        key = dump.frame.astype(np.int64) * (int(dump.pers.max()) + 2) + dump.pers + 1
        want = faces.frame[rows] * (int(dump.pers.max()) + 2) + faces.pers[rows] + 1
        order = np.argsort(key, kind="stable")
        pos = np.clip(np.searchsorted(key[order], want), 0, len(key) - 1)
        found = order[pos]
        if not np.array_equal(key[found], want):
            return None, None  # the dump changed under the corpus: judge no face on it
        bbox[rows] = dump.bbox[found]
        quality[rows] = dump.quality[found]
    return bbox, quality
