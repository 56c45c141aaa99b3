"""`skelshop shots`: cut detection."""

from __future__ import annotations

import click

from skelshop.formats.scenes import write_shots_csv
from skelshop.shots.detect import DEFAULT_MIN_SHOT_FRAMES, DEFAULT_THRESHOLD, detect_shots


@click.group()
def shots() -> None:
    """Shot (cut) detection."""


@shots.command()
@click.argument("video", type=click.Path(dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--threshold", default=DEFAULT_THRESHOLD, show_default=True,
              help="PySceneDetect ContentDetector threshold (lower finds more cuts).")
@click.option("--min-shot-frames", default=DEFAULT_MIN_SHOT_FRAMES, show_default=True,
              help="Minimum shot length in frames.")
@click.pass_context
def detect(ctx: click.Context, video: str, out: str, threshold: float, min_shot_frames: int) -> None:
    """Read VIDEO, detect cuts, write its shots to OUT as a PySceneDetect CSV."""
    found, fps = detect_shots(video, threshold, min_shot_frames, progress=ctx.obj["progress"])
    write_shots_csv(out, found, fps)
    click.echo(f"{video}: {len(found)} shots -> {out}", err=True)
