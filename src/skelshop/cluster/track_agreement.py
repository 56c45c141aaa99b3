"""How well a clustering agrees with what tracking already tells us, without ground truth.

Faces of one track are one person (must-link); two tracks seen at the same time in the
same shot are two people (cannot-link). A clustering that lumps everyone satisfies every
must-link and no cannot-link; one that leaves everything noise the reverse. The
agreement is the harmonic mean of the two rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISE = -1


@dataclass(frozen=True)
class TrackAgreement:
    """Must-link and cannot-link satisfaction rates, and their harmonic mean."""

    must_link: float  # within-track face pairs that share a (non-noise) cluster
    cannot_link: float  # co-occurring track pairs not put in the same cluster
    n_must: int
    n_cannot: int

    @property
    def agreement(self) -> float:
        """Harmonic mean of the two rates."""
        total = self.must_link + self.cannot_link
        return 0.0 if total == 0 else 2 * self.must_link * self.cannot_link / total


def cooccurring_groups(scene: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """(m, 2) pairs of groups in the same scene whose [first, last] frame spans overlap."""
    scene, first, last = (np.asarray(a, dtype=np.int64) for a in (scene, first, last))
    order = np.lexsort((first, scene))
    s, f, la = scene[order], first[order], last[order]
    pairs = []
    active = np.arange(len(order))
    step = 1
    # sorted by start: once a later group starts after this one ends, no later one overlaps
    while len(active):
        partner = active + step
        ok = partner < len(order)
        active, partner = active[ok], partner[ok]
        overlap = (s[partner] == s[active]) & (f[partner] <= la[active])
        active, partner = active[overlap], partner[overlap]
        pairs.append(np.stack([order[active], order[partner]], axis=1))
        step += 1
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


def track_agreement(face_labels: np.ndarray, face_group: np.ndarray, group_labels: np.ndarray,
                    cannot_pairs: np.ndarray) -> TrackAgreement:
    """Score face labels against tracks and group labels against co-occurring tracks."""
    face_labels = np.asarray(face_labels, dtype=np.int64)
    face_group = np.asarray(face_group, dtype=np.int64)
    sizes = np.bincount(face_group).astype(np.float64)
    n_must = float((sizes * (sizes - 1) / 2).sum())
    clustered = face_labels >= 0
    if clustered.any():
        span = int(face_labels.max()) + 1
        _, together = np.unique(face_group[clustered] * span + face_labels[clustered],
                                return_counts=True)
        satisfied = float((together * (together - 1) / 2).sum())
    else:
        satisfied = 0.0
    must = satisfied / n_must if n_must else 1.0
    cannot_pairs = np.asarray(cannot_pairs, dtype=np.int64).reshape(-1, 2)
    if len(cannot_pairs):
        a, b = group_labels[cannot_pairs[:, 0]], group_labels[cannot_pairs[:, 1]]
        cannot = float(((a != b) | (a == NOISE)).mean())
    else:
        cannot = 1.0
    return TrackAgreement(must, cannot, int(n_must), len(cannot_pairs))
