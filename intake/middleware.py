"""Pure ASGI middleware: response headers, body size cap, request locale.

Pure ASGI (not BaseHTTPMiddleware) so context variables set here reach the
routes, and a body over the cap is refused while it streams in.
"""

from __future__ import annotations

import asyncio
import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake import db, i18n

LANGUAGE_COOKIE = "intake_lang"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


class SecurityHeaders:
    """Strict headers on every response; nothing authenticated is ever cached."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                headers["X-Frame-Options"] = "DENY"
                if is_static:
                    headers.setdefault("Cache-Control", "public, max-age=3600")
                else:
                    headers["Cache-Control"] = "no-store"
                    headers["Pragma"] = "no-cache"
                if self.hsts or scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413, whether declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(scope, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await _too_large(scope, send)


class BodyTooLarge(Exception):
    """The request body passed the cap while streaming."""


async def _too_large(scope: Scope, send: Send) -> None:
    locale = _locale_from_scope(scope)
    i18n.set_locale(locale)
    message = i18n.gettext("The data sent is too large. Nothing was saved.")
    body, content_type = _body_for(scope, "too_large", message)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _body_for(scope: Scope, code: str, message: str) -> tuple[bytes, bytes]:
    """Plain text, or the JSON error body of the API (intake.api.errors) under /api/v1."""
    path = scope.get("path", "")
    if path == "/api/v1" or path.startswith("/api/v1/"):
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        return body, b"application/json"
    return message.encode(), b"text/plain; charset=utf-8"


def _locale_from_scope(scope: Scope) -> str:
    headers = Headers(scope=scope)
    cookies = _parse_cookies(headers.get("cookie", ""))
    chosen = cookies.get(LANGUAGE_COOKIE)
    if chosen in i18n.SUPPORTED_LOCALES:
        return chosen
    return i18n.negotiate(headers.get("accept-language")) or i18n.DEFAULT_LOCALE


def _parse_cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            cookies[name] = value
    return cookies


class RequestLocale:
    """Set the reader's locale for this request: switcher cookie, then Accept-Language.
    A signed-in user's own preference is applied later, by the permission dependency."""

    def __init__(self, app: ASGIApp, *, timezone: str) -> None:
        self.app = app
        self.timezone = timezone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            i18n.set_locale(_locale_from_scope(scope))
            i18n.set_timezone(self.timezone)
        await self.app(scope, receive, send)


class WriteDiscipline:
    """The request side of the one write discipline (the database side is intake.db).

    A state-changing request marks its intent, so its transaction takes SQLite's write
    lock up front (BEGIN IMMEDIATE) for that transaction only: never while its body is
    read, its password hashed or its page rendered. A request that cannot have the lock
    (or, on PostgreSQL, a connection) within the bound is answered 503 with Retry-After;
    so is any request beyond the in-flight cap, at once, instead of queueing without end.
    A reading request that met a busy database (it wrote an audit row after reading
    while another transaction committed) has sent and changed nothing, and is run again.
    """

    read_attempts = 4

    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await _busy(scope, send)
            return
        reading = scope["method"] in ("GET", "HEAD")
        token = db.write_intent.set(not reading)
        self.in_flight += 1
        try:
            await self._run(scope, receive, send, attempts=self.read_attempts if reading else 1)
        finally:
            self.in_flight -= 1
            db.write_intent.reset(token)

    async def _run(self, scope: Scope, receive: Receive, send: Send, *, attempts: int) -> None:
        for attempt in range(1, attempts + 1):
            started = False

            async def tracking_send(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, receive, tracking_send)
                return
            except Exception as exc:
                if started or not db.is_busy_error(exc):
                    raise
                if attempt == attempts:
                    await _busy(scope, send)
                    return
            await asyncio.sleep(0.05 * attempt)


async def _busy(scope: Scope, send: Send) -> None:
    i18n.set_locale(_locale_from_scope(scope))
    message = i18n.gettext("The server is busy. Nothing was changed. Try again in a moment.")
    body, content_type = _body_for(scope, "busy", message)
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"2"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def client_address(scope: Scope) -> str:
    """The peer address as the server sees it (a proxy's own headers are handled by uvicorn)."""
    client = scope.get("client")
    return client[0] if client else "unknown"
