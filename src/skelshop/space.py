"""EmbeddingSpace: what an embedding means (name, dimension, metric, same-person threshold).

The embedder owns its space and records it in every file it writes; everything that compares
embeddings (tracker, kNN backends, clustering radii, identification, naming) takes its
distances and thresholds from here. Two backends that give the same vectors (dlib itself and
dlib's network run by ONNX Runtime) share one space, so their files stay comparable.

Light on purpose: numpy is imported inside the methods, so CLI modules can read names and
thresholds for option defaults without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Named as scipy and scikit-learn name them, so `metric` can be handed to their functions.
METRICS = ("euclidean", "cosine")
# What kNN libraries report natively: L2 distance, squared L2, inner product of unit vectors.
NATIVE_MEASURES = ("euclidean", "sqeuclidean", "inner_product")


@dataclass(frozen=True)
class EmbeddingSpace:
    """A named embedding space: vectors of `dim` floats compared by `metric`."""

    name: str
    dim: int
    metric: str  # "euclidean" | "cosine" (1 - cos)
    threshold: float  # same person when distance <= threshold

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unsupported metric {self.metric!r} (known: {', '.join(METRICS)})")

    def distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distance matrix (n, m) between the rows of `a` and `b`, by one matrix product."""
        import numpy as np

        a = self.prepare(a)
        b = self.prepare(b)
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
        return self.from_native(np.maximum(sq, 0.0), "sqeuclidean")

    def rowwise(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distances (n,) between row i of `a` and row i of `b`."""
        import numpy as np

        diff = self.prepare(a) - self.prepare(b)
        return self.from_native(np.einsum("ij,ij->i", diff, diff), "sqeuclidean")

    def same_person(self, distance: np.ndarray | float) -> np.ndarray | bool:
        """Whether distances say "same person" (at or below the threshold)."""
        return distance <= self.threshold

    def prepare(self, vectors: np.ndarray, dtype: type | None = None) -> np.ndarray:
        """Rows (float32 unless `dtype`) whose squared L2 is a function of the metric (unit for cosine)."""
        import numpy as np

        vectors = np.asarray(vectors, dtype=dtype or np.float32)
        if vectors.ndim == 1:
            vectors = vectors.reshape(1, -1)
        if self.metric == "cosine":
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return vectors

    def to_native(self, radius, native: str):
        """A radius (or array of distances) in this metric, in a kNN library's measure on `prepare`d rows."""
        _check_native(native)
        if self.metric == "euclidean":
            if native == "euclidean":
                return radius
            if native == "sqeuclidean":
                return radius * radius
            raise ValueError("inner product does not rank Euclidean distances of raw vectors")
        # cosine distance c = 1 - <u, v> on unit rows; squared L2 = 2c; L2 = sqrt(2c)
        if native == "sqeuclidean":
            return 2.0 * radius
        if native == "euclidean":
            return (2.0 * radius) ** 0.5
        return 1.0 - radius

    def from_native(self, value, native: str):
        """A kNN library's measure (on `prepare`d rows) as a distance in this metric."""
        import numpy as np

        _check_native(native)
        if self.metric == "euclidean":
            if native == "euclidean":
                return value
            if native == "sqeuclidean":
                return np.sqrt(np.maximum(value, 0.0))
            raise ValueError("inner product does not give Euclidean distances of raw vectors")
        if native == "sqeuclidean":
            return np.maximum(value, 0.0) / 2.0
        if native == "euclidean":
            return np.square(value) / 2.0
        return 1.0 - value

    def comparable(self, other: EmbeddingSpace) -> bool:
        """Whether embeddings of `other` compare with this space's: same model, metric, dimension.

        A dimension of 0 means "not known" (a file's vectors were not looked at) and
        matches any. Thresholds may differ: they are decisions, not the space.
        """
        dims_differ = bool(other.dim and self.dim and other.dim != self.dim)
        return other.name == self.name and other.metric == self.metric and not dims_differ

    def check_comparable(self, other: EmbeddingSpace, self_src: str | Path,
                         other_src: str | Path) -> None:
        """Refuse (SkelshopError naming `other_src`) to compare embeddings of another space."""
        from skelshop.errors import SkelshopError

        if self.comparable(other):
            return
        if other.name != self.name:
            raise SkelshopError(
                other_src, f"embedded by {other.name!r} but {self_src} was embedded by "
                f"{self.name!r}; embeddings of different models cannot be compared")
        raise SkelshopError(
            other_src, f"embedding space {other.name!r} ({other.shape_text()}) "
            f"differs from {self_src} ({self.shape_text()})")

    def shape_text(self) -> str:
        """"128-D, euclidean" (the metric alone while the dimension is unknown)."""
        return f"{self.dim}-D, {self.metric}" if self.dim else self.metric


def space_of(recorded, dim: int | None = None) -> EmbeddingSpace:
    """The space a file records (anything with name, metric, threshold; e.g. EmbedderInfo).

    `dim` is the file's vector length; without it a known model's, else 0 (unknown).
    """
    from skelshop.faces.models import embedding_space  # the registry imports this module

    if isinstance(recorded, EmbeddingSpace):
        return recorded
    known = embedding_space(recorded.name)
    return EmbeddingSpace(name=recorded.name,
                          dim=int(dim if dim is not None else known.dim if known else 0),
                          metric=recorded.metric, threshold=float(recorded.threshold))


def _check_native(native: str) -> None:
    if native not in NATIVE_MEASURES:
        raise ValueError(f"unknown native measure {native!r} (known: {', '.join(NATIVE_MEASURES)})")


# dlib's ResNet face descriptor: Euclidean, same person below 0.6 (dlib's documented threshold,
# also the loss_metric distance threshold stored in the model file).
DLIB_RESNET_V1 = EmbeddingSpace(name="dlib_face_recognition_resnet_model_v1", dim=128,
                                metric="euclidean", threshold=0.6)
