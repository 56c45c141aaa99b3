"""Turning a corpus clustering into its files: segsout CSVs, prototypes, the model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from skelshop.cluster.algorithms import ALGORITHMS
from skelshop.cluster.prototypes import prototype_nodes
from skelshop.corpus_clustering.run import ClusOutcome, ClusSettings, search_rows_as_dicts
from skelshop.formats.cluster_model import ClusterModel, ClusterParams, write_cluster_model
from skelshop.formats.corpus import CorpusEntry
from skelshop.formats.identifications import cluster_name
from skelshop.formats.identity import NOCLUS, IdentityRow, write_identities
from skelshop.formats.prototypes import Prototype, write_prototypes


def cluster_label(label: int) -> str:
    """`c<k>` for a cluster, `noclus` for noise."""
    return NOCLUS if label < 0 else cluster_name(label)


def segsout_rows(outcome: ClusOutcome, video_idx: int,
                 merge: Callable[[str], str] | None = None) -> list[IdentityRow]:
    """One row per (shot, track) of a video with its pooled cluster label.

    `merge` maps a cluster to the one it was merged into ("same person as", names.csv).
    """
    faces = outcome.faces
    tracks = np.flatnonzero(faces.track_video == video_idx)
    rows = []
    for t in tracks:
        label = cluster_label(int(outcome.track_labels[t]))
        if merge is not None and label != NOCLUS:
            label = merge(label)
        rows.append(IdentityRow(int(faces.track_seg[t]), int(faces.track_pers[t]), label))
    return rows


def prototype_faces(outcome: ClusOutcome,
                    settings: ClusSettings) -> tuple[np.ndarray, np.ndarray]:
    """(cluster, face row) of each cluster's best `num_protos` nodes, grouped by cluster."""
    clus, node = prototype_nodes(outcome.clustering.labels, outcome.graph, settings.num_protos,
                                 settings.proto_method, outcome.nodes.embed, settings.seed,
                                 outcome.nodes.space)
    return clus, outcome.nodes.node_face[node]


def prototypes(outcome: ClusOutcome, settings: ClusSettings,
               chosen: tuple[np.ndarray, np.ndarray] | None = None) -> list[Prototype]:
    """Each cluster's best `num_protos` nodes, as the faces standing for them.

    `chosen`: `prototype_faces`' result when the caller has it already.
    """
    clus, face = prototype_faces(outcome, settings) if chosen is None else chosen
    f = outcome.faces
    return [Prototype(int(c), int(f.video_idx[r]), int(f.frame[r]), int(f.pers[r]))
            for c, r in zip(clus, face, strict=True)]


def cluster_model(outcome: ClusOutcome, settings: ClusSettings) -> ClusterModel:
    """The safe model file's content."""
    f, p = outcome.faces, outcome.params
    extra: dict = {"num_protos": settings.num_protos, "proto_method": settings.proto_method,
                   "max_dist": p.max_dist if "max_dist" in ALGORITHMS[settings.algorithm].params
                   else None}
    if outcome.search is not None:
        extra["search"] = search_rows_as_dicts(outcome.search)
        extra["search_best"] = outcome.best
    uses = ALGORITHMS[settings.algorithm].params
    return ClusterModel(
        embedder=f.embedder,
        params=ClusterParams(
            algorithm=settings.algorithm, ann_lib=settings.ann_lib, k=outcome.graph.k,
            pool=settings.pool, seed=settings.seed,
            eps=p.eps if "eps" in uses else None,
            min_samples=p.min_samples if "min_samples" in uses else None, extra=extra,
            algorithm_params={} if outcome.estimator is None
            else outcome.estimator.get_params(),
        ),
        videos=f.videos, face_dumps=f.face_dumps,
        embed=f.embed, face_video=f.video_idx, face_frame=f.frame, face_pers=f.pers,
        face_seg=f.seg, face_node=outcome.nodes.face_node,
        node_face=outcome.nodes.node_face, labels=outcome.clustering.labels,
        core=outcome.clustering.core, knn_indices=outcome.graph.indices,
        knn_distances=outcome.graph.distances, density=outcome.clustering.density,
        track_video=f.track_video, track_seg=f.track_seg, track_pers=f.track_pers,
        track_label=outcome.track_labels, cannot_link=outcome.cannot_link,
    )


def write_outputs(entries: list[CorpusEntry], outcome: ClusOutcome, settings: ClusSettings,
                  proto_out: Path | None, model_out: Path | None,
                  merge: Callable[[str], str] | None = None,
                  protos: list[Prototype] | None = None) -> list[Path]:
    """Write every video's segsout CSV, then prototypes and model when asked; returns paths.

    `protos`: the prototypes when the caller has them already (else computed here).
    """
    written = []
    for video_idx, entry in enumerate(entries):
        if entry.segsout is not None:
            write_identities(entry.segsout, segsout_rows(outcome, video_idx, merge))
            written.append(entry.segsout)
    if proto_out is not None:
        write_prototypes(proto_out, prototypes(outcome, settings) if protos is None else protos)
        written.append(proto_out)
    if model_out is not None:
        write_cluster_model(model_out, cluster_model(outcome, settings))
        written.append(model_out)
    return written
