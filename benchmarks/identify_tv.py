"""Identification on TV-like footage: main's rules and cuts vs the new defaults, side by side.

The corpus is `skelshop.samples.tv_corpus` (three 720p programmes made from the sample media,
with who is in every shot), the references its reference folder (four people who appear,
three distractors who never do). For each programme: shots by main's cut detector
(ContentDetector) and by the new default (TransitionDetector), a sparse face dump from each
(`face embed` defaults), then direct identification with main's rules on main's cuts and
with the new default rules on the new cuts; then every rule alone and the default without
each rule, on the new cuts, to show what each one does.

Shot-level scores are over (true shot, person) pairs: a true shot gets the names of the
predicted shot that holds its middle frame (a missed cut spreads a neighbour's names).
"strangers named" counts shots with an unreferenced person on screen that got a name of
someone not on screen; "no-face named" the same for shots with nobody; "wrong tracks" the
named tracks whose faces are mostly not that person (strangers, distractors' look-alikes,
faces blended in by a dissolve).

Last, `corpus run --refs` end to end on the three programmes (cuts, dumps, clustering,
direct and cluster naming) under main's rules and the new default, its names split by how
they were given (direct, or cluster+reference).

    python benchmarks/identify_tv.py [--work DIR] [--out benchmarks/results/identify_tv.txt]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from skelshop.formats.face_dump import FaceDump
from skelshop.formats.references import ReferenceSet
from skelshop.formats.scenes import ShotList
from skelshop.identify.settings import FaceRules
from skelshop.samples.broadcast import Programme
from skelshop.samples.tv_corpus import KNOWN, ShotScore

# Tolerance of a found cut around the true one: a hard cut is one frame; a gradual
# transition's middle is anywhere on its flat top.
HARD_TOLERANCE = 1
GRADUAL_TOLERANCE = 6


@dataclasses.dataclass
class Video:
    """One programme of the corpus with what was computed from it."""

    name: str
    path: Path
    prog: Programme
    shots: dict[str, ShotList] = dataclasses.field(default_factory=dict)
    dumps: dict[str, FaceDump] = dataclasses.field(default_factory=dict)


def _load(path: Path) -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def detect_both(video: Path) -> dict[str, ShotList]:
    """Shots by main's detector and by the new default, from one decode."""
    from skelshop.media.video import VideoDecoder
    from skelshop.shots.detect import CutDetector
    from skelshop.shots.transitions import TransitionDetector

    decoder = VideoDecoder(video)
    info = decoder.info
    detectors = {"main": CutDetector(info.fps, info.width),
                 "new": TransitionDetector(info.fps, info.width)}
    for item in decoder:
        small = detectors["main"].small(item.bgr())
        for detector in detectors.values():
            detector.add(item.index, small)
    return {key: detector.finish() for key, detector in detectors.items()}


def cut_counts(prog: Programme, starts: np.ndarray) -> tuple[Counter, Counter, int]:
    """(found per kind, true per kind, false cuts) of a list of shot starts."""
    from skelshop.samples.tv_corpus import true_cuts

    truth = true_cuts(prog)
    found = [int(c) for c in starts[1:]]
    used = [False] * len(found)
    hits: Counter = Counter()
    for frame, kind in truth:
        tol = HARD_TOLERANCE if kind == "cut" else GRADUAL_TOLERANCE
        near = [(abs(c - frame), i) for i, c in enumerate(found) if not used[i]
                and abs(c - frame) <= tol]
        if near:
            used[min(near)[1]] = True
            hits[kind] += 1
    return hits, Counter(kind for _, kind in truth), used.count(False)


def named_by_shot(refs: ReferenceSet, ref_src: str, dump: FaceDump, shots: ShotList,
                  rules: FaceRules, prog: Programme) -> tuple[dict[int, set[str]], int, int]:
    """Names per predicted shot, named tracks whose faces are mostly someone else, named."""
    from skelshop.identify.direct import DirectParams, identify_dump
    from skelshop.samples.tv_corpus import face_people

    params = DirectParams.sparse(dump.embedder, rules=rules)
    rows = identify_dump(refs, ref_src, dump, "dump.h5", shots, "scenes.csv", params)
    who = np.asarray(face_people(prog, dump.frame, dump.bbox)) if len(dump) else np.zeros(0)
    seg = shots.shot_of(dump.frame.astype(np.int64))
    named: dict[int, set[str]] = {}
    wrong = 0
    for row in rows:
        named.setdefault(row.seg, set()).add(row.label)
        faces = who[(seg == row.seg) & (dump.pers == row.skel_id)]
        if Counter(faces.tolist()).most_common(1)[0][0] != row.label:
            wrong += 1
    return named, wrong, len(rows)


def score_rules(videos: list[Video], refs: ReferenceSet, ref_src: str, cuts: str,
                rules: FaceRules) -> tuple[ShotScore, int, int]:
    """Shot score, wrong named tracks and named tracks over the corpus."""
    from skelshop.samples.tv_corpus import score_shots

    total, wrong, named_tracks = ShotScore(), 0, 0
    for video in videos:
        named, bad, count = named_by_shot(refs, ref_src, video.dumps[cuts], video.shots[cuts],
                                          rules, video.prog)
        total = total.add(score_shots(video.prog, video.shots[cuts].starts, named))
        wrong += bad
        named_tracks += count
    return total, wrong, named_tracks


def rule_variants() -> list[tuple[str, FaceRules]]:
    """Main's rules, each rule alone, the default, and the default without each rule."""
    default = FaceRules()
    nothing = FaceRules(0.0, 0.0, 0.0, 1, 0.0, False, clear_threshold=0.0)
    alone = [
        ("nearest-person votes only", nothing),
        (f"+ clarity >= {default.min_clarity:g}", dataclasses.replace(
            nothing, min_clarity=default.min_clarity or 0.1)),
        (f"+ face >= {default.min_face_px or 48:g} px", dataclasses.replace(
            nothing, min_face_px=default.min_face_px or 48)),
        (f"+ votes >= {max(default.min_votes, 2)}", dataclasses.replace(
            nothing, min_votes=max(default.min_votes, 2))),
        (f"+ agreement >= {default.agreement or 0.5:g}", dataclasses.replace(
            nothing, agreement=default.agreement or 0.5)),
        (f"+ margin >= {default.margin or 0.1:g}", dataclasses.replace(
            nothing, margin=default.margin or 0.1)),
        ("+ calibrated radii", dataclasses.replace(nothing, calibrate=True)),
        (f"+ clear faces within {default.clear_threshold or 0.5:g}", dataclasses.replace(
            nothing, clear_threshold=default.clear_threshold or 0.5)),
    ]
    without = []
    for field, off in (("min_clarity", 0.0), ("min_face_px", 0.0), ("min_votes", 1),
                       ("agreement", 0.0), ("margin", 0.0), ("calibrate", False),
                       ("clear_threshold", 0.0)):
        if getattr(default, field) != off:
            without.append((f"default without {field}", dataclasses.replace(default,
                                                                              **{field: off})))
    return [("main's rules", FaceRules.main()), *alone, ("new default", default), *without]


def corpus_scores(videos: list[Video], ref_dir: Path, out_dir: Path,
                  rules: FaceRules) -> tuple[dict[str, tuple[ShotScore, int, int]], int]:
    """`corpus run --refs` under `rules` (the corpus's own cuts and dumps; a rerun in the same
    OUTDIR reuses them and the clustering): scores of all names, and of the direct ones only,
    with the wrong and all named tracks of each kind; and how many videos it reused."""
    from skelshop.corpus.run import CorpusSettings, run_corpus

    paths = [v.path.resolve() for v in videos]
    summary = run_corpus(paths, out_dir, CorpusSettings(refs=ref_dir, face_rules=rules),
                         progress=False)
    if summary.failed or summary.fatal:
        raise SystemExit(f"corpus run failed: {summary.fatal or summary.failed}")
    return score_identities(videos, out_dir), sum(v.status == "skipped" for v in summary.videos)


def score_identities(videos: list[Video],
                     out_dir: Path) -> dict[str, tuple[ShotScore, int, int]]:
    """Scores of a corpus run's identities.csv in `out_dir`, all names and direct ones."""
    from skelshop.corpus.artifacts import artifact_names
    from skelshop.formats.corpus_identities import read_corpus_identities
    from skelshop.formats.face_dump import read_face_dump
    from skelshop.formats.scenes import read_shots
    from skelshop.samples.tv_corpus import face_people, score_shots

    paths = [v.path.resolve() for v in videos]
    rows = read_corpus_identities(out_dir / "identities.csv")
    result: dict[str, tuple[ShotScore, int, int]] = {}
    for kinds, key in ((("direct", "cluster+reference"), "all"), (("direct",), "direct")):
        total, wrong, named = ShotScore(), 0, 0
        for video, art in zip(videos, artifact_names(paths, out_dir), strict=True):
            dump = read_face_dump(art.faces)
            who = np.asarray(face_people(video.prog, dump.frame, dump.bbox))
            seg = dump.seg if dump.seg is not None else np.zeros(len(dump), np.int64)
            by_shot: dict[int, set[str]] = {}
            for row in rows:
                if row.video != str(art.video) or row.named_by not in kinds:
                    continue
                by_shot.setdefault(row.seg, set()).add(row.label)
                faces = who[(seg == row.seg) & (dump.pers == row.skel_id)]
                named += 1
                wrong += Counter(faces.tolist()).most_common(1)[0][0] != row.label
            total = total.add(score_shots(video.prog, read_shots(art.scenes).starts, by_shot))
        result[key] = (total, wrong, named)
    return result


def _row(label: str, score: ShotScore, wrong: int, named: int) -> str:
    return (f"{label:34s} {score.stranger_shots_named:3d}/{score.stranger_shots:<3d}"
            f"      {score.empty_shots_named:3d}/{score.empty_shots:<3d}   "
            f"{wrong:3d}/{named:<4d} {score.false_neg:6d}  {score.recall:6.3f} "
            f"{score.precision:6.3f} {score.f1:6.3f}")


def main() -> None:
    """Build the corpus, run both pipelines, print and save the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the videos and dumps (default: a temporary one)")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "identify_tv.txt")
    args = parser.parse_args()
    if args.work is None:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), args.out)
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        run(args.work, args.out)


def run(work: Path, out: Path) -> None:
    """The whole benchmark in `work`; the tables go to stdout and `out`."""
    from skelshop.faces.pipeline import FaceExtractor
    from skelshop.references.library import load_reference_library
    from skelshop.samples.fetch import fetch_samples
    from skelshop.samples.tv_corpus import TV_PROGRAMMES, build_tv_references, make_tv_programme

    load_before = _load(work)
    started = time.strftime("%Y-%m-%d %H:%M")
    t0 = time.perf_counter()
    media = fetch_samples()
    ref_dir = build_tv_references(work / "refs", media)
    refs, _ = load_reference_library(ref_dir, progress=False)
    videos = []
    reused = 0
    for name in TV_PROGRAMMES:
        path, truth = work / f"{name}.mp4", work / f"{name}.truth.json"
        if path.exists() and truth.exists():  # made by an earlier run with --work
            prog = _read_truth(truth)
            reused += 1
        else:
            prog = make_tv_programme(path, name, media)
            _write_truth(truth, prog)
        videos.append(Video(name, path, prog))
    t_make = time.perf_counter() - t0
    extractor = FaceExtractor()
    t1 = time.perf_counter()
    for video in videos:
        video.shots = detect_both(video.path)
    t_cuts = time.perf_counter() - t1
    t2 = time.perf_counter()
    for video in videos:
        for key, shots in video.shots.items():
            video.dumps[key] = _dump(extractor, video, key, shots, work)
    t_faces = time.perf_counter() - t2
    seconds = sum(v.prog.num_frames for v in videos) / 25

    lines = [
        f"# benchmarks/identify_tv.py: skelshop.samples.tv_corpus, {len(videos)} programmes "
        f"1280x720 @ 25 fps, {seconds:.0f} s, {sum(len(v.prog.shot_starts) for v in videos)} "
        f"shots; references: {', '.join(refs.labels)} (distractors never on screen: "
        f"{', '.join(sorted(set(refs.labels) - KNOWN))})",
        f"# {platform.machine()}, {os.cpu_count()} cores shared with other work, load average "
        f"{load_before:.2f} before, {_load(work):.2f} after, {started}; "
        f"{'videos reused' if reused == len(videos) else f'made in {t_make:.0f} s'}, "
        f"cuts {t_cuts:.0f} s (both detectors, one decode), faces {t_faces:.0f} s (two sparse "
        f"dumps per programme)",
        "",
        "## cuts (tolerance +-1 frame for hard cuts, +-6 for gradual ones; P = found cuts "
        "that are true)",
        f"{'detector':28s} {'cut':>6s} {'dissolve12':>10s} {'dissolve24':>10s} {'fade12':>6s}"
        f" {'gradual R':>9s} {'false':>5s} {'P':>5s}",
    ]
    for key, label in (("main", "main: ContentDetector(27)"), ("new", "new: TransitionDetector")):
        hits: Counter = Counter()
        total: Counter = Counter()
        false = 0
        for video in videos:
            found, true, extra = cut_counts(video.prog, video.shots[key].starts)
            hits.update(found)
            total.update(true)
            false += extra
        gradual = [k for k in total if k != "cut"]
        recall = sum(hits[k] for k in gradual) / max(sum(total[k] for k in gradual), 1)
        found_all = sum(hits.values())
        cells = [f"{hits[k]}/{total[k]}" for k in ("cut", "dissolve12", "dissolve24", "fade12")]
        lines.append(f"{label:28s} {cells[0]:>6s} {cells[1]:>10s} {cells[2]:>10s} "
                     f"{cells[3]:>6s} {recall:9.2f} {false:5d} "
                     f"{found_all / max(found_all + false, 1):5.2f}")
    lines += [
        "",
        "## identification, shot level (new cuts unless said)",
        "# strangers named: shots with an unreferenced person that got a wrong name; no-face: "
        "shots with nobody that got one;",
        "# wrong tracks: named tracks whose faces are mostly someone else; missed: (shot, known "
        "person) pairs not named",
        f"{'rules':34s} {'strangers':>9s} {'no-face':>9s} {'wrong trk':>9s} {'missed':>6s} "
        f"{'recall':>7s} {'prec':>6s} {'F1':>6s}",
    ]
    main_score = score_rules(videos, refs, str(ref_dir), "main", FaceRules.main())
    lines.append(_row("main's rules on main's cuts", *main_score))
    for label, rules in rule_variants():
        lines.append(_row(label, *score_rules(videos, refs, str(ref_dir), "new", rules)))
    t3 = time.perf_counter()
    corpus = [(name, *corpus_scores(videos, ref_dir, work / "corpus", rules))
              for name, rules in (("main's rules", FaceRules.main()), ("new default", FaceRules()))]
    reused_dumps = "/".join(str(r) for _, _, r in corpus)
    lines += [
        "",
        f"## `corpus run --refs` end to end (its own cuts and dumps, clustering, naming; "
        f"{time.perf_counter() - t3:.0f} s for both runs, dumps reused {reused_dumps} of "
        f"{len(videos)} videos)",
        "# direct: names of the direct step only; all: with cluster+reference names (tracks "
        "not named directly, named through their cluster)",
    ]
    for name, scores, _ in corpus:
        for key in ("direct", "all"):
            lines.append(_row(f"{name}, {key}", *scores[key]))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


def _write_truth(path: Path, prog: Programme) -> None:
    """The programme's truth as JSON (a cache of this benchmark, so that --work reuses it)."""
    import json

    data = dataclasses.asdict(prog)
    data["people"] = [sorted(p) for p in prog.people]
    path.write_text(json.dumps(data, default=float))  # numpy scalars in the boxes


def _read_truth(path: Path) -> Programme:
    import json

    from skelshop.samples.broadcast import PlacedFace

    data = json.loads(path.read_text())
    return Programme(tuple(data["size"]), data["fps"], data["shot_starts"],
                     [tuple(t) for t in data["transitions"]], [set(p) for p in data["people"]],
                     [PlacedFace(f["frame"], f["person"], tuple(f["box"]), f["height"])
                      for f in data["faces"]], data["num_frames"])


def _dump(extractor: object, video: Video, key: str, shots: ShotList, work: Path) -> FaceDump:
    """The sparse dump of `video` with `shots` (reused from `work` when made with these shots)."""
    from skelshop.formats.face_dump import read_face_dump, write_face_dump

    path = work / f"{video.name}.{key}.faces.h5"
    cuts = work / f"{video.name}.{key}.cuts.txt"
    stamp = " ".join(str(int(c)) for c in shots.starts)
    if path.exists() and cuts.exists() and cuts.read_text() == stamp:
        return read_face_dump(path)
    dump, _ = extractor.extract(video.path, shots)  # type: ignore[attr-defined]
    write_face_dump(path, dump)
    cuts.write_text(stamp)
    return dump


if __name__ == "__main__":
    main()
