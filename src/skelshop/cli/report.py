"""`skelshop report`: an HTML report (and subtitles) of a corpus run."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--subtitles/--no-subtitles", default=False, show_default=True,
              help="Also write OUTDIR/report/subtitles/<video>.vtt (WebVTT, one cue per shot "
                   "naming who is on screen; unnamed clusters as `person c<k>`).")
@click.option("--named-only", is_flag=True, default=False,
              help="Subtitles: only people named from references or the labelling page, "
                   "no `person c<k>` clusters.")
@click.option("--corpus-base", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder that relative paths in OUTDIR/corpus.csv are relative to, for a "
                   "corpus CSV not written by skelshop (skelshop's own resolve against "
                   "their folder).")
def report(outdir: str, subtitles: bool, named_only: bool, corpus_base: Path | None) -> None:
    """Write OUTDIR/report/index.html from a `corpus run` OUTDIR.

    Reads OUTDIR/identities.csv, OUTDIR/corpus.csv and the face dumps and scenes files it
    names. The page is self-contained (inline CSS and face images, no network): who appears
    and for how long, a shot timeline per video with a face per track, and a gallery per
    person, including unnamed clusters and faces seen in one track only.
    """
    from skelshop.report.build import build_report

    index = build_report(Path(outdir), subtitles=subtitles, named_only=named_only,
                         corpus_base=corpus_base)
    click.echo(f"open {index.resolve().as_uri()}")
