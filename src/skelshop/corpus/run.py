"""`skelshop corpus run`: per-video shots and faces, then clustering, naming and identities."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from skelshop.corpus.artifacts import VideoArtifacts, artifact_names
from skelshop.corpus.inputs import collect_videos
from skelshop.corpus.manual_names import Naming, names_path, track_name
from skelshop.corpus.naming import ClusterNaming, DirectNames, cluster_names
from skelshop.corpus.outdir_lock import outdir_lock
from skelshop.corpus.scheduler import task_runner
from skelshop.corpus.shot_times import shot_seconds
from skelshop.corpus.video_task import VideoResult, process_video
from skelshop.corpus_clustering.faces import CorpusFaces, load_corpus_faces
from skelshop.corpus_clustering.incremental import (
    carry_numbers,
    compatible,
    extend_clustering,
    kept_face_rows,
    split_off,
    user_cannot_links,
)
from skelshop.corpus_clustering.outputs import (
    cluster_label,
    prototype_faces,
    prototypes,
    write_outputs,
)
from skelshop.corpus_clustering.run import ClusOutcome, ClusSettings, cluster_fixed
from skelshop.errors import SkelshopError
from skelshop.faces.models import DEFAULT_EMBEDDER, DEFAULT_EMBEDDER_BACKEND
from skelshop.faces.settings import DEFAULT_FULL_DETECT, DEFAULT_MIN_FACE, threads_per_worker
from skelshop.formats.atomic import remove_stale_parts
from skelshop.formats.cluster_model import ClusterModel, read_cluster_model
from skelshop.formats.corpus import CorpusEntry, write_corpus
from skelshop.formats.corpus_identities import CorpusIdentity, write_corpus_identities
from skelshop.formats.corpus_names import CorpusNames, read_corpus_names
from skelshop.formats.face_dump import count_faces
from skelshop.formats.identifications import Identification, write_identifications
from skelshop.formats.identity import NOCLUS
from skelshop.formats.references import ReferenceSet
from skelshop.identify.settings import FaceRules
from skelshop.output_guard import check_outputs
from skelshop.references.library import load_reference_library

log = logging.getLogger(__name__)


@dataclass
class CorpusSettings:
    """Everything a corpus run can be told."""

    mode: str = "sparse"
    fps: float = 6.0
    per_track: int = 3
    workers: int = 1
    scheduler: str | None = None
    refs: Path | None = None
    embedder: str = DEFAULT_EMBEDDER
    embedder_backend: str = DEFAULT_EMBEDDER_BACKEND
    min_face: int = DEFAULT_MIN_FACE  # face embed --min-face
    full_detect: float = DEFAULT_FULL_DETECT  # face embed --full-detect
    # refit the clustering from scratch (numbers, and so names, carried over by overlap)
    # instead of placing new tracks into the stored clusters
    recluster: bool = False
    # Several prototypes per cluster make naming from references robust to one odd face.
    clustering: ClusSettings = field(default_factory=lambda: ClusSettings(num_protos=5))
    # which faces may name a track directly, and when (identify.settings.FaceRules)
    face_rules: FaceRules = field(default_factory=FaceRules)


@dataclass
class CorpusSummary:
    """What a corpus run did."""

    videos: list[VideoResult]
    identities: Path | None = None
    tracks: int = 0
    named_direct: int = 0
    named_by_cluster: int = 0
    named_manually: int = 0
    clusters: int = 0
    cannot_links: int = 0  # track pairs seen in one frame (different people)
    cannot_link_violations: int = 0  # of them, pairs left in one cluster (0 unless a bug)
    notes: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # corpus-level stages
    fatal: SkelshopError | None = None  # a corpus-level write failed (e.g. the disk is full)

    @property
    def failed(self) -> list[VideoResult]:
        """Videos that could not be processed."""
        return [v for v in self.videos if v.status == "failed"]


CORPUS_FILES = ("corpus.csv", "identities.csv", "protos.csv", "model.h5",
                "cluster.identifications.csv")


def corpus_run(inputs: list[str | Path], out_dir: Path, settings: CorpusSettings,
               progress: bool = True) -> CorpusSummary:
    """`corpus run` as one use case: expand INPUTS (videos, folders, lists), run the corpus."""
    return run_corpus(collect_videos(inputs), out_dir, settings, progress, given_inputs=inputs)


def run_corpus(videos: list[Path], out_dir: Path, settings: CorpusSettings,
               progress: bool = True,
               given_inputs: list[str | Path] | None = None) -> CorpusSummary:
    """Process every video (resuming finished ones), then cluster and name the corpus.

    Every output is checked against the inputs before any work; one run at a time holds
    OUTDIR (a lock file); a file that cannot be written at the corpus stage ends the run
    with `summary.fatal` set, after every video's result is known.
    """
    videos = [Path(v).resolve() for v in videos]  # identities.csv names videos absolutely
    arts = artifact_names(videos, out_dir)
    check_outputs(
        inputs=[*(given_inputs or []), *videos, settings.refs],
        files=[*(p for a in arts for p in (a.scenes, a.faces, a.segsout)),
               *(out_dir / name for name in CORPUS_FILES)],
        folders=[out_dir, out_dir / "videos"],
    )
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SkelshopError(out_dir, f"cannot create: {err.strerror or err}") from None
    try:
        # The lock comes first: a second run is refused at once, not after embedding references.
        with outdir_lock(out_dir):
            return _locked_run(arts, out_dir, settings, progress)
    except (SkelshopError, KeyboardInterrupt):
        if created:  # a run refused before any work leaves no empty OUTDIR behind
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise


def _locked_run(arts: list[VideoArtifacts], out_dir: Path, settings: CorpusSettings,
                progress: bool) -> CorpusSummary:
    """The run proper, with OUTDIR held."""
    for folder in (out_dir, out_dir / "videos"):  # temp files of a killed earlier run
        remove_stale_parts(folder)
    # a bad names.csv or REF fails the run before hours of video work
    names = read_corpus_names(names_path(out_dir))
    refs = None
    if settings.refs is not None:
        refs, _ = load_reference_library(settings.refs, progress=progress,
                                         embedder=settings.embedder,
                                         backend=settings.embedder_backend)
    # No more local workers than videos: the cores left go to each video's threads.
    workers = settings.workers if settings.scheduler else max(1, min(settings.workers, len(arts)))
    with task_runner(workers, settings.scheduler) as runner:
        results = runner.run(process_video, arts,
                             (settings.mode, settings.fps, settings.per_track,
                              settings.embedder, settings.embedder_backend,
                              settings.min_face,
                              # a local cluster: its workers share the cores (none left idle,
                              # no oversubscription); a remote one: each worker decides
                              None if settings.scheduler else threads_per_worker(workers),
                              settings.full_detect),
                             progress=progress)
    summary = CorpusSummary(results)
    done = [a for a, r in zip(arts, results, strict=True) if r.status != "failed"]
    if not done:
        summary.notes.append("no video could be processed; the corpus files of "
                             "earlier runs were left as they were")
        return summary
    try:
        _corpus_stage(done, out_dir, settings, refs, names, summary, progress)
    except SkelshopError as err:  # reported after the table of videos
        summary.fatal = err
    except OSError as err:  # a full disk, a folder made read-only mid-run
        where = err.filename or out_dir
        summary.fatal = SkelshopError(where, f"cannot write: {err.strerror or err}")
    return summary


def _corpus_stage(done: list[VideoArtifacts], out_dir: Path, settings: CorpusSettings,
                  refs: ReferenceSet | None, names: CorpusNames, summary: CorpusSummary,
                  progress: bool) -> None:
    """Corpus CSV, clustering, naming and identities of the videos that were processed."""
    written: set[Path] = set()
    entries = [CorpusEntry(video=a.video, faces=a.faces, segsout=a.segsout, group=a.scenes,
                           group_typ="psd") for a in done]
    corpus_csv = out_dir / "corpus.csv"
    write_corpus(corpus_csv, entries)
    written.add(corpus_csv)
    summary.identities = out_dir / "identities.csv"
    if all(count_faces(a.faces) == 0 for a in done):
        summary.notes.append("no faces in any video")
        write_corpus_identities(summary.identities, [])
        _remove_stale_outputs(out_dir, written | {summary.identities})
        return
    old_model = _stored_model(out_dir / "model.h5", summary)  # read before it is replaced
    # Direct identification sees each dump as it is loaded for clustering: read once.
    direct_namer = (DirectNames(refs, settings.refs, settings.mode, settings.face_rules)
                    if refs is not None and settings.refs is not None else None)
    t0 = time.perf_counter()
    faces = load_corpus_faces(entries, corpus_csv, progress=progress, visit=direct_namer)
    summary.stage_seconds["load"] = time.perf_counter() - t0
    tracks = list(zip(faces.track_video.tolist(), faces.track_seg.tolist(),
                      faces.track_pers.tolist(), strict=True))
    labels: dict[tuple[int, int, int], int] = {}
    outcome = None
    chosen = None
    if len(faces.embed) >= 2:
        t0 = time.perf_counter()
        outcome = _cluster_corpus(faces, settings, corpus_csv, old_model, names, summary,
                                  progress)
        summary.stage_seconds["cluster"] = time.perf_counter() - t0
        chosen = prototype_faces(outcome, settings.clustering)  # once, for files and naming
        written.update(write_outputs(entries, outcome, settings.clustering,
                                     out_dir / "protos.csv", out_dir / "model.h5",
                                     merge=names.resolve,
                                     protos=prototypes(outcome, settings.clustering, chosen)))
        labels = dict(zip(tracks, outcome.track_labels.tolist(), strict=True))
        summary.clusters = len({names.resolve(cluster_label(lab))
                                for lab in labels.values() if lab >= 0})
    else:
        summary.notes.append("fewer than two faces in the corpus: nothing to cluster")
    direct: dict[tuple[int, int, int], Naming] = (
        direct_namer.found if direct_namer is not None else {})
    by_cluster: dict[str, Naming] = {}
    backed: ClusterNaming | None = None
    t0 = time.perf_counter()
    if refs is not None and settings.refs is not None and outcome is not None:
        backed = cluster_names(outcome, settings.clustering, corpus_csv, refs,
                               settings.refs, chosen, rules=settings.face_rules)
        named = backed.named
        by_cluster = {n.clus: Naming(n.label, n.dist) for n in named}
        write_identifications(out_dir / "cluster.identifications.csv",
                              [Identification(label=n.label, clus=n.clus) for n in named])
        written.add(out_dir / "cluster.identifications.csv")
    summary.stage_seconds["name"] = time.perf_counter() - t0
    rows = _identities(entries, tracks, labels, direct, by_cluster, names, backed)
    write_corpus_identities(summary.identities, rows)
    written.add(summary.identities)
    _remove_stale_outputs(out_dir, written)
    summary.tracks = len(rows)
    summary.named_manually = sum(r.named_by == "manual" for r in rows)
    summary.named_direct = sum(r.named_by == "direct" for r in rows)
    summary.named_by_cluster = sum(r.named_by == "cluster+reference" for r in rows)


def _stored_model(path: Path, summary: CorpusSummary) -> ClusterModel | None:
    """The clustering an earlier run left in OUTDIR, if there is a readable one."""
    if not path.is_file():
        return None
    try:
        return read_cluster_model(path)
    except SkelshopError as err:
        summary.notes.append(f"the earlier clustering could not be read ({err}); clustering "
                             "from scratch, so cluster numbers may change")
        return None


def _cluster_corpus(faces: CorpusFaces, settings: CorpusSettings, corpus_csv: Path,
                    old: ClusterModel | None, names: CorpusNames, summary: CorpusSummary,
                    progress: bool) -> ClusOutcome:
    """New tracks into the stored clusters, or a refit whose numbers carry over; then splits."""
    clus = settings.clustering
    why_not = None if old is None else compatible(old, faces, clus)
    if why_not is None and old is not None and not (kept_face_rows(old, faces) >= 0).any():
        why_not = "none of its videos is left unchanged"
    if old is not None and why_not is None and not settings.recluster:
        outcome, ext = extend_clustering(old, faces, clus, corpus_csv, progress=progress)
        summary.notes.append(
            f"tracks of earlier runs: {ext.kept_tracks}, clusters unchanged; new tracks: "
            f"{ext.predicted_tracks + ext.new_cluster_tracks}, of which "
            f"{ext.predicted_tracks} joined existing clusters and {ext.new_cluster_tracks} "
            f"were clustered among themselves ({_count(ext.new_clusters, 'new cluster')})")
    else:
        extra = None if old is None else user_cannot_links(old, faces, names)
        outcome = cluster_fixed(faces, clus, corpus_csv, progress=progress, extra_cannot=extra)
        if old is not None:
            outcome, mapping = carry_numbers(old, outcome)
            kept = sum(number < old.n_clusters for number in mapping.values())
            reason = "--recluster" if settings.recluster else f"the stored clustering " \
                f"cannot take new tracks ({why_not})"
            summary.notes.append(f"refitted from scratch ({reason}); {_count(kept, 'cluster')} "
                                 "took the number (and name) of the old cluster overlapping "
                                 "most")
    summary.notes += outcome.notes
    outcome, moved = split_off(outcome, names)
    if moved:
        summary.notes.append(f"{_count(moved, 'track')} marked \"not this person\" left "
                             "the cluster")
    summary.cannot_links = len(outcome.cannot_link)
    summary.cannot_link_violations = outcome.violations
    return outcome


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _remove_stale_outputs(out_dir: Path, written: set[Path]) -> list[Path]:
    """Delete corpus files and segsout CSVs of earlier runs that this run did not write.

    A `cluster.identifications.csv` from a run with --refs must not sit beside identities
    that no longer use it; dumps and scenes files of videos left out are kept (they are
    costly to remake and a later run reuses them).
    """
    keep = {Path(os.path.abspath(p)) for p in written}
    candidates = [out_dir / name for name in CORPUS_FILES]
    candidates += sorted((out_dir / "videos").glob("*.segsout.csv"))
    removed = []
    for path in candidates:
        if path.is_file() and Path(os.path.abspath(path)) not in keep:
            path.unlink()
            removed.append(path)
            log.info("removed %s: this run does not produce it", path)
    return removed


def _identities(entries: list[CorpusEntry], tracks: list[tuple[int, int, int]],
                labels: dict[tuple[int, int, int], int],
                direct: dict[tuple[int, int, int], Naming],
                by_cluster: dict[str, Naming], names: CorpusNames,
                backed: ClusterNaming | None = None) -> list[CorpusIdentity]:
    """One row per track, named by `manual_names.track_name`'s precedence (a cluster's
    reference name only for the tracks `backed` backs)."""
    timing = [shot_seconds(e) for e in entries]
    rows = []
    for key in tracks:
        video_idx, seg, pers = key
        start, end = timing[video_idx][seg]
        base = CorpusIdentity(str(entries[video_idx].video), seg, pers, start, end, NOCLUS, "none")
        cluster = labels.get(key, -1)
        clus = cluster_label(cluster) if cluster >= 0 else None
        label, named_by, distance = track_name(clus, direct.get(key), by_cluster, names)
        if named_by == "cluster+reference" and backed is not None and not backed.backs(key):
            label, named_by, distance = track_name(clus, None, {}, names)
        rows.append(replace(base, label=label, named_by=named_by, distance=distance))
    return rows

