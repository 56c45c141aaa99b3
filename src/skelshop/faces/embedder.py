"""Alignment (dlib 5-point) and embedding (dlib's ResNet, 128-D) behind one object.

The network runs in one of two backends that give the same vectors (max L2 difference ~1e-6,
see benchmarks/results/embed.txt): dlib itself (`dlib-bin`, no BLAS: ~80 ms a face) or the
same weights read from dlib's .dat and run by ONNX Runtime (the default, ~10x faster). Both
share one embedding space, so files made by either compare with each other.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass

import dlib
import face_recognition_models
import numpy as np

from skelshop.errors import SkelshopError
from skelshop.faces.models import (
    DEFAULT_EMBED_BATCH,
    DEFAULT_EMBED_THREADS,
    DEFAULT_EMBEDDER_BACKEND,
    EMBEDDER_BACKENDS,
)
from skelshop.formats.face_dump import EmbedderInfo
from skelshop.space import DLIB_RESNET_V1, EmbeddingSpace

log = logging.getLogger(__name__)

CHIP_SIZE = 150
CHIP_PADDING = 0.25


@dataclass
class AlignedFace:
    """A face cut out and rotated upright: the embedder's input."""

    chip: np.ndarray  # uint8 (150, 150, 3) RGB
    chip_bbox: np.ndarray  # float32 (5,) x1, y1, x2, y2, angle (radians) in the frame


class Dlib5PointAligner:
    """dlib's 5-point landmark model and chip extraction (150x150, padding 0.25)."""

    name = "dlib_5_point"

    def __init__(self) -> None:
        self._predictor = dlib.shape_predictor(
            face_recognition_models.pose_predictor_five_point_model_location()
        )

    def align(self, rgb: np.ndarray, box: np.ndarray) -> AlignedFace:
        """Fit the 5-point model inside a detector box and cut the upright chip."""
        x1, y1, x2, y2 = (round(float(v)) for v in box[:4])
        shape = self._predictor(rgb, dlib.rectangle(x1, y1, x2, y2))
        details = dlib.get_face_chip_details(shape, CHIP_SIZE, CHIP_PADDING)
        chip = dlib.extract_image_chip(rgb, details)
        rect = details.rect
        return AlignedFace(
            chip=np.asarray(chip, dtype=np.uint8),
            chip_bbox=np.array([rect.left(), rect.top(), rect.right(), rect.bottom(),
                                details.angle], dtype=np.float32),
        )


class DlibNetBackend:
    """dlib's own forward pass (dlib-bin: portable, no BLAS)."""

    name = "dlib"

    def __init__(self, model_path: str, batch_size: int):
        self.batch_size = batch_size
        self._net = dlib.face_recognition_model_v1(model_path)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """Descriptors (n, 128) float32 of uint8 RGB chips (n, 150, 150, 3)."""
        out = np.zeros((len(chips), DLIB_RESNET_V1.dim), dtype=np.float32)
        for start in range(0, len(chips), self.batch_size):
            batch = [np.ascontiguousarray(c) for c in chips[start:start + self.batch_size]]
            vectors = self._net.compute_face_descriptor(batch)
            out[start:start + len(batch)] = np.asarray([np.asarray(v) for v in vectors])
        return out


class OnnxNetBackend:
    """The same network read from dlib's .dat and run by ONNX Runtime (CPU; CUDA when present)."""

    name = "onnx"

    def __init__(self, model_path: str, batch_size: int, threads: int,
                 providers: list[str] | None = None):
        import onnxruntime as ort

        from skelshop.faces.dlib_dat import read_dlib_net
        from skelshop.faces.onnx_resnet import INPUT_NAME, build_onnx, cached_onnx_path

        self.batch_size = batch_size
        self.threads = threads
        opts = ort.SessionOptions()
        # One thread per worker process by default: workers run side by side (like YuNet's).
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Spinning threads burn the cores other workers (and the decoder) need.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        if providers is None:
            available = ort.get_available_providers()
            providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                         if p in available]
        try:
            cached = cached_onnx_path(model_path)
        except OSError as exc:  # a read-only cache folder: build in memory every time
            log.warning("cannot cache the ONNX face model (%s); building it in memory", exc)
            cached = None
        session = None
        if cached is not None:
            try:
                session = ort.InferenceSession(str(cached), opts, providers=providers)
            except Exception as exc:  # onnxruntime has no common error type
                # A damaged cache file (e.g. edited by hand): never trust it, rebuild in memory.
                log.warning("%s: cached ONNX face model unreadable (%s); rebuilding it", cached,
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                with contextlib.suppress(OSError):
                    cached.unlink()
        if session is None:
            model = build_onnx(read_dlib_net(model_path)).SerializeToString()
            session = ort.InferenceSession(model, opts, providers=providers)
        self._session = session
        self._input = INPUT_NAME
        self.providers = self._session.get_providers()

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """Descriptors (n, 128) float32 of uint8 RGB chips (n, 150, 150, 3)."""
        out = np.zeros((len(chips), DLIB_RESNET_V1.dim), dtype=np.float32)
        for start in range(0, len(chips), self.batch_size):
            batch = np.ascontiguousarray(chips[start:start + self.batch_size], dtype=np.uint8)
            out[start:start + len(batch)] = self._session.run(None, {self._input: batch})[0]
        return out


class DlibFaceEmbedder:
    """dlib's 5-point alignment and ResNet descriptor; owns its embedding space."""

    space: EmbeddingSpace = DLIB_RESNET_V1
    # what files record of the space (its dimension is the vectors' length)
    info = EmbedderInfo(name=space.name, metric=space.metric, threshold=space.threshold)
    dim = space.dim

    def __init__(self, batch_size: int = DEFAULT_EMBED_BATCH,
                 backend: str = DEFAULT_EMBEDDER_BACKEND, threads: int | None = None,
                 providers: list[str] | None = None):
        if backend not in EMBEDDER_BACKENDS:
            raise SkelshopError(None, f"unknown embedder backend {backend!r} "
                                f"(known: {', '.join(EMBEDDER_BACKENDS)})")
        self.batch_size = batch_size
        self.threads = embed_threads() if threads is None else threads
        self.aligner = Dlib5PointAligner()
        model_path = face_recognition_models.face_recognition_model_location()
        self._net: DlibNetBackend | OnnxNetBackend = (
            OnnxNetBackend(model_path, batch_size, self.threads, providers) if backend == "onnx"
            else DlibNetBackend(model_path, batch_size)
        )

    @property
    def backend(self) -> str:
        """Which runtime computes the descriptors ("onnx" or "dlib"); recorded in files."""
        return self._net.name

    @property
    def file_attrs(self) -> dict[str, str]:
        """What files record about how their embeddings were computed (beside the space)."""
        return {"embedder_backend": self.backend}

    @property
    def name(self) -> str:
        """The model's name as recorded in files."""
        return self.space.name

    @property
    def threshold(self) -> float:
        """Same-person distance threshold."""
        return self.space.threshold

    def align(self, rgb: np.ndarray, box: np.ndarray) -> AlignedFace:
        """Fit the 5-point model inside a detector box and cut the upright chip."""
        return self.aligner.align(rgb, box)

    def embed(self, chips: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Embed aligned uint8 RGB chips in batches; returns float32 (n, 128)."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        stacked = np.asarray(chips if isinstance(chips, np.ndarray) else np.stack(chips))
        if stacked.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3) or stacked.dtype != np.uint8:
            raise ValueError(f"chips must be uint8 (n, {CHIP_SIZE}, {CHIP_SIZE}, 3), "
                             f"got {stacked.dtype} {stacked.shape}")
        return self._net.embed(stacked)

    def distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Pairwise distances (n, m) in the embedder's space."""
        return self.space.distances(a, b)


def embed_threads() -> int:
    """Intra-op threads of one embedder: $SKELSHOP_EMBED_THREADS, else 1 (one per worker process)."""
    raw = os.environ.get("SKELSHOP_EMBED_THREADS", "")
    try:
        return max(1, int(raw)) if raw else DEFAULT_EMBED_THREADS
    except ValueError:
        raise SkelshopError(None, f"SKELSHOP_EMBED_THREADS={raw!r} is not a whole number") from None
