"""The world referral, transfer and partner tests share: three organisations, a case at the
first with a consent, a shared form, an unshared form (canary) and a note (canary)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts import service as accounts
from intake.accounts.models import Organisation, User
from intake.cases import notes
from intake.cases.models import Case
from intake.config import Settings
from intake.db import new_id, utcnow
from intake.definitions import service as definitions
from intake.filling.models import Submission
from intake.forms.storage import seal
from tests.cases.helpers import open_case
from tests.conftest import csrf_from, login, make_user

SHARED_NAME = "Sharedname" + "Qx"
UNSHARED = "Unsharedcanary" + "Zq"
NOTE = "Notecanary" + "Wv"
CONSENT = {
    "consent_services": True,
    "consent_sharing": True,
    "sharing_with": ["social_services"],
    "consent_referral": True,
    "consent_return": "not_now",
}
_tick = itertools.count(1)


def store(
    db: Session, settings: Settings, case: Case, key: str, by: User, answers: dict[str, Any]
) -> Submission:
    version = definitions.latest(db=db, kind="form", key=key)
    assert version is not None
    form = definitions.compiled_form(version)
    row_id = new_id()
    row = Submission(
        id=row_id,
        client_id=new_id(),
        answers_digest="0" * 64,
        form_version_id=version.id,
        form_key=key,
        case_id=case.id,
        organisation_id=by.organisation_id,
        submitted_by_id=by.id,
        language="en",
        # Later fillings are later: the newest consent speaks.
        submitted_at=utcnow() + dt.timedelta(seconds=next(_tick)),
        answers=seal(settings=settings, form=form, answers=answers, row=f"submission:{row_id}"),
    )
    db.add(row)
    db.commit()
    return row


@dataclass
class World:
    a: Organisation
    b: Organisation
    c: Organisation
    people: dict[str, User]
    case: Case


@pytest.fixture
def world(db: Session, app: FastAPI, org: Organisation, other_org: Organisation) -> World:
    settings = app.state.settings
    c = accounts.get_or_create_organisation(db=db, name="Org C")
    people = {}
    for side, organisation in (("a", org), ("b", other_org), ("c", c)):
        for role in ("outreach_worker", "supervisor", "admin"):
            people[f"{role}_{side}"] = make_user(db, organisation, role, f"{role}-{side}")
    operators = accounts.get_or_create_organisation(db=db, name="Operators")
    people["installation_admin"] = make_user(db, operators, "installation_admin", "installer")
    people["supervisor2_b"] = make_user(db, other_org, "supervisor", "supervisor2-b")
    case = open_case(db, people["outreach_worker_a"])
    store(db, settings, case, "consent", people["outreach_worker_a"], CONSENT)
    store(
        db,
        settings,
        case,
        "first_contact",
        people["outreach_worker_a"],
        {"given_name": SHARED_NAME, "gender": "female"},
    )
    store(
        db,
        settings,
        case,
        "urgent_needs",
        people["outreach_worker_a"],
        {"medical_referred_to": UNSHARED},
    )
    notes.add_note(db=db, settings=settings, actor=people["supervisor_a"], case=case, text=NOTE)
    return World(org, other_org, c, people, case)


def sign_in(client: TestClient, user: User) -> str:
    client.cookies.clear()
    login(client, user.username)
    return csrf_from(client.get("/").text)
