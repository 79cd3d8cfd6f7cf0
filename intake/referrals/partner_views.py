"""Partner team member pages: invite, approve or decline, remove, the partner's view, team notes.

Routes parse, call one function of intake.referrals.partners or partner_view and render.
A case or a membership the user may not act on is a 404 like a made-up id, audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import pass_context
from sqlalchemy.orm import Session

from intake import web
from intake.accounts.models import User
from intake.cases.access import CaseNotFound
from intake.cases.models import Case
from intake.cases.notes import may_read_sensitive
from intake.cases.rules import NotPermitted
from intake.db import DbSession, read_transaction
from intake.referrals import common, making, partner_view, partners
from intake.referrals.common import AlreadyAnswered, ReferralError
from intake.referrals.views import (
    incoming_page,
    reading,
    session_of,
    settings_of,
    visible_case_or_404,
)
from intake.security.permissions import Permission, require

router = APIRouter()

PartnersManager = Annotated[User, Depends(require(Permission.PARTNERS_MANAGE))]
CaseWorker = Annotated[User, Depends(require(Permission.CASES_VIEW))]


def _not_found(db: Session, user: User, object_id: str, action: str) -> HTTPException:
    common.refuse(
        db, actor=user, object_type="case", object_id=object_id, action=action, code="not_found"
    )
    return HTTPException(status_code=404)


def _new_page(
    request: Request,
    db: Session,
    case: Case,
    errors: list[str],
    status: int = 200,
    sent: bool = False,
) -> Response:
    with read_transaction(db):
        context = {
            "case": case,
            "organisations": making.recipient_organisations(db=db, case=case),
            "functions": partners.functions(),
            "errors": errors,
            "sent": sent,
        }
    return web.render(request, "referrals/partner_new.html", context, status_code=status)


@router.get("/cases/{case_id}/partners/new")
def new_partner(
    request: Request, db: DbSession, user: PartnersManager, case_id: str, sent: bool = False
) -> Response:
    case = visible_case_or_404(db, user, case_id, "partner.new")
    return _new_page(request, db, case, [], sent=sent)


@router.post("/cases/{case_id}/partners")
def invite(
    request: Request,
    db: DbSession,
    user: PartnersManager,
    case_id: str,
    organisation_id: Annotated[str, Form(max_length=64)] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    function: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    case = visible_case_or_404(db, user, case_id, "partner.invited")
    try:
        # The same answer whether or not the user name exists there (no enumeration).
        partners.invite(
            db=db,
            actor=user,
            case_id=case.id,
            organisation_id=organisation_id,
            username=username,
            function=function,
        )
    except ReferralError as error:
        return _new_page(request, db, case, [str(error)], status=422)
    return RedirectResponse(f"/cases/{case.id}/partners/new?sent=1", status_code=303)


def _answer(request: Request, db: Session, user: User, member_id: str, approve: bool) -> Response:
    action = "partner.approved" if approve else "partner.declined"
    try:
        partners.answer(db=db, actor=user, member_id=member_id, approve=approve)
    except partners.MemberNotFound:
        raise _not_found(db, user, member_id, action) from None
    except AlreadyAnswered as error:
        return incoming_page(request, db, user, [str(error)], status=409)
    return RedirectResponse("/referrals/incoming#partners", status_code=303)


@router.post("/partners/{member_id}/approve")
def approve(request: Request, db: DbSession, user: PartnersManager, member_id: str) -> Response:
    return _answer(request, db, user, member_id, approve=True)


@router.post("/partners/{member_id}/decline")
def decline(request: Request, db: DbSession, user: PartnersManager, member_id: str) -> Response:
    return _answer(request, db, user, member_id, approve=False)


@router.post("/partners/{member_id}/remove")
def remove(db: DbSession, user: PartnersManager, member_id: str) -> Response:
    try:
        member = partners.remove(db=db, actor=user, member_id=member_id)
    except (partners.MemberNotFound, CaseNotFound):
        raise _not_found(db, user, member_id, "partner.removed") from None
    except AlreadyAnswered:
        return RedirectResponse("/referrals/incoming", status_code=303)
    return RedirectResponse(f"/cases/{member.case_id}#partners", status_code=303)


@router.get("/partner/cases")
def partner_cases(request: Request, db: DbSession, user: CaseWorker) -> Response:
    with read_transaction(db):
        rows = partner_view.partner_cases(db=db, user=user)
    return web.render(request, "referrals/partner_cases.html", {"rows": rows})


def _partner_page(
    request: Request, db: Session, user: User, case_id: str, errors: list[str], status: int
) -> Response:
    try:
        page = partner_view.partner_page(
            db=db, settings=settings_of(request), user=user, case_id=case_id
        )
    except partners.MemberNotFound:
        raise _not_found(db, user, case_id, "partner.case_viewed") from None
    context = {"page": page, "errors": errors}
    return web.render(request, "referrals/partner_case.html", context, status_code=status)


@router.get("/partner/cases/{case_id}")
def partner_case(request: Request, db: DbSession, user: CaseWorker, case_id: str) -> Response:
    return _partner_page(request, db, user, case_id, [], 200)


@router.post("/cases/{case_id}/team-notes")
def add_team_note(
    request: Request,
    db: DbSession,
    user: CaseWorker,
    case_id: str,
    text: Annotated[str, Form(max_length=partner_view.MAX_TEAM_NOTE + 100)] = "",
) -> Response:
    try:
        back = partner_view.add_team_note(
            db=db, settings=settings_of(request), actor=user, case_id=case_id, text=text
        )
    except NotPermitted:
        raise _not_found(db, user, case_id, "partner.team_note_added") from None
    except partner_view.TeamNoteRefused as error:
        if error.as_partner:
            return _partner_page(request, db, user, case_id, [str(error)], 422)
        context = {"case_id": case_id, "errors": [str(error)]}
        return web.render(request, "referrals/note_refused.html", context, status_code=422)
    return RedirectResponse(back, status_code=303)


# --- what the case page shows (template globals) -----------------------------------------


@pass_context
def case_partners(context: Any, case: Case, user: User | None) -> dict[str, Any]:
    """The case page's partner members and team notes (for those with need to know)."""
    db = session_of(case)
    request = context.get("request")
    if db is None or user is None or request is None:
        return {"members": [], "notes": [], "may_read": False}

    def work() -> dict[str, Any]:
        allowed = may_read_sensitive(db=db, user=user, case=case)
        if not allowed:
            return {"members": [], "notes": [], "may_read": False}
        return {
            "members": partners.members_of(db=db, case=case),
            "notes": partner_view.team_notes(
                db=db, settings=request.app.state.settings, case_id=case.id
            ),
            "may_read": True,
        }

    found: dict[str, Any] = reading(db, work)
    return found


web.ENVIRONMENT.globals["case_partners"] = case_partners
web.ENVIRONMENT.globals["partner_status_label"] = partners.status_label
