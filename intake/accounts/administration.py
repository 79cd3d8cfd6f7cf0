"""Who administers which accounts, hand-overs of one-time passwords, and the account
changes a supervisor sees.

An organisation administrator manages their own organisation's users; the installation
administrator manages organisations and their administrators. Neither ever learns a
password that opens case data: such a user's one-time password is made by a supervisor
of their organisation (or, with none, by the operator on the command line)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from intake.accounts import service
from intake.accounts.models import Organisation, OrganisationKind, Role, User
from intake.audit import service as audit
from intake.audit.models import AuditEvent
from intake.i18n import gettext as _
from intake.security import passwords, sessions
from intake.security.permissions import CASE_ACCESS_ROLES

ACCOUNT_ACTIONS = (
    "user.created",
    "user.password_reset",
    "user.handed_over",
    "user.disabled",
    "user.enabled",
    "user.sessions_revoked",
    "user.password_changed",
    "user.manage",
)
ORGANISATION_ACTIONS = ("organisation.deactivated", "organisation.activated")


class NotManaged(LookupError):
    """No such account, or not one the actor manages: the same 404 either way."""


class Channel(StrEnum):
    """Who gives the new one-time password to its user."""

    ACTOR = "actor"  # shown to the administrator (an administrator's password opens no case)
    SUPERVISOR = "supervisor"  # made by a supervisor of the user's organisation
    OPERATOR = "operator"  # made on the command line (no supervisor yet)


@dataclass(frozen=True)
class Issued:
    user: User
    channel: Channel
    secret: str | None  # only for Channel.ACTOR


@dataclass(frozen=True)
class AccountChange:
    at: dt.datetime
    action: str
    outcome: str
    username: str
    actor: str
    actor_role: str
    actor_outside: bool


def manages(actor: User, target: User) -> bool:
    """Whether `actor` administers `target`'s account."""
    if actor.role == Role.INSTALLATION_ADMIN:
        return target.role == Role.ADMIN
    if actor.role == Role.ADMIN:
        return (
            target.organisation_id == actor.organisation_id
            and target.role != Role.INSTALLATION_ADMIN
        )
    return False


def creatable_roles(actor: User) -> list[str]:
    """The roles `actor` may give a new account."""
    if actor.role == Role.INSTALLATION_ADMIN:
        return [Role.ADMIN.value]
    if actor.role == Role.ADMIN and actor.organisation.kind == OrganisationKind.COORDINATION:
        # A coordinating body holds no case: its people read anonymised figures only.
        return [Role.COORDINATOR.value, Role.ADMIN.value]
    if actor.role == Role.ADMIN:
        return [Role.OUTREACH_WORKER.value, Role.SUPERVISOR.value, Role.ADMIN.value]
    return []


def managed_user(*, db: Session, actor: User, user_id: str) -> User:
    """The account `actor` manages with this id; a refused attempt is audited."""
    # An opaque id never holds NUL (which PostgreSQL text cannot): no such user.
    target = None if "\x00" in user_id else service.find_user(db=db, user_id=user_id[:32])
    if target is not None and manages(actor, target):
        return target
    if target is not None:
        # Recorded so the target organisation's supervisors see the attempt.
        audit.record(
            db=db,
            action="user.manage",
            actor_id=actor.id,
            object_type="user",
            object_id=target.id,
            outcome="refused",
        )
        db.commit()
    raise NotManaged


def manageable_users(*, db: Session, actor: User) -> list[User]:
    """The accounts `actor` manages, by organisation then username."""
    query = select(User).join(Organisation).order_by(Organisation.name, User.username)
    if actor.role == Role.INSTALLATION_ADMIN:
        query = query.where(User.role == Role.ADMIN.value)
    elif actor.role == Role.ADMIN:
        query = query.where(
            User.organisation_id == actor.organisation_id,
            User.role != Role.INSTALLATION_ADMIN.value,
        )
    else:
        return []
    return list(db.execute(query).scalars())


def organisations_for(*, db: Session, actor: User) -> list[Organisation]:
    """The organisations `actor` may add accounts to."""
    if actor.role == Role.INSTALLATION_ADMIN:
        return [org for org in service.list_organisations(db=db) if org.active]
    if actor.role == Role.ADMIN:
        return [actor.organisation]
    return []


def handover_channel(
    *, db: Session, role: str, organisation_id: str, user_id: str | None = None
) -> Channel:
    """Who may learn the next one-time password of an account with this role, asked for
    by an administrator."""
    if role not in CASE_ACCESS_ROLES:
        return Channel.ACTOR
    supervisor = db.execute(
        select(User.id)
        .where(
            User.organisation_id == organisation_id,
            User.role == Role.SUPERVISOR.value,
            User.active.is_(True),
            User.id != (user_id or ""),
        )
        .limit(1)
    ).scalar_one_or_none()
    return Channel.SUPERVISOR if supervisor is not None else Channel.OPERATOR


def create_account(
    *,
    db: Session,
    actor: User,
    username: str,
    display_name: str,
    role: str,
    organisation_id: str,
) -> Issued:
    """Create an account within `actor`'s reach; the one-time password goes by its channel."""
    if role not in creatable_roles(actor):
        raise service.AccountError(_("Choose a role."))
    if actor.role == Role.INSTALLATION_ADMIN:
        org = db.get(Organisation, organisation_id[:32])
    else:
        org = actor.organisation
    if org is None or org not in organisations_for(db=db, actor=actor):
        raise service.AccountError(_("Choose an organisation."))
    channel = handover_channel(db=db, role=role, organisation_id=org.id)
    user, secret = service.create_user(
        db=db,
        username=username,
        display_name=display_name,
        role=role,
        organisation=org,
        password=None,
        actor=actor,
        hand_over=channel != Channel.ACTOR,
    )
    return Issued(user=user, channel=channel, secret=secret)


def reset_account(*, db: Session, actor: User, user: User) -> Issued:
    """Reset a managed account's password; the one-time password goes by its channel."""
    channel = handover_channel(
        db=db, role=user.role, organisation_id=user.organisation_id, user_id=user.id
    )
    secret = service.reset_password(
        db=db, actor=actor, user=user, hand_over=channel != Channel.ACTOR
    )
    return Issued(user=user, channel=channel, secret=secret)


def set_account_active(*, db: Session, actor: User, user: User, active: bool) -> None:
    """Disable or enable a managed account; none is enabled in a deactivated organisation."""
    if active and not user.organisation.active:
        raise service.AccountError(_("The organisation is deactivated."))
    service.set_active(db=db, actor=actor, user=user, active=active)


# --- a supervisor's hand-overs and view of account changes -------------------------


def pending_handovers(*, db: Session, supervisor: User) -> list[User]:
    """Colleagues waiting for a one-time password from a supervisor."""
    return list(
        db.execute(
            select(User)
            .where(
                User.organisation_id == supervisor.organisation_id,
                User.handover_pending.is_(True),
                User.active.is_(True),
                User.id != supervisor.id,
            )
            .order_by(User.username)
        ).scalars()
    )


def hand_over(*, db: Session, supervisor: User, user_id: str) -> tuple[User, str]:
    """Make the one-time password of a waiting colleague, for the supervisor to hand over."""
    # Hashed before the first statement: argon2 never runs inside a write transaction.
    secret = service.generate_one_time_secret()
    password_hash = passwords.hash_password(secret)
    waiting = {u.id: u for u in pending_handovers(db=db, supervisor=supervisor)}
    user = waiting.get(user_id[:32])
    if user is None:
        raise NotManaged
    user.password_hash = password_hash
    user.must_change_password = True
    user.handover_pending = False
    sessions.end_all_sessions(db=db, user_id=user.id)
    audit.record(
        db=db,
        action="user.handed_over",
        actor_id=supervisor.id,
        object_type="user",
        object_id=user.id,
    )
    db.commit()
    return user, secret


def account_changes(*, db: Session, supervisor: User, limit: int = 50) -> list[AccountChange]:
    """The newest changes to accounts of the supervisor's organisation, by anyone."""
    target = aliased(User)
    actor = aliased(User)
    org_id = supervisor.organisation_id
    rows = db.execute(
        select(AuditEvent, target.username, actor)
        .outerjoin(
            target,
            and_(AuditEvent.object_type == "user", AuditEvent.object_id == target.id),
        )
        .outerjoin(actor, AuditEvent.actor_id == actor.id)
        .where(
            or_(
                and_(
                    AuditEvent.action.in_(ACCOUNT_ACTIONS),
                    target.organisation_id == org_id,
                ),
                and_(
                    AuditEvent.action.in_(ORGANISATION_ACTIONS),
                    AuditEvent.object_id == org_id,
                ),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        AccountChange(
            at=event.at,
            action=event.action,
            outcome=event.outcome,
            username=username or "",
            actor=by.username if by else "",
            actor_role=by.role if by else "",
            actor_outside=by is not None and by.organisation_id != org_id,
        )
        for event, username, by in rows
    ]


# --- organisations (the installation administrator) --------------------------------


def create_organisation(*, db: Session, actor: User, name: str, kind: str) -> Organisation:
    """A new organisation, named uniquely."""
    name = name.strip()
    # Control characters are no part of a name (and PostgreSQL text cannot hold NUL).
    if not name or len(name) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise service.AccountError(_("Name the organisation."))
    if kind not in {k.value for k in OrganisationKind}:
        kind = OrganisationKind.OTHER.value
    taken = db.execute(select(Organisation.id).where(Organisation.name == name)).first()
    if taken is not None:
        raise service.AccountError(_("That organisation exists already."))
    org = Organisation(name=name, kind=kind)
    db.add(org)
    db.flush()
    audit.record(
        db=db,
        action="organisation.created",
        actor_id=actor.id,
        object_type="organisation",
        object_id=org.id,
    )
    db.commit()
    return org


def find_organisation(*, db: Session, organisation_id: str) -> Organisation:
    """An organisation by opaque id."""
    org = None if "\x00" in organisation_id else db.get(Organisation, organisation_id[:32])
    if org is None:
        raise NotManaged
    return org


def set_organisation_active(
    *, db: Session, actor: User, organisation: Organisation, active: bool
) -> None:
    """Deactivate (disabling every user and ending their sessions) or reactivate an
    organisation; its users stay disabled until enabled one by one."""
    if not active and organisation.id == actor.organisation_id:
        raise service.AccountError(_("You cannot deactivate your own organisation."))
    organisation.active = active
    if not active:
        members = db.execute(
            select(User).where(User.organisation_id == organisation.id, User.active.is_(True))
        ).scalars()
        for member in members:
            member.active = False
            sessions.end_all_sessions(db=db, user_id=member.id)
            audit.record(
                db=db,
                action="user.disabled",
                actor_id=actor.id,
                object_type="user",
                object_id=member.id,
            )
    audit.record(
        db=db,
        action="organisation.activated" if active else "organisation.deactivated",
        actor_id=actor.id,
        object_type="organisation",
        object_id=organisation.id,
    )
    db.commit()
