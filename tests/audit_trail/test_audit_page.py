"""The audit trail page as each role sees it: a supervisor their organisation's events,
an administrator its account events and no case event, nobody another organisation's;
filters, keyset pages, the chain's status, an export after re-authentication, and the
reading itself recorded."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit import service as audit
from intake.audit.models import AuditEvent
from intake.cases import access
from intake.cases.models import Case
from intake.db import utcnow
from intake.definitions import service as definitions
from intake.security.models import UserSession
from tests.conftest import login, make_user


def browser(app: FastAPI, user: User) -> TestClient:
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert getattr(login(client, user.username), "status_code", None) == 303
    return client


def events_seen(client: TestClient, query: str = "") -> list[tuple[str, str, str]]:
    response = client.get("/audit" + query)
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    return [
        (
            str(tr["data-action"]),
            tr.select("td")[1].get_text(strip=True),
            tr.select("td")[3].get_text(strip=True),
        )
        for tr in page.select("tr.event")
    ]


@pytest.fixture
def world(db: Session, org: Organisation, other_org: Organisation, supervisor: User) -> dict:
    definitions.sync_files(db=db)
    version = definitions.latest(db=db, kind="workflow", key="standard")
    assert version is not None
    sup_b = make_user(db, other_org, "supervisor", "sup-b")
    cases = {}
    for name, organisation, owner in (("A", org, supervisor), ("B", other_org, sup_b)):
        case = Case(
            reference=f"AUD-{name}",
            organisation_id=organisation.id,
            owner_id=owner.id,
            workflow_version_id=version.id,
            track=version.key,
            state="urgent_assistance",
        )
        db.add(case)
        cases[name] = case
    db.flush()
    audit.record(
        db=db,
        action="case.viewed",
        actor_id=supervisor.id,
        object_type="case",
        object_id=cases["A"].id,
    )
    audit.record(
        db=db,
        action="case.viewed",
        actor_id=sup_b.id,
        object_type="case",
        object_id=cases["B"].id,
    )
    db.commit()
    return {"cases": cases, "sup_b": sup_b}


def test_supervisors_see_their_organisations_case_events_and_refusals_only(
    app: FastAPI, world: dict, supervisor: User, db: Session
) -> None:
    case_a = world["cases"]["A"]
    outsider = browser(app, world["sup_b"])
    # Another organisation's supervisor tried case A (they were answered 404): recorded
    # by the one function the case routes use for it.
    access.record_unseen(db=db, user=world["sup_b"], case_id=case_a.id, action="case.viewed")
    db.commit()
    seen = events_seen(browser(app, supervisor))
    assert ("case.viewed", supervisor.username, "AUD-A") in seen
    assert ("case.viewed", "Someone from another organisation", "AUD-A") in seen
    assert not any(label == "AUD-B" for _a, _w, label in seen)
    theirs = events_seen(outsider)
    assert not any(label == "AUD-A" for _a, _w, label in theirs)
    assert ("case.viewed", "sup-b", "AUD-B") in theirs


def test_administrators_see_account_events_and_no_case_event(
    app: FastAPI, world: dict, admin: User, supervisor: User, other_org: Organisation, db: Session
) -> None:
    browser(app, supervisor)  # a sign-in of their organisation
    other_admin = make_user(db, other_org, "admin", "admin-b")
    browser(app, other_admin)
    seen = events_seen(browser(app, admin))
    actions = {action for action, _w, _l in seen}
    assert "auth.sign_in" in actions
    assert not any(a.startswith("case.") for a in actions)
    assert "admin-b" not in {who for _a, who, _l in seen}
    assert "AUD-A" not in {label for _a, _w, label in seen}


@pytest.mark.parametrize("role", ["outreach_worker", "installation_admin"])
def test_other_roles_cannot_read_it(
    app: FastAPI, db: Session, org: Organisation, role: str
) -> None:
    person = make_user(db, org, role)
    client = browser(app, person)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_filters_and_keyset_pages(app: FastAPI, world: dict, supervisor: User, db: Session) -> None:
    for _ in range(60):
        audit.record(
            db=db,
            action="case.viewed",
            actor_id=supervisor.id,
            object_type="case",
            object_id=world["cases"]["A"].id,
        )
    db.commit()
    client = browser(app, supervisor)
    first = BeautifulSoup(client.get("/audit?kind=cases").text, "html.parser")
    rows = first.select("tr.event")
    assert len(rows) == 50 and all(r["data-action"].startswith("case.") for r in rows)
    older = first.select_one("#older")
    assert older is not None
    second = BeautifulSoup(client.get(str(older["href"])).text, "html.parser")
    assert 1 <= len(second.select("tr.event")) <= 11
    assert events_seen(client, "?case=AUD-B") == []
    assert {label for _a, _w, label in events_seen(client, "?case=aud-a")} == {"AUD-A"}
    assert events_seen(client, "?who=nobody") == []
    tomorrow = (utcnow() + dt.timedelta(days=2)).date().isoformat()
    assert events_seen(client, f"?since={tomorrow}") == []
    assert events_seen(client, "?since=not-a-date&before=-1") != []


def test_reading_is_recorded_and_the_chain_status_is_shown(
    app: FastAPI, world: dict, supervisor: User, db: Session
) -> None:
    client = browser(app, supervisor)
    page = BeautifulSoup(client.get("/audit").text, "html.parser")
    assert "intact" in page.select_one("#chain-status").get_text()
    reads = (
        db.execute(
            select(AuditEvent).where(
                AuditEvent.action == "audit.read", AuditEvent.actor_id == supervisor.id
            )
        )
        .scalars()
        .all()
    )
    assert len(reads) == 1
    db.execute(text("UPDATE audit_events SET detail = 'forged' WHERE action = 'case.viewed'"))
    db.commit()
    page = BeautifulSoup(client.get("/audit").text, "html.parser")
    assert "tampered" in page.select_one("#chain-status").get_text()


def test_the_export_needs_fresh_identity_and_is_recorded(
    app: FastAPI, world: dict, supervisor: User, db: Session
) -> None:
    client = browser(app, supervisor)
    export = client.get("/audit/export.csv?kind=cases")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:3] == ["id", "at_utc", "action"]
    assert any(r[2] == "case.viewed" and r[6] == "AUD-A" for r in rows[1:])
    assert not any("AUD-B" in r for r in rows)
    assert (
        db.execute(select(AuditEvent).where(AuditEvent.action == "audit.exported"))
        .scalar_one()
        .actor_id
        == supervisor.id
    )
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == supervisor.id)
        .values(created_at=utcnow() - dt.timedelta(minutes=10))
    )
    db.commit()
    stale = client.get("/audit/export.csv?kind=cases")
    assert stale.status_code == 303
    assert stale.headers["location"] == "/account/reauth?next=%2Faudit%2Fexport.csv%3Fkind%3Dcases"
