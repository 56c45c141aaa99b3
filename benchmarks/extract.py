"""Face extraction on TV-like 720p and 1080p programmes, side by side in one run.

The benchmark builds the programmes from the sample media (`skelshop.samples.broadcast`:
upscaled clips, hard cuts, dissolves, two-up and inset shots, grids of 48- and 64-px faces)
and knows every face it placed. Rows, each in its own subprocess (peak memory = max RSS):
  (a) decode only: PyAV, every frame to BGR, same threads as the pipeline (the floor);
  (b) the pipeline before issue 11: `shots detect`, then `face embed` detecting at 960 px
      (`--min-face 0`) with YuNet run by its C library, decoding in line: two decodes;
  (c) the new default: one decode for cuts and faces (`extract_with_shots`), detection at
      17/40 of the frame by YuNet in ONNX Runtime, decoding (with cut detection) and face
      detection each in a thread of its own; (c-clib) the same with YuNet run by its C
      library; (c1) the same on one thread; (c-full) full mode;
  (d) a face_recognition-style baseline: dlib's HOG detector (upsampled once, as
      face_recognition does) on every sampled frame at 640 px, an embedding per detection.
All rows sample 6 frames a second. Columns: x real time of the whole row and of each stage
(video seconds / stage seconds; stages overlap when decoding has its own thread), faces
found (detections), faces written, recall of the placed faces >= 40 px tall in the sampled
frames, peak memory.
Usage: python benchmarks/extract.py [--seconds 60] [--out benchmarks/results/extract.txt]
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
from collections import defaultdict
from pathlib import Path

MIN_HEIGHT = 40  # recall is counted for faces at least this tall (px in the source frame)


def programme_shots(seconds: float, fps: int = 25) -> list:
    """A TV-like mix of shots, repeated to `seconds`."""
    from skelshop.samples.broadcast import Shot

    pattern = [
        Shot("single", ("franck",), 110), Shot("two_up", ("cap12", "carphone"), 90),
        Shot("inset", ("franck", "cap13"), 100, enter="dissolve"),
        Shot("grid", (), 80, zoom=0.3), Shot("single", ("cap12",), 70),
        Shot("two_up", ("franck", "cap13"), 120, enter="fade"),
    ]
    shots, frames = [], 0
    while frames < seconds * fps:
        shot = pattern[len(shots) % len(pattern)]
        shots.append(shot)
        frames += shot.frames
    return shots


def _truth_file(prog: object, path: Path) -> None:
    faces = [(int(f.frame), float(f.height), list(map(float, f.box))) for f in prog.faces]  # type: ignore[attr-defined]
    path.write_text(json.dumps(faces))


def _recall(truth_path: Path, seen: dict[int, list]) -> tuple[int, int]:
    """(found, placed) over the sampled frames, for faces >= MIN_HEIGHT px tall."""
    import numpy as np

    from skelshop.faces.tracker import box_iou

    by_frame: dict[int, list] = defaultdict(list)
    for frame, height, box in json.loads(truth_path.read_text()):
        if height >= MIN_HEIGHT:
            by_frame[frame].append(box)
    hits = total = 0
    for frame, boxes in seen.items():
        truth = by_frame.get(frame, [])
        if not truth:
            continue
        total += len(truth)
        if len(boxes):
            iou = box_iou(np.asarray(truth), np.asarray(boxes))
            hits += int((iou >= 0.4).any(axis=1).sum())
    return hits, total


def run_worker(row: str, video: str, truth: str) -> None:
    """Run one row and print its figures as JSON."""
    from skelshop.faces.pipeline import FaceExtractor
    from skelshop.faces.settings import DEFAULT_FULL_DETECT
    from skelshop.media.video import FrameReader, probe_video

    seen: dict[int, list] = {}

    def observe(frame: int, boxes: object) -> None:
        seen[frame] = [list(map(float, b)) for b in boxes]  # type: ignore[attr-defined]

    info = probe_video(video)
    out: dict = {"row": row}
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    if row == "a":
        reader = FrameReader(video, None, threads=1)
        for _ in reader:
            pass
        out.update(video_s=reader.end_time, stages={"decode": time.perf_counter() - t0},
                   detected=0, written=0)
    elif row == "b":
        from skelshop.shots.detect import detect_shots

        extractor = FaceExtractor(detector=_c_library_yunet())
        t0, cpu0 = time.perf_counter(), _cpu_seconds()
        shots, _ = detect_shots(video)
        shots_s = time.perf_counter() - t0
        dump, stats = extractor.extract(video, shots, min_face=0, threads=1, write_chips=True,
                                        observe=observe, full_detect=0)
        out.update(video_s=stats.video_seconds, stages={"shots": shots_s, **stats.stage_seconds},
                   detected=stats.faces_detected, written=len(dump))
    elif row in ("c", "c-whole", "c1", "c-full", "c-clib"):
        extractor = FaceExtractor(detector=_c_library_yunet() if row == "c-clib" else None)
        t0, cpu0 = time.perf_counter(), _cpu_seconds()
        with tempfile.TemporaryDirectory() as tmp:
            dump, shots, stats = extractor.extract_with_shots(
                video, Path(tmp) / "s.csv", faces_out=Path(tmp) / "f.h5",
                mode="full" if row == "c-full" else "sparse", write_chips=row != "c-full",
                threads=1 if row == "c1" else None, observe=observe,
                full_detect=0 if row == "c-whole" else DEFAULT_FULL_DETECT)
        out.update(video_s=stats.video_seconds, stages=stats.stage_seconds,
                   detected=stats.faces_detected, written=stats.faces_written)
    elif row == "d":
        out.update(_hog_baseline(video, observe))
    wall = time.perf_counter() - t0
    out["cpu_s"] = _cpu_seconds() - cpu0
    hits, total = _recall(Path(truth), seen) if row != "a" else (0, 0)
    out.update(wall_s=wall, width=info.width, height=info.height, hits=hits, placed=total,
               peak_mb=_peak_mb())
    print(json.dumps(out))


def _c_library_yunet() -> object:
    """YuNet run by the yuface wheel's C library (what skelshop used before ONNX Runtime)."""
    from skelshop.faces.detector import YuNetDetector

    return YuNetDetector(backend="libfacedetection")


def _cpu_seconds() -> float:
    """CPU seconds of this process so far, all threads (user + system)."""
    times = os.times()
    return times.user + times.system


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent that started it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hog_baseline(video: str, observe: object) -> dict:
    """dlib HOG at 640 px (upsampled once) on every sampled frame, an embedding per face."""
    import cv2
    import dlib
    import numpy as np

    from skelshop.faces.models import make_embedder
    from skelshop.faces.settings import DEFAULT_FPS
    from skelshop.media.video import FrameReader

    hog = dlib.get_frontal_face_detector()
    embedder = make_embedder()
    reader = FrameReader(video, DEFAULT_FPS, threads=1)
    stages = {"decode": 0.0, "detect": 0.0, "align": 0.0, "embed": 0.0}
    detected = 0
    frames = iter(reader)
    while True:
        t0 = time.perf_counter()
        item = next(frames, None)
        stages["decode"] += time.perf_counter() - t0
        if item is None:
            break
        index, bgr = item
        t0 = time.perf_counter()
        scale = 640 / max(bgr.shape[:2])
        small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rects = hog(np.ascontiguousarray(small[:, :, ::-1]), 1)
        boxes = np.asarray([[r.left(), r.top(), r.right(), r.bottom()] for r in rects],
                           np.float32).reshape(-1, 4) / scale
        stages["detect"] += time.perf_counter() - t0
        observe(index, boxes)  # type: ignore[operator]
        detected += len(boxes)
        if len(boxes):
            t0 = time.perf_counter()
            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
            chips = [embedder.align(rgb, box).chip for box in boxes]
            stages["align"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            embedder.embed(chips)
            stages["embed"] += time.perf_counter() - t0
    return {"video_s": reader.end_time, "stages": stages, "detected": detected,
            "written": detected}


ROWS = {
    "a": "(a) decode only",
    "b": "(b) before: 2 decodes, 960",
    "c": "(c) new default",
    "c-whole": "(c) new, every sample whole",
    "c1": "(c1) new, 1 thread",
    "c-clib": "(c) new, YuNet by its C lib",
    "c-full": "(c) new, full mode",
    "d": "(d) HOG 640 + embed",
}


def main() -> None:
    """Build the programmes, run every row, print (and save) the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", nargs=3, metavar=("ROW", "VIDEO", "TRUTH"))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "extract.txt"))
    parser.add_argument("--programmes", metavar="DIR",
                        help="keep the built programmes here and reuse those found (building "
                             "one takes minutes)")
    parser.add_argument("--rows", nargs="+", help="run only these rows (e.g. c c1)")
    args = parser.parse_args()
    if args.worker:
        run_worker(*args.worker)
        return
    from skelshop.samples.broadcast import programme_video
    from skelshop.samples.fetch import fetch_samples

    media = fetch_samples()
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.programmes or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        plan = [((1280, 720), args.seconds,
                 ("a", "b", "c", "c-clib", "c-whole", "c1", "c-full", "d")),
                ((1280, 720), args.seconds / 2, ("c",)),  # memory against length
                ((1920, 1080), args.seconds, ("a", "b", "c", "c-clib", "c-whole", "d"))]
        for size, seconds, rows in plan:
            video = Path(tmp) / f"prog{size[1]}-{seconds:.0f}.mp4"
            truth = Path(tmp) / f"prog{size[1]}-{seconds:.0f}.json"
            rows = tuple(r for r in rows if not args.rows or r in args.rows)
            if not rows:
                continue
            if not (video.exists() and truth.exists()):
                t0 = time.perf_counter()
                prog = programme_video(video, programme_shots(seconds), media, size=size)
                _truth_file(prog, truth)
                print(f"made {video.name}: {prog.num_frames} frames, {len(prog.shot_starts)} "
                      f"shots, {len(prog.faces)} faces placed, {time.perf_counter() - t0:.0f} s",
                      flush=True)
            for row in rows:
                proc = subprocess.run([sys.executable, __file__, "--worker", row, str(video),
                                       str(truth)], capture_output=True, text=True, check=True)
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                results.append(result)
                print(_line(result), flush=True)
                _save(args.out, args.seconds, load_before, results)
    print(_save(args.out, args.seconds, load_before, results))


def _save(out: str, seconds: float, load_before: tuple[float, ...], results: list[dict]) -> str:
    """Write the table of the rows run so far (after each row: a run stopped early keeps
    them); returns its text."""
    load_now = os.getloadavg()
    lines = [
        f"# benchmarks/extract.py --seconds {seconds:g}: TV-like programmes built from the "
        f"sample media; {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"load average {load_before[0]:.2f} before, {load_now[0]:.2f} after, "
        f"{time.strftime('%Y-%m-%d %H:%M')}",
        "# x rt = video seconds / seconds spent (whole row, then per stage; stages overlap in "
        "(c) and (c-full), where FFmpeg, cut detection and face detection run in threads "
        "of their own); cpu x rt = video seconds / CPU seconds of the row's process (user + "
        "system, all threads; what one core does, little changed by other work on the "
        "machine); "
        f"recall: placed faces >= {MIN_HEIGHT} px found in the sampled frames (IoU >= 0.4)",
        f"{'video':<14} {'row':<28} {'x rt':>6} {'cpu x rt':>8}  {'stages (x rt)':<56} "
        f"{'found':>6} "
        f"{'written':>7} {'recall':>13} {'peak MB':>7}",
    ]
    lines += [_line(r) for r in results]
    text = "\n".join(lines)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text + "\n")
    return text


def _line(r: dict) -> str:
    video = f"{r['width']}x{r['height']} {r['video_s']:.0f}s"
    stages = " ".join(f"{k}={r['video_s'] / v:.1f}" for k, v in r["stages"].items() if v > 0)
    recall = f"{r['hits'] / r['placed']:.3f} {r['hits']}/{r['placed']}" if r["placed"] else "-"
    cpu = f"{r['video_s'] / r['cpu_s']:.1f}" if r.get("cpu_s") else "-"
    return (f"{video:<14} {ROWS[r['row']]:<28} {r['video_s'] / r['wall_s']:>6.1f} {cpu:>8}  "
            f"{stages:<56} {r['detected']:>6} {r['written']:>7} {recall:>13} "
            f"{r['peak_mb']:>7.0f}")


if __name__ == "__main__":
    main()
