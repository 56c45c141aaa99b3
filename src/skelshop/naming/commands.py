"""One entry per cluster-naming command: read the inputs, do the work, write the output."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.cluster_model import read_cluster_model
from skelshop.formats.corpus import read_corpus
from skelshop.formats.face_dump import check_same_embedder
from skelshop.formats.identifications import read_identifications, write_identifications
from skelshop.formats.identity import read_identities, write_identities
from skelshop.formats.prototypes import read_prototypes
from skelshop.formats.references import ReferenceSet
from skelshop.naming.applymap import ApplyMapResult, apply_identifications, has_times
from skelshop.naming.idclus import (
    NamedCluster,
    as_identifications,
    load_prototype_embeddings,
    name_clusters,
)
from skelshop.naming.idrnnclus import VoteResult, name_clusters_by_neighbours
from skelshop.naming.label_store import LabelStore
from skelshop.naming.reference_labels import reference_labels
from skelshop.naming.settings import DEFAULT_KNN
from skelshop.naming.thumbview import label_in_terminal
from skelshop.naming.whoisthis import serve_labelling_page
from skelshop.naming.writeprotos import WriteProtosReport, write_prototype_pictures
from skelshop.output_guard import check_outputs
from skelshop.references.embedding import EmbedReport
from skelshop.references.library import load_reference_library
from skelshop.space import space_of

Say = Callable[[str], object]


def load_refs(ref: Path, say: Say, progress: bool = True) -> ReferenceSet:
    """A REF (folder or .h5), with a one-line note when a folder had unusable images."""
    refs, report = load_reference_library(ref, progress=progress)
    if report is not None and (report.skipped or report.empty_labels):
        say(_embed_note(report))
    return refs


def _embed_note(report: EmbedReport) -> str:
    return (f"references: {report.used} images used, {len(report.skipped)} skipped, "
            f"labels without images: {', '.join(report.empty_labels) or 'none'}")


def usable_threshold(thresh: float | None, refs: ReferenceSet) -> float:
    """The naming threshold: the one given, else the embedder's; NaN or negative is refused."""
    value = refs.embedder.threshold if thresh is None else thresh
    if math.isnan(value) or value < 0:
        raise SkelshopError(None, f"--thresh {value} is not a usable threshold")
    return value


def run_writeprotos(protos: Path, corpus: Path, outdir: Path, corpus_base: Path | None,
                    progress: bool = True) -> tuple[WriteProtosReport, int]:
    """Write every prototype's picture; returns the report and the number of prototypes."""
    prototypes = read_prototypes(protos)
    entries = read_corpus(corpus, corpus_base, check_files=False)
    return write_prototype_pictures(prototypes, entries, outdir, progress=progress), len(prototypes)


def run_whoisthis(protodir: Path, out: Path, port: int | None, ref: Path | None,
                  thumbview_cmd: str | None, browser: bool, say: Say) -> None:
    """Name clusters on the labelling page (or in the terminal); OUT is saved after each change."""
    if not protodir.is_dir():
        raise SkelshopError(protodir, "no such prototype folder (make it with `iden writeprotos`)")
    store = LabelStore(out)
    if thumbview_cmd:
        saved = label_in_terminal(protodir, store, thumbview_cmd, say=say)
        say(f"saved {saved} names; {len(store.labels())} are in {out}")
        return
    suggestions = reference_labels(ref) if ref is not None else []
    serve_labelling_page(protodir, store, port, suggestions, browser, say)


@dataclass(frozen=True)
class IdclusOutcome:
    """Named clusters, how many there were, and the threshold used."""

    named: list[NamedCluster]
    n_clusters: int
    threshold: float


def run_idclus(ref: Path, protos: Path, corpus: Path, out: Path, thresh: float | None,
               one_to_one: bool, corpus_base: Path | None, say: Say,
               progress: bool = True) -> IdclusOutcome:
    """Name clusters after the nearest reference person; writes OUT (label,clus)."""
    entries = read_corpus(corpus, corpus_base, check_files=False)
    # The corpus names more inputs (videos, dumps, segsout CSVs): OUT must be none of them.
    check_outputs(inputs=[p for e in entries for p in (e.video, e.faces, e.segsout, e.group)],
                  files=[out])
    refs = load_refs(ref, say, progress)
    threshold = usable_threshold(thresh, refs)
    prototypes = load_prototype_embeddings(read_prototypes(protos), protos, entries, refs, ref)
    named = name_clusters(prototypes, refs, threshold, one_to_one=one_to_one, progress=progress)
    write_identifications(out, as_identifications(named))
    return IdclusOutcome(named, len(prototypes.clusters), threshold)


@dataclass(frozen=True)
class IdrnnclusOutcome:
    """The vote result, how many clusters the model has, and the threshold used."""

    result: VoteResult
    n_clusters: int
    threshold: float


def run_idrnnclus(ref: Path, model: Path, out: Path, thresh: float | None, say: Say,
                  knn: int = DEFAULT_KNN, progress: bool = True) -> IdrnnclusOutcome:
    """Name clusters by the references' nearest clustered faces; writes OUT (label,clus)."""
    clustering = read_cluster_model(model)
    refs = load_refs(ref, say, progress)
    check_same_embedder(space_of(clustering.embedder, clustering.embed.shape[1]), model,
                        refs.space, ref)
    threshold = usable_threshold(thresh, refs)
    result = name_clusters_by_neighbours(clustering, refs, threshold, knn)
    write_identifications(out, as_identifications(result.named))
    return IdrnnclusOutcome(result, clustering.n_clusters, threshold)


def run_applymap(segs: Path, ids: Path, out: Path, filter_unlabeled: bool) -> ApplyMapResult:
    """Put the cluster names of IDS on the rows of SEGS; writes OUT."""
    rows = read_identities(segs)
    result = apply_identifications(rows, read_identifications(ids), filter_unlabeled)
    write_identities(out, result.rows, with_times=has_times(rows))
    return result
