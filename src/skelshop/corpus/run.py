"""`skelshop corpus run`: per-video shots and faces, then clustering, naming and identities."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from skelshop.corpus.artifacts import artifact_names
from skelshop.corpus.naming import Naming, cluster_names, direct_names
from skelshop.corpus.scheduler import run_tasks
from skelshop.corpus.shot_times import shot_seconds
from skelshop.corpus.video_task import VideoResult, process_video
from skelshop.corpus_clustering.faces import load_corpus_faces
from skelshop.corpus_clustering.outputs import cluster_label, write_outputs
from skelshop.corpus_clustering.run import ClusSettings, cluster_fixed
from skelshop.formats.corpus import CorpusEntry, write_corpus
from skelshop.formats.corpus_identities import CorpusIdentity, write_corpus_identities
from skelshop.formats.face_dump import count_faces
from skelshop.formats.identifications import Identification, write_identifications
from skelshop.formats.identity import NOCLUS
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
    # Several prototypes per cluster make naming from references robust to one odd face.
    clustering: ClusSettings = field(default_factory=lambda: ClusSettings(num_protos=5))


@dataclass
class CorpusSummary:
    """What a corpus run did."""

    videos: list[VideoResult]
    identities: Path | None = None
    tracks: int = 0
    named_direct: int = 0
    named_by_cluster: int = 0
    clusters: int = 0
    notes: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # corpus-level stages

    @property
    def failed(self) -> list[VideoResult]:
        """Videos that could not be processed."""
        return [v for v in self.videos if v.status == "failed"]


def run_corpus(videos: list[Path], out_dir: Path, settings: CorpusSettings,
               progress: bool = True) -> CorpusSummary:
    """Process every video (resuming finished ones), then cluster and name the corpus."""
    out_dir.mkdir(parents=True, exist_ok=True)
    refs = refs_src = None
    if settings.refs is not None:  # fail on a bad REF before hours of video work
        refs_src = settings.refs
        refs, _ = load_reference_library(settings.refs, progress=progress)
    arts = artifact_names(videos, out_dir)
    results = run_tasks(process_video, arts,
                        (settings.mode, settings.fps, settings.per_track),
                        workers=settings.workers, scheduler=settings.scheduler,
                        progress=progress)
    summary = CorpusSummary(results)
    done = [a for a, r in zip(arts, results, strict=True) if r.status != "failed"]
    if not done:
        return summary
    entries = [CorpusEntry(video=a.video, faces=a.faces, segsout=a.segsout, group=a.scenes,
                           group_typ="psd") for a in done]
    corpus_csv = out_dir / "corpus.csv"
    write_corpus(corpus_csv, entries)
    if all(count_faces(a.faces) == 0 for a in done):
        summary.notes.append("no faces in any video")
        summary.identities = out_dir / "identities.csv"
        write_corpus_identities(summary.identities, [])
        return summary
    faces = load_corpus_faces(entries, corpus_csv, progress=progress)
    tracks = list(zip(faces.track_video.tolist(), faces.track_seg.tolist(),
                      faces.track_pers.tolist(), strict=True))
    labels: dict[tuple[int, int, int], int] = {}
    if len(faces.embed) >= 2:
        t0 = time.perf_counter()
        outcome = cluster_fixed(faces, settings.clustering, corpus_csv, progress=progress)
        summary.stage_seconds["cluster"] = time.perf_counter() - t0
        summary.notes += outcome.notes
        write_outputs(entries, outcome, settings.clustering, out_dir / "protos.csv",
                      out_dir / "model.h5")
        labels = dict(zip(tracks, outcome.track_labels.tolist(), strict=True))
        summary.clusters = len({lab for lab in labels.values() if lab >= 0})
    else:
        summary.notes.append("fewer than two face tracks in the corpus: nothing to cluster")
    direct: dict[tuple[int, int, int], Naming] = {}
    by_cluster: dict[str, Naming] = {}
    t0 = time.perf_counter()
    if refs is not None and refs_src is not None:
        direct = direct_names(entries, refs, refs_src, settings.mode)
        if labels:
            named = cluster_names(outcome, settings.clustering, corpus_csv, entries, refs, refs_src)
            by_cluster = {n.clus: Naming(n.label, n.dist) for n in named}
            write_identifications(out_dir / "cluster.identifications.csv",
                                  [Identification(label=n.label, clus=n.clus) for n in named])
    summary.stage_seconds["name"] = time.perf_counter() - t0
    rows = _identities(entries, tracks, labels, direct, by_cluster)
    summary.identities = out_dir / "identities.csv"
    write_corpus_identities(summary.identities, rows)
    summary.tracks = len(rows)
    summary.named_direct = sum(r.named_by == "direct" for r in rows)
    summary.named_by_cluster = sum(r.named_by == "cluster+reference" for r in rows)
    return summary


def _identities(entries: list[CorpusEntry], tracks: list[tuple[int, int, int]],
                labels: dict[tuple[int, int, int], int],
                direct: dict[tuple[int, int, int], Naming],
                by_cluster: dict[str, Naming]) -> list[CorpusIdentity]:
    """One row per track: a direct name first, else its cluster's name, else its cluster."""
    timing = [shot_seconds(e) for e in entries]
    rows = []
    for key in tracks:
        video_idx, seg, pers = key
        start, end = timing[video_idx][seg]
        base = CorpusIdentity(str(entries[video_idx].video), seg, pers, start, end, NOCLUS, "none")
        cluster = labels.get(key, -1)
        clus = cluster_label(cluster) if cluster >= 0 else None
        if key in direct:
            rows.append(replace(base, label=direct[key].label, named_by="direct",
                                distance=direct[key].distance))
        elif clus is not None and clus in by_cluster:
            rows.append(replace(base, label=by_cluster[clus].label, named_by="cluster+reference",
                                distance=by_cluster[clus].distance))
        elif clus is not None:
            rows.append(replace(base, label=clus, named_by="cluster"))
        else:
            rows.append(base)
    return rows

