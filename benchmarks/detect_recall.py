"""YuNet recall against face height, by detection size, on 720p and 1080p videos.

The videos are made from the sample stills (`skelshop.samples.broadcast`): rows of faces
24-96 px tall on a moving background, H.264 at CRF 23. Every frame is decoded and detected at
each long-side size; a true face counts as found when a detection overlaps it with IoU >= 0.4.
Usage: python benchmarks/detect_recall.py [--frames 60] [--out benchmarks/results/detect_recall.txt]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HEIGHTS = (24, 32, 40, 48, 64, 96)
SIZES = (320, 480, 512, 544, 640, 768, 800, 816, 960, 1280, 1920)  # 544, 816: the default (17/40)
RESOLUTIONS = ((1280, 720), (1920, 1080))


def measure(video: Path, truth: list, sizes: tuple[int, ...]) -> dict:
    """Recall per face height and ms per frame of YuNet at each long-side size."""
    from skelshop.faces.detector import YuNetDetector
    from skelshop.media.video import FrameReader
    from skelshop.samples.broadcast import matched

    by_frame = defaultdict(list)
    for face in truth:
        by_frame[face.frame].append(face)
    frames = [bgr for _, bgr in FrameReader(video)]
    width = frames[0].shape[1]
    results = {}
    for side in sizes:
        if side > width:
            continue
        detector = YuNetDetector(max_side=side)
        found = defaultdict(lambda: [0, 0])
        t0 = time.perf_counter()
        for index, bgr in enumerate(frames):
            dets = detector.detect(bgr)
            hits = matched(by_frame[index], dets.boxes)
            for face, hit in zip(by_frame[index], hits, strict=True):
                cell = found[round(face.height)]
                cell[0] += int(hit)
                cell[1] += 1
        ms = 1000 * (time.perf_counter() - t0) / len(frames)
        results[side] = (ms, {h: hit / total for h, (hit, total) in sorted(found.items())})
    return results


def main() -> None:
    """Make the videos, measure, print the table and save it."""
    from skelshop.samples.broadcast import face_grid_video
    from skelshop.samples.fetch import fetch_samples

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results/detect_recall.txt")
    args = parser.parse_args()
    media = fetch_samples()
    load = os.getloadavg()
    lines = [f"# benchmarks/detect_recall.py: {args.frames} frames per video, 4 faces of each "
             f"height per frame; {platform.machine()}, {os.cpu_count()} cores, load average "
             f"{load[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M')}",
             "# recall of faces by height in the source frame (px); ms = detection per frame, "
             "one thread"]
    header = f"{'video':<10} {'detect at':>9} {'ms':>6} " + " ".join(f"{h:>5}" for h in HEIGHTS)
    lines.append(header)
    with tempfile.TemporaryDirectory() as tmp:
        for size in RESOLUTIONS:
            video = Path(tmp) / f"grid{size[1]}.mp4"
            truth = face_grid_video(video, media, size, HEIGHTS, args.frames)
            for side, (ms, recall) in measure(video, truth, SIZES).items():
                cells = " ".join(f"{recall.get(h, np.nan):>5.2f}" for h in HEIGHTS)
                lines.append(f"{size[0]}x{size[1]:<5} {side:>9} {ms:>6.1f} {cells}")
                print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
