"""Starting an intake on the phone: consent first, then the intake form, then the case.

The fillings themselves are the form engine's pages (/fill/...); these routes
start an intake and say where it stands, including a consent that was refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from intake import web
from intake.accounts.models import User
from intake.cases import intake as intakes
from intake.db import DbSession
from intake.forms import rendering
from intake.forms import service as forms
from intake.security.permissions import Permission, require

router = APIRouter()

Filler = Annotated[User, Depends(require(Permission.CASES_CREATE))]
IntakeId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get("/intake/new")
def new_intake_page(request: Request, db: DbSession, user: Filler) -> Response:
    try:
        form = forms.form_to_start(db=db, form_key=intakes.CONSENT_FORM)
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    context = {
        # Made now, so a second tap on Start resumes the same intake.
        "client_id": forms.new_client_id(),
        "chosen": user.locale if user.locale in form.languages else form.default_language,
        "languages": rendering.language_choices(form),
    }
    return web.render(request, "cases/intake_new.html", context)


@router.post("/intake/new")
def start_intake(
    request: Request,
    db: DbSession,
    user: Filler,
    client_id: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{16,64}$")],
    language: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        intake = intakes.start_intake(
            db=db,
            settings=request.app.state.settings,
            user=user,
            consent_client_id=client_id,
            language=language or None,
        )
    except forms.FillingNotFound:
        raise HTTPException(status_code=404) from None
    step = intakes.step_of(db=db, intake=intake)
    return RedirectResponse(intakes.url_of(db=db, intake=intake, step=step), status_code=303)


@router.get("/intake/{intake_id}")
def intake_page(request: Request, db: DbSession, user: Filler, intake_id: IntakeId) -> Response:
    try:
        intake = intakes.get_intake(db=db, user=user, intake_id=intake_id)
    except intakes.IntakeNotFound:
        raise HTTPException(status_code=404) from None
    step = intakes.step_of(db=db, intake=intake)
    if step in ("consent", "intake", "done"):
        return RedirectResponse(intakes.url_of(db=db, intake=intake, step=step), status_code=303)
    return web.render(request, "cases/intake_step.html", {"intake": intake, "step": step})


@router.post("/intake/{intake_id}/continue")
def continue_intake(request: Request, db: DbSession, user: Filler, intake_id: IntakeId) -> Response:
    try:
        intake = intakes.get_intake(db=db, user=user, intake_id=intake_id)
        step = intakes.continue_intake(
            db=db, settings=request.app.state.settings, user=user, intake=intake
        )
    except (intakes.IntakeNotFound, forms.FillingNotFound):
        raise HTTPException(status_code=404) from None
    return RedirectResponse(intakes.url_of(db=db, intake=intake, step=step), status_code=303)
