"""create_app(): settings, middleware, routers, templates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from intake import web
from intake.accounts import mfa_views, token_views
from intake.accounts import views as account_views
from intake.accounts.reauth import ReauthRequired
from intake.admin import views as admin_views
from intake.api import errors as api_errors
from intake.api import views as api_views
from intake.audit_trail import views as audit_trail_views
from intake.cases import (
    coming_of_age_views,
    dashboard_views,
    intake_offline_views,
    service_record_views,
)
from intake.cases import views as case_views
from intake.cases.access import CaseNotFound
from intake.cases.rules import CaseError
from intake.compression import CompressHtml
from intake.config import Settings, get_settings
from intake.db import make_engine, make_session_factory
from intake.filling import offline_views
from intake.filling import views as form_views
from intake.i18n import gettext as _
from intake.middleware import BodySizeLimit, RequestLocale, SecurityHeaders, WriteDiscipline
from intake.referrals import external_views, partner_views, transfer_views
from intake.referrals import views as referral_views
from intake.retention import daily as retention_daily
from intake.retention import views as retention_views
from intake.security import csrf, passwords
from intake.security.permissions import CsrfRefused, NotAuthenticated, PasswordChangeRequired
from intake.static_assets import StaticAssets
from intake.statistics import export_views as statistics_export_views
from intake.statistics import views as statistics_views

log = logging.getLogger("intake")

STATIC_DIR = web.TEMPLATES_DIR.parent / "static"


async def csrf_protect(request: Request) -> None:
    """Refuse any state-changing request that is not provably from our own pages."""
    if request.method in csrf.SAFE_METHODS:
        return
    if api_errors.is_api_path(request.scope["path"]):
        return  # token only: the API reads no cookie, so a forged request carries no authority
    settings = request.app.state.settings
    if not csrf.origin_allowed(request, settings):
        raise CsrfRefused
    submitted = request.headers.get(csrf.HEADER)
    content_type = request.headers.get("content-type", "")
    if not submitted and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        try:
            form = await request.form()
        except Exception as exc:  # a malformed body is the client's fault, never a 500
            raise HTTPException(status_code=400) from exc
        value = form.get(csrf.FIELD)
        submitted = value if isinstance(value, str) else None
    request.state.csrf_binding = csrf.verified_binding(request, settings, submitted)
    if request.state.csrf_binding is None:
        raise CsrfRefused


def _error_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood. Nothing was changed."),
        403: _("You do not have permission to do this. Nothing was changed."),
        404: _("This page does not exist, or you do not have access to it."),
        405: _("This action is not available here."),
        409: _("Someone else changed this in the meantime. Nothing was changed."),
        413: _("The data sent is too large. Nothing was saved."),
        422: _("Some of the data sent was not valid. Nothing was changed."),
    }
    return messages.get(status, _("Something went wrong on our side. Nothing was changed."))


def error_page(request: Request, status: int, message: str | None = None) -> HTMLResponse:
    """A clear page in the reader's language; never a stack trace or personal data."""
    return web.render(
        request,
        "errors/error.html",
        # The user's row may be expired by the failed request's rollback, and an
        # error page needs no personal navigation.
        {"status": status, "message": message or _error_message(status), "user": None},
        status_code=status,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if api_errors.is_api_path(request.scope["path"]):
            return api_errors.for_status(exc.status_code, exc.headers)
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code == 409 else None
        return error_page(request, exc.status_code, detail if detail != "Conflict" else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if api_errors.is_api_path(request.scope["path"]):
            return api_errors.validation_error(list(exc.errors()))
        return error_page(request, 422)

    @app.exception_handler(CaseError)
    async def case_refused(request: Request, exc: CaseError) -> Response:
        # A refused action on a case: its page again with the reasons (409, 422 or 403).
        if "case_id" in request.path_params and getattr(request.state, "user", None):
            try:
                return await run_in_threadpool(case_views.refused_page, request, exc)
            except CaseNotFound:
                return error_page(request, 404)
        return error_page(request, 422, str(exc))

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return error_page(
            request,
            403,
            _(
                "This form has expired or did not come from this site. "
                "Reload the page and try again."
            ),
        )

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if web.is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(ReauthRequired)
    async def reauth_required(request: Request, exc: ReauthRequired) -> Response:
        # Back to the page the action was started from (a GET is simply repeated).
        path = str(request.url.path) + ("?" + request.url.query if request.url.query else "")
        path = path if request.method == "GET" else _referer_path(request)
        target = "/account/reauth?" + urlencode({"next": mfa_views.safe_next(path)})
        if web.is_htmx(request):
            return Response(status_code=403, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        if web.is_htmx(request):
            return Response(status_code=403, headers={"HX-Redirect": "/account/password"})
        return RedirectResponse("/account/password", status_code=303)


def _referer_path(request: Request) -> str:
    """The path of our own page that sent this request, or the home page."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    return "/" + referer[len(base) :] if referer.startswith(base) else "/"


class CatchAll:
    """Turn an unexpected exception into the plain 500 page, inside the header middleware
    (Starlette's own handler for Exception sits outside every middleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            route = scope.get("route")
            # Only the exception's type and the route's pattern are logged: a
            # message or a URL may hold personal data.
            log.error(
                "unhandled %s on %s %s",
                type(exc).__name__,
                scope.get("method"),
                getattr(route, "path", "?"),
            )
            if started:
                raise
            request = Request(scope)
            request.state.user = None
            response = (
                api_errors.for_status(500)
                if api_errors.is_api_path(scope["path"])
                else error_page(request, 500)
            )
            await response(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Worker threads and PostgreSQL connections are sized together (intake.db).
    settings: Settings = app.state.settings
    to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
    async with retention_daily.daily_runs(app):
        yield
    app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application, wired for `settings` (read from the environment by default)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="intake",
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    passwords.limit_checks_at_once(settings.password_checks_at_once)
    app.state.password_slots = asyncio.Semaphore(
        passwords.checks_at_once(settings.password_checks_at_once)
    )
    app.state.engine = make_engine(
        settings.database_url,
        write_wait_seconds=settings.write_wait_seconds,
        pool_size=settings.worker_threads,
    )
    app.state.session_factory = make_session_factory(app.state.engine)
    app.mount("/static", StaticAssets(STATIC_DIR), name="static")
    app.include_router(account_views.router)
    app.include_router(form_views.router)
    app.include_router(offline_views.router)
    app.include_router(intake_offline_views.router)
    app.include_router(admin_views.router)
    app.include_router(case_views.router)
    app.include_router(service_record_views.router)
    app.include_router(coming_of_age_views.router)
    app.include_router(dashboard_views.router)
    app.include_router(referral_views.router)
    app.include_router(transfer_views.router)
    app.include_router(partner_views.router)
    app.include_router(external_views.router)
    app.include_router(retention_views.router)
    app.include_router(audit_trail_views.router)
    app.include_router(statistics_views.router)
    app.include_router(statistics_export_views.router)
    app.include_router(token_views.router)
    app.include_router(api_views.router)
    api_views.install(app)
    _install_error_handlers(app)
    app.add_middleware(WriteDiscipline, max_in_flight=settings.max_requests_in_flight)
    app.add_middleware(CatchAll)
    app.add_middleware(RequestLocale, timezone=settings.timezone)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CompressHtml)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    return app
