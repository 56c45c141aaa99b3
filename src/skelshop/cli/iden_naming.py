"""`skelshop iden writeprotos|whoisthis|idclus|idrnnclus|applymap`: naming clusters."""

from __future__ import annotations

import math
from pathlib import Path

import click

from skelshop.formats.cluster_model import read_cluster_model
from skelshop.formats.corpus import read_corpus
from skelshop.formats.face_dump import check_same_embedder
from skelshop.formats.identifications import read_identifications, write_identifications
from skelshop.formats.identity import read_identities, write_identities
from skelshop.formats.prototypes import read_prototypes
from skelshop.formats.references import ReferenceSet
from skelshop.naming.applymap import apply_identifications, describe, has_times
from skelshop.naming.idclus import as_identifications, load_prototype_embeddings, name_clusters
from skelshop.naming.idrnnclus import DEFAULT_KNN, name_clusters_by_neighbours
from skelshop.naming.label_store import LabelStore
from skelshop.naming.reference_labels import reference_labels
from skelshop.naming.thumbview import label_in_terminal
from skelshop.naming.whoisthis import serve_labelling_page
from skelshop.naming.writeprotos import write_prototype_pictures
from skelshop.references.library import load_reference_library

PathArg = click.Path(path_type=Path)
corpus_base_option = click.option(
    "--corpus-base", type=click.Path(path_type=Path, file_okay=False),
    help="Folder that relative paths in the corpus CSV are relative to.")
thresh_option = click.option(
    "--thresh", type=float, default=None,
    help="Largest distance that names a cluster (default: the embedder's threshold).")


def _progress(ctx: click.Context) -> bool:
    return bool((ctx.obj or {}).get("progress", True))


def _say(message: str) -> None:
    click.echo(message, err=True)


def _load_refs(ctx: click.Context, ref: Path) -> ReferenceSet:
    refs, report = load_reference_library(ref, progress=_progress(ctx))
    if report is not None and (report.skipped or report.empty_labels):
        _say(f"references: {report.used} images used, {len(report.skipped)} skipped, "
             f"labels without images: {', '.join(report.empty_labels) or 'none'}")
    return refs


def _threshold(thresh: float | None, refs: ReferenceSet) -> float:
    value = refs.embedder.threshold if thresh is None else thresh
    if math.isnan(value) or value < 0:
        raise click.BadParameter(f"{value} is not a usable threshold", param_hint="--thresh")
    return value


@click.command()
@click.argument("protos", type=PathArg)
@click.argument("corpus", type=PathArg)
@click.argument("outdir", type=PathArg)
@corpus_base_option
@click.pass_context
def writeprotos(ctx: click.Context, protos: Path, corpus: Path, outdir: Path,
                corpus_base: Path | None) -> int:
    """Write each prototype's face as OUTDIR/c<k>/v<video>f<frame>p<track>.png.

    A missing or unreadable video is reported and skipped; the exit status is then 1.
    """
    prototypes = read_prototypes(protos)
    entries = read_corpus(corpus, corpus_base, check_files=False)
    report = write_prototype_pictures(prototypes, entries, outdir, progress=_progress(ctx))
    for problem in report.problems:
        _say(f"warning: {problem}")
    if report.stale:
        _say(f"warning: {outdir} also holds {len(report.stale)} pictures from an earlier run "
             f"(e.g. {report.stale[0]}); the labelling page will show them too")
    _say(f"wrote {report.written} of {len(prototypes)} prototype pictures to {outdir}")
    return 1 if report.problems else 0


@click.command()
@click.argument("protodir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("out", type=PathArg)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port on 127.0.0.1 (default 8642, or any free one if that is taken).")
@click.option("--refs", "ref", type=PathArg, default=None,
              help="Reference folder or HDF5 whose labels are suggested as names.")
@click.option("--thumbview-cmd", default=None,
              help='Ask in the terminal while this viewer shows each cluster (e.g. "sxiv -t").')
@click.option("--browser/--no-browser", default=True, show_default=True,
              help="Open the page in a graphical browser when there is one.")
def whoisthis(protodir: Path, out: Path, port: int | None, ref: Path | None,
              thumbview_cmd: str | None, browser: bool) -> None:
    """Name clusters by looking at their prototype pictures; saves OUT.csv (label,clus) as you go.

    Serves a page on 127.0.0.1 and prints its address. Reopening resumes.
    """
    store = LabelStore(out)
    if thumbview_cmd:
        saved = label_in_terminal(protodir, store, thumbview_cmd, say=_say)
        _say(f"saved {saved} names; {len(store.labels())} are in {out}")
        return
    suggestions = reference_labels(ref) if ref is not None else []
    serve_labelling_page(protodir, store, port, suggestions, browser, _say)


@click.command()
@click.argument("ref", type=PathArg)
@click.argument("protos", type=PathArg)
@click.argument("corpus", type=PathArg)
@click.argument("out", type=PathArg)
@thresh_option
@click.option("--one-to-one", is_flag=True,
              help="At most one cluster per person (Hungarian matching, the original behaviour).")
@corpus_base_option
@click.pass_context
def idclus(ctx: click.Context, ref: Path, protos: Path, corpus: Path, out: Path,
           thresh: float | None, one_to_one: bool, corpus_base: Path | None) -> None:
    """Name clusters after the nearest reference person (min over images × prototypes)."""
    refs = _load_refs(ctx, ref)
    threshold = _threshold(thresh, refs)
    entries = read_corpus(corpus, corpus_base, check_files=False)
    prototypes = load_prototype_embeddings(read_prototypes(protos), protos, entries, refs, ref)
    named = name_clusters(prototypes, refs, threshold, one_to_one=one_to_one,
                          progress=_progress(ctx))
    write_identifications(out, as_identifications(named))
    for n in named:
        _say(f"{n.clus} = {n.label} (distance {n.dist:.3f})")
    _say(f"named {len(named)} of {len(prototypes.clusters)} clusters (threshold {threshold:g})")


@click.command()
@click.argument("ref", type=PathArg)
@click.argument("model", type=PathArg)
@click.argument("out", type=PathArg)
@thresh_option
@click.option("--knn", type=click.IntRange(min=1), default=DEFAULT_KNN, show_default=True,
              help="Neighbours looked up for each reference image.")
@click.pass_context
def idrnnclus(ctx: click.Context, ref: Path, model: Path, out: Path, thresh: float | None,
              knn: int) -> None:
    """Name clusters by the references whose nearest clustered faces fall in them (majority)."""
    clustering = read_cluster_model(model)
    refs = _load_refs(ctx, ref)
    check_same_embedder(clustering.embedder, model, refs.embedder, ref)
    threshold = _threshold(thresh, refs)
    result = name_clusters_by_neighbours(clustering, refs, threshold, knn)
    write_identifications(out, as_identifications(result.named))
    for n in result.named:
        votes = ", ".join(f"{label} {count}" for label, count in result.votes[n.clus].items())
        _say(f"{n.clus} = {n.label} (neighbours: {votes})")
    if result.unmatched:
        _say(f"no cluster within {threshold:g} for: {', '.join(result.unmatched)}")
    _say(f"named {len(result.named)} of {clustering.n_clusters} clusters")


@click.command()
@click.argument("segs", type=PathArg)
@click.argument("ids", type=PathArg)
@click.argument("out", type=PathArg)
@click.option("--filter-unlabeled/--keep-unlabeled", default=False, show_default=True,
              help="Drop rows whose cluster has no name, or keep them as c<k>/noclus.")
def applymap(segs: Path, ids: Path, out: Path, filter_unlabeled: bool) -> None:
    """Put the names of IDS (label,clus) on a segsout CSV, giving seg,skel_id,label rows."""
    rows = read_identities(segs)
    result = apply_identifications(rows, read_identifications(ids), filter_unlabeled)
    write_identities(out, result.rows, with_times=has_times(rows))
    _say(describe(result, segs))


NAMING_COMMANDS = (writeprotos, whoisthis, idclus, idrnnclus, applymap)
