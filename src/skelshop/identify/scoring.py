"""Per (shot, track) and person: how many faces match within the threshold, and the median distance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from skelshop.identify.distances import (
    FaceMatches,
    ReferenceMatrix,
    matches_within,
    person_distances,
)


@dataclass
class TrackGroups:
    """Faces grouped by (shot, track): group g holds faces order[starts[g]:starts[g+1]]."""

    seg: np.ndarray  # int64 (G,) shot of each group
    track: np.ndarray  # int64 (G,) track id of each group
    of_face: np.ndarray  # int64 (N,) group of each face
    order: np.ndarray  # int64 (N,) faces sorted by group
    starts: np.ndarray  # int64 (G + 1,)

    @classmethod
    def from_faces(cls, seg: np.ndarray, track: np.ndarray) -> TrackGroups:
        """Group faces by their (shot, track) pair."""
        seg = np.asarray(seg, dtype=np.int64)
        track = np.asarray(track, dtype=np.int64)
        pairs = np.stack([seg, track], axis=1) if len(seg) else np.zeros((0, 2), np.int64)
        keys, of_face = np.unique(pairs, axis=0, return_inverse=True)
        of_face = of_face.reshape(-1).astype(np.int64)
        order = np.argsort(of_face, kind="stable")
        starts = np.concatenate([[0], np.cumsum(np.bincount(of_face, minlength=len(keys)))])
        return cls(keys[:, 0], keys[:, 1], of_face, order, starts.astype(np.int64))

    def __len__(self) -> int:
        return len(self.seg)

    def faces_of(self, group: int) -> np.ndarray:
        """Indices of the faces in one group."""
        return self.order[self.starts[group]:self.starts[group + 1]]


@dataclass
class Candidates:
    """(group, person) pairs with their matched-face count and median distance."""

    group: np.ndarray  # int64 (C,)
    person: np.ndarray  # int64 (C,)
    count: np.ndarray  # int64 (C,) faces within the detection threshold
    median: np.ndarray  # float64 (C,) median distance over all the group's faces

    def subset(self, mask: np.ndarray) -> Candidates:
        """The candidates where `mask` holds."""
        return Candidates(self.group[mask], self.person[mask], self.count[mask], self.median[mask])


def count_matches(matches: FaceMatches, groups: TrackGroups, min_count: int) -> Candidates:
    """Count each group's faces within threshold per person; keep pairs with >= min_count."""
    group = groups.of_face[matches.face]
    pairs = np.stack([group, matches.person], axis=1) if len(group) else np.zeros((0, 2), np.int64)
    keys, counts = np.unique(pairs, axis=0, return_counts=True)
    keep = counts >= max(1, min_count)
    keys = keys[keep]
    return Candidates(keys[:, 0].astype(np.int64), keys[:, 1].astype(np.int64),
                      counts[keep].astype(np.int64), np.full(int(keep.sum()), np.nan))


def _segment_medians(values: np.ndarray, segment: np.ndarray, n_segments: int) -> np.ndarray:
    """Median of `values` within each segment id 0..n_segments-1 (every segment non-empty)."""
    order = np.lexsort((values, segment))
    ordered = values[order]
    sizes = np.bincount(segment, minlength=n_segments)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return 0.5 * (ordered[starts + (sizes - 1) // 2] + ordered[starts + sizes // 2])


def add_medians(
    cands: Candidates, groups: TrackGroups, embed: np.ndarray, refs: ReferenceMatrix,
    progress: bool = False,
) -> Candidates:
    """Fill in the median distance of every face of the group to the person (min over images)."""
    median = np.empty(len(cands.group))
    if len(cands.group) == 0:
        return Candidates(cands.group, cands.person, cands.count, median)
    # One pass per person: all faces of all that person's candidate groups against its images.
    by_person = np.argsort(cands.person, kind="stable")
    bounds = np.flatnonzero(np.diff(cands.person[by_person])) + 1
    for idx in tqdm(np.split(by_person, bounds), desc="medians", unit="person",
                    disable=not progress):
        group = cands.group[idx]
        sizes = groups.starts[group + 1] - groups.starts[group]
        member = np.repeat(np.arange(len(idx)), sizes)
        within = np.arange(len(member)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        faces = groups.order[groups.starts[group][member] + within]
        dist = person_distances(embed[faces], refs, cands.person[idx[:1]])[:, 0]
        median[idx] = _segment_medians(dist, member, len(idx))
    return Candidates(cands.group, cands.person, cands.count, median)


@dataclass
class NearestPeople:
    """Each face's nearest and second-nearest person (min over each person's images), as far
    as a search radius reaches: -1 / inf beyond it."""

    best: np.ndarray  # int64 (N,) person index, -1 when nobody is within reach
    best_dist: np.ndarray  # float64 (N,), inf when nobody is within reach
    second_dist: np.ndarray  # float64 (N,), inf when no second person is within reach


def nearest_people(refs: ReferenceMatrix, embed: np.ndarray, reach: float,
                   progress: bool = False) -> NearestPeople:
    """Nearest and second-nearest person of every face within `reach` (a range search, so it
    scales like main's matching; a margin test needs no farther than threshold + margin)."""
    n = len(embed)
    best = np.full(n, -1, np.int64)
    best_dist = np.full(n, np.inf)
    second_dist = np.full(n, np.inf)
    matches = matches_within(embed, refs, reach, progress=progress)
    if len(matches.face) == 0:
        return NearestPeople(best, best_dist, second_dist)
    order = np.lexsort((matches.person, matches.dist, matches.face))
    face, person, dist = matches.face[order], matches.person[order], matches.dist[order]
    first = np.ones(len(face), bool)
    first[1:] = face[1:] != face[:-1]
    best[face[first]] = person[first]
    best_dist[face[first]] = dist[first]
    second = np.zeros(len(face), bool)
    second[1:] = first[:-1] & ~first[1:]  # the row right after a face's first, same face
    second_dist[face[second]] = dist[second]
    return NearestPeople(best, best_dist, second_dist)


def count_votes(nearest: NearestPeople, groups: TrackGroups, radius: np.ndarray,
                margin: float, min_votes: int, agreement: float,
                face_radius: np.ndarray | None = None) -> Candidates:
    """(group, person) pairs that the group's faces vote for, where the vote holds.

    A face votes for its nearest person when it lies within that person's `radius` (and
    its own `face_radius`, when given) and at least `margin` nearer to them than to anyone
    else; a pair stands with >= `min_votes` votes that are >= `agreement` of the group's faces.
    """
    valid = nearest.best >= 0
    person = np.where(valid, nearest.best, 0)
    limit = radius[person] if face_radius is None else np.minimum(radius[person], face_radius)
    gap = np.where(valid, nearest.second_dist - np.where(valid, nearest.best_dist, 0.0), 0.0)
    votes = valid & (nearest.best_dist <= limit) & (gap >= margin)
    face = np.flatnonzero(votes)
    matches = FaceMatches(face.astype(np.int64), nearest.best[face], nearest.best_dist[face])
    cands = count_matches(matches, groups, min_votes)
    size = groups.starts[cands.group + 1] - groups.starts[cands.group]
    return cands.subset(cands.count >= agreement * size - 1e-9)
