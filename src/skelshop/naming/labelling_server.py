"""The labelling page's HTTP server: loopback only, files confined to the prototype folder."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from skelshop.errors import SkelshopError
from skelshop.formats.identifications import cluster_index
from skelshop.naming.label_store import CorpusNameStore, LabelStore
from skelshop.naming.proto_dir import is_served_image, scan_proto_dir

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8642
STATIC = {
    "/": ("whoisthis.html", "text/html; charset=utf-8"),
    "/whoisthis.css": ("whoisthis.css", "text/css; charset=utf-8"),
    "/whoisthis.js": ("whoisthis.js", "text/javascript; charset=utf-8"),
}
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_BODY = 64 * 1024


TrackKey = tuple[str, int, int]  # (video, shot, track)


class LabellingApp:
    """What the page shows and changes: clusters, their names, skips, suggestions.

    With a `CorpusNameStore` (`corpus label`) it also records merges ("same person as")
    and, given `image_tracks` (picture path in the folder -> its track), "not this person"
    on one picture's track.
    """

    def __init__(self, protodir: str | Path, store: LabelStore | CorpusNameStore,
                 suggestions: list[str], image_tracks: dict[str, TrackKey] | None = None):
        self.protodir = Path(protodir).resolve()
        self.store = store
        self.image_tracks = image_tracks or {}
        self.clusters = scan_proto_dir(self.protodir)
        self._names = {c.clus for c in self.clusters}
        self.reference_labels = sorted(set(suggestions))
        # Skips of an earlier session (the original wrote them as `,c<k>` rows) still count.
        self._skipped: set[str] = {c for c in store.skipped_before if c in self._names}
        self._lock = threading.Lock()

    def known(self, clus: str) -> bool:
        """Whether `clus` is one of the folder's clusters."""
        return clus in self._names

    def stray_clusters(self) -> list[str]:
        """Clusters named in the CSV that the folder does not hold (kept, never dropped)."""
        return sorted((c for c in self.store.labels() if not self.known(c)),
                      key=lambda c: cluster_index(c) or 0)

    def state(self) -> dict:
        """Everything the page needs, as JSON-ready data."""
        return {
            "out": str(self.store.path),
            "clusters": [
                {"clus": c.clus, "members": c.members,
                 "images": [f"/img/{quote(name)}" for name in c.images]}
                for c in self.clusters
            ],
            "references": self.reference_labels,
            "can_merge": isinstance(self.store, CorpusNameStore),
            "can_split": isinstance(self.store, CorpusNameStore) and bool(self.image_tracks),
            # picture -> [video, shot, track]: the page names faces by video file and shot
            "tracks": {f"/img/{quote(image)}": list(track)
                       for image, track in self.image_tracks.items()},
            **self.changes(),
        }

    def changes(self) -> dict:
        """The part of the state that naming, merging, splitting and skipping change."""
        with self._lock:
            skipped = sorted(self._skipped)
        out = {"labels": self.store.labels(), "skipped": skipped, "stray": self.stray_clusters()}
        if isinstance(self.store, CorpusNameStore):
            split = {(v, s, t, c) for v, s, t, c in self.store.not_this()}
            out["merges"] = self.store.merges()
            out["split"] = sorted(f"/img/{quote(image)}" for image, (v, s, t) in
                                  self.image_tracks.items()
                                  if (v, s, t, image.split("/")[0]) in split)
        return out

    def merge(self, clus: str, other: str) -> dict:
        """`clus` is the same person as `other` ('' undoes it); saved at once."""
        if not isinstance(self.store, CorpusNameStore):
            raise ValueError("merging needs a corpus (skelshop corpus label)")
        if other and not self.known(other):
            raise ValueError(f"unknown cluster {other!r}")
        self.store.merge(clus, other)
        with self._lock:
            self._skipped.discard(clus)
        return self.changes()

    def not_this_person(self, clus: str, image_url: str, undo: bool = False) -> dict:
        """The track of one picture of `clus` is someone else: split it off (saved at once).

        With `undo`, the track is the person of `clus` after all: the split is forgotten.
        """
        rel = unquote(image_url.removeprefix("/img/"))
        track = self.image_tracks.get(rel)
        if not isinstance(self.store, CorpusNameStore) or track is None \
                or rel.split("/")[0] != clus:
            raise ValueError("no such picture of this cluster")
        if undo:
            self.store.unsplit(clus, *track)
        else:
            self.store.split(clus, *track)
        return self.changes()

    def set_label(self, clus: str, label: str) -> dict:
        """Name (or, with an empty name, unname) a cluster and save at once."""
        self.store.set(clus, label)
        with self._lock:
            self._skipped.discard(clus)
        return self.changes()

    def skip(self, clus: str) -> dict:
        """Mark a cluster as skipped for this session (nothing is written)."""
        with self._lock:
            self._skipped.add(clus)
        return self.changes()

    def image_path(self, url_path: str) -> Path | None:
        """The file behind `/img/...`, or None unless it is an image inside the folder."""
        rel = unquote(url_path[len("/img/"):])
        parts = rel.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return None
        candidate = (self.protodir / Path(*parts)).resolve()
        # resolve() follows symlinks, so a link pointing outside the folder is refused too.
        if not candidate.is_relative_to(self.protodir) or not candidate.is_file():
            return None
        return candidate if is_served_image(candidate) else None


class _Handler(BaseHTTPRequestHandler):
    server: LabellingServer
    server_version = "skelshop-whoisthis"
    timeout = 5  # an idle (pre-)connection must not hold up shutting down

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # Requests naming another host (DNS rebinding) or coming from another site's page are refused.
    def _host_ok(self) -> bool:
        return self.headers.get("Host", "") in self.server.allowed_hosts

    def _origin_ok(self) -> bool:
        origin = self.headers.get("Origin")
        return origin is None or origin in self.server.allowed_origins

    def _send(self, status: HTTPStatus, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data: dict, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json({"error": message}, status)

    def do_HEAD(self) -> None:
        """Answer like GET, without a body."""
        self.do_GET()

    def do_GET(self) -> None:
        """Serve the page, its state, and prototype images."""
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
        path = urlsplit(self.path).path
        app = self.server.app
        if path in STATIC:
            name, ctype = STATIC[path]
            body = resources.files("skelshop.naming").joinpath("static", name).read_bytes()
            return self._send(HTTPStatus.OK, body, ctype)
        if path == "/favicon.ico":  # browsers ask for it; there is none
            self.send_response(HTTPStatus.NO_CONTENT)
            self.end_headers()
            return None
        if path == "/api/state":
            return self._json(app.state())
        if path.startswith("/img/"):
            image = app.image_path(path)
            if image is None:
                return self._error(HTTPStatus.NOT_FOUND, "no such prototype image")
            return self._send(HTTPStatus.OK, image.read_bytes(), IMAGE_TYPES[image.suffix.lower()])
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def do_POST(self) -> None:
        """Save a name (`/api/label`), a skip (`/api/skip`), a merge or a split."""
        if not self._host_ok() or not self._origin_ok():
            return self._error(HTTPStatus.FORBIDDEN, "cross-site request refused")
        # Only JSON bodies: a plain cross-site form cannot send them without a CORS preflight.
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            return self._error(HTTPStatus.BAD_REQUEST, "bad request body length")
        try:
            body = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._error(HTTPStatus.BAD_REQUEST, "body is not JSON")
        clus = body.get("clus") if isinstance(body, dict) else None
        app = self.server.app
        if not isinstance(clus, str) or not app.known(clus):
            return self._error(HTTPStatus.BAD_REQUEST, "unknown cluster")
        path = urlsplit(self.path).path
        if path == "/api/label":
            label = body.get("label")
            if not isinstance(label, str):
                return self._error(HTTPStatus.BAD_REQUEST, "label must be a string")
            try:
                return self._json(app.set_label(clus, label))
            except ValueError as err:  # a name that cannot be saved: say why on the page
                return self._error(HTTPStatus.BAD_REQUEST, str(err))
            except (OSError, SkelshopError) as err:
                log.error("could not save %s: %s", app.store.path, err)
                return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"could not save: {err}")
        if path == "/api/skip":
            return self._json(app.skip(clus))
        if path in ("/api/same", "/api/notthis"):
            value = body.get("other" if path == "/api/same" else "image")
            if not isinstance(value, str):
                return self._error(HTTPStatus.BAD_REQUEST, "other/image must be a string")
            try:
                return self._json(app.merge(clus, value) if path == "/api/same"
                                  else app.not_this_person(clus, value,
                                                           undo=body.get("undo") is True))
            except ValueError as err:
                return self._error(HTTPStatus.BAD_REQUEST, str(err))
            except (OSError, SkelshopError) as err:
                log.error("could not save %s: %s", app.store.path, err)
                return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"could not save: {err}")
        return self._error(HTTPStatus.NOT_FOUND, "not found")


class LabellingServer(ThreadingHTTPServer):
    """A threading HTTP server bound to 127.0.0.1 serving one LabellingApp."""

    # Request threads are joined on close, so a save in progress completes on Ctrl-C.
    daemon_threads = False
    block_on_close = True

    def __init__(self, app: LabellingApp, port: int):
        self.app = app
        super().__init__((LOOPBACK, port), _Handler)
        bound = self.server_address[1]
        self.allowed_hosts = {f"{LOOPBACK}:{bound}", f"localhost:{bound}"}
        self.allowed_origins = {f"http://{host}" for host in self.allowed_hosts}

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{LOOPBACK}:{self.server_address[1]}/"


def open_server(app: LabellingApp, port: int | None) -> LabellingServer:
    """Bind to `port`, or to the default port (else any free one) when none is given."""
    if port is not None:
        try:
            return LabellingServer(app, port)
        except OSError as err:
            raise SkelshopError(None, f"cannot listen on {LOOPBACK}:{port} ({err.strerror})") from None
    with contextlib.suppress(OSError):
        return LabellingServer(app, DEFAULT_PORT)
    return LabellingServer(app, 0)
