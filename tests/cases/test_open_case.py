"""Opening a case from an intake: the track the answers select, the owner, history, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import service as cases
from intake.cases.models import Case
from intake.filling.models import Submission
from tests.conftest import make_user

from .helpers import BOY_16, GIRL_16, WOMAN_30, audit_rows, history_of, submit, today


@pytest.mark.parametrize(
    ("answers", "track"),
    [(GIRL_16, "young_girls"), (BOY_16, "standard"), (WOMAN_30, "standard")],
    ids=["girl-16", "boy-16", "woman-30"],
)
def test_the_intake_answers_choose_the_track(
    db: Session, worker: User, answers: dict[str, object], track: str
) -> None:
    case = cases.open_case(
        db=db, actor=worker, intake_answers=answers, submission_ids=[], today=today()
    )
    assert case.track == track
    assert case.state == "urgent_assistance"
    version = db.get(Case, case.id)
    assert version is not None and version.workflow_version_id == case.workflow_version_id


def test_a_girl_of_18_is_on_the_standard_track(db: Session, worker: User) -> None:
    answers = {"first_contact.gender": "female", "first_contact.age_years": 18}
    case = cases.open_case(
        db=db, actor=worker, intake_answers=answers, submission_ids=[], today=today()
    )
    assert case.track == "standard"


def test_a_new_case_is_owned_recorded_and_audited(db: Session, worker: User) -> None:
    consent = submit(db, None, "consent", worker, {"given": True})
    first = submit(db, None, "first_contact", worker, {"gender": "female", "age_years": 16})
    case = cases.open_case(
        db=db,
        actor=worker,
        intake_answers=GIRL_16,
        submission_ids=[consent.id, first.id],
        today=today(),
    )
    assert (case.owner_id, case.organisation_id) == (worker.id, worker.organisation_id)
    assert case.closed_at is None and case.row_version == 1
    linked = db.execute(select(Submission.id).where(Submission.case_id == case.id)).scalars()
    assert set(linked) == {consent.id, first.id}
    [created] = history_of(db, case.id)
    assert (created.kind, created.to_state, created.actor_id, created.actor_role) == (
        "created",
        "urgent_assistance",
        worker.id,
        "outreach_worker",
    )
    assert created.workflow_version_id == case.workflow_version_id
    [event] = audit_rows(db, case.id, "case.created")
    assert event.actor_id == worker.id and event.detail == "track=young_girls"


def test_references_differ_between_cases(db: Session, worker: User) -> None:
    refs = {
        cases.open_case(
            db=db, actor=worker, intake_answers=WOMAN_30, submission_ids=[], today=today()
        ).reference
        for _ in range(5)
    }
    assert len(refs) == 5


@pytest.mark.parametrize("whose", ["other_org", "linked"])
def test_a_submission_of_another_organisation_or_case_is_not_taken(
    db: Session, worker: User, other_org: Organisation, whose: str
) -> None:
    if whose == "other_org":
        stranger = make_user(db, other_org, "outreach_worker")
        foreign = submit(db, None, "consent", stranger, {"given": True})
    else:
        earlier = cases.open_case(
            db=db, actor=worker, intake_answers=WOMAN_30, submission_ids=[], today=today()
        )
        foreign = submit(db, earlier, "consent", worker, {"given": True})
    before = db.execute(select(Case.id)).scalars().all()
    with pytest.raises(cases.CaseError, match="could not be found"):
        cases.open_case(
            db=db,
            actor=worker,
            intake_answers=WOMAN_30,
            submission_ids=[foreign.id],
            today=today(),
        )
    db.rollback()
    assert db.execute(select(Case.id)).scalars().all() == before


def test_an_administrator_opens_no_case(db: Session, admin: User) -> None:
    with pytest.raises(cases.NotPermitted):
        cases.open_case(
            db=db, actor=admin, intake_answers=WOMAN_30, submission_ids=[], today=today()
        )
