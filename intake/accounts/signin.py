"""Sign-in: throttling per account and per client address, and the password check.

The write discipline (intake.db) shapes it in three steps: a lookup that takes no
write lock, the argon2 check outside any transaction (it takes ~0.2 s and 64 MiB,
and would otherwise hold SQLite's one write lock for everyone), then one short write
transaction that records the outcome.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.config import Settings
from intake.db import read_transaction, utcnow, write_transaction
from intake.security import passwords, sessions
from intake.security.models import ClientThrottle

# Lock an account for 1, 2, 4 ... minutes after repeated failures, at most an hour.
_MAX_LOCK = dt.timedelta(hours=1)


@dataclass(frozen=True)
class SignIn:
    user: User
    token: str


def client_key(settings: Settings, client_address: str) -> str:
    """The stored form of a client address: addresses are personal data, only a keyed hash
    is kept."""
    return hmac.new(
        settings.secret_key.encode(), f"client:{client_address}".encode(), hashlib.sha256
    ).hexdigest()


def _client_blocked(*, db: Session, settings: Settings, key: str, now: dt.datetime) -> bool:
    row = db.get(ClientThrottle, key)
    if row is None:
        return False
    window = dt.timedelta(minutes=settings.login_client_window_minutes)
    if now - row.window_start >= window:
        return False
    return row.failures >= settings.login_client_max_failures


def _count_client_failure(*, db: Session, settings: Settings, key: str, now: dt.datetime) -> None:
    """One more failure from this address, as one statement: two first failures arriving
    together both count, and neither meets a duplicate key."""
    window_start = now - dt.timedelta(minutes=settings.login_client_window_minutes)
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    expired = ClientThrottle.window_start <= window_start
    statement = insert(ClientThrottle).values(client_key=key, window_start=now, failures=1)
    statement = statement.on_conflict_do_update(
        index_elements=[ClientThrottle.client_key],
        set_={
            "failures": case((expired, 1), else_=ClientThrottle.failures + 1),
            "window_start": case((expired, now), else_=ClientThrottle.window_start),
        },
    )
    db.execute(statement)


def _count_account_failure(*, user: User, settings: Settings, now: dt.datetime) -> None:
    user.failed_logins += 1
    over = user.failed_logins - settings.login_account_max_failures
    if over >= 0:
        user.locked_until = now + min(dt.timedelta(minutes=2**over), _MAX_LOCK)


def sign_in(
    *, db: Session, settings: Settings, username: str, password: str, client_address: str
) -> SignIn | None:
    """Check credentials and open a new session; None for any failure, whatever its cause."""
    now = utcnow()
    key = client_key(settings, client_address)
    name = username.strip().lower()[:64]
    with read_transaction(db):
        # No username holds NUL, and PostgreSQL text cannot: such a name is simply unknown.
        user = (
            db.execute(select(User).where(User.username == name)).scalar_one_or_none()
            if "\x00" not in name
            else None
        )
        stored_hash = user.password_hash if user else None
    # The hash is always verified, even when the answer is already known, so
    # timing tells nothing about whether the account exists or is locked.
    password_ok = passwords.verify_password(stored_hash, password)
    rehash = (
        passwords.hash_password(password)
        if password_ok and stored_hash and passwords.needs_rehash(stored_hash)
        else None
    )
    with write_transaction(db):
        if user is not None:
            # Read again, locked, in this transaction: a change since the lookup counts.
            user = db.execute(
                select(User)
                .where(User.id == user.id)
                .with_for_update(of=User)
                .execution_options(populate_existing=True)
            ).scalar_one_or_none()
        return _record_outcome(
            db=db,
            settings=settings,
            user=user,
            key=key,
            now=now,
            password_ok=password_ok and user is not None and user.password_hash == stored_hash,
            rehash=rehash,
        )


def _record_outcome(
    *,
    db: Session,
    settings: Settings,
    user: User | None,
    key: str,
    now: dt.datetime,
    password_ok: bool,
    rehash: str | None,
) -> SignIn | None:
    blocked = _client_blocked(db=db, settings=settings, key=key, now=now)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    if user is None or not user.active or not password_ok or blocked or locked:
        _count_client_failure(db=db, settings=settings, key=key, now=now)
        # Only a wrong password counts against the account: the right one refused
        # from a blocked address (colleagues behind one office router) or during a
        # lock does not lengthen anyone's lock.
        if user is not None and not password_ok and not locked:
            _count_account_failure(user=user, settings=settings, now=now)
        audit.record(
            db=db,
            action="auth.sign_in",
            actor_id=user.id if user else None,
            object_type="user",
            object_id=user.id if user else "",
            outcome="refused",
        )
        return None
    user.failed_logins = 0
    user.locked_until = None
    if rehash is not None:
        user.password_hash = rehash
    token = sessions.start_session(db=db, user=user, settings=settings)
    audit.record(
        db=db, action="auth.sign_in", actor_id=user.id, object_type="user", object_id=user.id
    )
    return SignIn(user=user, token=token)
