"""Builders for statistics tests: coordinating bodies, agreements, cases with intake answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.cases.models import Case, CaseHistory
from intake.db import new_id
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.statistics.models import ReportingAgreement
from tests.cases.helpers import open_case, submit

MARKER = "Zyxqv"  # a name that must never reach a coordinator


def coordination_body(db: Session, name: str = "Ministry") -> Organisation:
    return accounts.get_or_create_organisation(db=db, name=name, kind="coordination")


def agree(db: Session, body: Organisation, member: Organisation) -> None:
    db.add(ReportingAgreement(coordinator_id=body.id, reporting_id=member.id))
    db.commit()


def person(
    gender: str = "female",
    age: int = 30,
    nationality: str = "ukraine",
    exploitation: tuple[str, ...] = ("labour",),
    needs: tuple[str, ...] = ("shelter",),
) -> dict[str, Any]:
    """Intake answers as stored (the name is plain here: statistics must never read it)."""
    return {
        "given_name": f"{MARKER}-name",
        "family_name": MARKER,
        "gender": gender,
        "age": age,
        "age_years": age,
        "nationality": nationality,
        "exploitation_type": list(exploitation),
        "immediate_needs": list(needs),
        "safety_risk": "low",
        "worker_notes": f"{MARKER} notes",
    }


def case_with(
    db: Session, owner: User, answers: dict[str, Any], opened: dt.datetime | None = None
) -> Case:
    case = open_case(
        db,
        owner,
        {"first_contact.gender": answers["gender"], "first_contact.age_years": answers["age"]},
    )
    submit(db, case, "first_contact", owner, answers)
    if opened is not None:
        db.execute(update(Case).where(Case.id == case.id).values(created_at=opened))
        db.commit()
    return case


def cases(
    db: Session, owner: User, n: int, opened: dt.datetime | None = None, **traits: Any
) -> list[Case]:
    return [case_with(db, owner, person(**traits), opened) for _ in range(n)]


def bulk_cases(db: Session, owner: User, rows: list[tuple[dt.datetime, dict[str, Any]]]) -> None:
    """Many cases at once, as rows (no history, no audit): for figures over many people."""
    template = open_case(db, owner)
    cases_table, submissions = [], []
    for opened, answers in rows:
        case_id = new_id()
        cases_table.append(
            {
                "id": case_id,
                "reference": case_id[:16].upper(),
                "organisation_id": owner.organisation_id,
                "owner_id": owner.id,
                "workflow_version_id": template.workflow_version_id,
                "track": template.track,
                "state": template.state,
                "state_entered_at": opened,
                "created_at": opened,
                "last_activity_at": opened,
                "row_version": 1,
            }
        )
        submissions.append(
            {
                "id": new_id(),
                "client_id": new_id(),
                "answers_digest": "0" * 64,
                "form_version_id": first_contact_version(db),
                "form_key": "first_contact",
                "case_id": case_id,
                "organisation_id": owner.organisation_id,
                "submitted_by_id": owner.id,
                "language": "en",
                "submitted_at": opened,
                "answers": answers,
            }
        )
    if cases_table:
        db.execute(insert(Case), cases_table)
        db.execute(insert(Submission), submissions)
    db.execute(delete(Submission).where(Submission.case_id == template.id))
    db.execute(delete(CaseHistory).where(CaseHistory.case_id == template.id))
    db.execute(delete(Case).where(Case.id == template.id))
    db.commit()


def first_contact_version(db: Session) -> str:
    version = definitions.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    return version.id
