"""Overlaps across organisations show who to call and nothing about the person."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from intake.cases import overlaps as overlap
from intake.cases.models import Case
from intake.definitions import service as definitions
from intake.overlap.models import OverlapMatch


def _case(db: Session, org, owner, reference: str) -> Case:
    version = definitions.latest(db=db, kind="workflow", key="standard")
    case = Case(
        reference=reference,
        organisation_id=org.id,
        owner_id=owner.id,
        workflow_version_id=version.id,
        track="standard",
        state="urgent_assistance",
    )
    db.add(case)
    db.flush()
    return case


def test_match_across_organisations_reveals_only_the_organisation(
    db: Session, org, other_org, worker
) -> None:
    from tests.conftest import make_user

    definitions.sync_files(db=db)
    org.contact = "+370 5 000 0000, coordinator@example.org"
    other_worker = make_user(db, other_org, "outreach_worker", "other.worker")
    first = _case(db, org, worker, "AAA-111")
    overlap.record_case(db=db, case=first, fingerprints={"f1", "f2"}, actor_id=worker.id)
    second = _case(db, other_org, other_worker, "BBB-222")
    found = overlap.record_case(db=db, case=second, fingerprints={"f2", "f9"}, actor_id=None)
    assert len(found) == 1
    [seen] = found
    assert seen.same_organisation is False
    assert seen.organisation_name == org.name
    assert seen.organisation_contact.startswith("+370")
    assert seen.case_id is None and seen.reference is None
    shown = str(dataclasses.asdict(seen))
    assert first.id not in shown and "AAA-111" not in shown
    # Both sides see the recorded match, each only as its organisation may.
    [from_first] = overlap.overlaps_of(db=db, case=first)
    assert from_first.organisation_name == other_org.name and from_first.case_id is None
    assert db.query(OverlapMatch).count() == 1


def test_same_organisation_points_to_the_case_to_continue(db: Session, org, worker) -> None:
    definitions.sync_files(db=db)
    first = _case(db, org, worker, "CCC-333")
    overlap.record_case(db=db, case=first, fingerprints={"f1"}, actor_id=worker.id)
    [seen] = overlap.find_open_matches(db=db, fingerprints={"f1"}, viewer_organisation_id=org.id)
    assert seen.same_organisation and seen.case_id == first.id and seen.reference == "CCC-333"


def test_closed_cases_do_not_match(db: Session, org, worker) -> None:
    from intake.db import utcnow

    definitions.sync_files(db=db)
    first = _case(db, org, worker, "DDD-444")
    overlap.record_case(db=db, case=first, fingerprints={"f1"}, actor_id=worker.id)
    first.closed_at = utcnow()
    db.flush()
    assert (
        overlap.find_open_matches(db=db, fingerprints={"f1"}, viewer_organisation_id=org.id) == []
    )
