"""Static assets: content-hashed names, precompressed once, cached for a year.

At start-up every file under `static/` is read once, hashed and compressed
(gzip, and brotli) in memory: the folder is small, and nothing generated is
written to disk. `static_url("css/app.css")` gives `/static/css/app.<hash>.css`,
served with `Cache-Control: public, max-age=31536000, immutable`: a changed
file gets a new name, so a phone never revalidates what it already holds. The
plain names are still served, with a short cache, for pages rendered before a
deploy. A request can only name a file found at start-up: there is no path
from a URL to the file system.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import brotli
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from intake.compression import choose_coding

STATIC_DIR = Path(__file__).resolve().parent / "static"
PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".txt", ".json", ".map", ".html", ".md"})
# Best effort both ways: this runs once per process, never per request.
_ENCODERS = {
    "br": lambda body: brotli.compress(body, quality=11),
    "gzip": lambda body: gzip.compress(body, compresslevel=9, mtime=0),
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".md": "text/markdown"}


@dataclass(frozen=True)
class Asset:
    """One file: its bytes as stored and each encoding that came out smaller."""

    media_type: str
    digest: str
    bodies: dict[str, bytes] = field(default_factory=dict)  # "identity", "gzip", "br"


def hashed_name(name: str, digest: str) -> str:
    """`css/app.css` -> `css/app.<digest>.css` (the hash goes before the last suffix)."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else f"{name}.{digest}"


def _media_type(path: Path) -> str:
    kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    kind = kind or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


def _load(path: Path) -> Asset:
    raw = path.read_bytes()
    bodies = {"identity": raw}
    if path.suffix in COMPRESSIBLE:
        for coding, encode in _ENCODERS.items():
            packed = encode(raw)
            if len(packed) < len(raw):
                bodies[coding] = packed
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return Asset(media_type=_media_type(path), digest=digest, bodies=bodies)


@dataclass(frozen=True)
class Manifest:
    """Plain name -> hashed name, and every servable name -> (asset, immutable?)."""

    urls: dict[str, str]
    served: dict[str, tuple[Asset, bool]]


@cache
def manifest(directory: Path = STATIC_DIR) -> Manifest:
    """Built once per process, for the folder as it was at start-up."""
    urls: dict[str, str] = {}
    served: dict[str, tuple[Asset, bool]] = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.relative_to(directory).as_posix()
        asset = _load(path)
        urls[name] = hashed_name(name, asset.digest)
        served[name] = (asset, False)
        served[urls[name]] = (asset, True)
    return Manifest(urls=urls, served=served)


def static_url(name: str) -> str:
    """The URL of a static file under its content-hashed name (a template helper)."""
    try:
        return PREFIX + manifest().urls[name]
    except KeyError:
        raise LookupError(f"no static file {name!r}") from None


class StaticAssets:
    """The ASGI app mounted at /static: GET and HEAD of the files found at start-up."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.manifest = manifest(directory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405)
        path = scope["path"]
        name = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
        found = self.manifest.served.get(name)
        if found is None:
            raise HTTPException(status_code=404)
        asset, immutable = found
        headers = Headers(scope=scope)
        coding = choose_coding(headers.get("accept-encoding"), tuple(asset.bodies)[1:])
        etag = f'"{asset.digest}-{coding}"'
        response_headers = {
            "Cache-Control": IMMUTABLE if immutable else SHORT,
            "Vary": "Accept-Encoding",
            "ETag": etag,
        }
        if coding != "identity":
            response_headers["Content-Encoding"] = coding
        if etag in (headers.get("if-none-match") or ""):
            response = Response(status_code=304, headers=response_headers)
        else:
            body = asset.bodies[coding]
            response = Response(body, media_type=asset.media_type, headers=response_headers)
            if scope["method"] == "HEAD":
                response.body = b""
        await response(scope, receive, send)
