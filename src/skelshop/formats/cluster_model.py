"""The one reader and writer of clustering models: versioned HDF5, never pickle.

Layout (all arrays plain HDF5 datasets, parameters as root attributes):

    attrs   fmt_type="cluster_model", fmt_ver, embedder, metric, threshold,
            algorithm, ann_lib, k, pool, eps, min_samples, seed, params (JSON),
            algorithm_params (JSON, version 2: the estimator's parameter record)
    /corpus/videos, /corpus/faces      (V,) utf-8: corpus rows, in order (video_idx);
                                       version 2: a path inside the model's folder is stored
                                       relative to that folder (a moved OUTDIR keeps working),
                                       others absolute; version 1 stored them as given
    /faces/embed (N, D) float32        every clustered face's embedding
    /faces/video_idx, frame, pers, seg (N,) where each face came from
    /faces/node (N,) int64             the graph node the face belongs to
    /nodes/face (M,) int64             the face standing for each node (vote: itself;
                                       med/min pooling: the track's medoid face)
    /nodes/label (M,) int32            cluster of each node, -1 = noise
    /nodes/core (M,) bool              core points of the algorithm (RNN-DBSCAN: |RkNN| >= k)
    /graph/indices (M, k) int64, /graph/distances (M, k) float32
                                       the kNN graph over nodes, self excluded, nearest first
    /clusters/density (C,) float32     RNN-DBSCAN den(C): the longest kNN edge between two
                                       core points of C (other algorithms: same measure)
    /tracks/video_idx, seg, pers, label (T,)   the pooled label of each (video, shot, track)
    /tracks/cannot_link (P, 2) int64   version 2: track pairs seen in one frame (never one
                                       cluster); absent in version 1 (read as none)

Nodes are faces with `--pool vote` and tracks with `--pool min|med`.
To place new vectors (e.g. references) into a stored clustering by the rule its fit
used: `skelshop.cluster.estimators.load_estimator(path).predict(vectors)`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import EmbedderInfo
from skelshop.formats.hdf5_output import hdf5_output

FMT_TYPE = "cluster_model"
FMT_VER = 2
NOISE = -1


@dataclass
class ClusterParams:
    """How a model was made."""

    algorithm: str
    ann_lib: str
    k: int
    pool: str
    seed: int = 0
    eps: float | None = None
    min_samples: int | None = None
    extra: dict = field(default_factory=dict)
    # The estimator's own parameter record (cluster.estimators), as stored; version 1
    # files had none: it is derived from k/eps/min_samples/max_dist on reading.
    algorithm_params: dict = field(default_factory=dict)


@dataclass
class ClusterModel:
    """A corpus clustering: faces, graph nodes, kNN graph, labels and cluster densities."""

    embedder: EmbedderInfo
    params: ClusterParams
    videos: list[str]
    face_dumps: list[str]
    # per face
    embed: np.ndarray
    face_video: np.ndarray
    face_frame: np.ndarray
    face_pers: np.ndarray
    face_seg: np.ndarray
    face_node: np.ndarray
    # per graph node
    node_face: np.ndarray
    labels: np.ndarray
    core: np.ndarray
    knn_indices: np.ndarray
    knn_distances: np.ndarray
    # per cluster
    density: np.ndarray
    # per (video, shot, track)
    track_video: np.ndarray
    track_seg: np.ndarray
    track_pers: np.ndarray
    track_label: np.ndarray
    # (P, 2) track index pairs seen in one frame: never one person (version 2; else empty)
    cannot_link: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))

    @property
    def n_faces(self) -> int:
        """Number of clustered faces."""
        return len(self.embed)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes (faces or tracks, by pooling)."""
        return len(self.labels)

    @property
    def n_clusters(self) -> int:
        """Number of clusters (labels 0 .. n_clusters-1)."""
        return len(self.density)

    @property
    def node_embed(self) -> np.ndarray:
        """The embedding standing for each node (its representative face's)."""
        return self.embed[self.node_face]


_FACE_ARRAYS = {
    "embed": ("faces/embed", np.float32),
    "face_video": ("faces/video_idx", np.int32),
    "face_frame": ("faces/frame", np.int64),
    "face_pers": ("faces/pers", np.int64),
    "face_seg": ("faces/seg", np.int32),
    "face_node": ("faces/node", np.int64),
}
_NODE_ARRAYS = {
    "node_face": ("nodes/face", np.int64),
    "labels": ("nodes/label", np.int32),
    "core": ("nodes/core", np.bool_),
    "knn_indices": ("graph/indices", np.int64),
    "knn_distances": ("graph/distances", np.float32),
}
_TRACK_ARRAYS = {
    "track_video": ("tracks/video_idx", np.int32),
    "track_seg": ("tracks/seg", np.int32),
    "track_pers": ("tracks/pers", np.int64),
    "track_label": ("tracks/label", np.int32),
}
_ALL_ARRAYS = {**_FACE_ARRAYS, **_NODE_ARRAYS, "density": ("clusters/density", np.float32),
               **_TRACK_ARRAYS}


def write_cluster_model(path: str | Path, model: ClusterModel) -> None:
    """Write a model atomically (whatever the file is named, it is HDF5)."""
    _check_consistent(model, path)
    p = model.params
    strings = h5py.string_dtype(encoding="utf-8")
    with hdf5_output(path) as h5:  # a full disk: one SkelshopError, never a crash
        h5.attrs.update({
            "fmt_type": FMT_TYPE,
            "fmt_ver": FMT_VER,
            "embedder": model.embedder.name,
            "metric": model.embedder.metric,
            "threshold": float(model.embedder.threshold),
            "algorithm": p.algorithm,
            "ann_lib": p.ann_lib,
            "k": int(p.k),
            "pool": p.pool,
            "seed": int(p.seed),
            "eps": float("nan") if p.eps is None else float(p.eps),
            "min_samples": -1 if p.min_samples is None else int(p.min_samples),
            "params": json.dumps(p.extra, sort_keys=True),
            "algorithm_params": json.dumps(p.algorithm_params, sort_keys=True),
        })
        base = Path(os.path.abspath(Path(path).parent))
        h5.create_dataset("corpus/videos", dtype=strings, data=np.array(
            [_stored_path(v, base) for v in model.videos], dtype=object))
        h5.create_dataset("corpus/faces", dtype=strings, data=np.array(
            [_stored_path(v, base) for v in model.face_dumps], dtype=object))
        for attr, (name, dtype) in _ALL_ARRAYS.items():
            h5.create_dataset(name, data=np.asarray(getattr(model, attr), dtype=dtype))
        h5.create_dataset("tracks/cannot_link",
                          data=np.asarray(model.cannot_link, np.int64).reshape(-1, 2))


def read_cluster_model(path: str | Path) -> ClusterModel:
    """Read a model written by `write_cluster_model`; refuse anything else (pickles too)."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such cluster model")
    if not h5py.is_hdf5(path):
        raise SkelshopError(path, "not a skelshop cluster model (HDF5); pickled models "
                                  "are never loaded because unpickling can run code")
    with h5py.File(path, "r") as h5:
        attrs = h5.attrs
        if attrs.get("fmt_type") != FMT_TYPE:
            raise SkelshopError(path, "not a skelshop cluster model")
        ver = int(attrs.get("fmt_ver", 0))
        if ver > FMT_VER:
            raise SkelshopError(path, f"cluster model version {ver} is newer than this "
                                      f"skelshop reads ({FMT_VER}); upgrade skelshop")
        try:
            arrays = {attr: np.asarray(h5[name][()], dtype=dtype)
                      for attr, (name, dtype) in _ALL_ARRAYS.items()}
            base = Path(os.path.abspath(path.parent))
            videos = [_read_path(_text(v), base, ver) for v in h5["corpus/videos"][()]]
            dumps = [_read_path(_text(v), base, ver) for v in h5["corpus/faces"][()]]
            eps = float(attrs["eps"])
            min_samples = int(attrs["min_samples"])
            params = ClusterParams(
                algorithm=str(attrs["algorithm"]), ann_lib=str(attrs["ann_lib"]),
                k=int(attrs["k"]), pool=str(attrs["pool"]), seed=int(attrs["seed"]),
                eps=None if np.isnan(eps) else eps,
                min_samples=None if min_samples < 0 else min_samples,
                extra=json.loads(str(attrs.get("params", "{}"))),
            )
            params.algorithm_params = (json.loads(str(attrs["algorithm_params"]))
                                       if "algorithm_params" in attrs else _v1_params(params))
            cannot = (np.asarray(h5["tracks/cannot_link"][()], np.int64).reshape(-1, 2)
                      if "tracks/cannot_link" in h5 else np.zeros((0, 2), np.int64))
            embedder = EmbedderInfo(name=str(attrs["embedder"]), metric=str(attrs["metric"]),
                                    threshold=float(attrs["threshold"]))
        except (KeyError, ValueError, TypeError) as err:
            raise SkelshopError(path, f"damaged cluster model ({err})") from None
    arrays["embed"] = arrays["embed"].reshape(len(arrays["embed"]), -1)
    arrays["knn_indices"] = arrays["knn_indices"].reshape(len(arrays["labels"]), -1)
    arrays["knn_distances"] = arrays["knn_distances"].reshape(len(arrays["labels"]), -1)
    model = ClusterModel(embedder=embedder, params=params, videos=videos, face_dumps=dumps,
                         cannot_link=cannot, **arrays)
    _check_consistent(model, path)
    return model


def _v1_params(p: ClusterParams) -> dict:
    """The estimator parameter record a version 1 file implies."""
    if p.algorithm == "rnn-dbscan":
        return {"k": p.k, "max_dist": p.extra.get("max_dist")}
    if p.algorithm == "dbscan":
        return {"eps": p.eps, "min_samples": p.min_samples, "k": p.k}
    if p.algorithm == "hdbscan":
        return {"min_samples": p.min_samples}
    return {"eps": p.eps, "min_samples": p.min_samples}


def bare_model(algorithm: str, algorithm_params: dict, node_embed: np.ndarray,
               labels: np.ndarray, core: np.ndarray, knn_indices: np.ndarray,
               knn_distances: np.ndarray, density: np.ndarray) -> ClusterModel:
    """A model of a clustering alone (no corpus): each node is its own face of one unnamed video."""
    m = len(labels)
    rows = np.arange(m, dtype=np.int64)
    none = np.full(m, -1, dtype=np.int64)
    k = int(np.shape(knn_indices)[1]) if m else 0
    return ClusterModel(
        embedder=EmbedderInfo(name="", metric="euclidean", threshold=float("nan")),
        params=ClusterParams(algorithm=algorithm, ann_lib="exact", k=k, pool="vote",
                             eps=algorithm_params.get("eps"),
                             min_samples=algorithm_params.get("min_samples"),
                             algorithm_params=dict(algorithm_params)),
        videos=[""], face_dumps=[""], embed=np.asarray(node_embed, np.float32),
        face_video=np.zeros(m, np.int32), face_frame=none, face_pers=none,
        face_seg=np.zeros(m, np.int32), face_node=rows, node_face=rows, labels=labels,
        core=core, knn_indices=knn_indices, knn_distances=knn_distances, density=density,
        track_video=np.zeros(0, np.int32), track_seg=np.zeros(0, np.int32),
        track_pers=np.zeros(0, np.int64), track_label=np.zeros(0, np.int32),
    )


def _stored_path(given: str, base: Path) -> str:
    """Relative to the model's folder when inside it, else absolute ('' stays '')."""
    if not given:
        return given
    absolute = Path(os.path.abspath(given))
    return str(absolute.relative_to(base)) if absolute.is_relative_to(base) else str(absolute)


def _read_path(stored: str, base: Path, ver: int) -> str:
    """A stored path as a usable one: version 2's relative paths are under the model's folder."""
    if ver < 2 or not stored or Path(stored).is_absolute():
        return stored
    return str(base / stored)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _check_consistent(model: ClusterModel, path: str | Path) -> None:
    """Shapes and index ranges agree, so readers can index without checking again."""
    n, m = model.n_faces, model.n_nodes
    problems = []
    if any(len(getattr(model, a)) != n for a in _FACE_ARRAYS):
        problems.append("per-face arrays differ in length")
    if any(len(getattr(model, a)) != m for a in _NODE_ARRAYS):
        problems.append("per-node arrays differ in length")
    if np.shape(model.knn_indices) != np.shape(model.knn_distances):
        problems.append("graph indices and distances differ in shape")
    if len({len(getattr(model, a)) for a in _TRACK_ARRAYS}) > 1:
        problems.append("per-track arrays differ in length")
    if n and (np.min(model.face_node) < 0 or np.max(model.face_node) >= m):
        problems.append("a face points at a node that does not exist")
    if m and (np.min(model.node_face) < 0 or np.max(model.node_face) >= n):
        problems.append("a node points at a face that does not exist")
    if np.size(model.knn_indices) and (np.min(model.knn_indices) < 0
                                       or np.max(model.knn_indices) >= m):
        problems.append("the kNN graph points at a node that does not exist")
    if m and np.max(model.labels, initial=NOISE) >= model.n_clusters:
        problems.append("a label has no cluster density")
    if n and (np.min(model.face_video) < 0 or np.max(model.face_video) >= len(model.videos)):
        problems.append("a face points at a video that is not in the corpus list")
    cannot = np.asarray(model.cannot_link).reshape(-1, 2)
    if len(cannot) and (cannot.min() < 0 or cannot.max() >= len(model.track_label)):
        problems.append("a cannot-link points at a track that does not exist")
    if len(model.videos) != len(model.face_dumps):
        problems.append("video and face dump lists differ in length")
    if problems:
        raise SkelshopError(path, "inconsistent cluster model: " + "; ".join(problems))
