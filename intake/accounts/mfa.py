"""The second factor: who needs one, enrolment, checking a code, recovery codes, resets.

The TOTP secret rests sealed with the data keys (bound to its user), so a copy of the
database alone gives nobody a way to make codes. Codes and recovery codes are checked
inside the caller's short write transaction (a few microseconds of HMAC work), with the
user's row locked, so two requests carrying one code cannot both be accepted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from intake.accounts.mfa_models import RecoveryCode, SignInChallenge
from intake.accounts.models import Role, User
from intake.audit import service as audit
from intake.config import Settings
from intake.db import read_transaction, utcnow, write_transaction
from intake.forms.storage import keyring_for
from intake.i18n import gettext as _
from intake.security import sessions, totp
from intake.security.field_crypto import decrypt_value, encrypt_value

# Roles whose accounts open many people's data, or the accounts of those who do.
# ("coordinator" joins when that role exists.)
REQUIRED_ROLES = frozenset(
    {Role.SUPERVISOR.value, Role.ADMIN.value, Role.INSTALLATION_ADMIN.value, "coordinator"}
)
CHALLENGE_LIFETIME = dt.timedelta(minutes=5)
# Wrong codes one password may be followed by; then the password is asked again.
CHALLENGE_ATTEMPTS = 5
ISSUER = "intake"


class MfaError(ValueError):
    """A second-factor request that cannot be done; the message is for the person."""


@dataclass(frozen=True)
class Enrolment:
    """What a person needs to add the account to an authenticator app."""

    secret: str
    uri: str
    svg: str


@dataclass(frozen=True)
class Challenge:
    row: SignInChallenge
    user: User


def _locked_user(db: Session, user_id: str) -> User | None:
    # `of=User`: PostgreSQL locks no row of the organisation joined to it.
    return db.execute(
        select(User)
        .where(User.id == user_id)
        .with_for_update(of=User)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def required(user: User, settings: Settings) -> bool:
    """Whether this user must sign in with a code (and enrol first if they have none)."""
    if not settings.mfa_enforced:
        return False
    if user.role in REQUIRED_ROLES:
        return True
    return user.role == Role.OUTREACH_WORKER and bool(user.organisation.mfa_for_workers)


def needs_code(user: User, settings: Settings) -> bool:
    """Whether signing in takes a code: enrolled people always give one."""
    return user.totp_secret is not None or required(user, settings)


def _seal(settings: Settings, secret: str, context: str) -> str:
    return encrypt_value(keyring=keyring_for(settings), value=secret, context=context)


def _unseal(settings: Settings, token: str, context: str) -> str:
    return decrypt_value(keyring=keyring_for(settings), token=token, context=context)


def secret_context(user_id: str) -> str:
    """The associated data a user's TOTP secret is sealed with."""
    return f"user:{user_id}:totp"


def pending_context(user_id: str) -> str:
    """The associated data of a secret shown on the account page, not yet confirmed."""
    return f"user:{user_id}:totp_pending"


def challenge_context(token_hash: str) -> str:
    """The associated data of a secret shown on the sign-in enrolment step."""
    return f"challenge:{token_hash}:totp"


def enrolment_for(user: User, secret: str) -> Enrolment:
    """The secret, its otpauth URI and QR code for this user."""
    uri = totp.provisioning_uri(secret=secret, account=user.username, issuer=ISSUER)
    return Enrolment(secret=secret, uri=uri, svg=totp.qr_svg(uri))


# --- the code step of signing in -------------------------------------------------------


def open_challenge(*, db: Session, settings: Settings, user: User) -> str:
    """In the caller's write transaction: the password was right, a code is owed.

    Returns the token for the challenge cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    token_hash = sessions.hash_token(token)
    now = utcnow()
    db.execute(delete(SignInChallenge).where(SignInChallenge.expires_at < now))
    enrol_secret = None
    if user.totp_secret is None:
        enrol_secret = _seal(settings, totp.new_secret(), challenge_context(token_hash))
    db.add(
        SignInChallenge(
            token_hash=token_hash,
            user_id=user.id,
            created_at=now,
            expires_at=now + CHALLENGE_LIFETIME,
            enrol_secret=enrol_secret,
        )
    )
    db.flush()
    return token


def find_challenge(*, db: Session, token: str | None, lock: bool = False) -> Challenge | None:
    """The live challenge of this cookie's token and its active user, or None."""
    if not token or len(token) > 100 or not token.isascii():
        return None
    query = select(SignInChallenge).where(SignInChallenge.token_hash == sessions.hash_token(token))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.execute(query).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    user_query = select(User).where(User.id == row.user_id)
    if lock:
        user_query = user_query.with_for_update(of=User).execution_options(populate_existing=True)
    user = db.execute(user_query).scalar_one_or_none()
    if user is None or not user.active:
        return None
    return Challenge(row=row, user=user)


def challenge_enrolment(*, db: Session, settings: Settings, token: str | None) -> Enrolment | None:
    """For a user who must enrol while signing in: the secret to add, or None."""
    with read_transaction(db):
        found = find_challenge(db=db, token=token)
    if found is None or found.row.enrol_secret is None:
        return None
    secret = _unseal(settings, found.row.enrol_secret, challenge_context(found.row.token_hash))
    return enrolment_for(found.user, secret)


def check_code(
    *, db: Session, settings: Settings, user: User, code: str, now: dt.datetime
) -> str | None:
    """In the caller's write transaction, with `user` locked: how `code` proves the user
    ("totp" or "recovery"), used up at once, or None."""
    if user.totp_secret is None:
        return None
    secret = _unseal(settings, user.totp_secret, secret_context(user.id))
    step = totp.matching_step(secret=secret, code=code, now=now, last_step=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return "totp"
    if not totp.looks_like_recovery_code(code):
        return None
    row = db.execute(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == totp.recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return None
    row.used_at = now
    return "recovery"


def check_enrolment_code(*, secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step of a first code for a secret being enrolled, or None."""
    return totp.matching_step(secret=secret, code=code, now=now, last_step=None)


def challenge_secret(settings: Settings, row: SignInChallenge) -> str | None:
    """The secret a challenge shows for enrolment, or None when the user is enrolled."""
    if row.enrol_secret is None:
        return None
    return _unseal(settings, row.enrol_secret, challenge_context(row.token_hash))


def enrol(
    *, db: Session, settings: Settings, user: User, secret: str, step: int, now: dt.datetime
) -> list[str]:
    """In the caller's write transaction: make `secret` the user's, with fresh recovery codes
    (returned to be shown once)."""
    user.totp_secret = _seal(settings, secret, secret_context(user.id))
    user.totp_pending_secret = None
    user.totp_last_step = step
    user.totp_enrolled_at = now
    codes = _replace_recovery_codes(db=db, user=user)
    audit.record(
        db=db, action="user.mfa_enrolled", actor_id=user.id, object_type="user", object_id=user.id
    )
    return codes


def _replace_recovery_codes(*, db: Session, user: User) -> list[str]:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    db.add_all(RecoveryCode(user_id=user.id, code_hash=totp.recovery_hash(c)) for c in codes)
    db.flush()
    return codes


def end_challenge(*, db: Session, row: SignInChallenge) -> None:
    """The challenge is used up (signed in, or too many wrong codes)."""
    db.execute(delete(SignInChallenge).where(SignInChallenge.token_hash == row.token_hash))


# --- one's own second factor ------------------------------------------------------------


def unused_recovery_codes(*, db: Session, user: User) -> int:
    """How many recovery codes the user has left."""
    with read_transaction(db):
        return int(
            db.execute(
                select(func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
            ).scalar_one()
        )


def start_own_enrolment(*, db: Session, settings: Settings, user: User) -> Enrolment:
    """A fresh secret for the account page, kept sealed until a code confirms it."""
    if user.totp_secret is not None:
        raise MfaError(_("A second factor is already set up for this account."))
    secret = totp.new_secret()
    with write_transaction(db):
        row = _locked_user(db, user.id)
        assert row is not None
        row.totp_pending_secret = _seal(settings, secret, pending_context(user.id))
    return enrolment_for(user, secret)


def pending_enrolment(*, settings: Settings, user: User) -> Enrolment | None:
    """The secret shown on the account page and not yet confirmed, if any."""
    if user.totp_pending_secret is None or user.totp_secret is not None:
        return None
    secret = _unseal(settings, user.totp_pending_secret, pending_context(user.id))
    return enrolment_for(user, secret)


def confirm_own_enrolment(*, db: Session, settings: Settings, user: User, code: str) -> list[str]:
    """Enrol the pending secret if `code` is valid for it; the recovery codes, shown once."""
    now = utcnow()
    codes: list[str] | None = None
    with write_transaction(db):
        row = _locked_user(db, user.id)
        if row is None or row.totp_pending_secret is None or row.totp_secret is not None:
            raise MfaError(_("Start the set-up again."))
        secret = _unseal(settings, row.totp_pending_secret, pending_context(row.id))
        step = check_enrolment_code(secret=secret, code=code, now=now)
        if step is not None:
            codes = enrol(db=db, settings=settings, user=row, secret=secret, step=step, now=now)
        else:
            audit.record(
                db=db,
                action="user.mfa_enrolled",
                actor_id=row.id,
                object_type="user",
                object_id=row.id,
                outcome="refused",
            )
    if codes is None:
        raise MfaError(_("That code is not right. Try the newest code."))
    user.totp_secret = row.totp_secret
    return codes


def regenerate_recovery_codes(*, db: Session, user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if user.totp_secret is None:
        raise MfaError(_("Set up a second factor first."))
    with write_transaction(db):
        codes = _replace_recovery_codes(db=db, user=user)
        audit.record(
            db=db,
            action="user.mfa_recovery_codes",
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
        )
    return codes


def _clear(db: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.totp_enrolled_at = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def remove_own(*, db: Session, settings: Settings, user: User) -> None:
    """Remove one's own second factor, where one's role does not require it."""
    if required(user, settings):
        raise MfaError(_("Your role requires a second factor: it cannot be removed."))
    with write_transaction(db):
        row = _locked_user(db, user.id)
        assert row is not None
        _clear(db, row)
        audit.record(
            db=db,
            action="user.mfa_removed",
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
        )


def reset(*, db: Session, actor: User | None, user: User) -> None:
    """A lost device: an administrator clears the user's second factor and ends their
    sessions; the user enrols again at their next sign-in (the caller checks `manages`)."""
    with write_transaction(db):
        row = _locked_user(db, user.id)
        assert row is not None
        _clear(db, row)
        sessions.end_all_sessions(db=db, user_id=row.id)
        audit.record(
            db=db,
            action="user.mfa_reset",
            actor_id=actor.id if actor is not None else None,
            object_type="user",
            object_id=row.id,
        )


def set_workers_required(*, db: Session, actor: User, required_: bool) -> None:
    """Whether the actor's organisation asks its outreach workers for a second factor."""
    with write_transaction(db):
        organisation = actor.organisation
        organisation = db.merge(organisation)
        organisation.mfa_for_workers = required_
        audit.record(
            db=db,
            action="organisation.mfa_for_workers",
            actor_id=actor.id,
            object_type="organisation",
            object_id=organisation.id,
            detail="on" if required_ else "off",
        )
