"""Safe local names for Commons files: percent-encoded, no separators, bounded length."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote, unquote, urlsplit

# Leaves room below the usual 255-byte limit for the temp-file prefix and suffix.
MAX_NAME_CHARS = 180
READABLE_SUFFIXES = (".jpg", ".jpeg", ".png")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def commons_title(url_or_segment: str) -> str | None:
    """The file's title (spaces, not underscores) from a Special:FilePath or upload URL."""
    path = urlsplit(url_or_segment).path if "/" in url_or_segment else url_or_segment
    segment = path.rsplit("/", 1)[-1]
    title = unquote(segment).replace("_", " ")
    title = unicodedata.normalize("NFC", _CONTROL_RE.sub("", title)).strip()
    # A title is a single name: anything that still looks like a path is rejected.
    if not title or "/" in title or "\\" in title or title in {".", ".."}:
        return None
    return title


def is_readable_type(title: str) -> bool:
    """Whether the file name promises an image type the embedder reads (JPEG, PNG)."""
    return title.lower().endswith(READABLE_SUFFIXES)


def local_name(title: str) -> str:
    """Percent-encoded file name (`Jon%20Snow2.jpg`): separator-free, never hidden, bounded."""
    encoded = quote(title, safe="")
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    if len(encoded) <= MAX_NAME_CHARS:
        return encoded
    digest = hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]
    stem, dot, ext = encoded.rpartition(".")
    suffix = f".{ext}" if dot and len(ext) <= 10 else ""
    stem = stem if suffix else encoded
    keep = MAX_NAME_CHARS - len(suffix) - len(digest) - 1
    stem = re.sub(r"%[0-9A-F]?$", "", stem[:keep])  # never cut an escape in half
    return f"{stem}~{digest}{suffix}"


def filepath_url(base: str, title: str) -> str:
    """The Special:FilePath (or mirror) URL serving `title`."""
    return base.rstrip("/") + "/" + quote(title, safe="")
