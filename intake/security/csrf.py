"""CSRF defence: a token bound to the session, plus an Origin / Sec-Fetch-Site check.

The token is an HMAC of the session token (or, before sign-in, of a random
pre-session cookie), so it needs no storage, changes at every sign-in and is
worthless without the cookie it is bound to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from intake.config import Settings
from intake.security.sessions import cookie_name

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


def presession_cookie_name(settings: Settings) -> str:
    return "__Host-intake_pre" if settings.cookie_secure else "intake_pre"


def _sign(settings: Settings, purpose: str, value: str) -> str:
    message = f"{purpose}:{value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _session_binding(request: Request, settings: Settings) -> tuple[str, str] | None:
    token = request.cookies.get(cookie_name(settings))
    return ("session", token) if token else None


def _presession_binding(request: Request, settings: Settings) -> tuple[str, str] | None:
    value = getattr(request.state, "new_presession", None) or request.cookies.get(
        presession_cookie_name(settings)
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
    return _sign(settings, *bound)


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
    permissions.require)."""
    if not submitted:
        return None
    for bound in (_session_binding(request, settings), _presession_binding(request, settings)):
        if bound is not None and hmac.compare_digest(_sign(settings, *bound), submitted):
            return bound[0]
    return None
