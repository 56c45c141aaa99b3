"""`skelshop shots`: cut detection."""

from __future__ import annotations

import click

from skelshop.cli.number_types import FiniteFloat
from skelshop.shots.settings import DEFAULT_MIN_SHOT_FRAMES, DEFAULT_THRESHOLD


@click.group()
def shots() -> None:
    """Shot (cut) detection."""


@shots.command()
@click.argument("video", type=click.Path(dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--threshold", type=FiniteFloat(0, open_min=True), default=DEFAULT_THRESHOLD,
              show_default=True,
              help="PySceneDetect ContentDetector threshold, > 0 (lower finds more cuts).")
@click.option("--min-shot-frames", type=click.IntRange(min=1), default=DEFAULT_MIN_SHOT_FRAMES,
              show_default=True, help="Minimum shot length in frames (>= 1).")
@click.pass_context
def detect(ctx: click.Context, video: str, out: str, threshold: float, min_shot_frames: int) -> None:
    """Read VIDEO, detect cuts, write its shots to OUT as a PySceneDetect CSV.

    OUT has PySceneDetect's columns (Scene Number, Start Frame, Start Timecode, Start Time
    (seconds), End Frame, ...): frames are the decoded frames, 1-based, end inclusive; times
    come from the frames' timestamps, so they hold for variable-frame-rate video too. A
    truncated or unreadable video is refused.
    """
    from skelshop.formats.scenes import write_shots_csv
    from skelshop.output_guard import check_outputs
    from skelshop.shots.detect import detect_shots

    check_outputs(inputs=[video], files=[out])
    found, fps = detect_shots(video, threshold, min_shot_frames, progress=ctx.obj["progress"])
    write_shots_csv(out, found, fps)
    click.echo(f"{video}: {len(found)} shots -> {out}", err=True)
