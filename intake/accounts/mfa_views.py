"""The code step of signing in, one's own second factor, re-authentication, and an
administrator's reset of a lost device."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from intake import web
from intake.accounts import administration, mfa, reauth, signin
from intake.accounts.models import Role, User
from intake.db import DbSession, read_transaction
from intake.deps import OwnAccount, UserAdmin
from intake.i18n import gettext as _
from intake.middleware import client_address
from intake.security import sessions
from intake.security.permissions import Permission, Public

router = APIRouter()

FreshOwnAccount = Annotated[User, Depends(reauth.require_recent(Permission.OWN_ACCOUNT))]
FreshUserAdmin = Annotated[User, Depends(reauth.require_recent(Permission.USERS_MANAGE))]


def challenge_cookie_name(request: Request) -> str:
    """The cookie of a sign-in waiting for its code (`__Host-` over HTTPS)."""
    secure = request.app.state.settings.cookie_secure
    return "__Host-intake_mfa" if secure else "intake_mfa"


def set_challenge_cookie(request: Request, response: Response, token: str) -> None:
    """Hand the browser the challenge of a password accepted, a code owed."""
    response.set_cookie(
        challenge_cookie_name(request),
        token,
        httponly=True,
        secure=request.app.state.settings.cookie_secure,
        samesite="lax",
        path="/",
        max_age=int(mfa.CHALLENGE_LIFETIME.total_seconds()),
    )


def _drop_challenge_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        challenge_cookie_name(request),
        httponly=True,
        secure=request.app.state.settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def _code_page(
    request: Request, db: DbSession, *, failed: bool = False, status_code: int = 200
) -> Response:
    token = request.cookies.get(challenge_cookie_name(request))
    settings = request.app.state.settings
    with_enrolment = mfa.challenge_enrolment(db=db, settings=settings, token=token)
    return web.render(
        request,
        "accounts/mfa_code.html",
        {"enrolment": with_enrolment, "failed": failed, "user": None},
        status_code=status_code,
    )


@router.get("/login/code", dependencies=[Public])
def code_page(request: Request, db: DbSession) -> Response:
    token = request.cookies.get(challenge_cookie_name(request))
    with read_transaction(db):
        found = mfa.find_challenge(db=db, token=token)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    return _code_page(request, db)


@router.post("/login/code", dependencies=[Public])
def submit_code(
    request: Request, db: DbSession, code: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    settings = request.app.state.settings
    answer = signin.answer_code(
        db=db,
        settings=settings,
        token=request.cookies.get(challenge_cookie_name(request)),
        code=code,
        client_address=client_address(request.scope),
    )
    if answer.start_over:
        again = web.render(
            request,
            "accounts/login.html",
            {"failed": True, "username": "", "user": None},
            status_code=401,
        )
        _drop_challenge_cookie(request, again)
        return again
    if answer.session_token is None or answer.user is None:
        return _code_page(request, db, failed=True, status_code=401)
    target = "/account/password" if answer.user.must_change_password else "/"
    response: Response
    if answer.recovery_codes:
        response = web.render(
            request,
            "accounts/mfa_recovery_codes.html",
            {"codes": answer.recovery_codes, "next": target, "user": None},
        )
    else:
        response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        sessions.cookie_name(settings),
        answer.session_token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    _drop_challenge_cookie(request, response)
    return response


# --- one's own second factor ------------------------------------------------------------


def _account_page(
    request: Request,
    db: DbSession,
    user: User,
    *,
    errors: list[str] | None = None,
    notice: str | None = None,
    codes: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    return web.render(
        request,
        "accounts/mfa_account.html",
        {
            "enrolled": user.totp_secret is not None,
            "required": mfa.required(user, settings),
            "pending": mfa.pending_enrolment(settings=settings, user=user),
            "left": mfa.unused_recovery_codes(db=db, user=user),
            "codes": codes,
            "errors": errors or [],
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/account/mfa")
def account_mfa(request: Request, db: DbSession, user: OwnAccount) -> Response:
    return _account_page(request, db, user)


@router.post("/account/mfa/start")
def start_enrolment(request: Request, db: DbSession, user: OwnAccount) -> Response:
    try:
        mfa.start_own_enrolment(db=db, settings=request.app.state.settings, user=user)
    except mfa.MfaError as exc:
        return _account_page(request, db, user, errors=[str(exc)], status_code=422)
    return RedirectResponse("/account/mfa", status_code=303)


@router.post("/account/mfa/confirm")
def confirm_enrolment(
    request: Request,
    db: DbSession,
    user: OwnAccount,
    code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        codes = mfa.confirm_own_enrolment(
            db=db, settings=request.app.state.settings, user=user, code=code
        )
    except mfa.MfaError as exc:
        return _account_page(request, db, user, errors=[str(exc)], status_code=422)
    return _account_page(request, db, user, notice=_("Your second factor is set up."), codes=codes)


@router.post("/account/mfa/recovery-codes")
def new_recovery_codes(request: Request, db: DbSession, user: FreshOwnAccount) -> Response:
    try:
        codes = mfa.regenerate_recovery_codes(db=db, user=user)
    except mfa.MfaError as exc:
        return _account_page(request, db, user, errors=[str(exc)], status_code=422)
    return _account_page(
        request, db, user, notice=_("New recovery codes: the old ones no longer work."), codes=codes
    )


@router.post("/account/mfa/remove")
def remove_mfa(request: Request, db: DbSession, user: FreshOwnAccount) -> Response:
    try:
        mfa.remove_own(db=db, settings=request.app.state.settings, user=user)
    except mfa.MfaError as exc:
        return _account_page(request, db, user, errors=[str(exc)], status_code=422)
    return _account_page(request, db, user, notice=_("Your second factor was removed."))


# --- re-authentication ------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """A path of our own to go back to, never another site."""
    if (
        not target
        or len(target) > 500
        or not target.isascii()
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return "/"
    return target


def reauth_page(
    request: Request, *, next_path: str, failed: bool = False, status_code: int = 200
) -> Response:
    """The page that asks for the password or a code before a sensitive action."""
    return web.render(
        request,
        "accounts/reauth.html",
        {"next": safe_next(next_path), "failed": failed},
        status_code=status_code,
    )


@router.get("/account/reauth")
def reauth_form(request: Request, user: OwnAccount, next: str = "/") -> Response:
    return reauth_page(request, next_path=next[:500])


@router.post("/account/reauth")
def reauth_submit(
    request: Request,
    db: DbSession,
    user: OwnAccount,
    secret: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    ok = reauth.reauthenticate(
        db=db,
        settings=request.app.state.settings,
        user=user,
        session=request.state.session_row,
        secret=secret,
        client_address=client_address(request.scope),
    )
    if not ok:
        return reauth_page(request, next_path=next, failed=True, status_code=401)
    return RedirectResponse(safe_next(next), status_code=303)


# --- administrators ------------------------------------------------------------------------


@router.get("/admin/mfa")
def mfa_admin_page(request: Request, db: DbSession, admin: UserAdmin) -> Response:
    return web.render(
        request,
        "accounts/mfa_admin.html",
        {
            "users": administration.manageable_users(db=db, actor=admin),
            "organisation": admin.organisation if admin.role == Role.ADMIN else None,
            "notice": None,
        },
    )


@router.post("/admin/users/{user_id}/reset-mfa")
def reset_mfa(request: Request, db: DbSession, admin: FreshUserAdmin, user_id: str) -> Response:
    try:
        target = administration.managed_user(db=db, actor=admin, user_id=user_id)
    except administration.NotManaged:
        raise HTTPException(status_code=404) from None
    mfa.reset(db=db, actor=admin, user=target)
    return web.render(
        request,
        "accounts/mfa_reset_done.html",
        {"name": target.username},
    )


@router.post("/admin/mfa/workers")
def workers_mfa(
    request: Request,
    db: DbSession,
    admin: FreshUserAdmin,
    required: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    if admin.role != Role.ADMIN:
        raise HTTPException(status_code=403)
    mfa.set_workers_required(db=db, actor=admin, required_=required == "on")
    return RedirectResponse("/admin/mfa", status_code=303)
