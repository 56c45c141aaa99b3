"""Direct identification speed: faces identified per second against large reference libraries.

Synthetic 128-D vectors shaped like dlib's (same person ~0.35 apart, different people ~0.8),
so the counts of matches per face are realistic. Each case runs in a fresh process so its
peak memory is its own. Usage:

    python benchmarks/identify.py [--people 1000 10000] [--faces 100000] [--out FILE]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

from skelshop.formats.face_dump import ORIGINAL_EMBEDDER, EmbedderInfo
from skelshop.formats.references import ReferenceSet
from skelshop.identify.direct import DirectParams, identify_tracks
from skelshop.identify.settings import FaceRules

DIM = 128
IMAGES_PER_PERSON = 5
FACES_PER_TRACK = 3  # a sparse dump's default
TRACKS_PER_SHOT = 2
# Spreads giving Euclidean distances like dlib's: between people ~0.82, within a person ~0.35.
PERSON_SPREAD = 0.82 / np.sqrt(2 * DIM)
SAMPLE_SPREAD = 0.35 / np.sqrt(2 * DIM)
DLIB = EmbedderInfo(ORIGINAL_EMBEDDER, "euclidean", 0.6)


def synthetic_case(n_people: int, n_faces: int, seed: int = 0):
    """References, faces grouped in (shot, track), and who each track really is (-1: stranger)."""
    rng = np.random.default_rng(seed)
    # A shared offset: real embeddings are not centred at 0, which strains float32 arithmetic.
    offset = rng.normal(0, 1.4 / np.sqrt(DIM), DIM).astype(np.float32)
    centres = (offset + rng.normal(0, PERSON_SPREAD, (n_people, DIM))).astype(np.float32)
    ref_images = centres[:, None, :] + rng.normal(0, SAMPLE_SPREAD, (n_people, IMAGES_PER_PERSON, DIM))
    refs = ReferenceSet(DLIB, [f"Q{i + 1}" for i in range(n_people)],
                        list(ref_images.astype(np.float32)))
    n_tracks = n_faces // FACES_PER_TRACK
    # Half the tracks show someone in the library, half a stranger.
    who = np.where(rng.random(n_tracks) < 0.5, rng.integers(0, n_people, n_tracks), -1)
    track_centre = np.where(who[:, None] >= 0, centres[np.maximum(who, 0)],
                            offset + rng.normal(0, PERSON_SPREAD, (n_tracks, DIM)))
    embed = (np.repeat(track_centre, FACES_PER_TRACK, axis=0)
             + rng.normal(0, SAMPLE_SPREAD, (n_tracks * FACES_PER_TRACK, DIM))).astype(np.float32)
    track_ids = np.arange(n_tracks)
    seg = np.repeat(track_ids // TRACKS_PER_SHOT, FACES_PER_TRACK)
    track = np.repeat(track_ids, FACES_PER_TRACK)
    return refs, embed, seg, track, who


def run_case(n_people: int, n_faces: int, queue: mp.Queue, main_rules: bool = False) -> None:
    """Time one identification in this (fresh) process and report to the parent."""
    refs, embed, seg, track, who = synthetic_case(n_people, n_faces)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    rules = FaceRules.main() if main_rules else FaceRules()
    found = identify_tracks(refs, embed, seg, track, DirectParams.sparse(DLIB, rules=rules))
    seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    labels = {f.track: int(f.label[1:]) - 1 for f in found}
    known = np.flatnonzero(who >= 0)
    correct = sum(labels.get(int(t)) == who[t] for t in known)
    strangers_named = sum(int(t) in labels for t in np.flatnonzero(who < 0))
    queue.put(dict(people=n_people, refs=n_people * IMAGES_PER_PERSON, faces=len(embed),
                   seconds=seconds, rate=len(embed) / seconds, traced_mb=traced_peak / 2**20,
                   rss_mb=rss / 1024, input_rss_mb=base_rss / 1024,
                   recall=correct / max(1, len(known)),
                   false=strangers_named / max(1, len(who) - len(known))))


def main() -> None:
    """Run the cases and print (and optionally save) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--main-rules", action="store_true",
                        help="main's counting instead of the default rules (identify.settings)")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for n_people in args.people:
        queue = ctx.Queue()
        proc = ctx.Process(target=run_case, args=(n_people, args.faces, queue, args.main_rules))
        proc.start()
        rows.append(queue.get())
        proc.join()
    lines = [
        f"skelshop direct identification (identify_tracks, sparse params, threshold 0.6, "
        f"{'main' if args.main_rules else 'default'} rules); "
        f"{platform.processor() or platform.machine()}, {mp.cpu_count()} CPUs, numpy {np.__version__}",
        f"synthetic {DIM}-D vectors, {IMAGES_PER_PERSON} images per person, {FACES_PER_TRACK} faces "
        "per track, half the tracks strangers",
        "",
        f"{'people':>7} {'ref imgs':>8} {'faces':>8} {'time s':>7} {'faces/s':>9} "
        f"{'numpy peak MB':>13} {'peak RSS MB':>11} {'(inputs) MB':>11} {'recall':>6} {'false':>6}",
    ]
    for r in rows:
        lines.append(
            f"{r['people']:>7} {r['refs']:>8} {r['faces']:>8} {r['seconds']:>7.2f} {r['rate']:>9.0f} "
            f"{r['traced_mb']:>13.0f} {r['rss_mb']:>11.0f} {r['input_rss_mb']:>11.0f} "
            f"{r['recall']:>6.3f} {r['false']:>6.3f}"
        )
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
