"""An erasure request from the case page (a supervisor, a reason, a confirmation, a fresh
proof of identity), the administrator's retention page, and the daily run in the server."""

from __future__ import annotations

import asyncio
import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.audit.models import AuditEvent
from intake.config import Settings
from intake.db import utcnow
from intake.retention import daily
from intake.security.models import UserSession
from tests.cases.flow import soup
from tests.cases.helpers import reload
from tests.conftest import login, make_user, page_token

from .helpers import CANARY, closed_case_with_canaries, every_text


def _age_session(db: Session, user: User, minutes: int) -> None:
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=utcnow() - dt.timedelta(minutes=minutes), last_seen_at=utcnow())
    )
    db.execute(text("DELETE FROM reauthentications"))
    db.commit()


def test_a_supervisor_erases_a_closed_case_on_request(
    db: Session,
    connection: Connection,
    client: TestClient,
    settings: Settings,
    worker: User,
    supervisor: User,
) -> None:
    case = closed_case_with_canaries(db, settings, worker, supervisor)
    path = f"/cases/{case.id}"

    # The owner (an outreach worker) is offered no erasure, and cannot post one.
    login(client, worker.username)
    assert soup(client.get(path).text).select_one("form[action$='/erasure']") is None
    refused = client.post(f"{path}/erasure", data={"csrf_token": page_token(client, path)})
    assert refused.status_code == 403
    client.cookies.clear()

    login(client, supervisor.username)
    form = soup(client.get(path).text).select_one(f"form[action='{path}/erasure']")
    assert form is not None
    assert [o["value"] for o in form.select("option") if o["value"]] == [
        "person_request",
        "representative_request",
        "consent_withdrawn",
        "unlawful_processing",
    ]
    token = page_token(client, path)
    unconfirmed = client.post(
        f"{path}/erasure", data={"csrf_token": token, "reason": "person_request"}
    )
    assert unconfirmed.status_code in (409, 422) and "confirm" in unconfirmed.text
    assert CANARY in every_text(connection, settings)

    # Proved too long ago: asked again first, nothing erased.
    _age_session(db, supervisor, minutes=6)
    asked = client.post(
        f"{path}/erasure",
        data={"csrf_token": token, "reason": "person_request", "confirm": "on"},
        headers={"referer": f"http://testserver{path}"},
    )
    assert asked.status_code == 303 and asked.headers["location"].startswith("/account/reauth")
    assert reload(db, case).anonymised_at is None
    client.cookies.clear()

    login(client, supervisor.username)
    done = client.post(
        f"{path}/erasure",
        data={"csrf_token": page_token(client, path), "reason": "person_request", "confirm": "on"},
    )
    assert done.status_code == 303
    assert CANARY not in every_text(connection, settings)
    page = client.get(path)
    assert page.status_code == 200 and "Anonymised" in page.text and CANARY not in page.text
    events = db.execute(
        select(AuditEvent.actor_id, AuditEvent.detail, AuditEvent.outcome).where(
            AuditEvent.action == "case.anonymised"
        )
    ).all()
    assert (supervisor.id, "erasure:person_request", "ok") in events


def test_an_open_case_is_closed_first(
    db: Session, client: TestClient, settings: Settings, worker: User, supervisor: User
) -> None:
    from tests.cases.helpers import open_case

    case = open_case(db, worker)
    login(client, supervisor.username)
    path = f"/cases/{case.id}"
    assert soup(client.get(path).text).select_one("form[action$='/erasure']") is None
    posted = client.post(
        f"{path}/erasure",
        data={"csrf_token": page_token(client, path), "reason": "person_request", "confirm": "on"},
    )
    assert posted.status_code in (409, 422) and "Close the case first" in posted.text
    assert reload(db, case).anonymised_at is None


def test_another_organisations_case_is_not_found(
    db: Session,
    client: TestClient,
    settings: Settings,
    other_org: Organisation,
    worker: User,
    supervisor: User,
) -> None:
    case = closed_case_with_canaries(db, settings, worker, supervisor)
    stranger = make_user(db, other_org, "supervisor", "stranger")
    login(client, stranger.username)
    posted = client.post(
        f"/cases/{case.id}/erasure",
        data={"csrf_token": page_token(client), "reason": "person_request", "confirm": "on"},
    )
    assert posted.status_code == 404
    assert reload(db, case).anonymised_at is None


def test_the_administrator_sets_the_period_after_re_authenticating(
    db: Session, client: TestClient, org: Organisation, admin: User, supervisor: User
) -> None:
    login(client, admin.username)
    page = soup(client.get("/admin/retention").text)
    assert page.select_one("input[name=years]")["value"] == "5"
    token = page_token(client, "/admin/retention")
    assert client.post("/admin/retention", data={"csrf_token": token, "years": "0"}).status_code
    assert reload_org(db, org).retention_years == 5
    saved = client.post("/admin/retention", data={"csrf_token": token, "years": "7"})
    assert saved.status_code == 303 and reload_org(db, org).retention_years == 7
    [detail] = db.execute(
        select(AuditEvent.detail).where(AuditEvent.action == "organisation.retention")
    ).scalars()
    assert detail == "years=7"

    _age_session(db, admin, minutes=6)
    asked = client.post(
        "/admin/retention",
        data={"csrf_token": token, "years": "3"},
        headers={"referer": "http://testserver/admin/retention"},
    )
    assert asked.status_code == 303 and asked.headers["location"].startswith("/account/reauth")
    assert reload_org(db, org).retention_years == 7
    client.cookies.clear()

    login(client, supervisor.username)
    assert client.get("/admin/retention").status_code == 403


def reload_org(db: Session, org: Organisation) -> Organisation:
    db.expire_all()
    found = db.get(Organisation, org.id)
    assert found is not None
    return found


def test_the_daily_run_anonymises_what_is_due_and_is_off_unless_asked(
    db: Session, app: FastAPI, settings: Settings, worker: User, supervisor: User
) -> None:
    case = closed_case_with_canaries(db, settings, worker, supervisor)
    assert daily.run_once(app).due == 0  # closed today: kept
    db.execute(
        text("UPDATE cases SET closed_at = :at WHERE id = :id"),
        {"at": utcnow() - dt.timedelta(days=365 * 5 + 5), "id": case.id},
    )
    db.commit()
    assert daily.run_once(app).anonymised == 1
    assert reload(db, case).anonymised_at is not None

    started: list[object] = []

    async def lifespan(on: bool) -> None:
        app.state.settings = settings.model_copy(update={"retention_daily": on})
        before = asyncio.all_tasks()
        async with daily.daily_runs(app, first_delay=3600):
            started.extend(asyncio.all_tasks() - before)

    asyncio.run(lifespan(False))
    assert started == []
    asyncio.run(lifespan(True))
    assert len(started) == 1 and started[0].done()  # type: ignore[attr-defined]
