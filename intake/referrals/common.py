"""What every referral module shares: states, labels, errors, who sees a referral, events.

A referral is visible to the sending side (those who may see its case, through
intake.cases.access) and to the receiving organisation (its supervisors, and whoever may
see the linked case made on accept). Anything else is ReferralNotFound, a 404 that
confirms nothing, audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases.access import CaseNotFound, get_visible_case
from intake.cases.rules import CaseError
from intake.config import Settings
from intake.db import write_transaction
from intake.definitions import service as definitions
from intake.forms.definition import FormDefinition
from intake.forms.storage import keyring_for
from intake.i18n import gettext as _
from intake.referrals.models import Referral, ReferralEvent, ReferralForm
from intake.security.field_crypto import FieldCryptoError, decrypt_value, encrypt_value
from intake.security.permissions import Permission, has_permission

SENT, ACCEPTED, DECLINED, CLOSED = "sent", "accepted", "declined", "closed"
OPEN = (SENT, ACCEPTED)
DELIVERED, NOT_DELIVERED = "delivered", "not_delivered"
MAX_ID_LENGTH = 32
MAX_REASON = 2000

_SERVICES: Mapping[str, Callable[[], str]] = {
    "housing": lambda: _("Housing"),
    "psychological_support": lambda: _("Psychological support"),
    "medical_care": lambda: _("Medical care"),
    "legal_aid": lambda: _("Legal aid"),
    "education": lambda: _("Education"),
    "employment": lambda: _("Employment"),
    "interpretation": lambda: _("Interpretation"),
    "other": lambda: _("Other"),
}
SERVICES = tuple(_SERVICES)


def service_label(service: str) -> str:
    """A service's name in the reader's language."""
    named = _SERVICES.get(service)
    return named() if named else service


def status_label(status: str) -> str:
    """A referral's status in the reader's language."""
    labels = {
        SENT: _("Waiting for an answer"),
        ACCEPTED: _("Accepted"),
        DECLINED: _("Declined"),
        CLOSED: _("Closed"),
    }
    return labels.get(status, status)


def outcome_label(outcome: str) -> str:
    """A closed referral's outcome in the reader's language."""
    labels = {DELIVERED: _("Service delivered"), NOT_DELIVERED: _("Service not delivered")}
    return labels.get(outcome, outcome)


class ReferralError(CaseError):
    """A refused referral action; str(error) is a translated message. Nothing was stored."""


class AlreadyAnswered(ReferralError):
    """Someone else answered (or closed) the referral first."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or _("This referral was already answered. Reload to see the answer.")
        )


class ReferralNotFound(LookupError):
    """No referral with this id that this user may see (it may exist: never say)."""


def valid_id(value: str) -> bool:
    """An opaque id short and clean enough to look up."""
    return 0 < len(value) <= MAX_ID_LENGTH and "\x00" not in value


# --- seeing ---------------------------------------------------------------------------


def sees_case(db: Session, user: User, case_id: str | None) -> bool:
    """Whether `user` may see the case (intake.cases.access decides)."""
    if not case_id:
        return False
    try:
        get_visible_case(db=db, user=user, case_id=case_id)
    except CaseNotFound:
        return False
    return True


def side_of(*, db: Session, user: User, referral: Referral) -> str | None:
    """ "sender", "receiver" or None: which side of the referral `user` stands on."""
    if not user.active or not has_permission(user, Permission.REFERRALS_MAKE):
        return None
    if user.organisation_id == referral.from_organisation_id and sees_case(
        db, user, referral.case_id
    ):
        return "sender"
    if user.organisation_id == referral.to_organisation_id and (
        has_permission(user, Permission.REFERRALS_ANSWER)
        or sees_case(db, user, referral.linked_case_id)
    ):
        return "receiver"
    return None


def get_visible_referral(*, db: Session, user: User, referral_id: str) -> tuple[Referral, str]:
    """The referral and the user's side, else ReferralNotFound."""
    if not valid_id(referral_id):
        raise ReferralNotFound
    referral = db.get(Referral, referral_id)
    if referral is None:
        raise ReferralNotFound
    side = side_of(db=db, user=user, referral=referral)
    if side is None:
        raise ReferralNotFound
    return referral, side


def refuse(
    db: Session, *, actor: User, object_type: str, object_id: str, action: str, code: str
) -> None:
    """Audit a refused action (nothing else is stored), and commit."""
    with write_transaction(db):
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type=object_type,
            object_id=object_id if valid_id(object_id) else "",
            outcome="refused",
            detail=code,
        )


def refused(
    db: Session,
    *,
    actor: User,
    object_type: str,
    object_id: str,
    action: str,
    code: str,
    message: str,
) -> ReferralError:
    """Audit a refused action (nothing else is stored) and give the error to raise."""
    refuse(db, actor=actor, object_type=object_type, object_id=object_id, action=action, code=code)
    return ReferralError(message)


def insert_audited(
    db: Session, *, row: object, actor: User, action: str, case_id: str, detail: Callable[[], str]
) -> None:
    """Insert `row` and its audit row on the case in one transaction (IntegrityError passes)."""
    with write_transaction(db):
        db.add(row)
        db.flush()
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="case",
            object_id=case_id,
            detail=detail(),
        )


@contextmanager
def answered_once(
    db: Session, *, actor: User, object_type: str, object_id: str, action: str
) -> Iterator[None]:
    """A write transaction whose AlreadyAnswered (someone was first) is audited and re-raised."""
    try:
        with write_transaction(db):
            yield
    except AlreadyAnswered:
        refuse(
            db,
            actor=actor,
            object_type=object_type,
            object_id=object_id,
            action=action,
            code="already_answered",
        )
        raise


def record_unseen(*, db: Session, user: User, referral_id: str, action: str) -> None:
    """Audit a request for a referral `user` may not see (or that does not exist), and commit."""
    refuse(
        db,
        actor=user,
        object_type="referral",
        object_id=referral_id,
        action=action,
        code="not_found",
    )


def is_overdue(*, referral: Referral, answer_days: int, now: dt.datetime) -> bool:
    """A referral still unanswered after `answer_days` whole days."""
    return referral.status == SENT and (now - referral.created_at).days > answer_days


def form_of(db: Session, version_id: str) -> FormDefinition | None:
    """The compiled form of a stored version, or None."""
    version = definitions.get_version(db=db, version_id=version_id)
    return definitions.compiled_form(version) if version else None


def copies_of(db: Session, referral_id: str) -> list[ReferralForm]:
    """The shared forms of a referral, by form key."""
    return list(
        db.execute(
            select(ReferralForm)
            .where(ReferralForm.referral_id == referral_id)
            .order_by(ReferralForm.form_key)
        ).scalars()
    )


def organisation_names(db: Session, ids: set[str]) -> dict[str, str]:
    """Organisation names by id."""
    if not ids:
        return {}
    return dict(
        db.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()
    )


# --- history --------------------------------------------------------------------------


def add_event(
    db: Session,
    referral: Referral,
    actor: User,
    kind: str,
    at: dt.datetime,
    *,
    outcome: str = "",
    sealed_reason: str = "",
) -> None:
    """Insert one history row (inside the caller's write transaction)."""
    db.add(
        ReferralEvent(
            referral_id=referral.id,
            at=at,
            kind=kind,
            actor_id=actor.id,
            organisation_id=actor.organisation_id,
            outcome=outcome,
            sealed_reason=sealed_reason,
        )
    )


def seal_reason(settings: Settings, referral_id: str, kind: str, reason: str) -> str:
    """A free-text reason sealed for its event ("" stays "")."""
    if not reason:
        return ""
    return encrypt_value(
        keyring=keyring_for(settings), value=reason, context=f"referral_event:{referral_id}:{kind}"
    )


def open_reason(settings: Settings, event: ReferralEvent) -> str:
    """An event's reason in clear, or "" when there is none or it does not open."""
    if not event.sealed_reason:
        return ""
    try:
        return decrypt_value(
            keyring=keyring_for(settings),
            token=event.sealed_reason,
            context=f"referral_event:{event.referral_id}:{event.kind}",
        )
    except FieldCryptoError:
        return ""
