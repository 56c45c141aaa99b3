"""One-to-one matching of tracks and people within each shot (Hungarian algorithm)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def assign_shot(
    track: np.ndarray, person: np.ndarray, count: np.ndarray, median: np.ndarray
) -> list[tuple[int, int]]:
    """Feasible (track, person) pairs of one shot -> a one-to-one choice of them.

    The matching maximises the number of matched faces first and, among those, minimises the
    summed median distance. Pairs not offered are never chosen.
    """
    if len(track) == 0:
        return []
    tracks, row = np.unique(track, return_inverse=True)
    people, col = np.unique(person, return_inverse=True)
    if len(tracks) == len(track) and len(people) == len(person):
        return [(int(t), int(p)) for t, p in zip(track, person, strict=True)]  # no conflicts
    # Lexicographic cost in one number: one more matched face must outweigh any possible
    # difference in summed medians, which is below (matches + 1) * (max median + 1).
    weight = (min(len(tracks), len(people)) + 1) * (float(np.max(median)) + 1.0)
    cost = np.zeros((len(tracks), len(people)))  # 0 = not offered: no better than no match
    cost[row, col] = -weight * count.astype(np.float64) + median
    rows, cols = linear_sum_assignment(cost)
    offered = np.zeros_like(cost, dtype=bool)
    offered[row, col] = True
    return [(int(tracks[r]), int(people[c])) for r, c in zip(rows, cols, strict=True)
            if offered[r, c]]
