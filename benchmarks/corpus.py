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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("shots", "decode", "detect", "align", "embed", "cluster", "name")


def run_worker(workers: int) -> None:
    """One corpus run; prints wall time and summed stage seconds as JSON."""
    from skelshop.corpus.run import CorpusSettings, run_corpus
    from skelshop.samples.demo import build_sample_references, sample_videos

    with tempfile.TemporaryDirectory() as tmp:
        refs = build_sample_references(Path(tmp) / "refs")
        t0 = time.perf_counter()
        summary = run_corpus(sample_videos(), Path(tmp) / "out",
                             CorpusSettings(refs=refs, workers=workers), progress=False)
        wall = time.perf_counter() - t0
    stages = dict.fromkeys(STAGES, 0.0)
    for video in summary.videos:
        for name, secs in video.stage_seconds.items():
            stages[name] += secs
    for name, secs in summary.stage_seconds.items():
        stages[name] += secs
    print(json.dumps({
        "workers": workers, "wall_s": wall, "stages": stages,
        "video_s": sum(v.video_seconds for v in summary.videos),
        "failed": len(summary.failed), "tracks": summary.tracks,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def main() -> None:
    """Run 1 and 2 workers side by side and print (and save) the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", type=int)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "corpus.txt"))
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker)
        return
    rows = []
    for workers in (1, 2):
        proc = subprocess.run([sys.executable, __file__, "--worker", str(workers)],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    lines = [
        f"# benchmarks/corpus.py: sample corpus (4 videos, {rows[0]['video_s']:.0f} s of video), "
        f"sparse, 6 fps, refs from the sample stills; {platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}",
        f"{'workers':>7} {'wall s':>7} {'x realtime':>10} {'tracks':>6} {'failed':>6} "
        f"{'driver MB':>9}  share of summed stage time",
    ]
    for r in rows:
        total = sum(r["stages"].values()) or 1.0
        shares = " ".join(f"{k}={100 * v / total:.0f}%" for k, v in r["stages"].items())
        lines.append(f"{r['workers']:>7} {r['wall_s']:>7.1f} {r['wall_s'] / r['video_s']:>10.3f} "
                     f"{r['tracks']:>6} {r['failed']:>6} {r['peak_mb']:>9.0f}  {shares}")
    lines.append("(2 workers: a Dask LocalCluster of 2 processes, its start-up included in wall)")
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
