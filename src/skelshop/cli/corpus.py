"""`skelshop corpus run`: the whole pipeline over a folder of videos."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from skelshop.cli.detection_options import detection_options
from skelshop.cli.embedder_options import embedder_options
from skelshop.cli.face_rules_options import face_rules_options
from skelshop.faces.settings import DEFAULT_FPS, DEFAULT_PER_TRACK, MODES, available_cores
from skelshop.identify.settings import FaceRules


@click.group()
def corpus() -> None:
    """Whole-corpus runs: every video to shots and faces, then clustering and naming."""


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value != value:  # NaN passes every range check
        raise click.BadParameter("must be a number, not nan", ctx=ctx, param=param)
    return value


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@corpus.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--refs", type=click.Path(), default=None,
              help="Reference library to name people: a folder of <label>/*.jpg or an "
                   "embedded .h5 (`iden embedrefs`). Without it, people are clusters c<k>.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes for the per-video stage (a local Dask cluster; each "
                   "loads the models once) [default: one per core; the cores are shared out "
                   "among the workers' decoding and detection threads].")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Address of a running Dask scheduler to run the per-video tasks on "
                   "(its workers need skelshop and the video paths).")
@click.option("--mode", type=click.Choice(MODES), default="sparse", show_default=True,
              help="sparse: keep the best --per-track faces of each (shot, track), with face "
                   "chips for the report; full: embed every face of every sampled frame.")
@click.option("--fps", type=click.FloatRange(min=0, max=1000), default=DEFAULT_FPS,
              show_default=True, callback=_finite, help="Frames per second sampled for faces (0 = every frame).")
@click.option("--per-track", type=click.IntRange(min=1), default=DEFAULT_PER_TRACK,
              show_default=True, help="Sparse mode: faces kept per (shot, track).")
@click.option("--recluster", is_flag=True, default=False,
              help="Cluster the whole corpus again from scratch instead of adding new "
                   "tracks to the existing clusters; each new cluster takes the number (and "
                   "so the name) of the old cluster it overlaps most, one to one.")
@detection_options
@embedder_options
@face_rules_options
@click.pass_context
def run(ctx: click.Context, inputs: tuple[str, ...], outdir: str, refs: str | None,
        workers: int | None, scheduler: str | None, mode: str, fps: float, per_track: int,
        recluster: bool, min_face: int, full_detect: float, embedder: str,
        embedder_backend: str, rules: FaceRules) -> None:
    """Process INPUTS (videos, folders searched for videos, .txt lists of video paths) into OUTDIR.

    \b
    Writes, per video, OUTDIR/videos/:
      <name>-Scenes.csv   shots (PySceneDetect CSV)
      <name>.faces.h5     face dump (original SkelShop layout)
      <name>.segsout.csv  seg,skel_id,label (label = cluster c<k> or noclus)
    and for the corpus, in OUTDIR:
      corpus.csv          group,group_typ,faces,segsout,video,skelshop_base (paths
                          relative to OUTDIR, so it can be moved; other tools: --corpus-base OUTDIR)
      protos.csv          clus_idx,video_idx,frame_num,pers_id
      model.h5            the clustering model
      cluster.identifications.csv  label,clus (only with --refs)
      identities.csv      video,seg,skel_id,start,end,label,named_by,distance
                          (named_by: manual, direct, cluster+reference, cluster, none)
    and reads OUTDIR/names.csv (names, merges and splits from `skelshop corpus label`).

    Finished videos are reused when the command is run again (same file, same settings);
    files an earlier run wrote that this run does not produce are removed. On an OUTDIR
    holding a finished corpus, only new or changed videos are processed: their tracks join
    the existing clusters where the stored model places them (never a cluster holding a
    track seen in the same frame), the rest form new clusters with new numbers; old numbers
    never change (except by --recluster) and videos left out leave the outputs. Names
    given with `skelshop corpus label` (OUTDIR/names.csv) come first. One run at a
    time holds OUTDIR (OUTDIR/.skelshop.lock). Exit code 1 when a video failed.
    """
    from skelshop.corpus.run import CorpusSettings, corpus_run
    from skelshop.corpus.summary_table import video_table

    settings = CorpusSettings(mode=mode, fps=fps, per_track=per_track,
                              workers=workers or available_cores(),
                              scheduler=scheduler, refs=Path(refs) if refs else None,
                              embedder=embedder, embedder_backend=embedder_backend,
                              min_face=min_face, full_detect=full_detect, recluster=recluster,
                              face_rules=rules)
    summary = corpus_run(list(inputs), Path(outdir), settings, progress=ctx.obj["progress"])
    for line in video_table(summary.videos):
        click.echo(line)
    done = sum(v.status == "done" for v in summary.videos)
    skipped = sum(v.status == "skipped" for v in summary.videos)
    click.echo(f"{_plural(len(summary.videos), 'video')}: {done} processed, {skipped} already "
               f"done, {len(summary.failed)} failed")
    for failed in summary.failed:
        click.echo(f"  failed: {failed.error}")
    for note in summary.notes:
        click.echo(f"  note: {note}")
    if summary.fatal is not None:
        raise summary.fatal
    if summary.identities is not None:
        click.echo(f"{_plural(summary.tracks, 'track')}, {_plural(summary.clusters, 'cluster')}, "
                   f"{summary.named_manually} named by hand, "
                   f"{summary.named_direct} named directly, {summary.named_by_cluster} named "
                   f"through their cluster -> {summary.identities}")
        click.echo(f"report: skelshop report {shlex.quote(outdir)}")
    if summary.failed:
        ctx.exit(1)


@corpus.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port on 127.0.0.1 (default 8642, or any free one if that is taken).")
@click.option("--refs", type=click.Path(), default=None,
              help="Reference folder or HDF5 whose labels are suggested as names.")
@click.option("--browser/--no-browser", default=True, show_default=True,
              help="Open the page in a graphical browser when there is one.")
@click.pass_context
def label(ctx: click.Context, outdir: str, port: int | None, refs: str | None,
          browser: bool) -> None:
    """Name the clusters of a `corpus run` OUTDIR on a local web page; saves OUTDIR/names.csv.

    Shows each cluster's prototype faces (made now into OUTDIR/label/). Type a name, or
    =c3 (or pick "same person as") to merge a cluster into c3 for good; "not this person"
    under a face splits that track off its cluster, and later runs keep it apart (both
    can be undone on the page). Every change is saved at once; later `corpus run` and
    `report` use the names before any other naming. The page holds OUTDIR until Ctrl-C
    (OUTDIR/.skelshop.lock): a `corpus run` or `report` on it meanwhile is refused.
    """
    from skelshop.corpus.label_page import label_corpus

    label_corpus(Path(outdir), port, Path(refs) if refs else None, browser,
                 lambda message: click.echo(message, err=True), progress=ctx.obj["progress"])


@corpus.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.argument("photos", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--thresh", type=click.FloatRange(min=0), default=None, callback=_finite,
              help="Largest photo-to-face distance that counts as the person (default: the "
                   "embedder's same-person threshold).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the shots to this CSV instead of standard output.")
def find(outdir: str, photos: tuple[str, ...], thresh: float | None, out: str | None) -> None:
    """List the shots of a `corpus run` OUTDIR where the person in PHOTOS appears.

    \b
    Prints video,seg,start,end,distance,clus: one row per shot, distance from the photos
    to the person's nearest face in it, clus the cluster that placed the person there
    (noclus: found by the distance alone). Uses OUTDIR/model.h5, no reference library;
    the largest face of each photo is used.
    """
    from skelshop.corpus.find import find_person
    from skelshop.formats.sightings import sightings_text, write_sightings
    from skelshop.output_guard import check_outputs

    base = Path(outdir)
    check_outputs(inputs=[base / "model.h5", base / "corpus.csv", *map(Path, photos)],
                  files=[Path(out) if out else None])
    rows, problems = find_person(base, [Path(p) for p in photos], thresh)
    for problem in problems:
        click.echo(f"warning: {problem}; photo not used", err=True)
    if out:
        write_sightings(out, rows)
        click.echo(f"{_plural(len(rows), 'shot')} -> {out}", err=True)
    else:
        click.echo(sightings_text(rows), nl=False)
