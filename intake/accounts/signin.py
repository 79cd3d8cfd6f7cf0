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

from intake.accounts import mfa
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
    # A session's token, or, when `code_owed`, the token of a challenge that grants
    # nothing but the code step (intake.accounts.mfa).
    token: str
    code_owed: bool = False


@dataclass(frozen=True)
class CodeAnswer:
    """The outcome of the code step: a session, or a refusal (and whether to start over)."""

    user: User | None
    session_token: str | None = None
    # Shown once, after an enrolment made while signing in.
    recovery_codes: list[str] | None = None
    start_over: bool = False


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
    if rehash is not None:
        user.password_hash = rehash
    if mfa.needs_code(user, settings):
        # The failure count stands until the code is right too: a known password
        # must not buy unlimited guesses at codes.
        audit.record(
            db=db,
            action="auth.sign_in",
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
            outcome="code_owed",
        )
        return SignIn(
            user=user, token=mfa.open_challenge(db=db, settings=settings, user=user), code_owed=True
        )
    user.failed_logins = 0
    user.locked_until = None
    token = sessions.start_session(db=db, user=user, settings=settings)
    audit.record(
        db=db, action="auth.sign_in", actor_id=user.id, object_type="user", object_id=user.id
    )
    return SignIn(user=user, token=token)


def answer_code(
    *, db: Session, settings: Settings, token: str | None, code: str, client_address: str
) -> CodeAnswer:
    """The code step: a TOTP or recovery code (or, for a user enrolling, the first code of
    the secret shown) turns a challenge into a session. Throttled as passwords are."""
    now = utcnow()
    key = client_key(settings, client_address)
    with write_transaction(db):
        found = mfa.find_challenge(db=db, token=token, lock=True)
        if found is None:
            return CodeAnswer(user=None, start_over=True)
        row, user = found.row, found.user
        blocked = _client_blocked(db=db, settings=settings, key=key, now=now)
        locked = user.locked_until is not None and user.locked_until > now
        how: str | None = None
        recovery_codes = None
        if not blocked and not locked:
            secret = mfa.challenge_secret(settings, row)
            if secret is None:
                how = mfa.check_code(db=db, settings=settings, user=user, code=code, now=now)
            else:
                step = mfa.check_enrolment_code(secret=secret, code=code, now=now)
                if step is not None:
                    recovery_codes = mfa.enrol(
                        db=db, settings=settings, user=user, secret=secret, step=step, now=now
                    )
                    how = "enrolled"
        if how is None:
            _count_client_failure(db=db, settings=settings, key=key, now=now)
            # As with passwords: refused unheard from a blocked address or during a lock,
            # a code does not lengthen anyone's lock.
            if not locked and not blocked:
                _count_account_failure(user=user, settings=settings, now=now)
            row.attempts += 1
            start_over = row.attempts >= mfa.CHALLENGE_ATTEMPTS
            if start_over:
                mfa.end_challenge(db=db, row=row)
            audit.record(
                db=db,
                action="auth.second_factor",
                actor_id=user.id,
                object_type="user",
                object_id=user.id,
                outcome="refused",
            )
            return CodeAnswer(user=user, start_over=start_over)
        mfa.end_challenge(db=db, row=row)
        user.failed_logins = 0
        user.locked_until = None
        session_token = sessions.start_session(db=db, user=user, settings=settings)
        audit.record(
            db=db,
            action="auth.sign_in",
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
            detail=how,
        )
        return CodeAnswer(user=user, session_token=session_token, recovery_codes=recovery_codes)
