"""Builders for statistics tests: coordinating bodies, agreements, cases with intake answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.cases.models import Case
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
