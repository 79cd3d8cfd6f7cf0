"""Server-side sessions: a random 256-bit token in the cookie, its hash in the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.config import Settings
from intake.db import utcnow
from intake.security.models import UserSession

# Writing last_seen on every request would make every page view a write.
_TOUCH_INTERVAL = dt.timedelta(seconds=60)


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
    """The live session and its active user for this token, or None (expired ones are deleted)."""
    if not token or len(token) > 100:
        return None
    row = db.execute(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None:
        return None
    now = utcnow()
    idle_limit = row.last_seen_at + dt.timedelta(minutes=settings.session_idle_minutes)
    user = db.get(User, row.user_id)
    if now >= row.expires_at or now >= idle_limit or user is None or not user.active:
        db.delete(row)
        db.commit()
        return None
    if now - row.last_seen_at >= _TOUCH_INTERVAL:
        row.last_seen_at = now
        db.commit()
    return row, user


def end_session(*, db: Session, token: str) -> None:
    """Log out: the token stops working at once."""
    db.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))


def end_all_sessions(*, db: Session, user_id: str) -> int:
    """End every session of a user (disabled, password reset, lost phone)."""
    result = db.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
