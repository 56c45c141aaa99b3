"""Synthetic face-like embeddings with ground truth, for tests and benchmarks.

Shaped after what `skelshop face embed` produces from TV footage with dlib's 128-D
descriptors: unit norm; identities whose number of appearances (tracks) follows a Zipf
law (a few anchors seen thousands of times, a long tail seen once); each track holds
up to 3 faces (sparse dumps keep the best 3), close together (~0.2, one shot's lighting
and pose); appearances of one identity ~0.35-0.4 apart; different identities ~0.8 apart
(all share a common direction, as real face embeddings do); the spread differs between
identities (pose and lighting vary more for some people).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIM = 128
ZIPF_A = 1.8
MAX_IDENTITY_FRAC = 0.02  # the most frequent identity has at most 2% of the tracks
BETWEEN_SCALE = 0.60
TRACK_SCALE = 0.22
FACE_SCALE = 0.15
SPREAD_SIGMA = 0.25
FACES_PER_TRACK_P = (0.10, 0.15, 0.75)  # tracks with 1, 2, 3 faces


@dataclass(frozen=True)
class FaceLike:
    """Embeddings with their identity and track of each row (rows shuffled)."""

    x: np.ndarray  # float32 (n, dim), unit norm
    identity: np.ndarray  # int64 (n,)
    track: np.ndarray  # int64 (n,)


def _zipf_sizes(total: int, rng: np.random.Generator) -> np.ndarray:
    cap = max(1, int(total * MAX_IDENTITY_FRAC))
    parts, count = [], 0
    while count < total:
        draw = np.minimum(rng.zipf(ZIPF_A, size=max(16, total // 4)), cap)
        parts.append(draw)
        count += int(draw.sum())
    sizes = np.concatenate(parts)
    return sizes[: int(np.searchsorted(np.cumsum(sizes), total)) + 1]


def face_like_tracks(n: int, seed: int = 0, dim: int = DIM) -> FaceLike:
    """`n` face-like embeddings with identity and track labels."""
    rng = np.random.default_rng(seed)
    mean_faces = float(np.dot(FACES_PER_TRACK_P, [1, 2, 3]))
    tracks_per_id = _zipf_sizes(int(n / mean_faces) + 1, rng)
    n_ids = len(tracks_per_id)
    common = rng.standard_normal(dim)
    common /= np.linalg.norm(common)
    centres = common + BETWEEN_SCALE * rng.standard_normal((n_ids, dim)) / np.sqrt(dim)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = np.exp(SPREAD_SIGMA * rng.standard_normal(n_ids))
    track_id = np.repeat(np.arange(n_ids), tracks_per_id)  # identity of each track
    faces_per_track = rng.choice([1, 2, 3], size=len(track_id), p=FACES_PER_TRACK_P)
    face_track = np.repeat(np.arange(len(track_id)), faces_per_track)
    while len(face_track) < n:  # rare: the draw fell short; add one face per track
        face_track = np.sort(np.concatenate([face_track, np.arange(len(track_id))]))
    face_track = face_track[:n]
    used = int(face_track.max()) + 1
    track_centre = centres[track_id[:used]] + (
        TRACK_SCALE * spread[track_id[:used], None] / np.sqrt(dim)
    ) * rng.standard_normal((used, dim))
    out = np.empty((n, dim), dtype=np.float32)
    step = 1 << 16  # bounded temporaries at 10^6+ faces
    for start in range(0, n, step):
        tr = face_track[start:start + step]
        noise = rng.standard_normal((len(tr), dim))
        block = track_centre[tr] + (FACE_SCALE / np.sqrt(dim)) * noise
        out[start:start + step] = block / np.linalg.norm(block, axis=1, keepdims=True)
    order = rng.permutation(n)
    identity = track_id[face_track]
    return FaceLike(out[order], identity[order].astype(np.int64),
                    face_track[order].astype(np.int64))


def face_like(n: int, seed: int = 0, dim: int = DIM) -> tuple[np.ndarray, np.ndarray]:
    """`n` face-like embeddings and their identity labels."""
    data = face_like_tracks(n, seed, dim)
    return data.x, data.identity


SHOT_TRACK_FRAC = 0.3  # tracks that share a shot with other people
SHOT_SIZES = (2, 3, 4, 6)  # people on screen together in such a shot


def group_shots(track: np.ndarray, identity: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per track, the group shot it is in (-1: none): a share of tracks put in shots of 2-6.

    Within a shot every person is different (a second track of one identity drawn for a
    shot is left out of it, -1), as in footage.
    """
    rng = np.random.default_rng(seed + 1)
    n_tracks = int(track.max()) + 1
    track_identity = np.zeros(n_tracks, dtype=np.int64)
    track_identity[track] = identity
    chosen = rng.permutation(n_tracks)[: int(n_tracks * SHOT_TRACK_FRAC)]
    shot_of = np.full(n_tracks, -1, dtype=np.int64)
    start, n_shots = 0, 0
    while start < len(chosen):
        size = int(rng.choice(SHOT_SIZES))
        shot = chosen[start:start + size]
        start += size
        _, first = np.unique(track_identity[shot], return_index=True)
        if len(first) > 1:
            shot_of[shot[first]] = n_shots
            n_shots += 1
    return shot_of


def group_shot_pairs(track: np.ndarray, identity: np.ndarray, seed: int = 0) -> np.ndarray:
    """(P, 2) track pairs seen together in the `group_shots` (the cannot-links a corpus run finds)."""
    shot_of = group_shots(track, identity, seed)
    members = np.flatnonzero(shot_of >= 0)
    members = members[np.lexsort((members, shot_of[members]))]
    pairs: list[tuple[int, int]] = []
    bounds = np.flatnonzero(np.diff(shot_of[members])) + 1
    for shot in np.split(members, bounds):
        pairs += [(int(a), int(b)) for i, a in enumerate(shot) for b in shot[i + 1:]]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
