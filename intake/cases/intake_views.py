"""Starting an intake on the phone: consent first, then the intake form, then the case.

The fillings themselves are the filling domain's pages (/fill/...); these routes
start an intake and say where it stands, including a consent that was refused.
CaseFillingHooks answers what those pages ask about a case or an intake: the
intake form's review and submission (which opens the case) are decided here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import web
from intake.accounts.models import User
from intake.cases import case_forms
from intake.cases import intake as intakes
from intake.config import Settings
from intake.deps import DbSession, Filler, SettingsDep
from intake.filling import hooks
from intake.filling import service as forms
from intake.filling.drafts import Filling
from intake.filling.models import Submission
from intake.forms import rendering

router = APIRouter()


class CaseFillingHooks(hooks.Hooks):
    """Fillings that belong to a case or to an intake, as the filling routes meet them."""

    def may_fill_in_case(self, *, db: Session, user: User, case_id: str) -> bool:
        return case_forms.may_fill_in_case(db=db, user=user, case_id=case_id)

    def review_overlaps(
        self, *, db: Session, settings: Settings, user: User, filling: Filling
    ) -> Any:
        return intakes.review_overlaps(db=db, settings=settings, user=user, filling=filling)

    def submit(
        self,
        *,
        db: Session,
        settings: Settings,
        user: User,
        client_id: str,
        reviewed: str,
        confirmed_new: bool,
    ) -> str | None:
        intake = intakes.intake_of_filling(db=db, user=user, client_id=client_id)
        if intake is not None:
            # The intake form opens the case in the same transaction as its submission.
            try:
                opened = intakes.submit_intake(
                    db=db,
                    settings=settings,
                    user=user,
                    intake=intake,
                    reviewed=reviewed,
                    confirmed_new=confirmed_new,
                )
            except intakes.OverlapUnconfirmed as exc:
                raise hooks.ReviewAgain(str(exc)) from None
            return f"/cases/{opened.case.id}"
        case_id = case_forms.case_of_draft(db=db, user=user, client_id=client_id)
        if case_id is None:
            return None
        case_forms.submit_case_form(
            db=db,
            settings=settings,
            user=user,
            case_id=case_id,
            client_id=client_id,
            reviewed=reviewed,
        )
        return f"/cases/{case_id}"

    def after_submission(
        self, *, db: Session, settings: Settings, user: User, submission: Submission
    ) -> str | None:
        return intakes.after_submission(db=db, settings=settings, user=user, submission=submission)

    def next_url(self, *, db: Session, user: User, submission: Submission) -> str | None:
        return intakes.next_url(db=db, user=user, submission=submission)

    def case_stage(self, *, db: Session, case_id: str) -> str | None:
        return case_forms.case_stage(db=db, case_id=case_id)


hooks.install(CaseFillingHooks())

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
    settings: SettingsDep,
    user: Filler,
    client_id: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{16,64}$")],
    language: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        intake = intakes.start_intake(
            db=db,
            settings=settings,
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
def continue_intake(
    request: Request, db: DbSession, settings: SettingsDep, user: Filler, intake_id: IntakeId
) -> Response:
    try:
        intake = intakes.get_intake(db=db, user=user, intake_id=intake_id)
        step = intakes.continue_intake(db=db, settings=settings, user=user, intake=intake)
    except (intakes.IntakeNotFound, forms.FillingNotFound):
        raise HTTPException(status_code=404) from None
    return RedirectResponse(intakes.url_of(db=db, intake=intake, step=step), status_code=303)
