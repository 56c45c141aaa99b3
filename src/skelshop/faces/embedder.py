"""Alignment (dlib 5-point) and embedding (dlib ResNet, 128-D) behind one object."""

from __future__ import annotations

from dataclasses import dataclass

import dlib
import face_recognition_models
import numpy as np

from skelshop.formats.face_dump import EmbedderInfo

CHIP_SIZE = 150
CHIP_PADDING = 0.25


@dataclass
class AlignedFace:
    """A face cut out and rotated upright: the embedder's input."""

    chip: np.ndarray  # uint8 (150, 150, 3) RGB
    chip_bbox: np.ndarray  # float32 (5,) x1, y1, x2, y2, angle (radians) in the frame


class DlibFaceEmbedder:
    """dlib's ResNet face descriptor; owns its name, dimension, metric and threshold."""

    info = EmbedderInfo(name="dlib_face_recognition_resnet_model_v1", metric="euclidean",
                        threshold=0.6)
    dim = 128

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self._predictor = dlib.shape_predictor(
            face_recognition_models.pose_predictor_five_point_model_location()
        )
        self._net = dlib.face_recognition_model_v1(
            face_recognition_models.face_recognition_model_location()
        )

    @property
    def name(self) -> str:
        """The model's name as recorded in files."""
        return self.info.name

    @property
    def threshold(self) -> float:
        """Same-person distance threshold."""
        return self.info.threshold

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

    def embed(self, chips: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Embed aligned chips in batches; returns float32 (n, 128)."""
        out = np.zeros((len(chips), self.dim), dtype=np.float32)
        for start in range(0, len(chips), self.batch_size):
            batch = [np.ascontiguousarray(c) for c in chips[start:start + self.batch_size]]
            vectors = self._net.compute_face_descriptor(batch)
            out[start:start + len(batch)] = np.asarray([np.asarray(v) for v in vectors])
        return out

    def distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Pairwise Euclidean distances (n, m) by one matrix product."""
        return pairwise_euclidean(a, b)


def pairwise_euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix of row vectors, computed with BLAS."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0))
