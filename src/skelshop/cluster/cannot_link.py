"""Cannot-links: groups (tracks) that are certainly different people, and keeping them apart.

Two tracks seen in the same frame (same video, same frame number, different track ids)
are two people. The corpus's pairs are `track_agreement.cooccurring_groups` over each
track's span: a track is one continuous presence of one face within a shot, so two tracks
of a shot whose stored faces' [first, last] frame spans overlap were on screen together in
some frame. Sparse dumps keep only a few faces per track, so demanding a stored face of
each in the very same frame would miss most pairs (in a 2-second shot of four people, 4
of the 6); the stored span lies inside the true one, so no pair is invented. A
clustering violates a cannot-link when both groups get the same
cluster. `split_cannot_links` repairs a clustering after the fact:

Within each cluster holding violations, the conflicting groups are coloured greedily
(largest first, each taking the lowest colour none of its partners has), one colour per
sub-cluster; then the cluster's groups are re-assigned to the nearest sub-cluster centre
(the mean embedding of its groups) by COP-k-means (Wagstaff et al., ICML 2001): in order
of distance, each group takes the nearest centre that holds none of its cannot-link
partners, a new sub-cluster when none is free; the centres are recomputed and this is
repeated until nothing moves. Why this rule: the fit's decision stands wherever tracking
says nothing against it (other clusters are untouched, and so is a cluster without
violations), a group photo of n people (an n-clique of cannot-links) ends as n clusters,
and each moved track goes with the people it looks most like rather than where a
spectral cut of a sparse kNN graph would put it. Groups are moved whole: the nodes of a
group that had the cluster's label take the group's new label.
"""

from __future__ import annotations

import numpy as np

from skelshop.cluster.pooling import vote_labels

NOISE = -1
MAX_ROUNDS = 10


def count_violations(group_labels: np.ndarray, pairs: np.ndarray) -> int:
    """Cannot-link pairs whose two groups share a (non-noise) cluster."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return 0
    a, b = group_labels[pairs[:, 0]], group_labels[pairs[:, 1]]
    return int(((a == b) & (a != NOISE)).sum())


def group_vote(node_labels: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Each group's most common non-noise node label; a tie or no votes gives noise."""
    return vote_labels(np.asarray(node_labels, dtype=np.int32), groups, n_groups)


def split_cannot_links(node_labels: np.ndarray, embed: np.ndarray, groups: np.ndarray,
                       pairs: np.ndarray) -> np.ndarray:
    """Node labels with every violated cluster split along its cannot-links (see module doc).

    New sub-clusters get labels after the existing ones; renumber afterwards if wanted.
    """
    labels = np.asarray(node_labels, dtype=np.int32).copy()
    groups = np.asarray(groups, dtype=np.int64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0 or len(labels) == 0:
        return labels
    n_groups = int(max(groups.max(initial=-1), pairs.max(initial=-1))) + 1
    g_label = group_vote(labels, groups, n_groups)
    a, b = g_label[pairs[:, 0]], g_label[pairs[:, 1]]
    violated = (a == b) & (a != NOISE)
    pairs, pair_label = pairs[violated], a[violated]
    # rows and groups of each cluster, found once (a loop of full scans would be quadratic)
    row_order = np.argsort(labels, kind="stable")
    sorted_labels = labels[row_order]  # a copy: `labels` changes in the loop, this must not
    group_order = np.argsort(g_label, kind="stable")
    next_label = int(labels.max(initial=NOISE)) + 1
    for cluster in np.unique(pair_label):
        lo, hi = np.searchsorted(sorted_labels, [cluster, cluster + 1])
        rows = row_order[lo:hi]
        glo, ghi = np.searchsorted(g_label[group_order], [cluster, cluster + 1])
        members = np.sort(group_order[glo:ghi])
        rows = rows[np.isin(groups[rows], members)]  # a face outvoted in its track stays
        part = _cop_kmeans(members, pairs[pair_label == cluster], rows, embed, groups)
        row_part = part[np.searchsorted(members, groups[rows])]
        for sub in range(1, int(part.max()) + 1):
            labels[rows[row_part == sub]] = next_label
            next_label += 1
    return labels


def _cop_kmeans(members: np.ndarray, pairs: np.ndarray, rows: np.ndarray, embed: np.ndarray,
                groups: np.ndarray) -> np.ndarray:
    """Sub-cluster of each member group (sorted ids): 0 .. q-1, no cannot-linked pair in one."""
    local_of_row = np.searchsorted(members, groups[rows])
    sizes = np.bincount(local_of_row, minlength=len(members))
    sums = np.zeros((len(members), embed.shape[1]), dtype=np.float64)
    np.add.at(sums, local_of_row, embed[rows])
    means = sums / np.maximum(sizes, 1)[:, None]
    local_pairs = np.searchsorted(members, pairs)
    partners: dict[int, set[int]] = {}
    for x, y in local_pairs.tolist():
        partners.setdefault(x, set()).add(y)
        partners.setdefault(y, set()).add(x)
    linked = np.array(sorted(partners), dtype=np.int64)
    # greedy colouring of the conflicting groups seeds the sub-clusters
    part = np.full(len(members), -1, dtype=np.int64)
    for i in sorted(partners, key=lambda i: (-len(partners[i]), -sizes[i], i)):
        taken = {int(part[j]) for j in partners[i] if part[j] >= 0}
        part[i] = next(c for c in range(len(members)) if c not in taken)
    centres = _centres(means, part, sizes)
    for _round in range(MAX_ROUNDS):
        dist = np.linalg.norm(means[:, None, :] - centres[None, :, :], axis=2)
        new = dist.argmin(axis=1)  # a group without cannot-links: the nearest centre
        new[linked] = -1
        for i in linked[np.argsort(dist[linked].min(axis=1), kind="stable")]:
            banned = {int(new[j]) for j in partners[int(i)] if new[j] >= 0}
            free = [c for c in np.argsort(dist[i], kind="stable") if int(c) not in banned]
            if free:
                new[i] = int(free[0])
            else:  # every centre holds a partner: a sub-cluster of its own
                new[i] = len(centres)
                centres = np.vstack([centres, means[i]])
                dist = np.hstack([dist, np.linalg.norm(means - means[i], axis=1)[:, None]])
        if np.array_equal(new, part):
            break
        part = new
        centres = _centres(means, part, sizes)
    # sub-cluster 0 (keeps the old label) is the one holding most of the cluster's nodes
    used = np.unique(part)
    weight = np.array([sizes[part == c].sum() for c in used])
    order = used[np.lexsort((used, -weight))]
    remap = np.empty(int(part.max()) + 1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[part]


def _centres(means: np.ndarray, part: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Node-weighted mean of each sub-cluster's groups; unassigned groups ignored."""
    q = int(part.max()) + 1
    centres = np.zeros((q, means.shape[1]))
    weight = np.zeros(q)
    seeded = part >= 0
    np.add.at(centres, part[seeded], means[seeded] * np.maximum(sizes[seeded], 1)[:, None])
    np.add.at(weight, part[seeded], np.maximum(sizes[seeded], 1))
    return centres / np.maximum(weight, 1)[:, None]
