"""Organisations (the installation administrator) and a supervisor's view of their
organisation's accounts: hand-overs of one-time passwords and account changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from intake import web
from intake.accounts import administration, service
from intake.accounts.models import OrganisationKind, User
from intake.deps import AccountsOverseer, DbSession, OrganisationAdmin
from intake.i18n import gettext as _

router = APIRouter()


def _organisations_page(
    request: Request,
    db: DbSession,
    *,
    errors: list[str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return web.render(
        request,
        "accounts/organisations.html",
        {
            "organisations": service.list_organisations(db=db),
            "kinds": [k.value for k in OrganisationKind],
            "errors": errors or [],
            "notice": notice,
        },
        status_code=status_code,
        block="content",
    )


@router.get("/admin/organisations")
def organisations_page(request: Request, db: DbSession, admin: OrganisationAdmin) -> Response:
    return _organisations_page(request, db)


@router.post("/admin/organisations")
def create_organisation(
    request: Request,
    db: DbSession,
    admin: OrganisationAdmin,
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = OrganisationKind.NGO.value,
) -> Response:
    try:
        org = administration.create_organisation(db=db, actor=admin, name=name, kind=kind)
    except service.AccountError as exc:
        db.rollback()
        return _organisations_page(request, db, errors=[str(exc)], status_code=422)
    return _organisations_page(
        request, db, notice=_("Organisation %(name)s created.", name=org.name)
    )


def _set_active(
    request: Request, db: DbSession, admin: User, organisation_id: str, *, active: bool
) -> Response:
    try:
        org = administration.find_organisation(db=db, organisation_id=organisation_id)
    except administration.NotManaged:
        raise HTTPException(status_code=404) from None
    try:
        administration.set_organisation_active(db=db, actor=admin, organisation=org, active=active)
    except service.AccountError as exc:
        return _organisations_page(request, db, errors=[str(exc)], status_code=422)
    notice = (
        _("%(name)s is active again; enable its users one by one.", name=org.name)
        if active
        else _("%(name)s is deactivated; its users are disabled and signed out.", name=org.name)
    )
    return _organisations_page(request, db, notice=notice)


@router.post("/admin/organisations/{organisation_id}/deactivate")
def deactivate_organisation(
    request: Request, db: DbSession, admin: OrganisationAdmin, organisation_id: str
) -> Response:
    return _set_active(request, db, admin, organisation_id, active=False)


@router.post("/admin/organisations/{organisation_id}/activate")
def activate_organisation(
    request: Request, db: DbSession, admin: OrganisationAdmin, organisation_id: str
) -> Response:
    return _set_active(request, db, admin, organisation_id, active=True)


# --- a supervisor's view of their organisation's accounts --------------------------


def _accounts_page(
    request: Request,
    db: DbSession,
    supervisor: User,
    *,
    handed_over: User | None = None,
    secret: str | None = None,
) -> Response:
    return web.render(
        request,
        "accounts/organisation_accounts.html",
        {
            "pending": administration.pending_handovers(db=db, supervisor=supervisor),
            "changes": administration.account_changes(db=db, supervisor=supervisor),
            "handed_over": handed_over,
            "secret": secret,
        },
        block="content",
    )


@router.get("/organisation/accounts")
def accounts_page(request: Request, db: DbSession, supervisor: AccountsOverseer) -> Response:
    return _accounts_page(request, db, supervisor)


@router.post("/organisation/accounts/{user_id}/hand-over")
def hand_over(
    request: Request, db: DbSession, supervisor: AccountsOverseer, user_id: str
) -> Response:
    try:
        user, secret = administration.hand_over(db=db, supervisor=supervisor, user_id=user_id)
    except administration.NotManaged:
        raise HTTPException(status_code=404) from None
    return _accounts_page(request, db, supervisor, handed_over=user, secret=secret)
