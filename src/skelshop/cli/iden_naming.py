"""`skelshop iden writeprotos|whoisthis|idclus|idrnnclus|applymap`: naming clusters.

Only click and light skelshop modules are imported here; the work is in
`skelshop.naming.commands`, imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from skelshop.naming.settings import DEFAULT_KNN
from skelshop.output_guard import check_outputs

PathArg = click.Path(path_type=Path)
corpus_base_option = click.option(
    "--corpus-base", type=click.Path(path_type=Path, file_okay=False),
    help="Folder that relative paths in the corpus CSV are relative to (not needed for the "
         "corpus.csv that `corpus run` writes).")
thresh_option = click.option(
    "--thresh", type=float, default=None,
    help="Largest distance that names a cluster (default: the embedder's threshold).")


def _progress(ctx: click.Context) -> bool:
    return bool((ctx.obj or {}).get("progress", True))


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@click.argument("protos", type=PathArg)
@click.argument("corpus", type=PathArg)
@click.argument("outdir", type=PathArg)
@corpus_base_option
@click.pass_context
def writeprotos(ctx: click.Context, protos: Path, corpus: Path, outdir: Path,
                corpus_base: Path | None) -> int:
    """Write each prototype's face as OUTDIR/c<k>/v<video>f<frame>p<track>.png.

    Reads PROTOS (the prototypes CSV of `iden clus`: clus_idx,video_idx,frame_num,pers_id),
    CORPUS (the corpus CSV: video,faces,segsout,group,group_typ) and the videos and dumps it
    names. Writes the PNG pictures and OUTDIR/index.csv (clus,members,images: tracks and
    pictures per cluster) for the labelling page.

    A missing or unreadable video is reported and skipped; the exit status is then 1.
    """
    from skelshop.naming.commands import run_writeprotos

    check_outputs(inputs=[protos, corpus], folders=[outdir])
    report, total = run_writeprotos(protos, corpus, outdir, corpus_base, progress=_progress(ctx))
    for problem in report.problems:
        _say(f"warning: {problem}")
    if report.stale:
        _say(f"warning: {outdir} also holds {len(report.stale)} pictures from an earlier run "
             f"(e.g. {report.stale[0]}); the labelling page will show them too")
    _say(f"wrote {report.written} of {total} prototype pictures to {outdir}")
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
    """Name clusters by looking at their prototype pictures; saves OUT as you go.

    Reads PROTODIR (the folder `iden writeprotos` wrote: c<k>/*.png) and, to resume, OUT.
    Serves a page on 127.0.0.1 and prints its address.

    \b
    OUT is an identifications CSV with columns label,clus (clus being c<k>), rewritten after
    every change. Names are saved as typed (one line; control characters are refused). A row
    with an empty label (as the original wrote for skipped clusters) means "skipped".
    """
    from skelshop.naming.commands import run_whoisthis

    check_outputs(inputs=[protodir, ref], files=[out])
    run_whoisthis(protodir, out, port, ref, thumbview_cmd, browser, _say)


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
    """Name clusters after the nearest reference person (min over images × prototypes).

    Reads REF (a reference folder or .h5), PROTOS (the prototypes CSV of `iden clus`), CORPUS
    (the corpus CSV) and the face dumps it names.

    \b
    OUT is an identifications CSV with columns label,clus: one row per named cluster,
    clus being c<k>.
    """
    from skelshop.naming.commands import run_idclus

    check_outputs(inputs=[ref, protos, corpus], files=[out])
    outcome = run_idclus(ref, protos, corpus, out, thresh, one_to_one, corpus_base, _say,
                         progress=_progress(ctx))
    for n in outcome.named:
        _say(f"{n.clus} = {n.label} (distance {n.dist:.3f})")
    _say(f"named {len(outcome.named)} of {outcome.n_clusters} clusters "
         f"(threshold {outcome.threshold:g})")


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
    """Name clusters by the references whose nearest clustered faces fall in them (majority).

    Reads REF (a reference folder or .h5) and MODEL (the clustering model of `iden clus
    --model-out`).

    \b
    OUT is an identifications CSV with columns label,clus: one row per named cluster,
    clus being c<k>.
    """
    from skelshop.naming.commands import run_idrnnclus

    check_outputs(inputs=[ref, model], files=[out])
    outcome = run_idrnnclus(ref, model, out, thresh, _say, knn=knn, progress=_progress(ctx))
    result = outcome.result
    for n in result.named:
        votes = ", ".join(f"{label} {count}" for label, count in result.votes[n.clus].items())
        _say(f"{n.clus} = {n.label} (neighbours: {votes})")
    if result.unmatched:
        _say(f"no cluster within {outcome.threshold:g} for: {', '.join(result.unmatched)}")
    _say(f"named {len(result.named)} of {outcome.n_clusters} clusters")


@click.command()
@click.argument("segs", type=PathArg)
@click.argument("ids", type=PathArg)
@click.argument("out", type=PathArg)
@click.option("--filter-unlabeled/--keep-unlabeled", default=False, show_default=True,
              help="Drop rows whose cluster has no name, or keep them as c<k>/noclus.")
def applymap(segs: Path, ids: Path, out: Path, filter_unlabeled: bool) -> None:
    """Put the names of IDS on a segsout CSV.

    Reads SEGS (a segsout CSV of `iden clus`: seg,skel_id,label with label c<k> or noclus,
    optionally start,end) and IDS (an identifications CSV: label,clus; an empty label means
    the cluster was skipped and stays unnamed).

    \b
    OUT is a CSV with columns seg,skel_id,label (and start,end when SEGS has them): the rows
    of SEGS with each named cluster replaced by its name.
    """
    from skelshop.naming.applymap import describe
    from skelshop.naming.commands import run_applymap

    check_outputs(inputs=[segs, ids], files=[out])
    _say(describe(run_applymap(segs, ids, out, filter_unlabeled), segs))


NAMING_COMMANDS = (writeprotos, whoisthis, idclus, idrnnclus, applymap)
