"""Reporting agreements: which organisations' anonymised figures a coordinating body sees.

The installation administrator records them; nothing else does. A coordinator's figures
are read only from the active organisations with an agreement with the coordinator's own
organisation (`reporting_organisation_ids`), so an organisation that never agreed is
never counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, aliased

from intake.accounts.models import Organisation, OrganisationKind, Role, User
from intake.audit import service as audit
from intake.db import read_transaction, write_transaction
from intake.i18n import gettext as _
from intake.statistics.models import ReportingAgreement


class AgreementError(Exception):
    """An agreement that cannot be recorded; the message says why, in the reader's language."""


@dataclass(frozen=True)
class AgreementRow:
    """One agreement as the administrator's page lists it."""

    id: str
    coordinator: str
    reporting: str
    reporting_active: bool


def _clean_id(value: str) -> str:
    # An opaque id: anything else (NUL included, which PostgreSQL text refuses) finds nothing.
    return value[:32] if value.isalnum() else ""


def coordinating_bodies(*, db: Session) -> list[Organisation]:
    """The active organisations of kind coordination, by name."""
    with read_transaction(db):
        return list(
            db.execute(
                select(Organisation)
                .where(
                    Organisation.kind == OrganisationKind.COORDINATION.value,
                    Organisation.active.is_(True),
                )
                .order_by(Organisation.name)
            ).scalars()
        )


def reporting_candidates(*, db: Session) -> list[Organisation]:
    """The active organisations that may report (every kind but coordination), by name."""
    with read_transaction(db):
        return list(
            db.execute(
                select(Organisation)
                .where(
                    Organisation.kind != OrganisationKind.COORDINATION.value,
                    Organisation.active.is_(True),
                )
                .order_by(Organisation.name)
            ).scalars()
        )


def list_agreements(*, db: Session) -> list[AgreementRow]:
    """Every agreement, by coordinating body then reporting organisation."""
    coordinator, reporting = aliased(Organisation), aliased(Organisation)
    with read_transaction(db):
        rows = db.execute(
            select(ReportingAgreement.id, coordinator.name, reporting.name, reporting.active)
            .join(coordinator, coordinator.id == ReportingAgreement.coordinator_id)
            .join(reporting, reporting.id == ReportingAgreement.reporting_id)
            .order_by(coordinator.name, reporting.name)
        ).all()
    return [AgreementRow(*row) for row in rows]


def add_agreement(*, db: Session, actor: User, coordinator_id: str, reporting_id: str) -> None:
    """Record that `reporting_id` reports its anonymised figures to `coordinator_id`."""
    if actor.role != Role.INSTALLATION_ADMIN:
        raise AgreementError(_("Only the installation administrator records agreements."))
    with write_transaction(db):
        body = (
            db.get(Organisation, _clean_id(coordinator_id)) if _clean_id(coordinator_id) else None
        )
        member = db.get(Organisation, _clean_id(reporting_id)) if _clean_id(reporting_id) else None
        if body is None or body.kind != OrganisationKind.COORDINATION or not body.active:
            raise AgreementError(_("Choose a coordinating body."))
        if member is None or member.kind == OrganisationKind.COORDINATION or not member.active:
            raise AgreementError(_("Choose an organisation that reports."))
        exists = db.execute(
            select(ReportingAgreement.id).where(
                ReportingAgreement.coordinator_id == body.id,
                ReportingAgreement.reporting_id == member.id,
            )
        ).first()
        if exists is not None:
            raise AgreementError(_("That organisation reports to this body already."))
        row = ReportingAgreement(
            coordinator_id=body.id, reporting_id=member.id, created_by_id=actor.id
        )
        db.add(row)
        db.flush()
        audit.record(
            db=db,
            action="reporting.agreed",
            actor_id=actor.id,
            object_type="organisation",
            object_id=member.id,
            detail=f"coordinator={body.id}",
        )


def end_agreement(*, db: Session, actor: User, agreement_id: str) -> None:
    """End an agreement: the body no longer sees that organisation's figures (404 if none)."""
    if actor.role != Role.INSTALLATION_ADMIN:
        raise AgreementError(_("Only the installation administrator records agreements."))
    with write_transaction(db):
        row = (
            db.get(ReportingAgreement, _clean_id(agreement_id)) if _clean_id(agreement_id) else None
        )
        if row is None:
            raise LookupError(agreement_id)
        db.execute(delete(ReportingAgreement).where(ReportingAgreement.id == row.id))
        audit.record(
            db=db,
            action="reporting.ended",
            actor_id=actor.id,
            object_type="organisation",
            object_id=row.reporting_id,
            detail=f"coordinator={row.coordinator_id}",
        )


def reporting_organisation_ids(*, db: Session, user: User) -> list[str]:
    """The organisations whose figures `user` sees: a coordinator, those reporting to their
    body; a supervisor, their own; anyone else, none."""
    if user.role == Role.SUPERVISOR:
        return [user.organisation_id]
    if user.role != Role.COORDINATOR:
        return []
    return list(
        db.execute(
            select(ReportingAgreement.reporting_id)
            .join(Organisation, Organisation.id == ReportingAgreement.reporting_id)
            .where(
                ReportingAgreement.coordinator_id == user.organisation_id,
                Organisation.active.is_(True),
            )
            .order_by(ReportingAgreement.reporting_id)
        ).scalars()
    )
