"""Cut an upright face picture from a frame the way the embedder's chip was cut, with margin."""

from __future__ import annotations

import cv2
import numpy as np

PICTURE_SIZE = 200
# The embedder's chip is already padded by 25%; a little more shows hair and chin for people.
MARGIN = 0.15


def _rotate(points: np.ndarray, center: np.ndarray, angle: float) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    rel = points - center
    return np.stack([cos * rel[:, 0] - sin * rel[:, 1], sin * rel[:, 0] + cos * rel[:, 1]], 1) + center


def cut_face_picture(bgr: np.ndarray, chip_bbox: np.ndarray, size: int = PICTURE_SIZE,
                     margin: float = MARGIN) -> np.ndarray:
    """Warp the chip rectangle (x1, y1, x2, y2, angle), grown by `margin`, to a size×size image."""
    x1, y1, x2, y2, angle = (float(v) for v in chip_bbox[:5])
    center = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    half = np.array([(x2 - x1) / 2, (y2 - y1) / 2]) * (1 + 2 * margin)
    # dlib maps the rectangle's corners, rotated about its centre by `angle`, onto the chip's.
    corners = np.array([center - half, [center[0] + half[0], center[1] - half[1]], center + half])
    src = _rotate(corners, center, angle).astype(np.float32)
    dst = np.array([[0, 0], [size - 1, 0], [size - 1, size - 1]], dtype=np.float32)
    matrix = cv2.getAffineTransform(src, dst)
    return cv2.warpAffine(bgr, matrix, (size, size), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT)
