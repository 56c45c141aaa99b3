"""An HTTP client that behaves as Wikimedia asks: identified, patient with 429/5xx, careful on disk."""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import requests

from skelshop import __version__
from skelshop.formats.atomic import atomic_path

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 64 * 1024


class TransferError(Exception):
    """A request that failed for good (after retries, or with a status not worth retrying)."""

    def __init__(self, url: str, problem: str, status: int | None = None):
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem
        self.status = status


class RejectedContent(TransferError):
    """The server answered, but not with content we can use: retrying will not help."""


class _Retryable(Exception):
    """A failure worth another try, with the wait the server asked for (if any)."""

    def __init__(self, problem: str, wait: float | None = None):
        super().__init__(problem)
        self.wait = wait


def user_agent(contact: str | None) -> str:
    """A descriptive User-Agent naming the tool and, when given, how to reach its operator."""
    ident = f"skelshop/{__version__} (person identification in video corpora"
    ident += f"; {contact})" if contact else ")"
    return f"{ident} python-requests/{requests.__version__}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass
class RetryPolicy:
    """How many tries, and how long to wait between them."""

    tries: int = 5
    backoff: float = 1.0  # first wait in seconds; doubles each time
    max_wait: float = 120.0  # never sleep longer than this, whatever the server says

    def wait(self, attempt: int, asked: float | None) -> float:
        """The wait before try `attempt + 1`: the server's ask, else exponential with jitter."""
        if asked is not None:
            return min(asked, self.max_wait)
        return min(self.backoff * (2 ** attempt) * (1 + 0.25 * random.random()), self.max_wait)


class PoliteClient:
    """requests with a User-Agent, timeouts, retries on 429/5xx and atomic downloads."""

    def __init__(
        self,
        contact: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (15.0, 120.0),
        cookies: dict[str, str] | None = None,
        cookie_host: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.headers = {"User-Agent": user_agent(contact)}
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.cookies = dict(cookies or {})
        # Credentials go to the one service they are for, not to every host on a redirect.
        self.cookie_host = cookie_host
        self._sleep = sleep
        # A Session per thread: sharing one across download threads is not guaranteed safe.
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(self.headers)
            for name, value in self.cookies.items():
                session.cookies.set(name, value, domain=self.cookie_host or "")
            self._local.session = session
        return session

    def _with_retries(self, url: str, attempt_once: Callable[[], T]) -> T:
        last = "no attempt made"
        for attempt in range(self.retry.tries):
            try:
                return attempt_once()
            except _Retryable as err:
                last = str(err)
                if attempt + 1 == self.retry.tries:
                    break
                wait = self.retry.wait(attempt, err.wait)
                log.info("%s: %s; retrying in %.1f s", url, last, wait)
                self._sleep(wait)
        raise TransferError(url, f"{last} (gave up after {self.retry.tries} tries)")

    def _checked(self, response: requests.Response, url: str) -> None:
        if response.status_code in RETRY_STATUSES:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            response.close()
            raise _Retryable(f"HTTP {response.status_code}", wait)
        if response.status_code >= 400:
            response.close()
            raise TransferError(url, f"HTTP {response.status_code}", response.status_code)

    def post_form(self, url: str, data: dict[str, str], accept: str) -> requests.Response:
        """POST a form (e.g. a SPARQL query) and return the whole, successful response."""

        def once() -> requests.Response:
            try:
                response = self._session().post(
                    url, data=data, headers={"Accept": accept}, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as err:
                raise _Retryable(f"{type(err).__name__}") from err
            self._checked(response, url)
            return response

        return self._with_retries(url, once)

    def download(
        self,
        url: str,
        dest: Path,
        params: dict[str, str] | None = None,
        accept_content: Callable[[bytes], bool] | None = None,
    ) -> int:
        """Stream `url` to `dest` atomically; truncated bodies are retried, never kept."""

        def once() -> int:
            try:
                with atomic_path(dest) as tmp:
                    size = self._fetch_to(url, params, tmp)
                    if accept_content is not None:
                        with tmp.open("rb") as handle:
                            head = handle.read(16)
                        if not accept_content(head):
                            raise RejectedContent(url, "not a JPEG or PNG image")
                    return size
            except requests.exceptions.ChunkedEncodingError as err:
                raise _Retryable("truncated body (connection closed early)") from err
            except (requests.ConnectionError, requests.Timeout) as err:
                raise _Retryable(f"transfer broke off ({type(err).__name__})") from err

        return self._with_retries(url, once)

    def _fetch_to(self, url: str, params: dict[str, str] | None, tmp: Path) -> int:
        with self._session().get(url, params=params, stream=True, timeout=self.timeout) as response:
            self._checked(response, url)
            expected = response.headers.get("Content-Length")
            received = 0
            with tmp.open("wb") as out:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
        # urllib3 usually notices short bodies itself; this also covers servers that lie.
        encoded = response.headers.get("Content-Encoding", "identity") != "identity"
        if not encoded and expected is not None and expected.isdigit() and int(expected) != received:
            raise _Retryable(f"truncated body ({received} of {expected} bytes)")
        if received == 0:
            raise _Retryable("empty body")
        return received
