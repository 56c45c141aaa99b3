"""The one reader and writer of reference embedding files (HDF5, one dataset per label)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_path
from skelshop.formats.face_dump import ORIGINAL_EMBEDDER, EmbedderInfo

FMT_TYPE = "reference_embeddings"
FMT_VER = 1
# The original SkelShop wrote `embedding="dlib"` and no metric or threshold.
_EMBEDDER_ALIASES = {"dlib": ORIGINAL_EMBEDDER}
_ORIGINAL_DEFAULTS = EmbedderInfo(name=ORIGINAL_EMBEDDER, metric="euclidean", threshold=0.6)


@dataclass
class ReferenceSet:
    """Embeddings of reference images grouped by label; a label may have none."""

    embedder: EmbedderInfo
    labels: list[str]
    embeddings: list[np.ndarray]  # float32 (N_i, D) per label, same order as `labels`

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.embeddings):
            raise ValueError("one embedding array per label")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels must be unique")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def dim(self) -> int | None:
        """Embedding dimension, or None when no label has an embedding."""
        for emb in self.embeddings:
            if len(emb):
                return int(emb.shape[1])
        return None

    def counts(self) -> np.ndarray:
        """Number of embeddings of each label."""
        return np.array([len(e) for e in self.embeddings], dtype=np.int64)


def check_label(label: str) -> None:
    """Refuse labels HDF5 would read as paths (a '/' makes groups, '.' is the root)."""
    if not label or "/" in label or label in {".", ".."} or "\x00" in label:
        raise ValueError(f"label {label!r} cannot name a dataset")


def write_references(path: str | Path, refs: ReferenceSet) -> None:
    """Write a reference file atomically; empty labels are kept as (0, D) datasets."""
    dim = refs.dim or 0
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs.update({
            "fmt_type": FMT_TYPE,
            "fmt_ver": FMT_VER,
            "embedding": refs.embedder.name,
            "metric": refs.embedder.metric,
            "threshold": float(refs.embedder.threshold),
        })
        for label, emb in zip(refs.labels, refs.embeddings, strict=True):
            check_label(label)
            data = np.asarray(emb, dtype=np.float32).reshape(len(emb), -1 if len(emb) else dim)
            h5.create_dataset(label, data=data)


def _embedder_of(attrs: h5py.AttributeManager) -> EmbedderInfo:
    name = str(attrs.get("embedding", ORIGINAL_EMBEDDER))
    name = _EMBEDDER_ALIASES.get(name, name)
    if name == ORIGINAL_EMBEDDER:
        metric, threshold = _ORIGINAL_DEFAULTS.metric, _ORIGINAL_DEFAULTS.threshold
    else:
        metric, threshold = "euclidean", float("nan")
    return EmbedderInfo(
        name=name,
        metric=str(attrs.get("metric", metric)),
        threshold=float(attrs.get("threshold", threshold)),
    )


def read_references(path: str | Path) -> ReferenceSet:
    """Read a reference file written by us or by the original SkelShop."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such reference file")
    try:
        h5 = h5py.File(path, "r")
    except OSError:
        raise SkelshopError(path, "not an HDF5 reference file") from None
    with h5:
        fmt_type = h5.attrs.get("fmt_type")
        if fmt_type is not None and str(fmt_type) != FMT_TYPE:
            raise SkelshopError(path, f"a {fmt_type} file, not reference embeddings")
        embedder = _embedder_of(h5.attrs)
        if np.isnan(embedder.threshold):
            raise SkelshopError(path, f"no threshold recorded for embedder {embedder.name!r}")
        labels, embeddings = [], []
        dim = None
        for label in sorted(h5):
            node = h5[label]
            if not isinstance(node, h5py.Dataset):
                raise SkelshopError(path, f"{label!r} is a group, not a label's embeddings")
            data = np.asarray(node[()], dtype=np.float32)
            if data.ndim != 2:
                raise SkelshopError(path, f"label {label!r}: embeddings are not a 2-D array")
            if len(data):
                if dim is not None and data.shape[1] != dim:
                    raise SkelshopError(path, f"label {label!r}: dimension {data.shape[1]} != {dim}")
                dim = data.shape[1]
            labels.append(label)
            embeddings.append(data)
    return ReferenceSet(embedder=embedder, labels=labels, embeddings=embeddings)
