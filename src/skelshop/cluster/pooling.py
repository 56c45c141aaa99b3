"""Pooling faces to groups (in skelshop: (video, shot, track)), vectorised.

- vote: cluster the faces, then each group takes the label most of its faces got;
  noise is not a vote; a tie between the top labels, or no votes at all, gives noise.
- med: each group is represented by its medoid face (the member with the smallest
  summed distance to the other members: a real face, not a coordinate-wise median).
- min: groups are compared by the minimum distance between their faces; the group kNN
  graph is read off a face kNN graph, with rows it cannot fill searched exactly.
Distances are the embedding space's (`space`, dlib's Euclidean one unless given).
"""

from __future__ import annotations

import numpy as np

from skelshop.cluster.knn.exact import exact_search
from skelshop.cluster.knn.graph import KnnGraph
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

NOISE = -1
# Faces per group assumed when sizing the face graph for min pooling; larger groups
# are still handled (by the exact completion step), just less cheaply.
MIN_POOL_FACES = 8
_MEDOID_BLOCK = 1 << 22  # elements per temporary in medoid computation


def vote_labels(labels: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Majority non-noise label of each group; ties and groups without votes -> NOISE."""
    labels = np.asarray(labels, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    out = np.full(n_groups, NOISE, dtype=np.int32)
    voting = labels >= 0
    if not voting.any():
        return out
    span = int(labels.max()) + 1
    keys, counts = np.unique(groups[voting] * span + labels[voting], return_counts=True)
    grp, lab = keys // span, keys % span
    order = np.lexsort((lab, -counts, grp))
    grp, lab, counts = grp[order], lab[order], counts[order]
    first = np.ones(len(grp), dtype=bool)
    first[1:] = grp[1:] != grp[:-1]
    top = np.flatnonzero(first)
    runner_up = top + 1
    has_runner = runner_up < len(grp)
    tied = np.zeros(len(top), dtype=bool)
    tied[has_runner] = (grp[runner_up[has_runner]] == grp[top[has_runner]]) & (
        counts[runner_up[has_runner]] == counts[top[has_runner]]
    )
    out[grp[top[~tied]]] = lab[top[~tied]]
    return out


def group_members(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by group (stable), each group's start in that order, and its size."""
    order = np.argsort(groups, kind="stable")
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return order, starts, sizes


def group_medoids(x: np.ndarray, groups: np.ndarray, n_groups: int,
                  space: EmbeddingSpace = DLIB_RESNET_V1) -> np.ndarray:
    """Row index of each group's medoid in `space` (ties: the lowest row). Groups must be non-empty."""
    x = space.prepare(x)
    groups = np.asarray(groups, dtype=np.int64)
    order, starts, sizes = group_members(groups, n_groups)
    if (sizes == 0).any():
        raise ValueError("every group needs at least one member")
    medoid = np.empty(n_groups, dtype=np.int64)
    dim = x.shape[1]
    for size in np.unique(sizes):
        same = np.flatnonzero(sizes == size)
        rows = order[starts[same][:, None] + np.arange(size)]  # (g, size)
        if size <= 2:  # either member is a medoid of one or two: take the lowest row
            medoid[same] = rows.min(axis=1)
            continue
        if size * size > _MEDOID_BLOCK:
            for g, member_rows in zip(same, rows, strict=True):
                medoid[g] = member_rows[_medoid_of_large(x[member_rows].astype(np.float64),
                                                         space)]
            continue
        block = max(1, _MEDOID_BLOCK // (size * (size + dim)))
        for b in range(0, len(same), block):
            r = rows[b:b + block]
            pts = x[r].astype(np.float64)  # (g, size, dim); float32 would blur close totals
            sq = np.einsum("gsd,gsd->gs", pts, pts)
            d2 = sq[:, :, None] + sq[:, None, :] - 2 * np.einsum("gsd,gtd->gst", pts, pts)
            totals = space.from_native(d2, "sqeuclidean").sum(axis=2)
            # members are in row order within a group: argmin's first hit is the lowest row
            medoid[same[b:b + block]] = r[np.arange(len(r)), totals.argmin(axis=1)]
    return medoid


def _medoid_of_large(pts: np.ndarray, space: EmbeddingSpace) -> int:
    """Medoid position in a big group of prepared rows, summing distances block by block (exact)."""
    sq = np.einsum("sd,sd->s", pts, pts)
    totals = np.zeros(len(pts), dtype=np.float64)
    step = max(1, _MEDOID_BLOCK // len(pts))
    for start in range(0, len(pts), step):
        blk = pts[start:start + step]
        d2 = sq[start:start + step, None] + sq[None, :] - 2 * (blk @ pts.T)
        totals[start:start + step] = space.from_native(d2, "sqeuclidean").sum(axis=1)
    return int(totals.argmin())


def min_pool_face_k(k: int, groups: np.ndarray, n_groups: int, n_faces: int) -> int:
    """Neighbours per face that usually let a face graph yield a k-NN graph of groups."""
    biggest = int(np.bincount(groups, minlength=n_groups).max(initial=1))
    return min(n_faces - 1, (k + 1) * min(biggest, MIN_POOL_FACES))


def min_pooled_graph(x: np.ndarray, groups: np.ndarray, n_groups: int, k: int,
                     face_graph: KnnGraph, space: EmbeddingSpace = DLIB_RESNET_V1) -> KnnGraph:
    """k-NN graph of groups under min-over-faces distance, read off `face_graph` (built in `space`).

    Groups whose faces' neighbour lists name fewer than k other groups are completed by
    an exact search deep enough to be sure: the j-th nearest group is within the
    j * (largest group size) nearest faces of one of the group's faces.
    """
    groups = np.asarray(groups, dtype=np.int64)
    if k >= n_groups:
        raise ValueError(f"k must be below the number of groups ({n_groups}), got {k}")
    src = np.repeat(groups, face_graph.k)
    dst = groups[face_graph.indices.ravel()]
    dist = face_graph.distances.ravel()
    indices, distances, counts = _nearest_groups(src, dst, dist, n_groups, k)
    short = np.flatnonzero(counts < k)
    if len(short):
        sizes = np.bincount(groups, minlength=n_groups)
        rows = np.flatnonzero(np.isin(groups, short))
        depth = min(len(x), (k + 1) * int(sizes.max()))
        d, i = exact_search(x[rows], x, depth, space=space)
        s_idx, s_dist, _ = _nearest_groups(np.repeat(groups[rows], i.shape[1]),
                                           groups[i.ravel()], d.ravel(), n_groups, k)
        indices[short], distances[short] = s_idx[short], s_dist[short]
    return KnnGraph(indices, distances)


def _nearest_groups(src: np.ndarray, dst: np.ndarray, dist: np.ndarray, n_groups: int,
                    k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per source group, its k nearest other groups by the smallest listed distance."""
    other = src != dst
    src, dst, dist = src[other], dst[other], dist[other]
    order = np.lexsort((dist, dst, src))
    src, dst, dist = src[order], dst[order], dist[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, dist = src[first], dst[first], dist[first]  # min distance per group pair
    order = np.lexsort((dst, dist, src))
    src, dst, dist = src[order], dst[order], dist[order]
    counts = np.bincount(src, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(src)) - starts[src]
    keep = rank < k
    indices = np.full((n_groups, k), -1, dtype=np.int64)
    distances = np.full((n_groups, k), np.inf, dtype=np.float32)
    indices[src[keep], rank[keep]] = dst[keep]
    distances[src[keep], rank[keep]] = dist[keep]
    return indices, distances, np.minimum(counts, k)
