"""`skelshop corpus run`: the whole pipeline over a folder of videos."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from skelshop.cli.embedder_options import embedder_options
from skelshop.cli.min_face_option import min_face_option
from skelshop.faces.settings import DEFAULT_FPS, DEFAULT_PER_TRACK, MODES, available_cores


@click.group()
def corpus() -> None:
    """Whole-corpus runs: every video to shots and faces, then clustering and naming."""


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if value != value:  # NaN passes every range check
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
@min_face_option
@embedder_options
@click.pass_context
def run(ctx: click.Context, inputs: tuple[str, ...], outdir: str, refs: str | None,
        workers: int | None, scheduler: str | None, mode: str, fps: float, per_track: int,
        min_face: int, embedder: str, embedder_backend: str) -> None:
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

    Finished videos are reused when the command is run again (same file, same settings);
    files an earlier run wrote that this run does not produce are removed. One run at a
    time holds OUTDIR (OUTDIR/.skelshop.lock). Exit code 1 when a video failed.
    """
    from skelshop.corpus.run import CorpusSettings, corpus_run
    from skelshop.corpus.summary_table import video_table

    settings = CorpusSettings(mode=mode, fps=fps, per_track=per_track,
                              workers=workers or available_cores(),
                              scheduler=scheduler, refs=Path(refs) if refs else None,
                              embedder=embedder, embedder_backend=embedder_backend,
                              min_face=min_face)
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
                   f"{summary.named_direct} named directly, {summary.named_by_cluster} named "
                   f"through their cluster -> {summary.identities}")
        click.echo(f"report: skelshop report {shlex.quote(outdir)}")
    if summary.failed:
        ctx.exit(1)
