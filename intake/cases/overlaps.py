"""Record a case's fingerprints and find open cases that may be the same person.

An organisation learns that another organisation assists a matching person only
when that person consented to sharing with its kind of organisation: each
direction is gated by the consent of the person whose case would be disclosed,
asked of intake.cases.consent at the moment of showing (a withdrawal hides the
notice at once). Every lookup leaves an audit row naming who asked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.cases import consent
from intake.cases.models import Case
from intake.db import read_transaction, write_transaction
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


def _disclosable(db: Session, case: Case, viewer: Organisation) -> bool:
    """Whether `case` may be made known to `viewer`: the consent of the person it is about."""
    return bool(
        consent.may_share_with(
            db=db, case=case, purpose=consent.Purpose.SHARING, organisation=viewer
        )
    )


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


def _visible(
    db: Session, matches: list[tuple[Case, Organisation]], viewer: Organisation
) -> tuple[list[Overlap], int]:
    shown, withheld = [], 0
    for case, organisation in matches:
        if _disclosable(db, case, viewer):
            shown.append(_shown(case, organisation, viewer_organisation_id=viewer.id))
        else:
            withheld += 1
    return shown, withheld


def _audit_lookup(
    db: Session, *, asker: User, object_type: str, object_id: str, shown: int, withheld: int
) -> None:
    # Who asked about whom (opaque ids) and how much was told; never who the person is.
    audit.record(
        db=db,
        action="overlap.lookup",
        actor_id=asker.id,
        object_type=object_type,
        object_id=object_id,
        detail=f"shown={shown} withheld={withheld}",
    )


def find_open_matches(
    *, db: Session, fingerprints: Collection[str], asker: User, intake_id: str = ""
) -> list[Overlap]:
    """Open cases that may be this person, as the asker's organisation may see them.

    The audit row is written in the caller's transaction (committed with its action).
    """
    shown, withheld = _search(db, fingerprints, asker)
    _audit_intake_lookup(db, asker=asker, intake_id=intake_id, shown=shown, withheld=withheld)
    return shown


def review_lookup(
    *, db: Session, fingerprints: Collection[str], asker: User, intake_id: str
) -> list[Overlap]:
    """find_open_matches for a page that only reads: the search takes no write lock, then
    its audit row is written in a short write transaction of its own."""
    with read_transaction(db):
        shown, withheld = _search(db, fingerprints, asker)
    with write_transaction(db):
        _audit_intake_lookup(db, asker=asker, intake_id=intake_id, shown=shown, withheld=withheld)
    return shown


def _search(db: Session, fingerprints: Collection[str], asker: User) -> tuple[list[Overlap], int]:
    matches = _open_matches(db=db, fingerprints=fingerprints, exclude_case_id=None)
    return _visible(db, matches, asker.organisation)


def _audit_intake_lookup(
    db: Session, *, asker: User, intake_id: str, shown: list[Overlap], withheld: int
) -> None:
    _audit_lookup(
        db,
        asker=asker,
        object_type="intake",
        object_id=intake_id,
        shown=len(shown),
        withheld=withheld,
    )


def record_case(
    *, db: Session, case: Case, fingerprints: Collection[str], actor: User
) -> list[Overlap]:
    """Store a new case's fingerprints and the overlaps they reveal; returns those the
    case's organisation may be told of (every match is kept, so a consent given later
    shows it). In the caller's transaction."""
    matches = _open_matches(db=db, fingerprints=fingerprints, exclude_case_id=case.id)
    for value in set(fingerprints):
        db.add(CaseFingerprint(case_id=case.id, value=value))
    for other, _ in matches:
        db.add(OverlapMatch(case_id=case.id, other_case_id=other.id))
        audit.record(
            db=db,
            action="case.overlap_found",
            actor_id=actor.id,
            object_type="case",
            object_id=case.id,
            detail=f"other_case={other.id}",
        )
    db.flush()
    if not matches:  # the intake's own lookup, just before, is audited already
        return []
    shown, withheld = _visible(db, matches, actor.organisation)
    _audit_lookup(
        db,
        asker=actor,
        object_type="case",
        object_id=case.id,
        shown=len(shown),
        withheld=withheld,
    )
    return shown


def overlaps_of(*, db: Session, case: Case, asker: User) -> list[Overlap]:
    """The recorded overlaps of a case, either way round, as its organisation may see them.

    A case with recorded matches is a lookup about other cases: it is audited (in a
    short write transaction of its own, as the case page only reads).
    """
    rows = list(
        db.execute(
            select(OverlapMatch).where(
                (OverlapMatch.case_id == case.id) | (OverlapMatch.other_case_id == case.id)
            )
        ).scalars()
    )
    if not rows:
        return []
    viewer = db.get(Organisation, case.organisation_id)
    matches = []
    for match in rows:
        other_id = match.other_case_id if match.case_id == case.id else match.case_id
        other = db.get(Case, other_id)
        organisation = db.get(Organisation, other.organisation_id) if other else None
        if other is not None and organisation is not None:
            matches.append((other, organisation))
    assert viewer is not None  # a foreign key guarantees it
    shown, withheld = _visible(db, matches, viewer)
    with write_transaction(db):
        _audit_lookup(
            db,
            asker=asker,
            object_type="case",
            object_id=case.id,
            shown=len(shown),
            withheld=withheld,
        )
    return shown
