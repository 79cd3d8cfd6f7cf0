"""Referral pages: refer from a case, the incoming list, one referral, answer, close.

Routes parse, call one function of intake.referrals (making, answering, queries, sharing)
and render. A case or a referral the user
may not see is a 404 like a made-up id, audited. A refused action shows its page again
with the reason (422, or 409 when someone else answered first).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import pass_context
from sqlalchemy.orm import Session, object_session

from intake import web
from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.models import Case
from intake.cases.rules import function_label
from intake.config import Settings
from intake.db import DbSession, read_transaction, utcnow, write_transaction
from intake.referrals import answering, common, making, partners, queries, sharing
from intake.referrals.common import AlreadyAnswered, ReferralError, ReferralNotFound
from intake.security.permissions import Permission, has_permission, require

router = APIRouter()

ReferralMaker = Annotated[User, Depends(require(Permission.REFERRALS_MAKE))]
ReferralAnswerer = Annotated[User, Depends(require(Permission.REFERRALS_ANSWER))]


def settings_of(request: Request) -> Settings:
    """The application's settings, for the referral pages."""
    settings: Settings = request.app.state.settings
    return settings


def visible_case_or_404(db: Session, user: User, case_id: str, action: str) -> Case:
    """The case if `user` may see it; else the request is audited and answered 404."""
    try:
        with read_transaction(db):
            return get_visible_case(db=db, user=user, case_id=case_id)
    except CaseNotFound:
        with write_transaction(db):
            audit.record(
                db=db,
                action=action,
                actor_id=user.id,
                object_type="case",
                object_id=case_id if len(case_id) <= 32 else "",
                outcome="refused",
                detail="not_found",
            )
        raise HTTPException(status_code=404) from None


def _referral(db: Session, user: User, referral_id: str, action: str) -> tuple[Any, str]:
    try:
        with read_transaction(db):
            return common.get_visible_referral(db=db, user=user, referral_id=referral_id)
    except ReferralNotFound:
        shown = referral_id if len(referral_id) <= 32 and referral_id.isalnum() else ""
        common.record_unseen(db=db, user=user, referral_id=shown, action=action)
        raise HTTPException(status_code=404) from None


# --- referring from a case --------------------------------------------------------------


def _new_page(
    request: Request, db: Session, user: User, case: Case, errors: list[str], status: int = 200
) -> Response:
    with read_transaction(db):
        context = {
            "case": case,
            "services": [(s, common.service_label(s)) for s in common.SERVICES],
            "organisations": making.recipient_organisations(db=db, case=case),
            "forms": making.shareable_forms(db=db, case=case),
            "errors": errors,
        }
    return web.render(request, "referrals/new.html", context, status_code=status)


@router.get("/cases/{case_id}/referrals/new")
def new_referral(request: Request, db: DbSession, user: ReferralMaker, case_id: str) -> Response:
    case = visible_case_or_404(db, user, case_id, "referral.new")
    return _new_page(request, db, user, case, [])


@router.post("/cases/{case_id}/referrals")
def make_referral(
    request: Request,
    db: DbSession,
    user: ReferralMaker,
    case_id: str,
    organisation_id: Annotated[str, Form(max_length=64)] = "",
    service_key: Annotated[str, Form(alias="service", max_length=64)] = "",
    forms: Annotated[list[str] | None, Form(max_length=64)] = None,
) -> Response:
    case = visible_case_or_404(db, user, case_id, "referral.sent")
    try:
        referral = making.make_referral(
            db=db,
            settings=settings_of(request),
            actor=user,
            case_id=case.id,
            to_organisation_id=organisation_id,
            service=service_key,
            form_keys=(forms or [])[:100],
        )
    except ReferralError as error:
        return _new_page(request, db, user, case, [str(error)], status=422)
    return RedirectResponse(f"/referrals/{referral.id}", status_code=303)


# --- the receiving organisation ------------------------------------------------------------


@router.get("/referrals/incoming")
def incoming(request: Request, db: DbSession, user: ReferralAnswerer) -> Response:
    return incoming_page(request, db, user, [])


def incoming_page(
    request: Request, db: Session, user: User, errors: list[str], status: int = 200
) -> Response:
    """The organisation's incoming referrals, transfers and invitations, with `errors` on top."""
    with read_transaction(db):
        rows = queries.incoming(
            db=db, user=user, answer_days=settings_of(request).referral_answer_days
        )
        moves = queries.organisation_transfers(db=db, user=user)
        invited = partners.invitations(db=db, user=user)
        names = common.organisation_names(
            db, {t.from_organisation_id for t in moves} | {t.to_organisation_id for t in moves}
        )
    context = {
        "referrals": rows,
        "transfers": moves,
        "invitations": invited,
        "organisation_names": names,
        "function_label": function_label,
        "errors": errors,
    }
    return web.render(request, "referrals/incoming.html", _labels(context), status_code=status)


def _labels(context: dict[str, Any]) -> dict[str, Any]:
    return {
        **context,
        "service_label": common.service_label,
        "status_label": common.status_label,
        "outcome_label": common.outcome_label,
    }


def _detail(
    request: Request,
    db: Session,
    user: User,
    referral_id: str,
    errors: list[str],
    status: int = 200,
) -> Response:
    settings = settings_of(request)
    with read_transaction(db):
        referral, side = common.get_visible_referral(db=db, user=user, referral_id=referral_id)
        now = utcnow()
        context = {
            "referral": referral,
            "side": side,
            "overdue": common.is_overdue(
                referral=referral, answer_days=settings.referral_answer_days, now=now
            ),
            "history": queries.history(db=db, settings=settings, referral=referral),
            "assignees": (
                answering.assignees(db=db, organisation_id=user.organisation_id)
                if side == "receiver"
                else []
            ),
            "may_answer": side == "receiver"
            and referral.status == common.SENT
            and has_permission(user, Permission.REFERRALS_ANSWER),
            "may_close": referral.status in answering.closable_by(side),
            "sender_case_link": side == "sender",
            "linked_case_link": side == "receiver" and referral.linked_case_id is not None,
            "errors": errors,
        }
    context["shared"] = sharing.shared_view(
        db=db, settings=settings, user=user, referral=referral, side=side
    )
    return web.render(request, "referrals/referral.html", _labels(context), status_code=status)


@router.get("/referrals/{referral_id}")
def referral_page(
    request: Request, db: DbSession, user: ReferralMaker, referral_id: str
) -> Response:
    _referral(db, user, referral_id, "referral.viewed")
    return _detail(request, db, user, referral_id, [])


def _refused(
    request: Request, db: Session, user: User, referral_id: str, error: ReferralError
) -> Response:
    status = 409 if isinstance(error, AlreadyAnswered) else 422
    return _detail(request, db, user, referral_id, [str(error)], status=status)


@router.post("/referrals/{referral_id}/accept")
def accept(
    request: Request,
    db: DbSession,
    user: ReferralAnswerer,
    referral_id: str,
    assignee_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    _referral(db, user, referral_id, "referral.accepted")
    try:
        answering.accept(db=db, actor=user, referral_id=referral_id, assignee_id=assignee_id)
    except ReferralNotFound:
        raise HTTPException(status_code=404) from None
    except ReferralError as error:
        return _refused(request, db, user, referral_id, error)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@router.post("/referrals/{referral_id}/decline")
def decline(
    request: Request,
    db: DbSession,
    user: ReferralAnswerer,
    referral_id: str,
    reason: Annotated[str, Form(max_length=common.MAX_REASON)] = "",
) -> Response:
    _referral(db, user, referral_id, "referral.declined")
    try:
        answering.decline(
            db=db, settings=settings_of(request), actor=user, referral_id=referral_id, reason=reason
        )
    except ReferralNotFound:
        raise HTTPException(status_code=404) from None
    except ReferralError as error:
        return _refused(request, db, user, referral_id, error)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@router.post("/referrals/{referral_id}/close")
def close(
    request: Request,
    db: DbSession,
    user: ReferralMaker,
    referral_id: str,
    outcome: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=common.MAX_REASON)] = "",
) -> Response:
    _referral(db, user, referral_id, "referral.closed")
    try:
        answering.close(
            db=db,
            settings=settings_of(request),
            actor=user,
            referral_id=referral_id,
            outcome=outcome,
            reason=reason,
        )
    except ReferralError as error:
        return _refused(request, db, user, referral_id, error)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


# --- what other pages show (template globals) -----------------------------------------------


def session_of(row: object) -> Session | None:
    try:
        return object_session(row)
    except Exception:  # a detached or foreign object: show nothing rather than fail a page
        return None


def reading(db: Session, work: Any) -> Any:
    # A transaction already open (the page's own) is used as it is; otherwise the lookup
    # runs in a read transaction of its own, which takes no write lock.
    if db.in_transaction():
        return work()
    with read_transaction(db):
        return work()


@pass_context
def case_referrals(context: Any, case: Case, user: User | None) -> list[queries.Summary]:
    """The case page's referrals (sent from it, or the one it was made for)."""
    db = session_of(case)
    if db is None or user is None:
        return []
    request = context.get("request")
    days = request.app.state.settings.referral_answer_days if request is not None else 5
    result: list[queries.Summary] = reading(
        db, lambda: queries.case_referrals(db=db, user=user, case=case, answer_days=days)
    )
    return result


def waiting_referrals(user: User | None) -> int:
    """How many referrals wait for the user's organisation (the navigation's count)."""
    db = session_of(user) if user is not None else None
    if db is None or user is None:
        return 0
    count: int = reading(db, lambda: queries.count_waiting(db=db, user=user))
    return count


web.ENVIRONMENT.globals["case_referrals"] = case_referrals
web.ENVIRONMENT.globals["waiting_referrals"] = waiting_referrals
web.ENVIRONMENT.globals["referral_service_label"] = common.service_label
web.ENVIRONMENT.globals["referral_status_label"] = common.status_label
web.ENVIRONMENT.globals["referral_outcome_label"] = common.outcome_label
