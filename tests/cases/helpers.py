"""Builders for case tests: published definitions, cases, submissions, teams."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit.models import AuditEvent
from intake.cases import service as cases
from intake.cases import team
from intake.cases.models import Case, CaseHistory
from intake.db import new_id, utcnow
from intake.definitions import service as definitions
from intake.filling.models import Submission

GIRL_16 = {"first_contact.gender": "female", "first_contact.age_years": 16}
BOY_16 = {"first_contact.gender": "male", "first_contact.age_years": 16}
WOMAN_30 = {"first_contact.gender": "female", "first_contact.age_years": 30}


def today() -> dt.date:
    return utcnow().date()


def publish_shipped(db: Session) -> None:
    """The shipped forms and tracks, published into the test database."""
    definitions.sync_files(db=db)


def open_case(db: Session, owner: User, answers: dict[str, Any] | None = None) -> Case:
    return cases.open_case(
        db=db,
        actor=owner,
        intake_answers=answers or WOMAN_30,
        submission_ids=[],
        today=today(),
    )


def submit(
    db: Session,
    case: Case | None,
    form_key: str,
    by: User,
    answers: dict[str, Any] | None = None,
) -> Submission:
    """A completed form, as the form engine stores it (sensitive answers are tokens)."""
    version = definitions.latest(db=db, kind="form", key=form_key)
    assert version is not None, form_key
    row = Submission(
        client_id=new_id(),
        answers_digest="0" * 64,
        form_version_id=version.id,
        form_key=form_key,
        case_id=case.id if case else None,
        organisation_id=by.organisation_id,
        submitted_by_id=by.id,
        language="en",
        answers=answers or {},
    )
    db.add(row)
    db.commit()
    return row


def assign(db: Session, supervisor: User, case: Case, person: User, *functions: str) -> None:
    for function in functions:
        team.assign_team_member(
            db=db, actor=supervisor, case=case, user_id=person.id, function=function
        )


def audit_rows(db: Session, case_id: str, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_id == case_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.execute(query.order_by(AuditEvent.id)).scalars())


def history_of(db: Session, case_id: str) -> list[CaseHistory]:
    return list(
        db.execute(
            select(CaseHistory).where(CaseHistory.case_id == case_id).order_by(CaseHistory.id)
        ).scalars()
    )


def reload(db: Session, case: Case) -> Case:
    db.expire_all()
    found = db.get(Case, case.id)
    assert found is not None
    return found
