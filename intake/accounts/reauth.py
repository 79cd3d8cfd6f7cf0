"""Re-authentication: a sensitive action needs the password or a code given within the
last few minutes (INTAKE_REAUTH_MINUTES, 5 by default), not just a live session.

Signing in counts as authenticating. A check of a password runs argon2 outside any
transaction; a code is checked in the short write transaction that records the outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from intake.accounts import mfa, signin
from intake.accounts.mfa_models import Reauthentication
from intake.accounts.models import User
from intake.audit import service as audit
from intake.config import Settings
from intake.db import DbSession, read_transaction, utcnow, write_transaction
from intake.security import passwords, totp
from intake.security.models import UserSession
from intake.security.permissions import Permission, require


class ReauthRequired(Exception):
    """The action needs a fresh proof of identity; the person is asked for it first."""


def recently_authenticated(*, db: Session, session: UserSession, settings: Settings) -> bool:
    """Whether this session's person proved who they are within the last N minutes."""
    since = utcnow() - dt.timedelta(minutes=settings.reauth_minutes)
    if session.created_at >= since:
        return True
    with read_transaction(db):
        at = db.execute(
            select(Reauthentication.at).where(Reauthentication.session_id == session.id)
        ).scalar_one_or_none()
    return at is not None and at >= since


def reauthenticate(
    *,
    db: Session,
    settings: Settings,
    user: User,
    session: UserSession,
    secret: str,
    client_address: str,
) -> bool:
    """Check a password or a code and, if right, mark the session freshly authenticated."""
    now = utcnow()
    key = signin.client_key(settings, client_address)
    as_code = user.totp_secret is not None and (
        totp.normalise_code(secret).isdigit() or totp.looks_like_recovery_code(secret)
    )
    password_ok = False
    if not as_code:
        with read_transaction(db):
            stored = db.execute(
                select(User.password_hash).where(User.id == user.id)
            ).scalar_one_or_none()
        password_ok = passwords.verify_password(stored, secret[:1024])
    with write_transaction(db):
        row = db.execute(
            select(User)
            .where(User.id == user.id)
            .with_for_update(of=User)
            .execution_options(populate_existing=True)
        ).scalar_one()
        locked = row.locked_until is not None and row.locked_until > now
        blocked = signin._client_blocked(db=db, settings=settings, key=key, now=now)
        ok = False
        if not locked and not blocked:
            if as_code:
                ok = (
                    mfa.check_code(db=db, settings=settings, user=row, code=secret, now=now)
                    is not None
                )
            else:
                ok = password_ok and row.password_hash == stored
        if not ok:
            signin._count_client_failure(db=db, settings=settings, key=key, now=now)
            if not locked and not blocked:
                signin._count_account_failure(user=row, settings=settings, now=now)
        else:
            row.failed_logins = 0
            found = db.get(Reauthentication, session.id, with_for_update=True)
            if found is None:
                db.add(Reauthentication(session_id=session.id, at=now))
            else:
                found.at = now
        audit.record(
            db=db,
            action="auth.reauthenticate",
            actor_id=row.id,
            object_type="user",
            object_id=row.id,
            outcome="ok" if ok else "refused",
        )
    return ok


def require_recent(permission: Permission) -> Callable[..., Awaitable[User]]:
    """A dependency: `require(permission)`, and the password or a code given within the
    last N minutes (else ReauthRequired: the person is asked, then sent back)."""
    allowed = require(permission)

    async def dependency(request: Request, db: DbSession, user: User = Depends(allowed)) -> User:
        fresh = await run_in_threadpool(
            lambda: recently_authenticated(
                db=db, session=request.state.session_row, settings=request.app.state.settings
            )
        )
        if not fresh:
            raise ReauthRequired
        return user

    return dependency
