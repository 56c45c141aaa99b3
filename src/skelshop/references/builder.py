"""buildrefs: find each person's images through Wikidata or Commons and download them resumably."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import remove_stale_parts
from skelshop.formats.oauth_token import COOKIE_NAME, read_oauth_creds, read_token_file
from skelshop.formats.qid_list import read_qid_list
from skelshop.media.images import UnreadableImage, check_image_file
from skelshop.references.file_names import commons_title, filepath_url, is_readable_type, local_name
from skelshop.references.http_client import (
    PoliteClient,
    RejectedContent,
    RetryPolicy,
    Stopped,
    TransferError,
)
from skelshop.references.oauth1 import OAuth1Signer
from skelshop.references.settings import LIST_KINDS, Endpoints, TransferLimits
from skelshop.references.sparql import (
    ImageHit,
    SparqlService,
    commons_depicts_query,
    occupation_images_query,
    occupation_people_query,
    wikidata_images_query,
)

log = logging.getLogger(__name__)

COMMONS_AUTH_HINT = (
    "; the Commons query service needs valid credentials: a wcqsOauth cookie in the token file "
    "(copy it from a browser logged in to the service), or OAuth consumer credentials "
    "(--oauth-creds)"
)
# How long an interrupted run waits for its download threads to remove their temp files.
STOP_GRACE_S = 2.0


@dataclass(frozen=True)
class Download:
    """One file to fetch into a person's folder."""

    qid: str
    title: str
    dest: Path


@dataclass
class BuildReport:
    """What buildrefs found, fetched, kept and could not get."""

    people: list[str] = field(default_factory=list)  # QIDs with at least one usable image
    without_images: list[str] = field(default_factory=list)  # listed QIDs the service had none for
    already_present: int = 0
    downloaded: list[Path] = field(default_factory=list)
    unreadable_types: list[tuple[str, str]] = field(default_factory=list)  # (qid, title)
    unsafe_names: list[tuple[str, str]] = field(default_factory=list)  # (qid, raw url)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (qid, title, problem)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # served, but unusable


def find_images(
    kind: str, qids: list[str], source: str, endpoints: Endpoints, client: PoliteClient,
    commons_client: PoliteClient | None = None, humans_only: bool = True,
) -> list[ImageHit]:
    """Ask the chosen service for images of the listed people (or of people in the categories).

    For categories, `humans_only` keeps items that are instances of human (Q5): P106 is also
    set on fictional characters, groups and the like, whose images are no face references.
    """
    if kind not in LIST_KINDS:
        raise ValueError(f"unknown list kind {kind!r}")
    wikidata = SparqlService(endpoints.wikidata_sparql, client)
    if source == "wikidata":
        query = (wikidata_images_query(qids) if kind == "entities"
                 else occupation_images_query(qids, humans_only))
        return wikidata.image_hits(query)
    if source != "commons":
        raise ValueError(f"unknown source {source!r}")
    if commons_client is None:
        raise SkelshopError(None, "the commons source needs credentials "
                                  "(--oauth-token-file or --oauth-creds)")
    people = (qids if kind == "entities"
              else wikidata.items(occupation_people_query(qids, humans_only)))
    if not people:
        return []
    commons = SparqlService(endpoints.commons_sparql, commons_client, auth_hint=COMMONS_AUTH_HINT)
    return commons.image_hits(commons_depicts_query(people))


def plan_downloads(
    hits: Iterable[ImageHit], refout: Path, max_per_person: int, report: BuildReport,
    asked: list[str] | None = None,
) -> list[Download]:
    """Choose up to `max_per_person` files per person; files already on disk count and stay."""
    titles: dict[str, dict[str, str]] = {}  # qid -> local name -> title
    for hit in hits:
        per_person = titles.setdefault(hit.qid, {})
        title = commons_title(hit.url)
        if title is None:
            report.unsafe_names.append((hit.qid, hit.url[:200]))
        elif not is_readable_type(title):
            report.unreadable_types.append((hit.qid, title))
        else:
            per_person.setdefault(local_name(title), title)
    if asked is not None:
        report.without_images = [q for q in asked if not titles.get(q)]
    plan = []
    for qid, names in titles.items():
        if not names:
            continue
        report.people.append(qid)
        folder = refout / qid
        remove_stale_parts(folder)  # temp files of a killed run (its process is gone)
        present = sorted(n for n in names if (folder / n).is_file())
        missing = sorted(n for n in names if n not in present)
        report.already_present += min(len(present), max_per_person)
        room = max(0, max_per_person - len(present))
        plan += [Download(qid, names[n], folder / n) for n in missing[:room]]
    return plan


def _image_problem(path: Path) -> str | None:
    try:
        check_image_file(path)
    except UnreadableImage as err:
        return str(err)
    return None


def _stop_workers(client: PoliteClient, workers: list[threading.Thread]) -> None:
    """Stop downloads in flight, give their threads a moment to clean up, remove what is left."""
    client.abort()
    until = time.monotonic() + STOP_GRACE_S
    for worker in workers:
        worker.join(max(0.0, until - time.monotonic()))
    client.remove_partial_files()


def download_all(
    plan: list[Download], client: PoliteClient, filepath_base: str, width: int,
    concurrency: int, report: BuildReport, progress: bool = True,
) -> None:
    """Fetch the planned files a few at a time; failures are recorded, never half-written.

    Ctrl-C and SIGTERM (which the CLI turns into KeyboardInterrupt) stop every download at
    once: the worker threads are daemons blocked at most until `client.abort()` shuts their
    sockets, and no temp file stays behind.
    """
    params = {"width": str(width)} if width > 0 else None
    todo: queue.Queue[Download] = queue.Queue()
    for item in plan:
        todo.put(item)
    done: queue.Queue[tuple[Download, Path | None, BaseException | None]] = queue.Queue()

    def work() -> None:
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            if client.stop.is_set():
                return
            try:
                client.download(filepath_url(filepath_base, item.title), item.dest,
                                params=params, check=_image_problem)
                done.put((item, item.dest, None))
            except Stopped:
                return
            except Exception as err:  # sorted out by the main thread (_record)
                done.put((item, None, err))

    workers = [threading.Thread(target=work, name=f"download-{i}", daemon=True)
               for i in range(max(1, min(concurrency, len(plan))))]
    bar = tqdm(total=len(plan), desc="download", unit="file", disable=not progress)
    try:
        for worker in workers:
            worker.start()
        for _ in plan:
            # A timeout keeps the main thread responsive to signals while it waits.
            while True:
                try:
                    item, path, err = done.get(timeout=0.5)
                    break
                except queue.Empty:
                    if not any(w.is_alive() for w in workers) and done.empty():
                        raise RuntimeError("download threads ended early") from None
            bar.update(1)
            _record(report, item, path, err)
    except BaseException:
        _stop_workers(client, workers)
        raise
    finally:
        bar.close()


def _record(report: BuildReport, item: Download, path: Path | None,
            err: BaseException | None) -> None:
    if err is None and path is not None:
        report.downloaded.append(path)
    elif isinstance(err, RejectedContent):
        report.rejected.append((item.qid, item.title, err.problem))
    elif isinstance(err, TransferError):
        report.failed.append((item.qid, item.title, err.problem))
    elif isinstance(err, OSError):
        problem = err.strerror or str(err) or type(err).__name__
        report.failed.append((item.qid, item.title, f"cannot write {item.dest}: {problem}"))
    elif err is not None:
        raise err  # a bug, not a download problem: let it surface


@dataclass(frozen=True)
class BuildSettings:
    """Everything `buildrefs` is asked to do, as the command line gives it."""

    kind: str  # entities | categories
    listin: Path
    refout: Path
    source: str = "wikidata"  # wikidata | commons
    endpoints: Endpoints = field(default_factory=Endpoints)
    contact: str | None = None
    token_file: Path | None = None  # wcqsOauth cookie (the Commons query service today)
    oauth_creds: Path | None = None  # OAuth 1.0a consumer credentials (the original's option)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limits: TransferLimits = field(default_factory=TransferLimits)
    max_per_person: int = 5
    width: int = 1024
    concurrency: int = 2
    humans_only: bool = True


def _commons_client(settings: BuildSettings) -> PoliteClient | None:
    if settings.source != "commons":
        return None
    common = {"contact": settings.contact, "retry": settings.retry, "limits": settings.limits}
    host = urlsplit(settings.endpoints.commons_sparql).hostname
    if settings.oauth_creds is not None:
        creds = read_oauth_creds(settings.oauth_creds)
        return PoliteClient(**common, auth=OAuth1Signer(creds))
    if settings.token_file is not None:
        cookie = read_token_file(settings.token_file)
        return PoliteClient(**common, cookies={COOKIE_NAME: cookie}, cookie_host=host)
    raise SkelshopError(None, "the commons source needs credentials: --oauth-token-file (a file "
                        f"holding the {COOKIE_NAME} cookie of the Commons query service) or "
                        "--oauth-creds (the original's OAuth consumer credentials file)")


def run_buildrefs(settings: BuildSettings, progress: bool = True) -> BuildReport:
    """Read the list, check the endpoints and credentials, then query and download."""
    if settings.kind not in LIST_KINDS:
        raise ValueError(f"unknown list kind {settings.kind!r}")
    qids = read_qid_list(settings.listin)
    settings.endpoints.check(settings.source, settings.kind)
    if settings.token_file is not None and settings.oauth_creds is not None:
        raise SkelshopError(None, "give --oauth-token-file or --oauth-creds, not both")
    commons_client = _commons_client(settings)
    if not settings.contact:
        log.warning("Wikimedia asks for contact details in the User-Agent: pass --contact")
    client = PoliteClient(contact=settings.contact, retry=settings.retry, limits=settings.limits)
    return build_references(
        settings.kind, qids, settings.refout, settings.source, settings.endpoints, client,
        commons_client, max_per_person=settings.max_per_person, width=settings.width,
        concurrency=settings.concurrency, progress=progress, humans_only=settings.humans_only,
    )


def build_references(
    kind: str, qids: list[str], refout: Path, source: str, endpoints: Endpoints,
    client: PoliteClient, commons_client: PoliteClient | None = None, max_per_person: int = 5,
    width: int = 1024, concurrency: int = 2, progress: bool = True, humans_only: bool = True,
) -> BuildReport:
    """Query, plan and download: REFOUT/<QID>/<percent-encoded file name>."""
    hits = find_images(kind, qids, source, endpoints, client, commons_client, humans_only)
    report = BuildReport()
    plan = plan_downloads(hits, refout, max_per_person, report,
                          asked=qids if kind == "entities" else None)
    download_all(plan, client, endpoints.commons_filepath, width, concurrency, report, progress)
    return report
