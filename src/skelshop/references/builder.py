"""buildrefs: find each person's images through Wikidata or Commons and download them resumably."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.media.images import is_jpeg_or_png
from skelshop.references.file_names import commons_title, filepath_url, is_readable_type, local_name
from skelshop.references.http_client import PoliteClient, RejectedContent, TransferError
from skelshop.references.sparql import (
    ImageHit,
    SparqlService,
    commons_depicts_query,
    occupation_images_query,
    occupation_people_query,
    wikidata_images_query,
)

log = logging.getLogger(__name__)

DEFAULT_WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
DEFAULT_COMMONS_SPARQL = "https://commons-query.wikimedia.org/sparql"
DEFAULT_COMMONS_FILEPATH = "https://commons.wikimedia.org/wiki/Special:FilePath/"
LIST_KINDS = ("entities", "categories")
SOURCES = ("wikidata", "commons")
# Temp files of `atomic_path` (".<name>.<pid>.part") left by a killed run.
_STALE_PART_RE = re.compile(r"^\..+\.\d+\.part$")
COMMONS_AUTH_HINT = (
    "; the Commons query service needs a valid wcqsOauth cookie in the token file "
    "(copy it from a browser logged in to the service)"
)


@dataclass(frozen=True)
class Endpoints:
    """Where the services live; options so a mirror or a test server can stand in."""

    wikidata_sparql: str
    commons_sparql: str
    commons_filepath: str


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
    commons_client: PoliteClient | None = None,
) -> list[ImageHit]:
    """Ask the chosen service for images of the listed people (or of people in the categories)."""
    if kind not in LIST_KINDS:
        raise ValueError(f"unknown list kind {kind!r}")
    wikidata = SparqlService(endpoints.wikidata_sparql, client)
    if source == "wikidata":
        query = wikidata_images_query(qids) if kind == "entities" else occupation_images_query(qids)
        return wikidata.image_hits(query)
    if source != "commons":
        raise ValueError(f"unknown source {source!r}")
    if commons_client is None:
        raise SkelshopError(None, "the commons source needs a token file (--oauth-token-file)")
    people = qids if kind == "entities" else wikidata.items(occupation_people_query(qids))
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
        _remove_stale_parts(folder)
        present = sorted(n for n in names if (folder / n).is_file())
        missing = sorted(n for n in names if n not in present)
        report.already_present += min(len(present), max_per_person)
        room = max(0, max_per_person - len(present))
        plan += [Download(qid, names[n], folder / n) for n in missing[:room]]
    return plan


def _remove_stale_parts(folder: Path) -> None:
    if folder.is_dir():
        for path in folder.iterdir():
            if _STALE_PART_RE.match(path.name) and path.is_file():
                log.info("removing %s, left by an interrupted download", path)
                path.unlink(missing_ok=True)


def download_all(
    plan: list[Download], client: PoliteClient, filepath_base: str, width: int,
    concurrency: int, report: BuildReport, progress: bool = True,
) -> None:
    """Fetch the planned files a few at a time; failures are recorded, never half-written."""
    params = {"width": str(width)} if width > 0 else None

    def fetch(item: Download) -> Path:
        client.download(filepath_url(filepath_base, item.title), item.dest, params=params,
                        accept_content=is_jpeg_or_png)
        return item.dest

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {pool.submit(fetch, item): item for item in plan}
        bar = tqdm(as_completed(futures), total=len(futures), desc="download", unit="file",
                   disable=not progress)
        for future in bar:
            item = futures[future]
            try:
                report.downloaded.append(future.result())
            except RejectedContent as err:
                report.rejected.append((item.qid, item.title, err.problem))
            except TransferError as err:
                report.failed.append((item.qid, item.title, err.problem))
            except OSError as err:
                report.failed.append((item.qid, item.title, f"cannot write: {err.strerror}"))


def build_references(
    kind: str, qids: list[str], refout: Path, source: str, endpoints: Endpoints,
    client: PoliteClient, commons_client: PoliteClient | None = None, max_per_person: int = 5,
    width: int = 1024, concurrency: int = 2, progress: bool = True,
) -> BuildReport:
    """Query, plan and download: REFOUT/<QID>/<percent-encoded file name>."""
    hits = find_images(kind, qids, source, endpoints, client, commons_client)
    report = BuildReport()
    plan = plan_downloads(hits, refout, max_per_person, report,
                          asked=qids if kind == "entities" else None)
    download_all(plan, client, endpoints.commons_filepath, width, concurrency, report, progress)
    return report
