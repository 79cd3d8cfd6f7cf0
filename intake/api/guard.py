"""The API's one door: a bearer token, within its scopes and its user's permissions.

Cookies are never read here, so a signed-in browser gets nothing from the API by
itself: a cross-site request carries no token, which is why the API needs no CSRF
check (intake.app exempts exactly /api/v1 from it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from intake.accounts import tokens
from intake.api.errors import ApiError
from intake.db import DbSession
from intake.i18n import gettext as _
from intake.i18n import set_locale
from intake.middleware import client_address
from intake.security.permissions import Permission

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    bearerFormat="itk_...",
    description="A personal access token, made on the account's API tokens page.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def refusal(reason: str, retry_after: int) -> ApiError:
    """The JSON refusal for a token that does not let a request through."""
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if reason == "missing":
        return ApiError(401, "token_missing", headers={"WWW-Authenticate": "Bearer"})
    if reason in ("unknown", "revoked", "expired", "disabled"):
        messages = {
            "unknown": _("This token is not valid."),
            "revoked": _("This token was revoked."),
            "expired": _("This token has expired."),
            "disabled": _("This token's account may not use the API now."),
        }
        return ApiError(401, f"token_{reason}", messages[reason], headers=challenge)
    if reason == "scope":
        return ApiError(
            403,
            "insufficient_scope",
            _("This token's scopes do not include this."),
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    if reason == "permission":
        return ApiError(403, "forbidden")
    return ApiError(429, "rate_limited", headers={"Retry-After": str(retry_after)})


def token_guard(
    scope: str | None, permission: Permission
) -> Callable[..., Awaitable[tokens.Caller]]:
    """A dependency: the request's token, if it has `scope` (None: any) and its user has
    `permission`; else a JSON 401, 403 or 429. Every use is audited (intake.accounts.tokens)."""

    async def dependency(
        request: Request, db: DbSession, credentials: Credentials
    ) -> tokens.Caller:
        settings = request.app.state.settings
        route = request.scope.get("route")
        action = f"{request.method} {getattr(route, 'path', '?')}"
        secret = credentials.credentials if credentials is not None else None
        try:
            caller = await run_in_threadpool(
                lambda: tokens.authenticate(
                    db=db,
                    settings=settings,
                    secret=secret,
                    client_address=client_address(request.scope),
                    scope=scope,
                    permission=permission,
                    action=action,
                )
            )
        except tokens.TokenRefused as refused:
            raise refusal(
                refused.reason, tokens.retry_after_seconds(refused.reason, settings)
            ) from None
        if caller.user.locale:
            set_locale(caller.user.locale)
        return caller

    dependency.intake_permission = permission  # type: ignore[attr-defined]
    return dependency
