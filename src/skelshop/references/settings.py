"""Light settings of the reference commands: defaults the CLI shows, limits on transfers.

Nothing heavy is imported here: `skelshop iden ... --help` reads these for option defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from skelshop.errors import SkelshopError

DEFAULT_WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
DEFAULT_COMMONS_SPARQL = "https://commons-query.wikimedia.org/sparql"
DEFAULT_COMMONS_FILEPATH = "https://commons.wikimedia.org/wiki/Special:FilePath/"
LIST_KINDS = ("entities", "categories")
SOURCES = ("wikidata", "commons")
MULTI_FACE_POLICIES = ("skip", "largest")

# A 1024-px JPEG is a few hundred kB; an original photo from a good camera is 10-20 MB.
DEFAULT_MAX_IMAGE_MB = 20.0
DEFAULT_DOWNLOAD_DEADLINE = 180.0  # seconds per file, all tries included
DEFAULT_QUERY_DEADLINE = 300.0  # seconds per SPARQL query, tries and Retry-After waits included
MAX_ANSWER_BYTES = 512 * 2**20  # a SPARQL answer larger than this is not a list of people


def megabytes(n_bytes: int) -> str:
    """A byte count as `12.3 MB` for messages."""
    return f"{n_bytes / 2**20:.1f} MB"


@dataclass(frozen=True)
class TransferLimits:
    """How long and how large one query or one download may be."""

    query_deadline: float = DEFAULT_QUERY_DEADLINE
    download_deadline: float = DEFAULT_DOWNLOAD_DEADLINE
    max_download_bytes: int = int(DEFAULT_MAX_IMAGE_MB * 2**20)
    max_answer_bytes: int = MAX_ANSWER_BYTES
    connect_timeout: float = 15.0
    read_timeout: float = 60.0  # silence on the socket; the deadline bounds the whole transfer


@dataclass(frozen=True)
class Endpoints:
    """Where the services live; options so a mirror or a test server can stand in."""

    wikidata_sparql: str = DEFAULT_WIKIDATA_SPARQL
    commons_sparql: str = DEFAULT_COMMONS_SPARQL
    commons_filepath: str = DEFAULT_COMMONS_FILEPATH

    def check(self, source: str, kind: str) -> None:
        """Refuse, before any request, an endpoint that the run needs and that is not http(s)."""
        needed = [("--filepath-url", self.commons_filepath)]
        if source == "wikidata" or kind == "categories":
            needed.append(("--wikidata-endpoint", self.wikidata_sparql))
        if source == "commons":
            needed.append(("--commons-endpoint", self.commons_sparql))
        for option, url in needed:
            check_http_url(option, url)


def check_http_url(option: str, url: str) -> None:
    """An http:// or https:// URL with a host, else one line naming the option."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 -- a bad port raises ValueError here
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        scheme = f" (scheme {parts.scheme!r} is not supported)" if parts and parts.scheme \
            and parts.scheme not in ("http", "https") else ""
        raise SkelshopError(None, f"{option} {url!r} is not an http(s) URL{scheme}")
