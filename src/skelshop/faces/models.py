"""The registry of face models (detector, aligner, embedder): the next model is one class, one entry.

Light on purpose (no numpy, dlib or onnxruntime at import time): CLI modules take option
choices and defaults from here. Entries name their class as "module:attribute" and are
imported only when a model is made.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

# How the embedder's network is run: ONNX Runtime on dlib's weights (default, ~10x faster,
# same vectors within 1e-5) or dlib itself.
EMBEDDER_BACKENDS = ("onnx", "dlib")
DEFAULT_EMBEDDER_BACKEND = "onnx"
# One intra-op thread per worker process: workers (and the decoder) run side by side.
DEFAULT_EMBED_THREADS = 1
DEFAULT_EMBED_BATCH = 32


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its role, its class, and for embedders the space it embeds into."""

    name: str
    role: str  # "detector" | "aligner" | "embedder"
    target: str  # "package.module:Class"
    description: str
    space: EmbeddingSpace | None = None
    backends: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def load_class(self) -> type:
        """Import the model's class."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


DETECTORS: dict[str, ModelEntry] = {
    "yunet": ModelEntry("yunet", "detector", "skelshop.faces.detector:YuNetDetector",
                        "YuNet (yuface wheel, weights compiled in, BSD), run by ONNX Runtime"),
}
ALIGNERS: dict[str, ModelEntry] = {
    "dlib_5_point": ModelEntry("dlib_5_point", "aligner",
                               "skelshop.faces.embedder:Dlib5PointAligner",
                               "dlib 5-point landmarks, 150x150 chip, padding 0.25"),
}
EMBEDDERS: dict[str, ModelEntry] = {
    DLIB_RESNET_V1.name: ModelEntry(
        DLIB_RESNET_V1.name, "embedder", "skelshop.faces.embedder:DlibFaceEmbedder",
        f"dlib ResNet-29 face descriptor, {DLIB_RESNET_V1.dim}-D, {DLIB_RESNET_V1.metric}, "
        f"same person <= {DLIB_RESNET_V1.threshold}",
        space=DLIB_RESNET_V1, backends=EMBEDDER_BACKENDS),
}
DEFAULT_DETECTOR = "yunet"
DEFAULT_ALIGNER = "dlib_5_point"
DEFAULT_EMBEDDER = DLIB_RESNET_V1.name


def _entry(registry: dict[str, ModelEntry], name: str, role: str) -> ModelEntry:
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"unknown {role} {name!r} (known: {', '.join(registry)})") from None


def embedding_space(name: str) -> EmbeddingSpace | None:
    """The space of a registered embedder, None for a name this version does not know."""
    entry = EMBEDDERS.get(name)
    return entry.space if entry else None


def make_detector(name: str = DEFAULT_DETECTOR, **options: Any):
    """Load a registered face detector."""
    return _entry(DETECTORS, name, "detector").load_class()(**options)


def make_embedder(name: str = DEFAULT_EMBEDDER, backend: str = DEFAULT_EMBEDDER_BACKEND,
                  **options: Any):
    """Load a registered embedder (with its aligner) run by `backend`."""
    entry = _entry(EMBEDDERS, name, "embedder")
    if backend not in entry.backends:
        raise ValueError(f"embedder {name!r} has no backend {backend!r} "
                         f"(known: {', '.join(entry.backends)})")
    return entry.load_class()(backend=backend, **options)
