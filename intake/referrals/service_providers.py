"""Which other organisations may be named as having given a case's services: those the
case was referred to and that accepted (or have since closed) the referral.

intake.cases records services but sits below referrals/; its routes install this
lookup (intake.cases.service_record_views), as filling/hooks.py is installed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation
from intake.cases.models import Case
from intake.referrals.common import ACCEPTED, CLOSED
from intake.referrals.models import Referral


def referred_organisations(*, db: Session, case: Case) -> list[tuple[str, str]]:
    """(id, name) of the organisations that took a referral of this case, by name."""
    rows = db.execute(
        select(Organisation.id, Organisation.name)
        .join(Referral, Referral.to_organisation_id == Organisation.id)
        .where(Referral.case_id == case.id, Referral.status.in_((ACCEPTED, CLOSED)))
        .distinct()
        .order_by(Organisation.name)
    ).all()
    return [(ident, name) for ident, name in rows]
