"""From intake to case through the worker's pages: consent, the intake form, one case."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case, Intake
from intake.filling.models import FormDraft, Submission
from tests.conftest import csrf_from, login, make_user

from .flow import (
    CONSENT_GIVEN,
    GIRL,
    MEETING,
    SITUATION,
    WOMAN,
    fill_pages,
    give_consent,
    record_person,
    review,
    soup,
)
from .helpers import audit_rows


def _cases(db: Session) -> list[Case]:
    db.expire_all()
    return list(db.execute(select(Case)).scalars())


def test_an_intake_opens_the_case_on_the_track_its_answers_choose(
    db: Session, client: TestClient, worker: User
) -> None:
    login(client, worker.username)
    home = soup(client.get("/").text)
    assert home.select_one("a#new-intake")["href"] == "/intake/new"
    done = record_person(client, GIRL)
    assert done.status_code == 303
    [case] = _cases(db)
    assert done.headers["location"] == f"/cases/{case.id}"
    assert (case.track, case.state) == ("young_girls", "urgent_assistance")
    assert (case.owner_id, case.organisation_id) == (worker.id, worker.organisation_id)
    linked = db.execute(select(Submission.form_key).where(Submission.case_id == case.id)).scalars()
    assert sorted(linked) == ["consent", "first_contact"]
    page = soup(client.get(done.headers["location"]).text)
    assert case.reference in page.h1.get_text()
    assert page.select_one(".track").get_text(strip=True) == "Girls under 18"
    assert [e.action for e in audit_rows(db, case.id)][:2] == ["case.created", "case.viewed"]


def test_a_double_tap_on_submit_opens_one_case(
    db: Session, client: TestClient, worker: User
) -> None:
    login(client, worker.username)
    intake_id = give_consent(client).removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, WOMAN, SITUATION])
    _html, fields = review(client, intake_id)
    first = client.post(f"/fill/{intake_id}/submit", data=fields)
    again = client.post(f"/fill/{intake_id}/submit", data=fields)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(_cases(db)) == 1
    count = db.execute(select(func.count()).select_from(Submission)).scalar_one()
    assert count == 2  # the consent and the intake form, once each
    # Opening the filling again leads to the case, not to a second one.
    reopened = client.get(f"/fill/{intake_id}")
    assert reopened.headers["location"] == first.headers["location"]


def test_a_refused_consent_stops_the_intake_with_a_clear_message(
    db: Session, client: TestClient, worker: User
) -> None:
    login(client, worker.username)
    refused = [CONSENT_GIVEN[0], {**CONSENT_GIVEN[1], "consent_services": "no"}]
    next_url = give_consent(client, refused)
    assert next_url.startswith("/intake/")
    page = client.get(next_url)
    assert page.status_code == 200
    message = soup(page.text).select_one("#consent-refused").get_text(" ", strip=True)
    assert "did not agree" in message and "No intake form and no case" in message
    again = client.post(f"{next_url}/continue", data={"csrf_token": csrf_from(page.text)})
    assert again.headers["location"] == next_url
    intake = db.execute(select(Intake)).scalar_one()
    drafts = db.execute(
        select(FormDraft).where(FormDraft.client_id == intake.intake_client_id)
    ).all()
    assert drafts == [] and _cases(db) == []
    refusals = audit_rows(db, intake.id, "intake.refused")
    assert [r.outcome for r in refusals] == ["refused"]


def test_an_intake_belongs_to_the_worker_who_started_it(
    db: Session, client: TestClient, worker: User, org
) -> None:
    login(client, worker.username)
    next_url = give_consent(client)
    assert next_url.startswith("/fill/")
    intake = db.execute(select(Intake)).scalar_one()
    colleague = make_user(db, org, "outreach_worker", "colleague")
    client.cookies.clear()
    login(client, colleague.username)
    assert client.get(f"/intake/{intake.id}").status_code == 404
    assert client.get(next_url).status_code == 404
    assert client.get(f"/intake/{'0' * 32}").status_code == 404


def test_names_and_birth_dates_never_reach_the_audit_trail(
    db: Session, client: TestClient, worker: User
) -> None:
    login(client, worker.username)
    done = record_person(client, WOMAN)
    client.get(done.headers["location"])
    rows = db.execute(text("SELECT * FROM audit_events")).all()
    assert len(rows) >= 5
    dumped = " ".join(str(value) for row in rows for value in row)
    for secret in ("Ona", "Petrait", "1990-05-04", "04.05.1990"):
        assert secret not in dumped


def test_administrators_are_offered_no_intake_and_no_cases(client: TestClient, admin: User) -> None:
    login(client, admin.username)
    home = soup(client.get("/").text)
    links = {a["href"] for a in home.find_all("a", href=True)}
    assert not {href for href in links if href.startswith(("/cases", "/intake"))}
    assert client.get("/intake/new").status_code == 403
    assert client.get("/cases").status_code == 403
