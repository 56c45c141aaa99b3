"""Load still images for embedding (JPEG, PNG and the other formats OpenCV reads)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from skelshop.errors import SkelshopError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".webp", ".tif", ".tiff"})


def is_image_path(path: str | Path) -> bool:
    """Whether a file name has an image suffix we can read."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def load_bgr(path: str | Path) -> np.ndarray:
    """Read an image as a contiguous BGR uint8 array; a corrupt file is a SkelshopError."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such image")
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise SkelshopError(path, "not a readable image (corrupt or unsupported)")
    return np.ascontiguousarray(img)
