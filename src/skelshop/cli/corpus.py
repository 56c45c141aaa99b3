"""`skelshop corpus run`: the whole pipeline over a folder of videos."""

from __future__ import annotations

from pathlib import Path

import click

from skelshop.corpus.inputs import collect_videos
from skelshop.corpus.run import CorpusSettings, run_corpus
from skelshop.faces.pipeline import DEFAULT_FPS, DEFAULT_PER_TRACK, MODES


@click.group()
def corpus() -> None:
    """Whole-corpus runs."""


@corpus.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--refs", type=click.Path(), default=None,
              help="Reference library (folder of <label>/*.jpg or embedded .h5) to name people.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes for the per-video stage (each loads the models once).")
@click.option("--scheduler", default=None,
              help="Address of a running Dask scheduler to run the per-video tasks on.")
@click.option("--mode", type=click.Choice(MODES), default="sparse", show_default=True)
@click.option("--fps", type=float, default=DEFAULT_FPS, show_default=True,
              help="Frames per second sampled for faces (0 = every frame).")
@click.option("--per-track", type=click.IntRange(min=1), default=DEFAULT_PER_TRACK,
              show_default=True, help="Sparse mode: faces kept per (shot, track).")
@click.pass_context
def run(ctx: click.Context, inputs: tuple[str, ...], outdir: str, refs: str | None,
        workers: int, scheduler: str | None, mode: str, fps: float, per_track: int) -> None:
    """Process INPUTS (videos, folders of videos, .txt lists) into OUTDIR.

    Writes per video OUTDIR/videos/<name>-Scenes.csv, .faces.h5 and .segsout.csv; for the
    corpus corpus.csv, protos.csv, model.h5, cluster.identifications.csv (with --refs) and
    identities.csv (video, seg, skel_id, start, end, label, named_by, distance). Finished
    videos are not redone when the command is run again.
    """
    settings = CorpusSettings(mode=mode, fps=fps, per_track=per_track, workers=workers,
                              scheduler=scheduler, refs=Path(refs) if refs else None)
    summary = run_corpus(collect_videos(list(inputs)), Path(outdir), settings,
                         progress=ctx.obj["progress"])
    done = sum(v.status == "done" for v in summary.videos)
    skipped = sum(v.status == "skipped" for v in summary.videos)
    click.echo(f"{len(summary.videos)} videos: {done} processed, {skipped} already done, "
               f"{len(summary.failed)} failed")
    for failed in summary.failed:
        click.echo(f"  failed: {failed.error}")
    for note in summary.notes:
        click.echo(f"  note: {note}")
    if summary.identities is not None:
        click.echo(f"{summary.tracks} tracks, {summary.clusters} clusters, "
                   f"{summary.named_direct} named directly, {summary.named_by_cluster} named "
                   f"through their cluster -> {summary.identities}")
        click.echo(f"report: skelshop report {outdir}")
    if summary.failed:
        ctx.exit(1)
