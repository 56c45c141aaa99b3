"""Name clusters by their prototypes: person-cluster distance = min over image × prototype pairs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from skelshop.errors import SkelshopError
from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.face_dump import FaceDump, check_same_embedder, read_face_dump
from skelshop.formats.identifications import Identification, cluster_name
from skelshop.formats.prototypes import Prototype
from skelshop.formats.references import ReferenceSet
from skelshop.identify.direct import DirectParams, vote_groups
from skelshop.identify.distances import ReferenceMatrix, matches_within, person_distances
from skelshop.identify.settings import FaceRules


@dataclass
class ClusterPrototypes:
    """Prototype embeddings grouped by cluster: rows offsets[i]:offsets[i+1] are clusters[i]'s."""

    clusters: list[int]
    embed: np.ndarray  # float32 (P, D)
    offsets: np.ndarray  # int64 (C + 1,)


@dataclass(frozen=True)
class NamedCluster:
    """A cluster, the person it is named as, and the distance that decided it."""

    clus: str
    label: str
    dist: float


def load_prototype_embeddings(protos: list[Prototype], protos_path: str | Path,
                              corpus: list[CorpusEntry], refs: ReferenceSet,
                              ref_path: str | Path) -> ClusterPrototypes:
    """Look up each prototype's embedding in its video's face dump (refusing other embedders)."""
    dumps: dict[int, tuple[FaceDump, dict[tuple[int, int], int]]] = {}
    by_cluster: dict[int, list[np.ndarray]] = {}
    for lineno, proto in enumerate(protos, 2):
        if not 0 <= proto.video_idx < len(corpus):
            raise SkelshopError(protos_path, f"line {lineno}: video {proto.video_idx} is not in "
                                             f"the corpus ({len(corpus)} videos)")
        if proto.video_idx not in dumps:
            entry = corpus[proto.video_idx]
            dump = read_face_dump(entry.faces)
            check_same_embedder(refs.space, ref_path, dump.space, entry.faces)
            rows = {(int(f), int(p)): i for i, (f, p) in enumerate(zip(dump.frame, dump.pers,
                                                                        strict=True))}
            dumps[proto.video_idx] = (dump, rows)
        dump, rows = dumps[proto.video_idx]
        row = rows.get((proto.frame_num, proto.pers_id))
        if row is None:
            past = dump.num_frames and proto.frame_num >= dump.num_frames
            where = (f"past the end of the video ({dump.num_frames} frames)" if past
                     else f"not a face in {corpus[proto.video_idx].faces}")
            raise SkelshopError(protos_path, f"line {lineno}: frame {proto.frame_num}, track "
                                             f"{proto.pers_id} of video {proto.video_idx} is {where}")
        by_cluster.setdefault(proto.clus_idx, []).append(dump.embed[row])
    clusters = sorted(by_cluster)
    counts = [len(by_cluster[c]) for c in clusters]
    dim = refs.dim or 0
    embed = (np.stack([e for c in clusters for e in by_cluster[c]]).astype(np.float32)
             if clusters else np.zeros((0, dim), np.float32))
    return ClusterPrototypes(clusters, embed, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


@dataclass
class ClusterMatches:
    """Sparse (cluster position, person, distance) triplets within the threshold, min-pooled."""

    cluster: np.ndarray  # int64 (K,) position in ClusterPrototypes.clusters
    person: np.ndarray  # int64 (K,) index into the reference labels
    dist: np.ndarray  # float64 (K,)


def cluster_matches(protos: ClusterPrototypes, refs: ReferenceSet, thresh: float,
                    progress: bool = False) -> ClusterMatches:
    """Every (cluster, person) whose min distance over image × prototype pairs is <= thresh."""
    found = matches_within(protos.embed, ReferenceMatrix.from_references(refs), thresh,
                           progress=progress)
    owner = np.repeat(np.arange(len(protos.clusters)), np.diff(protos.offsets))
    cluster = owner[found.face]
    # Min over each cluster's prototypes: sort by (cluster, person, distance), keep the first.
    order = np.lexsort((found.dist, found.person, cluster))
    cluster, person, dist = cluster[order], found.person[order], found.dist[order]
    first = np.ones(len(order), bool)
    first[1:] = (cluster[1:] != cluster[:-1]) | (person[1:] != person[:-1])
    return ClusterMatches(cluster[first], person[first], dist[first])


def _nearest_person_per_cluster(m: ClusterMatches) -> list[tuple[int, int, float]]:
    order = np.lexsort((m.person, m.dist, m.cluster))
    cluster = m.cluster[order]
    first = np.ones(len(order), bool)
    first[1:] = cluster[1:] != cluster[:-1]
    pick = order[first]
    return [(int(m.cluster[i]), int(m.person[i]), float(m.dist[i])) for i in pick]


def _one_to_one(m: ClusterMatches) -> list[tuple[int, int, float]]:
    clusters, c_pos = np.unique(m.cluster, return_inverse=True)
    people, p_pos = np.unique(m.person, return_inverse=True)
    cost = np.full((len(clusters), len(people)), np.inf)
    cost[c_pos, p_pos] = m.dist
    # Pairs beyond the threshold cost more than any set of feasible ones, so the matching
    # takes as many feasible pairs as it can, then the closest; the others are dropped.
    finite = np.isfinite(cost)
    penalty = (m.dist.max() if len(m.dist) else 0.0) * (cost.size + 1) + 1.0
    rows, cols = linear_sum_assignment(np.where(finite, cost, penalty))
    return [(int(clusters[r]), int(people[c]), float(cost[r, c]))
            for r, c in zip(rows, cols, strict=True) if finite[r, c]]


def name_clusters(protos: ClusterPrototypes, refs: ReferenceSet, thresh: float,
                  one_to_one: bool = False, progress: bool = False) -> list[NamedCluster]:
    """Each cluster takes its nearest person within `thresh`; `one_to_one` uses Hungarian matching."""
    matches = cluster_matches(protos, refs, thresh, progress)
    pairs = _one_to_one(matches) if one_to_one else _nearest_person_per_cluster(matches)
    named = [NamedCluster(cluster_name(protos.clusters[c]), refs.labels[p], d) for c, p, d in pairs]
    return sorted(named, key=lambda n: int(n.clus[1:]))


def name_clusters_by_votes(face_clusters: np.ndarray, embed: np.ndarray, refs: ReferenceSet,
                           thresh: float, rules: FaceRules, bbox: np.ndarray | None = None,
                           quality: np.ndarray | None = None) -> list[NamedCluster]:
    """Name clusters on the evidence direct identification asks of a track (`FaceRules`).

    `face_clusters`: each face's cluster number (< 0: in none). The cluster's faces that pass
    the quality gate vote for their nearest person (within that person's radius, the
    clear-face radius for large clear faces, and `rules.margin` nearer than anyone else); the
    cluster takes the person with the most votes when they are >= `rules.min_votes` and
    >= `rules.agreement` of its voting faces, and no other person has as many. A cluster
    of strangers, whose faces are each only somewhat near some reference, gets no name.
    """
    face_clusters = np.asarray(face_clusters, dtype=np.int64)
    inside = np.flatnonzero(face_clusters >= 0)
    if len(inside) == 0 or len(refs) == 0:
        return []
    params = DirectParams(float(thresh), rules=rules)
    groups, cands, kept = vote_groups(
        refs, embed[inside], face_clusters[inside], np.zeros(len(inside), np.int64), params,
        None if bbox is None else bbox[inside], None if quality is None else quality[inside])
    if len(cands.group) == 0:
        return []
    matrix = ReferenceMatrix.from_references(refs)
    named = []
    # Per cluster, candidates by most votes then nearest median: the first one is the pick.
    order = np.lexsort((cands.median, -cands.count, cands.group))
    group = cands.group[order]
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    for at in first:
        best, g = order[at], int(group[at])
        runner = order[at + 1] if at + 1 < len(order) and group[at + 1] == g else None
        if runner is not None and cands.count[runner] == cands.count[best]:
            continue  # as many votes for another person: the cluster says nothing
        faces = inside[kept[groups.faces_of(g)]]
        dist = float(person_distances(embed[faces], matrix, cands.person[best:best + 1]).min())
        named.append(NamedCluster(cluster_name(int(groups.seg[g])), refs.labels[cands.person[best]],
                                  dist))
    return sorted(named, key=lambda n: int(n.clus[1:]))


def as_identifications(named: list[NamedCluster]) -> list[Identification]:
    """The rows of an identifications CSV."""
    return [Identification(label=n.label, clus=n.clus) for n in named]
