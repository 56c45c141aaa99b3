"""`skelshop iden buildrefs|embedrefs|idsegssparse|idsegsfull`: references and direct identification."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import click

from skelshop.errors import SkelshopError
from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.formats.face_dump import EmbedderInfo, check_same_embedder, read_face_dump
from skelshop.formats.identity import write_identities
from skelshop.formats.oauth_token import COOKIE_NAME, read_token_file
from skelshop.formats.qid_list import read_qid_list
from skelshop.formats.references import write_references
from skelshop.formats.scenes import SCENE_FORMATS, read_shots
from skelshop.identify.direct import FULL_MIN_DETECTED_FRAMES, DirectParams, identify_dump
from skelshop.references.builder import (
    DEFAULT_COMMONS_FILEPATH,
    DEFAULT_COMMONS_SPARQL,
    DEFAULT_WIKIDATA_SPARQL,
    LIST_KINDS,
    SOURCES,
    BuildReport,
    Endpoints,
    build_references,
)
from skelshop.references.embedding import MULTI_FACE_POLICIES, EmbedReport, embed_reference_folder
from skelshop.references.http_client import PoliteClient, RetryPolicy
from skelshop.references.library import load_reference_library

log = logging.getLogger(__name__)
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
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _echo_build_report(report: BuildReport, refout: Path) -> None:
    click.echo(f"{refout}: {len(report.people)} people with images; {len(report.downloaded)} "
               f"downloaded, {report.already_present} already present, {len(report.failed)} failed")
    sections = [
        ("failed downloads (run again to retry)", [(q, t, p) for q, t, p in report.failed],
         ("QID", "FILE", "PROBLEM")),
        ("files served as something else than an image", report.rejected,
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
@click.option("--contact", envvar="SKELSHOP_CONTACT",
              help="Your e-mail or URL, sent in the User-Agent as Wikimedia asks [env SKELSHOP_CONTACT].")
@click.option("--oauth-token-file", type=PathArg, envvar="SKELSHOP_COMMONS_TOKEN_FILE",
              help=f"File holding the {COOKIE_NAME} cookie of the Commons query service "
                   "(needed for the commons source) [env SKELSHOP_COMMONS_TOKEN_FILE].")
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
@click.pass_context
def buildrefs(
    ctx: click.Context, kind: str, listin: Path, refout: Path, source: str, max_per_person: int,
    width: int, concurrency: int, contact: str | None, oauth_token_file: Path | None,
    wikidata_endpoint: str, commons_endpoint: str, filepath_url: str, tries: int, backoff: float,
) -> int:
    """Build a reference folder REFOUT/<QID>/ from Wikidata ids (entities) or occupations (categories)."""
    qids = read_qid_list(listin)
    commons_client = None
    if source == "commons":
        if oauth_token_file is None:
            raise SkelshopError(None, "the commons source needs --oauth-token-file: a file holding "
                                f"the {COOKIE_NAME} cookie of the Commons query service")
        cookie = read_token_file(oauth_token_file)
    retry = RetryPolicy(tries=tries, backoff=backoff)
    client = PoliteClient(contact=contact, retry=retry)
    if source == "commons":
        commons_client = PoliteClient(contact=contact, retry=retry, cookies={COOKIE_NAME: cookie},
                                      cookie_host=urlsplit(commons_endpoint).hostname)
    if not contact:
        log.warning("Wikimedia asks for contact details in the User-Agent: pass --contact")
    endpoints = Endpoints(wikidata_endpoint, commons_endpoint, filepath_url)
    report = build_references(
        kind, qids, refout, source, endpoints, client, commons_client,
        max_per_person=max_per_person, width=width, concurrency=concurrency,
        progress=_progress(ctx),
    )
    _echo_build_report(report, refout)
    return 1 if report.failed else 0


@click.command()
@click.argument("refdir", type=PathArg)
@click.argument("out", type=PathArg)
@click.option("--multi-face", type=click.Choice(MULTI_FACE_POLICIES), default="skip",
              show_default=True, help="An image with several faces: skip it, or take the largest face.")
@click.pass_context
def embedrefs(ctx: click.Context, refdir: Path, out: Path, multi_face: str) -> None:
    """Embed a reference folder REFDIR/<label>/<images> into a reference HDF5 file."""
    refs, report = embed_reference_folder(refdir, multi_face=multi_face, progress=_progress(ctx))
    write_references(out, refs)
    echo_embed_report(report, refdir)
    click.echo(f"wrote {len(refs)} label(s) to {out}")


def _identify(
    ctx: click.Context, mode: str, ref: Path, scenes: Path, faces: Path, out: Path,
    group_fmt: str | None, with_times: bool, multi_face: str,
    make_params: Callable[[EmbedderInfo], DirectParams],
) -> None:
    shots = read_shots(scenes, group_fmt)
    dump = read_face_dump(faces)
    if dump.mode != mode:
        other = "idsegsfull" if dump.mode == "full" else "idsegssparse"
        raise SkelshopError(faces, f"is a {dump.mode} face dump: use `skelshop iden {other}`")
    if ref.is_dir():  # refuse before the costly embedding, not after
        check_same_embedder(DlibFaceEmbedder.info, ref, dump.embedder, faces)
    refs, report = load_reference_library(ref, multi_face=multi_face, progress=_progress(ctx))
    if report is not None:
        echo_embed_report(report, ref)
    params = make_params(refs.embedder)
    rows = identify_dump(refs, ref, dump, faces, shots, scenes, params,
                         with_times=with_times, progress=_progress(ctx))
    write_identities(out, rows, with_times=with_times)
    click.echo(f"{len(rows)} track(s) identified in {len({r.seg for r in rows})} shot(s) -> {out}")


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
def idsegssparse(
    ctx: click.Context, ref: Path, scenes: Path, faces: Path, out: Path, group_fmt: str | None,
    detection_threshold: float | None, with_times: bool, multi_face: str,
) -> None:
    """Label the tracks of each shot of a sparse face dump with reference people."""
    _identify(ctx, "sparse", ref, scenes, faces, out, group_fmt, with_times, multi_face,
              lambda emb: DirectParams.sparse(emb, detection_threshold))


@click.command()
@_common_options
@click.option("--min-detected-frames", type=click.IntRange(1), default=FULL_MIN_DETECTED_FRAMES,
              show_default=True, help="Faces of a track within the detection threshold needed.")
@click.option("--median-threshold", type=click.FloatRange(0), default=None,
              help="Largest median distance of a track's faces "
                   "[default: the embedder's threshold, 0.6 for dlib].")
def idsegsfull(
    ctx: click.Context, ref: Path, scenes: Path, faces: Path, out: Path, group_fmt: str | None,
    detection_threshold: float | None, with_times: bool, multi_face: str,
    min_detected_frames: int, median_threshold: float | None,
) -> None:
    """Label the tracks of each shot of a full face dump with reference people."""
    _identify(ctx, "full", ref, scenes, faces, out, group_fmt, with_times, multi_face,
              lambda emb: DirectParams.full(emb, detection_threshold, min_detected_frames,
                                            median_threshold))
