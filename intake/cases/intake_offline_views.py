"""Starting an intake on a phone without a connection: the blank pages it keeps, the
version that tells it when to fetch them again, and the door for the sealed intake."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, Response

from intake import web
from intake.cases import intake_offline
from intake.deps import DbSession, Filler, SettingsDep
from intake.filling import offline_views
from intake.filling import service as forms
from intake.filling.offline_pages import BLANK_ID
from intake.filling.offline_views import SealedRecord
from intake.filling.sealing import SealBroken
from intake.i18n import gettext as _

router = APIRouter()

StepName = Annotated[str, Path(max_length=20)]


@router.get("/offline/intake")
def start_pages(db: DbSession, user: Filler) -> Response:
    pages = intake_offline.start_pages(db=db, user=user, assets=offline_views.asset_version())
    return JSONResponse(pages)


@router.get("/offline/intake/{step}")
def start_page(
    request: Request, db: DbSession, settings: SettingsDep, user: Filler, step: StepName
) -> Response:
    try:
        view = intake_offline.start_page(db=db, settings=settings, user=user, step=step)
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    return web.render(request, "forms/offline.html", {"offline": view, "client_id": BLANK_ID})


@router.post("/offline/intake/records")
def receive_intake(
    db: DbSession, settings: SettingsDep, user: Filler, record: SealedRecord
) -> Response:
    try:
        received = intake_offline.receive_offline_intake(
            db=db, settings=settings, user=user, record=record
        )
    except forms.FillingNotFound:
        return JSONResponse({"state": "unknown", "message": _("Not found.")}, status_code=404)
    except SealBroken:
        message = _("This record cannot be opened here. Nothing was saved.")
        return JSONResponse({"state": "broken", "message": message}, status_code=400)
    return offline_views.answer(received)
