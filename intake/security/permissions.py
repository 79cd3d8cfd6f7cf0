"""Who may do what: an explicit map from role to permissions, and the route
dependencies that enforce it. Every route declares either `require(...)` or
`public`; a test fails on any route that declares neither."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from intake.accounts.models import Role, User
from intake.db import DbSession
from intake.i18n import set_locale
from intake.security import sessions
from intake.security.csrf import SAFE_METHODS


class Permission(StrEnum):
    OWN_ACCOUNT = "account:own"  # sign out, change one's password and language
    # The accounts one manages: an organisation administrator, their organisation's users;
    # the installation administrator, the organisation administrators (scoped in the service).
    USERS_MANAGE = "users:manage"
    ORGANISATIONS_MANAGE = "organisations:manage"
    # A supervisor sees their organisation's account changes and hands over one-time passwords.
    ACCOUNTS_OVERSEE = "accounts:oversee"
    CASES_CREATE = "cases:create"
    CASES_VIEW = "cases:view"  # the cases one owns or is on the team of
    # Every case of one's organisation, in every list, with its sensitive answers and notes.
    CASES_ORGANISATION = "cases:organisation"
    CASES_ADVANCE = "case:advance"
    TEAM_ASSIGN = "team:assign"
    # Refer a person from a case one may see, see and close its referrals (intake.referrals).
    REFERRALS_MAKE = "referrals:make"
    # The organisation's incoming referrals: accept (assigning a person) or decline.
    REFERRALS_ANSWER = "referrals:answer"
    # Hand a case over to another organisation, and answer the ones handed to one's own.
    CASES_TRANSFER = "cases:transfer"
    # Invite a partner organisation's user onto a case team, and approve those invited
    # from one's own organisation (intake.referrals.partners).
    PARTNERS_MANAGE = "partners:manage"
    # The external bodies (a ministry, an IOM mission, a consulate) an organisation works with.
    EXTERNAL_BODIES_MANAGE = "external_bodies:manage"
    DASHBOARD_VIEW = "dashboard:view"
    DEFINITIONS_VIEW = "definitions:view"
    DEFINITIONS_EDIT = "definitions:edit"
    AUDIT_VERIFY = "audit:verify"
    # The audit trail page, scoped in intake.audit_trail: a supervisor their organisation's
    # events, an administrator its account, definition and system events (no case event).
    AUDIT_READ = "audit:read"
    # Anonymise a closed case of one's organisation at once, on the person's request (GDPR
    # art. 17), with a reason and a fresh proof of identity (intake.retention).
    CASES_ERASE = "cases:erase"
    # The organisation's retention period for closed cases (its administrator).
    RETENTION_MANAGE = "retention:manage"
    # Anonymised figures, small cells suppressed (intake.statistics): a coordinator across the
    # organisations that report to it, a supervisor for their own organisation.
    STATISTICS_VIEW = "statistics:view"
    # Exports of those figures (and a supervisor's record-level exports of their own cases).
    STATISTICS_EXPORT = "statistics:export"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.OUTREACH_WORKER: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.CASES_CREATE,
            Permission.CASES_VIEW,
            Permission.REFERRALS_MAKE,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.CASES_CREATE,
            Permission.CASES_VIEW,
            Permission.CASES_ORGANISATION,
            Permission.CASES_ADVANCE,
            Permission.TEAM_ASSIGN,
            Permission.REFERRALS_MAKE,
            Permission.REFERRALS_ANSWER,
            Permission.CASES_TRANSFER,
            Permission.PARTNERS_MANAGE,
            Permission.DASHBOARD_VIEW,
            Permission.DEFINITIONS_VIEW,
            Permission.ACCOUNTS_OVERSEE,
            Permission.AUDIT_READ,
            Permission.CASES_ERASE,
            Permission.STATISTICS_VIEW,
            Permission.STATISTICS_EXPORT,
        }
    ),
    # Administrators run their organisation; they see no case data at all.
    Role.ADMIN: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.USERS_MANAGE,
            Permission.DEFINITIONS_VIEW,
            Permission.DEFINITIONS_EDIT,
            Permission.EXTERNAL_BODIES_MANAGE,
            Permission.AUDIT_VERIFY,
            Permission.AUDIT_READ,
            Permission.RETENTION_MANAGE,
        }
    ),
    # Organisations and their administrators; no case data, no other user.
    Role.INSTALLATION_ADMIN: frozenset(
        {Permission.OWN_ACCOUNT, Permission.USERS_MANAGE, Permission.ORGANISATIONS_MANAGE}
    ),
    # Anonymised figures of the organisations that report to theirs; no case, no person.
    Role.COORDINATOR: frozenset(
        {Permission.OWN_ACCOUNT, Permission.STATISTICS_VIEW, Permission.STATISTICS_EXPORT}
    ),
}

# Roles whose password opens case data: an administrator never learns one of theirs.
CASE_ACCESS_ROLES = frozenset(
    role
    for role, granted in ROLE_PERMISSIONS.items()
    if granted & {Permission.CASES_VIEW, Permission.CASES_CREATE}
)


def roles_with(permission: Permission) -> frozenset[str]:
    """The roles whose permissions include `permission`."""
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


def has_permission(user: User, permission: Permission) -> bool:
    """Whether the user's role grants `permission` (unknown roles grant nothing)."""
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())


class NotAuthenticated(Exception):
    """No live session: the person is sent to sign in."""


class CsrfRefused(Exception):
    """An unsafe request without a valid token, or from another site."""


class PasswordChangeRequired(Exception):
    """The password is a one-time secret from an administrator: it must be changed first."""


def _authenticate(request: Request, db: Session) -> User:
    settings = request.app.state.settings
    found = sessions.resume_session(
        db=db, token=request.cookies.get(sessions.cookie_name(settings)), settings=settings
    )
    if found is None:
        raise NotAuthenticated
    request.state.session_row, request.state.user = found
    return found[1]


def require(
    permission: Permission, *, while_password_change_pending: bool = False
) -> Callable[..., Awaitable[User]]:
    """A dependency that lets through only signed-in users whose role has `permission`.

    A user still holding a one-time password reaches only the routes marked
    `while_password_change_pending` (changing it, signing out)."""

    async def dependency(request: Request, db: DbSession) -> User:
        # The lookup runs in a worker thread, in a transaction of its own that takes
        # no write lock and is over before the route begins; the locale is set here,
        # in the request's own context, so the route's thread inherits it.
        user = await run_in_threadpool(_authenticate, request, db)
        if request.method not in SAFE_METHODS and request.state.csrf_binding != "session":
            # A token from before sign-in does not authorise acting as the user.
            raise CsrfRefused
        if user.locale:
            set_locale(user.locale)
        if user.must_change_password and not while_password_change_pending:
            raise PasswordChangeRequired
        if not has_permission(user, permission):
            raise HTTPException(status_code=403)
        return user

    dependency.intake_permission = permission  # type: ignore[attr-defined]
    return dependency


async def public() -> None:
    """Marks a route that anyone may open (sign-in, health check)."""


public.intake_public = True  # type: ignore[attr-defined]

Public = Depends(public)


def declared_access(dependant: Any) -> set[str]:
    """The permissions (or 'public') a route's dependency tree declares."""
    found: set[str] = set()
    for dep in dependant.dependencies:
        call = dep.call
        if getattr(call, "intake_public", False):
            found.add("public")
        permission = getattr(call, "intake_permission", None)
        if permission is not None:
            found.add(str(permission))
        found |= declared_access(dep)
    return found


def iter_api_routes(routes: list[Any]) -> list[Any]:
    """Every endpoint route, descending into included routers."""
    from fastapi.routing import APIRoute

    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found.extend(iter_api_routes(list(included.routes)))
        elif isinstance(route, APIRoute):
            found.append(route)
    return found
