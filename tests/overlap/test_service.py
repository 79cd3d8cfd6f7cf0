"""Overlaps across organisations show who to call and nothing about the person, and only
with the consent of the person whose case would be made known."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.audit.models import AuditEvent
from intake.cases import overlaps as overlap
from intake.cases.models import Case
from intake.definitions import service as definitions
from intake.overlap.models import OverlapMatch
from tests.cases.helpers import submit
from tests.conftest import make_user


def consent_answers(*kinds: str, sharing: bool = True) -> dict[str, Any]:
    return {
        "consent_date": "2024-03-01",
        "consent_services": True,
        "consent_sharing": sharing,
        "sharing_with": list(kinds) if sharing else None,
        "consent_referral": True,
        "consent_return": "not_now",
    }


def _case(db: Session, org, owner, reference: str, *kinds: str, sharing: bool = True) -> Case:
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
    submit(db, case, "consent", owner, consent_answers(*kinds, sharing=sharing))
    return case


def _lookups(db: Session) -> list[AuditEvent]:
    return list(
        db.execute(
            select(AuditEvent).where(AuditEvent.action == "overlap.lookup").order_by(AuditEvent.id)
        ).scalars()
    )


def test_match_across_organisations_reveals_only_the_organisation(
    db: Session, org, other_org, worker
) -> None:
    definitions.sync_files(db=db)
    org.contact = "+370 5 000 0000, coordinator@example.org"
    other_worker = make_user(db, other_org, "outreach_worker", "other.worker")
    # Org A is an NGO, Org B a municipality: each person agreed to the other's kind.
    first = _case(db, org, worker, "AAA-111", "social_services")
    overlap.record_case(db=db, case=first, fingerprints={"f1", "f2"}, actor=worker)
    second = _case(db, other_org, other_worker, "BBB-222", "ngos")
    found = overlap.record_case(db=db, case=second, fingerprints={"f2", "f9"}, actor=other_worker)
    assert len(found) == 1
    [seen] = found
    assert seen.same_organisation is False
    assert seen.organisation_name == org.name
    assert seen.organisation_contact.startswith("+370")
    assert seen.case_id is None and seen.reference is None
    shown = str(dataclasses.asdict(seen))
    assert first.id not in shown and "AAA-111" not in shown
    # Both sides see the recorded match, each only as its organisation may.
    [from_first] = overlap.overlaps_of(db=db, case=first, asker=worker)
    assert from_first.organisation_name == other_org.name and from_first.case_id is None
    assert db.query(OverlapMatch).count() == 1
    # Every lookup names who asked and about which record, and says nothing of the person.
    rows = _lookups(db)
    assert [(r.actor_id, r.object_id) for r in rows] == [
        (other_worker.id, second.id),
        (worker.id, first.id),
    ]
    assert rows[-1].detail == "shown=1 withheld=0"


def test_a_refused_sharing_consent_hides_the_notice_in_that_direction_only(
    db: Session, org, other_org, worker
) -> None:
    definitions.sync_files(db=db)
    other_worker = make_user(db, other_org, "outreach_worker", "other.worker")
    # The person at A refused sharing; the person at B agreed to sharing with NGOs (A's kind).
    refused = _case(db, org, worker, "AAA-111", sharing=False)
    overlap.record_case(db=db, case=refused, fingerprints={"f1"}, actor=worker)
    agreed = _case(db, other_org, other_worker, "BBB-222", "ngos")
    # B is not told of A's case ...
    assert overlap.record_case(db=db, case=agreed, fingerprints={"f1"}, actor=other_worker) == []
    assert overlap.overlaps_of(db=db, case=agreed, asker=other_worker) == []
    [own] = overlap.find_open_matches(db=db, fingerprints={"f1"}, asker=other_worker)
    assert own.same_organisation and own.case_id == agreed.id
    # ... but A is told of B's, whose person agreed.
    [seen] = overlap.overlaps_of(db=db, case=refused, asker=worker)
    assert seen.organisation_name == other_org.name
    assert [r.detail for r in _lookups(db)] == [
        "shown=0 withheld=1",  # B's case recorded: A's withheld
        "shown=0 withheld=1",  # B's case page
        "shown=1 withheld=1",  # B's next intake review: its own case only
        "shown=1 withheld=0",  # A's case page: B's case
    ]


def test_consent_to_another_kind_of_recipient_is_no_consent_for_this_one(
    db: Session, org, other_org, worker
) -> None:
    definitions.sync_files(db=db)
    other_worker = make_user(db, other_org, "outreach_worker", "other.worker")
    # The person at A agreed to health services and shelters only; B is a municipality.
    first = _case(db, org, worker, "AAA-111", "health", "shelters")
    overlap.record_case(db=db, case=first, fingerprints={"f1"}, actor=worker)
    assert overlap.find_open_matches(db=db, fingerprints={"f1"}, asker=other_worker) == []
    # A new consent that adds municipal social services opens the notice at once.
    submit(db, first, "consent", worker, consent_answers("health", "social_services"))
    [seen] = overlap.find_open_matches(db=db, fingerprints={"f1"}, asker=other_worker)
    assert seen.organisation_name == org.name
    # And withdrawing it closes it again at once.
    submit(db, first, "consent", worker, consent_answers(sharing=False))
    assert overlap.find_open_matches(db=db, fingerprints={"f1"}, asker=other_worker) == []


def test_same_organisation_points_to_the_case_to_continue(db: Session, org, worker) -> None:
    definitions.sync_files(db=db)
    # Within one organisation nothing leaves it: no sharing consent is needed.
    first = _case(db, org, worker, "CCC-333", sharing=False)
    overlap.record_case(db=db, case=first, fingerprints={"f1"}, actor=worker)
    [seen] = overlap.find_open_matches(db=db, fingerprints={"f1"}, asker=worker)
    assert seen.same_organisation and seen.case_id == first.id and seen.reference == "CCC-333"


def test_closed_cases_do_not_match(db: Session, org, worker) -> None:
    from intake.db import utcnow

    definitions.sync_files(db=db)
    first = _case(db, org, worker, "DDD-444")
    overlap.record_case(db=db, case=first, fingerprints={"f1"}, actor=worker)
    first.closed_at = utcnow()
    db.flush()
    assert overlap.find_open_matches(db=db, fingerprints={"f1"}, asker=worker) == []
