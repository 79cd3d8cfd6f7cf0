"""External bodies (administrators) and safe-return referrals: register, refer, status, print.

Routes parse, call one function of intake.referrals.external and render. Printing the
summary needs a fresh proof of identity and is audited; the summary is in the body's
language. A case or a referral the user may not see is a 404, audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import web
from intake.accounts import reauth
from intake.accounts.models import User
from intake.cases.models import Case
from intake.db import DbSession, read_transaction
from intake.referrals import common, external
from intake.referrals.common import ReferralError
from intake.referrals.views import reading, session_of, settings_of, visible_case_or_404
from intake.security.permissions import Permission, has_permission, require

router = APIRouter()

BodiesManager = Annotated[User, Depends(require(Permission.EXTERNAL_BODIES_MANAGE))]
ReferralMaker = Annotated[User, Depends(require(Permission.REFERRALS_MAKE))]
FreshReferralMaker = Annotated[User, Depends(reauth.require_recent(Permission.REFERRALS_MAKE))]


# --- external bodies ----------------------------------------------------------------------


def _bodies_page(
    request: Request, db: Session, user: User, errors: list[str], status: int = 200
) -> Response:
    with read_transaction(db):
        rows = external.bodies(db=db, organisation_id=user.organisation_id)
    context = {
        "bodies": rows,
        "kinds": [(k, external.kind_label(k)) for k in external.KINDS],
        "body_kind_label": external.kind_label,
        "errors": errors,
    }
    return web.render(request, "referrals/external_bodies.html", context, status_code=status)


@router.get("/external-bodies")
def bodies(request: Request, db: DbSession, user: BodiesManager) -> Response:
    return _bodies_page(request, db, user, [])


@router.post("/external-bodies")
def register_body(
    request: Request,
    db: DbSession,
    user: BodiesManager,
    name: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    country: Annotated[str, Form(max_length=40)] = "",
    languages: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        external.register_body(
            db=db,
            actor=user,
            name=name,
            kind=kind,
            country=country,
            languages=languages,
            contact=contact,
        )
    except ReferralError as error:
        return _bodies_page(request, db, user, [str(error)], status=422)
    return RedirectResponse("/external-bodies", status_code=303)


@router.post("/external-bodies/{body_id}/active")
def set_body_active(
    db: DbSession,
    user: BodiesManager,
    body_id: str,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        external.set_body_active(db=db, actor=user, body_id=body_id, active=active == "1")
    except external.ReturnNotFound:
        raise _not_found(db, user, "external_body", body_id, "external_body.activated") from None
    return RedirectResponse("/external-bodies", status_code=303)


def _not_found(db: Session, user: User, kind: str, object_id: str, action: str) -> HTTPException:
    common.refuse(
        db, actor=user, object_type=kind, object_id=object_id, action=action, code="not_found"
    )
    return HTTPException(status_code=404)


# --- safe-return referrals ------------------------------------------------------------------


def _new_page(
    request: Request, db: Session, case: Case, errors: list[str], status: int = 200
) -> Response:
    with read_transaction(db):
        rows = external.bodies(db=db, organisation_id=case.organisation_id, active_only=True)
    context = {"case": case, "bodies": rows, "errors": errors}
    return web.render(request, "referrals/return_new.html", context, status_code=status)


@router.get("/cases/{case_id}/returns/new")
def new_return(request: Request, db: DbSession, user: ReferralMaker, case_id: str) -> Response:
    case = visible_case_or_404(db, user, case_id, "return_referral.new")
    return _new_page(request, db, case, [])


@router.post("/cases/{case_id}/returns")
def make_return(
    request: Request,
    db: DbSession,
    user: ReferralMaker,
    case_id: str,
    body_id: Annotated[str, Form(max_length=64)] = "",
    sending_contact: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    case = visible_case_or_404(db, user, case_id, "return_referral.sent")
    try:
        made = external.make_return(
            db=db, actor=user, case_id=case.id, body_id=body_id, sending_contact=sending_contact
        )
    except ReferralError as error:
        return _new_page(request, db, case, [str(error)], status=422)
    return RedirectResponse(f"/returns/{made.id}", status_code=303)


def _return_page(
    request: Request, db: Session, user: User, return_id: str, errors: list[str], status: int
) -> Response:
    try:
        with read_transaction(db):
            referral, case, body = external.get_visible_return(
                db=db, user=user, return_id=return_id
            )
    except external.ReturnNotFound:
        raise _not_found(db, user, "return_referral", return_id, "return_referral.viewed") from None
    context = {
        "referral": referral,
        "case": case,
        "body": body,
        "statuses": [(s, external.status_label(s)) for s in external.STATUSES],
        "return_status_label": external.status_label,
        "errors": errors,
    }
    return web.render(request, "referrals/return.html", context, status_code=status)


@router.get("/returns/{return_id}")
def return_page(request: Request, db: DbSession, user: ReferralMaker, return_id: str) -> Response:
    return _return_page(request, db, user, return_id, [], 200)


@router.post("/returns/{return_id}/status")
def record_status(
    request: Request,
    db: DbSession,
    user: ReferralMaker,
    return_id: str,
    status: Annotated[str, Form(max_length=20)] = "",
    follow_up_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        external.record_status(
            db=db, actor=user, return_id=return_id, status=status, follow_up_on=follow_up_on
        )
    except external.ReturnNotFound:
        raise _not_found(db, user, "return_referral", return_id, "return_referral.status") from None
    except ReferralError as error:
        return _return_page(request, db, user, return_id, [str(error)], 422)
    return RedirectResponse(f"/returns/{return_id}", status_code=303)


@router.get("/returns/{return_id}/summary")
def summary(request: Request, db: DbSession, user: FreshReferralMaker, return_id: str) -> Response:
    try:
        printed = external.summary(
            db=db, settings=settings_of(request), user=user, return_id=return_id
        )
    except external.ReturnNotFound:
        raise _not_found(
            db, user, "return_referral", return_id, "return_referral.printed"
        ) from None
    context = {"summary": printed, "locale": printed.language}
    return web.render(request, "referrals/return_summary.html", context)


# --- what the case page shows (template globals) -----------------------------------------


def case_returns(case: Case, user: User | None) -> list[tuple[object, str]]:
    """The case page's safe-return referrals (for those who may refer from it)."""
    db = session_of(case)
    if db is None or user is None or not has_permission(user, Permission.REFERRALS_MAKE):
        return []
    found: list[tuple[object, str]] = reading(
        db, lambda: list(external.returns_of_case(db=db, case=case))
    )
    return found


web.ENVIRONMENT.globals["case_returns"] = case_returns
web.ENVIRONMENT.globals["return_status_label"] = external.status_label
