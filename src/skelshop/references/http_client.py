"""An HTTP client that behaves as Wikimedia asks: identified, patient with 429/5xx, careful on disk.

Every query and every download has a total deadline (tries and waits included) and a size cap,
bodies are read as they arrive (a server trickling one byte at a time cannot hold a transfer
open past its deadline), and `abort()` stops every transfer in progress at once.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import requests
import urllib3.exceptions

from skelshop import __version__
from skelshop.formats.atomic import atomic_path, temp_name
from skelshop.references.settings import TransferLimits, megabytes

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


class Stopped(Exception):
    """The client was aborted (Ctrl-C, SIGTERM) while this transfer was under way."""


class _Retryable(Exception):
    """A failure worth another try, with the wait the server asked for (if any)."""

    def __init__(self, problem: str, wait: float | None = None):
        super().__init__(problem)
        self.wait = wait


class _DeadlinePassed(Exception):
    """The transfer's total time ran out."""


@dataclass(frozen=True)
class HttpAnswer:
    """A complete, successful answer to a query."""

    status: int
    headers: Mapping[str, str]
    content: bytes


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


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


def _describe_request_error(err: requests.RequestException) -> str:
    if isinstance(err, requests.exceptions.InvalidSchema | requests.exceptions.MissingSchema):
        return f"unsupported URL scheme, only http(s) is fetched ({err})"
    if isinstance(err, requests.exceptions.InvalidURL):
        return f"not a valid URL ({err})"
    if isinstance(err, requests.exceptions.TooManyRedirects):
        return "too many redirects"
    return f"request failed ({type(err).__name__})"


class PoliteClient:
    """requests with a User-Agent, deadlines, size caps, retries on 429/5xx, atomic downloads."""

    def __init__(
        self,
        contact: str | None = None,
        retry: RetryPolicy | None = None,
        limits: TransferLimits | None = None,
        cookies: dict[str, str] | None = None,
        cookie_host: str | None = None,
        auth: requests.auth.AuthBase | None = None,
    ):
        self.headers = {"User-Agent": user_agent(contact)}
        self.retry = retry or RetryPolicy()
        self.limits = limits or TransferLimits()
        self.cookies = dict(cookies or {})
        # Credentials go to the one service they are for, not to every host on a redirect.
        self.cookie_host = cookie_host
        self.auth = auth
        self.stop = threading.Event()
        # A Session per thread: sharing one across download threads is not guaranteed safe.
        self._local = threading.local()
        self._lock = threading.Lock()
        self._active: set[requests.Response] = set()
        self._parts: set[Path] = set()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(self.headers)
            for name, value in self.cookies.items():
                session.cookies.set(name, value, domain=self.cookie_host or "")
            if self.auth is not None:
                session.auth = self.auth
            self._local.session = session
        return session

    # -- stopping -------------------------------------------------------------------------

    def abort(self) -> None:
        """Stop every transfer now: waits end, and sockets of running transfers are shut down."""
        with self._lock:
            self.stop.set()
            active = list(self._active)
        for response in active:
            # Shutting the socket down wakes a thread blocked in recv() at once.
            sock = getattr(getattr(response.raw, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def remove_partial_files(self) -> None:
        """Delete the temp files of transfers that were cut off by `abort()`."""
        with self._lock:
            parts = list(self._parts)
            self._parts.clear()
        for part in parts:
            with contextlib.suppress(OSError):
                part.unlink()

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped

    # -- requests -------------------------------------------------------------------------

    def _timeout(self, deadline: _Deadline) -> tuple[float, float]:
        left = max(0.05, deadline.left())
        return (min(self.limits.connect_timeout, left), min(self.limits.read_timeout, left))

    def _with_retries(self, url: str, deadline: _Deadline, what: str,
                      attempt_once: Callable[[], T]) -> T:
        last = "no attempt made"
        for attempt in range(self.retry.tries):
            self._check_stop()
            try:
                return attempt_once()
            except _DeadlinePassed:
                raise TransferError(url, f"{what} took longer than its {deadline.seconds:g} s "
                                    "deadline") from None
            except _Retryable as err:
                last = str(err)
                if attempt + 1 == self.retry.tries:
                    break
                wait = self.retry.wait(attempt, err.wait)
                if wait >= deadline.left():
                    raise TransferError(url, f"{last}; another try would pass the "
                                        f"{deadline.seconds:g} s deadline") from None
                log.info("%s: %s; retrying in %.1f s", url, last, wait)
                if self.stop.wait(wait):
                    raise Stopped from None
        raise TransferError(url, f"{last} (gave up after {self.retry.tries} tries)")

    def _checked(self, response: requests.Response, url: str) -> None:
        if response.status_code in RETRY_STATUSES:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            response.close()
            raise _Retryable(f"HTTP {response.status_code}", wait)
        if response.status_code >= 400:
            response.close()
            raise TransferError(url, f"HTTP {response.status_code}", response.status_code)

    def _open(self, method: str, url: str, deadline: _Deadline, **kwargs: object
              ) -> requests.Response:
        self._check_stop()
        try:
            response = self._session().request(method, url, stream=True,
                                               timeout=self._timeout(deadline), **kwargs)
        except (requests.ConnectionError, requests.Timeout) as err:
            self._check_stop()
            if deadline.left() <= 0:
                raise _DeadlinePassed from None
            raise _Retryable(f"no answer ({type(err).__name__})") from err
        except requests.RequestException as err:
            raise TransferError(url, _describe_request_error(err)) from None
        with self._lock:
            self._active.add(response)
        if self.stop.is_set():
            self._release(response)
            raise Stopped
        return response

    def _release(self, response: requests.Response) -> None:
        with self._lock:
            self._active.discard(response)
        response.close()

    def _read_body(self, response: requests.Response, url: str, deadline: _Deadline,
                   max_bytes: int, write: Callable[[bytes], object]) -> int:
        """Copy the body to `write` as it arrives; over the cap or past the deadline fails."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise RejectedContent(url, f"too large ({megabytes(int(declared))}; the limit is "
                                  f"{megabytes(max_bytes)})")
        received = 0
        while True:
            self._check_stop()
            if deadline.left() <= 0:
                raise _DeadlinePassed
            try:
                # read1 returns what has arrived, so the deadline is checked between arrivals.
                chunk = response.raw.read1(CHUNK, decode_content=True)
            except urllib3.exceptions.ProtocolError as err:
                self._check_stop()
                raise _Retryable("truncated body (connection closed early)") from err
            except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.SSLError,
                    OSError) as err:
                self._check_stop()
                if deadline.left() <= 0:
                    raise _DeadlinePassed from None
                raise _Retryable(f"transfer broke off ({type(err).__name__})") from err
            except urllib3.exceptions.DecodeError:
                raise RejectedContent(url, "body cannot be decoded (bad compression)") from None
            if not chunk:
                break
            received += len(chunk)
            if received > max_bytes:
                raise RejectedContent(url, f"too large (more than {megabytes(max_bytes)})")
            write(chunk)
        # urllib3 usually notices short bodies itself; this also covers servers that lie.
        encoded = response.headers.get("Content-Encoding", "identity") != "identity"
        if not encoded and declared.isdigit() and int(declared) != received:
            raise _Retryable(f"truncated body ({received} of {declared} bytes)")
        return received

    def post_form(self, url: str, data: dict[str, str], accept: str) -> HttpAnswer:
        """POST a form (e.g. a SPARQL query) and return the whole, successful answer."""
        deadline = _Deadline(self.limits.query_deadline)

        def once() -> HttpAnswer:
            response = self._open("POST", url, deadline, data=data, headers={"Accept": accept})
            try:
                self._checked(response, url)
                body = io.BytesIO()
                self._read_body(response, url, deadline, self.limits.max_answer_bytes, body.write)
                return HttpAnswer(response.status_code, response.headers, body.getvalue())
            finally:
                self._release(response)

        return self._with_retries(url, deadline, "the query", once)

    def download(
        self,
        url: str,
        dest: Path,
        params: dict[str, str] | None = None,
        check: Callable[[Path], str | None] | None = None,
    ) -> int:
        """Stream `url` to `dest` atomically; `check` names what is wrong with a complete file."""
        deadline = _Deadline(self.limits.download_deadline)

        def once() -> int:
            with atomic_path(dest) as tmp:
                size = self._fetch_to(url, params, tmp, deadline)
                problem = check(tmp) if check is not None else None
                if problem is not None:
                    raise RejectedContent(url, problem)
                return size

        try:
            return self._with_retries(url, deadline, "the download", once)
        finally:
            with self._lock:
                self._parts.discard(temp_name(dest))

    def _fetch_to(self, url: str, params: dict[str, str] | None, tmp: Path,
                  deadline: _Deadline) -> int:
        response = self._open("GET", url, deadline, params=params)
        try:
            self._checked(response, url)
            # Created under the lock: once abort() has run, no new temp file can appear, and
            # remove_partial_files() deletes those there are, whatever their threads are doing.
            with self._lock:
                if self.stop.is_set():
                    raise Stopped
                self._parts.add(tmp)
                out = tmp.open("wb")
            with out:
                received = self._read_body(response, url, deadline,
                                           self.limits.max_download_bytes, out.write)
        finally:
            self._release(response)
        if received == 0:
            raise _Retryable("empty body")
        return received
