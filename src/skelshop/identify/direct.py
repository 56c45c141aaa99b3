"""Direct identification: which reference person each (shot, track) of a face dump shows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, check_same_embedder
from skelshop.formats.identity import IdentityRow
from skelshop.formats.references import ReferenceSet
from skelshop.formats.scenes import ShotList
from skelshop.identify.assignment import assign_shot
from skelshop.identify.distances import ReferenceMatrix, matches_within
from skelshop.identify.scoring import Candidates, TrackGroups, add_medians, count_matches
from skelshop.identify.shot_check import shots_of_faces

# A full dump sees a track in many frames: a few agreeing frames are needed (the original's 3).
FULL_MIN_DETECTED_FRAMES = 3


@dataclass(frozen=True)
class DirectParams:
    """When a track counts as a person: thresholds in the embedder's metric."""

    detection_threshold: float
    min_detected_frames: int = 1
    median_threshold: float = math.inf

    @classmethod
    def sparse(cls, embedder: EmbedderInfo, detection_threshold: float | None = None) -> DirectParams:
        """Sparse dumps: any face within the threshold makes a track a candidate."""
        return cls(_or(detection_threshold, embedder.threshold))

    @classmethod
    def full(
        cls, embedder: EmbedderInfo, detection_threshold: float | None = None,
        min_detected_frames: int | None = None, median_threshold: float | None = None,
    ) -> DirectParams:
        """Full dumps: enough frames within the threshold and a median within its own."""
        return cls(
            _or(detection_threshold, embedder.threshold),
            FULL_MIN_DETECTED_FRAMES if min_detected_frames is None else min_detected_frames,
            _or(median_threshold, embedder.threshold),
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


def identify_tracks(
    refs: ReferenceSet, embed: np.ndarray, seg: np.ndarray, track: np.ndarray,
    params: DirectParams, progress: bool = False,
) -> list[Identification]:
    """Label (shot, track) groups of faces one-to-one per shot with reference people."""
    matrix = ReferenceMatrix.from_references(refs)
    groups = TrackGroups.from_faces(seg, track)
    cands = score_tracks(matrix, embed, groups, params, progress=progress)
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
    check_same_embedder(refs.embedder, ref_src, dump.embedder, faces_src)
    if refs.embedder.metric != dump.embedder.metric:
        raise SkelshopError(faces_src, f"metric {dump.embedder.metric!r} differs from "
                            f"{refs.embedder.metric!r} of {ref_src}")
    if refs.dim is not None and len(dump) and refs.dim != dump.dim:
        raise SkelshopError(faces_src, f"embedding dimension {dump.dim} differs from "
                            f"{refs.dim} of {ref_src}")
    if with_times and not dump.fps > 0:
        raise SkelshopError(faces_src, "records no frame rate, so shot times are unknown")
    seg = shots_of_faces(dump, shots, scenes_src, faces_src)
    found = identify_tracks(refs, dump.embed, seg, dump.pers, params, progress=progress)
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
