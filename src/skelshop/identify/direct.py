"""Direct identification: which reference person each (shot, track) of a face dump shows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, check_same_embedder
from skelshop.formats.identity import IdentityRow
from skelshop.formats.references import ReferenceSet
from skelshop.formats.scenes import ShotList
from skelshop.identify.assignment import assign_shot
from skelshop.identify.distances import ReferenceMatrix, matches_within
from skelshop.identify.scoring import (
    Candidates,
    TrackGroups,
    add_medians,
    count_matches,
    count_votes,
    nearest_people,
)
from skelshop.identify.settings import FaceRules
from skelshop.identify.shot_check import shots_of_faces
from skelshop.space import space_of

# A full dump sees a track in many frames: a few agreeing frames are needed (the original's 3).
FULL_MIN_DETECTED_FRAMES = 3


@dataclass(frozen=True)
class DirectParams:
    """When a track counts as a person: thresholds in the embedder's metric, and the rules
    that keep unknown faces from being named (`FaceRules.main()`: none, main's behaviour)."""

    detection_threshold: float
    min_detected_frames: int = 1
    median_threshold: float = math.inf
    rules: FaceRules = field(default_factory=FaceRules.main)

    @classmethod
    def sparse(cls, embedder: EmbedderInfo, detection_threshold: float | None = None,
               rules: FaceRules | None = None) -> DirectParams:
        """Sparse dumps: faces within the threshold that pass `rules` (default: the defaults)."""
        return cls(_or(detection_threshold, embedder.threshold),
                   rules=FaceRules() if rules is None else rules)

    @classmethod
    def full(
        cls, embedder: EmbedderInfo, detection_threshold: float | None = None,
        min_detected_frames: int | None = None, median_threshold: float | None = None,
        rules: FaceRules | None = None,
    ) -> DirectParams:
        """Full dumps: enough frames within the threshold and a median within its own."""
        return cls(
            _or(detection_threshold, embedder.threshold),
            FULL_MIN_DETECTED_FRAMES if min_detected_frames is None else min_detected_frames,
            _or(median_threshold, embedder.threshold),
            rules=FaceRules() if rules is None else rules,
        )


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


@dataclass(frozen=True)
class Identification:
    """One (shot, track) identified as one reference label."""

    seg: int
    track: int
    label: str


def score_tracks(
    refs: ReferenceMatrix, embed: np.ndarray, groups: TrackGroups, params: DirectParams,
    progress: bool = False,
) -> Candidates:
    """Feasible (track group, person) pairs with their counts and medians."""
    matches = matches_within(embed, refs, params.detection_threshold, progress=progress)
    cands = count_matches(matches, groups, params.min_detected_frames)
    cands = add_medians(cands, groups, embed, refs, progress=progress)
    return cands.subset(cands.median <= params.median_threshold)


def _contested(shot: np.ndarray, group: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Candidates in shots where a track has several people or a person several tracks."""
    if len(shot) == 0:
        return np.zeros(0, bool)
    _, g_inv, g_count = np.unique(group, return_inverse=True, return_counts=True)
    pairs = np.stack([shot, person], axis=1)
    _, p_inv, p_count = np.unique(pairs, axis=0, return_inverse=True, return_counts=True)
    clash = (g_count[g_inv.reshape(-1)] > 1) | (p_count[p_inv.reshape(-1)] > 1)
    return np.isin(shot, shot[clash])


def face_clarity(quality: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """Detector score x sharpness term of each face: its dump quality without the size term
    (faces.selection.face_quality is score x size x sharpness)."""
    from skelshop.faces.selection import FULL_SIZE_SIDE

    side = np.minimum(bbox[:, 2] - bbox[:, 0], bbox[:, 3] - bbox[:, 1])
    size_term = np.clip(side / FULL_SIZE_SIDE, 1e-6, 1.0)
    return np.asarray(quality, np.float64) / size_term


def voting_faces(rules: FaceRules, bbox: np.ndarray | None,
                 quality: np.ndarray | None, n: int) -> np.ndarray:
    """Which faces may vote: tall and clear enough (a dump without boxes or quality is not
    judged on what it lacks)."""
    keep = np.ones(n, bool)
    if bbox is not None and len(bbox) == n and rules.min_face_px > 0:
        keep &= (bbox[:, 3] - bbox[:, 1]) >= rules.min_face_px
    if bbox is not None and quality is not None and len(quality) == n and rules.min_clarity > 0:
        keep &= face_clarity(quality, bbox) >= rules.min_clarity
    return keep


def face_radii(rules: FaceRules, threshold: float, bbox: np.ndarray | None,
               quality: np.ndarray | None, n: int) -> np.ndarray | None:
    """Each face's own match radius: `rules.clear_threshold` for large, clear faces (on which
    the same person comes out nearer, so a look-alike stranger is all that is left between
    that and the threshold), else the threshold; None when the rule is off or not judgeable."""
    if (rules.clear_threshold <= 0 or bbox is None or quality is None
            or len(bbox) != n or len(quality) != n):
        return None
    clear = ((bbox[:, 3] - bbox[:, 1]) >= rules.clear_face_px) & (
        face_clarity(quality, bbox) >= rules.clear_clarity)
    return np.where(clear, min(threshold, rules.clear_threshold), threshold)


def reference_radii(refs: ReferenceSet, threshold: float, rules: FaceRules) -> np.ndarray:
    """Each person's match radius: the threshold, tightened (with `rules.calibrate`) for a
    person whose reference images lie far apart, whose images cover more strangers."""
    radii = np.full(len(refs), float(threshold))
    if not rules.calibrate:
        return radii
    space = space_of(refs.embedder, refs.dim)
    for p, images in enumerate(refs.embeddings):
        if len(images) > 1:
            spread = float(np.median(space.distances(images, images)[np.triu_indices(len(images), 1)]))
            excess = max(0.0, spread - rules.calibrate_spread)
            radii[p] = max(threshold - excess, threshold * rules.calibrate_floor)
    return radii


def _voted_candidates(
    refs: ReferenceSet, embed: np.ndarray, groups: TrackGroups, params: DirectParams,
    progress: bool, own_radius: np.ndarray | None,
) -> Candidates:
    """Candidates from faces that vote for their nearest person where the vote holds."""
    rules = params.rules
    matrix = ReferenceMatrix.from_references(refs)
    nearest = nearest_people(matrix, embed, params.detection_threshold + rules.margin,
                             progress=progress)
    radius = reference_radii(refs, params.detection_threshold, rules)
    cands = count_votes(nearest, groups, radius, rules.margin,
                        max(params.min_detected_frames, rules.min_votes), rules.agreement,
                        face_radius=own_radius)
    cands = add_medians(cands, groups, embed, matrix, progress=progress)
    return cands.subset(cands.median <= params.median_threshold)


def vote_groups(
    refs: ReferenceSet, embed: np.ndarray, seg: np.ndarray, track: np.ndarray,
    params: DirectParams, bbox: np.ndarray | None = None, quality: np.ndarray | None = None,
    progress: bool = False,
) -> tuple[TrackGroups, Candidates, np.ndarray]:
    """Under `params.rules` (not main's): the (seg, track) groups of the faces that may vote,
    the (group, person) pairs their votes name, and the rows of `embed` that voted groups
    are made of (so a caller can look the group's faces up: `kept[groups.faces_of(g)]`).

    Direct identification groups by (shot, track); cluster naming by (cluster, 0)."""
    n = len(embed)
    keep = voting_faces(params.rules, bbox, quality, n)
    own = face_radii(params.rules, params.detection_threshold, bbox, quality, n)
    kept = np.flatnonzero(keep)
    groups = TrackGroups.from_faces(np.asarray(seg)[keep], np.asarray(track)[keep])
    cands = _voted_candidates(refs, embed[keep], groups, params, progress,
                              None if own is None else own[keep])
    return groups, cands, kept


def identify_tracks(
    refs: ReferenceSet, embed: np.ndarray, seg: np.ndarray, track: np.ndarray,
    params: DirectParams, progress: bool = False, bbox: np.ndarray | None = None,
    quality: np.ndarray | None = None,
) -> list[Identification]:
    """Label (shot, track) groups of faces one-to-one per shot with reference people.

    Under `params.rules`, only faces that pass the quality gate (`bbox`, `quality`) vote.
    """
    if params.rules.is_main:
        matrix = ReferenceMatrix.from_references(refs)
        groups = TrackGroups.from_faces(seg, track)
        cands = score_tracks(matrix, embed, groups, params, progress=progress)
    else:
        groups, cands, _ = vote_groups(refs, embed, seg, track, params, bbox, quality,
                                       progress=progress)
    shot_of = groups.seg[cands.group]
    track = groups.track[cands.group]
    contested = _contested(shot_of, cands.group, cands.person)
    # Shots where no track wants two people and no person two tracks need no solver.
    found = [Identification(int(s), int(t), refs.labels[p]) for s, t, p in zip(
        shot_of[~contested], track[~contested], cands.person[~contested], strict=True)]
    order = np.flatnonzero(contested)
    order = order[np.argsort(shot_of[order], kind="stable")]
    bounds = np.flatnonzero(np.diff(shot_of[order])) + 1
    for idx in np.split(order, bounds) if len(order) else []:
        chosen = assign_shot(track[idx], cands.person[idx], cands.count[idx], cands.median[idx])
        shot = int(shot_of[idx[0]])
        found += [Identification(shot, t, refs.labels[p]) for t, p in chosen]
    return sorted(found, key=lambda f: (f.seg, f.track))


def identify_dump(
    refs: ReferenceSet, ref_src: str | Path, dump: FaceDump, faces_src: str | Path,
    shots: ShotList, scenes_src: str | Path, params: DirectParams,
    with_times: bool = False, progress: bool = False,
) -> list[IdentityRow]:
    """Identity rows `seg,skel_id,label` (and shot times) for one video's face dump."""
    check_same_embedder(refs.space, ref_src, dump.space, faces_src)
    if with_times and not dump.fps > 0:
        raise SkelshopError(faces_src, "records no frame rate, so shot times are unknown")
    seg = shots_of_faces(dump, shots, scenes_src, faces_src)
    found = identify_tracks(refs, dump.embed, seg, dump.pers, params, progress=progress,
                            bbox=dump.bbox, quality=dump.quality)
    rows = []
    for ident in found:
        start = end = None
        if with_times:
            try:
                first, stop = shots.bounds(ident.seg, dump.num_frames or None)
            except ValueError:
                raise SkelshopError(scenes_src, "does not say where the last shot ends") from None
            start, end = first / dump.fps, stop / dump.fps
        rows.append(IdentityRow(ident.seg, ident.track, ident.label, start, end))
    return rows
