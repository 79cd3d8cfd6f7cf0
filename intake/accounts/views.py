"""Sign-in, sign-out, one's own account, the language switcher and user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from intake import i18n, web
from intake.accounts import administration, mfa_views, organisation_views, service, signin
from intake.accounts.models import Role, User
from intake.deps import DbSession, OwnAccount, PasswordOwner, SettingsDep, UserAdmin, get_settings
from intake.i18n import gettext as _
from intake.middleware import LANGUAGE_COOKIE, client_address
from intake.security import passwords, sessions
from intake.security.permissions import Public

router = APIRouter()


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = get_settings(request)
    response.set_cookie(
        sessions.cookie_name(settings),
        token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def _delete_session_cookie(request: Request, response: Response) -> None:
    # A browser drops a cookie only when deleted with the attributes it was set with;
    # a `__Host-` cookie without `Secure` is ignored altogether.
    settings = get_settings(request)
    response.delete_cookie(
        sessions.cookie_name(settings),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


@router.get("/healthz", dependencies=[Public])
async def healthz() -> PlainTextResponse:
    # Async, with async dependencies: it needs no worker thread, so it answers even
    # when every thread is busy.
    return PlainTextResponse("ok")


@router.get("/login", dependencies=[Public])
def login_page(request: Request, db: DbSession, settings: SettingsDep) -> Response:
    found = sessions.resume_session(
        db=db, token=request.cookies.get(sessions.cookie_name(settings)), settings=settings
    )
    if found is not None:
        return RedirectResponse("/", status_code=303)
    # A stale cookie is dropped here so the form's token binds to the pre-session cookie.
    request.cookies.pop(sessions.cookie_name(settings), None)
    response = web.render(request, "accounts/login.html", {"failed": False})
    _delete_session_cookie(request, response)
    return response


@router.post("/login", dependencies=[Public, passwords.PasswordCheckSlot])
def login(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    result = signin.sign_in(
        db=db,
        settings=settings,
        username=username,
        password=password,
        client_address=client_address(request.scope),
    )
    if result is None:
        return web.render(
            request, "accounts/login.html", {"failed": True, "username": username}, status_code=401
        )
    if result.code_owed:
        # Half signed in: the challenge cookie opens the code step and nothing else.
        response = RedirectResponse("/login/code", status_code=303)
        mfa_views.set_challenge_cookie(request, response, result.token)
        return response
    target = "/account/password" if result.user.must_change_password else "/"
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(request, response, result.token)
    if result.user.locale:
        response.set_cookie(LANGUAGE_COOKIE, result.user.locale, samesite="lax", path="/")
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, settings: SettingsDep, user: PasswordOwner) -> Response:
    service.sign_out(db=db, user=user, token=request.cookies[sessions.cookie_name(settings)])
    response = RedirectResponse("/login", status_code=303)
    _delete_session_cookie(request, response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: OwnAccount) -> Response:
    return web.render(request, "accounts/home.html")


@router.get("/account/password")
def password_page(request: Request, user: PasswordOwner) -> Response:
    return web.render(request, "accounts/password.html", {"errors": []})


@router.post("/account/password")
def change_password(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: PasswordOwner,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        token = service.change_password(
            db=db,
            settings=settings,
            user=user,
            current=current,
            new=new,
            confirm=confirm,
        )
    except service.AccountError as exc:
        db.rollback()
        return web.render(
            request, "accounts/password.html", {"errors": [str(exc)]}, status_code=422
        )
    response = web.render(request, "accounts/password_changed.html")
    _set_session_cookie(request, response, token)
    return response


@router.post("/language", dependencies=[Public])
def choose_language(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    locale: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if locale not in i18n.SUPPORTED_LOCALES:
        raise HTTPException(status_code=400)
    found = sessions.resume_session(
        db=db, token=request.cookies.get(sessions.cookie_name(settings)), settings=settings
    )
    if found is not None:
        service.set_locale_preference(db=db, user=found[1], locale=locale)
    # Only a path of our own is followed back, never a full URL.
    back = request.headers.get("referer", "")
    target = "/" if found is not None else "/login"
    if back.startswith(str(request.base_url)):
        path = "/" + back[len(str(request.base_url)) :]
        target = path if path.startswith("/") and not path.startswith("//") else target
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, locale, samesite="lax", path="/", max_age=365 * 24 * 3600)
    return response


# --- user administration (no case data on these pages) ---------------------------


def _users_page(
    request: Request,
    db: DbSession,
    admin: User,
    *,
    errors: list[str] | None = None,
    notice: str | None = None,
    secret: str | None = None,
    status_code: int = 200,
) -> Response:
    return web.render(
        request,
        "accounts/users.html",
        {
            "users": administration.manageable_users(db=db, actor=admin),
            "organisations": administration.organisations_for(db=db, actor=admin),
            "roles": administration.creatable_roles(admin),
            "choose_organisation": admin.role == Role.INSTALLATION_ADMIN,
            "errors": errors or [],
            "notice": notice,
            "secret": secret,
        },
        status_code=status_code,
        block="content",
    )


def _target(db: DbSession, admin: User, user_id: str) -> User:
    try:
        return administration.managed_user(db=db, actor=admin, user_id=user_id)
    except administration.NotManaged:
        raise HTTPException(status_code=404) from None


def _issued_notice(issued: administration.Issued, *, reset: bool) -> str:
    name = issued.user.username
    done = (
        _("The password of %(name)s was reset and their sessions ended.", name=name)
        if reset
        else _("User %(name)s created.", name=name)
    )
    if issued.channel == administration.Channel.ACTOR:
        how = _("Give them this one-time password:")
    elif issued.channel == administration.Channel.SUPERVISOR:
        how = _(
            "A supervisor of their organisation makes their one-time password "
            "and hands it over in person."
        )
    else:
        how = _(
            "Their organisation has no supervisor yet: the operator makes their one-time "
            "password on the server with “intake users reset %(name)s”.",
            name=name,
        )
    return f"{done} {how}"


@router.get("/admin/users")
def users_page(request: Request, db: DbSession, admin: UserAdmin) -> Response:
    return _users_page(request, db, admin)


@router.post("/admin/users")
def create_user(
    request: Request,
    db: DbSession,
    admin: UserAdmin,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    organisation_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    try:
        issued = administration.create_account(
            db=db,
            actor=admin,
            username=username,
            display_name=display_name,
            role=role,
            organisation_id=organisation_id,
        )
    except service.AccountError as exc:
        db.rollback()
        return _users_page(request, db, admin, errors=[str(exc)], status_code=422)
    return _users_page(
        request, db, admin, notice=_issued_notice(issued, reset=False), secret=issued.secret
    )


@router.post("/admin/users/{user_id}/disable")
def disable_user(request: Request, db: DbSession, admin: UserAdmin, user_id: str) -> Response:
    target = _target(db, admin, user_id)
    try:
        administration.set_account_active(db=db, actor=admin, user=target, active=False)
    except service.AccountError as exc:
        return _users_page(request, db, admin, errors=[str(exc)], status_code=422)
    return _users_page(
        request, db, admin, notice=_("%(name)s is disabled and signed out.", name=target.username)
    )


@router.post("/admin/users/{user_id}/enable")
def enable_user(request: Request, db: DbSession, admin: UserAdmin, user_id: str) -> Response:
    target = _target(db, admin, user_id)
    try:
        administration.set_account_active(db=db, actor=admin, user=target, active=True)
    except service.AccountError as exc:
        return _users_page(request, db, admin, errors=[str(exc)], status_code=422)
    return _users_page(request, db, admin, notice=_("%(name)s is enabled.", name=target.username))


@router.post("/admin/users/{user_id}/reset-password")
def reset_password(request: Request, db: DbSession, admin: UserAdmin, user_id: str) -> Response:
    target = _target(db, admin, user_id)
    issued = administration.reset_account(db=db, actor=admin, user=target)
    return _users_page(
        request, db, admin, notice=_issued_notice(issued, reset=True), secret=issued.secret
    )


@router.post("/admin/users/{user_id}/revoke-sessions")
def revoke_sessions(request: Request, db: DbSession, admin: UserAdmin, user_id: str) -> Response:
    target = _target(db, admin, user_id)
    count = service.revoke_sessions(db=db, actor=admin, user=target)
    return _users_page(
        request,
        db,
        admin,
        notice=_(
            "%(name)s was signed out everywhere (%(n)s sessions).", name=target.username, n=count
        ),
    )


router.include_router(organisation_views.router)
router.include_router(mfa_views.router)
