"""The one reader of Commons credentials: token files (the `wcqsOauth` cookie), OAuth creds."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class OAuth1Credentials:
    """An OAuth 1.0a owner-only consumer: the four values Wikimedia's registration page shows."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_secret: str


OAUTH_CREDS_LAYOUT = (
    "expected the original's --oauth-creds layout: 8 lines, a label line then a value line "
    "for each of consumer token, consumer secret, access token, access secret"
)


def read_oauth_creds(path: str | Path) -> OAuth1Credentials:
    """The original's credentials file: every second line (2nd, 4th, 6th, 8th) is a value."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such OAuth credentials file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SkelshopError(path, "OAuth credentials file is not UTF-8 text") from None
    except OSError as err:
        raise SkelshopError(path, f"cannot read ({err.strerror})") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    # As the original read it: lines 1, 3, 5, 7 (0-based) hold the values, the others name them.
    values = [line.strip() for line in lines[1::2]]
    if len(values) != 4 or len(lines) != 8:
        raise SkelshopError(path, f"{OAUTH_CREDS_LAYOUT} (found {len(lines)} lines)")
    for lineno, value in zip((2, 4, 6, 8), values, strict=True):
        if not _VALUE_RE.fullmatch(value):
            raise SkelshopError(path, f"line {lineno}: not a credential value; {OAUTH_CREDS_LAYOUT}")
    return OAuth1Credentials(*values)
