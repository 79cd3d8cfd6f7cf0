"""Answering a referral (accept with a person, decline with a reason) and closing it.

Each action reads and checks first (no write lock), then writes in one short
transaction. Answering and closing are conditional UPDATEs (`WHERE status = ...`), so
of two supervisors answering at once exactly one wins; the other is told
"already answered", and that refusal is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit import service as audit
from intake.cases import service as cases
from intake.cases.rules import NotPermitted
from intake.config import Settings
from intake.db import read_transaction, utcnow
from intake.forms.storage import sealed_names
from intake.i18n import gettext as _
from intake.referrals.common import (
    ACCEPTED,
    CLOSED,
    DECLINED,
    DELIVERED,
    NOT_DELIVERED,
    SENT,
    AlreadyAnswered,
    ReferralNotFound,
    add_event,
    answered_once,
    copies_of,
    form_of,
    get_visible_referral,
    refused,
    seal_reason,
    valid_id,
)
from intake.referrals.models import Referral
from intake.security.permissions import Permission, has_permission, roles_with

ASSIGNABLE_ROLES = roles_with(Permission.CASES_VIEW)


def assignees(*, db: Session, organisation_id: str) -> list[User]:
    """The active people of the receiving organisation who may be given the linked case."""
    return list(
        db.execute(
            select(User)
            .where(
                User.organisation_id == organisation_id,
                User.active.is_(True),
                User.role.in_(sorted(ASSIGNABLE_ROLES)),
            )
            .order_by(User.display_name)
        ).scalars()
    )


def _answerable(db: Session, actor: User, referral_id: str) -> Referral:
    if not has_permission(actor, Permission.REFERRALS_ANSWER):
        raise NotPermitted
    referral, side = get_visible_referral(db=db, user=actor, referral_id=referral_id)
    if side != "receiver":
        raise ReferralNotFound
    return referral


def _once(
    db: Session,
    actor: User,
    referral: Referral,
    action: str,
    statuses: tuple[str, ...],
    values: Callable[[dt.datetime], dict[str, Any]],
    then: Callable[[dt.datetime], None],
) -> Referral:
    """One answer or close: the conditional UPDATE from `statuses`, the caller's writes in the
    same transaction; a loser of the race gets AlreadyAnswered, audited."""
    now = utcnow()
    with answered_once(
        db, actor=actor, object_type="referral", object_id=referral.id, action=action
    ):
        result = db.execute(
            update(Referral)
            .where(Referral.id == referral.id, Referral.status.in_(statuses))
            .values(**values(now))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise AlreadyAnswered
        then(now)
    db.refresh(referral)
    return referral


def _track_answers(db: Session, referral: Referral) -> dict[str, Any]:
    # The linked case's track is chosen from the shared forms' plain answers only.
    answers: dict[str, Any] = {}
    for copy in copies_of(db, referral.id):
        form = form_of(db, copy.form_version_id)
        if form is None or not isinstance(copy.answers, dict):
            continue
        hidden = sealed_names(form)
        answers.update(
            {
                f"{copy.form_key}.{k}": v
                for k, v in copy.answers.items()
                if k not in hidden and v is not None
            }
        )
    return answers


def accept(*, db: Session, actor: User, referral_id: str, assignee_id: str) -> Referral:
    """Accept for the receiving organisation: a linked case of its own, owned by `assignee_id`."""
    action = "referral.accepted"
    with read_transaction(db):
        referral = _answerable(db, actor, referral_id)
        assignee = db.get(User, assignee_id) if valid_id(assignee_id) else None
        valid = assignee is not None and assignee in assignees(
            db=db, organisation_id=actor.organisation_id
        )
        answers = _track_answers(db, referral) if valid else {}
    if not valid or assignee is None:
        raise refused(
            db,
            actor=actor,
            object_type="referral",
            object_id=referral_id,
            action=action,
            code="assignee",
            message=_("Choose a person of your organisation to work with the person."),
        )

    def then(now: dt.datetime) -> None:
        linked = cases.create_case(
            db=db, actor=actor, intake_answers=answers, submission_ids=[], today=now.date()
        )
        linked.owner_id = assignee.id
        db.flush()
        db.execute(
            update(Referral)
            .where(Referral.id == referral_id)
            .values(linked_case_id=linked.id)
            .execution_options(synchronize_session=False)
        )
        add_event(db, referral, actor, ACCEPTED, now)
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="referral",
            object_id=referral_id,
            detail=f"case={linked.id}",
        )

    def values(now: dt.datetime) -> dict[str, Any]:
        return {
            "status": ACCEPTED,
            "assignee_id": assignee.id,
            "answered_by_id": actor.id,
            "answered_at": now,
        }

    return _once(db, actor, referral, action, (SENT,), values, then)


def decline(
    *, db: Session, settings: Settings, actor: User, referral_id: str, reason: str
) -> Referral:
    """Decline for the receiving organisation, with a reason."""
    action = "referral.declined"
    reason = reason.strip()
    with read_transaction(db):
        referral = _answerable(db, actor, referral_id)
    if not reason:
        raise refused(
            db,
            actor=actor,
            object_type="referral",
            object_id=referral_id,
            action=action,
            code="reason",
            message=_("Say why the referral is declined."),
        )

    def then(now: dt.datetime) -> None:
        sealed = seal_reason(settings, referral_id, DECLINED, reason)
        add_event(db, referral, actor, DECLINED, now, sealed_reason=sealed)
        audit.record(
            db=db, action=action, actor_id=actor.id, object_type="referral", object_id=referral_id
        )

    def values(now: dt.datetime) -> dict[str, Any]:
        return {
            "status": DECLINED,
            "open_service": None,
            "closed_at": now,
            "answered_by_id": actor.id,
            "answered_at": now,
        }

    return _once(db, actor, referral, action, (SENT,), values, then)


def closable_by(side: str) -> tuple[str, ...]:
    """The statuses a side may close: the receiving side answers a waiting referral instead."""
    return (SENT, ACCEPTED) if side == "sender" else (ACCEPTED,)


def close(
    *,
    db: Session,
    settings: Settings,
    actor: User,
    referral_id: str,
    outcome: str,
    reason: str,
) -> Referral:
    """Close an open referral with its outcome, from either side."""
    action = "referral.closed"
    reason = reason.strip()
    with read_transaction(db):
        referral, side = get_visible_referral(db=db, user=actor, referral_id=referral_id)
    code, message = "", ""
    if outcome not in (DELIVERED, NOT_DELIVERED):
        code, message = "outcome", _("Choose the outcome of the referral.")
    elif outcome == NOT_DELIVERED and not reason:
        code, message = "reason", _("Say why the service was not delivered.")
    if code:
        raise refused(
            db,
            actor=actor,
            object_type="referral",
            object_id=referral_id,
            action=action,
            code=code,
            message=message,
        )

    def then(now: dt.datetime) -> None:
        sealed = seal_reason(settings, referral_id, CLOSED, reason)
        add_event(db, referral, actor, CLOSED, now, outcome=outcome, sealed_reason=sealed)
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="referral",
            object_id=referral_id,
            detail=f"outcome={outcome} side={side}",
        )

    def values(now: dt.datetime) -> dict[str, Any]:
        return {"status": CLOSED, "outcome": outcome, "open_service": None, "closed_at": now}

    return _once(db, actor, referral, action, closable_by(side), values, then)
