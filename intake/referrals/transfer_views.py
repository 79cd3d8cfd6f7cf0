"""Transfer pages: offer a case to another organisation, the stub both sides see, answer.

Routes parse, call one function of intake.referrals.transfers and render. Offering a
transfer needs a fresh proof of identity (intake.accounts.reauth). A case or a transfer the
user may not see is a 404 like a made-up id, audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import web
from intake.accounts import reauth
from intake.accounts.models import User
from intake.cases.models import Case
from intake.db import DbSession, read_transaction
from intake.referrals import answering, common, making, queries, transfers
from intake.referrals.common import AlreadyAnswered, ReferralError
from intake.referrals.views import reading, session_of, settings_of, visible_case_or_404
from intake.security.permissions import Permission, require

router = APIRouter()

Transferer = Annotated[User, Depends(require(Permission.CASES_TRANSFER))]
FreshTransferer = Annotated[User, Depends(reauth.require_recent(Permission.CASES_TRANSFER))]


def _new_page(
    request: Request, db: Session, case: Case, errors: list[str], status: int = 200
) -> Response:
    with read_transaction(db):
        context = {
            "case": case,
            "organisations": making.recipient_organisations(db=db, case=case),
            "errors": errors,
        }
    return web.render(request, "referrals/transfer_new.html", context, status_code=status)


@router.get("/cases/{case_id}/transfer")
def new_transfer(request: Request, db: DbSession, user: FreshTransferer, case_id: str) -> Response:
    case = visible_case_or_404(db, user, case_id, "transfer.new")
    return _new_page(request, db, case, [])


@router.post("/cases/{case_id}/transfer")
def make_transfer(
    request: Request,
    db: DbSession,
    user: FreshTransferer,
    case_id: str,
    organisation_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    case = visible_case_or_404(db, user, case_id, "transfer.sent")
    try:
        transfer = transfers.make_transfer(
            db=db, actor=user, case_id=case.id, to_organisation_id=organisation_id
        )
    except ReferralError as error:
        return _new_page(request, db, case, [str(error)], status=422)
    return RedirectResponse(f"/transfers/{transfer.id}", status_code=303)


def _transfer_or_404(db: Session, user: User, transfer_id: str, action: str) -> Any:
    try:
        with read_transaction(db):
            return transfers.get_visible_transfer(db=db, user=user, transfer_id=transfer_id)
    except transfers.TransferNotFound:
        common.refuse(
            db,
            actor=user,
            object_type="transfer",
            object_id=transfer_id if transfer_id.isalnum() else "",
            action=action,
            code="not_found",
        )
        raise HTTPException(status_code=404) from None


def _page(
    request: Request, db: Session, user: User, transfer_id: str, errors: list[str], status: int
) -> Response:
    with read_transaction(db):
        transfer, side = transfers.get_visible_transfer(db=db, user=user, transfer_id=transfer_id)
        names = common.organisation_names(
            db, {transfer.from_organisation_id, transfer.to_organisation_id}
        )
        may_answer = side == "receiver" and transfer.status == transfers.SENT
        context = {
            "transfer": transfer,
            "side": side,
            "from_name": names.get(transfer.from_organisation_id, ""),
            "to_name": names.get(transfer.to_organisation_id, ""),
            "status_label": transfers.status_label,
            "reason": transfers.decline_reason(settings=settings_of(request), transfer=transfer),
            "may_answer": may_answer,
            "assignees": (
                answering.assignees(db=db, organisation_id=user.organisation_id)
                if may_answer
                else []
            ),
            # A link to the case for whoever holds it: the sender until it is accepted.
            "case_link": (side == "receiver") == (transfer.status == transfers.ACCEPTED),
            "errors": errors,
        }
    return web.render(request, "referrals/transfer.html", context, status_code=status)


@router.get("/transfers/{transfer_id}")
def transfer_page(request: Request, db: DbSession, user: Transferer, transfer_id: str) -> Response:
    _transfer_or_404(db, user, transfer_id, "transfer.viewed")
    return _page(request, db, user, transfer_id, [], 200)


def _refused(
    request: Request, db: Session, user: User, transfer_id: str, error: ReferralError
) -> Response:
    status = 409 if isinstance(error, AlreadyAnswered) else 422
    return _page(request, db, user, transfer_id, [str(error)], status)


@router.post("/transfers/{transfer_id}/accept")
def accept_transfer(
    request: Request,
    db: DbSession,
    user: Transferer,
    transfer_id: str,
    assignee_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    _transfer_or_404(db, user, transfer_id, "transfer.accepted")
    try:
        transfers.accept_transfer(
            db=db,
            settings=settings_of(request),
            actor=user,
            transfer_id=transfer_id,
            assignee_id=assignee_id,
        )
    except transfers.TransferNotFound:
        raise HTTPException(status_code=404) from None
    except ReferralError as error:
        return _refused(request, db, user, transfer_id, error)
    return RedirectResponse(f"/transfers/{transfer_id}", status_code=303)


@router.post("/transfers/{transfer_id}/decline")
def decline_transfer(
    request: Request,
    db: DbSession,
    user: Transferer,
    transfer_id: str,
    reason: Annotated[str, Form(max_length=common.MAX_REASON)] = "",
) -> Response:
    _transfer_or_404(db, user, transfer_id, "transfer.declined")
    try:
        transfers.decline_transfer(
            db=db,
            settings=settings_of(request),
            actor=user,
            transfer_id=transfer_id,
            reason=reason,
        )
    except transfers.TransferNotFound:
        raise HTTPException(status_code=404) from None
    except ReferralError as error:
        return _refused(request, db, user, transfer_id, error)
    return RedirectResponse(f"/transfers/{transfer_id}", status_code=303)


# --- what other pages show (template globals) -----------------------------------------------


def case_transfers(case: Case, user: User | None) -> list[Any]:
    """The case page's transfers (the case's organisation's supervisors only)."""
    db = session_of(case)
    if db is None or user is None:
        return []
    found: list[Any] = reading(db, lambda: queries.transfers_of_case(db=db, user=user, case=case))
    return found


web.ENVIRONMENT.globals["case_transfers"] = case_transfers
web.ENVIRONMENT.globals["transfer_status_label"] = transfers.status_label
