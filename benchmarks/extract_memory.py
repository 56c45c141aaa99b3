"""Peak memory of the default extraction (sparse, checkpointed) against video length.

A 12-second 720p programme is made from the sample media once, then copied end to end (its
packets remuxed, no re-encoding) into videos 5, 25 and 50 times as long (1, 5 and 10 minutes);
each is extracted in a fresh subprocess (`extract_with_shots` with a dump written, as `corpus
run` does) and its peak resident memory (VmHWM) reported. Flat memory means the same peak for
every length.
Usage: python benchmarks/extract_memory.py [--copies 5 25 50] [--out benchmarks/results/extract_memory.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def remux_copies(src: Path, dst: Path, copies: int) -> Path:
    """Write `src`'s video packets `copies` times in a row to `dst` (timestamps shifted)."""
    import av

    with av.open(str(src)) as first:
        stream = first.streams.video[0]
        packets = [p for p in first.demux(stream) if p.dts is not None]
        frame_ticks = round(1 / (stream.average_rate * stream.time_base))
        span = max(p.pts for p in packets) - min(p.pts for p in packets) + frame_ticks
        with av.open(str(dst), "w") as out:
            out_stream = out.add_stream_from_template(stream)
            for copy in range(copies):
                for packet in packets:
                    pts, dts = packet.pts, packet.dts
                    packet.stream = out_stream
                    packet.pts, packet.dts = pts + copy * span, dts + copy * span
                    out.mux(packet)
                    packet.pts, packet.dts = pts, dts
    return dst


def run_worker(video: str) -> None:
    """Extract one video (sparse, chips, checkpointed) and print its figures as JSON."""
    from skelshop.faces.pipeline import FaceExtractor

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        _, shots, stats = FaceExtractor().extract_with_shots(
            video, Path(tmp) / "s.csv", faces_out=Path(tmp) / "f.h5", write_chips=True)
        wall = time.perf_counter() - t0
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    print(json.dumps({"video_s": stats.video_seconds, "shots": len(shots), "wall_s": wall,
                      "faces": stats.faces_written, "peak_mb": peak}))


def main() -> None:
    """Make the videos, measure, print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker")
    parser.add_argument("--copies", type=int, nargs="+", default=[5, 25, 50])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"
                                             / "extract_memory.txt"))
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker)
        return
    from skelshop.samples.broadcast import Shot, programme_video
    from skelshop.samples.fetch import fetch_samples

    load = os.getloadavg()
    lines = [f"# benchmarks/extract_memory.py: 720p programme of 12 s copied N times; "
             f"{platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.2f}, "
             f"{time.strftime('%Y-%m-%d %H:%M')}",
             f"{'copies':>6} {'video s':>8} {'shots':>5} {'faces':>6} {'x rt':>5} {'peak MB':>8}"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.mp4"
        programme_video(base, [Shot("single", ("franck",), 80), Shot("grid", (), 80),
                               Shot("two_up", ("cap12", "carphone"), 70),
                               Shot("inset", ("franck", "cap13"), 70)],
                        fetch_samples(), size=(1280, 720))
        for copies in args.copies:
            video = remux_copies(base, Path(tmp) / f"x{copies}.mp4", copies)
            proc = subprocess.run([sys.executable, __file__, "--worker", str(video)],
                                  capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            lines.append(f"{copies:>6} {r['video_s']:>8.0f} {r['shots']:>5} {r['faces']:>6} "
                         f"{r['video_s'] / r['wall_s']:>5.1f} {r['peak_mb']:>8.0f}")
            print(lines[-1], flush=True)
            _save(args.out, lines)  # row by row: a long run stopped early keeps its rows
    print("\n".join(lines))


def _save(out: str, lines: list[str]) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
