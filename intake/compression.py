"""Content negotiation by Accept-Encoding, and compressed HTML that resists BREACH.

BREACH reads a secret out of a compressed HTTPS response by making the
victim's browser request the page many times with guesses reflected into it,
and watching the response length on the wire. Two defences together:

- the CSRF token is masked afresh in every response (security/csrf.py), so
  there is no fixed token to guess;
- HTML is compressed only for requests the browser says came from one of our
  own pages or from the person (`Sec-Fetch-Site: same-origin` or `none`).
  A cross-site page cannot make such a request, so it cannot measure the
  compressed length of anything else in the page either (names, notes: the
  mask protects only the token). A browser that sends no Sec-Fetch-Site gets
  HTML uncompressed; static assets, which hold no secret, are compressed for
  everyone (static_assets.py).
"""

from __future__ import annotations

import gzip
import re

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CODING = re.compile(r"^\s*([A-Za-z0-9*_.+-]+)\s*(?:;\s*q\s*=\s*([0-9.]{1,6}))?\s*$")
# Per response, so fast settings: most of the gain at a fraction of the cost.
_HTML_ENCODERS = {
    "br": lambda body: brotli.compress(body, quality=5),
    "gzip": lambda body: gzip.compress(body, compresslevel=6, mtime=0),
}
SAME_SITE = frozenset({"same-origin", "none"})


def accepted_codings(header: str | None) -> dict[str, float]:
    """Accept-Encoding as {coding: weight}; a part that does not parse is ignored."""
    weights: dict[str, float] = {}
    for part in (header or "")[:1000].split(","):
        found = _CODING.match(part)
        if not found:
            continue
        try:
            weight = float(found.group(2)) if found.group(2) else 1.0
        except ValueError:
            continue
        weights[found.group(1).lower()] = min(max(weight, 0.0), 1.0)
    return weights


def choose_coding(header: str | None, available: tuple[str, ...] = ("br", "gzip")) -> str:
    """The first of `available` (our order of preference) the client accepts, or identity."""
    weights = accepted_codings(header)
    for coding in available:
        if weights.get(coding, weights.get("*", 0.0)) > 0:
            return coding
    return "identity"


class CompressHtml:
    """Compress HTML responses (see the module's note on BREACH); pass everything else through."""

    minimum_size = 500

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        coding = "identity"
        if scope["method"] != "HEAD" and headers.get("sec-fetch-site") in SAME_SITE:
            coding = choose_coding(headers.get("accept-encoding"))
        start: Message | None = None
        chunks: list[bytes] = []

        async def compressing_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                response = Headers(raw=message["headers"])
                html = response.get("content-type", "").startswith("text/html")
                if html and "content-encoding" not in response:
                    start = message  # held until the whole body is known
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._send_html(send, start, b"".join(chunks), coding)
                return
            await send(message)

        await self.app(scope, receive, compressing_send)

    async def _send_html(self, send: Send, start: Message, body: bytes, coding: str) -> None:
        response = MutableHeaders(scope=start)
        response.add_vary_header("Accept-Encoding")
        if coding != "identity" and len(body) >= self.minimum_size:
            body = _HTML_ENCODERS[coding](body)
            response["Content-Encoding"] = coding
            response["Content-Length"] = str(len(body))
        await send(start)
        await send({"type": "http.response.body", "body": body})
