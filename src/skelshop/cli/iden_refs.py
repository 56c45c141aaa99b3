"""`skelshop iden buildrefs|embedrefs|idsegssparse|idsegsfull`: references and direct identification.

Only click and light skelshop modules are imported here; each command imports its library
entry when it runs, so `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from skelshop.cli.embedder_options import embedder_options
from skelshop.cli.face_rules_options import face_rules_options
from skelshop.formats.oauth_token import COOKIE_NAME
from skelshop.formats.scene_formats import SCENE_FORMATS
from skelshop.identify.settings import FULL_MIN_DETECTED_FRAMES
from skelshop.output_guard import check_outputs
from skelshop.references.settings import (
    DEFAULT_COMMONS_FILEPATH,
    DEFAULT_COMMONS_SPARQL,
    DEFAULT_DOWNLOAD_DEADLINE,
    DEFAULT_MAX_IMAGE_MB,
    DEFAULT_QUERY_DEADLINE,
    DEFAULT_WIKIDATA_SPARQL,
    LIST_KINDS,
    MULTI_FACE_POLICIES,
    SOURCES,
)

if TYPE_CHECKING:
    from skelshop.identify.direct import DirectParams
    from skelshop.identify.settings import FaceRules
    from skelshop.references.builder import BuildReport
    from skelshop.references.embedding import EmbedReport

PathArg = click.Path(path_type=Path)
MAX_LISTED = 20


def _progress(ctx: click.Context) -> bool:
    return bool((ctx.obj or {}).get("progress", True))


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in [header, *rows]]


def echo_embed_report(report: EmbedReport, refdir: Path) -> None:
    """Print which files were skipped and which labels are empty, as a table."""
    total = report.used + len(report.skipped)
    click.echo(f"{refdir}: embedded {report.used} of {total} files")
    if report.skipped:
        click.echo(f"skipped {len(report.skipped)} file(s):")
        rows = [(_rel(s.path, refdir), s.problem) for s in report.skipped]
        for line in _table(rows, ("FILE", "PROBLEM")):
            click.echo(line)
    if report.empty_labels:
        click.echo(f"{len(report.empty_labels)} label(s) without a usable image, kept empty: "
                   + ", ".join(report.empty_labels))


def _rel(path: Path, base: Path) -> str:
    try:
        shown = str(path.relative_to(base))
    except ValueError:
        shown = str(path)
    # A file name with a line break or other control character must not break the table.
    return shown if shown.isprintable() else repr(shown)


def _echo_build_report(report: BuildReport, refout: Path) -> None:
    click.echo(f"{refout}: {len(report.people)} people with images; {len(report.downloaded)} "
               f"downloaded, {report.already_present} already present, {len(report.failed)} failed")
    sections = [
        ("failed downloads (run again to retry)", [(q, t, p) for q, t, p in report.failed],
         ("QID", "FILE", "PROBLEM")),
        ("files served as something else than a usable image", report.rejected,
         ("QID", "FILE", "PROBLEM")),
        ("files of a type the embedder cannot read", report.unreadable_types, ("QID", "FILE")),
        ("files with unusable names", report.unsafe_names, ("QID", "URL")),
    ]
    for title, rows, header in sections:
        if rows:
            click.echo(f"{len(rows)} {title}:")
            for line in _table(rows[:MAX_LISTED], header):
                click.echo(line)
            if len(rows) > MAX_LISTED:
                click.echo(f"  ... and {len(rows) - MAX_LISTED} more")
    if report.without_images:
        click.echo(f"{len(report.without_images)} listed people have no image there: "
                   + ", ".join(report.without_images[:MAX_LISTED])
                   + (" ..." if len(report.without_images) > MAX_LISTED else ""))


@click.command()
@click.argument("kind", type=click.Choice(LIST_KINDS))
@click.argument("listin", type=PathArg)
@click.argument("refout", type=PathArg)
@click.argument("source", type=click.Choice(SOURCES), default="wikidata")
@click.option("--max-per-person", type=click.IntRange(1), default=5, show_default=True,
              help="Most images kept per person (files already there count).")
@click.option("--width", type=click.IntRange(0), default=1024, show_default=True,
              help="Ask Commons for images scaled to this width (0: original files).")
@click.option("--concurrency", type=click.IntRange(1, 4), default=2, show_default=True,
              help="Downloads at a time.")
@click.option("--humans-only/--any-item", default=True, show_default=True,
              help="categories: keep only items that are humans (P31 Q5). --any-item runs the "
                   "original's query, which also returns fictional characters, groups and other "
                   "items with the occupation.")
@click.option("--contact", envvar="SKELSHOP_CONTACT",
              help="Your e-mail or URL, sent in the User-Agent as Wikimedia asks [env SKELSHOP_CONTACT].")
@click.option("--oauth-token-file", type=PathArg, envvar="SKELSHOP_COMMONS_TOKEN_FILE",
              help=f"File holding the {COOKIE_NAME} cookie of the Commons query service "
                   "(for the commons source) [env SKELSHOP_COMMONS_TOKEN_FILE].")
@click.option("--oauth-creds", type=PathArg, envvar="SKELSHOP_COMMONS_OAUTH_CREDS",
              help="The original's option, for the commons source: an OAuth 1.0a owner-only "
                   "consumer file of 8 lines, a label line then a value line for consumer token, "
                   "consumer secret, access token and access secret; queries are signed with them "
                   "[env SKELSHOP_COMMONS_OAUTH_CREDS].")
@click.option("--wikidata-endpoint", envvar="SKELSHOP_WIKIDATA_SPARQL",
              default=DEFAULT_WIKIDATA_SPARQL, show_default=True,
              help="Wikidata SPARQL endpoint [env SKELSHOP_WIKIDATA_SPARQL].")
@click.option("--commons-endpoint", envvar="SKELSHOP_COMMONS_SPARQL",
              default=DEFAULT_COMMONS_SPARQL, show_default=True,
              help="Commons SPARQL endpoint [env SKELSHOP_COMMONS_SPARQL].")
@click.option("--filepath-url", envvar="SKELSHOP_COMMONS_FILEPATH",
              default=DEFAULT_COMMONS_FILEPATH, show_default=True,
              help="Base URL serving files by name (Special:FilePath) [env SKELSHOP_COMMONS_FILEPATH].")
@click.option("--tries", type=click.IntRange(1), default=5, show_default=True,
              help="Tries per request on 429, 5xx or a broken transfer.")
@click.option("--backoff", type=click.FloatRange(0), default=2.0, show_default=True,
              help="First wait between tries in seconds, doubling (Retry-After wins).")
@click.option("--query-deadline", type=click.FloatRange(0, min_open=True),
              default=DEFAULT_QUERY_DEADLINE, show_default=True, metavar="SECONDS",
              help="Most time one SPARQL query may take, tries and waits included.")
@click.option("--download-deadline", type=click.FloatRange(0, min_open=True),
              default=DEFAULT_DOWNLOAD_DEADLINE, show_default=True, metavar="SECONDS",
              help="Most time one image download may take, tries included; a slower one fails.")
@click.option("--max-image-mb", type=click.FloatRange(0, min_open=True),
              default=DEFAULT_MAX_IMAGE_MB, show_default=True, metavar="MB",
              help="Largest image file kept; larger ones are stopped and reported.")
@click.pass_context
def buildrefs(
    ctx: click.Context, kind: str, listin: Path, refout: Path, source: str, max_per_person: int,
    width: int, concurrency: int, humans_only: bool, contact: str | None,
    oauth_token_file: Path | None, oauth_creds: Path | None, wikidata_endpoint: str,
    commons_endpoint: str, filepath_url: str, tries: int, backoff: float, query_deadline: float,
    download_deadline: float, max_image_mb: float,
) -> int:
    """Build a reference folder REFOUT/<QID>/<image> from Wikidata ids or occupations.

    Reads LISTIN, one Wikidata id (Q123) per line (`#` comments and blank lines ignored):
    people for `entities`; occupations for `categories`, meaning people whose occupation (P106)
    is, or is a subclass of, a listed one (humans only unless --any-item). SOURCE `wikidata`
    takes their P18 images; `commons` takes the Commons files that depict them (P180) and needs
    --oauth-token-file or --oauth-creds.

    Writes REFOUT/<QID>/<percent-encoded file name>, JPEG and PNG files checked by decoding
    them; no CSV. Files already there are kept and count; re-run to retry failures (exit 1).
    """
    from skelshop.references.builder import BuildSettings, run_buildrefs
    from skelshop.references.http_client import RetryPolicy
    from skelshop.references.settings import Endpoints, TransferLimits

    check_outputs(inputs=[listin, oauth_token_file, oauth_creds], folders=[refout])
    settings = BuildSettings(
        kind=kind, listin=listin, refout=refout, source=source,
        endpoints=Endpoints(wikidata_endpoint, commons_endpoint, filepath_url),
        contact=contact, token_file=oauth_token_file, oauth_creds=oauth_creds,
        retry=RetryPolicy(tries=tries, backoff=backoff),
        limits=TransferLimits(query_deadline=query_deadline, download_deadline=download_deadline,
                              max_download_bytes=int(max_image_mb * 2**20)),
        max_per_person=max_per_person, width=width, concurrency=concurrency,
        humans_only=humans_only,
    )
    report = run_buildrefs(settings, progress=_progress(ctx))
    _echo_build_report(report, refout)
    return 1 if report.failed else 0


@click.command()
@click.argument("refdir", type=PathArg)
@click.argument("out", type=PathArg)
@click.option("--multi-face", type=click.Choice(MULTI_FACE_POLICIES), default="skip",
              show_default=True, help="An image with several faces: skip it, or take the largest face.")
@embedder_options
@click.pass_context
def embedrefs(ctx: click.Context, refdir: Path, out: Path, multi_face: str, embedder: str,
              embedder_backend: str) -> None:
    """Embed a reference folder REFDIR/<label>/<images> into a reference HDF5 file OUT.

    Reads the JPEG and PNG files of each label folder (symbolic links to folders are not
    followed). Writes OUT (HDF5, no CSV): one dataset per label, one embedding row per usable
    image. Images with no face or several faces are listed and skipped.
    """
    from skelshop.formats.references import write_references
    from skelshop.references.embedding import embed_reference_folder

    check_outputs(inputs=[refdir], files=[out])
    refs, report = embed_reference_folder(refdir, multi_face=multi_face, progress=_progress(ctx),
                                          embedder=embedder, backend=embedder_backend)
    write_references(out, refs)
    echo_embed_report(report, refdir)
    click.echo(f"wrote {len(refs)} label(s) to {out}")


def _identify(
    ctx: click.Context, mode: str, ref: Path, scenes: Path, faces: Path, out: Path,
    group_fmt: str | None, with_times: bool, multi_face: str,
    make_params: Callable[..., DirectParams],
) -> None:
    from skelshop.identify.idsegs import run_idsegs

    check_outputs(inputs=[ref, scenes, faces], files=[out])
    outcome = run_idsegs(mode, ref, scenes, faces, out, group_fmt, with_times, multi_face,
                         make_params, progress=_progress(ctx),
                         on_embed_report=lambda report: echo_embed_report(report, ref))
    click.echo(f"{outcome.tracks} track(s) identified in {outcome.shots} shot(s) -> {out}")


def _common_options(func: Callable) -> Callable:
    options = [
        click.argument("ref", type=PathArg),
        click.argument("scenes", type=PathArg),
        click.argument("faces", type=PathArg),
        click.argument("out", type=PathArg),
        click.option("--group-fmt", type=click.Choice(SCENE_FORMATS), default=None,
                     help="Scenes file format [default: ffprobe for .txt, else psd]."),
        click.option("--detection-threshold", type=click.FloatRange(0), default=None,
                     help="Face-to-reference distance that counts as a match "
                          "[default: the embedder's, 0.6 for dlib]."),
        click.option("--with-times", is_flag=True, help="Add start and end seconds of each shot."),
        click.option("--multi-face", type=click.Choice(MULTI_FACE_POLICIES), default="skip",
                     show_default=True, help="For a REF folder: images with several faces."),
        click.pass_context,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
@_common_options
@face_rules_options
def idsegssparse(
    ctx: click.Context, ref: Path, scenes: Path, faces: Path, out: Path, group_fmt: str | None,
    detection_threshold: float | None, with_times: bool, multi_face: str, rules: FaceRules,
) -> None:
    """Label the tracks of each shot of a sparse face dump with reference people.

    Reads REF (a reference folder REF/<label>/<images>, embedded on the fly, or a reference
    .h5 from embedrefs), SCENES (PySceneDetect CSV or ffprobe cut list) and FACES (a sparse dump
    from `face embed`).

    \b
    Writes OUT, a CSV with columns seg,skel_id,label (start,end added by --with-times):
    one row per (shot, track) named after a reference label.
    """
    from skelshop.identify.direct import DirectParams

    _identify(ctx, "sparse", ref, scenes, faces, out, group_fmt, with_times, multi_face,
              lambda emb: DirectParams.sparse(emb, detection_threshold, rules))


@click.command()
@_common_options
@click.option("--min-detected-frames", type=click.IntRange(1), default=FULL_MIN_DETECTED_FRAMES,
              show_default=True, help="Faces of a track within the detection threshold needed.")
@click.option("--median-threshold", type=click.FloatRange(0), default=None,
              help="Largest median distance of a track's faces "
                   "[default: the embedder's threshold, 0.6 for dlib].")
@face_rules_options
def idsegsfull(
    ctx: click.Context, ref: Path, scenes: Path, faces: Path, out: Path, group_fmt: str | None,
    detection_threshold: float | None, with_times: bool, multi_face: str,
    min_detected_frames: int, median_threshold: float | None, rules: FaceRules,
) -> None:
    """Label the tracks of each shot of a full face dump with reference people.

    Reads REF (a reference folder REF/<label>/<images>, embedded on the fly, or a reference
    .h5 from embedrefs), SCENES (PySceneDetect CSV or ffprobe cut list) and FACES (a full dump
    from `face embed --mode full`).

    \b
    Writes OUT, a CSV with columns seg,skel_id,label (start,end added by --with-times):
    one row per (shot, track) named after a reference label.
    """
    from skelshop.identify.direct import DirectParams

    _identify(ctx, "full", ref, scenes, faces, out, group_fmt, with_times, multi_face,
              lambda emb: DirectParams.full(emb, detection_threshold, min_detected_frames,
                                            median_threshold, rules))
