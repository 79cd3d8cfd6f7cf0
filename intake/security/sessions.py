"""Server-side sessions: a random 256-bit token in the cookie, its hash in the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Executable, delete, select, update
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.config import Settings
from intake.db import is_busy_error, read_transaction, utcnow, write_transaction
from intake.security.models import UserSession

# Writing last_seen on every request would make every page view a write.
_TOUCH_INTERVAL = dt.timedelta(seconds=60)
# A touch never makes a reader wait long: when the database is busy it is skipped.
_TOUCH_WAIT_SECONDS = 0.25


def cookie_name(settings: Settings) -> str:
    """`__Host-` binds the cookie to this exact origin, but browsers accept it only over HTTPS."""
    return "__Host-intake_session" if settings.cookie_secure else "intake_session"


def hash_token(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(*, db: Session, user: User, settings: Settings) -> str:
    """A new session for `user`; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_absolute_hours),
        )
    )
    db.flush()
    return token


def resume_session(
    *, db: Session, token: str | None, settings: Settings
) -> tuple[UserSession, User] | None:
    """The live session and its active user for this token, or None.

    The lookup takes no write lock. Deleting an expired session and the once-a-minute
    `last_seen_at` touch each run afterwards in a short write transaction of their own,
    skipped when the database is busy (the next request does it): they never fail a read."""
    if not token or len(token) > 100 or not token.isascii():
        return None
    with read_transaction(db):
        row = db.execute(
            select(UserSession).where(UserSession.token_hash == hash_token(token))
        ).scalar_one_or_none()
        user = db.get(User, row.user_id) if row is not None else None
    if row is None:
        return None
    now = utcnow()
    idle_limit = row.last_seen_at + dt.timedelta(minutes=settings.session_idle_minutes)
    if now >= row.expires_at or now >= idle_limit or user is None or not user.active:
        _best_effort(db, delete(UserSession).where(UserSession.token_hash == row.token_hash))
        return None
    if now - row.last_seen_at >= _TOUCH_INTERVAL:
        _best_effort(
            db,
            update(UserSession)
            .where(UserSession.token_hash == row.token_hash)
            .values(last_seen_at=now),
        )
    return row, user


def _best_effort(db: Session, statement: Executable) -> None:
    try:
        with write_transaction(db, wait_seconds=_TOUCH_WAIT_SECONDS):
            db.execute(statement)
    except Exception as exc:
        if not is_busy_error(exc):
            raise


def end_session(*, db: Session, token: str) -> None:
    """Log out: the token stops working at once."""
    db.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))


def end_all_sessions(*, db: Session, user_id: str) -> int:
    """End every session of a user (disabled, password reset, lost phone)."""
    result = db.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
