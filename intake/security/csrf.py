"""CSRF defence: a token bound to the session, plus an Origin / Sec-Fetch-Site check.

The token is an HMAC of the session token (or, before sign-in, of a random
pre-session cookie), so it needs no storage, changes at every sign-in and is
worthless without the cookie it is bound to.

Each rendering masks it afresh (`mask || mask XOR token`, base64url), so the
bytes of the token differ in every response: a compressed page then reveals
nothing about it through its length (BREACH).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from fastapi import Request

from intake.config import Settings
from intake.security.sessions import cookie_name

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"

_DIGEST_BYTES = 32
# A masked token is 64 bytes in unpadded base64url: exactly 86 of these characters.
_MASKED = re.compile(r"[A-Za-z0-9_-]{86}")
# Cookie values we issue are secrets.token_urlsafe(32); anything else was not made by us.
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


def presession_cookie_name(settings: Settings) -> str:
    return "__Host-intake_pre" if settings.cookie_secure else "intake_pre"


def _sign(settings: Settings, purpose: str, value: str) -> bytes:
    message = f"{purpose}:{value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).digest()


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def _mask(token: bytes) -> str:
    mask = secrets.token_bytes(len(token))
    return base64.urlsafe_b64encode(mask + _xor(mask, token)).rstrip(b"=").decode("ascii")


def _unmask(submitted: str) -> bytes | None:
    """The token inside a masked one, or None for anything we could not have issued."""
    if not _MASKED.fullmatch(submitted):
        return None
    try:
        raw = base64.urlsafe_b64decode(submitted + "==")
    except (binascii.Error, ValueError):
        return None
    return _xor(raw[:_DIGEST_BYTES], raw[_DIGEST_BYTES:])


def _cookie(request: Request, name: str) -> str | None:
    # A cookie the browser was never given (non-ASCII, huge, empty) binds nothing.
    value = request.cookies.get(name)
    return value if value and _COOKIE_VALUE.fullmatch(value) else None


def _session_binding(request: Request, settings: Settings) -> tuple[str, str] | None:
    token = _cookie(request, cookie_name(settings))
    return ("session", token) if token else None


def _presession_binding(request: Request, settings: Settings) -> tuple[str, str] | None:
    value = getattr(request.state, "new_presession", None) or _cookie(
        request, presession_cookie_name(settings)
    )
    return ("presession", value) if value else None


def token_for(request: Request, settings: Settings) -> str:
    """The token to put in this response's forms; issues a pre-session cookie if needed.

    Signed-in pages bind it to the session; other pages (sign-in) to the
    pre-session cookie, so a stale session cookie never breaks signing in."""
    bound = None
    if getattr(request.state, "user", None) is not None:
        bound = _session_binding(request, settings)
    if bound is None:
        bound = _presession_binding(request, settings)
    if bound is None:
        request.state.new_presession = secrets.token_urlsafe(32)
        bound = ("presession", request.state.new_presession)
    return _mask(_sign(settings, *bound))


def origin_allowed(request: Request, settings: Settings) -> bool:
    """Refuse requests that a browser says come from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    # With `Referrer-Policy: no-referrer` browsers send `Origin: null` even for
    # our own forms, so "null" decides nothing; Sec-Fetch-Site and the token do.
    if origin and origin != "null":
        expected = settings.public_origin or f"{request.url.scheme}://{request.url.netloc}"
        return origin.rstrip("/") == expected.rstrip("/")
    return True


def verified_binding(request: Request, settings: Settings, submitted: str | None) -> str | None:
    """Which cookie `submitted` is bound to ("session" or "presession"), or None if neither.

    Routes that act for a signed-in user accept only the session binding (see
    permissions.require). Any text that is not a token we issue (non-ASCII,
    control characters, the wrong length) is simply refused."""
    token = _unmask(submitted) if isinstance(submitted, str) else None
    if token is None:
        return None
    for bound in (_session_binding(request, settings), _presession_binding(request, settings)):
        if bound is not None and hmac.compare_digest(_sign(settings, *bound), token):
            return bound[0]
    return None
