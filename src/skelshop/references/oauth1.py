"""OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as the original buildrefs used for Commons.

The original signed its Commons query service requests with an owner-only OAuth consumer
(oauthlib's `Client(consumer key, consumer secret, access token, access secret)`); this is the
same signature, done with the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from skelshop.formats.oauth_token import OAuth1Credentials

FORM = "application/x-www-form-urlencoded"


def _enc(text: str) -> str:
    """RFC 3986 percent-encoding: only unreserved characters stay."""
    return quote(text, safe="~")


def base_string_uri(url: str) -> str:
    """Scheme and host in lower case, default ports dropped, no query (RFC 5849 3.4.1.2)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and not ((scheme == "http" and port == 80)
                                 or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def signature_base_string(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """METHOD&uri&normalised-parameters (RFC 5849 3.4.1)."""
    normalised = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    return "&".join((method.upper(), _enc(base_string_uri(url)), _enc(normalised)))


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    """Base64 HMAC-SHA1 of the base string keyed with both secrets."""
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha1).digest()).decode()


def authorization_header(creds: OAuth1Credentials, method: str, url: str,
                         body_params: list[tuple[str, str]], nonce: str | None = None,
                         timestamp: int | None = None) -> str:
    """The `Authorization: OAuth ...` value for one request."""
    oauth = {
        "oauth_consumer_key": creds.consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_token": creds.access_token,
        "oauth_version": "1.0",
    }
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    base = signature_base_string(method, url, [*query, *body_params, *oauth.items()])
    oauth["oauth_signature"] = hmac_sha1_signature(base, creds.consumer_secret,
                                                   creds.access_secret)
    return "OAuth " + ", ".join(f'{k}="{_enc(v)}"' for k, v in sorted(oauth.items()))


class OAuth1Signer(requests.auth.AuthBase):
    """Signs each request (form bodies included) with the consumer and access credentials."""

    def __init__(self, creds: OAuth1Credentials):
        self.creds = creds

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the Authorization header."""
        body_params: list[tuple[str, str]] = []
        ctype = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == FORM and request.body:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
            body_params = parse_qsl(body, keep_blank_values=True)
        request.headers["Authorization"] = authorization_header(
            self.creds, request.method or "GET", request.url or "", body_params)
        return request
