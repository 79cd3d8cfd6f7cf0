"""The API tokens page of one's account: make a token (after re-authentication), see the
secret once, list and revoke one's tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import web
from intake.accounts import reauth, tokens
from intake.accounts.models import User
from intake.db import utcnow
from intake.deps import DbSession, OwnAccount
from intake.security.permissions import Permission

router = APIRouter()

FreshOwnAccount = Annotated[User, Depends(reauth.require_recent(Permission.OWN_ACCOUNT))]
PAGE = "/account/tokens"


def _page(
    request: Request,
    db: Session,
    user: User,
    *,
    errors: list[str] | None = None,
    issued: tokens.Issued | None = None,
    status_code: int = 200,
    asked: Mapping[str, object] | None = None,
) -> Response:
    now = utcnow()
    listed = [
        {"token": t, "live": tokens.is_live(t, now), "scopes": t.scopes.split()}
        for t in tokens.list_tokens(db=db, user=user)
    ]
    context = {
        "errors": errors or [],
        "issued": issued,
        "tokens": listed,
        "scopes": [(s, tokens.scope_label(s)) for s in tokens.scopes_for(user)],
        "scope_label": tokens.scope_label,
        "lifetimes": tokens.LIFETIMES_DAYS,
        "asked": asked or {},
    }
    return web.render(request, "accounts/tokens.html", context, status_code=status_code)


@router.get(PAGE)
def tokens_page(request: Request, db: DbSession, user: OwnAccount) -> Response:
    return _page(request, db, user)


@router.post(PAGE)
def create_token(
    request: Request,
    db: DbSession,
    user: FreshOwnAccount,
    name: Annotated[str, Form(max_length=400)] = "",
    scopes: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006 - FastAPI copies it
    days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    asked = {"name": name, "scopes": scopes, "days": days}
    try:
        issued = tokens.create_token(
            db=db,
            user=user,
            name=name,
            scopes=scopes,
            days=int(days) if days.isdigit() else 0,
        )
    except tokens.TokenError as exc:
        return _page(request, db, user, errors=[str(exc)], status_code=422, asked=asked)
    return _page(request, db, user, issued=issued, status_code=201)


@router.post(PAGE + "/{token_id}/revoke")
def revoke_token(request: Request, db: DbSession, user: OwnAccount, token_id: str) -> Response:
    try:
        tokens.revoke_token(db=db, user=user, token_id=token_id)
    except tokens.TokenNotFound:
        raise HTTPException(status_code=404) from None
    return RedirectResponse(PAGE, status_code=303)
