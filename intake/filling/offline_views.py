"""The phone in the field: the installable app's files, a filling for offline use, the
server's sealing key, the per-device key, the outbox page and the door for sealed records.

The service worker and the manifest are served from the site root (a worker controls
only pages under its own path) and are public: they hold no data, only the shell.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from intake import web
from intake.deps import DbSession, Filler, SettingsDep
from intake.filling import offline, offline_pages
from intake.filling import service as forms
from intake.filling.sealing import SealBroken, active_key
from intake.filling.views import ClientId
from intake.i18n import gettext as _
from intake.security import csrf
from intake.security.permissions import Public
from intake.static_assets import STATIC_DIR, manifest, static_url

router = APIRouter()

DeviceId = Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
# What the service worker keeps for offline use: the shell's assets, by hashed name.
PRECACHE = (
    "css/app.css",
    "css/forms.css",
    "vendor/htmx-2.0.11.min.js",
    "js/expr.js",
    "js/form.js",
    "js/offline-store.js",
    "js/offline-form.js",
    "js/outbox.js",
    "js/app-shell.js",
)
STATUS = {"submitted": 200, "attention": 422, "conflict": 409}


def asset_version() -> str:
    """The worker's version: a new one whenever an asset it keeps changes."""
    urls = manifest().urls
    return "-".join(urls[name].rsplit(".", 2)[-2] for name in PRECACHE)[:64]


@router.get("/sw.js", dependencies=[Public])
def service_worker() -> Response:
    body = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    config = {"version": asset_version(), "assets": [static_url(name) for name in PRECACHE]}
    # The list rides in the script itself: the worker's bytes change with every release.
    text = "var INTAKE_PRECACHE = " + json.dumps(config) + ";\n" + body
    return Response(
        text,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/manifest.webmanifest", dependencies=[Public])
def web_manifest() -> Response:
    data = {
        "name": "intake",
        "short_name": "intake",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": [{"src": static_url("icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(
        json.dumps(data),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/fill/{client_id}/offline")
def offline_page(
    request: Request, db: DbSession, settings: SettingsDep, user: Filler, client_id: ClientId
) -> Response:
    try:
        filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    view = offline_pages.offline_filling(db=db, settings=settings, user=user, filling=filling)
    return web.render(request, "forms/offline.html", {"offline": view, "client_id": client_id})


@router.get("/offline/key")
def sealing_key(request: Request, db: DbSession, settings: SettingsDep, user: Filler) -> Response:
    key = active_key(db=db, settings=settings)
    # The token lets the service worker send the outbox in the background (Background Sync).
    body = {
        "kid": key.key_id,
        "key": key.public_key,
        "owner": user.id,
        "csrf": csrf.token_for(request, settings),
    }
    return JSONResponse(body)


@router.get("/offline/device-key")
def device_key(settings: SettingsDep, user: Filler, device: DeviceId) -> Response:
    key = offline_pages.device_key(settings=settings, user=user, device=device)
    return JSONResponse({"key": base64.b64encode(key).decode("ascii"), "owner": user.id})


@router.get("/outbox")
def outbox_page(request: Request, user: Filler) -> Response:
    return web.render(request, "outbox.html", {"owner": user.id})


async def _record(request: Request) -> Any:
    """The posted JSON (read on the event loop, before any transaction); a broken one is 400."""
    # Only JSON: a form's body was read already (its CSRF field), and is no record anyway.
    if request.headers.get("content-type", "").partition(";")[0].strip() != "application/json":
        raise HTTPException(status_code=415)
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(status_code=400) from None


SealedRecord = Annotated[Any, Depends(_record)]


@router.post("/offline/records")
def receive_record(
    db: DbSession, settings: SettingsDep, user: Filler, record: SealedRecord
) -> Response:
    try:
        received = offline.receive_sealed(db=db, settings=settings, user=user, record=record)
    except forms.FillingNotFound:
        return JSONResponse({"state": "unknown", "message": _("Not found.")}, status_code=404)
    except SealBroken:
        message = _("This record cannot be opened here. Nothing was saved.")
        return JSONResponse({"state": "broken", "message": message}, status_code=400)
    return answer(received)


def answer(received: offline.Received) -> JSONResponse:
    """What the phone's outbox hears about a record: its state, where to look, a message."""
    body = {"state": received.state, "url": received.url, "message": received.message}
    return JSONResponse(body, status_code=STATUS[received.state])
