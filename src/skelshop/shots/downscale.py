"""The frame size cut detectors work at: PySceneDetect's downscale factor for the frame width."""

from __future__ import annotations

import cv2
import numpy as np


def downscaled(bgr: np.ndarray, factor: float) -> np.ndarray:
    """`bgr` shrunk by `factor` (as PySceneDetect's SceneManager does); unchanged at <= 1."""
    if factor <= 1.0:
        return bgr
    height, width = bgr.shape[:2]
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)
