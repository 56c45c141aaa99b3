"""Where to look for faces in each sampled frame: the whole frame now and then, else around
the faces found last.

Detecting the whole frame costs the same whether it holds no face or ten (YuNet's time
grows with the pixels it looks at: ~6.5 ms for a 720p frame at 544 px, ~0.9 ms for a 96-px
crop, in ONNX Runtime on one core). Between two sampled frames of one shot faces move little, so most samples are
detected only in a square around each face of the previous sample, scaled so the face is
about `ROI_FACE_PX` tall. The whole frame is detected again
- on the first sample and after every cut the detection thread is told of,
- when the frame no longer looks like the last fully detected one (a cut the cut detector
  has not confirmed yet, a dissolve, a pan: mean grey difference of 32x18 thumbnails
  above `CHANGE_LEVEL`),
- every `full_every` samples (new faces entering a shot are found within that time),
- and where the crops together would cost about as much as the whole frame.
`full_every` = 1 detects every sample whole (the behaviour before this schedule).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from skelshop.faces.detector import Detections, YuNetDetector, empty_detections, shrunk

# A face is looked for in a square this many times its size, centred where it was.
ROI_CONTEXT = 2.0
# ...scaled so that the face is about this tall at the detector's input (never enlarged).
ROI_FACE_PX = 64.0
# Crops costing more than this share of a whole-frame detection: detect the whole frame.
ROI_MAX_SHARE = 0.6
# Mean absolute grey difference (0-255) of 32x18 thumbnails that counts as another view.
CHANGE_LEVEL = 12.0
_THUMB = (32, 18)
# A crop's face must lie this far inside the crop (share of the crop side) unless the crop
# edge is the frame's: a face cut by the crop border is found again whole elsewhere or later.
_EDGE_SHARE = 0.05
_NMS_IOU = 0.5


@dataclass
class ScheduleCounts:
    """How the sampled frames were detected."""

    full: int = 0
    regions: int = 0  # samples detected in crops only
    crops: int = 0


class DetectionSchedule:
    """Detects the sampled frames of one video in order (one instance per video and thread)."""

    def __init__(self, detector: YuNetDetector, detect_side: int, full_every: int):
        self.detector = detector
        self.detect_side = int(detect_side)
        self.full_every = max(1, int(full_every))
        self.counts = ScheduleCounts()
        self._boxes = np.zeros((0, 4), np.float32)
        self._since_full = 0
        self._reference: np.ndarray | None = None  # thumbnail of the last full detection

    def cut(self) -> None:
        """A confirmed cut: the next sample is detected whole."""
        self._reference = None

    def detect(self, bgr: np.ndarray) -> Detections:
        """The faces of the next sampled frame (coordinates in its pixels)."""
        thumb = None
        if self.full_every > 1:
            # every 8th pixel is plenty for a 32x18 thumbnail, at a sixth of the cost
            coarse = np.ascontiguousarray(bgr[::8, ::8])
            thumb = cv2.cvtColor(shrunk(coarse, _THUMB), cv2.COLOR_BGR2GRAY).astype(np.float32)
        crops = self._crops(bgr.shape[1], bgr.shape[0]) if thumb is not None else None
        if crops is None or self._changed(thumb):
            found = self.detector.detect(bgr, self.detect_side)
            self._reference = thumb
            self._since_full = 1
            self.counts.full += 1
        else:
            found = self._detect_crops(bgr, crops)
            self._since_full += 1
            self.counts.regions += 1
            self.counts.crops += len(crops)
        self._boxes = found.boxes
        return found

    def _changed(self, thumb: np.ndarray | None) -> bool:
        if self._reference is None or thumb is None:
            return True
        return float(np.abs(thumb - self._reference).mean()) > CHANGE_LEVEL

    def _crops(self, width: int, height: int) -> list[tuple[int, int, int, int, float]] | None:
        """(x0, y0, x1, y1, scale) around each face found last; None: detect the whole frame."""
        if self._reference is None or self._since_full >= self.full_every:
            return None
        full_scale = min(1.0, self.detect_side / max(width, height))
        budget = ROI_MAX_SHARE * (width * full_scale) * (height * full_scale)
        crops, cost = [], 0.0
        for x1, y1, x2, y2 in self._boxes.tolist():
            size = max(x2 - x1, y2 - y1, 1.0)
            half = ROI_CONTEXT * size / 2
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
            xe, ye = min(width, int(np.ceil(cx + half))), min(height, int(np.ceil(cy + half)))
            if xe - x0 < 8 or ye - y0 < 8:
                continue
            scale = min(1.0, ROI_FACE_PX / size)
            crops.append((x0, y0, xe, ye, scale))
            cost += (xe - x0) * (ye - y0) * scale * scale
        if cost > budget:
            return None
        return crops

    def _detect_crops(self, bgr: np.ndarray, crops: list) -> Detections:
        height, width = bgr.shape[:2]
        parts = []
        for x0, y0, xe, ye, scale in crops:
            side = max(xe - x0, ye - y0)
            found = self.detector.detect(bgr[y0:ye, x0:xe], max(1, round(side * scale)))
            if not len(found):
                continue
            boxes = found.boxes + np.array([x0, y0, x0, y0], np.float32)
            edge = _EDGE_SHARE * side
            inside = np.ones(len(boxes), bool)
            if x0 > 0:
                inside &= boxes[:, 0] >= x0 + edge
            if y0 > 0:
                inside &= boxes[:, 1] >= y0 + edge
            if xe < width:
                inside &= boxes[:, 2] <= xe - edge
            if ye < height:
                inside &= boxes[:, 3] <= ye - edge
            parts.append(Detections(boxes[inside], found.scores[inside],
                                    found.landmarks[inside] + np.array([x0, y0], np.float32)))
        if not parts:
            return empty_detections()
        return _suppress_repeats(Detections(
            np.concatenate([p.boxes for p in parts]), np.concatenate([p.scores for p in parts]),
            np.concatenate([p.landmarks for p in parts])))


def _suppress_repeats(found: Detections) -> Detections:
    """One detection per face where crops overlapped (the best-scoring one)."""
    if len(found) < 2:
        return found
    from skelshop.faces.tracker import box_iou

    order = np.argsort(-found.scores, kind="stable")
    iou = box_iou(found.boxes[order], found.boxes[order])
    keep: list[int] = []
    for i in range(len(order)):
        if all(iou[i, j] < _NMS_IOU for j in keep):
            keep.append(i)
    chosen = np.sort(order[keep])  # left to right as found
    return Detections(found.boxes[chosen], found.scores[chosen], found.landmarks[chosen])


def full_every_samples(seconds: float, sample_fps: float) -> int:
    """Samples between whole-frame detections for `seconds` at `sample_fps` (0 s: every one)."""
    if seconds <= 0 or sample_fps <= 0:
        return 1
    return max(1, round(seconds * sample_fps))
