"""Sign-in, passwords and user administration."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, OrganisationKind, Role, User
from intake.audit import service as audit
from intake.config import Settings
from intake.db import utcnow
from intake.i18n import gettext as _
from intake.security import passwords, sessions


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the person."""


def sign_out(*, db: Session, user: User, token: str) -> None:
    """End this session only."""
    sessions.end_session(db=db, token=token)
    audit.record(
        db=db, action="auth.sign_out", actor_id=user.id, object_type="user", object_id=user.id
    )
    db.commit()


def change_password(
    *, db: Session, settings: Settings, user: User, current: str, new: str, confirm: str
) -> str:
    """Set a new password, end every other session and return a fresh session token."""
    if not passwords.verify_password(user.password_hash, current):
        raise AccountError(_("The current password is not right."))
    if new != confirm:
        raise AccountError(_("The two new passwords are not the same."))
    problems = passwords.policy_problems(new, username=user.username)
    if problems:
        raise AccountError(" ".join(problems))
    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    user.handover_pending = False
    user.password_changed_at = utcnow()
    sessions.end_all_sessions(db=db, user_id=user.id)
    token = sessions.start_session(db=db, user=user, settings=settings)
    audit.record(
        db=db,
        action="user.password_changed",
        actor_id=user.id,
        object_type="user",
        object_id=user.id,
    )
    db.commit()
    return token


def get_or_create_organisation(
    *, db: Session, name: str, kind: str = OrganisationKind.NGO, country: str = "LT"
) -> Organisation:
    """The organisation of that name, created when it does not exist yet."""
    org = db.execute(select(Organisation).where(Organisation.name == name)).scalar_one_or_none()
    if org is None:
        org = Organisation(name=name, kind=str(kind), country=country.upper()[:2])
        db.add(org)
        db.flush()
    return org


def create_user(
    *,
    db: Session,
    username: str,
    display_name: str,
    role: str,
    organisation: Organisation,
    password: str | None,
    actor: User | None = None,
    locale: str | None = None,
    hand_over: bool = False,
) -> tuple[User, str | None]:
    """Create a user. Without a password, a one-time secret is made (returned once) that
    must be changed at first sign-in; with `hand_over`, none is returned and the user
    waits for a supervisor to make and hand over their one-time password."""
    name = username.strip().lower()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise AccountError(
            _("A username has 1 to 64 letters, digits, dots, dashes or underscores.")
        )
    if role not in {r.value for r in Role}:
        raise AccountError(_("Choose a role."))
    one_time = None
    if password is None:
        one_time = generate_one_time_secret()
        password = one_time
    else:
        problems = passwords.policy_problems(password, username=name)
        if problems:
            raise AccountError(" ".join(problems))
    # Hashed before the first statement: argon2 never runs inside a write transaction.
    password_hash = passwords.hash_password(password)
    if db.execute(select(func.count()).select_from(User).where(User.username == name)).scalar_one():
        raise AccountError(_("That username is taken."))
    # A random password nobody is told: unusable until the hand-over.
    withheld = hand_over and one_time is not None
    user = User(
        username=name,
        display_name=display_name.strip()[:200] or name,
        role=role,
        organisation_id=organisation.id,
        password_hash=password_hash,
        must_change_password=one_time is not None,
        handover_pending=withheld,
        locale=locale,
    )
    db.add(user)
    db.flush()
    audit.record(
        db=db,
        action="user.created",
        actor_id=actor.id if actor else None,
        object_type="user",
        object_id=user.id,
        detail=f"role={user.role}",
    )
    db.commit()
    return user, None if withheld else one_time


def generate_one_time_secret() -> str:
    """A secret the administrator hands over once; 20 characters, easy to read aloud."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def reset_password(
    *, db: Session, actor: User | None, user: User, hand_over: bool = False
) -> str | None:
    """Replace the password with a one-time secret and end the user's sessions; with
    `hand_over` the secret is not returned (a supervisor makes the next one)."""
    secret = generate_one_time_secret()
    user.password_hash = passwords.hash_password(secret)
    user.must_change_password = True
    user.handover_pending = hand_over
    user.failed_logins = 0
    user.locked_until = None
    sessions.end_all_sessions(db=db, user_id=user.id)
    audit.record(
        db=db,
        action="user.password_reset",
        actor_id=actor.id if actor else None,
        object_type="user",
        object_id=user.id,
    )
    db.commit()
    return None if hand_over else secret


def set_active(*, db: Session, actor: User | None, user: User, active: bool) -> None:
    """Disable (ending every session at once) or enable a user."""
    if actor is not None and actor.id == user.id and not active:
        raise AccountError(_("You cannot disable your own account."))
    user.active = active
    if not active:
        sessions.end_all_sessions(db=db, user_id=user.id)
    audit.record(
        db=db,
        action="user.enabled" if active else "user.disabled",
        actor_id=actor.id if actor else None,
        object_type="user",
        object_id=user.id,
    )
    db.commit()


def revoke_sessions(*, db: Session, actor: User | None, user: User) -> int:
    """End every session of `user` (a lost phone); returns how many ended."""
    count = sessions.end_all_sessions(db=db, user_id=user.id)
    audit.record(
        db=db,
        action="user.sessions_revoked",
        actor_id=actor.id if actor else None,
        object_type="user",
        object_id=user.id,
    )
    db.commit()
    return count


def set_locale_preference(*, db: Session, user: User, locale: str) -> None:
    """Remember the user's interface language."""
    user.locale = locale
    db.commit()


def find_user(*, db: Session, user_id: str) -> User | None:
    """A user by opaque id."""
    return db.get(User, user_id)


def find_user_by_name(*, db: Session, username: str) -> User | None:
    """A user by username (case-insensitive)."""
    return db.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()


def list_users(*, db: Session) -> list[User]:
    """Every user, by organisation then name."""
    return list(
        db.execute(
            select(User).join(Organisation).order_by(Organisation.name, User.username)
        ).scalars()
    )


def list_organisations(*, db: Session) -> list[Organisation]:
    """Every organisation by name."""
    return list(db.execute(select(Organisation).order_by(Organisation.name)).scalars())


def count_users(*, db: Session) -> int:
    """How many users exist."""
    return int(db.execute(select(func.count()).select_from(User)).scalar_one())
