"""`skelshop report`: an HTML report (and subtitles) of a corpus run."""

from __future__ import annotations

from pathlib import Path

import click

from skelshop.report.build import build_report


@click.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--subtitles/--no-subtitles", default=False, show_default=True,
              help="Also write WebVTT subtitles per video (names on screen over time).")
def report(outdir: str, subtitles: bool) -> None:
    """Read a corpus run's OUTDIR, write OUTDIR/report/index.html (self-contained)."""
    index = build_report(Path(outdir), subtitles=subtitles)
    click.echo(f"open {index.resolve().as_uri()}")
