"""Cut recall and precision per transition kind: main's ContentDetector, PySceneDetect's other
detectors, and `skelshop.shots.transitions.TransitionDetector`.

A 720p programme is made from the sample media (`skelshop.samples.broadcast.programme_video`):
talking heads (hard cuts between two talking heads at one screen position among them), two-ups,
picture-in-picture insets and a still grid of faces under a slow zoom, joined by hard cuts,
12-frame dissolves, 12-frame fades through black and 24-frame dissolves. It is decoded once;
every detector sees the same downscaled frames (as `CutDetector` downscales them). A found cut
matches a true one (the transition's middle, `Programme.shot_starts`) within +-1 frame for a
hard cut and +-6 frames for a gradual transition, one to one. Precision of a kind counts the
unmatched cuts nearest to a transition of that kind against it.
Usage: python benchmarks/cuts.py [--seed 0] [--shots 41] [--out benchmarks/results/cuts.txt]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import numpy as np

KINDS = ("cut", "dissolve12", "fade12", "dissolve24")
TOLERANCE = {"cut": 1, "dissolve12": 6, "fade12": 6, "dissolve24": 6}
SINGLES = ("franck", "cap12", "cap13", "carphone")


def make_shots(count: int, seed: int) -> list:
    """A programme's shots: layouts and transitions in a shuffled, balanced mix."""
    from skelshop.samples.broadcast import Shot

    rng = np.random.default_rng(seed)
    layouts = [("single", (k,)) for k in SINGLES] + [
        ("two_up", ("franck", "cap13")), ("two_up", ("cap12", "carphone")),
        ("inset", ("carphone", "franck")), ("inset", ("cap13", "cap12")), ("grid", ())]
    changes = count - 1
    enters = (["cut"] * (changes - 3 * (changes // 4)) + ["dissolve12"] * (changes // 4)
              + ["fade12"] * (changes // 4) + ["dissolve24"] * (changes // 4))
    rng.shuffle(enters)
    shots = []
    previous = None
    for i in range(count):
        enter = "cut" if i == 0 else enters[i - 1]
        if enter == "cut" and previous is not None and previous[0] == "single" and i % 3 == 0:
            # A talking head cut to another talking head at the same screen position.
            choices = [c for c in layouts if c[0] == "single" and c[1] != previous[1]]
        else:
            # Not the same full-frame clip going on (an inset coming or going is no cut).
            choices = [c for c in layouts if previous is None or c[1][:1] != previous[1][:1]]
        layout, sources = choices[int(rng.integers(len(choices)))]
        kind, frames = (enter.rstrip("0123456789"), int(enter[-2:])) if enter != "cut" \
            else ("cut", 12)
        shots.append(Shot(layout, sources, int(rng.integers(60, 111)), enter=kind,
                          enter_frames=frames, zoom=0.35 if layout == "grid" else 0.0))
        previous = (layout, sources)
    return shots


def truth_of(shots: list) -> list[tuple[int, str]]:
    """(middle frame, kind) of each shot change, as `programme_frames` makes them."""
    truth, start = [], 0
    for i, shot in enumerate(shots):
        if i:
            blend = shot.enter_frames if shot.enter != "cut" else 0
            truth.append((start + blend // 2, "cut" if not blend else f"{shot.enter}{blend}"))
        start += shot.frames
    return truth


@dataclass
class Candidate:
    """A cut detector under test, fed downscaled frames."""

    name: str
    add: Callable[[int, np.ndarray], None]
    finish: Callable[[], list[int]]
    cuts: list[int] = field(default_factory=list)
    seconds: float = 0.0


def scenedetect_candidate(name: str, make: Callable[[], object], rate: Fraction) -> Candidate:
    """A PySceneDetect detector fed our frames with their decoded index (as CutDetector does)."""
    from scenedetect import FrameTimecode

    detector = make()
    found: list[int] = []
    last = [0]

    def add(index: int, small: np.ndarray) -> None:
        last[0] = index
        found.extend(int(c.frame_num) for c in detector.process_frame(  # type: ignore[attr-defined]
            FrameTimecode(index, rate), small))

    def finish() -> list[int]:
        found.extend(int(c.frame_num) for c in detector.post_process(  # type: ignore[attr-defined]
            FrameTimecode(last[0], rate)))
        return sorted(set(found) - {0})

    return Candidate(name, add, finish)


def ours_candidate(name: str, fps: float, width: int, **options: float) -> Candidate:
    """TransitionDetector, fed the same downscaled frames."""
    from skelshop.shots.transitions import TransitionDetector

    detector = TransitionDetector(fps, width, **options)  # type: ignore[arg-type]
    return Candidate(name, lambda i, f: detector.add(i, f) and None,
                     lambda: [int(c) for c in detector.finish().starts[1:]])


def candidates(fps: float, width: int) -> list[Candidate]:
    """Main's detector, the PySceneDetect alternatives, and ours."""
    from scenedetect import (
        AdaptiveDetector,
        ContentDetector,
        HashDetector,
        HistogramDetector,
        ThresholdDetector,
    )

    rate = Fraction(fps).limit_denominator(100000)
    return [
        scenedetect_candidate("main Content(27)", lambda: ContentDetector(27.0, 15), rate),
        scenedetect_candidate("Content(15)", lambda: ContentDetector(15.0, 15), rate),
        scenedetect_candidate("Content(8)", lambda: ContentDetector(8.0, 15), rate),
        scenedetect_candidate("Adaptive(3)", lambda: AdaptiveDetector(min_scene_len=15), rate),
        scenedetect_candidate("Adaptive(1.5,min 8)", lambda: AdaptiveDetector(
            1.5, min_scene_len=15, min_content_val=8.0), rate),
        scenedetect_candidate("Hash(0.35)", lambda: HashDetector(min_scene_len=15), rate),
        scenedetect_candidate("Histogram(0.2)", lambda: HistogramDetector(min_scene_len=15), rate),
        scenedetect_candidate("Threshold(12)", lambda: ThresholdDetector(12, 15), rate),
        ours_candidate("ours h=8", fps, width, half_span=8),
        ours_candidate("ours h=12 (default)", fps, width),
    ]


def score(found: list[int], truth: list[tuple[int, str]]) -> dict[str, tuple[int, int, int]]:
    """Per kind: (true transitions, matched, unmatched found cuts nearest to one of that kind)."""
    found_left = sorted(found)
    matched = {k: 0 for k in KINDS}
    # Match the tightest tolerance first, nearest pairs first, one to one.
    pairs = sorted(((abs(f - t), i, j) for i, (t, k) in enumerate(truth)
                    for j, f in enumerate(found_left) if abs(f - t) <= TOLERANCE[k]))
    used_t, used_f = set(), set()
    for _, i, j in pairs:
        if i in used_t or j in used_f:
            continue
        used_t.add(i)
        used_f.add(j)
        matched[truth[i][1]] += 1
    false = {k: 0 for k in KINDS}
    for j, f in enumerate(found_left):
        if j not in used_f:
            nearest = min(truth, key=lambda t: abs(t[0] - f))
            false[nearest[1]] += 1
    totals = {k: sum(1 for _, kind in truth if kind == k) for k in KINDS}
    return {k: (totals[k], matched[k], false[k]) for k in KINDS}


def main() -> None:
    """Make the programme, run every detector over it, print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shots", type=int, default=41)
    parser.add_argument("--video", type=Path,
                        help="keep the generated video here; reused if it exists")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/cuts.txt"))
    args = parser.parse_args()

    from scenedetect.scene_manager import compute_downscale_factor

    from skelshop.media.video import VideoDecoder
    from skelshop.samples.broadcast import programme_frames, write_video
    from skelshop.samples.fetch import fetch_samples
    from skelshop.shots.transitions import TransitionDetector

    load_start = os.getloadavg()
    shots = make_shots(args.shots, args.seed)
    truth = truth_of(shots)
    num_frames = sum(s.frames for s in shots)
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or Path(tmp) / "programme.mp4"
        made = 0.0
        if not video.exists():
            frames, prog = programme_frames(shots, fetch_samples(), (1280, 720), 25)
            t0 = time.perf_counter()
            write_video(video, frames, 25)
            made = time.perf_counter() - t0
            assert prog.shot_starts[1:] == [t for t, _ in truth] and prog.num_frames == num_frames
        layout_at = np.concatenate([[s.layout + ("-zoom" if s.zoom else "")] * s.frames
                                    for s in shots])
        decoder = VideoDecoder(video)
        info = decoder.info
        tests = candidates(info.fps, info.width)
        resizer = TransitionDetector(info.fps, info.width)
        decode_s = 0.0
        t0 = time.perf_counter()
        for item in decoder:
            small = resizer.small(item.bgr())
            decode_s += time.perf_counter() - t0
            for cand in tests:
                t1 = time.perf_counter()
                cand.add(item.index, small)
                cand.seconds += time.perf_counter() - t1
            t0 = time.perf_counter()
        for cand in tests:
            t1 = time.perf_counter()
            cand.cuts = cand.finish()
            cand.seconds += time.perf_counter() - t1
    load_end = os.getloadavg()
    same_spot = sum(1 for before, after in pairwise(shots)
                    if after.enter == "cut" and before.layout == after.layout == "single")

    lines = [f"# benchmarks/cuts.py --seed {args.seed} --shots {args.shots}: 1280x720 @ 25 fps, "
             f"{num_frames} frames ({num_frames / 25:.0f} s), {len(truth)} transitions "
             + ", ".join(f"{k}={sum(1 for _, x in truth if x == k)}" for k in KINDS),
             f"# hard cuts between two talking heads at one position: {same_spot}; grid shots "
             f"under a slow zoom: {sum(1 for s in shots if s.zoom)}",
             f"# {platform.machine()}, {os.cpu_count()} cores, load {load_start[0]:.1f} at start, "
             f"{load_end[0]:.1f} at end; " + (f"made in {made:.0f} s, " if made else "video reused, ") + f"decode+downscale {decode_s:.0f} s; "
             f"downscale factor {compute_downscale_factor(info.width)}",
             "# R = recall, P = precision (unmatched cuts charged to the nearest transition's "
             "kind); tolerance +-1 hard cut, +-6 gradual; off = mean |found - true| of matches;",
             "# false-in = unmatched cuts inside steady shots by layout; ms/f = detector ms/frame",
             f"{'detector':22s}" + "".join(f"{k + ' R':>14s}{'P':>6s}" for k in KINDS)
             + f"{'all R':>7s}{'all P':>7s}{'off':>5s}  {'ms/f':>5s}  false-in"]
    for cand in tests:
        res = score(cand.cuts, truth)
        row = f"{cand.name:22s}"
        tm = tf = 0
        for k in KINDS:
            total, hit, false = res[k]
            tm += hit
            tf += false
            prec = hit / (hit + false) if hit + false else float("nan")
            row += f"{f'{hit}/{total}={hit / total:.2f}':>14s}{prec:6.2f}"
        offs = [min(abs(c - t) for c in cand.cuts) for t, k in truth
                if cand.cuts and min(abs(c - t) for c in cand.cuts) <= TOLERANCE[k]]
        true_starts = np.asarray([t for t, _ in truth])
        strays: dict[str, int] = {}
        for c in cand.cuts:
            if np.abs(true_starts - c).min() > 14:  # well inside a shot
                strays[str(layout_at[min(c, len(layout_at) - 1)])] = strays.get(
                    str(layout_at[min(c, len(layout_at) - 1)]), 0) + 1
        row += (f"{tm / len(truth):7.2f}{tm / max(tm + tf, 1):7.2f}"
                f"{(np.mean(offs) if offs else float('nan')):5.1f}  "
                f"{1000 * cand.seconds / num_frames:5.2f}  "
                + (",".join(f"{k}={v}" for k, v in sorted(strays.items())) or "-"))
        lines.append(row)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
