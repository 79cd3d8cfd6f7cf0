"""Transfers: a case handed over to another organisation; on accept, responsibility moves.

A supervisor transfers a case they may see to another active organisation, if the
person's latest consent allows referral to that kind (intake.cases.consent.may_share),
the case is open, and no referral from it is open. The receiving organisation's
supervisors accept (naming who takes the case) or decline with a reason; the answer is a
conditional UPDATE, so of two supervisors answering at once exactly one wins.

On accept, in one transaction: the case row moves (organisation, owner), so its history
moves with it; its fillings move, those with sensitive answers the consent does not let
that kind of organisation see move without them (the full filling stays with the
sender, out of every case); its team ends. Its notes stay with the sender
(intake.cases.notes shows a case's notes to its own organisation only). The sender keeps
the transfer row: a read-only stub (reference, dates, "transferred to X").
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import consent
from intake.cases.access import get_visible_case
from intake.cases.models import Case, CaseTeamMember
from intake.cases.rules import ConflictError, NotPermitted, record_case_event
from intake.config import Settings
from intake.db import new_id, read_transaction, utcnow, write_transaction
from intake.filling.models import Submission
from intake.forms.storage import keyring_for, sealed_names
from intake.i18n import gettext as _
from intake.referrals.answering import assignees
from intake.referrals.common import (
    OPEN,
    AlreadyAnswered,
    answered_once,
    insert_audited,
    refuse,
    refused,
    valid_id,
)
from intake.referrals.common import form_of as _form_of
from intake.referrals.making import consent_problem, target_problem
from intake.referrals.models import PartnerMember, Referral, Transfer
from intake.security.field_crypto import FieldCryptoError, decrypt_value, encrypt_value
from intake.security.permissions import Permission, has_permission

SENT, ACCEPTED, DECLINED = "sent", "accepted", "declined"


class TransferNotFound(LookupError):
    """No transfer with this id that this user may see (it may exist: never say)."""


def status_label(status: str) -> str:
    """A transfer's status in the reader's language."""
    labels = {
        SENT: _("Waiting for an answer"),
        ACCEPTED: _("Transferred"),
        DECLINED: _("Declined"),
    }
    return labels.get(status, status)


def side_of(*, user: User, transfer: Transfer) -> str | None:
    """ "sender", "receiver" or None. The sending organisation's supervisors keep the stub
    after the case has left; nobody else of either organisation sees the transfer."""
    if not user.active or not has_permission(user, Permission.CASES_TRANSFER):
        return None
    if user.organisation_id == transfer.from_organisation_id:
        return "sender"
    if user.organisation_id == transfer.to_organisation_id:
        return "receiver"
    return None


def get_visible_transfer(*, db: Session, user: User, transfer_id: str) -> tuple[Transfer, str]:
    """The transfer and the user's side, else TransferNotFound."""
    transfer = db.get(Transfer, transfer_id) if valid_id(transfer_id) else None
    side = side_of(user=user, transfer=transfer) if transfer is not None else None
    if transfer is None or side is None:
        raise TransferNotFound
    return transfer, side


def _open_referrals(db: Session, case_id: str) -> bool:
    found = db.execute(
        select(Referral.id).where(Referral.case_id == case_id, Referral.status.in_(OPEN))
    ).first()
    return found is not None


def _waiting(db: Session, case_id: str) -> bool:
    return (
        db.execute(select(Transfer.id).where(Transfer.open_case_id == case_id)).first() is not None
    )


def make_transfer(*, db: Session, actor: User, case_id: str, to_organisation_id: str) -> Transfer:
    """Offer the case to another organisation; nothing moves until it accepts."""
    action = "transfer.sent"
    if not has_permission(actor, Permission.CASES_TRANSFER):
        raise NotPermitted
    with read_transaction(db):
        case = get_visible_case(db=db, user=actor, case_id=case_id)
        target = db.get(Organisation, to_organisation_id) if valid_id(to_organisation_id) else None
        problem = target_problem(
            case=case, actor=actor, target=target, target_id=to_organisation_id, verb="transfer"
        )
        if problem is None and target is not None:
            problem = consent_problem(db=db, case=case, target=target)
        if problem is None and _waiting(db, case.id):
            problem = ("duplicate", _("This case already waits for an answer to a transfer."))
        if problem is None and _open_referrals(db, case.id):
            problem = ("referrals", _("Close the case's open referrals before transferring it."))
    if problem is not None or target is None:
        code, message = problem or ("organisation", "")
        raise refused(
            db,
            actor=actor,
            object_type="case",
            object_id=case_id,
            action=action,
            code=code,
            message=message,
        )
    transfer = Transfer(
        id=new_id(),
        case_id=case.id,
        open_case_id=case.id,
        reference=case.reference,
        case_opened_at=case.created_at,
        from_organisation_id=case.organisation_id,
        to_organisation_id=target.id,
        status=SENT,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    try:
        insert_audited(
            db,
            row=transfer,
            actor=actor,
            action=action,
            case_id=case.id,
            detail=lambda: f"transfer={transfer.id} to={target.id}",
        )
    except IntegrityError:
        raise refused(
            db,
            actor=actor,
            object_type="case",
            object_id=case_id,
            action=action,
            code="duplicate",
            message=_("This case already waits for an answer to a transfer."),
        ) from None
    return transfer


def _answerable(db: Session, actor: User, transfer_id: str) -> Transfer:
    transfer, side = get_visible_transfer(db=db, user=actor, transfer_id=transfer_id)
    if side != "receiver":
        raise TransferNotFound
    return transfer


def _claim(
    db: Session, transfer: Transfer, actor: User, now: dt.datetime, **values: object
) -> None:
    result = db.execute(
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status == SENT)
        .values(answered_by_id=actor.id, answered_at=now, open_case_id=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyAnswered


def _move_fillings(
    db: Session, settings: Settings, case: Case, target: Organisation
) -> tuple[int, int]:
    """Move the case's fillings to `target`; those whose sensitive answers the consent does not
    let `target` see move as a copy without them. (moved whole, moved without sensitive)."""
    sensitive = bool(
        consent.may_share(
            db=db,
            case=case,
            purpose=consent.Purpose.SHARING,
            recipient_kind=consent.recipient_kind_of(target),
        )
    )
    whole, stripped = 0, 0
    rows = db.execute(select(Submission).where(Submission.case_id == case.id)).scalars().all()
    for row in rows:
        form = _form_of(db, row.form_version_id)
        stored = row.answers if isinstance(row.answers, dict) else {}
        hidden = sealed_names(form) if form is not None else frozenset()
        if sensitive or not (hidden & stored.keys()):
            row.organisation_id = target.id
            whole += 1
            continue
        # The full filling stays with the sending organisation, outside every case.
        db.add(
            Submission(
                id=new_id(),
                client_id=new_id(),
                answers_digest=row.answers_digest,
                form_version_id=row.form_version_id,
                form_key=row.form_key,
                case_id=case.id,
                organisation_id=target.id,
                submitted_by_id=row.submitted_by_id,
                language=row.language,
                submitted_at=row.submitted_at,
                answers={k: v for k, v in stored.items() if k not in hidden},
            )
        )
        row.case_id = None
        stripped += 1
    return whole, stripped


def _hand_over(
    db: Session, settings: Settings, actor: User, case: Case, assignee: User, now: dt.datetime
) -> tuple[int, int]:
    """Move the case, its fillings; end its team and partner members (caller's transaction)."""
    target = db.get(Organisation, actor.organisation_id)
    assert target is not None
    moved = _move_fillings(db, settings, case, target)
    db.execute(
        update(CaseTeamMember)
        .where(CaseTeamMember.case_id == case.id, CaseTeamMember.removed_at.is_(None))
        .values(removed_at=now)
    )
    db.execute(
        update(PartnerMember)
        .where(PartnerMember.case_id == case.id, PartnerMember.open_key.is_not(None))
        .values(status="removed", open_key=None, ended_at=now)
    )
    case.organisation_id = target.id
    case.owner_id = assignee.id
    case.last_activity_at = now
    record_case_event(
        db=db,
        case=case,
        actor=actor,
        action=None,
        at=now,
        kind="transferred",
        history={"from_state": case.state, "to_state": case.state},
        commit=False,
    )
    return moved


def accept_transfer(
    *, db: Session, settings: Settings, actor: User, transfer_id: str, assignee_id: str
) -> Transfer:
    """Take the case over for the receiving organisation, owned by `assignee_id`."""
    action = "transfer.accepted"
    with read_transaction(db):
        transfer = _answerable(db, actor, transfer_id)
        case = db.get(Case, transfer.case_id)
        assignee = db.get(User, assignee_id) if valid_id(assignee_id) else None
        problem: tuple[str, str] | None = None
        if assignee is None or assignee not in assignees(
            db=db, organisation_id=actor.organisation_id
        ):
            problem = ("assignee", _("Choose a person of your organisation to take the case."))
        elif case is None or case.closed_at is not None:
            problem = ("closed", _("This case is closed: it cannot be transferred."))
        else:
            problem = consent_problem(db=db, case=case, target=_organisation(db, actor))
    if problem is not None or case is None or assignee is None:
        code, message = problem or ("closed", "")
        raise refused(
            db,
            actor=actor,
            object_type="transfer",
            object_id=transfer_id,
            action=action,
            code=code,
            message=message,
        )
    now = utcnow()
    try:
        with write_transaction(db):
            _claim(db, transfer, actor, now, status=ACCEPTED, assignee_id=assignee.id)
            whole, stripped = _hand_over(db, settings, actor, case, assignee, now)
            db.execute(
                update(Transfer)
                .where(Transfer.id == transfer.id)
                .values(forms_moved=whole, forms_without_sensitive=stripped)
            )
            audit.record(
                db=db,
                action=action,
                actor_id=actor.id,
                object_type="case",
                object_id=case.id,
                detail=f"transfer={transfer.id} forms={whole} without_sensitive={stripped}",
            )
    except (AlreadyAnswered, ConflictError) as error:
        refuse(
            db,
            actor=actor,
            object_type="transfer",
            object_id=transfer_id,
            action=action,
            code="already_answered",
        )
        raise AlreadyAnswered from error
    db.refresh(transfer)
    return transfer


def _organisation(db: Session, user: User) -> Organisation:
    found = db.get(Organisation, user.organisation_id)
    assert found is not None
    return found


def decline_transfer(
    *, db: Session, settings: Settings, actor: User, transfer_id: str, reason: str
) -> Transfer:
    """Decline for the receiving organisation, with a reason; the case stays where it is."""
    action = "transfer.declined"
    reason = reason.strip()
    with read_transaction(db):
        transfer = _answerable(db, actor, transfer_id)
    if not reason:
        raise refused(
            db,
            actor=actor,
            object_type="transfer",
            object_id=transfer_id,
            action=action,
            code="reason",
            message=_("Say why the transfer is declined."),
        )
    sealed = encrypt_value(
        keyring=keyring_for(settings), value=reason, context=f"transfer:{transfer_id}"
    )
    now = utcnow()
    with answered_once(
        db, actor=actor, object_type="transfer", object_id=transfer_id, action=action
    ):
        _claim(db, transfer, actor, now, status=DECLINED, sealed_reason=sealed)
        audit.record(
            db=db,
            action=action,
            actor_id=actor.id,
            object_type="case",
            object_id=transfer.case_id,
            detail=f"transfer={transfer.id}",
        )
    db.refresh(transfer)
    return transfer


def decline_reason(*, settings: Settings, transfer: Transfer) -> str:
    """A declined transfer's reason in clear ("" when none or it does not open)."""
    if not transfer.sealed_reason:
        return ""
    try:
        return decrypt_value(
            keyring=keyring_for(settings),
            token=transfer.sealed_reason,
            context=f"transfer:{transfer.id}",
        )
    except FieldCryptoError:
        return ""
