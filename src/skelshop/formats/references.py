"""The one reader and writer of reference embedding files (HDF5, one dataset per label)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import ORIGINAL_EMBEDDER, EmbedderInfo, recorded_embedder
from skelshop.formats.hdf5_output import hdf5_output
from skelshop.formats.hdf5_values import (
    HDF5_READ_ERRORS,
    attr_text,
    finite_rows,
    numeric_array,
)
from skelshop.space import EmbeddingSpace, space_of

log = logging.getLogger(__name__)

FMT_TYPE = "reference_embeddings"
FMT_VER = 1
# The original SkelShop wrote `embedding="dlib"` and no metric or threshold.
_EMBEDDER_ALIASES = {"dlib": ORIGINAL_EMBEDDER}


@dataclass
class ReferenceSet:
    """Embeddings of reference images grouped by label; a label may have none."""

    embedder: EmbedderInfo
    labels: list[str]
    embeddings: list[np.ndarray]  # float32 (N_i, D) per label, same order as `labels`
    backend: str | None = None  # what ran the embedder ("onnx", "dlib"); None when unrecorded

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

    @property
    def space(self) -> EmbeddingSpace:
        """The embedding space the references are in (recorded model, metric, threshold)."""
        return space_of(self.embedder, self.dim)


# Identity CSVs use `noclus` for unclustered tracks and `c<k>` for unnamed clusters: a person
# with such a name could not be told apart from them.
_RESERVED_LABEL = re.compile(r"^(noclus|c\d+)$")


def reserved_label_problem(label: str) -> str | None:
    """Why a person cannot be called `label` in identity CSVs, or None when it is fine."""
    if _RESERVED_LABEL.match(label):
        what = "unclustered tracks" if label == "noclus" else "unnamed clusters"
        return (f"label {label!r} is reserved: identity CSVs use it for {what}; "
                "rename that person")
    return None


def check_label(label: str) -> None:
    """Refuse labels HDF5 would read as paths (a '/' makes groups, '.' is the root) or reserved ones."""
    if not label or "/" in label or label in {".", ".."} or "\x00" in label:
        raise ValueError(f"label {label!r} cannot name a dataset")
    problem = reserved_label_problem(label)
    if problem:
        raise ValueError(problem)


def write_references(path: str | Path, refs: ReferenceSet) -> None:
    """Write a reference file atomically; empty labels are kept as (0, D) datasets."""
    dim = refs.dim or 0
    with hdf5_output(path) as h5:  # a full disk: one line naming `path`, nothing left
        h5.attrs.update({
            "fmt_type": FMT_TYPE,
            "fmt_ver": FMT_VER,
            "embedding": refs.embedder.name,
            "metric": refs.embedder.metric,
            "threshold": float(refs.embedder.threshold),
            **({"embedder_backend": refs.backend} if refs.backend else {}),
        })
        for label, emb in zip(refs.labels, refs.embeddings, strict=True):
            check_label(label)
            data = np.asarray(emb, dtype=np.float32).reshape(len(emb), -1 if len(emb) else dim)
            h5.create_dataset(label, data=data)


def _embedder_of(path: Path, attrs: h5py.AttributeManager) -> EmbedderInfo:
    name = attr_text(attrs, "embedding", ORIGINAL_EMBEDDER)
    return recorded_embedder(path, attrs, _EMBEDDER_ALIASES.get(name, name))


# Labels already warned about in this process: a command may read one file several times.
_WARNED_EMPTY: set[tuple[str, str]] = set()


def _warn_empty_label(path: Path, label: str) -> None:
    key = (str(path.resolve()), label)
    if key not in _WARNED_EMPTY:
        _WARNED_EMPTY.add(key)
        log.warning("%s: label %r has no embeddings (no image of it had a usable face); "
                    "skipped", path, label)


def read_references(path: str | Path) -> ReferenceSet:
    """Read a reference file written by us or by the original SkelShop; every value is checked.

    The original wrote a label without a usable face as an empty 1-D dataset: such labels
    are skipped with a warning. A damaged file, non-numeric or non-finite embeddings, a
    reserved label or a file without any embedding is a SkelshopError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such reference file")
    try:
        h5 = h5py.File(path, "r")
    except OSError:
        raise SkelshopError(path, "not an HDF5 reference file") from None
    try:
        with h5:
            refs = _read_open_references(path, h5)
    except SkelshopError:
        raise
    except HDF5_READ_ERRORS as err:
        text = " ".join(str(err).split())[:120] or type(err).__name__
        raise SkelshopError(path, f"damaged or unreadable reference file ({text})") from None
    if not len(refs):
        raise SkelshopError(path, "holds no reference labels: not a reference file, or an "
                                  "empty one (embed a REFDIR/<label>/<images> folder)")
    if refs.dim is None:
        raise SkelshopError(path, f"none of its {len(refs)} label(s) has an embedding: no "
                                  "reference image had a usable face")
    return refs


def _read_open_references(path: Path, h5: h5py.File) -> ReferenceSet:
    fmt_type = h5.attrs.get("fmt_type")
    if fmt_type is not None and attr_text(h5.attrs, "fmt_type", "") != FMT_TYPE:
        raise SkelshopError(path, f"a {attr_text(h5.attrs, 'fmt_type', '')} file, "
                                  "not reference embeddings")
    embedder = _embedder_of(path, h5.attrs)
    labels, embeddings = [], []
    dim = None
    for label in sorted(h5):
        node = h5[label]
        if not isinstance(node, h5py.Dataset):
            raise SkelshopError(path, f"{label!r} is a group, not a label's embeddings")
        problem = reserved_label_problem(label)
        if problem:
            raise SkelshopError(path, problem)
        data = numeric_array(path, node, f"label {label!r}: embeddings").astype(np.float32)
        if data.ndim == 1 and data.size == 0:  # the original's `h5f[label] = []`
            _warn_empty_label(path, label)
            continue
        if data.ndim != 2:
            raise SkelshopError(path, f"label {label!r}: embeddings are not a 2-D array")
        finite_rows(path, data, f"label {label!r}: embeddings")
        if len(data):
            if dim is not None and data.shape[1] != dim:
                raise SkelshopError(path, f"label {label!r}: dimension {data.shape[1]} != {dim}")
            dim = data.shape[1]
        labels.append(label)
        embeddings.append(data)
    return ReferenceSet(embedder=embedder, labels=labels, embeddings=embeddings,
                        backend=attr_text(h5.attrs, "embedder_backend", "") or None)
