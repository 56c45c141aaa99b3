"""What gets clustered under each pooling: faces (vote) or tracks (med, min), and their graph."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from skelshop.cluster.knn import KnnGraph, build_knn_graph
from skelshop.cluster.pooling import group_medoids, min_pool_face_k, min_pooled_graph, vote_labels
from skelshop.corpus_clustering.faces import CorpusFaces
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace, space_of

log = logging.getLogger(__name__)

POOLS = ("vote", "min", "med")


@dataclass
class Nodes:
    """The clustered items: their embeddings, the face standing for each, each face's node."""

    pool: str
    embed: np.ndarray  # (M, D) the representative embeddings
    node_face: np.ndarray  # int64 (M,)
    face_node: np.ndarray  # int64 (N,)
    space: EmbeddingSpace = DLIB_RESNET_V1  # the faces' embedding space: every distance's

    def __len__(self) -> int:
        return len(self.node_face)


def make_nodes(faces: CorpusFaces, pool: str) -> Nodes:
    """Faces themselves (vote) or one node per track at its medoid face (med, min)."""
    space = space_of(faces.embedder, faces.embed.shape[1])
    if pool == "vote":
        rows = np.arange(faces.n_faces, dtype=np.int64)
        return Nodes(pool, faces.embed, rows, rows, space)
    if pool in ("med", "min"):
        medoid = group_medoids(faces.embed, faces.group, faces.n_tracks, space)
        return Nodes(pool, faces.embed[medoid], medoid, faces.group, space)
    raise ValueError(f"unknown pooling {pool!r}; choose from {POOLS}")


def node_graph(faces: CorpusFaces, nodes: Nodes, k: int, backend: str, seed: int,
               threads: int | None, progress: bool) -> KnnGraph:
    """The k-NN graph over nodes: of embeddings (vote, med) or min-over-faces (min)."""
    if nodes.pool != "min":
        return build_knn_graph(nodes.embed, k, backend, seed, threads, progress,
                               space=nodes.space)
    face_k = min_pool_face_k(k, faces.group, faces.n_tracks, faces.n_faces)
    face_graph = build_knn_graph(faces.embed, face_k, backend, seed, threads, progress,
                                 space=nodes.space)
    return min_pooled_graph(faces.embed, faces.group, faces.n_tracks, k, face_graph,
                            nodes.space)


def pooled_labels(faces: CorpusFaces, nodes: Nodes,
                  node_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(face labels, track labels) for labels given per node."""
    face_labels = node_labels[nodes.face_node]
    if nodes.pool == "vote":
        return face_labels, vote_labels(face_labels, faces.group, faces.n_tracks)
    return face_labels, np.asarray(node_labels, dtype=np.int32)
