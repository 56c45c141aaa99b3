"""YuNet face detection (the `yuface` wheel, weights compiled in)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import yuface
from threadpoolctl import threadpool_limits


@dataclass
class Detections:
    """Faces found in one image: boxes (n,4) x1,y1,x2,y2, scores (n,) in [0,1], landmarks (n,5,2)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


class YuNetDetector:
    """YuNet on BGR uint8 images, downscaled so the long side is at most `max_side`."""

    name = "yunet"

    def __init__(self, conf_threshold: float = 0.6, max_side: int = 960, min_size: int = 20):
        self.conf_threshold = conf_threshold
        self.max_side = max_side
        self.min_size = min_size
        # YuNet's OpenMP pool oversubscribes badly when several workers run: one thread each.
        self._limits = threadpool_limits(limits=1, user_api="openmp")

    def detect(self, bgr: np.ndarray, max_side: int | None = None) -> Detections:
        """Detect faces (at a long side of `max_side`, default the detector's); coordinates
        are in the input image's pixels."""
        height, width = bgr.shape[:2]
        scale = min(1.0, (max_side or self.max_side) / max(height, width))
        img = bgr
        if scale < 1.0:
            img = cv2.resize(bgr, (round(width * scale), round(height * scale)),
                             interpolation=cv2.INTER_AREA)
        # The detector silently finds nothing on strided views: hand it a contiguous copy.
        img = np.ascontiguousarray(img, dtype=np.uint8)
        raw = yuface.c_detect(img)
        if raw.size == 0:
            return _empty()
        raw = raw.astype(np.float32)
        keep = raw[:, 0] / 100.0 >= self.conf_threshold
        raw = raw[keep]
        xywh = raw[:, 1:5] / scale
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        size_ok = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= self.min_size
        return Detections(
            boxes=boxes[size_ok],
            scores=raw[size_ok, 0] / 100.0,
            landmarks=(raw[size_ok, 5:15] / scale).reshape(-1, 5, 2),
        )


def _empty() -> Detections:
    return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                      np.zeros((0, 5, 2), np.float32))
