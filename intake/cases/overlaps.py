"""Record a case's fingerprints and find open cases that may be the same person."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation
from intake.audit import service as audit
from intake.cases.models import Case
from intake.overlap.models import CaseFingerprint, OverlapMatch


@dataclass(frozen=True)
class Overlap:
    """What may be shown about a matching open case.

    For a case of the same organisation: its id and reference, to continue it.
    For another organisation's case: only which organisation and how to reach
    it; nothing about the person, not even the case's id, leaves this module.
    """

    same_organisation: bool
    organisation_name: str
    organisation_contact: str
    case_id: str | None = None
    reference: str | None = None


def _shown(case: Case, organisation: Organisation, *, viewer_organisation_id: str) -> Overlap:
    if case.organisation_id == viewer_organisation_id:
        return Overlap(True, organisation.name, organisation.contact, case.id, case.reference)
    return Overlap(False, organisation.name, organisation.contact)


def _open_matches(
    *, db: Session, fingerprints: Collection[str], exclude_case_id: str | None
) -> list[tuple[Case, Organisation]]:
    if not fingerprints:
        return []
    query = (
        select(Case, Organisation)
        .join(CaseFingerprint, CaseFingerprint.case_id == Case.id)
        .join(Organisation, Organisation.id == Case.organisation_id)
        .where(CaseFingerprint.value.in_(list(fingerprints)), Case.closed_at.is_(None))
        .order_by(Case.last_activity_at.desc())
    )
    if exclude_case_id:
        query = query.where(Case.id != exclude_case_id)
    unique: dict[str, tuple[Case, Organisation]] = {}
    for case, organisation in db.execute(query):
        unique.setdefault(case.id, (case, organisation))
    return list(unique.values())


def find_open_matches(
    *, db: Session, fingerprints: Collection[str], viewer_organisation_id: str
) -> list[Overlap]:
    """Open cases that may be this person, as the viewer's organisation may see them."""
    return [
        _shown(case, organisation, viewer_organisation_id=viewer_organisation_id)
        for case, organisation in _open_matches(
            db=db, fingerprints=fingerprints, exclude_case_id=None
        )
    ]


def record_case(
    *, db: Session, case: Case, fingerprints: Collection[str], actor_id: str | None
) -> list[Overlap]:
    """Store a new case's fingerprints and the overlaps they reveal; returns the overlaps."""
    matches = _open_matches(db=db, fingerprints=fingerprints, exclude_case_id=case.id)
    for value in set(fingerprints):
        db.add(CaseFingerprint(case_id=case.id, value=value))
    for other, _ in matches:
        db.add(OverlapMatch(case_id=case.id, other_case_id=other.id))
        audit.record(
            db=db,
            action="case.overlap_found",
            actor_id=actor_id,
            object_type="case",
            object_id=case.id,
            detail=f"other_case={other.id}",
        )
    db.flush()
    return [
        _shown(other, organisation, viewer_organisation_id=case.organisation_id)
        for other, organisation in matches
    ]


def overlaps_of(*, db: Session, case: Case) -> list[Overlap]:
    """The recorded overlaps of a case, either way round, as its organisation may see them."""
    rows = db.execute(
        select(OverlapMatch).where(
            (OverlapMatch.case_id == case.id) | (OverlapMatch.other_case_id == case.id)
        )
    ).scalars()
    result = []
    for match in rows:
        other_id = match.other_case_id if match.case_id == case.id else match.case_id
        other = db.get(Case, other_id)
        organisation = db.get(Organisation, other.organisation_id) if other else None
        if other is not None and organisation is not None:
            result.append(_shown(other, organisation, viewer_organisation_id=case.organisation_id))
    return result
