"""Name clusters through the model's kNN graph nodes: references vote with their neighbours."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skelshop.cluster.knn.exact import exact_search
from skelshop.formats.cluster_model import NOISE, ClusterModel
from skelshop.formats.identifications import cluster_name
from skelshop.formats.references import ReferenceSet
from skelshop.naming.idclus import NamedCluster
from skelshop.naming.settings import DEFAULT_KNN
from skelshop.space import EmbeddingSpace, space_of


@dataclass
class VoteResult:
    """Named clusters, the votes behind them, and the people that matched nothing."""

    named: list[NamedCluster]
    votes: dict[str, dict[str, int]] = field(default_factory=dict)  # clus -> label -> neighbours
    unmatched: list[str] = field(default_factory=list)
    k: int = 0


def name_clusters_by_neighbours(model: ClusterModel, refs: ReferenceSet, thresh: float,
                                knn: int = DEFAULT_KNN,
                                space: EmbeddingSpace | None = None) -> VoteResult:
    """Each cluster is named by the person with most reference neighbours in it within `thresh`.

    Distances are in `space`, by default the one the model records.
    """
    counts = refs.counts()
    people_with_images = [i for i, n in enumerate(counts) if n > 0]
    nodes = model.node_embed
    if not people_with_images or len(nodes) == 0 or knn <= 0:
        return VoteResult([], unmatched=list(refs.labels), k=0)
    queries = np.concatenate([refs.embeddings[i] for i in people_with_images]).astype(np.float32)
    owner = np.repeat(np.asarray(people_with_images), counts[people_with_images])
    space = space or space_of(model.embedder, nodes.shape[1])
    dist, idx = exact_search(queries, nodes, knn, space=space)
    labels = model.labels[idx]
    hit = (dist <= thresh) & (labels != NOISE)
    hit_person = np.broadcast_to(owner[:, None], hit.shape)[hit]
    hit_cluster = labels[hit]
    hit_dist = dist[hit]

    n_people, n_clusters = len(refs.labels), max(model.n_clusters, int(labels.max(initial=-1)) + 1)
    votes = np.zeros((n_people, n_clusters), np.int64)
    np.add.at(votes, (hit_person, hit_cluster), 1)
    nearest_dist = np.full((n_people, n_clusters), np.inf)
    np.minimum.at(nearest_dist, (hit_person, hit_cluster), hit_dist)

    named, vote_table = [], {}
    for clus in np.flatnonzero(votes.sum(0)):
        column = votes[:, clus]
        # Most neighbours wins; a tie goes to the person whose nearest neighbour is closer.
        winner = min(np.flatnonzero(column), key=lambda p: (-column[p], nearest_dist[p, clus]))
        name = cluster_name(int(clus))
        named.append(NamedCluster(name, refs.labels[winner], float(nearest_dist[winner, clus])))
        vote_table[name] = {refs.labels[p]: int(column[p]) for p in np.flatnonzero(column)}
    unmatched = [refs.labels[p] for p in range(n_people) if votes[p].sum() == 0]
    return VoteResult(named, vote_table, unmatched, k=int(idx.shape[1]))
