"""What the pages list: a case's referrals and transfers, the incoming list, the waiting count,
a referral's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case
from intake.config import Settings
from intake.db import utcnow
from intake.referrals.common import SENT, is_overdue, open_reason, organisation_names
from intake.referrals.models import Referral, ReferralEvent, Transfer
from intake.security.permissions import Permission, has_permission

TRANSFER_SENT = "sent"


@dataclass(frozen=True)
class Summary:
    """One referral as a list shows it."""

    id: str
    service: str
    status: str
    outcome: str
    direction: str  # "outgoing" or "incoming"
    other_organisation: str
    created_at: dt.datetime
    overdue: bool


def _summaries(
    db: Session, rows: Sequence[Referral], direction_of: Callable[[Referral], str], answer_days: int
) -> list[Summary]:
    now = utcnow()
    names = organisation_names(
        db, {r.from_organisation_id for r in rows} | {r.to_organisation_id for r in rows}
    )
    return [
        Summary(
            id=r.id,
            service=r.service,
            status=r.status,
            outcome=r.outcome,
            direction=direction_of(r),
            other_organisation=names.get(
                r.to_organisation_id if direction_of(r) == "outgoing" else r.from_organisation_id,
                "",
            ),
            created_at=r.created_at,
            overdue=is_overdue(referral=r, answer_days=answer_days, now=now),
        )
        for r in rows
    ]


def case_referrals(*, db: Session, user: User, case: Case, answer_days: int) -> list[Summary]:
    """The referrals made from this case, and the one that made it (a linked case)."""
    if not has_permission(user, Permission.REFERRALS_MAKE):
        return []
    rows = list(
        db.execute(
            select(Referral)
            .where((Referral.case_id == case.id) | (Referral.linked_case_id == case.id))
            .order_by(Referral.created_at.desc(), Referral.id)
        ).scalars()
    )
    return _summaries(
        db, rows, lambda r: "outgoing" if r.case_id == case.id else "incoming", answer_days
    )


def incoming(*, db: Session, user: User, answer_days: int) -> list[Summary]:
    """The referrals sent to the user's organisation, waiting ones first."""
    if not has_permission(user, Permission.REFERRALS_ANSWER):
        return []
    rows = list(
        db.execute(
            select(Referral)
            .where(Referral.to_organisation_id == user.organisation_id)
            .order_by((Referral.status == SENT).desc(), Referral.created_at.desc(), Referral.id)
            .limit(500)
        ).scalars()
    )
    return _summaries(db, rows, lambda r: "incoming", answer_days)


def count_waiting(*, db: Session, user: User) -> int:
    """How many referrals wait for an answer from the user's organisation."""
    if not has_permission(user, Permission.REFERRALS_ANSWER) or not user.active:
        return 0
    counted = db.execute(
        select(func.count(Referral.id)).where(
            Referral.to_organisation_id == user.organisation_id, Referral.status == SENT
        )
    ).scalar_one()
    return int(counted)


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    kind: str
    organisation: str
    outcome: str
    reason: str


def history(*, db: Session, settings: Settings, referral: Referral) -> list[HistoryEntry]:
    """What happened to the referral, oldest first, as both sides see it."""
    events = list(
        db.execute(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.id)
        ).scalars()
    )
    names = organisation_names(db, {e.organisation_id for e in events})
    return [
        HistoryEntry(
            e.at, e.kind, names.get(e.organisation_id, ""), e.outcome, open_reason(settings, e)
        )
        for e in events
    ]


# --- transfers ----------------------------------------------------------------------------


def transfers_of_case(*, db: Session, user: User, case: Case) -> list[Transfer]:
    """The transfers of a case the user may see (its organisation's supervisors)."""
    if not has_permission(user, Permission.CASES_TRANSFER):
        return []
    return list(
        db.execute(
            select(Transfer)
            .where(Transfer.case_id == case.id)
            .order_by(Transfer.created_at.desc(), Transfer.id)
        ).scalars()
    )


def organisation_transfers(*, db: Session, user: User) -> list[Transfer]:
    """The transfers to and from the user's organisation, waiting ones first."""
    if not has_permission(user, Permission.CASES_TRANSFER) or not user.active:
        return []
    org = user.organisation_id
    return list(
        db.execute(
            select(Transfer)
            .where((Transfer.to_organisation_id == org) | (Transfer.from_organisation_id == org))
            .order_by(
                (Transfer.status == TRANSFER_SENT).desc(), Transfer.created_at.desc(), Transfer.id
            )
            .limit(500)
        ).scalars()
    )
