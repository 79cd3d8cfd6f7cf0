"""Sensitive answers and notes: read only by the case's team and its organisation's supervisors."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case, CaseNote
from tests.conftest import login, make_user, page_token

from .flow import WOMAN, record_person, soup
from .helpers import assign, audit_rows, open_case

NOTE = "Sleeps at the Vilnius bus station; afraid of the man called Tomas."


def _switch(client: TestClient, user: User) -> None:
    client.cookies.clear()
    login(client, user.username)


def _answers(html: str) -> dict[str, str]:
    page = soup(html)
    return {
        dt.get_text(strip=True): dt.find_next_sibling("dd").get_text(strip=True)
        for dt in page.select("#answers-heading ~ details dt")
    }


def test_sensitive_answers_only_for_the_team_and_supervisors(
    db: Session, client: TestClient, org: Organisation, worker: User, supervisor: User
) -> None:
    login(client, worker.username)
    record_person(client, WOMAN)
    case = db.execute(select(Case)).scalar_one()
    colleague = make_user(db, org, "outreach_worker", "colleague")
    assign(db, supervisor, case, colleague, "social_worker")

    # The owner is not on the team: the case, its stage and the plain answers, no name.
    owner_view = client.get(f"/cases/{case.id}").text
    seen = _answers(owner_view)
    assert seen["Gender"] == "Female" and "Given name" not in seen
    assert "Ona" not in owner_view and "Petraitė" not in owner_view
    withheld = soup(owner_view).select_one(".withheld").get_text(" ", strip=True)
    assert withheld.startswith("3 sensitive answers are shown only to the team")

    for reader in (colleague, supervisor):
        _switch(client, reader)
        seen = _answers(client.get(f"/cases/{case.id}").text)
        assert (seen["Given name"], seen["Family name"]) == ("Ona", "Petraitė"), reader.username
        assert seen["Date of birth"] == "May 4, 1990"


def test_notes_are_sealed_and_read_only_by_those_who_need_to(
    db: Session,
    client: TestClient,
    connection,
    org: Organisation,
    other_org: Organisation,
    worker: User,
    supervisor: User,
) -> None:
    case = open_case(db, worker)
    member = make_user(db, org, "outreach_worker", "member")
    assign(db, supervisor, case, member, "social_worker")
    login(client, member.username)
    token = page_token(client, f"/cases/{case.id}")
    added = client.post(f"/cases/{case.id}/notes", data={"csrf_token": token, "text": NOTE})
    assert added.status_code == 303
    page = soup(client.get(f"/cases/{case.id}").text)
    [entry] = page.select(".timeline li[data-kind=note]")
    assert NOTE in entry.get_text() and member.display_name in entry.get_text()

    stored = connection.execute(text("SELECT sealed_text FROM case_notes")).scalars().all()
    assert len(stored) == 1 and stored[0].startswith("v1:")
    assert "Tomas" not in stored[0] and "Vilnius" not in stored[0]

    _switch(client, supervisor)
    assert NOTE in client.get(f"/cases/{case.id}").text

    # The owner, not on the team, sees that a note was added, by whom, and not what it says.
    _switch(client, worker)
    owner_page = client.get(f"/cases/{case.id}").text
    [entry] = soup(owner_page).select(".timeline li[data-kind=note]")
    assert "Note added" in entry.get_text() and "Tomas" not in owner_page
    assert soup(owner_page).select("#note-text") == []
    token = page_token(client, f"/cases/{case.id}")
    refused = client.post(f"/cases/{case.id}/notes", data={"csrf_token": token, "text": "x"})
    assert refused.status_code == 403
    assert len(db.execute(select(CaseNote)).all()) == 1

    stranger = make_user(db, other_org, "supervisor", "stranger")
    _switch(client, stranger)
    token = page_token(client, "/")
    foreign = client.post(f"/cases/{case.id}/notes", data={"csrf_token": token, "text": "x"})
    assert foreign.status_code == 404 and "Tomas" not in foreign.text
    outcomes = [(e.outcome, e.detail) for e in audit_rows(db, case.id, "case.note_added")]
    assert outcomes[0][0] == "ok"
    assert outcomes[1:] == [("refused", "role"), ("refused", "not_found")]


def test_an_empty_note_is_refused_with_a_reason(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    empty = client.post(f"/cases/{case.id}/notes", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 422 and "Write the note first." in empty.text
    assert db.execute(select(CaseNote)).all() == []
