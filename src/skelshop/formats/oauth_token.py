"""The one reader of Commons query service token files (the `wcqsOauth` cookie value)."""

from __future__ import annotations

import re
from pathlib import Path

from skelshop.errors import SkelshopError

COOKIE_NAME = "wcqsOauth"
_VALUE_RE = re.compile(r"[A-Za-z0-9._~+/=-]{8,4096}")


def read_token_file(path: str | Path) -> str:
    """The token: the first line that is not blank or a `#` comment, `wcqsOauth=` optional."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such token file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SkelshopError(path, "token file is not UTF-8 text") from None
    for line in text.splitlines():
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        if token.startswith(COOKIE_NAME + "="):
            token = token[len(COOKIE_NAME) + 1:]
        if not _VALUE_RE.fullmatch(token):
            raise SkelshopError(path, f"the token must be the {COOKIE_NAME} cookie value on one line")
        return token
    raise SkelshopError(path, "token file is empty")
