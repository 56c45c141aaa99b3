"""Face quality and the choice of the best few faces of each track."""

from __future__ import annotations

import cv2
import numpy as np

from skelshop.faces.tracker import FaceCandidate

# Face side (pixels) from which size stops adding to quality, and the sharpness scale.
FULL_SIZE_SIDE = 100.0
SHARPNESS_SCALE = 100.0


def face_quality(score: float, box: np.ndarray, chip: np.ndarray) -> float:
    """Detector confidence × size term × sharpness term, each in [0, 1]."""
    side = float(min(box[2] - box[0], box[3] - box[1]))
    size_term = min(1.0, max(side, 0.0) / FULL_SIZE_SIDE)
    gray = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    # Variance of the Laplacian: low for blurred faces (motion, focus, upscaling).
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    sharp_term = sharpness / (sharpness + SHARPNESS_SCALE)
    return float(score) * size_term * sharp_term


def select_best(faces: list[FaceCandidate], per_track: int, min_gap: int) -> list[FaceCandidate]:
    """Up to `per_track` faces, best quality first, at least `min_gap` frames apart.

    The gap shrinks for short tracks so a briefly seen person still gets what they have.
    """
    if per_track <= 0 or not faces:
        return []
    span = faces[-1].frame - faces[0].frame
    gap = min(min_gap, span // per_track) if per_track > 1 else 0
    chosen: list[FaceCandidate] = []
    for face in sorted(faces, key=lambda f: (-f.quality, f.frame)):
        if all(abs(face.frame - c.frame) >= max(gap, 1) for c in chosen):
            chosen.append(face)
            if len(chosen) == per_track:
                break
    return sorted(chosen, key=lambda f: f.frame)
